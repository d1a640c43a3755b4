"""Catalog search over GraphQL: text search on both backends, every filter, the category subtree,
keyset pagination, channel visibility windows, and a constant number of SQL statements per page."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, text

from runtime.catalog import service
from runtime.channels.service import create_channel
from tests.runtime.helpers import recorded_statements

PRODUCTS = """query P($first: Int, $after: String, $filter: ProductFilter) {
  products(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { slug }
  }
}"""


def post(client, query, variables=None, headers=None):
    return client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers or {}).get_json()


def slugs(client, filter=None, first=20, headers=None):
    answer = post(client, PRODUCTS, {"filter": filter, "first": first}, headers)
    assert "errors" not in answer, answer
    return [n["slug"] for n in answer["data"]["products"]["nodes"]]


def variant(sku, price, **attributes):
    return {"sku": sku, "name": sku, "base_price": price, "attributes": attributes}


def seed(database, channels=("web",)):
    def work(session):
        create_channel(session, slug="web", name="Web", commerce_mode="B2C", default_currency="EUR", is_default=True)
        create_channel(session, slug="trade", name="Trade", commerce_mode="B2B", default_currency="EUR")
        for slug, name in (("acme", "Acme"), ("zenith", "Zénith Works")):
            service.create_brand(session, slug=slug, name=name)
        service.create_category(session, slug="tools", name="Tools")
        service.create_category(session, slug="drills", name="Drills", parent_slug="tools")
        service.create_category(session, slug="cordless", name="Cordless", parent_slug="drills")
        service.create_category(session, slug="garden", name="Garden")
        service.create_attribute(session, code="voltage", name="Voltage", type="number")
        service.create_attribute(session, code="color", name="Colour", type="select", choices=["red", "green", "blue"])
        service.create_attribute(session, code="eco", name="Eco", type="boolean")
        made = [
            dict(slug="hammer", name="Claw hammer", description="Forged steel head", brand_slug="acme",
                 category_slug="tools", tags=["hand"], attributes={"eco": True},
                 variants=[variant("HAM-1", "19.90", color="red")]),
            dict(slug="drill", name="Hammer drill", description="Drills concrete", brand_slug="zenith",
                 category_slug="drills", tags=["power", "pro"], attributes={"voltage": "230"},
                 variants=[variant("DRL-230", "129.00", color="green")]),
            dict(slug="cordless-drill", name="Cordless drill", description="Battery powered", brand_slug="zenith",
                 category_slug="cordless", tags=["power"], attributes={"voltage": 18, "eco": False},
                 variants=[variant("CDR-18-B", "89.50", color="blue"), variant("CDR-18-R", "99.50", color="red")]),
            dict(slug="rake", name="Garden rake", description="Leaf rake", category_slug="garden", tags=["hand"],
                 variants=[variant("RAK-1", "24.00")]),
            dict(slug="hidden", name="Unpublished saw", is_published=False, variants=[variant("SAW-1", "10.00")]),
        ]
        for values in made:
            service.create_product(session, base_currency="EUR", channels=list(channels), **values)

    database.run(work)


def test_browse_lists_published_products_by_name_with_a_total(client, database):
    seed(database)
    answer = post(client, PRODUCTS)["data"]["products"]
    assert answer["nodes"] == [{"slug": "hammer"}, {"slug": "cordless-drill"}, {"slug": "rake"}, {"slug": "drill"}]
    assert answer["totalCount"] == 4
    assert answer["pageInfo"]["hasNextPage"] is False


def test_text_search_matches_name_description_sku_brand_and_translations_on_every_backend(client, database):
    seed(database)
    database.run(lambda s: service.set_product_translation(
        s, service.find_product(s, slug="rake").id, locale="de", name="Laubrechen", description="Für Blätter"))
    assert slugs(client, {"search": "hammer"}) == ["hammer", "drill"]
    assert slugs(client, {"search": "HAMMER dri"}) == ["drill"]
    assert slugs(client, {"search": "concrete"}) == ["drill"]
    assert slugs(client, {"search": "cdr-18"}) == ["cordless-drill"]
    assert slugs(client, {"search": "zénith"}) == ["cordless-drill", "drill"]
    assert slugs(client, {"search": "laubrechen"}) == ["rake"]
    assert slugs(client, {"search": "saw"}) == []
    assert slugs(client, {"search": "nothing-like-it"}) == []
    assert slugs(client, {"search": "  ' \" * "}) == ["hammer", "cordless-drill", "rake", "drill"]


def test_each_filter_narrows_the_set(client, database):
    seed(database)
    assert slugs(client, {"brandSlug": "zenith"}) == ["cordless-drill", "drill"]
    assert slugs(client, {"brandSlug": "nobody"}) == []
    assert slugs(client, {"tags": ["power"]}) == ["cordless-drill", "drill"]
    assert slugs(client, {"tags": ["power", "pro"]}) == ["drill"]
    assert slugs(client, {"attributes": [{"code": "voltage", "values": ["18.0"]}]}) == ["cordless-drill"]
    assert slugs(client, {"attributes": [{"code": "color", "values": ["red"]}]}) == ["hammer", "cordless-drill"]
    assert slugs(client, {"attributes": [{"code": "color", "values": ["green", "blue"]}]}) == ["cordless-drill", "drill"]
    assert slugs(client, {"attributes": [{"code": "eco", "values": ["true"]}]}) == ["hammer"]
    assert slugs(client, {"attributes": [{"code": "eco", "values": ["false"]}]}) == ["cordless-drill"]
    assert slugs(client, {"priceMin": "90", "priceMax": "130"}) == ["cordless-drill", "drill"]
    assert slugs(client, {"priceMin": "90", "priceMax": "95"}) == []
    assert slugs(client, {"priceMax": "24.00"}) == ["hammer", "rake"]
    assert slugs(client, {"brandSlug": "zenith", "priceMax": "100", "search": "drill"}) == ["cordless-drill"]


def test_a_category_filter_includes_its_whole_subtree(client, database):
    seed(database)
    assert slugs(client, {"categorySlug": "tools"}) == ["hammer", "cordless-drill", "drill"]
    assert slugs(client, {"categorySlug": "drills"}) == ["cordless-drill", "drill"]
    assert slugs(client, {"categorySlug": "cordless"}) == ["cordless-drill"]
    assert slugs(client, {"categorySlug": "garden"}) == ["rake"]
    assert slugs(client, {"categorySlug": "nowhere"}) == []


def test_bad_filters_and_pages_are_top_level_errors(client, database):
    seed(database)
    for variables, code, message in (
        ({"first": 0}, "INVALID_PAGE", "first: expected 1 to 100, got 0"),
        ({"first": 101}, "INVALID_PAGE", "first: expected 1 to 100, got 101"),
        ({"after": "bm9wZQ"}, "INVALID_PAGE", "after: not a cursor this API returned"),
        ({"filter": {"attributes": [{"code": "weight", "values": ["1"]}]}}, "UNKNOWN_ATTRIBUTE",
         "filter.attributes.0.code: no attribute 'weight'"),
        ({"filter": {"priceMin": "cheap"}}, "INVALID_AMOUNT",
         "filter.priceMin: expected a decimal number ≥ 0 like \"19.90\", got 'cheap'"),
    ):
        answer = post(client, PRODUCTS, variables)
        assert answer["data"] is None
        assert answer["errors"][0]["message"] == message
        assert answer["errors"][0]["extensions"]["code"] == code


def test_cursors_page_through_without_gaps_or_repeats(client, database):
    seed(database)
    seen, after, pages = [], None, 0
    while True:
        page = post(client, PRODUCTS, {"first": 3, "after": after})["data"]["products"]
        seen += [n["slug"] for n in page["nodes"]]
        pages += 1
        assert page["totalCount"] == 4
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert (seen, pages) == (["hammer", "cordless-drill", "rake", "drill"], 2)
    filtered = post(client, PRODUCTS, {"first": 1, "filter": {"brandSlug": "zenith"}})["data"]["products"]
    rest = post(client, PRODUCTS, {"first": 5, "after": filtered["pageInfo"]["endCursor"],
                                   "filter": {"brandSlug": "zenith"}})["data"]["products"]
    assert ([n["slug"] for n in filtered["nodes"]], [n["slug"] for n in rest["nodes"]]) == (["cordless-drill"], ["drill"])


def test_products_show_only_in_their_channels_within_their_windows(client, database, frozen_clock):
    seed(database, channels=("web",))
    now = frozen_clock.now()

    def windows(session):
        drill = service.find_product(session, slug="drill")
        service.set_product_channels(session, drill.id, [
            {"channel_slug": "web", "visible_from": now + timedelta(days=1), "visible_until": now + timedelta(days=2)},
            {"channel_slug": "trade", "visible_from": None, "visible_until": None}])

    database.run(windows)
    assert slugs(client) == ["hammer", "cordless-drill", "rake"]
    assert slugs(client, headers={"X-Channel-Slug": "trade"}) == ["drill"]
    single = '{ product(slug: "drill") { slug } variant(sku: "DRL-230") { sku product { slug } } }'
    assert post(client, single)["data"] == {"product": None, "variant": None}
    assert post(client, single, headers={"X-Channel-Slug": "trade"})["data"] == {
        "product": {"slug": "drill"}, "variant": {"sku": "DRL-230", "product": {"slug": "drill"}}}
    frozen_clock.advance(days=1)
    assert slugs(client) == ["hammer", "cordless-drill", "rake", "drill"]
    frozen_clock.advance(days=1)
    assert slugs(client) == ["hammer", "cordless-drill", "rake"]
    assert post(client, '{ product(slug: "hidden") { slug } }')["data"] == {"product": None}


def test_load_variants_reads_visible_active_variants_in_one_query(database, frozen_clock):
    seed(database)
    with database.session() as session:
        trade = session.execute(text("SELECT id FROM channel WHERE slug = 'trade'")).scalar_one()
        web = session.execute(text("SELECT id FROM channel WHERE slug = 'web'")).scalar_one()
        statements = []
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(database.engine, "before_cursor_execute", listen)
        try:
            found = service.load_variants(session, skus=["HAM-1", "SAW-1", "NOPE", "CDR-18-R"], channel_id=web)
        finally:
            event.remove(database.engine, "before_cursor_execute", listen)
        assert sorted((v.sku, p.slug) for v, p in found.values()) == [("CDR-18-R", "cordless-drill"), ("HAM-1", "hammer")]
        assert len(statements) == 1
        by_id = service.load_variants(session, ids=[v.id for v, _ in found.values()])
        assert sorted(v.sku for v, _ in by_id.values()) == ["CDR-18-R", "HAM-1"]
        assert service.load_variants(session, skus=["HAM-1"], channel_id=trade) == {}
        assert service.load_variants(session) == {}


PAGE = "query($first: Int) { products(first: $first) { edges { node { name brand { name } category { name } variants { sku } } } } }"


def count_statements(database, client, first: int) -> tuple[int, int]:
    with recorded_statements(database) as statements:
        nodes = post(client, PAGE, {"first": first})["data"]["products"]["edges"]
    return len(statements), len(nodes)


def test_a_page_costs_the_same_few_statements_whatever_its_size(client, database):
    seed(database)

    def many(session):
        for i in range(25):
            service.create_product(session, base_currency="EUR", slug=f"bulk-{i}", name=f"Bulk {i:02d}",
                                   brand_slug="acme", category_slug="garden", channels=["web"],
                                   variants=[variant(f"BULK-{i}-A", "1.00"), variant(f"BULK-{i}-B", "2.00")])

    database.run(many)
    post(client, "{ server { version } }")  # the first request of an app also polls definitions
    small, small_rows = count_statements(database, client, 5)
    large, large_rows = count_statements(database, client, 20)
    assert (small_rows, large_rows) == (5, 20)
    # channel, page (brands and categories joined), count, variants
    assert small == large == 4
