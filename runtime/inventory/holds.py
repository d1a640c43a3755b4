"""Holds for carts and orders: the cart check, the checkout stage and the stock effect.

* Cart check ``inventory`` (position 500, after the packaging caps' 100): on a channel that holds
  at add-to-cart, every line change brings the cart's held reservations to what its lines need.
* Checkout stage ``inventory`` (position 850: after the order is created at 800, so the
  reservations can name it, and before payment at 900, so no card is charged for stock we do not
  have): re-validates inside placeOrder's transaction, keeps a cart's holds only if they still
  cover its lines under the product's current ``inventory_state_version``, takes the missing ones,
  and confirms them all for the order (``WHERE state = 'held'``: a hold the sweep expired meanwhile
  is taken again, never confirmed).
* Effect ``core.release_stock``: on the reservation machine's ``release``, ``expire`` and
  ``fulfil`` it gives the units back; on the order machine's ``ship`` and ``cancel`` it fulfils or
  releases the order's reservations.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import update
from sqlmodel import Session, select

from runtime.carts.checks import CartChange
from runtime.carts.errors import CheckoutErrorCode
from runtime.channels.models import Channel
from runtime.checkout.pipeline import Checkout
from runtime.inventory import moves
from runtime.inventory.models import Reservation
from runtime.inventory.stock import RESERVATION, Need, Policy, policies, return_stock, take_holds
from runtime.orders.models import Order, OrderLine
from runtime.state_machines.effects import EffectCall

#: ``Channel.inventory_hold_mode`` values.
AT_CHECKOUT, AT_ADD_TO_CART = "checkout", "add_to_cart"
HOLD_MODES = (AT_CHECKOUT, AT_ADD_TO_CART)
HELD, CONFIRMED = "held", "confirmed"


def needed(lines) -> dict[int, int]:
    """Base units per variant: two lines of one variant (any package) count together."""
    totals: dict[int, int] = defaultdict(int)
    for line in lines:
        totals[line.variant_id] += line.base_quantity
    return dict(totals)


def held_for_cart(session: Session, cart_id: int) -> list[Reservation]:
    return list(session.exec(select(Reservation).where(Reservation.cart_id == cart_id, Reservation.state == HELD)
                             .order_by(Reservation.id)))


def sync_cart(session: Session, cart_id: int, wanted: dict[int, int], actor_label: str, *,
              field: str) -> tuple[list[Reservation], dict[int, Policy]]:
    """Make the cart's held reservations exactly cover ``wanted`` for tracked variants: keep a
    variant's holds when they add up and were taken under the product's current policy version,
    else release them and hold anew. Returns the holds and the policies read."""
    current = held_for_cart(session, cart_id)
    known = policies(session, set(wanted) | {r.variant_id for r in current})
    by_variant: dict[int, list[Reservation]] = defaultdict(list)
    for reservation in current:
        by_variant[reservation.variant_id].append(reservation)
    keep, release, needs = [], [], []
    for variant_id in sorted(set(wanted) | set(by_variant)):
        policy, holds = known.get(variant_id), by_variant.get(variant_id, [])
        quantity = wanted.get(variant_id, 0) if policy is not None and policy.tracked else 0
        if holds and sum(r.quantity for r in holds) == quantity and all(r.policy_version == policy.version
                                                                        for r in holds):
            keep.extend(holds)
            continue
        release.extend(holds)
        if quantity:
            needs.append(Need(variant_id, quantity, field))
    moves.move(session, [r.id for r in release], "release", actor_label, context={"reason": "cart changed"})
    taken = take_holds(session, needs, known, code=CheckoutErrorCode.OUT_OF_STOCK, state=HELD, cart_id=cart_id)
    return keep + taken, known


def check_cart(change: CartChange) -> None:
    """The cart check: holds follow the lines on channels that hold at add-to-cart."""
    session, cart = change.session, change.cart
    mode = session.execute(select(Channel.inventory_hold_mode).where(Channel.id == cart.channel_id)).scalar_one()
    if mode != AT_ADD_TO_CART:
        return
    sync_cart(session, cart.id, needed(change.lines), change.actor.label, field="lines")


def place(checkout: Checkout) -> None:
    """The checkout stage: hold what is missing, confirm every hold for the new order."""
    session, order = checkout.session, checkout.order
    wanted = needed(checkout.lines)
    holds, known = sync_cart(session, checkout.cart.id, wanted, checkout.actor.label, field="cartId")
    taken = {r.id: (r.variant_id, r.quantity, r.backordered) for r in holds}  # read before the moves expire them
    confirmed = set(moves.move(session, list(taken), "confirm", checkout.actor.label, values={"order_id": order.id}))
    lost: dict[int, int] = defaultdict(int)
    for id_, (variant_id, quantity, _backordered) in taken.items():
        if id_ not in confirmed:
            lost[variant_id] += quantity
    if lost:  # expired between our read and our UPDATE: hold those units again, then confirm
        again = take_holds(session, [Need(v, q, "cartId") for v, q in sorted(lost.items())], known,
                           code=CheckoutErrorCode.OUT_OF_STOCK, state=HELD, cart_id=checkout.cart.id)
        taken = {i: t for i, t in taken.items() if i in confirmed}
        taken.update({r.id: (r.variant_id, r.quantity, r.backordered) for r in again})
        moves.move(session, [r.id for r in again], "confirm", checkout.actor.label, values={"order_id": order.id})
    tracked = sorted(v for v in wanted if known.get(v) is not None and known[v].tracked)
    if tracked:
        session.execute(update(OrderLine).where(OrderLine.order_id == order.id, OrderLine.variant_id.in_(tracked))
                        .values(tracking_enabled_at_checkout=True).execution_options(synchronize_session=False))
    backordered: dict[str, int] = defaultdict(int)
    for variant_id, _quantity, units in taken.values():
        if units:
            backordered[known[variant_id].sku] += units
    if backordered:
        order.inventory_risk_flag = True  # sold beyond stock: triage it
    if tracked:
        order.pipeline = {**order.pipeline, "inventory": {"tracked": [known[v].sku for v in tracked],
                                                          "backordered": dict(backordered)}}
        session.add(order)


def release_stock(call: EffectCall) -> None:
    """The ``core.release_stock`` effect (in the firing transaction)."""
    session = call.session
    if call.entity_type == RESERVATION:
        return_stock(session, [int(i) for i in call.entity_ids], shipped=call.to_state == "fulfilled")
    elif call.entity_type == "order":
        transition = "fulfil" if call.to_state == "shipped" else "release"
        ids = list(session.execute(select(Reservation.id).where(
            Reservation.order_id.in_([int(i) for i in call.entity_ids]),
            Reservation.state.in_((HELD, CONFIRMED)))).scalars())
        moves.move(session, ids, transition, call.actor, context={"order_transition": call.transition})


def flag_orders_at_risk(session: Session, variant_id: int, warehouse_id: int | None = None) -> int:
    """Raise ``inventory_risk_flag`` on orders whose confirmed units of the variant are no longer
    covered (stock drift found after placement). Returns how many orders were newly flagged."""
    holders = select(Reservation.order_id).where(Reservation.variant_id == variant_id, Reservation.state == CONFIRMED,
                                                 Reservation.order_id.is_not(None))
    if warehouse_id is not None:
        holders = holders.where(Reservation.warehouse_id == warehouse_id)
    return session.execute(update(Order).where(Order.id.in_(holders), Order.inventory_risk_flag.is_(False))
                           .values(inventory_risk_flag=True).execution_options(synchronize_session=False)).rowcount
