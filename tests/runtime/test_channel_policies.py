"""The per-channel rules other domains keep on the channel, set by staff with channels.manage
through one service function (runtime.channels.service.set_channel_policy)."""
from __future__ import annotations

import pytest

from runtime.channels.models import Channel
from tests.runtime.helpers import signed_in
from tests.runtime.test_carts_api import post, rows, store

SETTERS = [
    ("setChannelInventoryHoldMode", "mode: ADD_TO_CART", "inventoryHoldMode", "ADD_TO_CART",
     "inventory_hold_mode", "add_to_cart"),
    ("setChannelOrderModification", "buyersMayModify: true", None, None, "buyers_modify_orders", True),
    ("setChannelRefundSelfService", "buyersMayRequest: false", "buyersMayRequestRefunds", False,
     "buyers_request_refunds", False),
]


@pytest.mark.parametrize("mutation, argument, shown, shown_value, column, stored", SETTERS)
def test_staff_set_a_channel_rule_and_an_unknown_channel_is_named(app, client, mutation, argument, shown, shown_value,
                                                                 column, stored):
    store(app)
    before = getattr(rows(app, Channel)[0], column)
    fields = f"channel {{ slug {shown or ''} }} errors {{ code field message }}"
    viewer, admin = signed_in(app, client, "viewer"), signed_in(app, client, "admin")

    refused = post(client, f'mutation {{ {mutation}(channelSlug: "web", {argument}) {{ {fields} }} }}', {}, viewer)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    unknown = post(client, f'mutation {{ {mutation}(channelSlug: "nope", {argument}) {{ {fields} }} }}', {}, admin)
    assert unknown["data"][mutation] == {"channel": None, "errors": [
        {"code": "NOT_FOUND", "field": "channelSlug", "message": "channelSlug: no channel 'nope'"}]}
    assert getattr(rows(app, Channel)[0], column) == before

    done = post(client, f'mutation {{ {mutation}(channelSlug: "web", {argument}) {{ {fields} }} }}', {}, admin)
    assert done["data"][mutation]["errors"] == []
    if shown:
        assert done["data"][mutation]["channel"][shown] == shown_value
    assert str(getattr(rows(app, Channel)[0], column)).lower() == str(stored).lower()
