"""Promotion actions: what a promotion takes off, parsed from YAML and computed over cart lines.

An action is parsed once (:func:`parse_action`, author errors at the action's keys) into an
:class:`Action`, then asked for a discount per line (:func:`line_amounts`) or per unit
(:func:`unit_amount`, the catalog phase). Amounts are exact ``Decimal`` in the cart's currency;
rounding and splitting go through the :class:`MoneyOps` the runtime passes in (its ``Money``),
so a discount here is to the cent what the order stores.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from rules.predicates import Predicate

HUNDRED = Decimal(100)

#: Which actions each phase accepts.
PHASE_ACTIONS: dict[str, tuple[str, ...]] = {
    "catalog": ("percentage_off", "amount_off", "fixed_price"),
    "line": ("percentage_off", "amount_off", "fixed_price", "buy_x_get_y", "tiered"),
    "order": ("percentage_off", "amount_off", "tiered"),
    "shipping": ("free_shipping", "shipping_discount"),
}
#: The keys each action reads (besides ``type``); any other key is an author error.
ACTION_KEYS: dict[str, tuple[str, ...]] = {
    "percentage_off": ("percent",),
    "amount_off": ("amount", "per"),
    "fixed_price": ("price",),
    "buy_x_get_y": ("buy", "get", "choose", "max_applications"),
    "tiered": ("by", "tiers"),
    "free_shipping": (),
    "shipping_discount": ("percent", "amount"),
}


class MoneyOps(Protocol):
    """Money arithmetic the runtime provides (``runtime.money.Money`` underneath)."""

    def round(self, amount: Decimal, currency: str) -> Decimal: ...

    def allocate(self, amount: Decimal, currency: str, ratios: Sequence[int]) -> list[Decimal]: ...

    def minor(self, amount: Decimal, currency: str) -> int: ...


@dataclass(frozen=True)
class Tier:
    minimum: Decimal
    percent: Decimal | None = None
    amount: Mapping[str, Decimal] | None = None


@dataclass(frozen=True)
class Action:
    type: str
    percent: Decimal | None = None
    amount: Mapping[str, Decimal] | None = None
    per: str = "once"
    price: Mapping[str, Decimal] | None = None
    buy_quantity: int = 0
    get_quantity: int = 0
    get_skus: tuple[str, ...] | None = None
    get_predicate: Predicate | None = None
    get_percent: Decimal = HUNDRED
    choose: str = "cheapest"
    max_applications: int | None = None
    by: str = "quantity"
    tiers: tuple[Tier, ...] = ()

    @cached_property
    def currencies(self) -> frozenset[str] | None:
        """The currencies every amount and price of the action is given in (``None``: it has none)."""
        maps = [m for m in (self.amount, self.price) if m is not None]
        maps += [t.amount for t in self.tiers if t.amount is not None]
        return frozenset.intersection(*(frozenset(m) for m in maps)) if maps else None

    def currency_missing(self, currency: str) -> bool:
        """Whether the action has an amount or price but none in ``currency``."""
        return self.currencies is not None and currency not in self.currencies


Report = Callable[..., None]


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _percent(value: Any, pointer: str, report: Report) -> Decimal | None:
    number = _decimal(value)
    if number is None or not 0 <= number <= 100:
        report(pointer, f"a percentage must be a number from 0 to 100, got {value!r}")
        return None
    return number


def _amounts(value: Mapping[str, Any], pointer: str, report: Report) -> dict[str, Decimal]:
    found = {}
    for currency, raw in value.items():
        number = _decimal(raw)
        if number is None or number < 0:
            report(f"{pointer}/{currency}", f"an amount must be a number of at least 0, got {raw!r}")
            continue
        found[currency] = number
    return found


def parse_action(data: dict[str, Any], phase: str, pointer: str, report: Report,
                 compile_get: Callable[[Any, str], Predicate | None]) -> Action | None:
    """The action at ``pointer`` for a promotion of ``phase``; problems go to ``report``."""
    kind = data["type"]
    if kind not in PHASE_ACTIONS[phase]:
        report(f"{pointer}/type", f"action {kind!r} does not act in the {phase} phase "
                                  f"(it accepts: {', '.join(PHASE_ACTIONS[phase])})")
        return None
    for key in data:
        if key != "type" and key not in ACTION_KEYS[kind]:
            allowed = ", ".join(ACTION_KEYS[kind]) or "no other key"
            report(f"{pointer}/{key}", f"{kind} does not read {key!r} (it reads: {allowed})", key=True)
    missing = {"percentage_off": ["percent"], "amount_off": ["amount"], "fixed_price": ["price"],
               "buy_x_get_y": ["buy", "get"], "tiered": ["tiers"]}.get(kind, [])
    for key in missing:
        if key not in data:
            report(pointer, f"{kind} needs {key!r}", key=True)
    if kind == "shipping_discount" and ("percent" in data) == ("amount" in data):
        report(pointer, "shipping_discount needs exactly one of 'percent' and 'amount'", key=True)
    values: dict[str, Any] = {"type": kind}
    if "percent" in data:
        values["percent"] = _percent(data["percent"], f"{pointer}/percent", report)
    if "amount" in data:
        values["amount"] = _amounts(data["amount"], f"{pointer}/amount", report)
    if "price" in data:
        values["price"] = _amounts(data["price"], f"{pointer}/price", report)
    per = data.get("per", "unit" if phase == "catalog" else "once")
    if kind == "amount_off":
        allowed = {"catalog": ("unit",), "order": ("once",)}.get(phase, ("unit", "line", "once"))
        if per not in allowed:
            report(f"{pointer}/per", f"in the {phase} phase an amount is taken off per {' or '.join(allowed)}, "
                                     f"not per {per}")
        values["per"] = per
    if kind == "buy_x_get_y":
        values.update(_buy_get(data, pointer, report, compile_get))
    if kind == "tiered":
        values.update(_tiers(data, pointer, report))
    return Action(**values)


def _buy_get(data: dict, pointer: str, report: Report, compile_get) -> dict[str, Any]:
    get = data.get("get", {})
    values: dict[str, Any] = {"buy_quantity": data.get("buy", {}).get("quantity", 1),
                              "get_quantity": get.get("quantity", 1),
                              "choose": data.get("choose", "cheapest"),
                              "max_applications": data.get("max_applications")}
    if "skus" not in get and "when" not in get:
        report(f"{pointer}/get", "get must name the variants given: 'skus' (SKUs) or 'when' (a predicate over "
                                 "the cart line)", key=True)
    if values["choose"] == "chosen" and "skus" not in get:
        report(f"{pointer}/choose", "choose: chosen gives the variants listed in get.skus, in their order; "
                                    "list them")
    if "skus" in get:
        values["get_skus"] = tuple(get["skus"])
    if "when" in get:
        values["get_predicate"] = compile_get(get["when"], f"{pointer}/get/when")
    if "percent" in get:
        values["get_percent"] = _percent(get["percent"], f"{pointer}/get/percent", report)
    return values


def _tiers(data: dict, pointer: str, report: Report) -> dict[str, Any]:
    by = data.get("by", "quantity")
    tiers, previous = [], None
    for index, raw in enumerate(data.get("tiers", [])):
        where = f"{pointer}/tiers/{index}"
        minimum = _decimal(raw["min"])
        if minimum is None or minimum < 0:
            report(f"{where}/min", f"a tier's min must be a number of at least 0, got {raw['min']!r}")
            continue
        if previous is not None and minimum <= previous:
            report(f"{where}/min", f"tiers must rise: min {raw['min']} is not above the previous tier's {previous}")
        previous = minimum
        if ("percent" in raw) == ("amount" in raw):
            report(where, "a tier needs exactly one of 'percent' and 'amount'", key=True)
            continue
        percent = _percent(raw["percent"], f"{where}/percent", report) if "percent" in raw else None
        amount = _amounts(raw["amount"], f"{where}/amount", report) if "amount" in raw else None
        tiers.append(Tier(minimum, percent, amount))
    return {"by": by, "tiers": tuple(tiers)}


@dataclass
class LineState:
    """One cart line as a phase sees it: ``remaining`` is its total after the discounts so far."""

    id: str
    sku: str
    quantity: int
    unit_price: Decimal
    remaining: Decimal
    #: The unit price after catalog-phase discounts (what later phases call the unit price).
    unit_now: Decimal


def unit_amount(action: Action, unit: Decimal, currency: str, money: MoneyOps) -> Decimal:
    """The catalog phase: the discount on one unit priced ``unit`` (never below 0 or above it),
    rounded to the currency."""
    if action.type == "percentage_off":
        found = unit * action.percent / HUNDRED
    elif action.type == "amount_off":
        found = action.amount[currency]
    else:  # fixed_price
        found = unit - action.price[currency]
    return money.round(min(max(found, Decimal(0)), unit), currency)


def line_amounts(action: Action, lines: Sequence[LineState], selected: Sequence[int], get: Sequence[int],
                 currency: str, money: MoneyOps) -> dict[int, Decimal]:
    """The discount per line index of the line and order phases, each within its line's remaining."""
    if not selected and action.type != "buy_x_get_y":
        return {}
    if action.type == "percentage_off":
        found = _percent_of(action.percent, lines, selected, currency, money)
    elif action.type == "amount_off":
        found = _amount_off(action, lines, selected, currency, money)
    elif action.type == "fixed_price":
        price = action.price[currency]
        found = {i: lines[i].remaining - price * lines[i].quantity for i in selected}
    elif action.type == "buy_x_get_y":
        found = _buy_get_amounts(action, lines, selected, get, currency, money)
    else:
        found = _tiered(action, lines, selected, currency, money)
    found = {i: money.round(min(amount, lines[i].remaining), currency) for i, amount in found.items()}
    return {i: amount for i, amount in found.items() if amount > 0}


