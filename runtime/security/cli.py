"""``vectis secrets``: make a master key, re-seal stored secrets under a new one."""
from __future__ import annotations

import click


@click.group()
def secrets() -> None:
    """Secrets at rest: master keys and their rotation."""


@secrets.command("generate-key")
def generate_key() -> None:
    """Print a new master key (for VECTIS_SECRETS_MASTER_KEY)."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@secrets.command("rotate")
@click.option("--batch-size", default=100, show_default=True, type=int, help="rows re-sealed per transaction")
@click.option("--pause", default=0.0, show_default=True, type=float,
              help="seconds to wait between batches, to spare a busy database")
def rotate_command(batch_size: int, pause: float) -> None:
    """Re-seal every stored secret under VECTIS_SECRETS_MASTER_KEY (resumable)."""
    from runtime.cli import open_cli_database, quiet_logging
    from runtime.config import load_settings
    from runtime.security.sealed import rotate
    from runtime.security.secrets import box_from_settings

    quiet_logging()
    box = box_from_settings(load_settings())
    report = rotate(open_cli_database(), box, batch_size=batch_size, pause=pause,
                    progress=lambda r: click.echo(f"batch {r.batches}: {r.resealed} re-sealed so far"))
    click.echo(f"re-sealed {report.resealed} secret(s) in {report.batches} batch(es);"
               f" {report.current} already under the current key")
