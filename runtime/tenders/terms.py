"""The ``net_terms`` tender type: an account buys on credit (net 30…). Authorising reserves open
credit (the limit less every open reservation) under the terms row's lock, so two orders never
both take the last of it; the reservation records the invoice's due date."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from runtime.clock import utcnow
from runtime.db import lock_row
from runtime.errors import BusinessError
from runtime.money import Money
from runtime.tenders.errors import TenderErrorCode
from runtime.tenders.models import NetTermsAccount, NetTermsReservation, PaymentTender
from runtime.tenders.receivables import NetTermsReceivable
from runtime.tenders.types import Authorized, TenderCall, TenderLeg, Undo, leg_key

GATEWAY = "core.tender_type.net_terms"
#: Reservation states that use open credit.
OPEN = ("reserved",)


def terms_of(session: Session, account_id: int | None, currency: str, *, lock: bool = False) -> NetTermsAccount | None:
    if account_id is None:
        return None
    terms = session.exec(select(NetTermsAccount).where(NetTermsAccount.account_id == account_id)).first()
    if terms is not None and lock:
        terms = lock_row(session, NetTermsAccount, terms.id)
    return terms if terms is not None and terms.is_active and terms.currency == currency else None


def open_credit(session: Session, terms: NetTermsAccount) -> Decimal:
    """The limit less what open reservations and unpaid receivables use."""
    used = session.exec(select(func.coalesce(func.sum(NetTermsReservation.amount), 0))
                        .where(NetTermsReservation.terms_account_id == terms.id,
                               NetTermsReservation.state.in_(OPEN))).one()
    owed = session.exec(select(func.coalesce(func.sum(NetTermsReceivable.amount), 0))
                        .where(NetTermsReceivable.terms_account_id == terms.id,
                               NetTermsReceivable.state == "open")).one()
    return terms.credit_limit - Decimal(str(used)) - Decimal(str(owed))


class NetTermsTender:
    def prepare(self, session: Session, actor: Any, cart: Any, value: dict[str, Any], field: str) -> dict[str, Any]:
        if terms_of(session, cart.account_id, cart.currency) is None:
            raise BusinessError(TenderErrorCode.NO_NET_TERMS, f"{field}.type: the cart's account has no net terms in "
                                f"{cart.currency}", field=f"{field}.type")
        return {}

    def available(self, call: TenderCall, details: dict[str, Any]) -> Decimal | None:
        terms = terms_of(call.session, call.cart.account_id, call.currency)
        return Decimal(0) if terms is None else max(open_credit(call.session, terms), Decimal(0))

    def authorize(self, call: TenderCall, leg: TenderLeg) -> Authorized:
        terms = terms_of(call.session, call.cart.account_id, call.currency, lock=True)
        if terms is None:
            raise BusinessError(TenderErrorCode.NO_NET_TERMS, f"{leg.field}.type: the cart's account has no net terms in "
                                f"{call.currency}", field=f"{leg.field}.type")
        left = Money(open_credit(call.session, terms), call.currency).amount
        if leg.amount.amount > left:
            raise BusinessError(TenderErrorCode.CREDIT_LIMIT_EXCEEDED,
                                f"{leg.field}.amount: {leg.amount.amount} {call.currency} is more than the account's open "
                                f"credit of {max(left, Decimal(0))} (limit {Money(terms.credit_limit, call.currency).amount})",
                                field=f"{leg.field}.amount", available=format(max(left, Decimal(0)), "f"))
        key = leg_key(call, leg)
        due = utcnow() + timedelta(days=terms.terms_days)
        reservation = NetTermsReservation(terms_account_id=terms.id, amount=leg.amount.amount, currency=call.currency,
                                          due_at=due, idempotency_key=key)
        call.session.add(reservation)
        call.session.flush()
        return Authorized(status="authorized", gateway=GATEWAY, key=key, reference=str(reservation.id), due_at=due,
                          links={"reservation": reservation.id})

    def link(self, session: Session, order: Any, authorized: Authorized) -> None:
        reservation = session.get(NetTermsReservation, authorized.links["reservation"])
        reservation.order_id = order.id
        session.add(reservation)

    def capture(self, session: Session, order: Any, payment: Any, amount: Money, key: str) -> str:
        """Invoice ``amount``: a receivable due ``terms_days`` from now takes that part of the
        reservation's open credit over; the leg's ``dueAt`` becomes the receivable's."""
        found = session.exec(select(NetTermsReceivable).where(NetTermsReceivable.idempotency_key == key)).first()
        if found is not None:
            return str(found.id)
        reservation = lock_row(session, NetTermsReservation, int(payment.gateway_reference))
        terms = session.get(NetTermsAccount, reservation.terms_account_id)
        due = utcnow() + timedelta(days=terms.terms_days)
        receivable = NetTermsReceivable(terms_account_id=terms.id, order_id=order.id, reservation_id=reservation.id,
                                        amount=amount.amount, currency=amount.currency, due_at=due, idempotency_key=key)
        reservation.amount = Money(reservation.amount - amount.amount, amount.currency).amount
        if reservation.amount <= 0:
            reservation.state = "invoiced"
        session.add_all([receivable, reservation])
        tender = session.exec(select(PaymentTender).where(PaymentTender.payment_transaction_id == payment.id)).first()
        if tender is not None:
            tender.due_at = due
            session.add(tender)
        session.flush()
        return str(receivable.id)

    def adjust(self, session: Session, order: Any, payment: Any, amount: Money, key: str, field: str) -> str:
        """Reserve ``amount`` instead (an order modified): an increase must fit the open credit."""
        reservation = session.get(NetTermsReservation, int(payment.gateway_reference))
        terms = lock_row(session, NetTermsAccount, reservation.terms_account_id)
        left = Money(open_credit(session, terms), amount.currency).amount
        if amount.amount - reservation.amount > left:
            raise BusinessError(TenderErrorCode.CREDIT_LIMIT_EXCEEDED,
                                f"{field}.amount: {amount.amount - reservation.amount} {amount.currency} more is above the "
                                f"account's open credit of {max(left, Decimal(0))}", field=f"{field}.amount",
                                available=format(max(left, Decimal(0)), "f"))
        reservation.amount = amount.amount
        session.add(reservation)
        return str(reservation.id)

    def undo(self, session: Session, order: Any, payment: Any, undo: Undo) -> str | None:
        """A void gives the reserved open credit back; a refund is a credit note of ``undo.amount``
        against what was invoiced (oldest receivable first), leaving the rest owed."""
        reservation = lock_row(session, NetTermsReservation, int(payment.gateway_reference))
        if undo.kind != "refund":
            reservation.state = "released"
            session.add(reservation)
            return str(reservation.id)
        left = undo.amount.amount
        for receivable in session.exec(select(NetTermsReceivable).where(
                NetTermsReceivable.reservation_id == reservation.id, NetTermsReceivable.state == "open")
                .order_by(NetTermsReceivable.id).with_for_update()):
            if left <= 0:
                break
            credited = min(left, receivable.amount)
            receivable.amount = Money(receivable.amount - credited, receivable.currency).amount
            left -= credited
            if receivable.amount <= 0:
                receivable.state = "credited"
            session.add(receivable)
        return str(reservation.id)
