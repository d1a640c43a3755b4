"""Orders: written from an :class:`OrderDraft`, moved only by the live ``order`` state machine,
read by their owners (the customer, the employees of the account) and by staff with ``orders.read``."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from runtime.auth.permissions import Actor
from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors
from runtime.events import emit
from runtime.money import minor_units
from runtime.orders.drafts import OrderDraft
from runtime.orders.errors import OrderErrorCode
from runtime.orders.models import Order, OrderLine
from runtime.orders.transitions import apply
from runtime.state_machines import service as machines
from runtime.state_machines.service import StateMachineErrorCode, SystemActor

#: The staff permission that reads every order.
READ = "orders.read"
#: Digits of the public order number (``V-000123``); longer ids simply use more digits.
NUMBER_DIGITS = 6


def order_number(order_id: int) -> str:
    return f"V-{order_id:0{NUMBER_DIGITS}d}"


def create_order(session: Session, draft: OrderDraft, actor: Actor | SystemActor) -> Order:
    """Insert the order and its line snapshots and place it on the ``order`` machine.

    The number derives from the id the INSERT returns, so it is unique without a counter row
    that concurrent checkouts would queue on. Statements: the order INSERT (in its placed state);
    the number UPDATE, the lines (one executemany), the history row and the outbox rows are left
    to the next flush, so that :func:`runtime.payments.service.pay_order`'s order UPDATE can share it.
    """
    if not draft.lines:
        raise BusinessError(OrderErrorCode.ORDER_EMPTY, "lines: an order needs at least one line", field="lines")
    from runtime.orders.transitions import initial_state

    currency, rate = draft.currency, Decimal(draft.exchange_rate)
    now = utcnow()
    order = Order(
        number=f"tmp-{uuid.uuid4().hex[:24]}", channel_id=draft.channel_id, cart_id=draft.cart_id,
        idempotency_key=draft.idempotency_key, user_id=draft.user_id, customer_id=draft.customer_id,
        account_id=draft.account_id, location_id=draft.location_id, created_by=draft.created_by,
        email=draft.email, state=initial_state(Order), state_entered_at=now, payment_status="none",
        item_count=draft.item_count, currency=currency,
        subtotal=draft.subtotal.amount, shipping_total=draft.shipping_total.amount,
        discount_total=draft.discount_total.amount if draft.discount_total else Decimal(0),
        tax_total=draft.tax_total.amount if draft.tax_total else Decimal(0),
        total=draft.total.amount, base_currency=draft.base_currency, exchange_rate=rate,
        base_total=to_base(draft.total.amount, rate, draft.base_currency),
        shipping_address=draft.shipping_address, billing_address=draft.billing_address,
        shipping_method=draft.shipping_method, pipeline=dict(draft.pipeline), created_at=now, updated_at=now,
    )
    placed = _apply(session, order, "place", actor)  # inserts the order, already placed
    order.number = order_number(order.id)
    session.add_all([
        OrderLine(order_id=order.id, variant_id=line.variant_id, sku=line.sku, product_name=line.product_name,
                  variant_name=line.variant_name, quantity=line.quantity, unit_price=line.price.unit_price.amount,
                  package_slug=line.package_slug, package_multiplier=line.package_multiplier,
                  line_total=line.line_total.amount,
                  base_unit_price=to_base(line.price.unit_price.amount, rate, draft.base_currency),
                  price_level=_plain(line.price.level), price_list_slug=line.price.price_list_slug)
        for line in draft.lines
    ])
    emit(session, "order.created", _drop_none({
        "order_id": str(order.id), "channel_id": str(order.channel_id), "status": order.state,
        "total": format(order.total, "f"), "currency": currency, "lines": len(draft.lines),
        "account_id": _str(order.account_id), "customer_id": _str(order.customer_id), "cart_id": _str(order.cart_id),
    }), key=str(order.id))
    _status_changed(session, order, placed.transition, placed.from_state, placed.to_state, actor)
    return order


def transition_order(session: Session, order: Order, transition: str, actor: Actor | SystemActor,
                     context: dict | None = None) -> Order:
    """Fire ``transition`` on the live machine (optimistic: a concurrent move is STATE_CHANGED)."""
    _known(transition)
    try:
        fired = machines.fire(session, order, transition, actor, context)
    except BusinessErrors as exc:
        raise BusinessErrors([_order_error(e) for e in exc.errors]) from None
    except BusinessError as exc:
        raise _order_error(exc) from None
    _status_changed(session, order, transition, fired.from_state, fired.to_state, actor)
    return order


def mark_transition(session: Session, order: Order, transition: str, actor: Actor | SystemActor,
                    context: dict | None = None) -> None:
    """Move an order this transaction already holds (created or row-locked), with its other
    pending changes in the same UPDATE; emits ``order.status_changed``."""
    row = _apply(session, order, transition, actor, context)
    _status_changed(session, order, transition, row.from_state, row.to_state, actor)


def get_order(session: Session, actor: Actor, order_id: Any, *, field: str = "orderId") -> Order:
    """The order if the caller may read it, else NOT_FOUND naming ``field`` (never FORBIDDEN)."""
    from runtime.accounts.ownership import owns

    order = session.get(Order, _int_id(order_id, field))
    if order is None or not owns(actor, user_id=order.user_id, account_id=order.account_id, staff_permission=READ):
        raise BusinessError(OrderErrorCode.NOT_FOUND, f"{field}: no order {order_id}", field=field)
    return order


@dataclass(frozen=True)
class OrderFilter:
    states: tuple[str, ...] = ()
    channel_id: int | None = None
    account_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    #: Only orders with ``inventory_risk_flag`` (triage).
    inventory_risk_only: bool = False


def list_orders(session: Session, actor: Actor, filters: OrderFilter, *, first: int,
                after: tuple[datetime, int] | None = None) -> tuple[list[Order], int]:
    """Newest first; buyers see their own orders only (filters apply within). Returns up to
    ``first + 1`` rows (the extra one says a next page exists) and the total count."""
    from runtime.accounts.ownership import owner_clause

    conditions = []
    owned = owner_clause(actor, Order, READ)
    if owned is not None:
        conditions.append(owned)
    if filters.states:
        conditions.append(Order.state.in_(filters.states))
    if filters.channel_id is not None:
        conditions.append(Order.channel_id == filters.channel_id)
    if filters.account_id is not None:
        conditions.append(Order.account_id == filters.account_id)
    if filters.created_from is not None:
        conditions.append(Order.created_at >= filters.created_from)
    if filters.created_to is not None:
        conditions.append(Order.created_at < filters.created_to)
    if filters.inventory_risk_only:
        conditions.append(Order.inventory_risk_flag.is_(True))
    where = and_(*conditions) if conditions else None
    page = select(Order).order_by(Order.created_at.desc(), Order.id.desc()).limit(first + 1)
    count = select(func.count()).select_from(Order)
    if where is not None:
        page, count = page.where(where), count.where(where)
    if after is not None:
        at, last_id = after
        page = page.where(or_(Order.created_at < at, and_(Order.created_at == at, Order.id < last_id)))
    return list(session.exec(page)), session.exec(count).one()


def to_base(amount: Decimal, rate: Decimal, base_currency: str) -> Decimal:
    """``amount × rate`` rounded half-up to the base currency's minor units."""
    return (Decimal(amount) * rate).quantize(Decimal(1).scaleb(-minor_units(base_currency)), rounding=ROUND_HALF_UP)


