"""The schema as SDL: ``GET /graphql/schema.graphql`` and ``vectis schema print``.

Both print the schema this process serves, packs' types included, so a client generator or a
review of a change reads exactly what ``/graphql`` answers."""
from __future__ import annotations

import click
from flask import Blueprint, Flask, Response, current_app
from graphql import print_schema

blueprint = Blueprint("graphql_sdl", __name__)


def schema_sdl(app: Flask) -> str:
    return print_schema(app.extensions["vectis.graphql_schema"]) + "\n"


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)


@blueprint.get("/graphql/schema.graphql")
def schema_file():
    return Response(schema_sdl(current_app), mimetype="text/plain", headers={"Cache-Control": "no-cache"})


@click.group()
def schema() -> None:
    """The GraphQL schema."""


@schema.command("print")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="write to this file instead of stdout")
def print_command(output: str | None) -> None:
    """Print the GraphQL schema (SDL), packs' types included."""
    from runtime.cli import app_context

    with app_context() as app:
        text = schema_sdl(app)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        click.echo(text, nl=False)
