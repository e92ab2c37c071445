"""ipadrop tooling: the command line, the local stack and the devkit.

Never bundled into Lambda; see docs/ARCHITECTURE.md."""
