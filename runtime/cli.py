"""The ``vectis`` command, built on Flask's CLI."""
from __future__ import annotations

import logging
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from runtime.errors import ConfigError


#: Commands that run a long-lived process and log at ``VECTIS_LOG_LEVEL``; the others log warnings only.
SERVING_COMMANDS = {"serve", "demo"}


def _create_app():
    from runtime.app import create_app

    # Commands that need the database probe it themselves: `definitions validate` must work without one.
    app = create_app(probe=False)
    if click.get_current_context().info_name not in SERVING_COMMANDS:
        logging.getLogger().setLevel(max(logging.getLogger().level, logging.WARNING))
    return app


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def cli() -> None:
    """Vectis: a rules-and-data-driven commerce runtime."""


def probe_services() -> None:
    """Fail with one line when the database or Redis does not answer, or the schema is behind."""
    from runtime.jobs import probe as probe_redis
    from runtime.migrate import current_revision, head_revision

    database = current_app.extensions["vectis.db"]
    database.probe()
    probe_redis(current_app)
    if current_revision(database.engine) != head_revision():
        raise ConfigError(f"database {database.safe_url} is not at the latest schema: run `vectis db upgrade`")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Serve the runtime (GraphQL at /graphql) with the development server."""
    from runtime.server import serve as run_server

    probe_services()
    run_server(current_app._get_current_object(), host, port)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Migrate to the latest schema, seed roles, run pack install hooks, publish shipped definitions."""
    from runtime.setup import upgrade

    for line in upgrade(current_app._get_current_object()):
        click.echo(line)


@cli.group()
def users() -> None:
    """Users and roles."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", "roles", multiple=True, required=True, help="a role from runtime/auth/roles.yaml, e.g. admin, merchandiser, sales (repeatable)")
@with_appcontext
def users_create(email: str, password: str, roles: tuple[str, ...]) -> None:
    """Create a user with one or more roles."""
    from runtime.auth.service import create_user
    from runtime.errors import BusinessError

    database = current_app.extensions["vectis.db"]
    database.probe()
    try:
        user = database.run(lambda s: create_user(s, email, password, list(roles)))
    except BusinessError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"created user {user.email} ({', '.join(roles)})")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up the demo store and exit.")
@with_appcontext
def demo(host: str, port: int, no_serve: bool) -> None:
    """Migrate, load the demo store from examples/, and serve it on 127.0.0.1."""
    from runtime.demo import load_demo
    from runtime.server import serve as run_server
    from runtime.setup import upgrade

    app = current_app._get_current_object()
    for line in upgrade(app):
        click.echo(line)
    for line in load_demo(app):
        click.echo(line)
    if not no_serve:
        probe_services()
        run_server(app, host, port)


def _register_subcommands() -> None:
    from runtime.definitions.cli import definitions
    from runtime.jobs.cli import cron_command, worker_command

    cli.add_command(definitions)
    cli.add_command(worker_command)
    cli.add_command(cron_command)


_register_subcommands()


def main() -> None:
    try:
        cli.main(prog_name="vectis")
    except ConfigError as exc:
        click.echo(f"vectis: error: {exc}", err=True)
        sys.exit(2)
