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


def credit_account(session: Session, cart: Any):
    owner = ledger.owner_key(cart.customer_id, cart.account_id)
    return ledger.find(session, KIND, owner, cart.currency) if owner else None


class StoreCreditTender:
    def prepare(self, session: Session, actor: Any, cart: Any, value: dict[str, Any], field: str) -> dict[str, Any]:
        if ledger.owner_key(cart.customer_id, cart.account_id) is None:
            raise BusinessError(TenderErrorCode.NO_OWNER, f"{field}: store credit belongs to a customer or an account; "
                                "sign in first", field=field)
        return {}

    def available(self, call: TenderCall, details: dict[str, Any]) -> Decimal | None:
        account = credit_account(call.session, call.cart)
        if account is None or not account.is_active:
            return Decimal(0)
        return max(ledger.balance(call.session, account.id) + account.overdraft_limit, Decimal(0))

    def authorize(self, call: TenderCall, leg: TenderLeg) -> Authorized:
        account = credit_account(call.session, call.cart)
        key = leg_key(call, leg)
        if account is None or not account.is_active:
            raise _insufficient(leg, Decimal(0))
        try:
            held = ledger.hold(call.session, account, leg.amount.amount, f"{key}:hold", note=call.reference,
                               actor=call.actor.label)
        except ledger.InsufficientBalance as exc:
            raise _insufficient(leg, exc.available) from None
        entries = [held.id]
        status = "authorized"
        if call.capture:
            entries.append(ledger.capture(call.session, held, f"{key}:capture", actor=call.actor.label).id)
            status = "captured"
        return Authorized(status=status, gateway=GATEWAY, key=key, reference=str(held.id),
                          links={"entries": entries, "hold": held.id})

    def link(self, session: Session, order: Any, authorized: Authorized) -> None:
        ledger.link_order(session, authorized.links["entries"], order.id)

    def undo(self, session: Session, order: Any, payment: Any, undo: Undo) -> str | None:
        entry = ledger.undo_hold(session, int(payment.gateway_reference), undo.kind, undo.amount.amount, undo.key,
                                 order_id=order.id)
        return str(entry.id)


def _insufficient(leg: TenderLeg, available: Decimal) -> BusinessError:
    available = Money(available, leg.amount.currency).amount
    return BusinessError(TenderErrorCode.INSUFFICIENT_STORE_CREDIT,
                         f"{leg.field}.amount: store credit of {available} {leg.amount.currency} cannot cover "
                         f"{leg.amount.amount}", field=f"{leg.field}.amount", available=format(available, "f"))
