"""The inventory domain's business error codes (``InventoryErrorCode`` in GraphQL).

Stock refusals inside a cart change or placeOrder use ``CheckoutErrorCode.OUT_OF_STOCK``: a
storefront handles one enum from createCart to placeOrder.
"""
from __future__ import annotations

from enum import Enum


class InventoryErrorCode(str, Enum):
    #: An unknown id, SKU or warehouse code (or an order the caller may not see).
    NOT_FOUND = "NOT_FOUND"
    #: A field that cannot be used: a negative quantity, an empty code, a time without a zone.
    INVALID_INPUT = "INVALID_INPUT"
    #: A warehouse code that is already taken.
    DUPLICATE_CODE = "DUPLICATE_CODE"
    #: Not enough available stock (within the variant's allowed backorder quantity).
    OUT_OF_STOCK = "OUT_OF_STOCK"
    #: A hold cannot be taken: no active warehouse stocks the variant.
    NO_WAREHOUSE = "NO_WAREHOUSE"
    #: The order was already handed off to an external system with another reference.
    ALREADY_HANDED_OFF = "ALREADY_HANDED_OFF"
