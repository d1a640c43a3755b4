"""What a refund asks for and which tenders give it back.

* :func:`figures` turns the input (the whole order, lines with quantities, shipping, or a free
  amount) into the amount with its tax and shipping parts. Every part is a share of what the buyer
  paid: a line's net value (its total less its share of the order's discounts) and the shipping
  are scaled by ``total / (subtotal - discounts + shipping)``, so a whole-order refund is exactly
  the order's total and tax comes back in proportion (``tax_total / total`` of the amount).
* :func:`refundable` is, per tender, what was captured less what was refunded and less what
  approved requests still reserve (their legs not done): the cap invariant reads it under the
  order's row lock.
* :func:`default_plan` splits an amount over the tenders in the reverse of the tender cascade
  (the last tender charged is the first refunded), each up to what it can still return.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from runtime.errors import BusinessError
from runtime.money import AmountError, Money, minor_units, parse_decimal
from runtime.orders.models import Order, OrderLine
from runtime.payments.models import PaymentTransaction
from runtime.refunds.errors import RefundErrorCode as Code
from runtime.refunds.models import LEG_DONE, RESERVING, RefundLeg, RefundRequest
from runtime.tenders.models import PaymentTender

#: Reasons a request may give (the ``refund_request`` fact's enum).
REASONS = ("damaged", "not_received", "wrong_item", "changed_mind", "other")
#: Request states whose lines count as refunded or asked for (a line is not refunded twice).
LIVE_STATES = ("requested", "approved", "executing", "failed", "executed")


@dataclass(frozen=True)
class Figures:
    amount: Decimal
    tax: Decimal
    shipping: Decimal
    scope: dict[str, Any]


@dataclass(frozen=True)
class TenderRoom:
    tender: PaymentTender
    payment: PaymentTransaction | None
    captured: Decimal
    refunded: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        return self.captured - self.refunded - self.reserved


def parse_amount(text: Any, currency: str, field: str) -> Decimal:
    places = minor_units(currency)
    try:
        value = parse_decimal(str(text), field, places=places) if isinstance(text, (str, int)) else None
    except AmountError as exc:
        raise BusinessError(Code.INVALID_AMOUNT, str(exc), field=field) from None
    if value is None or value <= 0:
        raise BusinessError(Code.INVALID_AMOUNT, f"{field}: expected a positive amount like \"10.00\", got {text!r}",
                            field=field)
    return value


def rounded(value: Decimal, currency: str) -> Decimal:
    return Money(value, currency).amount


def figures(session: Session, order: Order, data: dict[str, Any]) -> Figures:
    """The amount ``data`` asks for (validated: exactly one of wholeOrder, lines/shipping, amount)."""
    whole, lines, shipping, amount = (data.get("whole_order") or False, data.get("lines") or [],
                                      data.get("shipping") or False, data.get("amount"))
    chosen = [name for name, given in (("wholeOrder", whole), ("lines", lines or shipping),
                                       ("amount", amount is not None)) if given]
    if len(chosen) != 1:
        raise BusinessError(Code.INVALID_INPUT, "input: give exactly one of wholeOrder, lines (and/or shipping) or "
                            f"amount; got {', '.join(chosen) or 'none'}", field="input")
    total = order.total
    tax_share = (order.tax_total / total) if total else Decimal(0)
    if amount is not None:
        value = parse_amount(amount, order.currency, "input.amount")
        return Figures(value, rounded(value * tax_share, order.currency), Decimal(0), {"kind": "amount"})
    if whole:
        return Figures(total, order.tax_total, order.shipping_total, {"kind": "order"})
    base = order.subtotal - order.discount_total + order.shipping_total
    factor = (total / base) if base else Decimal(0)
    parts, ordered = [], Decimal(0)
    scopes = _live_scopes(session, order.id)  # what earlier requests took: lines and shipping
    taken = _lines_taken(scopes)
    by_id = {line.id: line for line in session.exec(select(OrderLine).where(OrderLine.order_id == order.id))}
    seen: set[int] = set()
    for index, item in enumerate(lines):
        field = f"input.lines[{index}]"
        line_id = as_int(item.get("line_id"))
        line = by_id.get(line_id) if line_id is not None else None
        if line is None:
            raise BusinessError(Code.UNKNOWN_LINE, f"{field}.lineId: order {order.number} has no line "
                                f"{item.get('line_id')!r}", field=f"{field}.lineId")
        if line_id in seen:
            raise BusinessError(Code.INVALID_INPUT, f"{field}.lineId: line {line_id} is named twice", field=f"{field}.lineId")
        seen.add(line_id)
        quantity = item.get("quantity")
        left = line.quantity - taken.get(line_id, 0)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0 or quantity > left:
            raise BusinessError(Code.INVALID_QUANTITY, f"{field}.quantity: expected 1 to {left} (the line has "
                                f"{line.quantity}, {line.quantity - left} already refunded or asked for), got "
                                f"{quantity!r}", field=f"{field}.quantity", available=left)
        discount = (order.discount_total * line.line_total / order.subtotal) if order.subtotal else Decimal(0)
        net = (line.line_total - discount) * quantity / line.quantity
        value = rounded(net * factor, order.currency)
        parts.append({"line_id": line_id, "quantity": quantity, "amount": format(value, "f")})
        ordered += value
    ship = Decimal(0)
    if shipping:
        if any(scope.get("shipping") for scope in scopes):
            raise BusinessError(Code.INVALID_INPUT, "input.shipping: the shipping is already refunded or asked for",
                                field="input.shipping")
        if not order.shipping_total:
            raise BusinessError(Code.INVALID_INPUT, f"input.shipping: order {order.number} charged no shipping",
                                field="input.shipping")
        ship = rounded(order.shipping_total * factor, order.currency)
    value = ordered + ship
    return Figures(value, rounded(value * tax_share, order.currency), ship,
                   {"kind": "lines", "lines": parts, "shipping": bool(shipping)})


def as_int(value: Any) -> int | None:
    """An id given as text or a number, or None when it cannot be a row id (a 32-bit key)."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _live_scopes(session: Session, order_id: int) -> list[dict[str, Any]]:
    return list(session.exec(select(RefundRequest.scope).where(RefundRequest.order_id == order_id,
                                                               RefundRequest.state.in_(LIVE_STATES))))


