"""The pack's behaviour, as plain functions that test without an app."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def is_gift_wrappable(product: Mapping[str, Any], max_grams: int = 5000) -> bool:
    """True for a product tagged ``giftable`` weighing at most ``max_grams``."""
    weight = product.get("weight_grams")
    return "giftable" in (product.get("tags") or ()) and weight is not None and weight <= max_grams


def describe_transition(call: Any) -> list[str]:
    """One line per entity a transition moved (``call`` is the effect's ``EffectCall``)."""
    return [f"{call.entity_type} {entity_id}: {call.from_state} -> {call.to_state} "
            f"({call.transition}) by {call.actor}, revision {call.revision}"
            for entity_id in call.entity_ids]
