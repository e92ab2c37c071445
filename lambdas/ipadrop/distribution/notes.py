"""Release notes as plain text (pure): cleaned, bounded, and split into safe pieces.

Notes come from whoever uploads a build. They are shown as plain text with
their line breaks; ``https://`` URLs become links; nothing else is interpreted
(docs/ARCHITECTURE.md, "Distribution"). Rendering escapes every piece.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ipadrop.text import clean_text

# S3 allows 2 KB of user metadata in all; notes edited through the API get a
# little more room, but stay short enough for an e-mail and a page.
MAX_NOTES_LENGTH = 4000
MAX_NOTES_LINES = 80

# A URL ends at whitespace or at characters that usually close a sentence or
# a bracket around it; the pieces are escaped where they land.
_URL = re.compile(r"https://[^\s<>\"'`]+")
_TRAILING = ".,;:!?)]}'\""


def clean_notes(value: object) -> str | None:
    """Notes with controls and invisible/bidi characters removed line by line,
    line breaks kept (``\\r\\n`` and ``\\r`` become ``\\n``), runs of blank
    lines collapsed, bounded in length; None when nothing is left."""
    if not isinstance(value, str):
        return None
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    lines: list[str] = []
    for raw in text.split("\n"):
        line = clean_text(raw.replace("\t", "    ")) or ""
        if not line and (not lines or not lines[-1]):
            continue
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    result = "\n".join(lines[:MAX_NOTES_LINES])[:MAX_NOTES_LENGTH].strip()
    return result or None


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of text, or a link (``href`` set; always ``https://``)."""

    text: str
    href: str | None = None


def note_lines(notes: str | None) -> list[list[Piece]]:
    """The notes as lines of pieces, for a renderer that escapes each piece."""
    if not notes:
        return []
    lines: list[list[Piece]] = []
    for line in notes.split("\n"):
        pieces: list[Piece] = []
        position = 0
        for match in _URL.finditer(line):
            url = match.group(0)
            trimmed = url.rstrip(_TRAILING)
            if len(trimmed) <= len("https://"):
                continue
            if match.start() > position:
                pieces.append(Piece(line[position : match.start()]))
            pieces.append(Piece(trimmed, href=trimmed))
            position = match.start() + len(trimmed)
        if position < len(line):
            pieces.append(Piece(line[position:]))
        lines.append(pieces)
    return lines
