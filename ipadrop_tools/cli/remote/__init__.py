"""Commands that talk to a stack: upload, link, apps, builds, revoke (see docs/ARCHITECTURE.md)."""
