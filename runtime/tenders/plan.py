"""Which tenders pay an order, and how much each: the buyer's tenders (``CartTender``) in front,
then the live tender cascade that selects the payer, composed by :func:`rules.tender_cascade.compose`.
With no cascade selecting the payer, the cart's card (``setCartPayment``) pays the rest."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rules.tender_cascade import CompositionError, Step, compose
from sqlmodel import Session, select

from runtime.accounts.models import Location
from runtime.definitions.live import live_definitions
from runtime.errors import BusinessError
from runtime.mmoq.facts import customer_of
from runtime.money import Money, minor_units
from runtime.tenders.errors import TenderErrorCode
from runtime.tenders.models import CartTender
from runtime.tenders.types import TenderCall, TenderLeg, tender_type

KIND = "tender_cascade"
#: The split when no cascade selects the payer: the cart's card pays whatever the buyer's tenders leave.
DEFAULT_STEPS = (Step("card"),)


@dataclass(frozen=True)
class CascadeRef:
    name: str
    revision: int


def select_cascade(call: TenderCall, total: Money, group_id: int | None) -> tuple[Any, CascadeRef | None]:
    """The live cascade with the highest priority (then name) whose ``when`` holds for the payer."""
    live = sorted(live_definitions(call.app).all(KIND), key=lambda d: (-d.compiled.priority, d.name))
    if not live:
        return None, None
    payer = payer_fact(call.session, call, total, group_id) if any(d.compiled.predicate for d in live) else {}
    for definition in live:
        if definition.compiled.selects(payer):
            return definition.compiled, CascadeRef(definition.name, definition.revision)
    return None, None


def payer_fact(session: Session, call: TenderCall, total: Money, group_id: int | None) -> dict[str, Any]:
    cart = call.cart
    customer = customer_of(session, cart, group_id, call.channel)
    fact: dict[str, Any] = {**customer.fact, "is_b2b": cart.account_id is not None, "currency": cart.currency,
                            "total": float(total.amount)}
    if cart.location_id is not None:
        code = session.exec(select(Location.code).where(Location.id == cart.location_id)).first()
        if code is not None:
            fact["location"] = code
    return fact


def buyer_tenders(session: Session, cart_id: int) -> list[CartTender]:
    return list(session.exec(select(CartTender).where(CartTender.cart_id == cart_id).order_by(CartTender.position)))


def plan(call: TenderCall, total: Money, group_id: int | None = None) -> tuple[list[TenderLeg], CascadeRef | None]:
    """The legs that pay ``total``, in order; refuses (nothing written) when they cannot add up."""
    given = buyer_tenders(call.session, call.cart.id)
    cascade, ref = select_cascade(call, total, group_id)
    steps = cascade.steps if cascade is not None else DEFAULT_STEPS
    types = {name: tender_type(call.app, name, f"tenders[{i}].type") for i, name in
             enumerate(t.type for t in given)}
    for step in steps:
        types.setdefault(step.tender, tender_type(call.app, step.tender, "tenderCascade"))
    left = total.amount
    prepended: list[tuple[str, Decimal | None]] = []
    for index, tender in enumerate(given):
        # A buyer's tender without an amount takes what its own instrument covers, up to what is left.
        amount = None if tender.amount is None else Money(tender.amount, total.currency).amount
        if amount is None:
            covers = types[tender.type].value.available(call, {**tender.details, "cart_tender_id": tender.id})
            amount = left if covers is None else Money(min(covers, left), total.currency).amount
        prepended.append((tender.type, amount))
        left -= min(amount, left)
    available = {name: _money(entry.value.available(call, {}), total.currency) for name, entry in types.items()
                 if any(step.tender == name for step in steps)}
    try:
        legs = compose(total.amount, steps, available, prepended=prepended, decimals=minor_units(total.currency))
    except CompositionError as exc:
        field = f"tenders[{exc.index}].amount" if exc.index is not None else "tenders"
        message = exc.message if exc.index is not None else f"tenders: {exc.message.split(': ', 1)[1]}"
        raise BusinessError(TenderErrorCode[exc.code], message, field=field) from None
    single = not given and len(legs) == 1 and legs[0].tender == "card"
    result = []
    for position, leg in enumerate(legs):
        details: dict[str, Any] = {}
        if leg.prepended_index is not None:
            tender = given[leg.prepended_index]
            details = {**tender.details, "cart_tender_id": tender.id}
        if single:
            details["single"] = True
        result.append(TenderLeg(position, leg.tender, Money(leg.amount, total.currency), leg.source, details))
    return result, ref


def _money(value: Decimal | None, currency: str) -> Decimal | None:
    return None if value is None else Money(value, currency).amount
