"""Tax for a 50-line cart across 3 jurisdictions with 2 matching tax rules (target: <= 5 ms).

    .venv/bin/python -m tests.bench.bench_tax [--lines 50] [--runs 200]

Pure, no database: what stage 400 does after its two table statements — each line classified by
the tax rules (``rules.tax_rule.classify`` over the tax_line fact: the two rules match every
line, one sets the class, one an excise category) and the stage-sorted calculation
(``rules.tax.calculate``) over the destination's jurisdictions (state, county, city; plus a
per-unit excise stage and a compound stage), exclusive and per-line rounding, then per total.
Times are the fewest CPU milliseconds of this process over the runs (the machine is shared).
"""
from __future__ import annotations

import argparse
import time
from datetime import date, datetime, timezone
from decimal import Decimal

from rules.pipeline import check_source
from rules.tax import Rate, TaxableLine, calculate
from rules.tax_jurisdictions import Geography, Jurisdiction, parse_postal
from rules.tax_rule import classify, ordered
from runtime.money import Money

GEO = Geography([
    Jurisdiction("US-WA", "region", "Washington", "US", "US-WA", shipping_taxable=True),
    Jurisdiction("US-WA-KING", "county", "King County", "US", "US-WA", parse_postal("98001-98199")),
    Jurisdiction("US-WA-SEATTLE", "city", "Seattle", "US", "US-WA", parse_postal("98101-98199"), "Seattle"),
])
RATES = [Rate("wa", "US-WA", "reduced", Decimal("0.065")), Rate("king", "US-WA-KING", "reduced", Decimal("0.002")),
         Rate("sea", "US-WA-SEATTLE", "reduced", Decimal("0.0225")),
         Rate("duty", "US-WA", "excise:spirits", Decimal("3.7708"), stage=0, excise_unit="volume"),
         Rate("extra", "US-WA-SEATTLE", "reduced", Decimal("0.01"), stage=2, compound=True)]
RULES = [
    "kind: tax_rule\nname: tools_reduced\nwhen: {$and: [{ship_to.region: US-WA}, {line.categories: {$iany: {$i: tools}}}]}\n"
    "set: {tax_class: reduced}\n",
    "kind: tax_rule\nname: spirits_excise\nwhen: {line.tags: {$iany: {$i: spirits}}}\nset: {excise_category: spirits}\n",
]
ADDRESS = {"country": "US", "region": "WA", "postalCode": "98101", "city": "Seattle"}


def _allocate(total: Decimal, weights) -> list[Decimal]:
    return [part.amount for part in Money(total, "USD").allocate(list(weights))]


def once(rules, facts, per_total: bool) -> Decimal:
    moment = datetime(2026, 12, 2, tzinfo=timezone.utc)
    jurisdictions = GEO.resolve(ADDRESS)
    lines = []
    for index, fact in enumerate(facts):
        found = classify(rules, fact, moment)
        lines.append(TaxableLine(str(index), Decimal(fact["line"]["total"]).quantize(Decimal("0.01")),
                                 fact["line"]["quantity"], found.tax_class, found.excise_category, Decimal("0.7"),
                                 rule=found.rule))
    result = calculate(lines, jurisdictions, RATES, day=date(2026, 12, 2), places=2, allocate=_allocate,
                       per_total=per_total)
    return result.total


OPTIONS = ("--lines", "--runs")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="tax for a cart across jurisdictions and rules (issue 17)")
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args(argv)
    rules = ordered(check_source(source, f"{i}.yaml").definition.compiled for i, source in enumerate(RULES))
    facts = [{"line": {"sku": f"SKU-{i}", "quantity": 1 + i % 3, "unit_price": 10 + i, "total": (10 + i) * (1 + i % 3),
                       "categories": ["tools", "hand-tools"], "tags": ["spirits"]},
              "ship_to": {"country": "US", "region": "US-WA", "postal_code": "98101", "city": "Seattle"},
              "customer": {"is_b2b": False}} for i in range(args.lines)]
    for per_total in (False, True):
        best = float("inf")
        for _ in range(args.runs):
            start = time.process_time()
            total = once(rules, facts, per_total)
            best = min(best, time.process_time() - start)
        print(f"tax: {args.lines} lines x {len(GEO.resolve(ADDRESS))} jurisdictions x {len(rules)} rules, "
              f"rounding per {'total' if per_total else 'line'}: {best * 1000:.2f} ms CPU (best of {args.runs}); "
              f"tax {total} USD (target <= 5 ms)")


if __name__ == "__main__":
    main()
