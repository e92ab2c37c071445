"""``ipadrop render FILE --base-url https://HOST/PATH/ --out DIR``.

Writes what a plain HTTPS server needs to offer the build, next to a copy of
the IPA named ``app.ipa``: ``manifest.plist``, ``index.html``, ``icon.png``
(when the IPA has an icon) and ``build.json``. The base URL is taken as given
(it is already a URL); the manifest's package URL is base + ``app.ipa`` and
the page's install link carries base + ``manifest.plist``, encoded once.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ipadrop.domain import bucket_keys
from ipadrop.reading.errors import IpaRejected
from ipadrop_tools.cli.inspect_cmd import terminal_safe

EXIT_REFUSED = 2


@dataclass(frozen=True, slots=True)
class RenderResult:
    written: list[Path]
    blocker: str | None  # why the page offers no Install button, if it does not


class _Refused(Exception):
    """A one-line reason the command stops (printed as ``error: ...``)."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "render",
        help="write manifest, install page, icon and build.json for any HTTPS server",
        description=(
            "Write manifest.plist, index.html, icon.png and build.json for hosting "
            "beside a copy of the IPA named app.ipa under --base-url."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="the .ipa to publish")
    parser.add_argument(
        "--base-url",
        required=True,
        metavar="URL",
        help="https URL of the folder the files will be served from, e.g. https://host/apps/x/",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    parser.add_argument("--contact", help="whom testers should ask for help (shown on the page)")
    parser.add_argument("--copy-ipa", action="store_true", help="also copy FILE to DIR/app.ipa")
    parser.add_argument(
        "--no-integrity",
        action="store_true",
        help="leave the SHA-256 chunk hashes out of the manifest",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        result = render_folder(
            Path(args.file),
            base_url=args.base_url,
            out_dir=Path(args.out),
            contact=args.contact,
            copy_ipa=args.copy_ipa,
            integrity=not args.no_integrity,
        )
    except _Refused as refusal:
        print("error: " + terminal_safe(" ".join(str(refusal).split())), file=sys.stderr)
        return EXIT_REFUSED
    except Exception as exc:  # a bug must still not print a traceback at a user
        reason = f"{args.file} could not be rendered ({type(exc).__name__}: {exc})."
        print("error: " + terminal_safe(" ".join(reason.split())), file=sys.stderr)
        return EXIT_REFUSED
    for path in result.written:
        print(path)
    if result.blocker:
        warning = result.blocker + " The page offers no Install button."
        print("warning: " + terminal_safe(warning), file=sys.stderr)
    if not args.copy_ipa:
        print(
            f"Next: copy {args.file} to {Path(args.out) / bucket_keys.IPA_NAME} "
            "and upload the folder."
        )
    return 0


def render_folder(
    ipa_path: Path,
    *,
    base_url: str,
    out_dir: Path,
    contact: str | None = None,
    copy_ipa: bool = False,
    integrity: bool = True,
    now: datetime | None = None,
) -> RenderResult:
    """Render every artefact for ``ipa_path`` into ``out_dir``."""
    from ipadrop.domain.build_ids import make_build_id
    from ipadrop.domain.model import BuildRecord
    from ipadrop.reading.inspector import inspect_ipa
    from ipadrop.reading.sources import LocalFileSource
    from ipadrop.render.manifest import DEFAULT_CHUNK_SIZE, build_manifest, hash_chunks
    from ipadrop.render.page import InstallPageContext, install_blocker, render_install_page
    from ipadrop.render.urls import InvalidBaseUrl, join_base_url, normalize_base_url

    try:
        base = normalize_base_url(base_url)
    except InvalidBaseUrl as exc:
        raise _Refused(str(exc)) from None

    try:
        with LocalFileSource(ipa_path) as source:
            inspection = inspect_ipa(source)
        stat = ipa_path.stat()
        with ipa_path.open("rb") as stream:
            sha256, chunk_hashes = hash_chunks(stream, DEFAULT_CHUNK_SIZE)
    except IpaRejected as exc:
        raise _Refused(f"{ipa_path}: {exc.message} ({exc.code})") from None
    except IsADirectoryError:
        raise _Refused(f"{ipa_path} is a directory, not an .ipa file.") from None
    except FileNotFoundError:
        raise _Refused(f"{ipa_path}: no such file.") from None
    except OSError as exc:
        raise _Refused(f"{ipa_path} cannot be read: {exc.strerror or exc}.") from None

    facts = inspection.facts
    uploaded = datetime.fromtimestamp(stat.st_mtime, tz=UTC).replace(microsecond=0)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    # Same file, same time -> same build id; an edited or re-saved file gets a new one.
    build_id = make_build_id(
        uploaded_at=uploaded,
        bucket="local",
        key=str(ipa_path.resolve()),
        upload_marker=f"{stat.st_size}:{sha256}",
    )
    icon_png = inspection.icon_png
    sized_icons = tuple(
        name
        for name in (bucket_keys.DISPLAY_IMAGE_NAME, bucket_keys.FULL_SIZE_IMAGE_NAME)
        if icon_png and name in inspection.icon_files
    )

    def icon_url(name: str) -> str | None:
        return join_base_url(base, name) if icon_png and name in sized_icons else None

    manifest_url = join_base_url(base, bucket_keys.MANIFEST_NAME)
    manifest = build_manifest(
        facts=facts,
        ipa_url=join_base_url(base, bucket_keys.IPA_NAME),
        icon_url=join_base_url(base, bucket_keys.ICON_NAME) if icon_png else None,
        display_image_url=icon_url(bucket_keys.DISPLAY_IMAGE_NAME),
        full_size_image_url=icon_url(bucket_keys.FULL_SIZE_IMAGE_NAME),
        sha256=sha256 if integrity else None,
        sha256_chunk_size=DEFAULT_CHUNK_SIZE if integrity else None,
        chunk_hashes=chunk_hashes if integrity else None,
    )
    context = InstallPageContext(
        facts=facts,
        build_id=build_id,
        uploaded_at=_iso(uploaded),
        manifest_url=manifest_url,
        page_url=join_base_url(base, bucket_keys.PAGE_NAME),
        link_expires_at=None,
        icon_png=icon_png,
        contact=contact,
        now=now,
    )
    page = render_install_page(context)
    record = BuildRecord(
        bundle_id=facts.bundle_id,
        build_id=build_id,
        facts=facts,
        upload_key=ipa_path.name,
        uploader=None,
        uploaded_at=_iso(uploaded),
        published_at=_iso(now),
        has_icon=icon_png is not None,
        icon_files=sized_icons,
    )

    outputs: dict[str, bytes] = {
        bucket_keys.MANIFEST_NAME: manifest,
        bucket_keys.PAGE_NAME: page.encode("utf-8"),
        bucket_keys.BUILD_JSON_NAME: (
            json.dumps(record.to_json(), indent=2, ensure_ascii=False) + "\n"
        ).encode("utf-8"),
    }
    if icon_png:
        outputs[bucket_keys.ICON_NAME] = icon_png
        for name in sized_icons:
            outputs[name] = inspection.icon_files[name]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for name, data in outputs.items():
            target = out_dir / name
            target.write_bytes(data)
            written.append(target)
        if copy_ipa:
            target = out_dir / bucket_keys.IPA_NAME
            shutil.copyfile(ipa_path, target)
            written.append(target)
    except OSError as exc:
        raise _Refused(f"cannot write to {out_dir}: {exc.strerror or exc}.") from None
    return RenderResult(written=written, blocker=install_blocker(context))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
