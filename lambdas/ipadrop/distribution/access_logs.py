"""CloudFront standard access logs -> ``download_finished`` activity (pure).

Why standard logs (docs/ARCHITECTURE.md, "Distribution"): CloudFront already
writes them to the log bucket for free (delivery to S3 costs only the storage);
a small function on that bucket reads each gzip file once (a few requests per
file, no always-on stream). Real-time logs need Kinesis (~$11/month a shard
before traffic) and v2 logs a CloudWatch delivery; minutes of delay are fine
for "who finished the download".

A download is finished when a line is a ``GET`` of ``/builds/<bundle>/<build>/app.ipa``
with status 200 and ``sc-bytes`` (body plus headers) at least the object's size.
The manifest signs the IPA URL with ``invite=<invite_id>`` in its query, so
the line names the invite; the event id is derived from CloudFront's request
id, so reading a file twice records nothing twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote

from ipadrop.domain import bucket_keys
from ipadrop.domain.ports import BuildStore, PeopleStore

INVITE_QUERY = "invite"
_IPA_PATH = re.compile(
    r"^/"
    + re.escape(bucket_keys.BUILDS_PREFIX)
    + r"([A-Za-z0-9.-]+)/([0-9TZ]+-[0-9a-z]+)/"
    + re.escape(bucket_keys.IPA_NAME)
    + r"$"
)
_INVITE_ID = re.compile(r"^[0-9a-f]{16}$")
# The default field order of CloudFront standard logs (used when a file has no #Fields line).
DEFAULT_FIELDS: tuple[str, ...] = (
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
)


@dataclass(frozen=True, slots=True)
class IpaDownload:
    bundle_id: str
    build_id: str
    invite_id: str | None
    at: int  # epoch seconds
    sc_bytes: int
    status: int
    request_id: str


def parse_log(lines: Iterable[str]) -> list[IpaDownload]:
    """Every ``GET`` of an ``app.ipa`` in a standard log file (other lines are skipped)."""
    fields = list(DEFAULT_FIELDS)
    found: list[IpaDownload] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            continue
        if line.startswith("#Fields:"):
            fields = line[len("#Fields:") :].split()
            continue
        if line.startswith("#"):
            continue
        values = dict(zip(fields, line.split("\t"), strict=False))
        download = _download(values)
        if download is not None:
            found.append(download)
    return found


def _download(values: dict[str, str]) -> IpaDownload | None:
    if values.get("cs-method") != "GET":
        return None
    match = _IPA_PATH.match(unquote(values.get("cs-uri-stem", "")))
    if (
        match is None
        or not bucket_keys.is_valid_bundle_id(match.group(1))
        or not bucket_keys.is_valid_build_id(match.group(2))
    ):
        return None
    try:
        status = int(values.get("sc-status", "0"))
        sc_bytes = int(values.get("sc-bytes", "0"))
        moment = datetime.strptime(
            f"{values['date']} {values['time']}", "%Y-%m-%d %H:%M:%S"
        ).replace(tzinfo=UTC)
    except (KeyError, ValueError):
        return None
    query = values.get("cs-uri-query", "-")
    invite = None
    if query and query != "-":
        candidates = parse_qs(query).get(INVITE_QUERY) or []
        invite = next((c for c in candidates if _INVITE_ID.fullmatch(c)), None)
    return IpaDownload(
        bundle_id=match.group(1),
        build_id=match.group(2),
        invite_id=invite,
        at=int(moment.timestamp()),
        sc_bytes=sc_bytes,
        status=status,
        request_id=values.get("x-edge-request-id", ""),
    )


def is_finished(download: IpaDownload, size_bytes: int) -> bool:
    """The whole object was sent (``sc-bytes`` counts headers too, so ``>=``)."""
    return download.status == 200 and size_bytes > 0 and download.sc_bytes >= size_bytes


def format_log_line(
    *,
    when: datetime,
    path: str,
    query: str,
    status: int,
    sc_bytes: int,
    request_id: str,
    client_ip: str = "127.0.0.1",
    user_agent: str = "-",
    host: str = "localhost",
) -> str:
    """One line as CloudFront writes it (the local stack writes these for ``/builds/*``)."""
    values = dict.fromkeys(DEFAULT_FIELDS, "-")
    values.update(
        {
            "date": when.astimezone(UTC).strftime("%Y-%m-%d"),
            "time": when.astimezone(UTC).strftime("%H:%M:%S"),
            "x-edge-location": "LOCAL",
            "sc-bytes": str(sc_bytes),
            "c-ip": client_ip,
            "cs-method": "GET",
            "cs(Host)": host,
            "cs-uri-stem": path,
            "sc-status": str(status),
            "cs(User-Agent)": user_agent.replace(" ", "%20").replace("\t", "%09") or "-",
            "cs-uri-query": query or "-",
            "x-edge-result-type": "Miss" if status < 400 else "Error",
            "x-edge-request-id": request_id,
            "x-host-header": host,
            "cs-protocol": "https",
        }
    )
    return "\t".join(values[name] for name in DEFAULT_FIELDS)


LOG_HEADER = "#Version: 1.0\n#Fields: " + " ".join(DEFAULT_FIELDS) + "\n"


def record_downloads(
    downloads: Iterable[IpaDownload], *, builds: BuildStore, people: PeopleStore
) -> int:
    """Record each finished download once; returns how many were recorded."""
    from ipadrop.distribution.activity import DOWNLOAD_FINISHED, derived_event_id, new_event

    sizes: dict[tuple[str, str], int] = {}
    emails: dict[str, str | None] = {}
    recorded = 0
    for download in downloads:
        key = (download.bundle_id, download.build_id)
        if key not in sizes:
            record = builds.get_build(*key)
            sizes[key] = record.facts.size_bytes if record is not None else 0
        if not is_finished(download, sizes[key]):
            continue
        email = None
        if download.invite_id is not None:
            if download.invite_id not in emails:
                invite = people.get_invite(download.invite_id)
                emails[download.invite_id] = str(invite["email"]) if invite else None
            email = emails[download.invite_id]
        people.put_activity(
            download.bundle_id,
            download.build_id,
            new_event(
                DOWNLOAD_FINISHED,
                at=download.at,
                invite_id=download.invite_id,
                email=email,
                detail={"bytes": download.sc_bytes},
                event_id=derived_event_id(download.request_id or repr(download)),
            ),
        )
        recorded += 1
    return recorded
