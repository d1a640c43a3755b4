"""MMOQ limits: merging the caps that apply (strictest wins, each limit remembers who set it) and
checking a quantity against them. Pure functions over base units; no database, no Flask.

A quantity is allowed when it is at least ``min_quantity``, a multiple of ``increment``, at most
``max_per_customer_per_order``, at most what ``max_per_customer_30d`` leaves after the customer's
orders of the last 30 days, and backorders at most ``max_backorder_qty`` beyond available stock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Limit names (YAML ``limits`` keys), and which way is stricter: +1 the larger, -1 the smaller.
STRICTER = {
    "min_quantity": +1,
    "increment": +1,
    "max_per_customer_per_order": -1,
    "max_per_customer_30d": -1,
    "max_backorder_qty": -1,
}
LIMITS = tuple(STRICTER)
DISPLAY_UNIT = "display_unit"

BELOW_MIN = "MMOQ_BELOW_MIN"
NOT_INCREMENT = "MMOQ_NOT_INCREMENT"
ABOVE_MAX = "MMOQ_ABOVE_MAX"
ABOVE_30D_MAX = "MMOQ_ABOVE_30D_MAX"
ABOVE_BACKORDER_MAX = "MMOQ_ABOVE_BACKORDER_MAX"
CODES = (BELOW_MIN, NOT_INCREMENT, ABOVE_MAX, ABOVE_30D_MAX, ABOVE_BACKORDER_MAX)

ORDER = "ORDER"
ROLLING_30_DAYS = "ROLLING_30_DAYS"


@dataclass(frozen=True)
class Source:
    """Who set a limit: a definition and its revision, or (both None) the variant's own fields."""

    definition: str | None = None
    revision: int | None = None


VARIANT = Source()


@dataclass(frozen=True)
class Limit:
    value: int
    source: Source


@dataclass(frozen=True)
class Resolved:
    """The limits in force for one variant and customer; ``limits`` holds only those set."""

    limits: dict[str, Limit] = field(default_factory=dict)
    display_unit: str | None = None
    display_unit_source: Source | None = None

    def value(self, name: str) -> int | None:
        limit = self.limits.get(name)
        return None if limit is None else limit.value


@dataclass(frozen=True)
class Violation:
    code: str
    #: The limit's name (``max_per_customer_per_order``) and value, in base units.
    name: str
    limit: int
    #: The base units asked for (the cart's total of the variant, any package).
    requested: int
    #: The nearest base quantity that passes this limit (0: none is left in the window).
    allowed: int
    window: str | None
    source: Source


def resolve(caps: list[tuple[Source, dict[str, Any]]], fallback: dict[str, Any] | None = None) -> Resolved:
    """Merge the applying caps' ``limits`` (in definition-name order): per limit the strictest
    value wins, ties to the first; the variant's ``fallback`` fills limits no cap sets."""
    chosen: dict[str, Limit] = {}
    unit: tuple[str, Source] | None = None
    for source, limits in caps:
        for name, direction in STRICTER.items():
            value = limits.get(name)
            if value is None:
                continue
            current = chosen.get(name)
            if current is None or (value - current.value) * direction > 0:
                chosen[name] = Limit(value, source)
        if unit is None and limits.get(DISPLAY_UNIT) is not None:
            unit = (limits[DISPLAY_UNIT], source)
    for name, value in (fallback or {}).items():
        if name in STRICTER and value is not None and name not in chosen:
            chosen[name] = Limit(value, VARIANT)
    if unit is None and (fallback or {}).get(DISPLAY_UNIT) is not None:
        unit = (fallback[DISPLAY_UNIT], VARIANT)
    return Resolved(chosen, *(unit if unit else (None, None)))


def _round_up(quantity: int, step: int) -> int:
    return -(-quantity // step) * step


def violations(resolved: Resolved, quantity: int, *, ordered_30d: int = 0,
               available: int | None = None) -> list[Violation]:
    """Every limit ``quantity`` base units break (in ``LIMITS`` order); ``available`` is the
    stock left for backorder checks (None: untracked, no backorder limit applies)."""
    found: list[Violation] = []
    get = resolved.limits.get
    step = resolved.value("increment") or 1
    most = resolved.value("max_per_customer_per_order")

    def add(code: str, name: str, requested: int, allowed: int, window: str | None) -> None:
        limit = get(name)
        found.append(Violation(code, name, limit.value, requested, max(allowed, 0), window, limit.source))

    minimum = resolved.value("min_quantity")
    if minimum is not None and quantity < minimum:
        add(BELOW_MIN, "min_quantity", quantity, _round_up(minimum, step), ORDER)
    if step > 1 and quantity % step:
        up = _round_up(quantity, step)
        add(NOT_INCREMENT, "increment", quantity, up if most is None or up <= most else up - step, ORDER)
    if most is not None and quantity > most:
        add(ABOVE_MAX, "max_per_customer_per_order", quantity, most - most % step, ORDER)
    window = resolved.value("max_per_customer_30d")
    if window is not None and ordered_30d + quantity > window:
        left = window - ordered_30d
        add(ABOVE_30D_MAX, "max_per_customer_30d", quantity, left - left % step if left > 0 else 0, ROLLING_30_DAYS)
    backorder = resolved.value("max_backorder_qty")
    if backorder is not None and available is not None and quantity - max(available, 0) > backorder:
        add(ABOVE_BACKORDER_MAX, "max_backorder_qty", quantity, max(available, 0) + backorder, ORDER)
    return found


def contradictions(limits: dict[str, Any]) -> list[tuple[str, str]]:
    """``(limit name, message)`` for limits no quantity can satisfy together."""
    problems = []
    minimum = limits.get("min_quantity") or 1
    step = limits.get("increment") or 1
    for name in ("max_per_customer_per_order", "max_per_customer_30d"):
        most = limits.get(name)
        if most is not None and limits.get("min_quantity") is not None and limits["min_quantity"] > most:
            problems.append(("min_quantity", f"min_quantity {limits['min_quantity']} is above {name} {most}: "
                                             "no quantity is allowed"))
    caps = [(name, limits[name]) for name in ("max_per_customer_per_order", "max_per_customer_30d")
            if limits.get(name) is not None]
    if step > 1 and caps and not problems:
        name, most = min(caps, key=lambda item: item[1])
        if _round_up(minimum, step) > most:
            problems.append(("increment", f"increment {step} allows no quantity from {minimum} to {most} "
                                          f"({name}): the smallest multiple is {_round_up(minimum, step)}"))
    return problems
