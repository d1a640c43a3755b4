"""The ``vectis`` command.

Start-up time is the design constraint here (issue 12): ``vectis --help`` imports nothing beyond
click, subcommand groups are imported only when run (:class:`LazyGroup`), and each command builds
only what it needs: the whole app to serve or run jobs, the app without its HTTP layer to publish
definitions (the registries of packs, effects and tender types), the cached names of those
registries to validate (``runtime/definitions/vocabulary.py``), the database alone to read
history or create a user. Imports inside the commands below are deliberate: they are the
start-up cost each command alone pays.
"""
from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from runtime.errors import ConfigError

if TYPE_CHECKING:
    from flask import Flask

    from runtime.db import Database

#: Commands that run a long-lived process and log at ``VECTIS_LOG_LEVEL``; the others log warnings only.
SERVING_COMMANDS = {"serve", "demo"}


class LazyGroup(click.Group):
    """A group whose subcommands are named ``"module:attribute"`` and imported when first used.

    ``lazy`` maps a command name to (import path, one-line help); help pages list lazy commands
    from that line, so ``--help`` imports none of them (a test keeps each line equal to the
    command's own short help).
    """

    def __init__(self, *args, lazy: dict[str, tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy and name not in self.commands:
            module, _, attribute = self.lazy[name][0].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is None:
                rows.append((name, self.lazy[name][1]))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


#: Subcommands in their own modules: (import path, the one-line help ``vectis --help`` shows).
LAZY_COMMANDS = {
    "definitions": ("runtime.definitions.cli:definitions", "Check, publish and roll back definitions."),
    "worker": ("runtime.jobs.cli:worker_command", "Run jobs from Redis queues."),
    "cron": ("runtime.jobs.cli:cron_command", "Enqueue periodic jobs on schedule (run exactly one of these per Redis)."),
    "tax": ("runtime.tax.cli:tax", "Tax jurisdictions and rate tables."),
    "secrets": ("runtime.security.cli:secrets", "Secrets at rest: master keys and their rotation."),
    "schema": ("runtime.graphql.sdl:schema", "The GraphQL schema."),
    "webhooks": ("runtime.webhooks.incoming_cli:webhooks", "Incoming webhook secrets of gateway packs."),
}


@click.group(cls=LazyGroup, lazy=LAZY_COMMANDS)
@click.version_option(package_name="vectis", prog_name="vectis", message="%(prog)s %(version)s")
def cli() -> None:
    """Vectis: a rules-and-data-driven commerce runtime."""


def quiet_logging() -> None:
    """Warnings only: a command that does not serve prints its own output."""
    logging.getLogger().setLevel(max(logging.getLogger().level, logging.WARNING))


def _quiet_unless_serving(command: str) -> None:
    if command not in SERVING_COMMANDS:
        quiet_logging()


@contextmanager
def app_context(*, web: bool = True) -> Iterator[Flask]:
    """The app (``web=False``: without the GraphQL schema and web UIs) with its context pushed.

    The database is not probed: commands that need it probe it themselves, so ``definitions
    validate`` works without one.
    """
    from runtime.app import create_app

    app = create_app(probe=False, web=web)
    _quiet_unless_serving(click.get_current_context().info_name)
    with app.app_context():
        yield app


def open_cli_database() -> Database:
    """The configured database, probed, for commands that read or write rows and nothing else."""
    from runtime.config import load_settings
    from runtime.db import open_database

    database = open_database(load_settings().database_url)
    database.probe()
    return database


def probe_services(app: Flask) -> None:
    """Fail with one line when the database or Redis does not answer, or the schema is behind."""
    from runtime.jobs import probe as probe_redis
    from runtime.migrate import current_revision, head_revision
    from runtime.security.sealed import check_on_start

    database = app.extensions["vectis.db"]
    database.probe()
    probe_redis(app)
    if current_revision(database.engine) != head_revision():
        raise ConfigError(f"database {database.safe_url} is not at the latest schema: run `vectis db upgrade`")
    check_on_start(database, app.extensions["vectis.secrets"])  # a wrong master key: one line, not a 500 later


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the runtime (GraphQL at /graphql) with the development server."""
    from runtime.server import serve as run_server

    with app_context() as app:
        probe_services(app)
        run_server(app, host, port)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate to the latest schema, seed roles, run pack install hooks, publish shipped definitions."""
    from runtime.setup import upgrade

    with app_context(web=False) as app:
        for line in upgrade(app):
            click.echo(line)


@db.command("verify-backup")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=str))
def db_verify_backup(archive: str) -> None:
    """Restore a pg_dump archive into a scratch database and compare it with this one."""
    from pathlib import Path

    from runtime.backups import verify_backup
    from runtime.config import load_settings

    checks = verify_backup(load_settings().database_url, Path(archive))
    for check in checks:
        verdict = "same" if check.same else "DIFFERENT"
        click.echo(f"{check.table}: {check.source_rows} row(s) here, {check.backup_rows} in the backup: {verdict}")
    different = [c.table for c in checks if not c.same]
    if different:
        click.echo(f"vectis: the backup differs from the database in {len(different)} table(s): {', '.join(different)}", err=True)
        sys.exit(1)
    click.echo(f"backup {archive} verified: {len(checks)} tables restored with the same rows")


@cli.group()
def users() -> None:
    """Users and roles."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", "roles", multiple=True, required=True, help="a role from runtime/auth/roles.yaml, e.g. admin, merchandiser, sales (repeatable)")
def users_create(email: str, password: str, roles: tuple[str, ...]) -> None:
    """Create a user with one or more roles."""
    from runtime.auth.service import create_user
    from runtime.errors import BusinessError

    database = open_cli_database()
    try:
        user = database.run(lambda s: create_user(s, email, password, list(roles)))
    except BusinessError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"created user {user.email} ({', '.join(roles)})")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up the demo store and exit.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Migrate, load the demo store from examples/, and serve it on 127.0.0.1."""
    from runtime.demo import load_demo
    from runtime.server import serve as run_server
    from runtime.setup import upgrade

    with app_context() as app:
        for line in upgrade(app):
            click.echo(line)
        for line in load_demo(app):
            click.echo(line)
        if not no_serve:
            probe_services(app)
            run_server(app, host, port)


def main() -> None:
    try:
        cli.main(prog_name="vectis")
    except ConfigError as exc:
        click.echo(f"vectis: error: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        # A table missing or a column refused: one line, as for a database that does not answer.
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        click.echo(f"vectis: error: the database refused the command ({reason}); if its schema is "
                   f"behind, run `vectis db upgrade`", err=True)
        sys.exit(2)


def _is_database_error(exc: Exception) -> bool:
    # Only a command that used the database has imported SQLAlchemy: no import here.
    errors = sys.modules.get("sqlalchemy.exc")
    return errors is not None and isinstance(exc, errors.DBAPIError)
