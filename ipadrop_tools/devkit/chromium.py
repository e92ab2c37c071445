"""How tests and benchmarks start a browser: Debian's chromium, never one a tool downloads."""

from __future__ import annotations

from pathlib import Path

CHROMIUM_PATH = Path("/usr/bin/chromium")
# The background-networking flags keep Chromium from reaching for Google's
# hosts, which this closed network refuses (slowly, many at a time).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
