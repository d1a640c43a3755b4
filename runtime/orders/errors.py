"""The orders domain's business error codes (``OrderErrorCode`` in GraphQL)."""
from __future__ import annotations

from enum import Enum


class OrderErrorCode(str, Enum):
    #: Unknown order, or one the caller does not own (never FORBIDDEN: its existence stays hidden).
    NOT_FOUND = "NOT_FOUND"
    #: An order draft without lines.
    ORDER_EMPTY = "ORDER_EMPTY"
    #: A transition the live ``order`` machine does not declare.
    UNKNOWN_TRANSITION = "UNKNOWN_TRANSITION"
    #: The transition does not leave the order's current state.
    NOT_FROM_STATE = "NOT_FROM_STATE"
    #: The caller lacks the transition's permission.
    PERMISSION_DENIED = "PERMISSION_DENIED"
    #: The transition's guard is false for this order.
    GUARD_FAILED = "GUARD_FAILED"
    UNKNOWN_STATE = "UNKNOWN_STATE"
    INVALID_CONTEXT = "INVALID_CONTEXT"
    #: Another change moved the order first; reload and try again.
    STATE_CHANGED = "STATE_CHANGED"
    #: The ``order`` machine has no live revision.
    MACHINE_NOT_LIVE = "MACHINE_NOT_LIVE"
    #: A filter or paging argument that cannot be used (``first``, ``after``, ``accountId``…).
    INVALID_FILTER = "INVALID_FILTER"
