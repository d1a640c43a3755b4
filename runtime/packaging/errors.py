"""Packaging's business error codes (``PackagingErrorCode`` in GraphQL)."""
from __future__ import annotations

from enum import Enum


class PackagingErrorCode(str, Enum):
    #: An unknown product id (or one the caller may not see).
    NOT_FOUND = "NOT_FOUND"
    #: A package slug the product's ladder (or the store) does not have.
    UNKNOWN_PACKAGE = "UNKNOWN_PACKAGE"
    #: A slug that is not lowercase letters, digits, '-' or '_'; a name that is empty or too long.
    INVALID_INPUT = "INVALID_INPUT"
    #: A multiplier below 1, or two packages of one ladder named twice.
    INVALID_MULTIPLIER = "INVALID_MULTIPLIER"
