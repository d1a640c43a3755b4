"""``vectis webhooks``: the secrets gateway packs sign their incoming webhooks with."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from runtime.errors import ConfigError


@click.group()
def webhooks() -> None:
    """Incoming webhook secrets of gateway packs."""


@contextmanager
def _pack_app(pack: str) -> Iterator:
    """The app without its web layer, after checking ``pack`` receives webhooks."""
    from runtime.cli import app_context
    from runtime.webhooks.incoming import SLOT

    with app_context(web=False) as app:
        packs = sorted({entry.pack for entry in app.extensions["vectis.registry"].entries(SLOT)})
        if pack not in packs:
            raise ConfigError(f"PACK: {pack!r} does not receive webhooks; packs that do: {', '.join(packs) or 'none'}")
        app.extensions["vectis.db"].probe()
        yield app


@webhooks.command("add-secret")
@click.argument("pack")
@click.option("--overlap", default=24 * 3600, show_default=True, type=int,
              help="seconds the pack's current secrets stay accepted (0: retire them now)")
@click.option("--stdin", "from_stdin", is_flag=True, help="read the gateway's whsec_ secret from standard input "
              "instead of generating one")
def add_secret_command(pack: str, overlap: int, from_stdin: bool) -> None:
    """Add (rotate to) a webhook signing secret for PACK; print a generated one once."""
    from runtime.webhooks.incoming_secrets import add_secret

    given = sys.stdin.readline().strip() if from_stdin else None
    with _pack_app(pack) as app:
        row, secret = app.extensions["vectis.db"].run(lambda session: add_secret(
            session, app.extensions["vectis.secrets"], pack, secret=given, overlap_seconds=overlap, by="cli"))
    if given is None:
        click.echo(secret)  # shown once: give it to the gateway
    click.echo(f"secret {row.id} added for {pack}; earlier secrets accepted for {overlap} more second(s)", err=True)


@webhooks.command("secrets")
@click.argument("pack")
def list_command(pack: str) -> None:
    """List PACK's webhook secrets (ids and dates, never the values)."""
    from runtime.clock import utcnow
    from runtime.webhooks.incoming_secrets import list_secrets

    with _pack_app(pack) as app, app.extensions["vectis.db"].session() as session:
        rows = list_secrets(session, pack)
    now = utcnow()
    for row in rows:
        state = ("active" if row.expires_at is None else
                 f"active until {row.expires_at.isoformat()}" if row.expires_at > now else f"retired {row.expires_at.isoformat()}")
        click.echo(f"{row.id}\tadded {row.created_at.isoformat()}\t{state}")


@webhooks.command("retire-secret")
@click.argument("pack")
@click.argument("secret_id", type=int)
def retire_command(pack: str, secret_id: int) -> None:
    """Stop accepting one of PACK's webhook secrets now."""
    from runtime.webhooks.incoming_secrets import retire_secret

    with _pack_app(pack) as app:
        app.extensions["vectis.db"].run(lambda session: retire_secret(session, pack, secret_id))
    click.echo(f"secret {secret_id} of {pack} retired")
