"""What remote commands print: JSON for machines, tables and QR codes for people."""

from __future__ import annotations

import json
import sys
from typing import Any

from ipadrop.text import clean_text, human_size

# ---------------------------------------------------------------------- rendering


def make_console(*, stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def is_person() -> bool:
    return sys.stdout.isatty()


def _version_text(version: Any, build: Any) -> str:
    if version and build and version != build:
        return f"{version} ({build})"
    return str(version or build or "-")


def print_result(result: dict[str, Any]) -> None:
    """A published build for people (rejections are reported as errors)."""
    console = make_console()
    title = result.get("title") or result.get("bundle_id")
    console.print(
        f"[bold green]Published[/] {_escape(title)} "
        f"{_escape(_version_text(result.get('version'), result.get('build')))}"
    )
    console.print(f"  bundle id  {_escape(result.get('bundle_id'))}")
    console.print(f"  build id   {_escape(result.get('build_id'))}")


def _escape(value: Any) -> str:
    """Shown text: invisible and bidi characters dropped (they could spoof a name in a
    terminal; see ipadrop.text.clean_text), then Rich markup escaped."""
    from rich.markup import escape

    return escape(clean_text(str(value if value is not None else "")) or "")


def rejection_message(result: dict[str, Any]) -> str:
    message = clean_text(str(result.get("message") or "")) or "the upload was rejected"
    reason = clean_text(str(result.get("reason") or "")) or "unknown"
    return f"rejected ({reason}): {message.rstrip('.')}."


def apps_table(apps: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    # Fits 80 columns without losing any: no borders, the bundle id whole (people copy
    # it), "version (build)" on two lines, the date without the time, the title wraps.
    table = Table(
        title="Apps",
        title_justify="left",
        box=None,
        pad_edge=False,
        header_style="bold underline",
    )
    table.add_column("Bundle ID", no_wrap=True)
    table.add_column("Title", overflow="fold", min_width=len("Title"))
    table.add_column("Latest", no_wrap=True)
    table.add_column("Builds", justify="right", no_wrap=True)
    table.add_column("Updated", no_wrap=True)
    for app in apps:
        table.add_row(
            _escape(app.get("bundle_id")),
            _escape(app.get("title")),
            _escape(_version_text(app.get("latest_version"), app.get("latest_build"))).replace(
                " (", "\n("
            ),
            _escape(app.get("build_count", "")),
            _escape(_short_time(app.get("updated_at"))[:10]),
        )
    return table


def builds_table(bundle_id: str, builds: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title=f"Builds of {_escape(bundle_id)}", title_justify="left")
    # The build id starts with its upload time, so it doubles as the date column.
    table.add_column("Build ID", no_wrap=True, min_width=27)
    table.add_column("Version", no_wrap=True)
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Profile", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for build in builds:
        table.add_row(
            _escape(build.get("build_id")),
            _escape(_version_text(build.get("version"), build.get("build"))),
            _escape(_size_text(build.get("size_bytes"))),
            _escape(build.get("distribution") or ""),
            "[red]revoked[/]" if build.get("revoked_at") else "[green]live[/]",
        )
    return table


def _short_time(iso: Any) -> str:
    """``2026-11-24T00:37:41Z`` -> ``2026-11-24 00:37`` (UTC, as stored)."""
    text = str(iso or "")
    return text[:16].replace("T", " ") if len(text) >= 16 else text


def _size_text(size: Any) -> str:
    return human_size(size) if isinstance(size, int) else ""


# Both colours set explicitly (bright white on black) so the code is the same on a
# light or a dark terminal; segno's own compact output draws light modules in the
# terminal's foreground colour, a negative on light themes that phones do not scan.
QR_COLOURS = "\x1b[97;40m"
QR_RESET = "\x1b[0m"
QR_BORDER = 4  # the quiet zone the QR specification asks for, in modules
_HALF_BLOCKS = {(0, 0): "\u2588", (0, 1): "\u2580", (1, 0): "\u2584", (1, 1): " "}


def qr_text(url: str) -> str:
    """The install URL as a terminal QR code: two modules per character (half blocks),
    light modules as white blocks, dark modules as black background."""
    import segno

    rows = [
        [1 if dark else 0 for dark in row]
        for row in segno.make(url, error="m").matrix_iter(scale=1, border=QR_BORDER)
    ]
    if len(rows) % 2:
        rows.append([0] * len(rows[0]))  # light padding below the quiet zone
    lines = []
    for top, bottom in zip(rows[::2], rows[1::2], strict=True):
        cells = "".join(_HALF_BLOCKS[pair] for pair in zip(top, bottom, strict=True))
        lines.append(f"{QR_COLOURS}{cells}{QR_RESET}\n")
    return "".join(lines)


def list_from(data: Any, key: str) -> list[dict[str, Any]]:
    items = data.get(key) if isinstance(data, dict) else data
    return [item for item in items or [] if isinstance(item, dict)]
