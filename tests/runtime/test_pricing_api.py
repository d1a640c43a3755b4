"""Pricing over GraphQL: a buyer's price explained, staff pricing for a buyer, prices in batch on
catalog reads, and price list management under pricing.manage."""
from __future__ import annotations

from decimal import Decimal

from sqlmodel import select

from runtime.accounts.models import Employee
from runtime.auth.models import User
from runtime.catalog.models import Product, ProductChannel
from runtime.pricing.models import PriceList, PriceListEntry
from tests.runtime.helpers import login, make_user, recorded_statements, signed_in
from tests.runtime.test_pricing import add_list, build_world, make_variants

PRICE = """query Price($id: ID!, $quantity: Int, $currency: String, $accountId: ID, $locationId: ID, $at: DateTime) {
  price(variantId: $id, quantity: $quantity, currency: $currency, accountId: $accountId, locationId: $locationId, at: $at) {
    unitPrice { amount currency } quantity level minQuantity lineTotal { amount currency }
    priceList { slug name level } tiers { minQuantity unitPrice { amount } }
  }
}"""
CREATE = """mutation Create($input: CreatePriceListInput!) {
  createPriceList(input: $input) { priceList { slug level currency channelSlug validFrom } errors { code field message } }
}"""
SET_ENTRIES = """mutation Set($id: ID!, $entries: [PriceListEntryInput!]!) {
  setPriceListEntries(priceListId: $id, entries: $entries) {
    priceList { slug } entries { sku minQuantity price { amount currency } } errors { code field message }
  }
}"""
LISTS = "{ priceLists { slug channelSlug entries { sku minQuantity price { amount currency } } } }"


def post(client, query, variables=None, token=None, channel="web"):
    headers = {"X-Channel-Slug": channel, **({"Authorization": f"Bearer {token}"} if token else {})}
    return client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers).get_json()


def buyer_token(app, client, world) -> str:
    """An employee of the world's account at its location, signed in."""
    make_user(app, "buyer@acme.test", ["b2b_buyer"])

    def work(session):
        user = session.exec(select(User).where(User.email == "buyer@acme.test")).one()
        session.add(Employee(user_id=user.id, account_id=world.account, location_id=world.location))

    app.extensions["vectis.db"].run(work)
    return login(client, "buyer@acme.test")


def all_levels(database, world):
    sku = world.variants[0].sku
    add_list(database, world, "CHANNEL", "web-prices", [(sku, 1, "9.00")])
    add_list(database, world, "CUSTOMER_GROUP", "wholesale", [(sku, 1, "8.00")])
    add_list(database, world, "ACCOUNT", "acme", [(sku, 1, "7.00")])
    add_list(database, world, "LOCATION", "acme-vienna", [(sku, 1, "6.00"), (sku, 10, "5.50")])


def test_a_buyer_sees_which_level_and_list_price_them(app, client, database):
    world = build_world(database)
    all_levels(database, world)
    token = buyer_token(app, client, world)
    answer = post(client, PRICE, {"id": str(world.variants[0].id), "quantity": 12}, token)
    assert answer == {"data": {"price": {
        "unitPrice": {"amount": "5.50", "currency": "EUR"}, "quantity": 12, "level": "LOCATION", "minQuantity": 10,
        "lineTotal": {"amount": "66.00", "currency": "EUR"},
        "priceList": {"slug": "acme-vienna", "name": "Acme-Vienna", "level": "LOCATION"},
        "tiers": [{"minQuantity": 1, "unitPrice": {"amount": "6.00"}}, {"minQuantity": 10, "unitPrice": {"amount": "5.50"}}],
    }}}
    guest = post(client, PRICE, {"id": str(world.variants[0].id)})["data"]["price"]
    assert (guest["level"], guest["unitPrice"]["amount"], guest["priceList"]["slug"]) == ("CHANNEL", "9.00", "web-prices")


def test_staff_price_for_a_buyer_and_a_buyer_may_not(app, client, database):
    world = build_world(database)
    all_levels(database, world)
    staff = signed_in(app, client, "catalog_manager")
    variables = {"id": str(world.variants[0].id), "locationId": str(world.location)}
    as_location = post(client, PRICE, variables, staff)["data"]["price"]
    assert (as_location["level"], as_location["unitPrice"]["amount"]) == ("LOCATION", "6.00")
    as_account = post(client, PRICE, {"id": str(world.variants[0].id), "accountId": str(world.account)}, staff)
    assert (as_account["data"]["price"]["level"], as_account["data"]["price"]["unitPrice"]["amount"]) == ("ACCOUNT", "7.00")
    assert post(client, PRICE, {**variables, "locationId": "999"}, staff) == {"data": {"price": None}}
    refused = post(client, PRICE, variables, buyer_token(app, client, world))
    assert refused["data"] == {"price": None}
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]


