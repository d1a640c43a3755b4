"""``vectis tax``: rate tables. Imports stay inside the command (CLI start-up time, issue 12)."""
from __future__ import annotations

from pathlib import Path

import click


@click.group("tax")
def tax() -> None:
    """Tax jurisdictions and rate tables."""


@tax.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def tax_import(file: Path) -> None:
    """Load a rate table CSV (validated row by row; all or nothing; importing twice changes nothing)."""
    from runtime.cli import open_cli_database
    from runtime.tax.importer import TaxImportError, import_rates

    database = open_cli_database()
    try:
        report = database.run(lambda session: import_rates(session, file))
    except TaxImportError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"{len(exc.problems)} problem(s) in {file}; nothing was imported") from None
    for line in report.lines:
        click.echo(line)
