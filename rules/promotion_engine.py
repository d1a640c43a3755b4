"""The promotion engine: compiled promotions + a cart fact → discounts per line and on shipping,
and an explain of every promotion (applied or why not).

>>> promotions = PromotionSet([definition.compiled for definition in live])   # once per revision set
>>> result = evaluate(promotions, cart_fact, money=ops, at=now, zone="Europe/Vienna", shipping=Decimal("4.90"))
>>> result.line_discount("17"), result.shipping_discount, result.total, result.outcome("summer_sale")

Phases apply in order (catalog → line → order → shipping), each on what the earlier left.
Targets and conditions are evaluated once per cart, in batch, on the cart as given (before any
discount). Within a phase (docs/promotions.md, "Combination"):

1. a promotion is *eligible* when it is live, in schedule and scope, unlocked by a coupon if it
   needs one, its conditions hold, and it gives a non-zero amount on the phase's starting cart;
2. in a ``stack_group`` only the best deal stays: the largest amount, then the higher
   priority, then the name first in alphabetical order;
3. the rest apply by priority (higher first), then name; an ``exclusive`` one, the first by that
   order, applies alone; after a ``stacking: stop`` one nothing else of the phase applies;
4. each applies to what is left (amounts are recomputed; a line or shipping never goes below 0).

Order-phase amounts are spread over their target lines in proportion to what is left of each
(``MoneyOps.allocate``, the runtime's ``Money.allocate``), so line shares add up exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from rules.batch import BatchEvaluator
from rules.predicates import Explanation
from rules.promotion_actions import PHASE_ACTIONS, LineState, MoneyOps, line_amounts, unit_amount

if TYPE_CHECKING:
    from rules.promotion import Promotion

PHASES = tuple(PHASE_ACTIONS)
ZERO = Decimal(0)

# Why a promotion did not apply (``Outcome.reason``).
SCHEDULE_CLOSED = "SCHEDULE_CLOSED"
OUT_OF_SCOPE = "OUT_OF_SCOPE"
COUPON_REQUIRED = "COUPON_REQUIRED"
CONDITIONS_FAILED = "CONDITIONS_FAILED"
NO_TARGET = "NO_TARGET"
NO_PRICE_IN_CURRENCY = "NO_PRICE_IN_CURRENCY"
NOTHING_TO_DISCOUNT = "NOTHING_TO_DISCOUNT"
LOST_STACK_GROUP = "LOST_STACK_GROUP"
EXCLUDED = "EXCLUDED"
STOPPED = "STOPPED"


def _fact_number(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


class PromotionSet:
    """Promotions compiled together: one batch network for every target predicate over lines and
    one for every condition over the cart. Build once per set of live revisions."""

    def __init__(self, promotions: Sequence[Promotion]):
        self.promotions = tuple(sorted(promotions, key=lambda p: (PHASES.index(p.phase), -p.priority, p.name)))
        self._line_slots: list[tuple[int, str]] = []  # (promotion index, "target" | "get")
        line_predicates = []
        for index, promotion in enumerate(self.promotions):
            for role, predicate in (("target", promotion.target.predicate), ("get", promotion.action.get_predicate)):
                if predicate is not None:
                    self._line_slots.append((index, role))
                    line_predicates.append(predicate)
        self._conditions = [i for i, p in enumerate(self.promotions) if p.conditions is not None]
        #: phase → (index, promotion) of that phase, in applying order.
        self.by_phase = {phase: [(i, p) for i, p in enumerate(self.promotions) if p.phase == phase]
                         for phase in PHASES}
        self.lines = BatchEvaluator(line_predicates)
        self.carts = BatchEvaluator([self.promotions[i].conditions for i in self._conditions])
        #: Batch evaluations run (a test counts them per request).
        self.evaluations = 0

    def __len__(self) -> int:
        return len(self.promotions)

    def by_name(self, name: str) -> Promotion | None:
        return next((p for p in self.promotions if p.name == name), None)

    def select(self, lines: Sequence[dict[str, Any]]) -> dict[tuple[int, str], list[int]]:
        """(promotion index, role) → indexes of the lines selected, for every promotion."""
        matched: dict[tuple[int, str], list[int]] = {}
        if self._line_slots and lines:
            self.evaluations += 1
            # One nonzero over the predicates × lines matrix, split per predicate.
            rows, columns = np.nonzero(self.lines.evaluate(list(lines)).matrix)
            bounds = np.searchsorted(rows, np.arange(1, len(self._line_slots)))
            for slot, found in zip(self._line_slots, np.split(columns, bounds)):
                matched[slot] = found.tolist()
        everything = list(range(len(lines)))
        listed = _ListIndex(lines)
        for index, promotion in enumerate(self.promotions):
            target = matched.get((index, "target"), everything)
            if promotion.target.has_lists:
                allowed = listed.matching(promotion.target.skus, promotion.target.categories, promotion.target.brands)
                target = [i for i in target if i in allowed]
            matched[(index, "target")] = target
            skus = promotion.action.get_skus
            get = matched.get((index, "get"), everything if skus else [])
            if skus is not None:
                allowed = listed.matching(skus, None, None)
                get = [i for i in get if i in allowed]
            matched[(index, "get")] = get
        return matched

    def conditions(self, cart: dict[str, Any]) -> dict[int, bool]:
        """Promotion index → whether its conditions hold for ``cart`` (no conditions: absent)."""
        if not self._conditions:
            return {}
        self.evaluations += 1
        masks = self.carts.evaluate([cart]).masks
        return {index: bool(mask[0]) for index, mask in zip(self._conditions, masks)}


class _ListIndex:
    """Lines by SKU, category (a line's category and its ancestors) and brand: a promotion's
    reference lists are looked up, not compared with every line."""

    def __init__(self, lines: Sequence[dict[str, Any]]):
        self.by: dict[str, dict[Any, set[int]]] = {"sku": {}, "category": {}, "brand": {}}
        for position, line in enumerate(lines):
            self.by["sku"].setdefault(line.get("sku"), set()).add(position)
            self.by["brand"].setdefault(line.get("brand"), set()).add(position)
            for category in {line.get("category"), *(line.get("categories") or ())}:
                self.by["category"].setdefault(category, set()).add(position)

    def matching(self, skus, categories, brands) -> set[int]:
        """The lines every given list admits (``None``: that list does not restrict)."""
        found: set[int] | None = None
        for key, values in (("sku", skus), ("category", categories), ("brand", brands)):
            if values is None:
                continue
            admitted = set().union(*(self.by[key].get(value, ()) for value in values))
            found = admitted if found is None else found & admitted
        return found if found is not None else set()


@dataclass
class Outcome:
    """One promotion for one cart: applied with an amount, or the reason (code and detail) it did not."""

    name: str
    phase: str
    applied: bool = False
    amount: Decimal = ZERO
    reason: str | None = None
    detail: str = ""
    #: The conditions that failed, with the actual values (CONDITIONS_FAILED).
    failures: list[Explanation] = field(default_factory=list)
    #: Line id → discount; and the shipping discount.
    lines: dict[str, Decimal] = field(default_factory=dict)
    shipping: Decimal = ZERO
    #: The coupon code that unlocked it, upper-cased.
    coupon: str | None = None

    def refuse(self, reason: str, detail: str, failures: list[Explanation] | None = None) -> Outcome:
        self.applied, self.amount, self.reason, self.detail = False, ZERO, reason, detail
        self.failures, self.lines, self.shipping = failures or [], {}, ZERO
        return self


@dataclass
class Result:
    currency: str
    outcomes: list[Outcome]
    shipping_before: Decimal = ZERO

    def outcome(self, name: str) -> Outcome:
        return next(o for o in self.outcomes if o.name == name)

    @property
    def applied(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.applied]

    def line_discount(self, line_id: str) -> Decimal:
        return sum((o.lines.get(str(line_id), ZERO) for o in self.applied), ZERO)

    def line_discounts(self, line_id: str) -> list[tuple[Outcome, Decimal]]:
        """(promotion outcome, amount) on one line, in the order they applied."""
        return [(o, o.lines[str(line_id)]) for o in self.applied if o.lines.get(str(line_id))]

    @property
    def shipping_discount(self) -> Decimal:
        return sum((o.shipping for o in self.applied), ZERO)

    @property
    def total(self) -> Decimal:
        return sum((o.amount for o in self.applied), ZERO)


@dataclass(frozen=True)
class Context:
    money: MoneyOps
    currency: str
    at: datetime
    zone: str
    blocked: Mapping[str, tuple[str, str]]
    coupon_owners: Mapping[str, str]


def evaluate(promotions: PromotionSet, cart: dict[str, Any], *, money: MoneyOps, at: datetime | None = None,
             zone: str = "UTC", shipping: Decimal = ZERO, blocked: Mapping[str, tuple[str, str]] | None = None,
             coupon_owners: Mapping[str, str] | None = None) -> Result:
    """Price ``cart`` (a cart fact; each line needs ``id``, ``quantity``, ``unit_price``).

    ``blocked``: promotion name → (reason, detail) the runtime already decided (stale, limit);
    ``coupon_owners``: generated code (upper-case) → promotion name, besides the codes listed in
    the definitions. ``at`` defaults to now (UTC); zone-less schedules are read in ``zone``.
    """
    context = Context(money, cart.get("currency") or "", at or datetime.now(timezone.utc), zone, blocked or {},
                      {k.upper(): v for k, v in (coupon_owners or {}).items()})
    facts = list(cart.get("lines") or [])
    lines = [_state(line, index) for index, line in enumerate(facts)]
    selected = promotions.select(facts)
    held = promotions.conditions(cart)
    codes = [str(code).upper() for code in cart.get("coupon_codes") or ()]
    outcomes, shipping_left = [], _fact_number(shipping)
    for phase in PHASES:
        candidates = []
        for index, promotion in promotions.by_phase[phase]:
            outcome = Outcome(promotion.name, phase)
            outcomes.append(outcome)
            if _gate(promotion, outcome, cart, held.get(index), codes, context):
                candidates.append((index, promotion, outcome))
        shipping_left = _phase(phase, candidates, lines, selected, shipping_left, context)
    return Result(context.currency, outcomes, _fact_number(shipping))


def _state(line: dict[str, Any], index: int) -> LineState:
    unit = _fact_number(line.get("unit_price", 0))
    quantity = int(line.get("quantity", 0))
    return LineState(str(line.get("id", index)), str(line.get("sku", "")), quantity, unit, unit * quantity, unit)


def _gate(promotion: Promotion, outcome: Outcome, cart: dict, held: bool | None, codes: list[str],
          context: Context) -> bool:
    """The checks that do not depend on amounts; refuses ``outcome`` with the first that fails."""
    if promotion.name in context.blocked:
        outcome.refuse(*context.blocked[promotion.name])
        return False
    if not promotion.active_at(context.at, context.zone):
        outcome.refuse(SCHEDULE_CLOSED, f"the schedule is closed at {context.at.isoformat()}")
        return False
    key = promotion.out_of_scope(cart)
    if key is not None:
        outcome.refuse(OUT_OF_SCOPE, f"scope.{key} does not include {cart.get(_scope_field(key))!r}")
        return False
    if promotion.requires_coupon:
        code = next((c for c in codes if c in promotion.codes or context.coupon_owners.get(c) == promotion.name), None)
        if code is None:
            outcome.refuse(COUPON_REQUIRED, "no coupon code of this promotion was applied to the cart")
            return False
        outcome.coupon = code
    if held is False:
        failures = promotion.conditions.explain(cart).failures()
        shown = "; ".join(f"{f.condition} (actual: {f.actual!r})" for f in failures)
        outcome.refuse(CONDITIONS_FAILED, shown, failures)
        return False
    if promotion.action.currency_missing(context.currency):
        outcome.refuse(NO_PRICE_IN_CURRENCY, f"the action has no amount in {context.currency}")
        return False
    return True


def _scope_field(key: str) -> str:
    return {"channels": "channel", "customer_groups": "customer_group", "accounts": "account"}[key]


def _phase(phase: str, candidates, lines: list[LineState], selected, shipping_left: Decimal,
           context: Context) -> Decimal:
    """Combine and apply one phase's candidates; returns what is left of shipping."""
    proposals, computed = [], {}
    for index, promotion, outcome in candidates:
        amount = _amounts(phase, promotion, index, lines, selected, shipping_left, context)
        total = sum(amount[0].values(), ZERO) + amount[1]
        if total <= 0:
            target = selected[(index, "target")]
            if phase in ("line", "order", "catalog") and not target and promotion.action.type != "buy_x_get_y":
                outcome.refuse(NO_TARGET, "the target selects no line of this cart")
            else:
                outcome.refuse(NOTHING_TO_DISCOUNT, "the action gives no discount on this cart")
            continue
        proposals.append((index, promotion, outcome, total))
        computed[index] = amount
    proposals = _best_of_groups(proposals)
    proposals.sort(key=lambda p: (-p[1].priority, p[1].name))
    exclusive = next((p for p in proposals if p[1].exclusive), None)
    if exclusive is not None:
        for _index, _promotion, outcome, _total in proposals:
            if outcome is not exclusive[2]:
                outcome.refuse(EXCLUDED, f"an exclusive promotion applies alone in the {phase} phase")
        proposals = [exclusive]
    stopped = changed = False
    for index, promotion, outcome, _total in proposals:
        if stopped:
            outcome.refuse(STOPPED, f"a promotion of higher priority stops the {phase} phase")
            continue
        # Nothing applied yet in this phase: the proposal was computed on this very state.
        per_line, ship = _amounts(phase, promotion, index, lines, selected, shipping_left, context) if changed \
            else computed[index]
        changed = True
        if not per_line and ship <= 0:
            outcome.refuse(NOTHING_TO_DISCOUNT, "earlier promotions left nothing to discount")
            continue
        for line_index, amount in per_line.items():
            line = lines[line_index]
            line.remaining -= amount
            if phase == "catalog":
                line.unit_now -= amount / line.quantity
            outcome.lines[line.id] = outcome.lines.get(line.id, ZERO) + amount
        shipping_left -= ship
        outcome.shipping = ship
        outcome.amount = sum(per_line.values(), ZERO) + ship
        outcome.applied = True
        stopped = promotion.stacking == "stop"
    return shipping_left


def _best_of_groups(proposals):
    """Keep, in each stack group, only the largest deal (then higher priority, then first name)."""
    best: dict[str, tuple] = {}
    for proposal in proposals:
        group = proposal[1].stack_group
        if group is None:
            continue
        rank = (-proposal[3], -proposal[1].priority, proposal[1].name)
        if group not in best or rank < best[group][0]:
            best[group] = (rank, proposal)
    kept = []
    for proposal in proposals:
        group = proposal[1].stack_group
        if group is not None and best[group][1] is not proposal:
            winner = best[group][1]
            proposal[2].refuse(LOST_STACK_GROUP, f"stack group {group!r}: another promotion gives the better deal "
                                                 f"({winner[3]} against {proposal[3]})")
            continue
        kept.append(proposal)
    return kept


def _amounts(phase: str, promotion: Promotion, index: int, lines: list[LineState], selected, shipping_left: Decimal,
             context: Context) -> tuple[dict[int, Decimal], Decimal]:
    """(line index → amount, shipping amount) the promotion gives on the current state."""
    action, currency, money = promotion.action, context.currency, context.money
    if phase == "shipping":
        if action.type == "free_shipping":
            return {}, money.round(max(shipping_left, ZERO), currency)
        found = money.round(shipping_left * action.percent / 100, currency) if action.percent is not None \
            else action.amount[currency]
        return {}, money.round(min(max(found, ZERO), max(shipping_left, ZERO)), currency)
    target = selected[(index, "target")]
    if phase == "catalog":
        found = {}
        for i in target:
            unit = unit_amount(action, lines[i].unit_now, currency, money) * lines[i].quantity
            if unit > 0:
                found[i] = min(unit, lines[i].remaining)  # both already in the currency's units
        return found, ZERO
    return line_amounts(action, lines, target, selected[(index, "get")], currency, money), ZERO


def catalog_prices(promotions: PromotionSet, variants: Sequence[dict[str, Any]], *, money: MoneyOps,
                   currency: str, scope: dict[str, Any], at: datetime, zone: str = "UTC",
                   blocked: Mapping[str, tuple[str, str]] | None = None) -> list[tuple[Decimal, list[str]]]:
    """The catalog phase for product listings: each variant fact (a cart line fact with
    ``unit_price``) → (discounted unit price, names of the promotions that set it, in order).

    Targets are evaluated in ONE batch for all variants; each variant is then priced on its own,
    as a one-unit cart would be (a stack group's best deal, ``stop`` and ``exclusive`` are per
    variant, never decided by the rest of the page)."""
    facts = [{**fact, "quantity": 1} for fact in variants]
    context = Context(money, currency, at, zone, blocked or {}, {})
    selected = promotions.select(facts)
    scope_fact = {**scope, "currency": currency}
    open_ = [(index, promotion) for index, promotion in promotions.by_phase["catalog"]
             if _gate(promotion, Outcome(promotion.name, "catalog"), scope_fact, None, [], context)]
    targets = {index: set(selected[(index, "target")]) for index, _promotion in open_}
    prices = []
    for position, fact in enumerate(facts):
        line = _state(fact, position)
        line.id = "0"
        candidates = [(index, promotion, Outcome(promotion.name, "catalog")) for index, promotion in open_
                      if position in targets[index]]
        one = {(index, role): [0] for index, _promotion, _outcome in candidates for role in ("target", "get")}
        _phase("catalog", candidates, [line], one, ZERO, context)
        applied = [outcome for _index, _promotion, outcome in candidates if outcome.applied]
        prices.append((line.unit_now, [outcome.name for outcome in applied]))
    return prices
