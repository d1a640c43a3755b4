"""Channels over GraphQL: public reads, admin mutations under channels.manage, the X-Channel-Slug header."""
from __future__ import annotations

from sqlmodel import select

from runtime.channels.models import Channel, ExchangeRate
from tests.runtime.helpers import gql, signed_in

CREATE = """mutation Create($input: CreateChannelInput!) {
  createChannel(input: $input) {
    channel { slug name commerceMode defaultCurrency currencies captureMode isActive isDefault }
    errors { code field message }
  }
}"""
UPDATE = """mutation Update($slug: String!, $input: UpdateChannelInput!) {
  updateChannel(slug: $slug, input: $input) { channel { slug name isActive } errors { code field message } }
}"""
SET_RATE = """mutation Rate($input: SetExchangeRateInput!) {
  setExchangeRate(input: $input) { exchangeRate { base quote rate validFrom } errors { code field message } }
}"""
CHANNELS = "query($all: Boolean) { channels(includeInactive: $all) { slug } }"
CURRENT = "{ currentChannel { slug commerceMode } }"

WEB = {"slug": "web", "name": "Web", "commerceMode": "B2C", "defaultCurrency": "EUR", "currencies": ["EUR", "USD"],
       "isDefault": True}
B2B = {"slug": "b2b-eu", "name": "Trade", "commerceMode": "B2B", "defaultCurrency": "EUR", "captureMode": "AUTHORIZE"}


def post(client, query, variables=None, token=None, channel=None):
    if channel is None:
        return gql(client, query, variables, token).get_json()
    body = {"query": query, "variables": variables or {}}
    headers = {"X-Channel-Slug": channel, **({"Authorization": f"Bearer {token}"} if token else {})}
    return client.post("/graphql", json=body, headers=headers).get_json()


def rows(app, model):
    with app.extensions["vectis.db"].session() as session:
        return session.exec(select(model)).all()


def test_an_admin_creates_channels_and_anyone_reads_the_active_ones(app, client):
    token = signed_in(app, client, "admin")
    created = post(client, CREATE, {"input": WEB}, token)["data"]["createChannel"]
    assert created == {"channel": {"slug": "web", "name": "Web", "commerceMode": "B2C", "defaultCurrency": "EUR",
                                   "currencies": ["EUR", "USD"], "captureMode": "AUTHORIZE_AND_CAPTURE",
                                   "isActive": True, "isDefault": True}, "errors": []}
    post(client, CREATE, {"input": {**B2B, "isActive": False}}, token)
    assert post(client, CHANNELS)["data"]["channels"] == [{"slug": "web"}]
    assert post(client, '{ channel(slug: "b2b-eu") { slug } }')["data"]["channel"] is None
    assert post(client, '{ channel(slug: "b2b-eu") { slug } }', token=token)["data"]["channel"] == {"slug": "b2b-eu"}
    assert post(client, CHANNELS, {"all": True}, token)["data"]["channels"] == [{"slug": "b2b-eu"}, {"slug": "web"}]


def test_a_refused_mutation_answers_in_the_payload_and_changes_nothing(app, client):
    token = signed_in(app, client, "admin")
    answer = post(client, CREATE, {"input": {**WEB, "slug": "Web", "currencies": ["USD"]}}, token)
    assert answer["data"]["createChannel"] == {"channel": None, "errors": [
        {"code": "INVALID_SLUG", "field": "slug",
         "message": "slug: 'Web' is not a slug: use lower-case letters, digits and single hyphens, at most 64 characters"},
        {"code": "UNSUPPORTED_CURRENCY", "field": "defaultCurrency",
         "message": "defaultCurrency: EUR is not among the supported currencies (USD)"},
    ]}
    post(client, CREATE, {"input": WEB}, token)
    duplicate = post(client, CREATE, {"input": WEB}, token)["data"]["createChannel"]
    assert duplicate["errors"] == [{"code": "DUPLICATE_SLUG", "field": "slug", "message": "slug: a channel 'web' already exists"}]
    refused = post(client, UPDATE, {"slug": "web", "input": {"name": "New", "currencies": ["GBP"]}}, token)
    assert [e["code"] for e in refused["data"]["updateChannel"]["errors"]] == ["UNSUPPORTED_CURRENCY"]
    assert [(c.slug, c.name, c.currencies) for c in rows(app, Channel)] == [("web", "Web", ["EUR", "USD"])]
    updated = post(client, UPDATE, {"slug": "web", "input": {"name": "New"}}, token)["data"]["updateChannel"]
    assert updated == {"channel": {"slug": "web", "name": "New", "isActive": True}, "errors": []}


