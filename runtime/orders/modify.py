"""``modifyOrder``: change the lines of an authorised, not yet captured order, in one transaction.

The steps follow placeOrder's, and reuse its stages rather than a second pricing:

1. the order row locked; refused unless ``placed`` or ``paid`` with every leg authorised and
   nothing captured; a key already used answers the order as it is;
2. the new lines run through the checkout stages that price (:data:`REPRICE`: pricing, caps,
   promotions, shipping, tax) on transient cart lines, after the old version's lines, discount
   and tax lines and promotion usage were taken away (so the caps' 30-day window and the usage
   limits count the new version only);
3. money before stock, as at checkout (a gateway that hangs never holds stock rows): each leg's
   tender type holds the new amount (:func:`adjust_tenders`): an increase goes to the last leg,
   a decrease comes off the last legs first;
4. stock: the reservations of each variant whose quantity changed are released and taken again
   under the stock rows' locks (:func:`swap_stock`);
5. the new lines and totals written, the :data:`RECORD` stages (discount lines, usage, tax lines)
   run on them, and the version kept (:class:`~runtime.orders.versions.OrderVersion`).

Any refusal rolls the transaction back: lines, holds, ledger entries and reservations are as
before, and what already happened at a gateway is undone by the rollback hooks (an incremental
authorisation lowered again, a new authorisation voided). Every gateway call carries a key derived
from the order, the client's key and the leg.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from enum import Enum
from typing import Any

from flask import current_app
from sqlalchemy import delete
from sqlmodel import Session, select

from runtime.accounts.ownership import owns
from runtime.auth.permissions import Actor
from runtime.carts import lines as cart_lines
from runtime.carts.errors import CheckoutErrorCode
from runtime.carts.models import Cart, CartLine
from runtime.channels.models import Channel
from runtime.checkout.pipeline import Checkout, stages
from runtime.checkout.service import check_key
from runtime.db import after_commit, lock_row
from runtime.errors import BusinessError, BusinessErrors
from runtime.events import emit
from runtime.inventory import moves
from runtime.inventory.holds import CONFIRMED, HELD, needed
from runtime.inventory.models import Reservation
from runtime.inventory.stock import Need, policies, take_holds
from runtime.money import Money
from runtime.orders.models import Order, OrderLine
from runtime.orders.service import get_order, to_base
from runtime.orders.transitions import apply
from runtime.orders.versions import OrderVersion, snapshot_lines
from runtime.payments.models import PaymentTransaction
from runtime.promotions.models import OrderDiscount
from runtime.promotions.usage import release_usage
from runtime.tax.models import OrderTaxLine
from runtime.tenders.card import MODIFY as MODIFY_ACTOR
from runtime.tenders.card import void_replaced
from runtime.tenders.models import PaymentTender
from runtime.tenders.types import Undo, tender_types

#: The staff permission to modify any order (a buyer may where the channel allows it).
MODIFY = "orders.modify"
#: The buyer's permission that, on a channel with ``buyers_modify_orders``, lets them modify their own orders.
BUYER = "orders.place"
#: Order states a modification may start from.
MODIFIABLE = ("placed", "paid")
#: The checkout stages that price the new lines, and those that record them on the order.
REPRICE = ("pricing", "mmoq", "promotions", "shipping", "promotion_shipping", "tax")
RECORD = ("promotion_usage", "tax_lines")
REASON_MAX = 500


class ModifyErrorCode(str, Enum):
    """``OrderModificationErrorCode`` in GraphQL: the codes of the domains a modification runs through."""

    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    #: The order's state or a leg's state does not allow it (held for review, shipped, a pending leg…).
    NOT_MODIFIABLE = "NOT_MODIFIABLE"
    #: Money of the order was captured: refund and order again instead.
    ALREADY_CAPTURED = "ALREADY_CAPTURED"
    TENDER_NOT_ADJUSTABLE = "TENDER_NOT_ADJUSTABLE"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    UNKNOWN_PACKAGE = "UNKNOWN_PACKAGE"
    NO_PRICE = "NO_PRICE"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    MMOQ_BELOW_MIN = "MMOQ_BELOW_MIN"
    MMOQ_NOT_INCREMENT = "MMOQ_NOT_INCREMENT"
    MMOQ_ABOVE_MAX = "MMOQ_ABOVE_MAX"
    MMOQ_ABOVE_30D_MAX = "MMOQ_ABOVE_30D_MAX"
    MMOQ_ABOVE_BACKORDER_MAX = "MMOQ_ABOVE_BACKORDER_MAX"
    SHIPPING_METHOD_UNAVAILABLE = "SHIPPING_METHOD_UNAVAILABLE"
    TAX_ADDRESS_INVALID = "TAX_ADDRESS_INVALID"
    TAX_PROVIDER_FAILED = "TAX_PROVIDER_FAILED"
    PROMOTION_LIMIT_REACHED = "PROMOTION_LIMIT_REACHED"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"
    MISSING_PAYMENT = "MISSING_PAYMENT"
    NO_GATEWAY = "NO_GATEWAY"
    INSUFFICIENT_STORE_CREDIT = "INSUFFICIENT_STORE_CREDIT"
    INSUFFICIENT_GIFT_CARD_BALANCE = "INSUFFICIENT_GIFT_CARD_BALANCE"
    CREDIT_LIMIT_EXCEEDED = "CREDIT_LIMIT_EXCEEDED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    #: Any other refusal of a stage; the message says which.
    MODIFICATION_FAILED = "MODIFICATION_FAILED"


def as_modify_errors(exc: BusinessError | BusinessErrors) -> BusinessErrors:
    """Refusals of the stages and tender types in this mutation's codes, fields under ``input``."""
    errors = []
    for error in getattr(exc, "errors", [exc]):
        code = error.code if error.code in ModifyErrorCode.__members__ else ModifyErrorCode.MODIFICATION_FAILED.value
        field = "input.lines" if error.field in ("cartId", "lines") else error.field
        errors.append(BusinessError(code, error.message.replace("cartId: ", "input.lines: ", 1), field=field,
                                    **error.params))
    return BusinessErrors(errors)


