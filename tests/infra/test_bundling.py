"""Packaging without Docker: the pinned requirements, what is copied, and (slow)
a real local bundle with Linux aarch64 wheels."""

from __future__ import annotations

import subprocess
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from infra.bundling import (
    LAMBDA_SOURCE_ROOT,
    REQUIREMENTS_LOCK,
    copy_runtime_package,
    find_uv,
    lambda_code,
    wheel_install_command,
)

pytestmark = pytest.mark.infra

EM_AARCH64 = 183  # ELF e_machine of arm64


def test_requirements_lock_matches_uv_lock() -> None:
    uv = find_uv()
    assert uv is not None, "uv is part of the toolchain (make setup installs it)"
    exported = subprocess.run(
        [uv, "export", "--frozen", "--only-group", "lambda", "--no-hashes", "--no-emit-project"],
        cwd=LAMBDA_SOURCE_ROOT.parent,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert REQUIREMENTS_LOCK.read_text() == exported, (
        "lambdas/requirements.lock.txt is stale: regenerate it with "
        "`uv export --frozen --only-group lambda --no-hashes --no-emit-project "
        "> lambdas/requirements.lock.txt`"
    )
    pins = [line for line in exported.splitlines() if line and line[0] not in "# "]
    assert pins
    assert all("==" in pin for pin in pins)
    assert not any(pin.startswith(("boto3", "botocore", "aws-lambda-powertools")) for pin in pins)


def test_install_command_targets_lambda_platform(tmp_path: Path) -> None:
    command = wheel_install_command(REQUIREMENTS_LOCK, tmp_path)
    joined = " ".join(command)
    assert "--target " + str(tmp_path) in joined
    assert "-r " + str(REQUIREMENTS_LOCK) in joined
    assert "--python-version 3.13" in joined
    if "pip" in command[:3] and command[1] == "-m":
        assert "--platform manylinux2014_aarch64" in joined
        assert "--only-binary=:all:" in joined
        assert "--implementation cp" in joined
    else:
        assert "--python-platform aarch64-manylinux2014" in joined
        assert "--only-binary :all:" in joined


def test_copy_keeps_the_whole_runtime_package_but_caches(tmp_path: Path) -> None:
    source = tmp_path / "src"
    package = source / "ipadrop"
    for relative in (
        "__init__.py",
        "handlers/link.py",
        "render/templates/page.html.j2",
        "__pycache__/x.cpython-311.pyc",
        "render/__pycache__/y.cpython-311.pyc",
        "render/cli/kept.py",
    ):
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        (package / relative).write_text("# test\n")
    out = tmp_path / "out"
    out.mkdir()
    copy_runtime_package(source, out)
    copied = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert copied == {
        "ipadrop/__init__.py",
        "ipadrop/handlers/link.py",
        "ipadrop/render/templates/page.html.j2",
        "ipadrop/render/cli/kept.py",
    }


def test_tooling_lives_outside_the_lambda_source_root() -> None:
    # No exclusion list: the tooling package is simply not under lambdas/.
    assert not (LAMBDA_SOURCE_ROOT / "ipadrop" / "cli").exists()
    assert not (LAMBDA_SOURCE_ROOT / "ipadrop_tools").exists()
    assert (LAMBDA_SOURCE_ROOT.parent / "ipadrop_tools" / "cli" / "main.py").is_file()


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    assert header[4] == 2, "64-bit ELF"
    assert header[5] == 1, "little endian"
    return int.from_bytes(header[18:20], "little")


@pytest.mark.slow
def test_local_bundle_has_aarch64_wheels_and_only_runtime_code(tmp_path: Path) -> None:
    """CDK stages the shared Lambda asset into a temp dir through the local bundler.

    Docker cannot be involved: the fallback image "none" does not exist.
    """
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "BundleProbe")
    lambda_.Function(
        stack,
        "Probe",
        code=lambda_code(),
        handler="ipadrop.handlers.keypair.handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
        architecture=lambda_.Architecture.ARM_64,
    )
    app.synth()
    (bundle,) = (p for p in (tmp_path / "cdk.out").glob("asset.*") if p.is_dir())

    rust = bundle / "cryptography" / "hazmat" / "bindings" / "_rust.abi3.so"
    assert _elf_machine(rust) == EM_AARCH64
    (cffi_backend,) = bundle.glob("_cffi_backend.cpython-313-aarch64-linux-gnu.so")
    assert _elf_machine(cffi_backend) == EM_AARCH64
    for package in ("jinja2", "markupsafe", "segno", "asn1crypto", "cryptography"):
        assert (bundle / package / "__init__.py").is_file(), package
    # boto3 comes from the runtime, Powertools from the layer.
    assert not (bundle / "boto3").exists()
    assert not (bundle / "aws_lambda_powertools").exists()

    runtime = bundle / "ipadrop"
    for handler in ("processor.py", "link.py", "keypair.py"):
        assert (runtime / "handlers" / handler).is_file(), handler
    # Tooling lives outside lambdas/ and so can never be bundled.
    assert not (bundle / "ipadrop_tools").exists()
    for tooling in ("cli", "local", "devkit"):
        assert not (runtime / tooling).exists(), tooling
    assert not list(bundle.rglob("__pycache__"))
    assert not (bundle / "tests").exists()
    assert not list(bundle.rglob("test_*.py"))
    so_files = list(bundle.rglob("*.so"))
    assert so_files
    assert all(_elf_machine(p) == EM_AARCH64 for p in so_files)
