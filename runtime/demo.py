"""Loads the demo store from ``examples/demo`` (idempotent: running it twice changes nothing)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import yaml
from flask import Flask
from rules.errors import DefinitionInvalid
from rules.pipeline import check_paths
from sqlmodel import select

from runtime.auth.models import User
from runtime.auth.service import create_user
from runtime.definitions import store
from runtime.definitions.environment import build_environment

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo"
DEMO_AUTHOR = "demo"


def load_demo(app: Flask, folder: Path = DEMO) -> Iterator[str]:
    database = app.extensions["vectis.db"]
    spec = yaml.safe_load((folder / "store.yaml").read_text())
    env = build_environment(app.extensions["vectis.registry"])
    checked = check_paths([folder / "definitions"], env, origin="examples/demo/definitions")
    if not checked.ok:
        raise DefinitionInvalid(checked.errors)

    def load(session) -> list[str]:
        lines = []
        for user in spec.get("users", []):
            if session.exec(select(User).where(User.email == user["email"])).first() is None:
                create_user(session, user["email"], user["password"], user["roles"])
            lines.append(f"demo user {user['email']} / {user['password']} ({', '.join(user['roles'])})")
        for definition in checked.definitions:
            row, created = store.publish(
                session, definition.source, env, author=DEMO_AUTHOR, note="demo store",
                origin=definition.path, path=definition.path,
            )
            if created:
                lines.append(f"demo definition {row.kind}/{row.name}: revision {row.revision}")
        return lines

    yield from database.run(load)
