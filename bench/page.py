"""Install page: bytes, requests and time to first paint in headless Chromium,
ours (one self-contained document) beside the same page shipped the way peers
ship theirs (HTML + external stylesheet + external script + icon file).

    .venv/bin/python -m bench.page [--runs 7]

Text is gzip-compressed as CloudFront does; bytes are what crossed the
network (headers included). Both pages carry the same content: the baseline
is our page with its inline CSS, JS and data-URI icon moved to files, so the
figures measure the delivery, not the design. Served by a local HTTP server;
measured unthrottled and under Lighthouse's mobile throttling (150 ms RTT,
1.6 Mbit/s down) through CDP, in a fresh browser context per run (cold
cache). Debian's /usr/bin/chromium only.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gzip
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.common import median, ms, table
from ipadrop_tools.devkit.chromium import CHROMIUM_ARGS, CHROMIUM_PATH

MOBILE_THROTTLING = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1.6 * 1024 * 1024 / 8,
    "uploadThroughput": 750 * 1024 / 8,
}


def our_page() -> str:
    from ipadrop.reading.inspector import inspect_ipa
    from ipadrop.reading.sources import BytesSource
    from ipadrop.render.page import InstallPageContext, render_install_page
    from ipadrop_tools.devkit.sample_ipa import build_ipa_bytes

    inspection = inspect_ipa(BytesSource(build_ipa_bytes(title="Field Notes", version="2.4")))
    base = "https://apps.example.com"
    return render_install_page(
        InstallPageContext(
            facts=inspection.facts,
            build_id="20260101T100000Z-aaaaaaaaaa",
            uploaded_at="2026-01-01T10:00:00Z",
            manifest_url=f"{base}/m/TOKEN/manifest.plist",
            page_url=f"{base}/i/TOKEN",
            link_expires_at="2026-01-02T10:00:00Z",
            icon_png=inspection.icon_png,
            now=datetime(2026, 1, 1, 12, tzinfo=UTC),
        )
    )


def peer_style(page: str) -> dict[str, tuple[str, bytes]]:
    """The same page split into the files peers serve: path -> (type, body)."""
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    script = re.search(r"<script>(.*?)</script>", page, re.S)
    icon = re.search(r'src="data:image/png;base64,([^"]+)"', page)
    if not (style and script and icon):
        raise RuntimeError("the page no longer has inline CSS, JS and icon to split out")
    html = (
        page.replace(style.group(0), '<link rel="stylesheet" href="/static/app.css">')
        .replace(script.group(0), '<script src="/static/app.js"></script>')
        .replace(icon.group(0), 'src="/static/icon.png"')
    )
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    return {
        "/": ("text/html; charset=utf-8", html.encode()),
        "/static/app.css": ("text/css", style.group(1).encode()),
        "/static/app.js": ("text/javascript", script.group(1).encode()),
        "/static/icon.png": ("image/png", base64.b64decode(icon.group(1))),
    }


@contextlib.contextmanager
def serve(files: dict[str, tuple[str, bytes]]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            content_type, body = files.get(self.path, ("text/plain", b""))
            self.send_response(200 if self.path in files else 404)
            self.send_header("Content-Type", content_type)
            # As CloudFront (and any peer's web server) does for text.
            if content_type.startswith("text/") and "gzip" in self.headers.get(
                "Accept-Encoding", ""
            ):
                body = gzip.compress(body, 6)
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def measure(browser: Any, url: str, throttled: bool) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        if throttled:
            cdp.send("Network.emulateNetworkConditions", MOBILE_THROTTLING)
        http_requests: set[str] = set()
        transferred: dict[str, float] = {}

        def sent(event: dict[str, Any]) -> None:
            if event["request"]["url"].startswith("http"):  # data: URIs cost nothing
                http_requests.add(event["requestId"])

        def finished(event: dict[str, Any]) -> None:
            transferred[event["requestId"]] = event["encodedDataLength"]

        cdp.on("Network.requestWillBeSent", sent)
        cdp.on("Network.loadingFinished", finished)
        page.goto(url, wait_until="load")
        page.wait_for_timeout(50)
        paints = page.evaluate(
            "Object.fromEntries(performance.getEntriesByType('paint')"
            ".map(e => [e.name, e.startTime]))"
        )
        load = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        return {
            "requests": float(len(http_requests)),
            "bytes": float(sum(transferred.get(r, 0.0) for r in http_requests)),
            "first_paint": float(paints.get("first-paint", 0.0)) / 1000,
            "first_contentful_paint": float(paints.get("first-contentful-paint", 0.0)) / 1000,
            "load": float(load) / 1000,
        }
    finally:
        context.close()


def run(runs: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    page = our_page()
    variants = {
        "ours (self-contained)": {"/": ("text/html; charset=utf-8", page.encode())},
        "baseline (HTML + CSS + JS + PNG)": peer_style(page),
    }
    results: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM_PATH), args=CHROMIUM_ARGS)
        try:
            for name, files in variants.items():
                with serve(files) as url:
                    for throttled in (False, True):
                        measure(browser, url, throttled)  # warm the browser process
                        samples = [measure(browser, url, throttled) for _ in range(runs)]
                        results[f"{name}|{'mobile' if throttled else 'local'}"] = {
                            key: median([s[key] for s in samples]) for key in samples[0]
                        }
        finally:
            browser.close()
    return results


def render(results: dict[str, Any]) -> str:
    rows = []
    for key, figures in results.items():
        name, network = key.split("|")
        rows.append(
            [
                name,
                "unthrottled" if network == "local" else "mobile (150 ms RTT, 1.6 Mbit/s)",
                f"{figures['requests']:.0f}",
                f"{figures['bytes'] / 1024:.1f} KiB",
                ms(figures["first_paint"]),
                ms(figures["first_contentful_paint"]),
                ms(figures["load"]),
            ]
        )
    return table(
        [
            "page",
            "network",
            "requests",
            "bytes (gzip)",
            "first paint",
            "first contentful paint",
            "load",
        ],
        rows,
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    print("Install page in headless Chromium (median of runs, cold cache)", flush=True)
    results = run(args.runs)
    print(render(results))
    return results


if __name__ == "__main__":
    main()