def test_bad_price_questions_are_top_level_errors(app, client, database):
    world = build_world(database)
    variant_id = str(world.variants[0].id)
    zero = post(client, PRICE, {"id": variant_id, "quantity": 0})
    assert [(e["extensions"]["code"], e["message"]) for e in zero["errors"]] == [
        ("INVALID_QUANTITY", "quantity: expected 1 or more, got 0")]
    pounds = post(client, PRICE, {"id": variant_id, "currency": "GBP"})
    assert [(e["extensions"]["code"], e["message"]) for e in pounds["errors"]] == [
        ("UNSUPPORTED_CURRENCY", "currency: channel 'web' does not sell in GBP (supported: EUR, USD, JPY)")]
    naive = post(client, PRICE, {"id": variant_id, "at": "2026-01-15T12:00:00"})
    assert [e["extensions"]["code"] for e in naive["errors"]] == ["INVALID_DATE"]
    assert post(client, PRICE, {"id": "424242"}) == {"data": {"price": None}}
    assert post(client, PRICE, {"id": variant_id, "currency": "JPY"}) == {"data": {"price": None}}


def test_the_price_at_a_given_time(app, client, database):
    world = build_world(database)
    sku = world.variants[0].sku
    from datetime import datetime, timezone

    add_list(database, world, "CHANNEL", "summer", [(sku, 1, "8.00")],
             valid_from=datetime(2030, 6, 1, tzinfo=timezone.utc), valid_until=datetime(2030, 9, 1, tzinfo=timezone.utc))
    july = post(client, PRICE, {"id": str(world.variants[0].id), "at": "2030-07-01T00:00:00Z"})["data"]["price"]
    september = post(client, PRICE, {"id": str(world.variants[0].id), "at": "2030-09-01T00:00:00Z"})["data"]["price"]
    assert (july["level"], july["unitPrice"]["amount"], september["level"]) == ("CHANNEL", "8.00", "BASE")


# --- Variant.price and Product.priceFrom, in batch ------------------------------------------------------

CATALOG = """{ products(first: 50) { nodes { slug priceFrom { amount currency }
  variants { sku price(quantity: 10) { unitPrice { amount } level } } } } }"""


def visible_in_web(database, world) -> None:
    """Every product visible in the web channel (the catalog shows only visible products)."""
    def work(session):
        for product_id in session.exec(select(Product.id)).all():
            session.add(ProductChannel(product_id=product_id, channel_id=world.web))

    database.run(work)


def statements_of(database, work) -> int:
    with recorded_statements(database) as seen:
        work()
    return len(seen)


def test_catalog_prices_are_resolved_in_batch(app, client, database):
    world = build_world(database, 3)
    for n in range(12):
        database.run(lambda s, n=n: make_variants(s, 2, prefix=f"P{n}", base=f"{n + 1}.00"))
    add_list(database, world, "LOCATION", "contract", [(world.variants[1].sku, 10, "4.00")])
    visible_in_web(database, world)
    token = buyer_token(app, client, world)
    answers = []
    count = statements_of(database, lambda: answers.append(post(client, CATALOG, token=token)))
    products = {p["slug"]: p for p in answers[0]["data"]["products"]["nodes"]}
    assert products.pop("bolt-product") == {"slug": "bolt-product", "priceFrom": {"amount": "10.00", "currency": "EUR"}, "variants": [
        {"sku": "BOLT-0", "price": {"unitPrice": {"amount": "10.00"}, "level": "BASE"}},
        {"sku": "BOLT-1", "price": {"unitPrice": {"amount": "4.00"}, "level": "LOCATION"}},
        {"sku": "BOLT-2", "price": {"unitPrice": {"amount": "10.00"}, "level": "BASE"}},
    ]}
    assert {slug: p["priceFrom"]["amount"] for slug, p in products.items()} == {
        f"p{n}-product": f"{n + 1}.00" for n in range(12)}
    few = post(client, CATALOG.replace("first: 50", "first: 2"), token=token)
    assert len(few["data"]["products"]["nodes"]) == 2
    fewer = statements_of(database, lambda: post(client, CATALOG.replace("first: 50", "first: 2"), token=token))
    assert count == fewer


