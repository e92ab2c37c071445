"""Device enrollment and pre-install diagnosis (docs/ARCHITECTURE.md)."""
