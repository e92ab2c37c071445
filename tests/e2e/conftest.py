"""The local stack as a user runs it (`ipadrop local` in its own process, embedded moto),
one per test session and xdist worker, on a free port with its own state folder; and
headless Chromium (Debian's build) for the pages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP_CHROME, IPHONE_SAFARI
from tests.conftest import REPO_ROOT

START_TIMEOUT_SECONDS = 60


def subprocess_env() -> dict[str, str]:
    """The environment of a fresh shell in the repo: package importable, embedded moto."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT / "lambdas"), str(REPO_ROOT), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env.pop("AWS_ENDPOINT_URL", None)
    env.pop("AWS_PROFILE", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def ipadrop_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "ipadrop_tools.cli", *args]


@dataclass
class RunningStack:
    url: str
    state_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def settings(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.state_dir / "settings.json").read_text())
        return data

    def run(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
        """``ipadrop ARGS --endpoint URL`` in this process (same code, no interpreter start)."""
        from ipadrop_tools.cli.main import main

        capsys.readouterr()
        status = main([*args, "--endpoint", self.url])
        out, err = capsys.readouterr()
        return status, out, err

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``ipadrop ARGS --endpoint URL`` in a process of its own, as a build system runs it."""
        return subprocess.run(
            ipadrop_command(*args, "--endpoint", self.url),
            capture_output=True,
            text=True,
            env=subprocess_env(),
            timeout=timeout,
            check=False,
        )


def start_stack(state_dir: Path, log_path: Path, *extra: str) -> subprocess.Popen[bytes]:
    log = log_path.open("wb")
    try:
        return subprocess.Popen(
            ipadrop_command("local", "--port", "0", "--state-dir", str(state_dir), *extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=subprocess_env(),
            cwd=REPO_ROOT,
        )
    finally:
        log.close()


def wait_for_runtime(process: subprocess.Popen[bytes], state_dir: Path, log_path: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    runtime = state_dir / "runtime.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"ipadrop local exited with {process.returncode}:\n{log_path.read_text()}")
        if runtime.exists():
            try:
                data = json.loads(runtime.read_text())
            except ValueError:
                data = {}  # being written
            if data.get("pid") == process.pid:
                return str(data["distribution_url"])
        time.sleep(0.1)
    process.kill()
    pytest.fail(
        f"ipadrop local did not start in {START_TIMEOUT_SECONDS} s:\n{log_path.read_text()}"
    )


def stop_stack(process: subprocess.Popen[bytes]) -> int:
    """Ctrl-C, as a person stops it; returns the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail("ipadrop local did not stop within 15 s of Ctrl-C")
    return process.returncode


@pytest.fixture(scope="session")
def e2e_artifacts(artifacts_dir: Path) -> Path:
    path = artifacts_dir / "e2e"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def local_stack(
    tmp_path_factory: pytest.TempPathFactory, e2e_artifacts: Path, worker_id: str
) -> Iterator[RunningStack]:
    state_dir = tmp_path_factory.mktemp("ipadrop-local")
    log_path = e2e_artifacts / f"local-stack-{worker_id}.log"
    process = start_stack(state_dir, log_path)
    try:
        url = wait_for_runtime(process, state_dir, log_path)
        yield RunningStack(url=url, state_dir=state_dir, process=process, log_path=log_path)
    finally:
        status = stop_stack(process)
    assert status == 0, log_path.read_text()
    assert not (state_dir / "runtime.json").exists()


@pytest.fixture
def iphone(chromium_browser: Any) -> Iterator[Any]:
    """A page that looks like Safari on an iPhone: its user agent, size, touch (5 points)."""
    device = IPHONE_SAFARI
    context = chromium_browser.new_context(
        user_agent=device.user_agent,
        viewport={"width": device.viewport[0], "height": device.viewport[1]},
        device_scale_factor=device.scale,
        is_mobile=device.mobile,
        has_touch=device.touch,
    )
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send(
        "Emulation.setTouchEmulationEnabled",
        {"enabled": True, "maxTouchPoints": device.max_touch_points},
    )
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def desktop(chromium_browser: Any) -> Iterator[Any]:
    device = DESKTOP_CHROME
    context = chromium_browser.new_context(
        user_agent=device.user_agent,
        viewport={"width": device.viewport[0], "height": device.viewport[1]},
    )
    try:
        yield context.new_page()
    finally:
        context.close()


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-cased names) and body, without raising on 4xx/5xx."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()
