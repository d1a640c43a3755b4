"""``vectis tax import FILE.csv``: rate tables from a CSV, validated row by row, all or nothing.

One row is one rate of one jurisdiction; a jurisdiction's own columns repeat on each of its rows
and must agree. Columns (a header row names them, in any order):

``jurisdiction, level, name, country, region, postal, city, shipping_taxable, tax_class, rate,
stage, compound, excise_unit, kind, valid_from, valid_to``

``rate`` is a percentage (``6.5``) or, with ``excise_unit`` (quantity, volume, weight), an amount
per unit. The file is the whole truth for the jurisdictions it names: their rates become exactly
the file's rows, so importing a file twice changes nothing the second time. Every problem of the
file is reported (``FILE:LINE: column: message``) and then nothing is written.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, select

from rules.tax import EXCISE_UNITS, TAX_CLASSES
from rules.tax_jurisdictions import LEVELS, Jurisdiction, parse_postal
from runtime.clock import utcnow
from runtime.money import AmountError, parse_decimal
from runtime.tax.models import TaxJurisdiction, TaxRate

COLUMNS = ("jurisdiction", "level", "name", "country", "region", "postal", "city", "shipping_taxable",
           "tax_class", "rate", "stage", "compound", "excise_unit", "kind", "valid_from", "valid_to")
REQUIRED = ("jurisdiction", "level", "name", "country", "tax_class", "rate")
JURISDICTION_FIELDS = ("level", "name", "country", "region", "postal", "city", "shipping_taxable")
KINDS = ("sales", "vat")
_BOOLEANS = {"": False, "false": False, "no": False, "0": False, "true": True, "yes": True, "1": True}


class TaxImportError(ValueError):
    """Every problem of one file, one ``FILE:LINE: column: message`` each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportReport:
    jurisdictions_created: int = 0
    jurisdictions_updated: int = 0
    rates_created: int = 0
    rates_removed: int = 0
    rates_unchanged: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.jurisdictions_created or self.jurisdictions_updated or self.rates_created or self.rates_removed)


def _rate_key(row: dict) -> tuple:
    return (row["jurisdiction"], row["tax_class"], row["stage"], row["valid_from"], row["valid_to"], row["rate"],
            row["compound"], row["excise_unit"], row["kind"])


def parse(path: Path) -> tuple[dict[str, dict], list[dict]]:
    """Jurisdictions (by code) and rate rows of ``path``, or :class:`TaxImportError`."""
    problems: list[str] = []
    jurisdictions: dict[str, dict] = {}
    rates: list[dict] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        unknown = [name for name in header if name not in COLUMNS]
        missing = [name for name in REQUIRED if name not in header]
        if unknown or missing:
            raise TaxImportError([f"{path}:1: header: " + "; ".join(
                ([f"unknown column(s) {', '.join(unknown)}"] if unknown else [])
                + ([f"missing column(s) {', '.join(missing)}"] if missing else []))])
        for row in reader:
            line = reader.line_num
            values = {key.strip(): (value or "").strip() for key, value in row.items() if key}
            parsed, errors = _row(values)
            problems += [f"{path}:{line}: {error}" for error in errors]
            if errors:
                continue
            parsed["line"] = line
            code = parsed["jurisdiction"]
            own = {name: parsed[name] for name in JURISDICTION_FIELDS}
            if code in jurisdictions and jurisdictions[code]["fields"] != own:
                first = jurisdictions[code]["line"]
                differ = [n for n in JURISDICTION_FIELDS if jurisdictions[code]["fields"][n] != own[n]]
                problems.append(f"{path}:{line}: {differ[0]}: jurisdiction {code!r} differs from line {first}")
                continue
            jurisdictions.setdefault(code, {"fields": own, "line": line})
            rates.append(parsed)
    problems += _overlaps(path, rates)
    problems += _parents(path, jurisdictions)
    if problems:
        raise TaxImportError(problems)
    return jurisdictions, rates


