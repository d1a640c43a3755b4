"""The import direction of DESIGN.md, checked by reading the code's imports (not by convention).

* nothing under ``runtime/``, ``rules/`` or ``admin_ui/`` imports a pack (``extensions``,
  ``examples``, or the ``vectis_packs`` namespace external packs load under);
* ``rules/`` imports neither Flask, the database libraries, nor ``runtime``;
* every top-level package resolves inside this project, not to a namesake from the package index.
"""
from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACK_MODULES = ("extensions", "examples", "vectis_packs")
RULES_FORBIDDEN = ("flask", "sqlalchemy", "sqlmodel", "runtime", "alembic", "psycopg")
PACKAGES = ("runtime", "rules", "schemas", "definitions", "extensions", "examples", "admin_ui")


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
    return found


def offending(packages: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    problems = []
    for package in packages:
        for path in python_files(package):
            for line, module in imported_modules(path):
                if module.split(".")[0] in forbidden:
                    problems.append(f"{path.relative_to(ROOT)}:{line}: imports {module}")
    return problems


def test_the_core_never_imports_a_pack():
    assert offending(("runtime", "rules", "admin_ui"), PACK_MODULES) == []


def test_the_runtime_never_imports_the_admin_ui():
    # admin_ui builds on the runtime; the app factory mounts it through the vectis.web_ui entry point
    assert offending(("runtime", "rules"), ("admin_ui",)) == []


def test_rules_imports_neither_flask_nor_the_database_nor_the_runtime():
    assert offending(("rules",), RULES_FORBIDDEN) == []


def test_the_checks_see_imports_of_every_form():
    sample = ROOT / "runtime" / "packs" / "loader.py"
    modules = {module for _, module in imported_modules(sample)}
    assert "runtime.packs.discovery" in modules and "logging" in modules
    assert len(python_files("runtime")) > 10 and len(python_files("rules")) > 3


@pytest.mark.parametrize("name", PACKAGES)
def test_each_top_level_package_resolves_inside_this_project(name):
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None, f"{name} is not importable as a regular package"
    assert Path(spec.origin).resolve().is_relative_to(ROOT), f"{name} resolves to {spec.origin}, outside {ROOT}"
