"""Loading property lists from untrusted archives.

plistlib does the parsing (binary and XML). Around it: a size cap, XML entity
declarations and internal DTD subsets refused before expat sees them (Apple's
own ``<!DOCTYPE plist PUBLIC ...>`` line is fine), and a nesting and node-count
limit checked without recursion, so a crafted plist cannot exhaust memory,
time or the stack.
"""

from __future__ import annotations

import plistlib
import re
from typing import Any

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_NODES = 1_000_000

_ENTITY = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
_DOCTYPE_WITH_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
_XML_START = re.compile(rb"\s*(?:\xef\xbb\xbf)?\s*<")


class PlistError(ValueError):
    """The data is not a property list we are willing to read."""


def load_plist(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> Any:
    """Parse a binary or XML plist, refusing anything oversized, nested too deep or
    using XML entity tricks."""
    if len(data) > max_bytes:
        raise PlistError(f"the property list is {len(data)} bytes, more than {max_bytes}")
    if not data.startswith(b"bplist"):
        _refuse_xml_tricks(data)
    try:
        value = plistlib.loads(data)
    except RecursionError as exc:  # binary plists with reference loops or deep nesting
        raise PlistError("the property list is nested too deeply") from exc
    except Exception as exc:  # plistlib raises many kinds: expat, binascii, struct, ...
        raise PlistError(f"the property list cannot be parsed ({_describe(exc)})") from exc
    check_shape(value, max_depth=max_depth, max_nodes=max_nodes)
    return value


def load_plist_dict(data: bytes, **limits: int) -> dict[str, Any]:
    """``load_plist`` for documents whose top level must be a dictionary."""
    value = load_plist(data, **limits)
    if not isinstance(value, dict):
        raise PlistError(f"the property list holds a {type(value).__name__}, not a dictionary")
    return value


def _refuse_xml_tricks(data: bytes) -> None:
    # Entity declarations can only appear in the prolog, but scan the whole
    # document: it is capped and a regex over bytes is cheap.
    if _ENTITY.search(data):
        raise PlistError("the property list declares XML entities, which are not allowed")
    if _DOCTYPE_WITH_SUBSET.search(data):
        raise PlistError("the property list carries an internal DTD, which is not allowed")
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
    if utf16:
        try:
            text = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise PlistError("the property list is not valid UTF-16") from exc
        _refuse_xml_tricks(text)
    elif not _XML_START.match(data):
        raise PlistError("the data is neither a binary nor an XML property list")


def check_shape(value: Any, *, max_depth: int, max_nodes: int) -> None:
    """Walk containers iteratively: refuse depth beyond ``max_depth`` or more than
    ``max_nodes`` values. A container reached twice (binary plists can share
    objects) is walked once, so shared references cannot blow up the walk."""
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(value, 1)]
    nodes = 0
    while stack:
        current, depth = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise PlistError("the property list holds too many values")
        if isinstance(current, (dict, list)):
            if depth > max_depth:
                raise PlistError("the property list is nested too deeply")
            if id(current) in seen:
                continue
            seen.add(id(current))
            children = current.values() if isinstance(current, dict) else current
            stack.extend((child, depth + 1) for child in children)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
