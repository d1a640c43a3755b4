"""The catalog domain's business error codes (``CatalogErrorCode`` in GraphQL)."""
from __future__ import annotations

from enum import Enum


class CatalogErrorCode(str, Enum):
    #: An unknown id or slug (product, brand, category, channel).
    NOT_FOUND = "NOT_FOUND"
    INVALID_SLUG = "INVALID_SLUG"
    DUPLICATE_SLUG = "DUPLICATE_SLUG"
    INVALID_NAME = "INVALID_NAME"
    #: An attribute code that is not lower-case letters, digits and underscores.
    INVALID_CODE = "INVALID_CODE"
    DUPLICATE_CODE = "DUPLICATE_CODE"
    #: An attribute type other than text, number, boolean or select.
    INVALID_ATTRIBUTE_TYPE = "INVALID_ATTRIBUTE_TYPE"
    #: A select attribute without choices, or choices on another type.
    INVALID_CHOICES = "INVALID_CHOICES"
    #: A product or variant names an attribute that was never created.
    UNKNOWN_ATTRIBUTE = "UNKNOWN_ATTRIBUTE"
    #: A value that does not fit its attribute's type (or is not among a select's choices).
    INVALID_ATTRIBUTE_VALUE = "INVALID_ATTRIBUTE_VALUE"
    INVALID_TAG = "INVALID_TAG"
    #: A product needs at least one variant.
    NO_VARIANTS = "NO_VARIANTS"
    INVALID_SKU = "INVALID_SKU"
    DUPLICATE_SKU = "DUPLICATE_SKU"
    #: Not a non-negative decimal number.
    INVALID_AMOUNT = "INVALID_AMOUNT"
    #: A price with more decimals than the base currency has minor units.
    TOO_MANY_DECIMALS = "TOO_MANY_DECIMALS"
    INVALID_WEIGHT = "INVALID_WEIGHT"
    #: Not a BCP 47 language tag like ``de`` or ``de-AT``.
    INVALID_LOCALE = "INVALID_LOCALE"
    #: A visibility window that ends before it starts, or a time without a zone.
    INVALID_WINDOW = "INVALID_WINDOW"
    #: ``first`` outside 1..100 or an ``after`` cursor this API did not return.
    INVALID_PAGE = "INVALID_PAGE"
    #: A search longer than 200 characters or 16 words.
    INVALID_SEARCH = "INVALID_SEARCH"
