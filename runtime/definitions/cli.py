"""``vectis definitions …``: validate, list, publish, history, rollback.

Each command imports what it uses inside its body, for start-up time (``runtime/cli.py``):
``publish`` and ``rollback`` need the registries (packs, effects, tender types) and so the app
without its HTTP layer; ``validate`` reads what they name from a cache kept current
(:mod:`runtime.definitions.vocabulary`); ``list`` and ``history`` need only the database.
"""
from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click

from runtime.cli import app_context, open_cli_database


def _env(app):
    from runtime.definitions.environment import build_environment

    return build_environment(app.extensions["vectis.registry"])


def _fail(exc) -> None:
    for error in getattr(exc, "errors", [exc]):
        click.echo(error.message, err=True)
    sys.exit(1)


def _author(author: str | None) -> str:
    return author or f"cli:{getpass.getuser()}"


@click.group()
def definitions() -> None:
    """Check, publish and roll back definitions."""


@definitions.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Validate files or folders (default: every shipped definition). Exit 1 listing every error."""
    from rules.pipeline import check_paths

    from runtime.cli import quiet_logging
    from runtime.config import load_settings
    from runtime.definitions.vocabulary import environment

    quiet_logging()
    # What definitions may name, kept between runs (runtime/definitions/vocabulary.py): the
    # registries are built only when the code or settings changed since.
    env, shipped_sources = environment(load_settings())
    checked = check_paths(paths or shipped_sources, env)
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
def list_(kind: str | None) -> None:
    """The live revision of every definition."""
    from runtime.definitions.revisions import all_live

    with open_cli_database().session() as session:
        for row in all_live(session, kind):
            click.echo(f"{row.kind}/{row.name}\trevision {row.revision}\t{row.author}\t{row.created_at:%Y-%m-%d %H:%M}")


@definitions.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--note", default="", help="Why this change (recorded in history).")
@click.option("--author", help="Recorded author (default cli:<login>).")
def publish(path: Path, note: str, author: str | None) -> None:
    """Validate PATH and publish it as the new live revision."""
    from rules.errors import AuthorErrors
    from rules.yamlsource import read_source

    from runtime.definitions import store
    from runtime.errors import BusinessError, BusinessErrors

    try:
        source = read_source(path)
    except AuthorErrors as exc:  # not UTF-8: the same line as `validate` prints
        for error in exc.errors:
            click.echo(str(error), err=True)
        sys.exit(1)
    with app_context(web=False) as app:
        env, database = _env(app), app.extensions["vectis.db"]
        database.probe()
        try:
            row, created = database.run(
                lambda s: store.publish(s, source, env, author=_author(author), note=note, origin=str(path), path=str(path))
            )
        except (BusinessError, BusinessErrors) as exc:
            _fail(exc)
    state = "published" if created else "unchanged, already live as"
    click.echo(f"{row.kind}/{row.name}: {state} revision {row.revision}")


@definitions.command()
@click.argument("kind")
@click.argument("name")
def history(kind: str, name: str) -> None:
    """Every revision of KIND/NAME, newest first."""
    from runtime.definitions.revisions import history as revisions_of

    with open_cli_database().session() as session:
        rows = revisions_of(session, kind, name)
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
def rollback(kind: str, name: str, revision: int, note: str, author: str | None) -> None:
    """Republish REVISION of KIND/NAME as the new live revision."""
    from runtime.definitions import store
    from runtime.errors import BusinessError, BusinessErrors

    with app_context(web=False) as app:
        env, database = _env(app), app.extensions["vectis.db"]
        database.probe()
        try:
            row, created = database.run(
                lambda s: store.rollback(s, kind, name, revision, env, author=_author(author), note=note)
            )
        except (BusinessError, BusinessErrors) as exc:
            _fail(exc)
    state = f"revision {revision} republished as revision" if created else "already live as revision"
    click.echo(f"{kind}/{name}: {state} {row.revision}")
