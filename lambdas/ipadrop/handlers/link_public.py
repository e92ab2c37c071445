"""Lambda entry of the tester-facing routes (``/i/…``, ``/m/…``) under SnapStart.

The same resolver as ``ipadrop.handlers.link`` (one router, one set of
routes); this module only adds the SnapStart runtime hooks (docs/DEPLOY.md,
Cold starts):

- before the snapshot (when Lambda publishes the version): import what the
  public routes use (boto3, Jinja2 and the compiled templates, cryptography and
  botocore's signer) and build the service, so the snapshot holds a warm process;
- after each restore: reseed ``random`` (every restored copy would otherwise
  share the snapshot's state) and drop everything read from Secrets Manager and
  SSM, so secrets are re-read on the first request instead of served from the
  snapshot (a rotated key must not live on in it).

Outside Lambda (tests, local runner) ``snapshot_restore_py`` is absent and the
hooks are plain functions.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from ipadrop.handlers import link, wiring

logger = logging.getLogger("ipadrop.link")

try:  # part of Lambda's Python managed runtimes (3.12+), not a dependency of ours
    from snapshot_restore_py import (  # type: ignore[import-not-found,unused-ignore]
        register_after_restore,
        register_before_snapshot,
    )
except ImportError:  # pragma: no cover - exercised outside Lambda

    def register_before_snapshot(func: Callable[[], object]) -> Callable[[], object]:
        return func

    def register_after_restore(func: Callable[[], object]) -> Callable[[], object]:
        return func


def prime() -> None:
    """Pay the import and first-use costs now (they land in the snapshot)."""
    import boto3  # noqa: F401
    from botocore.signers import CloudFrontSigner  # noqa: F401
    from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: F401

    from ipadrop.handlers import public_routes  # noqa: F401
    from ipadrop.render.page import render_not_found_page, render_unavailable_page

    render_not_found_page(contact=None)  # compiles the shared templates
    render_unavailable_page(contact=None)
    try:
        wiring.service()
    except Exception:  # a misconfiguration shows on the first request, with its page
        logger.warning("could not build the link service before the snapshot", exc_info=True)
    # Nothing read from Secrets Manager or SSM may outlive the snapshot.
    refresh()


def refresh() -> None:
    """After a restore: fresh randomness, and secrets re-read on the next request."""
    random.seed()
    wiring.service.cache_clear()
    from ipadrop.adapters.cloudfront_signing import load_private_key

    load_private_key.cache_clear()


register_before_snapshot(prime)
register_after_restore(refresh)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return link.handler(event, context)
