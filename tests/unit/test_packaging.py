"""`pip install .` is the command line for CI runners; `ipadrop[local]` adds the local stack.

The command line must work with none of the local stack's packages installed: the test
runs it in a fresh interpreter where importing them fails, as on such a runner.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

from ipadrop_tools.cli.local_cmd import LOCAL_EXTRA_MODULES
from ipadrop_tools.devkit.sample_ipa import build_ipa
from tests.conftest import REPO_ROOT

_BLOCKER = """
import importlib.abc, sys
BLOCKED = {blocked!r}
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Blocker())
from ipadrop_tools.cli.main import main
status = main({argv!r})
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set(BLOCKED))
print("LOADED=" + ",".join(loaded), file=sys.stderr)
sys.exit(status)
"""


def _run_without_local_extra(*argv: str) -> subprocess.CompletedProcess[str]:
    code = _BLOCKER.format(blocked=LOCAL_EXTRA_MODULES, argv=list(argv))
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{REPO_ROOT / 'lambdas'}:{REPO_ROOT}"},
        timeout=120,
        check=False,
    )


def test_the_base_install_has_no_local_stack_packages() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    names = " ".join(project["dependencies"]).lower()
    for heavy in ("moto", "flask", "werkzeug", "powertools"):
        assert heavy not in names
    local = " ".join(project["optional-dependencies"]["local"]).lower()
    assert "moto[server]" in local
    assert "aws-lambda-powertools" in local
    dev = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    assert "ipadrop[local]" in dev  # make setup / make test install everything


def test_upload_and_link_run_without_the_local_extra(tmp_path: Path) -> None:
    ipa = tmp_path / "App.ipa"
    build_ipa(ipa)
    # The whole upload path up to the network: local check, key, target, S3 client.
    result = _run_without_local_extra("upload", str(ipa), "--endpoint", "http://127.0.0.1:9")
    assert result.returncode == 5, result.stderr
    assert "no ipadrop local stack answers" in result.stderr
    assert "LOADED=\n" in result.stderr or result.stderr.rstrip().endswith("LOADED=")
    notes = tmp_path / "Notes.ipa"
    notes.write_text("not an app")
    result = _run_without_local_extra("upload", str(notes), "--json", "--stack", "x")
    assert result.returncode == 3
    assert json.loads(result.stdout)["reason"] == "not_a_zip"
    for command in ("link", "apps", "builds", "revoke", "upload", "inspect", "render"):
        result = _run_without_local_extra(command, "--help")
        assert result.returncode == 0, (command, result.stderr)
    result = _run_without_local_extra("link", "com.example.app", "--endpoint", "http://127.0.0.1:9")
    assert result.returncode == 5, result.stderr


def test_ipadrop_local_without_the_extra_says_how_to_get_it() -> None:
    result = _run_without_local_extra("local", "--port", "0")
    assert result.returncode == 2
    assert "pip install 'ipadrop[local]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_local_md_commands_work_after_make_setup() -> None:
    # `make setup` does not put .venv/bin on PATH: a bare `ipadrop` would not be found.
    text = (REPO_ROOT / "docs" / "LOCAL.md").read_text()
    blocks = text.split("```")[1::2]
    commands = [line.strip() for block in blocks for line in block.splitlines()[1:]]
    assert any(line.startswith(".venv/bin/ipadrop ") for line in commands)
    assert not [line for line in commands if line.startswith("ipadrop ")]
