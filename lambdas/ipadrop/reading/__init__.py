"""Reading IPAs: ZIP over ranged reads, plists, PNGs, profiles, asset catalogs, inspection (pure).

See docs/ARCHITECTURE.md."""
