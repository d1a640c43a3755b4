"""Refusals of the refunds domain, as data (``RefundErrorCode`` in the GraphQL schema)."""
from __future__ import annotations

from enum import Enum


class RefundErrorCode(str, Enum):
    NOT_FOUND = "NOT_FOUND"
    #: The order has nothing captured to give back (unpaid, only authorised, voided).
    ORDER_NOT_PAID = "ORDER_NOT_PAID"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    #: More than the order's captured payments can still return (refunded and approved counted).
    REFUND_EXCEEDS_REFUNDABLE = "REFUND_EXCEEDS_REFUNDABLE"
    #: The order's channel does not let buyers ask for refunds themselves (setChannelRefundSelfService).
    SELF_SERVICE_OFF = "SELF_SERVICE_OFF"
    UNKNOWN_LINE = "UNKNOWN_LINE"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_REASON = "INVALID_REASON"
    INVALID_INPUT = "INVALID_INPUT"
    #: A plan leg names a tender that is not on the order, twice, or more than the tender can return.
    INVALID_PLAN = "INVALID_PLAN"
    SELF_APPROVAL = "SELF_APPROVAL"
    ALREADY_DECIDED = "ALREADY_DECIDED"
    REQUEST_NOT_PENDING = "REQUEST_NOT_PENDING"
    REQUEST_NOT_FAILED = "REQUEST_NOT_FAILED"
    #: The retry limit of the machine is reached: cancel it (and refund by hand) or leave it.
    RETRY_LIMIT_REACHED = "RETRY_LIMIT_REACHED"
    REQUEST_NOT_CANCELLABLE = "REQUEST_NOT_CANCELLABLE"
    NOTE_TOO_LONG = "NOTE_TOO_LONG"
    INVALID_FILTER = "INVALID_FILTER"
