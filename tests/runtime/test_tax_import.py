"""`vectis tax import`: row-by-row validation with line numbers, all or nothing, idempotent."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from sqlmodel import select

from runtime.channels.models import Channel
from runtime.cli import cli
from runtime.demo import load_demo
from runtime.setup import upgrade
from runtime.tax.models import ChannelTaxSettings, TaxJurisdiction, TaxRate

ROOT = Path(__file__).resolve().parents[2]
DEMO_CSV = ROOT / "examples" / "demo_store" / "tax_rates.csv"
HEADER = ("jurisdiction,level,name,country,region,postal,city,shipping_taxable,tax_class,rate,stage,compound,"
          "excise_unit,kind,valid_from,valid_to\n")


def _env(settings) -> dict[str, str]:
    return {"VECTIS_DATABASE_URL": settings.database_url, "VECTIS_REDIS_URL": settings.redis_url,
            "VECTIS_VAR_DIR": str(settings.var_dir), "VECTIS_SECRET_KEY": settings.secret_key}


def _import(settings, path):
    return CliRunner().invoke(cli, ["tax", "import", str(path)], env=_env(settings))


def _rows(database):
    with database.session() as session:
        jurisdictions = sorted(j.code for j in session.exec(select(TaxJurisdiction)))
        rates = sorted((r.jurisdiction_code, r.tax_class, r.rate) for r in session.exec(select(TaxRate)))
    return jurisdictions, rates


def test_the_demo_table_imports_and_a_second_import_changes_nothing(app, database, settings):
    first = _import(settings, DEMO_CSV)
    assert first.exit_code == 0, first.output
    assert first.output.strip() == (f"{DEMO_CSV}: 13 jurisdictions (13 new, 0 changed), 18 rates (18 new, "
                                    "0 removed, 0 unchanged)")
    before = _rows(database)
    assert ("US-WA-SEATTLE", "standard", Decimal("0.0225")) in before[1]
    assert ("US-WA", "excise:spirits", Decimal("3.7708")) in before[1]

    second = _import(settings, DEMO_CSV)

    assert second.exit_code == 0, second.output
    assert second.output.strip() == (f"{DEMO_CSV}: 13 jurisdictions (0 new, 0 changed), 18 rates (0 new, "
                                     "0 removed, 18 unchanged)")
    assert _rows(database) == before


def test_a_changed_rate_replaces_the_old_one(app, database, settings, tmp_path):
    table = tmp_path / "de.csv"
    table.write_text(HEADER + "DE,country,Germany,DE,,,,true,standard,19,1,false,,vat,2026-01-01,\n")
    assert _import(settings, table).exit_code == 0
    table.write_text(HEADER + "DE,country,Germany,DE,,,,true,standard,16,1,false,,vat,2026-01-01,\n")

    result = _import(settings, table)

    assert result.output.strip().endswith("1 rates (1 new, 1 removed, 0 unchanged)")
    assert _rows(database) == (["DE"], [("DE", "standard", Decimal("0.16"))])


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(app, database, settings, tmp_path):
    table = tmp_path / "bad.csv"
    table.write_text(HEADER
                     + "DE,country,Germany,DE,,,,true,standard,19,1,false,,vat,2026-01-01,\n"        # line 2: fine
                     + "FR,country,France,FR,,,,true,standard,-20,1,false,,vat,2026-01-01,\n"        # 3: negative
                     + "XX,country,Nowhere,XX,,,,true,standard,10,1,false,,vat,,\n"                  # 4: country
                     + "US-ZZ,region,Zed,US,US-ZZ,,,false,standard,5,1,false,,sales,,\n"            # 5: region
                     + "DE,country,Germany,DE,,,,true,standard,16,1,false,,vat,2026-06-01,\n"        # 6: overlaps 2
                     + "DE,country,Germany,DE,,,,true,luxury,30,1,false,,vat,,\n")                   # 7: class

    result = _import(settings, table)

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"{table}:3: rate: -20 is negative",
        f"{table}:4: country: 'XX' is not an ISO 3166-1 alpha-2 code",
        f"{table}:5: region: 'US-ZZ' is not a region of US",
        f"{table}:7: tax_class: expected one of standard, reduced, super_reduced, zero, exempt, got 'luxury'",
        f"{table}:6: valid_from: DE standard stage 1 overlaps the validity of line 2",
        f"Error: 5 problem(s) in {table}; nothing was imported",
    ]
    assert _rows(database) == ([], [])


def test_a_jurisdiction_whose_rows_disagree_is_refused(app, database, settings, tmp_path):
    table = tmp_path / "bad.csv"
    table.write_text(HEADER
                     + "US-WA,region,Washington,US,US-WA,,,true,standard,6.5,1,false,,sales,,\n"
                     + "US-WA,region,Washington,US,US-WA,,,false,reduced,1,1,false,,sales,,\n")

    result = _import(settings, table)

    assert result.output.splitlines()[0] == f"{table}:3: shipping_taxable: jurisdiction 'US-WA' differs from line 2"
    assert _rows(database) == ([], [])


def test_a_header_with_unknown_or_missing_columns_is_refused(app, database, settings, tmp_path):
    table = tmp_path / "bad.csv"
    table.write_text("jurisdiction,level,country,percent\nDE,country,DE,19\n")

    result = _import(settings, table)

    assert result.output.splitlines()[0] == (f"{table}:1: header: unknown column(s) percent; missing column(s) "
                                             "name, tax_class, rate")
    assert _rows(database) == ([], [])


def test_the_demo_loads_its_rate_table_and_channel_settings_and_a_reload_changes_nothing(app, database):
    list(upgrade(app))
    first = list(load_demo(app))
    before = _rows(database)
    second = list(load_demo(app))

    assert "demo tax: 13 jurisdictions (13 new, 0 changed), 18 rates (18 new, 0 removed, 0 unchanged)" in first
    assert "demo tax: 13 jurisdictions (0 new, 0 changed), 18 rates (0 new, 0 removed, 18 unchanged)" in second
    assert _rows(database) == before
    with database.session() as session:
        settings = {session.get(Channel, s.channel_id).slug: (s.prices_include_tax, s.seller_country)
                    for s in session.exec(select(ChannelTaxSettings))}
    assert settings == {"web": (True, "AT"), "b2b": (False, "AT")}