def test_mutations_need_channels_manage(app, client):
    viewer = signed_in(app, client, "viewer")
    for query, variables in ((CREATE, {"input": WEB}), (UPDATE, {"slug": "web", "input": {"name": "x"}}),
                             (SET_RATE, {"input": {"base": "USD", "quote": "EUR", "rate": "0.9"}})):
        forbidden = post(client, query, variables, viewer)
        assert forbidden["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
        assert forbidden["errors"][0]["message"] == "permission 'channels.manage' is required"
        assert post(client, query, variables)["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert post(client, CHANNELS, {"all": True}, viewer)["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    merchandiser = signed_in(app, client, "merchandiser")  # channels.manage is the admin's alone
    assert post(client, CREATE, {"input": WEB}, merchandiser)["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert rows(app, Channel) == [] and rows(app, ExchangeRate) == []


def test_exchange_rates_are_set_and_read_by_time(app, client, frozen_clock):
    token = signed_in(app, client, "admin")
    first = post(client, SET_RATE, {"input": {"base": "USD", "quote": "JPY", "rate": "151.2350"}}, token)
    assert first["data"]["setExchangeRate"] == {"exchangeRate": {
        "base": "USD", "quote": "JPY", "rate": "151.235", "validFrom": "2026-01-15T12:00:00+00:00"}, "errors": []}
    post(client, SET_RATE, {"input": {"base": "USD", "quote": "JPY", "rate": "150",
                                      "validFrom": "2026-01-16T00:00:00Z"}}, token)
    read = 'query($at: String) { exchangeRate(base: "USD", quote: "JPY", at: $at) { rate validFrom } }'
    assert post(client, read)["data"]["exchangeRate"]["rate"] == "151.235"
    assert post(client, read, {"at": "2026-01-16T00:00:00+00:00"})["data"]["exchangeRate"]["rate"] == "150"
    assert post(client, read, {"at": "2026-01-01T00:00:00Z"})["data"]["exchangeRate"] is None
    bad_time = post(client, read, {"at": "yesterday"})
    assert bad_time["errors"][0]["extensions"] == {"code": "INVALID_DATE"}
    refused = post(client, SET_RATE, {"input": {"base": "USD", "quote": "EUR", "rate": "-1", "validFrom": "2026-01-16"}},
                   token)["data"]["setExchangeRate"]
    assert refused["exchangeRate"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("INVALID_DATE", "validFrom")]
    assert len(rows(app, ExchangeRate)) == 2


def test_the_channel_header_selects_the_request_channel(app, client):
    assert post(client, CURRENT)["data"]["currentChannel"] is None  # no default channel yet
    token = signed_in(app, client, "admin")
    post(client, CREATE, {"input": WEB}, token)
    post(client, CREATE, {"input": B2B}, token)
    post(client, CREATE, {"input": {**B2B, "slug": "closed", "isActive": False}}, token)
    assert post(client, CURRENT)["data"]["currentChannel"] == {"slug": "web", "commerceMode": "B2C"}
    assert post(client, CURRENT, channel="b2b-eu")["data"]["currentChannel"] == {"slug": "b2b-eu", "commerceMode": "B2B"}
    for slug, message in (("b2b-ue", "X-Channel-Slug: no active channel 'b2b-ue' (did you mean 'b2b-eu'?)"),
                          ("closed", "X-Channel-Slug: no active channel 'closed'")):
        answer = post(client, CURRENT, channel=slug)
        assert answer["data"]["currentChannel"] is None
        assert answer["errors"][0]["message"] == message
        assert answer["errors"][0]["extensions"] == {"code": "CHANNEL_NOT_FOUND"}


def test_a_process_keeps_its_channels_briefly_and_forgets_them_when_it_changes_one(settings):
    from dataclasses import replace

    from runtime.app import create_app
    from runtime.channels.providers import providers
    from runtime.channels.service import get_channel
    from tests.conftest import _empty_tables
    from tests.runtime.helpers import login, make_user, recorded_statements
    from tests.runtime.test_orders_api import SET_PROVIDER

    app = create_app(replace(settings, channel_cache_seconds=60))
    client = app.test_client()
    database = app.extensions["vectis.db"]

    def gateways(web: int) -> list[str]:
        with app.app_context(), database.session() as session:
            return [p.key for p in providers(session, web, "payment_gateway")]

    try:
        make_user(app, "admin@example.test", ["admin"])
        token = login(client, "admin@example.test")
        post(client, CREATE, {"input": WEB}, token)
        with database.session() as session:
            web = get_channel(session, "web").id
        with recorded_statements(database) as statements:
            def channel_reads() -> int:  # other modules' reads in the same requests aside
                return sum(1 for s in statements if "FROM channel" in s)

            # given the channels read once, and their providers once when first asked
            assert post(client, CURRENT)["data"]["currentChannel"]["slug"] == "web"
            assert channel_reads() == 1
            assert gateways(web) == []
            assert channel_reads() == 2
            # then later requests answer from memory, unknown slugs included in one more read
            assert post(client, CURRENT, channel="web")["data"]["currentChannel"]["slug"] == "web"
            assert gateways(web) == []
            assert channel_reads() == 2
            assert post(client, CURRENT, channel="nope")["errors"][0]["extensions"] == {"code": "CHANNEL_NOT_FOUND"}
            assert channel_reads() == 3
        # when this process changes a channel, the next request sees the change at once
        post(client, UPDATE, {"slug": "web", "input": {"isDefault": False}}, token)
        assert post(client, CURRENT)["data"]["currentChannel"] is None
        # and the same for a channel's providers
        answer = post(client, SET_PROVIDER, {"slug": "web", "provider": "mock_gateway.payment_gateway.mock",
                                             "config": {"merchant_id": "m_web"}}, token)
        assert answer["data"]["setChannelProvider"]["errors"] == []
        post(client, CURRENT, channel="web")
        assert gateways(web) == ["mock_gateway.payment_gateway.mock"]
    finally:
        _empty_tables(app)
        app.extensions["vectis.db"].dispose()


def test_a_channel_has_a_time_zone_that_must_exist(app, client):
    token = signed_in(app, client, "admin")
    query = """mutation($slug: String!, $input: UpdateChannelInput!) { updateChannel(slug: $slug, input: $input) {
      channel { slug timeZone } errors { code field message } } }"""
    created = post(client, CREATE.replace("isDefault }", "isDefault timeZone }"), {"input": WEB}, token)
    assert created["data"]["createChannel"]["channel"]["timeZone"] == "UTC"
    refused = post(client, query, {"slug": "web", "input": {"timeZone": "Europe/Viena"}}, token)["data"]["updateChannel"]
    assert refused == {"channel": None, "errors": [{"code": "INVALID_TIME_ZONE", "field": "timeZone", "message":
                       "timeZone: expected an IANA time zone like 'Europe/Vienna' or 'UTC', got 'Europe/Viena'"}]}
    changed = post(client, query, {"slug": "web", "input": {"timeZone": "Europe/Vienna"}}, token)["data"]["updateChannel"]
    assert changed == {"channel": {"slug": "web", "timeZone": "Europe/Vienna"}, "errors": []}
