"""Durations on the command line: ``--ttl 1h30m`` in, "1h 30m" out."""

from __future__ import annotations

import re

# --------------------------------------------------------------------------- ttl

_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+)([smhdw])", re.IGNORECASE)
# Plain seconds, or one or more number+unit parts with units in falling order: 1h30m, 2d12h.
_DURATION = re.compile(r"\d+|(?:\d+[smhdw])+", re.IGNORECASE)
EXAMPLES = "90m, 2h, 1h30m or 3d"


def parse_ttl(text: str) -> int:
    """``3600``, ``90m``, ``1h30m``, ``3d``, ``1w`` -> seconds; else ValueError (a sentence)."""
    compact = text.strip()
    seconds = 0
    if _DURATION.fullmatch(compact):
        if compact.isdigit():
            seconds = int(compact)
        else:
            parts = _PART.findall(compact)
            sizes = [_UNIT_SECONDS[unit.lower()] for _, unit in parts]
            if sizes == sorted(sizes, reverse=True) and len(set(sizes)) == len(sizes):
                seconds = sum(int(n) * size for (n, _), size in zip(parts, sizes, strict=True))
    if seconds <= 0:
        raise ValueError(f"--ttl must be seconds or a duration such as {EXAMPLES}, not {text!r}.")
    return seconds


def describe_duration(seconds: int) -> str:
    """``1h30m``, ``7d``, ``45s``: a duration as ``--ttl`` accepts it back."""
    parts: list[str] = []
    rest = seconds
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    if rest or not parts:
        parts.append(f"{rest}s")
    return "".join(parts)
