"""The payments domain's business error codes (``PaymentErrorCode`` in GraphQL)."""
from __future__ import annotations

from enum import Enum


class PaymentErrorCode(str, Enum):
    #: Unknown payment or saved method, or one the caller does not own.
    NOT_FOUND = "NOT_FOUND"
    #: The channel has no active payment gateway configured (``setChannelProvider``).
    NO_GATEWAY = "NO_GATEWAY"
    #: Neither a card token nor a saved payment method was given (or both were).
    MISSING_PAYMENT = "MISSING_PAYMENT"
    #: The gateway declined the card; the message carries the gateway's reason.
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    #: The gateway did not answer or failed; nothing was charged, retrying may succeed.
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"
    #: The gateway refuses the operation in the payment's state (capturing a voided one…).
    PAYMENT_STATE_INVALID = "PAYMENT_STATE_INVALID"
    #: The amount is not a positive decimal, has too many decimals, or exceeds what remains.
    INVALID_AMOUNT = "INVALID_AMOUNT"
    #: The gateway configuration cannot be used.
    GATEWAY_CONFIG_INVALID = "GATEWAY_CONFIG_INVALID"
    #: The gateway saw the idempotency key before with a different request.
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    #: The payment_transaction machine refuses the transition for this caller.
    PERMISSION_DENIED = "PERMISSION_DENIED"
    #: The payment_transaction machine's guard refuses (for example a payment on fraud hold).
    GUARD_FAILED = "GUARD_FAILED"
    #: Only an authorization or charge row can be captured, voided or refunded.
    NOT_AN_AUTHORIZATION = "NOT_AN_AUTHORIZATION"
    #: A location that is not one of the account's, or an account the caller may not use.
    INVALID_LOCATION = "INVALID_LOCATION"
    #: The caller is not a buyer (customer or employee) and names no account.
    NO_OWNER = "NO_OWNER"
