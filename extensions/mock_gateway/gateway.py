"""The mock :class:`~runtime.packs.api.PaymentGateway`: a deterministic card processor sandbox.

A real gateway keeps authorizations, captures and idempotency keys at the processor; this mock
keeps them in memory, in the gateway instance, behind one lock (concurrent captures of one
authorization never capture more than it holds). They are lost when the process ends.

Every follow-up (capture, refund, void) names the *authorization's* ``transaction_id``; the
returned ``status`` is the authorization's state afterwards, as the ``payment_transaction`` state
machine names it. Declined cards are answers (``status="failed"`` with the decline code); calls
the gateway refuses — an unknown id, a wrong state or amount, a reused key — raise
:class:`~runtime.packs.api.ProviderError` and change nothing.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from runtime.packs.api import Money, PaymentRequest, PaymentResult, ProviderError, ProviderErrorCode

from . import ledger
from .cards import FRAUD_REVIEW, LIMIT_DECLINE, Card, Outcome, read_card

_UNCAPTURED = ("pending", "authorized")
_CAPTURABLE = ("authorized", "partially_captured")
_REFUNDABLE = ("captured", "partially_captured", "partially_refunded")


@dataclass
class _Authorization:
    id: str
    merchant_id: str
    amount: Money
    card: Card
    status: str
    captured: Money
    refunded: Money


class MockGateway:
    #: What the sandbox can do (``runtime.payments.capabilities``): authorisations live 7 days.
    capabilities = {"partial_capture": True, "incremental_auth": False, "void": True, "refund": True,
                    "expiry_window_days": 7}

    def __init__(self, config_schema: dict[str, Any]):
        from jsonschema import Draft202012Validator

        self._validator = Draft202012Validator(config_schema)
        self._lock = threading.Lock()
        self._authorizations: dict[str, _Authorization] = {}
        #: Ids of captures, refunds and voids → their authorization, to say which id to use.
        self._operations: dict[str, str] = {}
        #: (merchant, key) → (request fingerprint, the result returned).
        self._keys: dict[tuple[str, str], tuple[str, PaymentResult]] = {}
        self._ids = itertools.count(1)
        # Fingerprints are keyed hashes so that no card number can be recovered from memory.
        self._secret = secrets.token_bytes(32)
        #: The ``state_file`` of the call running in this thread (set by ``_check``), if any.
        self._local = threading.local()

    # --- the PaymentGateway protocol ---------------------------------------------------------

    def authorize(self, request: PaymentRequest, config: dict[str, Any]) -> PaymentResult:
        merchant = self._check(config)
        fingerprint = self._fingerprint("authorize", request.reference, request.amount, request.payment_token)
        return self._once(merchant, request.idempotency_key, fingerprint, lambda: self._authorize(merchant, request, config))

    def capture(self, transaction_id: str, amount: Money, idempotency_key: str, config: dict[str, Any]) -> PaymentResult:
        merchant = self._check(config)
        fingerprint = self._fingerprint("capture", transaction_id, amount)
        return self._once(merchant, idempotency_key, fingerprint, lambda: self._capture(merchant, transaction_id, amount))

    def refund(self, transaction_id: str, amount: Money, idempotency_key: str, config: dict[str, Any]) -> PaymentResult:
        merchant = self._check(config)
        fingerprint = self._fingerprint("refund", transaction_id, amount)
        return self._once(merchant, idempotency_key, fingerprint, lambda: self._refund(merchant, transaction_id, amount))

    def void(self, transaction_id: str, idempotency_key: str, config: dict[str, Any]) -> PaymentResult:
        merchant = self._check(config)
        fingerprint = self._fingerprint("void", transaction_id)
        return self._once(merchant, idempotency_key, fingerprint, lambda: self._void(merchant, transaction_id))

    def capabilities_for(self, config: dict[str, Any]) -> dict[str, Any]:
        """What this merchant account can do: ``incremental_auth`` is a setting of the sandbox
        account, as it is a contract option at real processors."""
        return {**self.capabilities, "incremental_auth": bool(config.get("incremental_auth", False))}

    def adjust_authorization(self, transaction_id: str, amount: Money, idempotency_key: str,
                             config: dict[str, Any]) -> PaymentResult:
        """Change an uncaptured authorization's amount to ``amount``: lower is a partial void (always
        allowed), higher an incremental authorization (only with ``incremental_auth``; the card may
        decline it). A declined increase is an answer (``failed``) and leaves the authorization as it was."""
        merchant = self._check(config)
        fingerprint = self._fingerprint("adjust", transaction_id, amount)
        return self._once(merchant, idempotency_key, fingerprint,
                          lambda: self._adjust(merchant, transaction_id, amount, config))

    def lookup(self, idempotency_key: str, config: dict[str, Any]) -> PaymentResult | None:
        """What this merchant's call with ``idempotency_key`` returned, or None if none was made:
        how a caller that died before recording an answer finds out whether the money moved."""
        merchant = self._check(config)
        with self._lock, self._recorded():
            seen = self._keys.get((merchant, idempotency_key))
        return seen[1] if seen is not None else None

    # --- the sandbox's own console -------------------------------------------------------------

    def resolve_review(self, transaction_id: str, approve: bool, config: dict[str, Any]) -> PaymentResult:
        """Decide an authorization held for fraud review, as a reviewer at the processor would."""
        merchant = self._check(config)
        with self._lock:
            auth = self._find(merchant, transaction_id)
            if auth.status != "pending":
                raise _state(auth, "resolve the review of", "only an authorization held for fraud review has one")
            if approve:
                auth.status = "authorized"
                return self._result(auth, auth.id, auth.amount)
            auth.status = "failed"
            return self._result(auth, auth.id, auth.amount, Outcome("failed", "fraud_rejected", "The fraud review rejected the payment."))

    # --- operations, called under the lock -------------------------------------------------------

    def _authorize(self, merchant: str, request: PaymentRequest, config: dict[str, Any]) -> PaymentResult:
        if not request.payment_token:
            raise ProviderError(
                ProviderErrorCode.PROVIDER_DECLINED,
                "payment_token: the mock gateway needs a card number (see the test cards in docs/extensions.md)",
                field="payment_token",
            )
        if not request.amount.amount > 0:
            raise _amount(f"amount: {request.amount} cannot be authorized; the amount must be positive")
        card, outcome = read_card(request.payment_token)
        if outcome.status == "authorized" and card.limit is not None and request.amount.amount > card.limit:
            outcome = LIMIT_DECLINE
        if outcome.status == "timeout":
            raise ProviderError(
                ProviderErrorCode.PROVIDER_UNAVAILABLE,
                "the mock gateway did not answer in time (test card ending 0119); nothing was authorized, retrying may succeed",
            )
        review_from = config.get("review_from")
        if outcome.status == "authorized" and review_from and request.amount >= _config_money(review_from, request.amount.currency):
            outcome = FRAUD_REVIEW
        zero = Money.zero(request.amount.currency)
        auth = _Authorization(self._new_id("auth"), merchant, request.amount, card, outcome.status, zero, zero)
        self._authorizations[auth.id] = auth
        return self._result(auth, auth.id, auth.amount, outcome)

    def _capture(self, merchant: str, transaction_id: str, amount: Money) -> PaymentResult:
        auth = self._find(merchant, transaction_id)
        _same_currency(auth, amount)
        if auth.status not in _CAPTURABLE:
            raise _state(auth, "capture", "only an authorized, not yet fully captured or refunded payment can be captured")
        remaining = auth.amount - auth.captured
        _within(amount, remaining, "capture", f"{remaining} of {auth.amount} remains to capture")
        auth.captured += amount
        auth.status = "captured" if auth.captured == auth.amount else "partially_captured"
        return self._result(auth, self._new_id("cap", auth), amount)

    def _refund(self, merchant: str, transaction_id: str, amount: Money) -> PaymentResult:
        auth = self._find(merchant, transaction_id)
        _same_currency(auth, amount)
        if auth.status not in _REFUNDABLE:
            raise _state(auth, "refund", "only captured money can be refunded; void an uncaptured authorization")
        remaining = auth.captured - auth.refunded
        _within(amount, remaining, "refund", f"{remaining} of the {auth.captured} captured remains to refund")
        auth.refunded += amount
        auth.status = "refunded" if auth.refunded == auth.captured else "partially_refunded"
        return self._result(auth, self._new_id("ref", auth), amount)

    def _adjust(self, merchant: str, transaction_id: str, amount: Money, config: dict[str, Any]) -> PaymentResult:
        auth = self._find(merchant, transaction_id)
        _same_currency(auth, amount)
        if auth.status != "authorized" or auth.captured.amount > 0:
            raise _state(auth, "adjust", "only an authorized, uncaptured authorization can change its amount")
        if not amount.amount > 0:
            raise _amount(f"amount: cannot adjust to {amount}; void the authorization instead")
        if amount > auth.amount and not config.get("incremental_auth", False):
            raise ProviderError(ProviderErrorCode.PROVIDER_DECLINED, "amount: this merchant account has no incremental "
                                "authorization; void and authorize again", field="amount")
        if amount > auth.amount and auth.card.limit is not None and amount.amount > auth.card.limit:
            return replace(self._result(auth, self._new_id("adj", auth), amount, LIMIT_DECLINE), status="failed")
        auth.amount = amount
        return self._result(auth, self._new_id("adj", auth), amount)

    def _void(self, merchant: str, transaction_id: str) -> PaymentResult:
        auth = self._find(merchant, transaction_id)
        if auth.status not in _UNCAPTURED:
            raise _state(auth, "void", "only an uncaptured authorization can be voided; refund captured money")
        auth.status = "voided"
        return self._result(auth, self._new_id("void", auth), auth.amount)

    # --- helpers ---------------------------------------------------------------------------------

    def _once(self, merchant: str, key: str, fingerprint: str, operation: Callable[[], PaymentResult]) -> PaymentResult:
        """Run ``operation`` once per idempotency key; a refusal records nothing, so a retry may succeed."""
        with self._lock, self._recorded():
            seen = self._keys.get((merchant, key))
            if seen is not None:
                if seen[0] != fingerprint:
                    raise ProviderError(
                        ProviderErrorCode.IDEMPOTENCY_KEY_REUSED,
                        f"idempotency_key: {key!r} was already used for a different request;"
                        " use a new key for a new request",
                        field="idempotency_key",
                    )
                return seen[1]
            result = operation()
            self._keys[(merchant, key)] = (fingerprint, result)
            return result

    def _recorded(self):
        """The record of the file the call names (``state_file``), loaded and saved around the
        call; the instance's memory otherwise."""
        path = getattr(self._local, "state_file", None)
        return ledger.recorded(path, self) if path else contextlib.nullcontext()

    def _fingerprint(self, *parts: Any) -> str:
        text = "\x1f".join(str(part) for part in parts)
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def _new_id(self, kind: str, auth: _Authorization | None = None) -> str:
        new = f"mock_{kind}_{next(self._ids):06d}"
        if auth is not None:
            self._operations[new] = auth.id
        return new

    def _find(self, merchant: str, transaction_id: str) -> _Authorization:
        auth = self._authorizations.get(transaction_id)
        if auth is not None and auth.merchant_id == merchant:
            return auth
        parent = self._authorizations.get(self._operations.get(transaction_id, ""))
        if parent is not None and parent.merchant_id == merchant:
            message = f"transaction_id: {transaction_id!r} is not an authorization; capture, refund and void name the authorization ({parent.id!r})"
        else:
            message = f"transaction_id: no authorization {transaction_id!r} for merchant {merchant!r}"
        raise ProviderError(ProviderErrorCode.PAYMENT_NOT_FOUND, message, field="transaction_id")

    def _result(self, auth: _Authorization, transaction_id: str, amount: Money, outcome: Outcome | None = None) -> PaymentResult:
        coded = outcome is not None and outcome.code is not None
        return PaymentResult(
            status=auth.status,
            transaction_id=transaction_id,
            amount=amount,
            error_code=outcome.code if coded else None,
            message=outcome.message if coded else None,
            raw={
                "merchant_id": auth.merchant_id,
                "authorization_id": auth.id,
                "card": {"brand": auth.card.brand, "last4": auth.card.last4},
                "authorized": str(auth.amount.amount),
                "captured": str(auth.captured.amount),
                "refunded": str(auth.refunded.amount),
                "currency": auth.amount.currency,
            },
        )

    def _check(self, config: dict[str, Any]) -> str:
        errors = sorted(self._validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            field = ".".join(str(p) for p in errors[0].absolute_path) or None
            message = "; ".join(f"{'.'.join(map(str, e.absolute_path)) or '(config)'}: {e.message}" for e in errors)
            raise ProviderError(ProviderErrorCode.PROVIDER_CONFIG_INVALID, f"mock gateway configuration: {message}", field=field)
        self._local.state_file = config.get("state_file")
        if self._local.state_file:
            self._secret = ledger.secret_of(self._local.state_file)  # fingerprints alike in every process
        return config["merchant_id"]


def _same_currency(auth: _Authorization, amount: Money) -> None:
    if amount.currency != auth.amount.currency:
        raise ProviderError(
            ProviderErrorCode.CURRENCY_MISMATCH,
            f"amount: {amount} is not in {auth.amount.currency}, the currency of authorization {auth.id!r}",
            field="amount",
            expected=auth.amount.currency,
            actual=amount.currency,
        )


def _within(amount: Money, remaining: Money, operation: str, detail: str) -> None:
    if not amount.amount > 0:
        raise _amount(f"amount: cannot {operation} {amount}; the amount must be positive")
    if amount > remaining:
        raise _amount(f"amount: cannot {operation} {amount}; {detail}", available=str(remaining.amount))


def _amount(message: str, **params: Any) -> ProviderError:
    return ProviderError(ProviderErrorCode.PAYMENT_AMOUNT_INVALID, message, field="amount", **params)


def _state(auth: _Authorization, operation: str, rule: str) -> ProviderError:
    return ProviderError(
        ProviderErrorCode.PAYMENT_STATE_INVALID,
        f"transaction_id: cannot {operation} authorization {auth.id!r}, which is {auth.status}; {rule}",
        field="transaction_id",
        status=auth.status,
    )


def _config_money(value: dict[str, str], currency: str) -> Money:
    if value["currency"] != currency:
        raise ProviderError(
            ProviderErrorCode.CURRENCY_MISMATCH,
            f"review_from.currency: set in {value['currency']} but the payment is in {currency};"
            " configure the threshold in the payment's currency",
            field="review_from.currency",
            expected=currency,
            actual=value["currency"],
        )
    return Money(Decimal(value["amount"]), currency)
