"""The ``promotion`` kind: a discount in one phase, on the lines a target selects, when
conditions over the cart hold, within a schedule and scope, combined by priority, stack group,
stacking and exclusivity (:mod:`rules.promotion_engine` applies them; :mod:`rules.promotion_actions`
computes each action).

Targets are predicates over the cart line fact and conditions over the cart fact, in the one
predicate language (labels and caps use it too); references to SKUs, categories, brands,
customer groups, channels and accounts are kept as lists so the runtime can tell when one no
longer resolves (a stale promotion).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rules.conditions import All, Call, Compare
from rules.environment import Environment
from rules.errors import AuthorError
from rules.kinds import KindSpec, ParsedDefinition, register_kind
from rules.predicates import Predicate, compile_predicate, leaves
from rules.promotion_actions import Action, parse_action
from rules.promotion_engine import PHASES as ENGINE_PHASES
from rules.promotion_engine import PromotionSet, evaluate

#: The facts targets and conditions read.
LINE_FACT, CART_FACT = "cart_line", "cart"
#: Phases in the order they apply.
PHASES = ENGINE_PHASES
#: Scope keys and the cart fact field each matches.
SCOPES = {"channels": "channel", "customer_groups": "customer_group", "accounts": "account"}


@dataclass(frozen=True)
class Selection:
    """Which lines: every part given must hold (lists are references, ``when`` a predicate)."""

    skus: frozenset[str] | None = None
    categories: frozenset[str] | None = None
    brands: frozenset[str] | None = None
    predicate: Predicate | None = None

    @property
    def has_lists(self) -> bool:
        return self.skus is not None or self.categories is not None or self.brands is not None

    def lists_match(self, line: dict[str, Any]) -> bool:
        """The reference lists (the predicate is evaluated in batch by the engine)."""
        if self.skus is not None and line.get("sku") not in self.skus:
            return False
        if self.categories is not None:
            found = {line.get("category"), *(line.get("categories") or ())}
            if not found & self.categories:
                return False
        return self.brands is None or line.get("brand") in self.brands


@dataclass(frozen=True)
class Promotion:
    name: str
    phase: str
    action: Action
    target: Selection = field(default_factory=Selection)
    conditions: Predicate | None = None
    priority: int = 0
    stack_group: str | None = None
    stacking: str = "stack"
    exclusive: bool = False
    message: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    #: Scope key → allowed slugs; absent keys do not restrict.
    scope: tuple[tuple[str, frozenset[str]], ...] = ()
    #: Upper-cased codes listed in the definition; ``requires_coupon`` with none listed means
    #: only generated codes unlock it.
    codes: frozenset[str] = frozenset()
    requires_coupon: bool = False
    #: ``{"global"|"per_customer"|"per_code": (max, mode)}``.
    limits: dict[str, tuple[int, str]] = field(default_factory=dict)

    def active_at(self, moment: datetime, zone: str = "UTC") -> bool:
        """Whether the schedule is open at ``moment`` (aware); zone-less bounds are in ``zone``."""
        return ((self.starts_at is None or _compare(self.starts_at, moment, zone) <= 0)
                and (self.ends_at is None or _compare(self.ends_at, moment, zone) > 0))

    def out_of_scope(self, cart: dict[str, Any]) -> str | None:
        """The scope key the cart is outside of, or ``None``."""
        for key, slugs in self.scope:
            if cart.get(SCOPES[key]) not in slugs:
                return key
        return None

    @property
    def references(self) -> dict[str, frozenset[str]]:
        """What must resolve in the store: skus, categories, brands, channels, customer_groups,
        accounts, functions (``<pack>.<name>`` predicate functions)."""
        found: dict[str, set[str]] = {}
        for key, value in (("skus", self.target.skus), ("categories", self.target.categories),
                           ("brands", self.target.brands), ("skus", self.action.get_skus)):
            if value:
                found.setdefault(key, set()).update(value)
        for key, slugs in self.scope:
            found.setdefault(key, set()).update(slugs)
        predicates = [p for p in (self.target.predicate, self.conditions, self.action.get_predicate) if p]
        functions = {leaf.name for p in predicates for leaf in leaves(p.root) if isinstance(leaf, Call)}
        if functions:
            found["functions"] = functions
        return {key: frozenset(values) for key, values in found.items()}


def _compare(bound: datetime, moment: datetime, zone: str) -> int:
    if bound.tzinfo is None:
        moment = moment.astimezone(_zone(zone)).replace(tzinfo=None)
    return (bound > moment) - (bound < moment)


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 time, with a zone or without (then read in the channel's zone), or ``None``."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _schedule(doc: ParsedDefinition) -> tuple[datetime | None, datetime | None]:
    schedule = doc.data.get("schedule") or {}
    bounds: dict[str, datetime | None] = {}
    for key in ("from", "until"):
        bounds[key] = parse_time(schedule[key]) if key in schedule else None
        if key in schedule and bounds[key] is None:
            doc.report(f"/schedule/{key}", f"expected an ISO-8601 time like '2026-11-27T00:00:00' (the channel's "
                                           f"zone) or '2026-11-27T00:00:00Z', got {schedule[key]!r}")
    start, end = bounds["from"], bounds["until"]
    if start is not None and end is not None:
        if (start.tzinfo is None) != (end.tzinfo is None):
            doc.report("/schedule/until", "give both times with a zone or both without (the channel's zone)")
        elif end <= start:
            doc.report("/schedule/until", f"the schedule ends ({schedule['until']}) before or when it starts "
                                          f"({schedule['from']})")
    return start, end


#: What every cart line has: at least one unit, a price of at least 0.
LINE_FLOORS = {("quantity",): Decimal(1), ("unit_price",): Decimal(0), ("total",): Decimal(0)}


def selects_nothing(predicate: Predicate) -> str | None:
    """Why ``predicate`` (an ``$and`` of comparisons) can hold for no cart line, or ``None``:
    bounds on one number that leave no value (``quantity > 5`` and ``quantity < 3``, ``quantity < 1``),
    or two different required values of one field."""
    root = predicate.root
    leaves_ = root.items if isinstance(root, All) else (root,)
    low: dict[tuple, tuple[Decimal, bool]] = {path: (floor, True) for path, floor in LINE_FLOORS.items()}
    high: dict[tuple, tuple[Decimal, bool]] = {}
    equal: dict[tuple, object] = {}
    for leaf in leaves_:
        if not isinstance(leaf, Compare):
            continue
        if leaf.op == "$eq":
            if leaf.path in equal and equal[leaf.path] != leaf.value:
                return f"{'.'.join(leaf.path)} cannot be both {equal[leaf.path]!r} and {leaf.value!r}"
            equal[leaf.path] = leaf.value
        if isinstance(leaf.value, bool) or not isinstance(leaf.value, (int, float)):
            continue
        value = Decimal(str(leaf.value))
        if leaf.op in ("$gt", "$gte", "$eq"):
            bound = (value, leaf.op != "$gt")
            if leaf.path not in low or bound[0] > low[leaf.path][0] or (bound[0] == low[leaf.path][0] and not bound[1]):
                low[leaf.path] = bound
        if leaf.op in ("$lt", "$lte", "$eq"):
            bound = (value, leaf.op != "$lt")
            if leaf.path not in high or bound[0] < high[leaf.path][0] or (bound[0] == high[leaf.path][0] and not bound[1]):
                high[leaf.path] = bound
    for path, (top, top_inclusive) in high.items():
        bottom, bottom_inclusive = low.get(path, (None, True))
        if bottom is not None and (top < bottom or (top == bottom and not (top_inclusive and bottom_inclusive))):
            name = ".".join(path)
            return (f"{name} would have to be {'>=' if bottom_inclusive else '>'} {bottom} and "
                    f"{'<=' if top_inclusive else '<'} {top}")
    return None


def _selection(doc: ParsedDefinition, env: Environment) -> Selection:
    target = doc.data.get("target") or {}
    predicate = None
    if "when" in target:
        predicate = compile_predicate(target["when"], "/target/when", fact=LINE_FACT, env=env, report=doc.report)
        why = selects_nothing(predicate) if predicate is not None else None
        if why:
            doc.report("/target/when", f"the target can select no cart line: {why}")
    lists = {key: frozenset(target[key]) if key in target else None for key in ("skus", "categories", "brands")}
    return Selection(predicate=predicate, **lists)


def _checks(doc: ParsedDefinition) -> None:
    data, phase = doc.data, doc.data["phase"]
    if phase == "catalog":
        for key, why in (("conditions", "there is no cart yet: use target and scope"),
                         ("coupon", "a shopper sees catalog prices before entering a code")):
            if key in data:
                doc.report(f"/{key}", f"a catalog-phase promotion cannot have {key}: {why}", key=True)
    if phase == "shipping" and "target" in data:
        doc.report("/target", "a shipping-phase promotion discounts shipping, not lines: use conditions", key=True)
    if "per_code" in (data.get("limits") or {}) and "coupon" not in data:
        doc.report("/limits/per_code", "a per_code limit needs a coupon (codes to count)", key=True)


def compile_promotion(doc: ParsedDefinition, env: Environment) -> Promotion | None:
    data, phase = doc.data, doc.data["phase"]
    _checks(doc)
    starts_at, ends_at = _schedule(doc)
    target = _selection(doc, env)
    conditions = None
    if "conditions" in data and phase != "catalog":
        conditions = compile_predicate(data["conditions"], "/conditions", fact=CART_FACT, env=env, report=doc.report)
    action = parse_action(data["action"], phase, "/action", doc.report,
                          lambda when, pointer: compile_predicate(when, pointer, fact=LINE_FACT, env=env,
                                                                  report=doc.report))
    if doc.errors or action is None:
        return None
    scope = tuple((key, frozenset(data["scope"][key])) for key in SCOPES if key in (data.get("scope") or {}))
    coupon = data.get("coupon")
    limits = {key: (value["max"], value.get("mode", "enforced")) for key, value in (data.get("limits") or {}).items()}
    return Promotion(
        doc.name, phase, action, target, conditions, data.get("priority", 0), data.get("stack_group"),
        data.get("stacking", "stack"), data.get("exclusive", False), data.get("message"), starts_at, ends_at, scope,
        frozenset(code.upper() for code in (coupon or {}).get("codes", ())), coupon is not None, limits)


def run_examples(promotion: Promotion, examples: list[dict], env: Environment) -> list[AuthorError]:
    """Each example prices its cart with this promotion alone and compares what it expects."""
    if getattr(env, "money", None) is None:
        return [AuthorError("examples need the runtime's money arithmetic (Environment.money) to run",
                            pointer="/examples")]
    errors: list[AuthorError] = []
    promotions = PromotionSet([promotion])
    for index, example in enumerate(examples):
        given, expect = example["given"], example["expect"]
        at = parse_time(given["at"]) if "at" in given else None
        if "at" in given and (at is None or at.tzinfo is None):
            errors.append(AuthorError(f"expected an ISO-8601 time with a zone, got {given['at']!r}",
                                      pointer=f"/examples/{index}/given/at"))
            continue
        shipping = Decimal(str(given.get("shipping", 0)))
        result = evaluate(promotions, given["cart"], money=env.money, at=at, zone=given.get("time_zone", "UTC"),
                          shipping=shipping)
        errors.extend(_compare_example(result, promotion.name, expect, index))
    return errors


def _compare_example(result, name: str, expect: dict, index: int) -> list[AuthorError]:
    outcome = result.outcome(name)
    where = f"/examples/{index}/expect"
    why = "" if outcome.applied else f" ({outcome.reason}: {outcome.detail})"
    problems = []
    if "applied" in expect and expect["applied"] is not outcome.applied:
        problems.append((f"{where}/applied", f"expected applied {str(expect['applied']).lower()}, got "
                                             f"{str(outcome.applied).lower()}{why}"))
    if "reason" in expect and expect["reason"] != outcome.reason:
        problems.append((f"{where}/reason", f"expected reason {expect['reason']}, got {outcome.reason}{why}"))
    if "discount" in expect and Decimal(str(expect["discount"])) != outcome.amount:
        problems.append((f"{where}/discount", f"expected discount {expect['discount']}, got {outcome.amount}{why}"))
    if "shipping" in expect and Decimal(str(expect["shipping"])) != outcome.shipping:
        problems.append((f"{where}/shipping", f"expected shipping discount {expect['shipping']}, got "
                                              f"{outcome.shipping}{why}"))
    if "lines" in expect:
        wanted = {str(k): Decimal(str(v)) for k, v in expect["lines"].items()}
        got = {k: v for k, v in outcome.lines.items() if v or k in wanted}
        if {k: wanted.get(k, Decimal(0)) for k in got | wanted} != {k: got.get(k, Decimal(0)) for k in got | wanted}:
            shown = {k: str(v) for k, v in sorted(got.items())}
            problems.append((f"{where}/lines", f"expected line discounts {expect['lines']}, got {shown}{why}"))
    return [AuthorError(f"example failed: {message}", pointer=pointer) for pointer, message in problems]


register_kind(KindSpec("promotion", compile_promotion, run_examples, label="Promotion"))
