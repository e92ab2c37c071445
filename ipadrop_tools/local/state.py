"""The local stack's state folder: keys and settings created once, reused on every start.

Layout (default ``.ipadrop-local/``)::

    settings.json                 bucket, queue, secret ids, key pair id, token key ring (0600)
    cloudfront_public_key.pem     what a CloudFront key group would hold
    cloudfront_private_key.pem    what the link function signs asset URLs with (0600)
    runtime.json                  written while a stack runs: its URLs and S3 endpoint (0600;
                                  removed on stop)
"""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SETTINGS_NAME = "settings.json"
PUBLIC_KEY_NAME = "cloudfront_public_key.pem"
PRIVATE_KEY_NAME = "cloudfront_private_key.pem"
RUNTIME_NAME = "runtime.json"

_KEY_PAIR_ALPHABET = string.ascii_uppercase + string.digits


class StateError(Exception):
    """The state folder cannot be used; the message says why in one sentence."""


@dataclass(frozen=True, slots=True)
class LocalState:
    directory: Path
    bucket: str
    queue_name: str
    token_secret_id: str
    cloudfront_key_secret_id: str
    cloudfront_key_pair_id: str
    token_keys: dict[str, str]  # {"current": "k1", "k1": "<secret>"}
    created_at: str

    @property
    def public_key_pem(self) -> bytes:
        return (self.directory / PUBLIC_KEY_NAME).read_bytes()

    @property
    def private_key_pem(self) -> bytes:
        return (self.directory / PRIVATE_KEY_NAME).read_bytes()

    def settings_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("directory")
        return {"schema": 1, **data}


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` readable by its owner only (never world-readable, not even briefly)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)


def _new_state(directory: Path) -> LocalState:
    suffix = secrets.token_hex(4)
    return LocalState(
        directory=directory,
        bucket=f"ipadrop-local-{suffix}",
        queue_name=f"ipadrop-local-uploads-{suffix}",
        token_secret_id=f"ipadrop/local-{suffix}/token-keys",
        cloudfront_key_secret_id=f"ipadrop/local-{suffix}/cloudfront-private-key",
        # Shaped like a CloudFront public key id ("K" + 13 upper-case letters/digits).
        cloudfront_key_pair_id="KLOCAL"
        + "".join(secrets.choice(_KEY_PAIR_ALPHABET) for _ in range(8)),
        token_keys={"current": "k1", "k1": secrets.token_urlsafe(32)},
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def _from_settings(directory: Path, data: dict[str, Any]) -> LocalState:
    try:
        return LocalState(
            directory=directory,
            bucket=str(data["bucket"]),
            queue_name=str(data["queue_name"]),
            token_secret_id=str(data["token_secret_id"]),
            cloudfront_key_secret_id=str(data["cloudfront_key_secret_id"]),
            cloudfront_key_pair_id=str(data["cloudfront_key_pair_id"]),
            token_keys={str(k): str(v) for k, v in dict(data["token_keys"]).items()},
            created_at=str(data.get("created_at") or ""),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(
            f"{directory / SETTINGS_NAME} is incomplete ({exc}); delete the folder to start afresh"
        ) from None


def load_or_create_state(directory: Path) -> LocalState:
    """Read the state folder, creating whatever is missing (keys exactly once)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"cannot create the state folder {directory}: {exc.strerror}") from None
    settings_path = directory / SETTINGS_NAME
    private_path = directory / PRIVATE_KEY_NAME
    public_path = directory / PUBLIC_KEY_NAME
    if settings_path.exists():
        try:
            data = json.loads(settings_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StateError(f"cannot read {settings_path}: {exc}") from None
        if not isinstance(data, dict):
            raise StateError(f"{settings_path} is not a JSON object")
        state = _from_settings(directory, data)
    else:
        state = _new_state(directory)
    if not private_path.exists() or not public_path.exists():
        # RSA-2048: botocore's CloudFrontSigner writes RSA-SHA1 signatures only.
        from ipadrop.adapters.cloudfront_signing import generate_key_pair

        private_pem, public_pem = generate_key_pair()
        _write_private(private_path, private_pem)
        public_path.write_bytes(public_pem)
    if not settings_path.exists():
        _write_private(settings_path, (json.dumps(state.settings_json(), indent=2) + "\n").encode())
    return state


def write_runtime(directory: Path, runtime: dict[str, Any]) -> None:
    """Owner-only: it names the S3 endpoint, where the keys are one call away."""
    _write_private(directory / RUNTIME_NAME, (json.dumps(runtime, indent=2) + "\n").encode())


def read_runtime(directory: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((directory / RUNTIME_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def remove_runtime(directory: Path) -> None:
    (directory / RUNTIME_NAME).unlink(missing_ok=True)
