"""Usage limits: global, per customer and per coupon code, each ``enforced`` or ``observed``.

Counting happens inside placeOrder's transaction (the ``promotion_usage`` checkout stage): each
counter is taken with one conditional ``UPDATE … SET used = used + 1 WHERE used < max``, which
PostgreSQL serializes on the counter row (a concurrent checkout waits, then re-reads ``used``) and
SQLite's single writer serializes anyway; a counter at its maximum refuses the whole placeOrder
with ``PROMOTION_LIMIT_REACHED`` (the buyer removes the coupon or retries; nothing is charged).
An ``observed`` limit is counted and never refuses. A rolled-back placeOrder releases its counts
with the transaction; a cancelled order releases them through the ``core.release_promotion_usage``
effect on the order machine's ``cancel`` (:func:`release_usage`, also for the payment domain).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

from rules.promotion import Promotion
from rules.promotion_engine import PromotionSet
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from runtime.clock import utcnow
from runtime.errors import BusinessError
from runtime.promotions.facts import Buyer
from runtime.promotions.models import PromotionUsage, PromotionUsageCounter
from runtime.state_machines.effects import EffectCall

ENFORCED, OBSERVED = "enforced", "observed"


class UsageErrorCode(str, Enum):
    PROMOTION_LIMIT_REACHED = "PROMOTION_LIMIT_REACHED"


#: Why the engine is told a promotion does not apply (``Outcome.reason``).
USAGE_LIMIT_REACHED = "USAGE_LIMIT_REACHED"


def counter_keys(promotion: Promotion, buyer: Buyer, code: str | None) -> list[tuple[str, str, int, str]]:
    """(limit, counter key, max, mode) for each limit of ``promotion`` that this use counts."""
    keys = []
    for limit, (maximum, mode) in sorted(promotion.limits.items()):
        if limit == "global":
            key = f"global:{promotion.name}"
        elif limit == "per_customer":
            if buyer.usage_key is None:
                continue
            key = f"customer:{promotion.name}:{buyer.usage_key}"
        else:
            if code is None:
                continue
            key = f"code:{promotion.name}:{code}"
        keys.append((limit, key, maximum, mode))
    return keys


def limits_reached(session: Session, promotions: PromotionSet, buyer: Buyer, codes: Sequence[str],
                   owners: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Promotions whose enforced limit this buyer (or code) already reached: name → (reason, detail).
    One statement, only when some live promotion has an enforced limit."""
    wanted = {}
    for promotion in promotions.promotions:
        code = next((c for c in codes if c in promotion.codes or owners.get(c) == promotion.name), None)
        for limit, key, maximum, mode in counter_keys(promotion, buyer, code):
            if mode == ENFORCED:
                wanted[key] = (promotion.name, limit, maximum)
    if not wanted:
        return {}
    used = dict(session.execute(select(PromotionUsageCounter.key, PromotionUsageCounter.used)
                                .where(PromotionUsageCounter.key.in_(sorted(wanted)))).all())
    reached = {}
    for key, (name, limit, maximum) in wanted.items():
        if used.get(key, 0) >= maximum and name not in reached:
            reached[name] = (USAGE_LIMIT_REACHED, f"the {limit.replace('_', ' ')} usage limit ({maximum}) is reached")
    return reached


def limit_error(code: str | None, limit: str) -> BusinessError:
    """The refusal of a placeOrder whose promotion reached an enforced limit (buyer-facing: the
    code, never the promotion's internal name)."""
    who = {"per_customer": " for this customer", "per_code": " for this code"}.get(limit, "")
    if code:
        return BusinessError(UsageErrorCode.PROMOTION_LIMIT_REACHED,
                             f"cartId: coupon {code} reached its usage limit{who}; remove it (removeCartCoupon) and "
                             "place the order again", field="cartId", limit=limit)
    return BusinessError(UsageErrorCode.PROMOTION_LIMIT_REACHED,
                         f"cartId: an offer in this cart reached its usage limit{who} while the order was placed; "
                         "place the order again to see the cart priced without it", field="cartId", limit=limit)


def limit_of(detail: str) -> str:
    """Which limit a USAGE_LIMIT_REACHED detail (:func:`limits_reached`) names."""
    return next((limit for limit in ("per_customer", "per_code") if limit.replace("_", " ") in detail), "global")


def _ensure(session: Session, key: str) -> None:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = PromotionUsageCounter.__table__
    session.execute(insert(table).values(key=key, used=0, updated_at=utcnow()).on_conflict_do_nothing(index_elements=["key"]))


def count(session: Session, order_id: int, promotion: Promotion, buyer: Buyer, code: str | None) -> PromotionUsage:
    """Take every counter of one applied promotion for order ``order_id``; refuse past an enforced max."""
    taken = []
    for limit, key, maximum, mode in counter_keys(promotion, buyer, code):
        _ensure(session, key)
        counter = PromotionUsageCounter.__table__.c
        statement = update(PromotionUsageCounter.__table__).where(counter.key == key)
        if mode == ENFORCED:
            statement = statement.where(counter.used < maximum)
        done = session.execute(statement.values(used=counter.used + 1, updated_at=utcnow())).rowcount
        if not done:
            raise limit_error(code, limit)
        taken.append(key)
    row = PromotionUsage(order_id=order_id, promotion_name=promotion.name, coupon_code=code, counters=" ".join(taken))
    session.add(row)
    return row


def release_usage(session: Session, order: Any) -> int:
    """Give back the counters an order (an ``Order`` or its id) took: on its cancel, or when a
    payment fails after counting without rolling placeOrder back. Each usage row releases once,
    whoever calls. Returns how many promotion uses were released."""
    order_id = order if isinstance(order, int) else order.id
    rows = session.execute(select(PromotionUsage.id, PromotionUsage.counters).where(
        PromotionUsage.order_id == order_id, PromotionUsage.released_at.is_(None))).all()
    released = 0
    for usage_id, counters in rows:
        done = session.execute(update(PromotionUsage).where(PromotionUsage.id == usage_id,
                                                            PromotionUsage.released_at.is_(None))
                               .values(released_at=utcnow())).rowcount
        if not done:
            continue
        released += 1
        keys = counters.split()
        if keys:
            counter = PromotionUsageCounter.__table__.c
            session.execute(update(PromotionUsageCounter.__table__).where(counter.key.in_(keys), counter.used > 0)
                            .values(used=counter.used - 1, updated_at=utcnow()))
    return released


def release_on_cancel(call: EffectCall) -> None:
    """The ``core.release_promotion_usage`` effect (in the cancelling transaction)."""
    for order_id in call.entity_ids:
        release_usage(call.session, int(order_id))
