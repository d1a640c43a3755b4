"""Product labels over GraphQL: one batch evaluation per request, surfaces, schedule and channel
scope, publishing without a restart, the label index (jobs, triggers, staleness) and search by
label."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from rules.batch import BatchEvaluator
from runtime.catalog import service
from runtime.catalog.models import Product
from runtime.channels.service import create_channel
from runtime.definitions import store
from runtime.definitions.environment import build_environment
from runtime.inventory.models import StockLevel, Warehouse
from runtime.jobs import DEFAULT, get_dispatcher
from runtime.jobs.worker import VectisSimpleWorker, build_worker
from runtime.labels import index
from runtime.labels.models import LabelIndexState, ProductLabel
from tests.conftest import make_settings
from tests.runtime.helpers import gql, recorded_statements, signed_in

LISTING = """query L($first: Int, $surface: LabelSurface, $filter: ProductFilter) {
  products(first: $first, filter: $filter) { nodes { slug labels(surface: $surface) { name } } }
}"""

CHEAP = """kind: label
name: cheap
label: {text: Under 20, style: info, priority: 5}
when: {price: {lt: 20}}
"""
CHEAP_ACTIVE = CHEAP.replace("when: {price: {lt: 20}}", "when: {price: {lt: 20}, status: active}")
SALE = """kind: label
name: sale
label: {text: Sale, style: sale, color: "#dc2626", priority: 20}
surfaces: [catalog_card, product_page]
when: {compare_at_price: {gt: {field: price}}}
"""
TOOLS = """kind: label
name: tools
label: {text: Tools, priority: 5}
channels: [trade]
when: {categories: {any: {$i: tools}}, brand: acme}
"""
WEEKEND = """kind: label
name: weekend
label: {text: Weekend deal}
schedule: {from: "2026-01-17T00:00:00Z", until: "2026-01-19T00:00:00Z"}
when: {price: {gte: 0}}
"""
IN_STOCK = """kind: label
name: in_stock
label: {text: Ready to ship}
when: {variants: {any: {$i.stock: {gt: 0}}}}
"""


def variant(sku, price, compare_at=None):
    return {"sku": sku, "name": sku, "base_price": price, "compare_at_price": compare_at}


def seed(database, count=25):
    """``count`` products p00…: p<i> costs 10 + i (p00-p09 are cheap), even ones are on sale,
    p00-p04 are acme tools (drills is under tools)."""
    def work(session):
        create_channel(session, slug="web", name="Web", commerce_mode="B2C", default_currency="EUR", is_default=True)
        create_channel(session, slug="trade", name="Trade", commerce_mode="B2B", default_currency="EUR")
        service.create_brand(session, slug="acme", name="Acme")
        service.create_category(session, slug="tools", name="Tools")
        service.create_category(session, slug="drills", name="Drills", parent_slug="tools")
        for i in range(count):
            price = Decimal(10 + i)
            service.create_product(
                session, base_currency="EUR", channels=["web", "trade"], slug=f"p{i:02d}", name=f"Product {i:02d}",
                brand_slug="acme" if i < 5 else None, category_slug="drills" if i < 5 else None,
                variants=[variant(f"SKU-{i:02d}", str(price), str(price + 5) if i % 2 == 0 else None)])

    database.run(work)


def publish(app, *sources):
    env = build_environment(app.extensions["vectis.registry"])
    for source in sources:
        app.extensions["vectis.db"].run(lambda s: store.publish(s, source, env, author="m@example.test"))
    drain(app)


def drain(app):
    """Run what the triggers enqueued: in-process it already ran; with Redis, a burst worker."""
    if not get_dispatcher(app).in_process:
        with app.app_context():
            build_worker(app, [DEFAULT], worker_class=VectisSimpleWorker).work(burst=True)


def listing(client, first=25, surface=None, filter=None, headers=None):
    answer = client.post("/graphql", json={"query": LISTING, "variables": {
        "first": first, "surface": surface, "filter": filter}}, headers=headers or {}).get_json()
    assert "errors" not in answer, answer
    return {n["slug"]: [label["name"] for label in n["labels"]] for n in answer["data"]["products"]["nodes"]}


def indexed(database, label):
    with database.session() as session:
        rows = session.execute(select(Product.slug).join(ProductLabel, ProductLabel.product_id == Product.id)
                               .where(ProductLabel.label_name == label).order_by(Product.slug)).scalars()
        return list(rows)


@pytest.fixture
def settings(database_url, redis_url, tmp_path):
    """Every request looks for new definition revisions (no one-second poll to wait out)."""
    return make_settings(database_url, redis_url, tmp_path, definitions_poll_seconds=0)


@pytest.fixture
def evaluations(monkeypatch):
    calls = []
    original = BatchEvaluator.evaluate

    def counted(self, facts):
        calls.append(len(facts))
        return original(self, facts)

    monkeypatch.setattr(BatchEvaluator, "evaluate", counted)
    return calls


def test_every_product_of_a_page_gets_its_labels_ordered_by_priority(app, client, database):
    seed(database, 12)
    publish(app, CHEAP, SALE)

    labels = listing(client)

    assert labels["p00"] == ["sale", "cheap"]
    assert labels["p01"] == ["cheap"]
    assert labels["p10"] == ["sale"]
    assert labels["p11"] == []


def test_one_evaluation_and_the_same_statements_for_5_or_20_products(app, client, database, evaluations):
    seed(database)
    publish(app, CHEAP, SALE, TOOLS, IN_STOCK)
    listing(client, first=1)  # warm: the label set and the operation cache
    evaluations.clear()

    counts = {}
    for first in (5, 20):
        with recorded_statements(database) as statements:
            labels = listing(client, first=first)
        counts[first] = len(statements)
        assert len(labels) == first and labels["p02"] == ["sale", "cheap"]

    assert evaluations == [5, 20]  # one batch per request, whatever the page size
    assert counts[5] == counts[20]


def test_surface_channel_and_schedule_filter_what_a_request_sees(app, client, database, frozen_clock):
    seed(database, 3)
    publish(app, SALE, TOOLS, WEEKEND)

    assert listing(client)["p00"] == ["sale"]  # web: tools is trade-only; the weekend not yet
    assert listing(client, surface="SEARCH_RESULTS")["p00"] == []  # sale shows on cards and pages only
    assert listing(client, headers={"X-Channel-Slug": "trade"})["p00"] == ["sale", "tools"]
    frozen_clock.freeze(datetime(2026, 1, 17, tzinfo=timezone.utc))
    assert listing(client, surface="CATALOG_CARD")["p00"] == ["sale", "weekend"]
    frozen_clock.freeze(datetime(2026, 1, 19, tzinfo=timezone.utc))  # until is exclusive
    assert listing(client)["p01"] == []


def test_product_labels_carry_the_display_fields_and_revision(app, client, database):
    seed(database, 1)
    publish(app, SALE)
    query = '{ product(slug: "p00") { labels { name text style color icon priority surfaces revision } } }'

    answer = gql(client, query).get_json()

    assert answer["data"]["product"]["labels"] == [{
        "name": "sale", "text": "Sale", "style": "SALE", "color": "#dc2626", "icon": None, "priority": 20,
        "surfaces": ["PRODUCT_PAGE", "CATALOG_CARD"], "revision": 1}]


def test_stock_is_read_from_tracked_variants(app, client, database):
    seed(database, 3)

    def stock(session):
        session.execute(update(Product).where(Product.slug.in_(["p00", "p01"])).values(track_inventory=True))
        warehouse = Warehouse(code="main", name="Main")
        session.add(warehouse)
        session.flush()
        ids = dict(session.execute(select(Product.slug, Product.id)).all())
        from runtime.catalog.models import ProductVariant
        variants = dict(session.execute(select(ProductVariant.product_id, ProductVariant.id)).all())
        session.add(StockLevel(variant_id=variants[ids["p00"]], warehouse_id=warehouse.id, on_hand=4))
        session.add(StockLevel(variant_id=variants[ids["p01"]], warehouse_id=warehouse.id, on_hand=0))

    database.run(stock)
    publish(app, IN_STOCK)

    labels = listing(client)
    assert [labels[s] for s in ("p00", "p01", "p02")] == [["in_stock"], [], []]  # p02 is untracked
    assert indexed(database, "in_stock") == ["p00"]


def test_a_published_label_changes_results_without_a_restart(app, client, database):
    seed(database, 3)
    publish(app, CHEAP)
    token = signed_in(app, client, "merchandiser")
    assert listing(client)["p00"] == ["cheap"]

    answer = gql(client, "mutation P($s: String!) { publishDefinition(source: $s) { errors { message } } }",
                 {"s": CHEAP.replace("lt: 20", "lt: 11")}, token).get_json()
    assert answer["data"]["publishDefinition"]["errors"] == []
    drain(app)

    assert listing(client)["p00"] == ["cheap"] and listing(client)["p01"] == []
    assert listing(client, filter={"label": "cheap"}) == {"p00": ["cheap"]}
    assert indexed(database, "cheap") == ["p00"]


def test_search_filters_by_label_within_its_schedule_and_channel(app, client, database, frozen_clock):
    seed(database, 6)
    publish(app, SALE, TOOLS, WEEKEND)

    assert sorted(listing(client, filter={"label": "sale"})) == ["p00", "p02", "p04"]
    assert listing(client, filter={"label": "tools"}) == {}  # web: a trade-only label
    assert sorted(listing(client, filter={"label": "tools"}, headers={"X-Channel-Slug": "trade"})) == [
        "p00", "p01", "p02", "p03", "p04"]
    assert listing(client, filter={"label": "weekend"}) == {}
    frozen_clock.freeze(datetime(2026, 1, 18, tzinfo=timezone.utc))
    assert len(listing(client, filter={"label": "weekend"})) == 6


def test_search_by_an_unknown_label_is_an_error_naming_the_field(app, client, database):
    seed(database, 1)
    publish(app, SALE)

    answer = client.post("/graphql", json={"query": LISTING, "variables": {"filter": {"label": "sales"}}}).get_json()

    assert answer["errors"][0]["message"] == "filter.label: no live label 'sales' (did you mean 'sale'?)"
    assert answer["errors"][0]["extensions"]["code"] == "UNKNOWN_LABEL"


def test_a_product_change_relabels_that_product(app, client, database):
    seed(database, 3)
    publish(app, CHEAP_ACTIVE)
    token = signed_in(app, client, "catalog_manager")
    assert indexed(database, "cheap") == ["p00", "p01", "p02"]

    with database.session() as session:
        p01 = session.execute(select(Product.id).where(Product.slug == "p01")).scalar_one()
    mutation = """mutation U($id: ID!) { updateProduct(id: $id, input: {isPublished: false}) { errors { message } } }"""
    assert gql(client, mutation, {"id": str(p01)}, token).get_json()["data"]["updateProduct"]["errors"] == []
    drain(app)
    assert indexed(database, "cheap") == ["p00", "p02"]  # p01 is a draft now: status is active no more

    with database.session() as session:
        assert session.get(ProductLabel, (p01, "cheap")) is None


def test_the_index_job_writes_only_differences_and_records_the_revision(app, database):
    seed(database, 4)
    publish(app, CHEAP_ACTIVE)
    with app.app_context():
        again = index.relabel_catalog()
    assert (again.products, again.added, again.removed, again.revised) == (4, 0, 0, 0)

    env = build_environment(app.extensions["vectis.registry"])
    database.run(lambda s: store.publish(s, CHEAP_ACTIVE.replace("lt: 20", "lt: 12"), env, author="m"))
    with database.session() as session:
        status = [(s.label, s.live_revision, s.indexed_revision, s.stale) for s in index.status(app, session)]
    # in-process the trigger's job ran at the commit; on RQ it waits for a worker, and says so
    ran = get_dispatcher(app).in_process
    assert status == ([("cheap", 2, 2, False)] if ran else [("cheap", 2, 1, True)])
    with app.app_context():
        index.relabel_catalog()
    with database.session() as session:
        state = session.get(LabelIndexState, "cheap")
        rows = session.execute(select(ProductLabel.label_revision)).scalars().all()
    assert (state.label_revision, state.product_count, rows) == (2, 2, [2, 2])


def test_label_index_status_over_graphql_says_what_is_stale(app, client, database):
    seed(database, 2)
    publish(app, CHEAP)
    token = signed_in(app, client, "merchandiser")
    with database.transaction() as session:  # a stale index, as after a publish the job has not seen
        session.execute(update(LabelIndexState).values(label_revision=0))

    answer = gql(client, "{ labelIndex { label liveRevision indexedRevision stale productCount } }",
                 token=token).get_json()

    assert answer["data"]["labelIndex"] == [
        {"label": "cheap", "liveRevision": 1, "indexedRevision": 0, "stale": True, "productCount": 2}]
    assert gql(client, "{ labelIndex { label } }").get_json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_pack_field_gets_its_values_from_the_pack_on_pages_and_in_the_index(app, client, database):
    """A pack registers ``reviews.rating`` with a ``load``; a label reads it like any fact."""
    seed(database, 6)
    ratings = {"p01": 4.8, "p02": 3.1, "p03": 4.5}
    loaded = []

    def load(session, ids):
        loaded.append(sorted(ids))
        slugs = dict(session.execute(select(Product.id, Product.slug).where(Product.id.in_(ids))).all())
        return {pid: ratings[slug] for pid, slug in slugs.items() if slug in ratings}

    registry = app.extensions["vectis.registry"]
    registry.register("reviews", "fact_field", "rating",
                      {"fact": "product", "schema": {"type": "number"}, "load": load}, label="Average rating")
    registry.register("reviews", "fact_field", "broken",
                      {"fact": "product", "schema": {"type": "number"}, "load": lambda session, ids: 1 / 0},
                      label="Always fails")
    publish(app, """kind: label
name: top_rated
label: {text: Top rated}
when: {reviews.rating: {gte: 4.5}}
""")
    assert {slug for slug, names in listing(client).items() if "top_rated" in names} == {"p01", "p03"}
    assert indexed(database, "top_rated") == ["p01", "p03"]
    assert loaded and all(len(ids) <= 6 for ids in loaded)  # one call per page or per index chunk
    # a failing pack only fails its own labels
    loaded.clear()
    publish(app, CHEAP)
    assert listing(client)["p00"] == ["cheap"] and loaded
    publish(app, """kind: label
name: top_rated
label: {text: Top rated}
when: {reviews.broken: {gte: 1}}
""")
    page = listing(client)
    assert page["p00"] == ["cheap"] and all("top_rated" not in names for names in page.values())