def _percent_of(percent: Decimal, lines, selected, currency, money) -> dict[int, Decimal]:
    return {i: money.round(lines[i].remaining * percent / HUNDRED, currency) for i in selected}


def spread(total: Decimal, lines: Sequence[LineState], selected: Sequence[int], currency: str,
           money: MoneyOps) -> dict[int, Decimal]:
    """``total`` (at most the lines' remaining) over the lines in proportion to their remaining."""
    ratios = [money.minor(lines[i].remaining, currency) for i in selected]
    if sum(ratios) <= 0:
        return {}
    total = min(total, sum((lines[i].remaining for i in selected), Decimal(0)))
    return dict(zip(selected, money.allocate(total, currency, ratios)))


def _amount_off(action, lines, selected, currency, money) -> dict[int, Decimal]:
    amount = action.amount[currency]
    if action.per == "unit":
        return {i: amount * lines[i].quantity for i in selected}
    if action.per == "line":
        return {i: amount for i in selected}
    return spread(amount, lines, selected, currency, money)


def _tiered(action, lines, selected, currency, money) -> dict[int, Decimal]:
    if action.by == "quantity":
        measure = Decimal(sum(lines[i].quantity for i in selected))
    else:
        measure = sum((lines[i].remaining for i in selected), Decimal(0))
    reached = [tier for tier in action.tiers if tier.minimum <= measure]
    if not reached:
        return {}
    tier = reached[-1]
    if tier.percent is not None:
        total = money.round(sum((lines[i].remaining for i in selected), Decimal(0)) * tier.percent / HUNDRED, currency)
        return spread(total, lines, selected, currency, money)
    return spread(tier.amount[currency], lines, selected, currency, money)


