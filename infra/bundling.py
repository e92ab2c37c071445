"""Packaging the Lambda code without Docker.

The asset is ``lambdas/``: the runtime package ``ipadrop`` (everything in it
ships; the CLI, the local stack and the devkit live in ``ipadrop_tools`` outside
``lambdas/``, see docs/ARCHITECTURE.md) plus the third-party wheels
of the ``lambda`` dependency group, installed for Lambda's platform (arm64,
CPython 3.13) from the pinned ``lambdas/requirements.lock.txt``.

CDK asks the local bundler first; only if it returns ``False`` would CDK fall
back to Docker. Ours never returns ``False`` (it raises instead), so the Docker
image named below is a placeholder that is never pulled.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_SOURCE_ROOT = REPO_ROOT / "lambdas"
PACKAGE_NAME = "ipadrop"
REQUIREMENTS_LOCK = LAMBDA_SOURCE_ROOT / "requirements.lock.txt"

# Glob patterns kept out of the bundle and out of the asset fingerprint.
EXCLUDED_PATTERNS = ("__pycache__", "*.pyc", "*.pyo", ".mypy_cache", ".pytest_cache")

LAMBDA_PIP_PLATFORM = "manylinux2014_aarch64"
LAMBDA_PYTHON_VERSION = "3.13"


class BundlingError(RuntimeError):
    """Local bundling could not produce the asset; the message says why."""


def wheel_install_command(requirements: Path, target: Path) -> list[str]:
    """The installer command for Lambda-platform wheels into ``target``.

    Prefers pip when the running interpreter has it (the classic command); a
    ``uv sync``-made virtualenv has no pip, so otherwise uv's pip interface with
    the same meaning (binary wheels only, Linux aarch64, CPython 3.13).
    """
    if _has_pip():
        return [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--platform",
            LAMBDA_PIP_PLATFORM,
            "--only-binary=:all:",
            "--python-version",
            LAMBDA_PYTHON_VERSION,
            "--implementation",
            "cp",
            "--target",
            str(target),
            "-r",
            str(requirements),
        ]
    uv = find_uv()
    if uv is None:
        raise BundlingError(
            "cannot bundle the Lambda code: neither pip (in this Python) nor uv was found; "
            "run `make setup` first"
        )
    return [
        uv,
        "pip",
        "install",
        "--quiet",
        "--python-platform",
        "aarch64-manylinux2014",
        "--only-binary",
        ":all:",
        "--python-version",
        LAMBDA_PYTHON_VERSION,
        "--target",
        str(target),
        "-r",
        str(requirements),
    ]


def find_uv() -> str | None:
    """uv as the Makefile installs it (``.tools/bin/uv``), else from PATH."""
    local = REPO_ROOT / ".tools" / "bin" / "uv"
    if local.is_file():
        return str(local)
    return shutil.which("uv")


def _has_pip() -> bool:
    import importlib.util

    return importlib.util.find_spec("pip") is not None


def copy_runtime_package(source_root: Path, output_dir: Path) -> Path:
    """Copy ``<source_root>/ipadrop`` into ``output_dir`` (without caches)."""
    source = source_root / PACKAGE_NAME
    destination = output_dir / PACKAGE_NAME
    if destination.exists():
        shutil.rmtree(destination)

    shutil.copytree(source, destination, ignore=shutil.ignore_patterns(*EXCLUDED_PATTERNS))
    return destination


@jsii.implements(cdk.ILocalBundling)
class LocalPythonBundler:
    """Bundles ``lambdas/ipadrop`` + Lambda-platform wheels on this machine (no Docker)."""

    def __init__(
        self,
        *,
        source_root: Path = LAMBDA_SOURCE_ROOT,
        requirements: Path = REQUIREMENTS_LOCK,
    ) -> None:
        self.source_root = source_root
        self.requirements = requirements

    def try_bundle(self, output_dir: str, options: cdk.BundlingOptions) -> bool:
        """CDK's hook (called through jsii with the options struct, unused here)."""
        self.bundle(Path(output_dir))
        return True

    def bundle(self, output_dir: Path) -> None:
        """Fill ``output_dir`` with the runtime package and its wheels."""
        if not self.requirements.is_file():
            raise BundlingError(f"{self.requirements} is missing; see docs/DEPLOY.md")
        output_dir.mkdir(parents=True, exist_ok=True)
        command = wheel_install_command(self.requirements, output_dir)
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise BundlingError(
                "installing the Lambda wheels failed "
                f"(exit {completed.returncode}): {completed.stderr.strip()[-2000:]}"
            )
        # Console scripts and man pages of the wheels are of no use in Lambda.
        for unused in ("bin", "share"):
            shutil.rmtree(output_dir / unused, ignore_errors=True)
        copy_runtime_package(self.source_root, output_dir)


def lambda_code(*, source_root: Path = LAMBDA_SOURCE_ROOT) -> lambda_.Code:
    """One asset for every function of the stack (bundled once per synth)."""
    return lambda_.Code.from_asset(
        str(source_root),
        exclude=list(EXCLUDED_PATTERNS),
        bundling=cdk.BundlingOptions(
            # Never pulled: the local bundler always succeeds or raises.
            image=cdk.DockerImage.from_registry("none"),
            # jsii calls try_bundle(output_dir, options) with the struct as one
            # positional argument, unlike the keyword form its stubs declare.
            local=cast(cdk.ILocalBundling, LocalPythonBundler(source_root=source_root)),
        ),
    )