def test_a_single_variant_is_priced_without_the_catalog_cache(app, client, database):
    world = build_world(database)
    all_levels(database, world)
    visible_in_web(database, world)
    answer = post(client, '{ variant(sku: "BOLT-0") { sku price(currency: "EUR") { unitPrice { amount } level } } }',
                  token=buyer_token(app, client, world))
    assert answer == {"data": {"variant": {"sku": "BOLT-0", "price": {"unitPrice": {"amount": "6.00"}, "level": "LOCATION"}}}}


# --- management ---------------------------------------------------------------------------------------

def test_staff_create_a_list_and_set_its_entries(app, client, database):
    world = build_world(database)
    token = signed_in(app, client, "catalog_manager")
    created = post(client, CREATE, {"input": {"slug": "web-prices", "name": "Web", "level": "CHANNEL", "currency": "EUR",
                                              "channelSlug": "web", "validFrom": "2026-01-01T00:00:00Z"}}, token)
    assert created == {"data": {"createPriceList": {"priceList": {
        "slug": "web-prices", "level": "CHANNEL", "currency": "EUR", "channelSlug": "web",
        "validFrom": "2026-01-01T00:00:00+00:00"}, "errors": []}}}
    with database.session() as session:
        list_id = session.exec(select(PriceList.id)).one()
    entries = [{"sku": world.variants[0].sku, "price": "9.90"}, {"sku": world.variants[0].sku, "minQuantity": 10, "price": "9"}]
    answer = post(client, SET_ENTRIES, {"id": str(list_id), "entries": entries}, token)
    assert answer == {"data": {"setPriceListEntries": {"priceList": {"slug": "web-prices"}, "entries": [
        {"sku": "BOLT-0", "minQuantity": 1, "price": {"amount": "9.90", "currency": "EUR"}},
        {"sku": "BOLT-0", "minQuantity": 10, "price": {"amount": "9.00", "currency": "EUR"}}], "errors": []}}}
    assert post(client, LISTS, token=token) == {"data": {"priceLists": [{"slug": "web-prices", "channelSlug": "web", "entries": [
        {"sku": "BOLT-0", "minQuantity": 1, "price": {"amount": "9.90", "currency": "EUR"}},
        {"sku": "BOLT-0", "minQuantity": 10, "price": {"amount": "9.00", "currency": "EUR"}}]}]}}


def test_a_refused_entry_answers_in_the_payload_and_writes_nothing(app, client, database):
    world = build_world(database)
    list_id = add_list(database, world, "CHANNEL", "web-prices", [(world.variants[0].sku, 1, "9.00")])
    token = signed_in(app, client, "catalog_manager")
    entries = [{"sku": world.variants[0].sku, "price": "8.00"}, {"sku": "NOPE", "price": "1"},
               {"sku": world.variants[0].sku, "minQuantity": 5, "price": "12.345"}]
    answer = post(client, SET_ENTRIES, {"id": str(list_id), "entries": entries}, token)
    assert answer == {"data": {"setPriceListEntries": {"priceList": None, "entries": None, "errors": [
        {"code": "NOT_FOUND", "field": "entries.1.sku", "message": "entries.1.sku: no variant with SKU 'NOPE'"},
        {"code": "TOO_MANY_DECIMALS", "field": "entries.2.price",
         "message": "entries.2.price: 12.345 has more decimals than EUR allows (2)"}]}}}
    with database.session() as session:
        assert [(e.min_quantity, e.price) for e in session.exec(select(PriceListEntry))] == [(1, Decimal("9.00"))]
    window = post(client, CREATE, {"input": {"slug": "w", "name": "W", "level": "CHANNEL", "currency": "EUR",
                                             "channelSlug": "web", "validFrom": "2026-02-01T00:00:00Z",
                                             "validUntil": "2026-01-01T00:00:00Z"}}, token)
    assert [e["code"] for e in window["data"]["createPriceList"]["errors"]] == ["INVALID_WINDOW"]
    with database.session() as session:
        assert session.exec(select(PriceList.slug)).all() == ["web-prices"]


def test_managing_prices_needs_pricing_manage(app, client, database):
    build_world(database)
    token = signed_in(app, client, "viewer")
    answer = post(client, CREATE, {"input": {"slug": "x", "name": "X", "level": "CHANNEL", "currency": "EUR",
                                             "channelSlug": "web"}}, token)
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["FORBIDDEN"]
    assert [e["extensions"]["code"] for e in post(client, LISTS)["errors"]] == ["UNAUTHENTICATED"]
    with database.session() as session:
        assert session.exec(select(PriceList)).all() == []
