"""Error codes of the labels domain (top-level errors: labels have query fields and an Int!
mutation, no payloads)."""
from __future__ import annotations

from enum import Enum


class LabelErrorCode(str, Enum):
    #: A product search filtered by a label name that is not a live label.
    UNKNOWN_LABEL = "UNKNOWN_LABEL"
    #: Not a pack name (lower-case letters, digits and underscores, starting with a letter).
    INVALID_EXTENSION_NAME = "INVALID_EXTENSION_NAME"