def _known(transition: str) -> None:
    """UNKNOWN_TRANSITION before the engine is asked (its blocker repeats the ``transition`` parameter)."""
    from flask import current_app

    from runtime.state_machines.service import live_machine

    try:
        machine = live_machine(current_app, "order").compiled
    except BusinessError as exc:
        raise _order_error(exc) from None
    if transition not in machine.transitions:
        known = ", ".join(sorted(machine.transitions))
        raise BusinessError(OrderErrorCode.UNKNOWN_TRANSITION,
                            f"transition: the order machine has no transition {transition!r} (known: {known})",
                            field="transition", transition=transition)


def _apply(session: Session, order: Order, transition: str, actor, context: dict | None = None):
    _known(transition)
    try:
        return apply(session, order, transition, actor, context)
    except BusinessErrors as exc:
        raise BusinessErrors([_order_error(e) for e in exc.errors]) from None
    except BusinessError as exc:
        raise _order_error(exc) from None


def _status_changed(session: Session, order: Order, transition: str, source: str, target: str, actor) -> None:
    emit(session, "order.status_changed", _drop_none({
        "order_id": str(order.id), "channel_id": str(order.channel_id), "from_status": source, "to_status": target,
        "transition": transition, "actor": actor.label, "account_id": _str(order.account_id),
        "customer_id": _str(order.customer_id),
    }), key=str(order.id))


def _order_error(error: BusinessError) -> BusinessError:
    """A machine refusal in the orders domain's codes (the blocker's code, same message)."""
    code = error.code if error.code in OrderErrorCode.__members__ else OrderErrorCode.GUARD_FAILED.value
    if error.code == StateMachineErrorCode.MACHINE_NOT_LIVE.value:
        code = OrderErrorCode.MACHINE_NOT_LIVE.value
    return BusinessError(code, error.message, field=error.field, **error.params)


def _int_id(value: Any, field: str) -> int:
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if not 0 < number < 2**31:
        raise BusinessError(OrderErrorCode.NOT_FOUND, f"{field}: no order {value}", field=field)
    return number


def _plain(value: Any) -> str:
    return value.value if isinstance(value, Enum) else str(value)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _drop_none(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in payload.items() if value is not None}
