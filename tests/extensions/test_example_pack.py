"""The example pack of docs/extensions.md: its functions, tested without an app."""
from __future__ import annotations

from examples.example_pack.functions import add_order_note, is_gift_wrappable


def test_a_light_giftable_product_can_be_wrapped():
    assert is_gift_wrappable({"tags": ["giftable"], "weight_grams": 800}) is True
    assert is_gift_wrappable({"tags": ["giftable"], "weight_grams": 5001}) is False
    assert is_gift_wrappable({"tags": [], "weight_grams": 800}) is False
    assert is_gift_wrappable({"tags": ["giftable"]}) is False


def test_adding_a_note_twice_adds_it_once():
    order = {"notes": ["leave at the door"]}

    add_order_note(order, {"text": "gift wrap"})
    add_order_note(order, {"text": "gift wrap"})

    assert order == {"notes": ["leave at the door", "gift wrap"]}
