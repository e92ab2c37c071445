"""Durations on the command line: ``--ttl 2h`` in, "2 hours" out."""

from __future__ import annotations

import re

# --------------------------------------------------------------------------- ttl


_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_ttl(text: str) -> int:
    """``3600``, ``90m``, ``2h``, ``3d``, ``1w`` -> seconds; ValueError with a sentence if not."""
    found = _DURATION.fullmatch(text)
    seconds = int(found.group(1)) * _UNIT_SECONDS[found.group(2).lower()] if found else 0
    if seconds <= 0:
        raise ValueError(
            f"--ttl must be seconds or a duration such as 90m, 2h or 3d, not {text!r}."
        )
    return seconds


def describe_duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
