"""The example pack of docs/extensions.md: its functions, tested without an app."""
from __future__ import annotations

from examples.example_pack.functions import describe_transition, is_gift_wrappable
from runtime.state_machines.effects import EffectCall


def test_a_light_giftable_product_can_be_wrapped():
    assert is_gift_wrappable({"tags": ["giftable"], "weight_grams": 800}) is True
    assert is_gift_wrappable({"tags": ["giftable"], "weight_grams": 5001}) is False
    assert is_gift_wrappable({"tags": [], "weight_grams": 800}) is False
    assert is_gift_wrappable({"tags": ["giftable"]}) is False


def test_a_transition_is_described_once_per_entity_moved():
    call = EffectCall("reservation", "reservation", ("r1", "r2"), "expire", "held", "expired",
                      "system:timer", 3)

    assert describe_transition(call) == [
        "reservation r1: held -> expired (expire) by system:timer, revision 3",
        "reservation r2: held -> expired (expire) by system:timer, revision 3",
    ]
