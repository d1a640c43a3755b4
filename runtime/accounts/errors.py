"""The accounts domain's business error codes (``AccountErrorCode`` in GraphQL)."""
from __future__ import annotations

from enum import Enum


class AccountErrorCode(str, Enum):
    #: Unknown id, or an object of another account or customer: the two look the same.
    NOT_FOUND = "NOT_FOUND"
    #: A required value is missing or blank.
    REQUIRED = "REQUIRED"
    #: A value longer than its column allows.
    TOO_LONG = "TOO_LONG"
    #: Not an ISO 3166-1 alpha-2 country code.
    INVALID_COUNTRY = "INVALID_COUNTRY"
    INVALID_EMAIL = "INVALID_EMAIL"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    PASSWORD_TOO_SHORT = "PASSWORD_TOO_SHORT"
    UNKNOWN_ROLE = "UNKNOWN_ROLE"
    #: A role granting a permission the caller does not hold.
    ROLE_NOT_GRANTABLE = "ROLE_NOT_GRANTABLE"
    INVALID_SLUG = "INVALID_SLUG"
    DUPLICATE_SLUG = "DUPLICATE_SLUG"
    INVALID_NAME = "INVALID_NAME"
    INVALID_CODE = "INVALID_CODE"
    #: A location code already used in the same account.
    DUPLICATE_CODE = "DUPLICATE_CODE"
    #: An API key scope that is no permission, or one the caller does not hold.
    INVALID_SCOPE = "INVALID_SCOPE"
    #: An API key expiry that is not in the future.
    INVALID_EXPIRY = "INVALID_EXPIRY"
    #: Neither or both of two alternatives given (``customerId`` / ``accountId``; no location for a staff address).
    INVALID_TARGET = "INVALID_TARGET"
    #: A cursor this API did not return, or a page size out of range.
    INVALID_CURSOR = "INVALID_CURSOR"
    #: A search longer than 200 characters or 16 words.
    INVALID_SEARCH = "INVALID_SEARCH"
