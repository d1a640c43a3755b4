"""Webhook error codes (``WebhookErrorCode`` in the schema)."""
from __future__ import annotations

from enum import Enum


class WebhookErrorCode(str, Enum):
    #: Not an absolute http(s) URL with a host.
    INVALID_URL = "INVALID_URL"
    #: The URL's host is (or resolves to) a loopback, private, link-local or reserved address.
    DISALLOWED_ADDRESS = "DISALLOWED_ADDRESS"
    #: No schema in ``schemas/events/`` declares this event type.
    UNKNOWN_EVENT_TYPE = "UNKNOWN_EVENT_TYPE"
    #: No such subscription.
    NOT_FOUND = "NOT_FOUND"
    #: A value out of range (an overlap window, a page size, a cursor).
    INVALID_INPUT = "INVALID_INPUT"
