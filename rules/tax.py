"""The tax calculation: stage-sorted rates over lines, exact to the currency's minor unit (pure).

Each rate belongs to a jurisdiction, a tax class and a **stage**. Rates are applied by ascending
stage (then jurisdiction level, code, rate id), so the result never depends on input order:

* a plain rate taxes the line's own amount (what the buyer pays for it, after discounts);
* a **compound** rate taxes the line's amount plus every tax of the earlier stages;
* an **excise** rate is an amount per unit of quantity, volume or weight, and taxes of later
  compound stages include it (US fuel or alcohol: excise first, sales tax on top).

Tax-exclusive prices add the taxes; tax-inclusive prices contain them: the net is solved from
``gross = net + tax(net)`` (tax is affine in the net) and the taxes are extracted, the buyer's
amount unchanged. Rounding is per line (each tax line rounded half-up) or per total (each rate's
exact sum over the lines rounded once, then split back over the lines with the caller's
``allocate``), so Σ line taxes equals the tax total in both.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from rules.tax_jurisdictions import LEVELS, Jurisdiction

#: Classes every table knows; excise categories are classes too (``excise:<category>``).
TAX_CLASSES = ("standard", "reduced", "super_reduced", "zero", "exempt")
EXCISE_UNITS = ("quantity", "volume", "weight")
#: A split of a total over integer weights that adds up exactly (the runtime's ``Money.allocate``).
Allocate = Callable[[Decimal, Sequence[int]], list[Decimal]]


@dataclass(frozen=True, slots=True)
class Rate:
    id: str
    jurisdiction: str
    tax_class: str
    #: A fraction (``0.065`` for 6.5 %); for excise, the amount per unit.
    rate: Decimal
    stage: int = 1
    compound: bool = False
    #: ``None`` for a percentage, else the unit the excise amount is charged per.
    excise_unit: str | None = None
    #: ``vat`` rates are lifted by an EU reverse charge; ``sales`` rates are not.
    kind: str = "sales"
    valid_from: date | None = None
    valid_to: date | None = None
    name: str = ""

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True, slots=True)
class TaxableLine:
    id: str
    #: What the buyer pays for the line after discounts (gross if prices include tax).
    amount: Decimal
    quantity: int = 1
    tax_class: str = "standard"
    #: ``alcohol`` makes rates of class ``excise:alcohol`` apply on top of the line's class.
    excise_category: str | None = None
    volume: Decimal = Decimal(0)
    weight: Decimal = Decimal(0)
    #: Which definition set the class (``tax_rule name@revision``), carried into the result.
    rule: str | None = None
    #: The shipping charge is a line too, taxed only where the jurisdiction taxes shipping.
    is_shipping: bool = False


@dataclass(frozen=True, slots=True)
class LineTax:
    line_id: str
    jurisdiction: str
    level: str
    rate_id: str
    rate: Decimal
    stage: int
    tax_class: str
    base: Decimal
    amount: Decimal
    compound: bool = False
    excise_unit: str | None = None
    rule: str | None = None


@dataclass
class TaxResult:
    lines: list[LineTax] = field(default_factory=list)
    total: Decimal = Decimal(0)
    #: line id → its net amount (the amount without tax; equal to the amount when exclusive).
    net: dict[str, Decimal] = field(default_factory=dict)
    reverse_charge: bool = False

    def line_tax(self, line_id: str) -> Decimal:
        return sum((t.amount for t in self.lines if t.line_id == line_id), Decimal(0))


def applicable(line: TaxableLine, jurisdictions: Sequence[Jurisdiction], rates: Iterable[Rate], day: date,
               reverse_charge: bool = False) -> list[tuple[Jurisdiction, Rate]]:
    """The rates that tax ``line`` on ``day``, in their deterministic order."""
    if line.tax_class == "exempt" and not line.excise_category:
        return []
    by_code = {j.code: j for j in jurisdictions}
    classes = {line.tax_class} if line.tax_class != "exempt" else set()
    if line.excise_category:
        classes.add(f"excise:{line.excise_category}")
    found = [(by_code[r.jurisdiction], r) for r in rates
             if r.jurisdiction in by_code and r.tax_class in classes and r.valid_on(day)
             and not (reverse_charge and r.kind == "vat")
             and not (line.is_shipping and not by_code[r.jurisdiction].shipping_taxable)]
    return sorted(found, key=lambda jr: (jr[1].stage, LEVELS.index(jr[0].level), jr[0].code, jr[1].id))


def _units(line: TaxableLine, unit: str) -> Decimal:
    if unit == "volume":
        return line.volume
    return line.weight if unit == "weight" else Decimal(line.quantity)


def _affine(line: TaxableLine, chosen: list[tuple[Jurisdiction, Rate]]) -> list[tuple[Decimal, Decimal]]:
    """Each rate's tax as ``a × net + b`` (exact), stage by stage."""
    terms: list[tuple[Decimal, Decimal]] = []
    earlier = (Decimal(0), Decimal(0))  # Σ taxes of finished stages, as (a, b)
    current_stage, stage_sum = None, (Decimal(0), Decimal(0))
    for _jurisdiction, rate in chosen:
        if rate.stage != current_stage:
            earlier = (earlier[0] + stage_sum[0], earlier[1] + stage_sum[1])
            current_stage, stage_sum = rate.stage, (Decimal(0), Decimal(0))
        if rate.excise_unit:
            term = (Decimal(0), rate.rate * _units(line, rate.excise_unit))
        elif rate.compound:
            term = (rate.rate * (1 + earlier[0]), rate.rate * earlier[1])
        else:
            term = (rate.rate, Decimal(0))
        terms.append(term)
        stage_sum = (stage_sum[0] + term[0], stage_sum[1] + term[1])
    return terms


