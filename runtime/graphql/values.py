"""Shared GraphQL value shapes: ``Money`` and Relay connections with opaque keyset cursors."""
from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from runtime.errors import BusinessError
from runtime.money import Money

#: Largest page a connection serves (``first`` above it is refused).
MAX_PAGE = 100


def money(value: Money | None) -> dict[str, str] | None:
    """A :class:`Money` as the GraphQL ``Money`` type."""
    if value is None:
        return None
    return {"amount": format(value.amount, "f"), "currency": value.currency}


def encode_cursor(key: Sequence[Any]) -> str:
    """An opaque cursor for a row's sort key (JSON values: ids, ISO times, strings)."""
    return base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str, code: Any, field: str = "after") -> list[Any]:
    """The sort key of ``cursor``, or a :class:`BusinessError` ``code`` naming ``field``."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeError):
        key = None
    if not isinstance(key, list):
        raise BusinessError(code, f"{field}: not a cursor this API returned", field=field)
    return key


def check_first(first: int, code: Any, field: str = "first") -> int:
    if first < 1 or first > MAX_PAGE:
        raise BusinessError(code, f"{field}: expected 1 to {MAX_PAGE}, got {first}", field=field)
    return first


def connection(rows: Sequence[Any], first: int, key: Callable[[Any], Sequence[Any]], *,
               after: bool = False, total: int | None = None) -> dict[str, Any]:
    """A Relay connection from ``rows`` fetched with ``LIMIT first + 1`` (the extra row says
    whether a next page exists). Edges carry the row as ``node``."""
    page = list(rows[:first])
    edges = [{"cursor": encode_cursor(key(row)), "node": row} for row in page]
    result = {
        "edges": edges,
        "nodes": page,
        "page_info": {
            "has_next_page": len(rows) > first,
            "has_previous_page": after,
            "start_cursor": edges[0]["cursor"] if edges else None,
            "end_cursor": edges[-1]["cursor"] if edges else None,
        },
    }
    if total is not None:
        result["total_count"] = total
    return result


def aware_time(value: Any) -> datetime | None:
    """A time input (an ISO-8601 string, ``Z`` allowed, or a datetime) that names its zone.

    None stays None; anything else raises ``ValueError``, which each caller turns into its own
    domain's error naming the field."""
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return parsed
