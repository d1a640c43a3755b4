"""``vectis definitions …``: validate, list, publish, history, rollback, sync."""
from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from rules.pipeline import check_paths

from runtime.definitions import shipped, store
from runtime.definitions.environment import build_environment
from runtime.errors import BusinessError, BusinessErrors


def _env():
    return build_environment(current_app.extensions["vectis.registry"])


def _database():
    database = current_app.extensions["vectis.db"]
    database.probe()
    return database


def _fail(exc: BusinessError | BusinessErrors) -> None:
    for error in getattr(exc, "errors", [exc]):
        click.echo(error.message, err=True)
    sys.exit(1)


@click.group()
def definitions() -> None:
    """Check, publish and roll back definitions."""


@definitions.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@with_appcontext
def validate(paths: tuple[Path, ...]) -> None:
    """Validate files or folders (default: every shipped definition). Exit 1 listing every error."""
    registry = current_app.extensions["vectis.registry"]
    if paths:
        checked = check_paths(paths, _env())
    else:
        checked = shipped.check_shipped(registry, _env())
    for error in checked.errors:
        click.echo(str(error), err=True)
    files = len(checked.checked)
    if not checked.ok:
        bad = len({e.path for e in checked.errors})
        click.echo(f"{len(checked.errors)} error(s) in {bad} of {files} file(s)", err=True)
        sys.exit(1)
    click.echo(f"{files} definition(s) valid")


@definitions.command("list")
@click.option("--kind")
@with_appcontext
def list_(kind: str | None) -> None:
    """The live revision of every definition."""
    with _database().session() as session:
        for row in store.all_live(session, kind):
            click.echo(f"{row.kind}/{row.name}\trevision {row.revision}\t{row.author}\t{row.created_at:%Y-%m-%d %H:%M}")


def _author(author: str | None) -> str:
    return author or f"cli:{getpass.getuser()}"


@definitions.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--note", default="", help="Why this change (recorded in history).")
@click.option("--author", help="Recorded author (default cli:<login>).")
@with_appcontext
def publish(path: Path, note: str, author: str | None) -> None:
    """Validate PATH and publish it as the new live revision."""
    source = path.read_text("utf-8")
    env = _env()
    try:
        row, created = _database().run(
            lambda s: store.publish(s, source, env, author=_author(author), note=note, origin=str(path), path=str(path))
        )
    except (BusinessError, BusinessErrors) as exc:
        _fail(exc)
    state = "published" if created else "unchanged, already live as"
    click.echo(f"{row.kind}/{row.name}: {state} revision {row.revision}")


@definitions.command()
@click.argument("kind")
@click.argument("name")
@with_appcontext
def history(kind: str, name: str) -> None:
    """Every revision of KIND/NAME, newest first."""
    with _database().session() as session:
        rows = store.history(session, kind, name)
    if not rows:
        click.echo(f"no definition {kind}/{name}", err=True)
        sys.exit(1)
    for row in rows:
        live = "live" if row.is_live else "    "
        back = f" (rollback to {row.rolled_back_from})" if row.rolled_back_from else ""
        click.echo(f"{row.revision}\t{live}\t{row.created_at:%Y-%m-%d %H:%M}\t{row.author}\t{row.note}{back}")


@definitions.command()
@click.argument("kind")
@click.argument("name")
@click.argument("revision", type=int)
@click.option("--note", default="")
@click.option("--author")
@with_appcontext
def rollback(kind: str, name: str, revision: int, note: str, author: str | None) -> None:
    """Republish REVISION of KIND/NAME as the new live revision."""
    env = _env()
    try:
        row, created = _database().run(
            lambda s: store.rollback(s, kind, name, revision, env, author=_author(author), note=note)
        )
    except (BusinessError, BusinessErrors) as exc:
        _fail(exc)
    state = f"revision {revision} republished as revision" if created else "already live as revision"
    click.echo(f"{kind}/{name}: {state} {row.revision}")
