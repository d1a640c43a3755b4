"""The ``store_credit`` tender type: a hold on the buyer's store credit (the B2B account's, else
the customer's), under the ledger's row lock; captured at checkout when the channel captures."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import Session

from runtime.errors import BusinessError
from runtime.money import Money
from runtime.tenders import ledger
from runtime.tenders.errors import TenderErrorCode
from runtime.tenders.types import Authorized, TenderCall, TenderLeg, Undo, leg_key

KIND = "store_credit"
GATEWAY = "core.tender_type.store_credit"


class StoreCreditTender:
    def prepare(self, session: Session, actor: Any, cart: Any, value: dict[str, Any], field: str) -> dict[str, Any]:
        if ledger.owner_key(cart.customer_id, cart.account_id) is None:
            raise BusinessError(TenderErrorCode.NO_OWNER, f"{field}: store credit belongs to a customer or an account; "
                                "sign in first", field=field)
        return {}

    def available(self, call: TenderCall, details: dict[str, Any]) -> Decimal | None:
        return _locked(call).available

    def authorize(self, call: TenderCall, leg: TenderLeg) -> Authorized:
        locked = _locked(call)
        key = leg_key(call, leg)
        if locked.account is None or not locked.account.is_active:
            raise _insufficient(leg, Decimal(0))
        try:
            # The checkout's own entry: new by construction (a rolled-back attempt left none).
            entry = locked.hold(call.session, leg.amount.amount, f"{key}:{'debit' if call.capture else 'hold'}",
                                spend=call.capture, note=call.reference, actor=call.actor.label)
        except ledger.InsufficientBalance as exc:
            raise _insufficient(leg, exc.available) from None
        return Authorized(status="captured" if call.capture else "authorized", gateway=GATEWAY, key=key,
                          reference=str(entry.id), links={"entries": [entry]})

    def link(self, session: Session, order: Any, authorized: Authorized) -> None:
        ledger.link_order(session, authorized.links["entries"], order.id)

    def capture(self, session: Session, order: Any, payment: Any, amount: Money, key: str) -> str:
        """Debit the held credit; a partial capture holds the rest again (the leg then points at it)."""
        debit, again = ledger.capture_hold(session, int(payment.gateway_reference), amount.amount, key,
                                           order_id=order.id)
        if again is not None:
            payment.gateway_reference = str(again.id)
        return str(debit.id)

    def adjust(self, session: Session, order: Any, payment: Any, amount: Money, key: str, field: str) -> str:
        """Hold ``amount`` instead (an order modified); returns the new hold's id."""
        try:
            entry = ledger.rehold(session, int(payment.gateway_reference), amount.amount, key, order_id=order.id)
        except ledger.InsufficientBalance as exc:
            available = Money(exc.available, amount.currency).amount
            raise BusinessError(TenderErrorCode.INSUFFICIENT_STORE_CREDIT,
                                f"{field}.amount: store credit of {available} {amount.currency} cannot cover "
                                f"{amount.amount}", field=f"{field}.amount", available=format(available, "f")) from None
        return str(entry.id)

    def undo(self, session: Session, order: Any, payment: Any, undo: Undo) -> str | None:
        entry = ledger.undo_hold(session, int(payment.gateway_reference), undo.kind, undo.amount.amount, undo.key,
                                 order_id=order.id)
        return str(entry.id)


def _locked(call: TenderCall) -> ledger.Locked:
    """The buyer's store credit, locked for the rest of the checkout once the split is composed."""
    return ledger.locked_for(call.session, call.memo, KIND, kind=KIND, currency=call.currency,
                             owner=ledger.owner_key(call.cart.customer_id, call.cart.account_id))


def _insufficient(leg: TenderLeg, available: Decimal) -> BusinessError:
    available = Money(available, leg.amount.currency).amount
    return BusinessError(TenderErrorCode.INSUFFICIENT_STORE_CREDIT,
                         f"{leg.field}.amount: store credit of {available} {leg.amount.currency} cannot cover "
                         f"{leg.amount.amount}", field=f"{leg.field}.amount", available=format(available, "f"))