def _row(values: dict[str, str]) -> tuple[dict, list[str]]:
    errors: list[str] = []
    out: dict = {name: values.get(name, "") for name in COLUMNS}
    for name in REQUIRED:
        if not out[name]:
            errors.append(f"{name}: required")
    if errors:
        return out, errors
    out["country"], out["region"] = out["country"].upper(), out["region"].upper() or None
    out["city"] = out["city"] or None
    try:
        Jurisdiction(out["jurisdiction"], out["level"], out["name"], out["country"], out["region"],
                     parse_postal(out["postal"]), out["city"])
    except ValueError as exc:
        errors.append(str(exc))
    for name in ("shipping_taxable", "compound"):
        if out[name].lower() not in _BOOLEANS:
            errors.append(f"{name}: expected true or false, got {out[name]!r}")
        else:
            out[name] = _BOOLEANS[out[name].lower()]
    out["excise_unit"] = out["excise_unit"] or None
    if out["excise_unit"] and out["excise_unit"] not in EXCISE_UNITS:
        errors.append(f"excise_unit: expected one of {', '.join(EXCISE_UNITS)}, got {out['excise_unit']!r}")
    klass = out["tax_class"]
    if out["excise_unit"] and not klass.startswith("excise:"):
        errors.append(f"tax_class: an excise rate's class is excise:<category>, got {klass!r}")
    elif not out["excise_unit"] and klass not in TAX_CLASSES:
        errors.append(f"tax_class: expected one of {', '.join(TAX_CLASSES)}, got {klass!r}")
    try:
        rate = parse_decimal(out["rate"], "rate", places=8)
        if rate < 0:
            errors.append(f"rate: {out['rate']} is negative")
        elif not out["excise_unit"] and rate > 100:
            errors.append(f"rate: {out['rate']} % is above 100 %")
        out["rate"] = rate if out["excise_unit"] else (rate / 100).normalize()
    except AmountError as exc:
        errors.append(str(exc))
    try:
        out["stage"] = int(out["stage"] or "1")
        if not 0 <= out["stage"] <= 99:
            raise ValueError
    except ValueError:
        errors.append(f"stage: expected a whole number from 0 to 99, got {values.get('stage')!r}")
    out["kind"] = out["kind"] or "sales"
    if out["kind"] not in KINDS:
        errors.append(f"kind: expected one of {', '.join(KINDS)}, got {out['kind']!r}")
    for name in ("valid_from", "valid_to"):
        try:
            out[name] = date.fromisoformat(out[name]) if out[name] else None
        except ValueError:
            errors.append(f"{name}: expected a date YYYY-MM-DD, got {out[name]!r}")
    if not errors and out["valid_from"] and out["valid_to"] and out["valid_to"] < out["valid_from"]:
        errors.append(f"valid_to: {out['valid_to']} is before valid_from {out['valid_from']}")
    return out, errors


def _overlaps(path: Path, rates: list[dict]) -> list[str]:
    problems = []
    by_key: dict[tuple, list[dict]] = {}
    for rate in rates:
        by_key.setdefault((rate["jurisdiction"], rate["tax_class"], rate["stage"]), []).append(rate)
    for (code, klass, stage), group in by_key.items():
        group.sort(key=lambda r: r["valid_from"] or date.min)
        for before, after in zip(group, group[1:]):
            if before["valid_to"] is None or (after["valid_from"] or date.min) <= before["valid_to"]:
                problems.append(f"{path}:{after['line']}: valid_from: {code} {klass} stage {stage} overlaps the "
                                f"validity of line {before['line']}")
    return problems


def _parents(path: Path, jurisdictions: dict[str, dict]) -> list[str]:
    """Two cities may share a name in two regions, but a code is one place: the level must fit."""
    problems = []
    for code, entry in jurisdictions.items():
        fields = entry["fields"]
        if fields["level"] in LEVELS[2:] and not fields["postal"] and not fields["city"]:
            problems.append(f"{path}:{entry['line']}: postal: a {fields['level']} needs postal codes or a city name")
    return problems


def import_rates(session: Session, path: Path) -> ImportReport:
    """Validate ``path`` and write it in the caller's transaction; raises before writing anything."""
    jurisdictions, rates = parse(path)
    report = ImportReport()
    existing = {j.code: j for j in session.exec(select(TaxJurisdiction).where(
        TaxJurisdiction.code.in_(list(jurisdictions))))}
    now = utcnow()
    for code, entry in jurisdictions.items():
        fields = dict(entry["fields"], postal=" ".join(entry["fields"]["postal"].split()))
        row = existing.get(code)
        if row is None:
            session.add(TaxJurisdiction(code=code, **fields, created_at=now, updated_at=now))
            report.jurisdictions_created += 1
        elif any(getattr(row, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = now
            session.add(row)
            report.jurisdictions_updated += 1
    session.flush()
    stored = session.exec(select(TaxRate).where(TaxRate.jurisdiction_code.in_(list(jurisdictions)))).all()
    wanted = {_rate_key(dict(r)): r for r in rates}
    have = {(r.jurisdiction_code, r.tax_class, r.stage, r.valid_from, r.valid_to, r.rate, r.compound,
             r.excise_unit, r.kind): r for r in stored}
    for key, row in have.items():
        if key not in wanted:
            session.delete(row)
            report.rates_removed += 1
    session.flush()
    for key, rate in wanted.items():
        if key in have:
            report.rates_unchanged += 1
            continue
        session.add(TaxRate(jurisdiction_code=rate["jurisdiction"], tax_class=rate["tax_class"], rate=rate["rate"],
                            stage=rate["stage"], compound=rate["compound"], excise_unit=rate["excise_unit"],
                            kind=rate["kind"], valid_from=rate["valid_from"], valid_to=rate["valid_to"],
                            name=rate["name"], created_at=now))
        report.rates_created += 1
    session.flush()
    report.lines.append(f"{path}: {len(jurisdictions)} jurisdictions ({report.jurisdictions_created} new, "
                        f"{report.jurisdictions_updated} changed), {len(rates)} rates ({report.rates_created} new, "
                        f"{report.rates_removed} removed, {report.rates_unchanged} unchanged)")
    return report
