"""The 30-day window: base units a customer ordered of each variant since local midnight 29 days
ago in the channel's time zone (today and the 29 days before), from placed, non-cancelled orders.

Two placeOrders of one customer must not both pass a 30-day cap, so placeOrder locks the
customer's row (account, customer or user; ``SELECT … FOR UPDATE`` on PostgreSQL, SQLite has a
single writer) before counting; the second waits and then counts the first one's order.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func
from sqlmodel import Session, select

from runtime.mmoq.facts import Customer

DAYS = 30
CANCELLED = "cancelled"


def window_start(now: datetime, time_zone: str) -> datetime:
    """Local midnight ``DAYS - 1`` days before ``now`` in ``time_zone`` (UTC if unknown), as UTC."""
    try:
        zone = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone) - timedelta(days=DAYS - 1)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)


def _owner(customer: Customer):
    from runtime.orders.models import Order

    kind, value = customer.key
    return {"account": Order.account_id, "customer": Order.customer_id, "user": Order.user_id,
            "email": func.lower(Order.email)}[kind] == value


def ordered(session: Session, customer: Customer, variant_ids: list[int], since: datetime) -> dict[int, int]:
    """``variant_id → base units`` the customer ordered since ``since`` (absent: none)."""
    from runtime.orders.models import Order, OrderLine

    if customer.key is None or not variant_ids:
        return {}
    statement = (select(OrderLine.variant_id, func.sum(OrderLine.quantity * OrderLine.package_multiplier))
                 .join(Order, Order.id == OrderLine.order_id)
                 .where(_owner(customer), Order.state != CANCELLED, Order.created_at >= since,
                        OrderLine.variant_id.in_(sorted(variant_ids)))
                 .group_by(OrderLine.variant_id))
    return {variant_id: int(total) for variant_id, total in session.exec(statement)}


def lock_customer(session: Session, customer: Customer) -> None:
    """Hold the customer's row until the transaction ends (a guest, known by e-mail, has none)."""
    from runtime.accounts.models import Account
    from runtime.accounts.models import Customer as CustomerRow
    from runtime.auth.models import User

    if customer.key is None or customer.key[0] == "email":
        return
    model = {"account": Account, "customer": CustomerRow, "user": User}[customer.key[0]]
    session.exec(select(model.id).where(model.id == customer.key[1]).with_for_update()).first()
