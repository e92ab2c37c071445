"""Quantities as people read them (pure)."""

from __future__ import annotations


def human_size(size_bytes: int) -> str:
    """Decimal units, as iOS shows storage: 42.7 KB, 1.3 MB."""
    if size_bytes < 1000:
        return f"{size_bytes} bytes" if size_bytes != 1 else "1 byte"
    value = float(size_bytes)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.95 or unit == "TB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")
