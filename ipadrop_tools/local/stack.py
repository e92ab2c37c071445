"""The whole system on one machine: embedded AWS, the real handlers, one HTTP port.

Start order matters: the port is bound first (a taken port fails before anything
else starts), then the endpoint and resources, then the environment the handlers
read at import (settings.py), then the handlers themselves.

The handlers read their settings from ``os.environ`` once, so one process runs one
local stack; tests run it as a subprocess.
"""

from __future__ import annotations

import errno
import functools
import importlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipadrop.domain.bucket_keys import UPLOADS_PREFIX
from ipadrop_tools.local.backend import LOCAL_CREDENTIALS, Backend, provision, start_backend
from ipadrop_tools.local.events import LOCAL_API_ID, LOCAL_REGION
from ipadrop_tools.local.poller import QueuePoller
from ipadrop_tools.local.server import (
    SECURITY_HEADERS,
    LocalHttpServer,
    ServerContext,
    attach_context,
    make_server,
)
from ipadrop_tools.local.state import (
    LocalState,
    load_or_create_state,
    remove_runtime,
    write_runtime,
)

log = logging.getLogger("ipadrop_tools.local")

PROCESSOR_HANDLER = "ipadrop.handlers.processor"
LINK_HANDLER = "ipadrop.handlers.link"


class LocalStackError(Exception):
    """The local stack cannot start; the message says why in one sentence."""


@dataclass(frozen=True, slots=True)
class LocalStackOptions:
    state_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    endpoint_url: str | None = None  # None: embedded moto server
    verbose: bool = False


def _display_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 (display only)
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host  # an IPv6 address in a URL


class LocalStack:
    def __init__(self, options: LocalStackOptions) -> None:
        self.options = options
        self.state: LocalState | None = None
        self.backend: Backend | None = None
        self._httpd: LocalHttpServer | None = None
        self._http_thread: threading.Thread | None = None
        self._poller: QueuePoller | None = None
        self.url = ""

    def start(self) -> None:
        options = self.options
        self.state = load_or_create_state(options.state_dir)
        try:
            self._httpd = make_server(options.host, options.port)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise LocalStackError(
                    f"port {options.port} on {options.host} is already in use; "
                    "stop what is using it or pick another with --port."
                ) from None
            raise LocalStackError(
                f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}."
            ) from None
        port = self._httpd.server_address[1]
        self.url = f"http://{_display_host(options.host)}:{port}"
        try:
            self._start_rest()
        except BaseException:
            self.stop()
            raise

    def _start_rest(self) -> None:
        if self.state is None or self._httpd is None:
            raise RuntimeError("start() binds the port first")
        state = self.state
        if self.options.endpoint_url is None:
            os.environ.update(LOCAL_CREDENTIALS)
        else:
            for name, value in LOCAL_CREDENTIALS.items():
                os.environ.setdefault(name, value)
        os.environ.setdefault("AWS_DEFAULT_REGION", LOCAL_REGION)
        os.environ.setdefault("AWS_REGION", os.environ["AWS_DEFAULT_REGION"])
        self.backend = start_backend(self.options.endpoint_url)
        provisioned = provision(self.backend, state)
        self._configure_environment()
        from ipadrop_tools.local import distribution as local_distribution
        from ipadrop_tools.local import outbox

        os.environ.update(
            local_distribution.provision_distribution(self.backend, state.directory, state.bucket)
        )
        outbox.install_outbox(state.directory)

        processor = _load_handler(PROCESSOR_HANDLER)
        link = _load_handler(LINK_HANDLER)
        from ipadrop.render.page import content_security_policy
        from ipadrop_tools.local.cloudfront_verify import verify_signed_url

        public_keys = {state.cloudfront_key_pair_id: state.public_key_pem}

        def check_signature(url: str, now: int) -> None:
            verify_signed_url(url, public_keys=public_keys, now=now)

        attach_context(
            self._httpd,
            ServerContext(
                link_handler=link,
                s3=self.backend.client("s3"),
                bucket=state.bucket,
                check_signature=check_signature,
                api_domain=f"{LOCAL_API_ID}.execute-api.{LOCAL_REGION}.amazonaws.com",
                config=self.config(),
                security_headers=(
                    *SECURITY_HEADERS,
                    ("Content-Security-Policy", content_security_policy()),
                ),
                local_pages=functools.partial(outbox.local_page, state.directory),
                access_log=outbox.LocalAccessLog(
                    state.directory,
                    record=outbox.download_recorder(
                        self.backend.client("s3"),
                        state.bucket,
                        self.backend.client("dynamodb"),
                        local_distribution.people_table_name(state.bucket),
                    ),
                ),
            ),
        )
        self._poller = QueuePoller(self.backend.client("sqs"), provisioned.queue_url, processor)
        self._poller.start()
        self._http_thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="ipadrop-http",
            daemon=True,
        )
        self._http_thread.start()
        write_runtime(state.directory, {"pid": os.getpid(), **self.runtime()})

    def _configure_environment(self) -> None:
        """The variables settings.py reads (set before the handlers are imported)."""
        if self.state is None or self.backend is None:
            raise RuntimeError("the local stack is not running")
        state = self.state
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.backend.endpoint_url,
                "IPADROP_BUCKET": state.bucket,
                "IPADROP_DISTRIBUTION_URL": self.url,
                "IPADROP_TOKEN_SECRET_ID": state.token_secret_id,
                "IPADROP_CLOUDFRONT_KEY_SECRET_ID": state.cloudfront_key_secret_id,
                "IPADROP_CLOUDFRONT_KEY_PAIR_ID": state.cloudfront_key_pair_id,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
            }
        )
        os.environ.pop("IPADROP_DISTRIBUTION_URL_PARAMETER", None)
        os.environ.pop("IPADROP_PUBLIC_MODE", None)  # the local stack checks signatures
        os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "ipadrop")
        os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ipadrop")
        # The poller logs one line per upload with its outcome; the handlers' own JSON
        # logs (a rejection is a warning there) only with --verbose.
        os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO" if self.options.verbose else "ERROR"

    def config(self) -> dict[str, Any]:
        """What ``GET /_local/config`` answers: where the stack is, never its S3 endpoint.

        The S3 endpoint is one call away from the token keys and the CloudFront
        private key, so it is only in ``runtime.json`` in the state folder (owner-only),
        where the CLI on this machine reads it (docs/LOCAL.md, "Security").
        """
        if self.state is None or self.backend is None:
            raise RuntimeError("the local stack is not running")
        return {
            "distribution_url": self.url,
            "api_url": self.url,
            "embedded_s3": self.backend.embedded is not None,
            "bucket": self.state.bucket,
            "drop_prefix": UPLOADS_PREFIX,
            "region": LOCAL_REGION,
            "cloudfront_key_pair_id": self.state.cloudfront_key_pair_id,
            "state_dir": str(self.state.directory.resolve()),
            "outbox_url": f"{self.url}/_local/outbox",
        }

    def runtime(self) -> dict[str, Any]:
        """What ``runtime.json`` holds while the stack runs: the config and the S3 endpoint."""
        if self.backend is None:
            raise RuntimeError("the local stack is not running")
        return {**self.config(), "s3_endpoint": self.backend.endpoint_url}

    def stop(self) -> None:
        if self._httpd is not None:
            if self._http_thread is not None:
                self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
        if self.backend is not None:
            self.backend.stop()
            self.backend = None
        if self.state is not None:
            remove_runtime(self.state.directory)


def _load_handler(module_name: str) -> Any:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise LocalStackError(f"{module_name} is not available in this checkout.") from None
        raise
    return module.handler