def modify_order(session: Session, actor: Actor, order_id: Any, values: dict[str, Any], *, base_currency: str) -> Order:
    key = check_key(values.get("idempotency_key"), "input.idempotencyKey")
    reason = str(values.get("reason") or "")
    if len(reason) > REASON_MAX:
        raise BusinessError(ModifyErrorCode.INVALID_INPUT, f"input.reason: at most {REASON_MAX} characters",
                            field="input.reason")
    order = lock_row(session, Order, get_order(session, actor, order_id).id)
    if session.exec(select(OrderVersion.id).where(OrderVersion.order_id == order.id,
                                                  OrderVersion.idempotency_key == key)).first() is not None:
        return order  # a retry of a modification that committed
    channel = session.get(Channel, order.channel_id)
    _may_modify(actor, order, channel)
    legs = _modifiable(session, order)
    cart = session.get(Cart, order.cart_id) if order.cart_id is not None else None
    if cart is None:
        raise BusinessError(ModifyErrorCode.NOT_MODIFIABLE, f"orderId: order {order.number} has no cart to price "
                            "its lines against", field="orderId")
    try:
        return _modify(session, actor, order, channel, cart, legs, values.get("lines") or [], key, reason,
                       base_currency)
    except (BusinessError, BusinessErrors) as exc:
        raise as_modify_errors(exc) from None


def _modify(session: Session, actor: Actor, order: Order, channel: Channel, cart: Cart, legs: list, inputs: list,
            key: str, reason: str, base_currency: str) -> Order:
    requests, _variants = cart_lines.resolve_line_inputs(session, cart, inputs, "input.lines", set())
    lines, fields = cart_lines.merge(cart, [], requests)
    if not lines:
        raise BusinessError(ModifyErrorCode.INVALID_INPUT, "input.lines: an order keeps at least one line; cancel it "
                            "instead", field="input.lines")
    old_lines = list(session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)))
    previous_total = order.total
    _prime(lines, old_lines)
    versions = list(session.exec(select(OrderVersion.version).where(OrderVersion.order_id == order.id)))
    if not versions:
        session.add(_version(order, 1, old_lines, legs, None, "system:placed", "as placed"))
    number = max(versions, default=1) + 1
    _clear(session, order)
    checkout = Checkout(session=session, cart=cart, lines=lines, channel=channel, actor=actor,
                        base_currency=base_currency, idempotency_key=key)
    _reprice(checkout)
    adjust_tenders(session, order, legs, checkout.total, key)
    swap_stock(session, order, lines, fields, actor.label)
    _write(session, order, checkout, lines)
    checkout.order = order
    for stage in _named(RECORD):
        stage.run(checkout)
    session.flush()
    new_lines = _new_lines(session, order)
    session.add(_version(order, number, new_lines, legs, key, actor.label, reason))
    emit(session, "order.modified", {
        "order_id": str(order.id), "channel_id": str(order.channel_id), "version": number,
        "total": format(Money(order.total, order.currency).amount, "f"),
        "previous_total": format(Money(previous_total, order.currency).amount, "f"), "currency": order.currency,
        "lines": len(new_lines),
        **{k: str(v) for k, v in (("account_id", order.account_id), ("customer_id", order.customer_id)) if v is not None},
    }, key=str(order.id))
    return order