def reached_tier(action: Action, lines: Sequence[LineState], selected: Sequence[int]) -> Tier | None:
    """The tier the selected lines reach (for explain), or ``None``."""
    if action.by == "quantity":
        measure = Decimal(sum(lines[i].quantity for i in selected))
    else:
        measure = sum((lines[i].remaining for i in selected), Decimal(0))
    reached = [tier for tier in action.tiers if tier.minimum <= measure]
    return reached[-1] if reached else None


def _buy_get_amounts(action, lines, selected, get, currency, money) -> dict[int, Decimal]:
    """Units are taken greedily: per application the ``get`` units first (cheapest, or in the
    order of ``get.skus`` for ``chosen``), then the dearest ``buy`` units among the rest."""
    def units(indexes):
        return [(i, lines[i].unit_now) for i in indexes for _ in range(lines[i].quantity)]

    if action.choose == "chosen" and action.get_skus:
        rank = {sku: n for n, sku in enumerate(action.get_skus)}
        get_units = sorted(units(get), key=lambda u: (rank.get(lines[u[0]].sku, len(rank)), u[1], u[0]))
    else:
        get_units = sorted(units(get), key=lambda u: (u[1], u[0]))
    buy_pool = sorted(units(selected), key=lambda u: (-u[1], u[0]))
    used: dict[int, int] = {}  # line index → units taken so far
    free: dict[int, int] = {}
    applications = 0
    while action.max_applications is None or applications < action.max_applications:
        taken = dict(used)
        chosen = _take(get_units, taken, action.get_quantity, lines)
        bought = _take(buy_pool, taken, action.buy_quantity, lines) if chosen is not None else None
        if chosen is None or bought is None:
            break
        used = taken
        for index in chosen:
            free[index] = free.get(index, 0) + 1
        applications += 1
    return {i: money.round(lines[i].unit_now * count * action.get_percent / HUNDRED, currency)
            for i, count in free.items()}


def _take(pool, taken: dict[int, int], count: int, lines) -> list[int] | None:
    picked = []
    for index, _price in pool:
        if len(picked) == count:
            break
        if taken.get(index, 0) < lines[index].quantity:
            taken[index] = taken.get(index, 0) + 1
            picked.append(index)
    return picked if len(picked) == count else None