def calculate(lines: Sequence[TaxableLine], jurisdictions: Sequence[Jurisdiction], rates: Sequence[Rate], *,
              day: date, places: int, allocate: Allocate, inclusive: bool = False, per_total: bool = False,
              reverse_charge: bool = False) -> TaxResult:
    """Tax every line; see the module's docstring for the rules."""
    quantum = Decimal(1).scaleb(-places)
    result = TaxResult(reverse_charge=reverse_charge)
    exact: list[tuple[TaxableLine, Jurisdiction, Rate, Decimal, Decimal]] = []  # line, j, rate, base, tax
    chosen_by_kind: dict[tuple, list[tuple[Jurisdiction, Rate]]] = {}  # lines of one class share their rates
    for line in lines:
        kind = (line.tax_class, line.excise_category, line.is_shipping)
        chosen = chosen_by_kind.get(kind)
        if chosen is None:
            chosen = chosen_by_kind[kind] = applicable(line, jurisdictions, rates, day, reverse_charge)
        terms = _affine(line, chosen)
        a = sum((t[0] for t in terms), Decimal(0))
        b = sum((t[1] for t in terms), Decimal(0))
        net = (line.amount - b) / (1 + a) if inclusive else line.amount
        result.net[line.id] = net
        earlier, stage, stage_sum = Decimal(0), None, Decimal(0)
        for (jurisdiction, rate), (ta, tb) in zip(chosen, terms):
            if rate.stage != stage:
                earlier, stage, stage_sum = earlier + stage_sum, rate.stage, Decimal(0)
            tax = ta * net + tb
            base = _units(line, rate.excise_unit) if rate.excise_unit else net + earlier if rate.compound else net
            exact.append((line, jurisdiction, rate, base, tax))
            stage_sum += tax
    rounded = _round_per_total(exact, quantum, allocate) if per_total else \
        [tax.quantize(quantum, rounding=ROUND_HALF_UP) for *_rest, tax in exact]
    for (line, jurisdiction, rate, base, _tax), amount in zip(exact, rounded):
        shown_base = base if rate.excise_unit else base.quantize(quantum, rounding=ROUND_HALF_UP)
        result.lines.append(LineTax(line.id, jurisdiction.code, jurisdiction.level, rate.id, rate.rate, rate.stage,
                                    rate.tax_class, shown_base, amount, rate.compound, rate.excise_unit, line.rule))
    result.total = sum((t.amount for t in result.lines), Decimal(0))
    if inclusive:  # the buyer pays the gross: the net is what is left once the rounded taxes are out
        result.net = {line.id: line.amount - result.line_tax(line.id) for line in lines}
    return result


def _round_per_total(exact, quantum: Decimal, allocate: Allocate) -> list[Decimal]:
    """Round each rate's exact sum once and split it over its lines by their exact taxes."""
    groups: dict[tuple[str, str], list[int]] = {}
    for index, (_line, jurisdiction, rate, _base, _tax) in enumerate(exact):
        groups.setdefault((jurisdiction.code, rate.id), []).append(index)
    out = [Decimal(0)] * len(exact)
    places = abs(quantum.as_tuple().exponent) + 6
    for indexes in groups.values():
        taxes = [exact[i][4] for i in indexes]
        total = sum(taxes, Decimal(0)).quantize(quantum, rounding=ROUND_HALF_UP)
        weights = [int(abs(t).scaleb(places)) for t in taxes]  # proportional to the exact taxes
        if total == 0 or not any(weights):
            parts = [Decimal(0)] * len(indexes)
        else:
            parts = allocate(total, weights)
        for i, part in zip(indexes, parts):
            out[i] = part
    return out
