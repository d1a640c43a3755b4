"""Builders shared by the pack tests (no tests here): small packs written to tmp folders, a bare app."""
from __future__ import annotations

import textwrap
from pathlib import Path

import yaml
from flask import Flask

from runtime import packs
from runtime.db import open_database
from runtime.config import ROOT
from tests.conftest import make_settings

#: The packs shipped in ``extensions/``, which every app loads; tests about other packs disable them.
BUILTIN_PACKS = frozenset(path.parent.name for path in (ROOT / "extensions").glob("*/manifest.yaml"))

PREDICATE_PACK = """
from runtime.packs.api import PackContext


def register(pack: PackContext) -> None:
    pack.register("predicate_function", "always", lambda *args: True, label="Always")
"""


def write_pack(
    root: Path,
    name: str,
    code: str = PREDICATE_PACK,
    *,
    version: str = "1.0.0",
    provides: dict | None = None,
    requires: dict | None = None,
    manifest: str | None = None,
) -> Path:
    """Write ``root/name/`` with a manifest and ``__init__.py``; returns the pack's folder."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    if manifest is None:
        data = {
            "name": name,
            "version": version,
            "description": f"test pack {name}",
            "provides": {"predicate_function": ["always"]} if provides is None else provides,
        }
        if requires is not None:
            data["requires"] = requires
        manifest = yaml.safe_dump(data, sort_keys=False)
    (folder / "manifest.yaml").write_text(textwrap.dedent(manifest).lstrip("\n"))
    (folder / "__init__.py").write_text(textwrap.dedent(code))
    return folder


def bare_app(database_url: str, var_dir: Path, **overrides) -> Flask:
    """A Flask app with only what ``packs.init_app`` needs (settings and the database)."""
    settings = make_settings(database_url, "", var_dir, **overrides)
    app = Flask("runtime")
    app.config.update(VECTIS=settings, TESTING=True)
    app.extensions["vectis.db"] = open_database(settings.database_url)
    packs.init_app(app)
    return app