def _may_modify(actor: Actor, order: Order, channel: Channel) -> None:
    """Staff with ``orders.modify``; the buyer who owns the order where its channel lets buyers."""
    if actor.has(MODIFY):
        return
    owner = owns(actor, user_id=order.user_id, account_id=order.account_id, staff_permission=MODIFY)
    if owner and channel.buyers_modify_orders and actor.has(BUYER):
        return
    why = "this channel does not let buyers change their orders" if owner else f"it needs {MODIFY}"
    raise BusinessError(ModifyErrorCode.PERMISSION_DENIED, f"orderId: you may not modify order {order.number}: {why}",
                        field="orderId")


def _modifiable(session: Session, order: Order) -> list[tuple[PaymentTender, PaymentTransaction]]:
    """The order's legs with their authorisations, or the refusal saying why it cannot change."""
    if order.state not in MODIFIABLE:
        raise BusinessError(ModifyErrorCode.NOT_MODIFIABLE, f"orderId: order {order.number} is {order.state}; only a "
                            f"{' or '.join(MODIFIABLE)} order can be modified", field="orderId", state=order.state)
    legs = []
    for tender in session.exec(select(PaymentTender).where(PaymentTender.order_id == order.id)
                               .order_by(PaymentTender.position)):
        payment = (lock_row(session, PaymentTransaction, tender.payment_transaction_id)
                   if tender.payment_transaction_id is not None else None)
        if payment is None:
            raise BusinessError(ModifyErrorCode.NOT_MODIFIABLE, f"orderId: tenders[{tender.position}] has no "
                                "authorisation", field="orderId")
        if payment.captured_amount > 0 or payment.state in ("captured", "partially_captured", "partially_refunded",
                                                            "refunded"):
            raise BusinessError(ModifyErrorCode.ALREADY_CAPTURED, f"orderId: tenders[{tender.position}] of order "
                                f"{order.number} was captured; refund it and order again instead", field="orderId")
        if tender.amount == 0 and payment.state == "voided":
            continue  # a leg an earlier modification emptied
        if payment.state != "authorized":
            raise BusinessError(ModifyErrorCode.NOT_MODIFIABLE, f"orderId: tenders[{tender.position}] is "
                                f"{payment.state}, not authorized", field="orderId", state=payment.state)
        legs.append((tender, payment))
    if not legs:
        raise BusinessError(ModifyErrorCode.NOT_MODIFIABLE, f"orderId: order {order.number} has no authorised tender",
                            field="orderId")
    return legs


def _prime(lines: list[CartLine], old_lines: list[OrderLine]) -> None:
    """Transient lines (never written to the cart): ids of their own for the stages' per-line maps,
    and the version's prices, so the pricing stage notes what moved since."""
    was = {(line.variant_id, line.package_slug): line.unit_price for line in old_lines}
    for index, line in enumerate(lines, start=1):
        line.id = -index
        line.unit_price = was.get((line.variant_id, line.package_slug), line.unit_price)


def _clear(session: Session, order: Order) -> None:
    """Take the old version off the order: its discount and tax lines, lines and promotion usage."""
    release_usage(session, order)
    session.execute(delete(OrderDiscount).where(OrderDiscount.order_id == order.id))
    session.execute(delete(OrderTaxLine).where(OrderTaxLine.order_id == order.id))
    session.execute(delete(OrderLine).where(OrderLine.order_id == order.id))


