"""The pack's behaviour, as plain functions that test without an app."""
from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any


def is_gift_wrappable(product: Mapping[str, Any], max_grams: int = 5000) -> bool:
    """True for a product tagged ``giftable`` weighing at most ``max_grams``."""
    weight = product.get("weight_grams")
    return "giftable" in (product.get("tags") or ()) and weight is not None and weight <= max_grams


def add_order_note(order: MutableMapping[str, Any], params: Mapping[str, Any]) -> None:
    """Append ``params["text"]`` to ``order["notes"]``; running it twice adds the note once."""
    notes = order.setdefault("notes", [])
    if params["text"] not in notes:
        notes.append(params["text"])
