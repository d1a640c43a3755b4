"""The pricing domain's business error codes (``PricingErrorCode`` in GraphQL)."""
from __future__ import annotations

from enum import Enum


class PricingErrorCode(str, Enum):
    #: An unknown variant, SKU, price list, channel, customer group, account or location.
    NOT_FOUND = "NOT_FOUND"
    #: The slug is not lower-case letters, digits and single hyphens (at most 64 characters).
    INVALID_SLUG = "INVALID_SLUG"
    DUPLICATE_SLUG = "DUPLICATE_SLUG"
    INVALID_NAME = "INVALID_NAME"
    #: Not one of CHANNEL, CUSTOMER_GROUP, ACCOUNT, LOCATION (BASE is the variant's own price).
    INVALID_LEVEL = "INVALID_LEVEL"
    #: The level's scope (channel, group, account, location) is missing, or another level's is given.
    INVALID_SCOPE = "INVALID_SCOPE"
    #: Not a three-letter ISO 4217 code.
    INVALID_CURRENCY = "INVALID_CURRENCY"
    #: A currency the channel (or, without a channel, the store) does not sell in.
    UNSUPPORTED_CURRENCY = "UNSUPPORTED_CURRENCY"
    #: ``validUntil`` is not after ``validFrom``.
    INVALID_WINDOW = "INVALID_WINDOW"
    #: A time without a zone, or not ISO-8601.
    INVALID_DATE = "INVALID_DATE"
    #: A quantity (``quantity``, ``minQuantity``) below 1.
    INVALID_QUANTITY = "INVALID_QUANTITY"
    #: Not a finite decimal number, or a negative price.
    INVALID_AMOUNT = "INVALID_AMOUNT"
    #: A price with more decimals than its currency has minor units.
    TOO_MANY_DECIMALS = "TOO_MANY_DECIMALS"
    #: The same SKU and minimum quantity twice in one ``setPriceListEntries`` call.
    DUPLICATE_ENTRY = "DUPLICATE_ENTRY"