def _named(names: tuple[str, ...]) -> list:
    return [stage for stage in stages(current_app) if stage.name in names]


def _reprice(checkout: Checkout) -> None:
    """The pricing stages on the transient lines; the converted cart keeps its own totals."""
    cart, session = checkout.cart, checkout.session
    kept = {name: getattr(cart, name) for name in ("item_count", "subtotal", "shipping_total", "total",
                                                    "shipping_method")}
    try:
        with session.no_autoflush:
            for stage in _named(REPRICE):
                stage.run(checkout)
    finally:
        checkout.note("shipping_method", method=cart.shipping_method)
        for line in checkout.lines:
            if line in session:
                session.expunge(line)
        for name, value in kept.items():
            setattr(cart, name, value)


def adjust_tenders(session: Session, order: Order, legs: list, total: Money, key: str) -> None:
    """Each leg's tender type holds its new amount: the difference to the last leg when the total
    grows, off the last legs first when it shrinks (a leg taken to nothing is voided)."""
    amounts = _split(legs, total)
    types = tender_types(current_app)
    reference = key if len(key) <= 60 else hashlib.sha256(key.encode()).hexdigest()[:40]
    for (tender, payment), amount in zip(legs, amounts):
        if amount.amount == tender.amount:
            continue
        field = f"tenders[{tender.position}]"
        entry = types.get(tender.type)
        base = f"modify:{order.id}:{reference}:t{tender.position}"
        if amount.amount == 0:
            _void_leg(session, order, tender, payment, entry, base)
            continue
        adjust = getattr(entry.value, "adjust", None) if entry is not None else None
        if not callable(adjust):
            raise BusinessError(ModifyErrorCode.TENDER_NOT_ADJUSTABLE, f"{field}: the {tender.type!r} tender type cannot "
                                "change an authorised amount", field=field)
        done = adjust(session, order, payment, amount, base, field)
        if isinstance(done, PaymentTransaction):  # a card: the same authorisation, or the one replacing it
            session.flush()
            tender.payment_transaction_id, tender.reference = done.id, done.gateway_reference
        else:
            session.add(PaymentTransaction(order_id=order.id, parent_id=payment.id, type="adjustment",
                                           state="succeeded", gateway=payment.gateway, gateway_reference=done,
                                           idempotency_key=base, amount=amount.amount, currency=amount.currency,
                                           actor=MODIFY_ACTOR.label,
                                           message=f"held {amount.amount} instead of {payment.amount}"))
            payment.amount, payment.gateway_reference = amount.amount, done
            tender.reference = done
            session.add(payment)
        tender.amount = amount.amount
        session.add(tender)


def _split(legs: list, total: Money) -> list[Money]:
    amounts = [Money(tender.amount, total.currency) for tender, _payment in legs]
    difference = total - sum(amounts, Money.zero(total.currency))
    if difference.amount >= 0:
        amounts[-1] = amounts[-1] + difference
        return amounts
    owed = -difference
    for index in range(len(amounts) - 1, -1, -1):
        taken = min(amounts[index], owed)
        amounts[index], owed = amounts[index] - taken, owed - taken
    return amounts


def _void_leg(session: Session, order: Order, tender: PaymentTender, payment: PaymentTransaction, entry, base: str):
    """A leg the smaller total no longer needs: an internal hold released now, a card voided after commit."""
    if entry is not None and payment.gateway == entry.key:  # an internal tender: its gateway is its registry key
        reference = entry.value.undo(session, order, payment, Undo("void", Money(payment.amount, payment.currency),
                                                                   f"{base}:void"))
        apply(session, payment, "void", MODIFY_ACTOR)
        session.add(PaymentTransaction(order_id=order.id, parent_id=payment.id, type="void", state="succeeded",
                                       gateway=payment.gateway, gateway_reference=reference,
                                       idempotency_key=f"{base}:void", amount=payment.amount,
                                       currency=payment.currency, actor=MODIFY_ACTOR.label,
                                       message=f"not needed after order {order.number} was modified"))
    else:
        app = current_app._get_current_object()
        after_commit(session, lambda: void_replaced(app, payment.id))
    tender.amount = 0
    session.add(tender)


