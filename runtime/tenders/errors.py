"""The tenders domain's business error codes (``TenderErrorCode`` in GraphQL)."""
from __future__ import annotations

from enum import Enum


class TenderErrorCode(str, Enum):
    #: Unknown cart, account, customer or tender, or one the caller may not use.
    NOT_FOUND = "NOT_FOUND"
    #: A tender type no registered pack provides (``tenders[i].type``).
    UNKNOWN_TENDER_TYPE = "UNKNOWN_TENDER_TYPE"
    #: Not a positive decimal in the currency's precision.
    INVALID_AMOUNT = "INVALID_AMOUNT"
    #: A tender's input is missing what its type needs (a code, a token).
    INVALID_TENDER = "INVALID_TENDER"
    #: The buyer's tenders are more than the order's total.
    TENDERS_EXCEED_TOTAL = "TENDERS_EXCEED_TOTAL"
    #: Part of the total is covered by no tender.
    TENDERS_NOT_COVERED = "TENDERS_NOT_COVERED"
    #: The store credit's balance (plus any overdraft the policy allows) is below the amount.
    INSUFFICIENT_STORE_CREDIT = "INSUFFICIENT_STORE_CREDIT"
    #: A gift card code no card has, or a deactivated card.
    UNKNOWN_GIFT_CARD = "UNKNOWN_GIFT_CARD"
    #: The gift card has expired.
    GIFT_CARD_EXPIRED = "GIFT_CARD_EXPIRED"
    #: The gift card's balance is below the amount.
    INSUFFICIENT_GIFT_CARD_BALANCE = "INSUFFICIENT_GIFT_CARD_BALANCE"
    #: The account has no (active) net terms.
    NO_NET_TERMS = "NO_NET_TERMS"
    #: The amount is more than the account's open credit.
    CREDIT_LIMIT_EXCEEDED = "CREDIT_LIMIT_EXCEEDED"
    #: A tender in another currency than the order's.
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    #: The caller is neither a buyer nor staff naming an owner.
    NO_OWNER = "NO_OWNER"
    #: releaseFraudHold / rejectFraudHold on an order that is not held for review.
    NOT_HELD_FOR_REVIEW = "NOT_HELD_FOR_REVIEW"
    #: A machine refusal (permission, guard) of the order's transition.
    GUARD_FAILED = "GUARD_FAILED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    STATE_CHANGED = "STATE_CHANGED"
    MACHINE_NOT_LIVE = "MACHINE_NOT_LIVE"
    #: The gateway failed or refused resolving a review.
    PAYMENT_UNAVAILABLE = "PAYMENT_UNAVAILABLE"
    PAYMENT_STATE_INVALID = "PAYMENT_STATE_INVALID"
    #: recurateCascade on an order that is not placed/paid or has no failed, voided or expired tender.
    NOT_FAULTED = "NOT_FAULTED"
    #: A gateway declined a card tender (the message carries its reason).
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    #: The channel has no usable gateway for a card tender.
    NO_GATEWAY = "NO_GATEWAY"
