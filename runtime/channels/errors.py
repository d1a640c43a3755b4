"""The channels domain's business error codes (``ChannelErrorCode`` in GraphQL)."""
from __future__ import annotations

from enum import Enum

from runtime.errors import RequestError


class ChannelErrorCode(str, Enum):
    INVALID_SLUG = "INVALID_SLUG"
    DUPLICATE_SLUG = "DUPLICATE_SLUG"
    INVALID_NAME = "INVALID_NAME"
    INVALID_COMMERCE_MODE = "INVALID_COMMERCE_MODE"
    INVALID_CAPTURE_MODE = "INVALID_CAPTURE_MODE"
    INVALID_TIME_ZONE = "INVALID_TIME_ZONE"
    #: Not a three-letter ISO 4217 code.
    INVALID_CURRENCY = "INVALID_CURRENCY"
    #: A currency the channel does not list among its supported currencies.
    UNSUPPORTED_CURRENCY = "UNSUPPORTED_CURRENCY"
    #: The default channel cannot be inactive.
    DEFAULT_CHANNEL_INACTIVE = "DEFAULT_CHANNEL_INACTIVE"
    NOT_FOUND = "NOT_FOUND"
    INVALID_RATE = "INVALID_RATE"
    INVALID_DATE = "INVALID_DATE"
    SAME_CURRENCY = "SAME_CURRENCY"
    NO_EXCHANGE_RATE = "NO_EXCHANGE_RATE"
    #: Not a finite decimal number.
    INVALID_AMOUNT = "INVALID_AMOUNT"
    #: A price with more decimals than its currency's minor units.
    TOO_MANY_DECIMALS = "TOO_MANY_DECIMALS"
    #: No loaded provider of that slot under that key.
    INVALID_PROVIDER = "INVALID_PROVIDER"
    #: The configuration does not satisfy the provider's JSON Schema.
    INVALID_PROVIDER_CONFIG = "INVALID_PROVIDER_CONFIG"


class ChannelNotFound(RequestError):
    """``X-Channel-Slug`` names no active channel: a top-level error ``CHANNEL_NOT_FOUND``."""

    code = "CHANNEL_NOT_FOUND"