def swap_stock(session: Session, order: Order, lines: list[CartLine], fields: dict[int, str], actor_label: str) -> None:
    """Reservations follow the new quantities exactly: a variant whose base units changed gives
    its reservations back and holds the new quantity under the stock rows' locks (all or none)."""
    wanted = needed(lines)
    current = list(session.exec(select(Reservation).where(Reservation.order_id == order.id,
                                                          Reservation.state.in_((HELD, CONFIRMED)))
                                .order_by(Reservation.id)))
    known = policies(session, set(wanted) | {r.variant_id for r in current})
    by_variant: dict[int, list[Reservation]] = defaultdict(list)
    for reservation in current:
        by_variant[reservation.variant_id].append(reservation)
    release, needs = [], []
    for variant_id in sorted(set(wanted) | set(by_variant)):
        policy = known.get(variant_id)
        quantity = wanted.get(variant_id, 0) if policy is not None and policy.tracked else 0
        holds = by_variant.get(variant_id, [])
        if sum(r.quantity for r in holds) == quantity:
            continue
        release.extend(r.id for r in holds)
        if quantity:
            field = fields.get(variant_id, "input.lines").removesuffix(".variantId")
            needs.append(Need(variant_id, quantity, field))
    moves.move(session, release, "release", actor_label, context={"reason": "order modified"})
    taken = take_holds(session, needs, known, code=CheckoutErrorCode.OUT_OF_STOCK, state=HELD, order_id=order.id)
    moves.move(session, [r.id for r in taken], "confirm", actor_label, values={"order_id": order.id})
    if any(r.backordered for r in taken):
        order.inventory_risk_flag = True
    order.pipeline = {**order.pipeline, "tracked_variants": sorted(v for v in wanted if known.get(v) is not None
                                                                   and known[v].tracked)}


def _write(session: Session, order: Order, checkout: Checkout, lines: list[CartLine]) -> None:
    """The new lines (in the transient lines' order, as the record stages pair them) and totals."""
    rate, base = order.exchange_rate, order.base_currency
    tracked = set(order.pipeline.pop("tracked_variants", []))
    for line in lines:
        variant, product = checkout.variants[line.variant_id]
        price = cart_lines.line_price(line, checkout.prices[line.variant_id])
        session.add(OrderLine(order_id=order.id, variant_id=line.variant_id, sku=variant.sku, product_name=product.name,
                              variant_name=variant.name, quantity=line.quantity, package_slug=line.package_slug,
                              package_multiplier=line.package_multiplier, unit_price=price.unit_price.amount,
                              line_total=price.line_total.amount,
                              base_unit_price=to_base(price.unit_price.amount, rate, base),
                              price_level=getattr(price.level, "value", str(price.level)),
                              price_list_slug=price.price_list_slug,
                              tracking_enabled_at_checkout=line.variant_id in tracked))
    zero = checkout.money(0)
    order.subtotal = checkout.subtotal.amount
    order.shipping_total = (checkout.shipping_total or zero).amount
    order.discount_total = (checkout.discount_total or zero).amount
    order.tax_total = (checkout.tax_total or zero).amount
    order.total = checkout.total.amount
    order.base_total = to_base(order.total, rate, base)
    order.item_count = sum(line.quantity for line in lines)
    notes = dict(checkout.notes)
    order.shipping_method = notes.pop("shipping_method", {}).get("method") or order.shipping_method
    order.pipeline = {**order.pipeline, **notes}
    session.add(order)


def _new_lines(session: Session, order: Order) -> list[OrderLine]:
    return list(session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)))


def _version(order: Order, number: int, lines: list[OrderLine], legs: list, key: str | None, actor: str,
             reason: str) -> OrderVersion:
    return OrderVersion(order_id=order.id, version=number, idempotency_key=key, actor=actor[:254], reason=reason,
                        lines=snapshot_lines(lines, order.currency), currency=order.currency, subtotal=order.subtotal,
                        shipping_total=order.shipping_total, discount_total=order.discount_total,
                        tax_total=order.tax_total, total=order.total,
                        tenders=[{"position": t.position, "type": t.type,
                                  "amount": format(Money(t.amount, order.currency).amount, "f"),
                                  "gateway": t.gateway, "reference": t.reference,
                                  "payment_id": t.payment_transaction_id} for t, _p in legs])
