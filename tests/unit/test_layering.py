"""The layering of docs/ARCHITECTURE.md, checked on every import statement
(top-level, inside functions and under ``TYPE_CHECKING`` alike).

- runtime (``lambdas/ipadrop``) never imports the tooling, ``infra``, tests or benches;
- the pure core never imports boto3, botocore, Powertools, the adapters or the handlers;
- adapters import only the domain and a few leaf modules, never orchestration;
- ``infra`` imports from the runtime only its shared names (settings, bucket keys, CSP).

``test_the_check_fails_on_a_forbidden_import`` shows the check failing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "lambdas" / "ipadrop"

CORE_ROOMS = (
    "ipadrop.reading",
    "ipadrop.domain",
    "ipadrop.links",
    "ipadrop.publishing",
    "ipadrop.render",
    "ipadrop.distribution",
    "ipadrop.devices",
    "ipadrop.text",
    "ipadrop.settings",
)
AWS_SDKS = ("boto3", "botocore", "aws_lambda_powertools", "mypy_boto3", "aws_xray_sdk")
# What an adapter may use of the runtime package: the domain (records, ports),
# leaf readers and formats. Never the orchestration that uses it.
ADAPTER_MAY_IMPORT = (
    "ipadrop.domain",
    "ipadrop.reading.sources",
    "ipadrop.reading.errors",
    "ipadrop.links.tokens",
    "ipadrop.text",
    "ipadrop.settings",
)
INFRA_MAY_IMPORT = ("ipadrop.settings", "ipadrop.domain.bucket_keys", "ipadrop.render.page")


def module_name(path: Path, source_root: Path) -> str:
    parts = list(path.relative_to(source_root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str) -> list[tuple[int, str]]:
    """Every module ``path`` imports (relative imports resolved), with line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # `from ipadrop.domain import ports` names a module too.
            found.extend(
                (node.lineno, f"{target}.{alias.name}")
                for alias in node.names
                if target.startswith("ipadrop") and _is_module(f"{target}.{alias.name}")
            )
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _is_module(name: str) -> bool:
    """Whether ``name`` is a module of the runtime package (not a class/function)."""
    if not name.startswith("ipadrop."):
        return True
    relative = Path(*name.split(".")[1:])
    return (RUNTIME / relative).with_suffix(".py").is_file() or (RUNTIME / relative).is_dir()


def _first_per_line(problems: list[str]) -> list[str]:
    """One finding per import statement and rule (``from a import b`` names two modules)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for problem in problems:
        key = (problem.split(" imports ")[0], problem.rpartition("(")[2])
        if key not in seen:
            seen.add(key)
            kept.append(problem)
    return kept


def violations(source_root: Path, infra_root: Path | None = None) -> list[str]:
    """Every forbidden import under ``source_root/ipadrop`` (and ``infra_root``)."""
    problems: list[str] = []
    for path in sorted((source_root / "ipadrop").rglob("*.py")):
        module = module_name(path, source_root)
        for line, name in imports_of(path, module):
            where = f"{path.relative_to(source_root)}:{line} imports {name}"
            if _within(name, ("ipadrop_tools", "infra", "tests", "bench")):
                problems.append(f"{where} (runtime must not import tooling/infra/tests)")
            if _within(module, CORE_ROOMS):
                if _within(name, AWS_SDKS):
                    problems.append(f"{where} (the pure core must not import AWS SDKs)")
                if _within(name, ("ipadrop.adapters", "ipadrop.handlers")):
                    problems.append(f"{where} (the core must not import adapters/handlers)")
            if _within(module, ("ipadrop.adapters",)) and name.startswith("ipadrop."):
                allowed = _within(name, (*ADAPTER_MAY_IMPORT, "ipadrop.adapters"))
                if not allowed and _is_module(name):
                    problems.append(f"{where} (adapters must not import orchestration)")
    if infra_root is not None:
        for path in sorted(infra_root.rglob("*.py")):
            for line, name in imports_of(path, module_name(path, infra_root.parent)):
                if name.startswith("ipadrop_tools") or (
                    name.startswith("ipadrop.")
                    and _is_module(name)
                    and not _within(name, INFRA_MAY_IMPORT)
                ):
                    problems.append(
                        f"{path.relative_to(infra_root.parent)}:{line} imports {name} "
                        "(infra may import only the runtime's shared names)"
                    )
    return _first_per_line(problems)


def test_the_codebase_keeps_its_layering() -> None:
    assert violations(ROOT / "lambdas", ROOT / "infra") == []


@pytest.mark.parametrize(
    ("room", "statement", "expected"),
    [
        ("reading/bad.py", "import boto3\n", "must not import AWS SDKs"),
        ("domain/bad.py", "def f():\n    from botocore import x\n", "must not import AWS SDKs"),
        ("links/bad.py", "from ipadrop.adapters import s3store\n", "adapters/handlers"),
        (
            "adapters/bad.py",
            "from ipadrop.publishing.publisher import Publisher\n",
            "orchestration",
        ),
        ("handlers/bad.py", "from ipadrop_tools.cli import main\n", "tooling"),
        ("render/bad.py", "from aws_lambda_powertools import Logger\n", "AWS SDKs"),
    ],
)
def test_the_check_fails_on_a_forbidden_import(
    tmp_path: Path, room: str, statement: str, expected: str
) -> None:
    target = tmp_path / "ipadrop" / room
    target.parent.mkdir(parents=True)
    target.write_text(statement)
    (found,) = violations(tmp_path)
    assert expected in found


def test_allowed_imports_pass(tmp_path: Path) -> None:
    good = tmp_path / "ipadrop" / "adapters" / "good.py"
    good.parent.mkdir(parents=True)
    good.write_text("import boto3\nfrom ipadrop.domain.ports import ObjectInfo\n")
    assert violations(tmp_path) == []
