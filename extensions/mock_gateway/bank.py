"""A mock bank for ACH debits: initiated now, settled days later (asynchronously), or never.

Like the card sandbox it keeps its state in memory, behind one lock, and answers a repeated
idempotency key with what it answered the first time. A debit is ``pending`` until the bank's
settlement (``settle``, the sandbox console standing for the bank's return file) makes it
``settled``; a pending debit can be ``cancelled``; a settled one can only be ``returned``
(refunded). Bank account numbers are kept only as a keyed token and their last four digits.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from runtime.packs.api import Money, ProviderError, ProviderErrorCode

#: Account numbers that the bank returns unpaid at settlement (R01, insufficient funds).
RETURNED_ACCOUNTS = {"000123456780"}


@dataclass
class Debit:
    id: str
    token: str
    amount: Money
    status: str
    returned: Money


class MockBank:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._debits: dict[str, Debit] = {}
        self._keys: dict[str, tuple[str, Any]] = {}
        self._returning: set[str] = set()
        self._ids = itertools.count(1)
        self._secret = secrets.token_bytes(32)

    def tokenize(self, routing: str, account: str) -> str:
        """A token for a bank account (what the tender keeps instead of the number)."""
        token = "ba_" + hmac.new(self._secret, f"{routing}:{account}".encode(), hashlib.sha256).hexdigest()[:24]
        if account in RETURNED_ACCOUNTS:
            self._returning.add(token)
        return token

    def debit(self, token: str, amount: Money, key: str) -> Debit:
        def run() -> Debit:
            debit = Debit(f"mock_ach_{next(self._ids):06d}", token, amount, "pending", Money.zero(amount.currency))
            self._debits[debit.id] = debit
            return debit

        return self._once(key, f"debit:{token}:{amount}", run)

    def cancel(self, debit_id: str, key: str) -> Debit:
        def run() -> Debit:
            debit = self._find(debit_id)
            if debit.status != "pending":
                raise ProviderError(ProviderErrorCode.PAYMENT_STATE_INVALID, f"transaction_id: debit {debit_id!r} is "
                                    f"{debit.status}; only a pending debit can be cancelled", field="transaction_id",
                                    status=debit.status)
            debit.status = "cancelled"
            return debit

        return self._once(key, f"cancel:{debit_id}", run)

    def refund(self, debit_id: str, amount: Money, key: str) -> Debit:
        def run() -> Debit:
            debit = self._find(debit_id)
            if debit.status != "settled" or debit.returned + amount > debit.amount:
                raise ProviderError(ProviderErrorCode.PAYMENT_STATE_INVALID, f"transaction_id: cannot return {amount} "
                                    f"of debit {debit_id!r}, which is {debit.status}", field="transaction_id")
            debit.returned += amount
            return debit

        return self._once(key, f"refund:{debit_id}:{amount}", run)

    def status(self, debit_id: str) -> str:
        with self._lock:
            return self._find(debit_id).status

    # --- the sandbox console ----------------------------------------------------------------------

    def settle(self, debit_id: str) -> str:
        """The bank's settlement of a pending debit: ``settled``, or ``failed`` for a returning account."""
        with self._lock:
            debit = self._find(debit_id)
            if debit.status == "pending":
                debit.status = "failed" if debit.token in self._returning else "settled"
            return debit.status

    def _find(self, debit_id: str) -> Debit:
        debit = self._debits.get(debit_id)
        if debit is None:
            raise ProviderError(ProviderErrorCode.PAYMENT_NOT_FOUND, f"transaction_id: no debit {debit_id!r}",
                                field="transaction_id")
        return debit

    def _once(self, key: str, fingerprint: str, run) -> Debit:
        with self._lock:
            seen = self._keys.get(key)
            if seen is not None:
                if seen[0] != fingerprint:
                    raise ProviderError(ProviderErrorCode.IDEMPOTENCY_KEY_REUSED, f"idempotency_key: {key!r} was used "
                                        "for a different request", field="idempotency_key")
                return seen[1]
            result = run()
            self._keys[key] = (fingerprint, result)
            return result
