"""The ``ach`` tender type: a bank debit at the mock bank, whose settlement is asynchronous.

Authorising a leg initiates the debit (``pending``); the money is the merchant's only once the
bank settles it. Capturing the leg (staff ``capturePayment``) confirms a settled debit, whole;
before settlement it is refused. A debit that has not settled within the settlement window
(:attr:`AchTender.capabilities`) is voided by ``VoidExpiringCardAuths`` like an expired card
authorisation: cancelled at the bank, once, whatever the number of runs.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from runtime.packs.api import (Authorized, BusinessError, Money, ProviderError, TenderCall, TenderErrorCode, TenderLeg,
                               after_rollback, leg_key)

from .bank import MockBank

GATEWAY = "mock_gateway.tender_type.ach"


class AchTender:
    #: A debit not settled within 3 days is voided by the expiry sweep.
    capabilities = {"partial_capture": False, "incremental_auth": False, "void": True, "refund": True,
                    "expiry_window_days": 3}

    def __init__(self, bank: MockBank):
        self.bank = bank

    def prepare(self, session, actor: Any, cart: Any, value: dict[str, Any], field: str) -> dict[str, Any]:
        routing, account = str(value.get("bank_routing") or ""), str(value.get("bank_account") or "")
        if not (len(routing) == 9 and routing.isdigit()):
            raise BusinessError(TenderErrorCode.INVALID_TENDER, f"{field}.bankRouting: a bank debit needs the 9-digit "
                                "routing number", field=f"{field}.bankRouting")
        if not (4 <= len(account) <= 17 and account.isdigit()):
            raise BusinessError(TenderErrorCode.INVALID_TENDER, f"{field}.bankAccount: a bank account number has 4 to 17 "
                                "digits", field=f"{field}.bankAccount")
        return {"bank_token": self.bank.tokenize(routing, account), "last4": account[-4:]}

    def available(self, call: TenderCall, details: dict[str, Any]) -> Decimal | None:
        return None

    def authorize(self, call: TenderCall, leg: TenderLeg) -> Authorized:
        token = (leg.details or {}).get("bank_token")
        if not token:
            raise BusinessError(TenderErrorCode.INVALID_TENDER, f"{leg.field}: a bank debit needs the buyer's bank "
                                "account (setCartTenders)", field=leg.field)
        key = leg_key(call, leg)
        try:
            debit = self.bank.debit(token, leg.amount, key)
        except ProviderError as exc:
            raise BusinessError(TenderErrorCode.PAYMENT_UNAVAILABLE, f"{leg.field}: {exc.message}", field=leg.field) from None
        # The checkout rolled back: the bank must not collect for an order that does not exist.
        after_rollback(call.session, lambda: self.bank.cancel(debit.id, f"{key}:rollback"))
        return Authorized(status="authorized", gateway=GATEWAY, key=key, reference=debit.id,
                          raw={"last4": leg.details.get("last4"), "settlement": "pending"})

    def link(self, session, order: Any, authorized: Authorized) -> None:
        """Nothing in the database points at the order but the leg's own rows."""

    def capture(self, session, order: Any, payment: Any, amount: Money, key: str) -> str:
        """Confirm a settled debit (whole); refused while the bank has not settled it."""
        status = self.bank.status(payment.gateway_reference)
        if status != "settled":
            raise BusinessError("PAYMENT_STATE_INVALID", f"paymentId: the bank debit is {status}, not settled; it can be "
                                "captured once the bank settles it", field="paymentId", status=status)
        if amount.amount != payment.amount - payment.captured_amount:
            raise BusinessError("INVALID_AMOUNT", "amount: a bank debit is captured whole", field="amount")
        return payment.gateway_reference

    def undo(self, session, order: Any, payment: Any, undo) -> str | None:
        if undo.kind == "void":
            return self.bank.cancel(payment.gateway_reference, undo.key).id
        return self.bank.refund(payment.gateway_reference, undo.amount, undo.key).id