def _lines_taken(scopes: list[dict[str, Any]]) -> dict[int, int]:
    taken: dict[int, int] = {}
    for scope in scopes:
        for part in scope.get("lines", []):
            taken[part["line_id"]] = taken.get(part["line_id"], 0) + part["quantity"]
    return taken


def refundable(session: Session, order_id: int, *, excluding: int | None = None) -> list[TenderRoom]:
    """Each tender of the order with what it can still give back (two statements)."""
    rows = session.exec(select(PaymentTender, PaymentTransaction)
                        .outerjoin(PaymentTransaction, PaymentTransaction.id == PaymentTender.payment_transaction_id)
                        .where(PaymentTender.order_id == order_id).order_by(PaymentTender.position)).all()
    reserved_query = (select(RefundLeg.tender_id, func.coalesce(func.sum(RefundLeg.amount), 0))
                      .join(RefundRequest, RefundRequest.id == RefundLeg.request_id)
                      .where(RefundRequest.order_id == order_id, RefundRequest.state.in_(RESERVING),
                             RefundLeg.state != LEG_DONE))
    if excluding is not None:
        reserved_query = reserved_query.where(RefundRequest.id != excluding)
    reserved = {tender_id: Decimal(str(total)) for tender_id, total in
                session.exec(reserved_query.group_by(RefundLeg.tender_id)).all()}
    rooms = []
    for tender, payment in rows:
        captured = payment.captured_amount if payment is not None else Decimal(0)
        refunded = payment.refunded_amount if payment is not None else Decimal(0)
        rooms.append(TenderRoom(tender, payment, captured, refunded, reserved.get(tender.id, Decimal(0))))
    return rooms


def reserved_on_payment(session: Session, payment: PaymentTransaction) -> Decimal:
    """What approved refund requests still owe from ``payment`` (their legs not done): refundPayment
    keeps it (``runtime.payments.service.REFUND_RESERVATIONS``)."""
    total = session.exec(select(func.coalesce(func.sum(RefundLeg.amount), 0))
                         .join(RefundRequest, RefundRequest.id == RefundLeg.request_id)
                         .join(PaymentTender, PaymentTender.id == RefundLeg.tender_id)
                         .where(PaymentTender.payment_transaction_id == payment.id,
                                RefundRequest.state.in_(RESERVING), RefundLeg.state != LEG_DONE)).one()
    return Decimal(str(total))


def default_plan(rooms: list[TenderRoom], amount: Decimal) -> list[tuple[TenderRoom, Decimal]]:
    """``amount`` over the tenders, last position first, each up to what it can return."""
    plan, left = [], amount
    for room in sorted(rooms, key=lambda r: -r.tender.position):
        if left <= 0:
            break
        take = min(left, room.available)
        if take > 0:
            plan.append((room, take))
            left -= take
    return plan


def given_plan(rooms: list[TenderRoom], legs: list[dict[str, Any]], amount: Decimal, currency: str,
               field: str) -> list[tuple[TenderRoom, Decimal]]:
    """A plan an approver or requester wrote: every tender on the order once, within what it can
    return, adding up to ``amount``."""
    by_id = {str(room.tender.id): room for room in rooms}
    plan, seen = [], set()
    for index, leg in enumerate(legs):
        at = f"{field}[{index}]"
        room = by_id.get(str(leg.get("tender_id")))
        if room is None or room.tender.id in seen:
            why = "is named twice" if room is not None else "is not a tender of this order"
            raise BusinessError(Code.INVALID_PLAN, f"{at}.tenderId: tender {leg.get('tender_id')!r} {why}",
                                field=f"{at}.tenderId")
        seen.add(room.tender.id)
        value = parse_amount(leg.get("amount"), currency, f"{at}.amount")
        if value > room.available:
            left = format(rounded(max(room.available, Decimal(0)), currency), "f")
            raise BusinessError(Code.INVALID_PLAN, f"{at}.amount: the {room.tender.type} tender can return "
                                f"{left} {currency} now, not {value}", field=f"{at}.amount", available=left)
        plan.append((room, value))
    planned = sum((value for _, value in plan), Decimal(0))
    if planned != amount:
        raise BusinessError(Code.INVALID_PLAN, f"{field}: the legs add up to {planned}, the refund is {amount} "
                            f"{currency}", field=field)
    return plan
