"""Labels in the runtime: a page of products with their labels per request, and the catalog relabel.

    .venv/bin/python -m tests.bench.bench_label_page [--quick] [--products N] [--labels L] [--page P]

SQLite in a temporary file, jobs in-process. The catalog and the label predicates come from
:mod:`tests.bench.catalog` (the rules-engine benchmark's generator): products become rows
(category, brand, tags, attributes, one tracked variant with its stock), labels are published
definitions. Reported, best of N:

* ``products(first: P) { nodes { id labels { name } } }`` over GraphQL: time per request, with
  and without the ``labels`` field, SQL statements and batch evaluations per request;
* the full catalog relabel (:func:`runtime.labels.index.run`): reading and building facts,
  evaluating (the batch evaluator's columnar pass) and writing the index; and the evaluation alone
  over the generator's own facts, as ``bench_labels`` measures it.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import event, insert, select

from rules.batch import BatchEvaluator
from tests.bench.catalog import labels as label_specs
from tests.bench.catalog import products as catalog_products

QUERY = "query P($first: Int) { products(first: $first) { nodes { id %s } } }"


def label_source(spec) -> str:
    import json

    when = json.dumps(spec.when)  # JSON is YAML: one flow mapping
    return f"kind: label\nname: {spec.name.replace('-', '_')}\nlabel: {{text: {spec.name}}}\nwhen: {when}\n"


def build_app(folder: Path):
    from runtime.app import create_app
    from runtime.config import load_settings
    from runtime.migrate import upgrade

    url = f"sqlite:///{folder}/bench.db"
    upgrade(url)
    settings = load_settings(environ={}, database_url=url, redis_url="", var_dir=folder,
                             secret_key="bench-secret-key-0123456789abcdef-0123456789",
                             run_sweeps_in_process=False)
    return create_app(settings)


def load_catalog(app, count: int) -> None:
    """The generator's products as rows, in bulk (no per-product service calls, no triggers)."""
    from runtime.catalog.models import Brand, Category, Product, ProductVariant
    from runtime.clock import utcnow
    from runtime.inventory.models import StockLevel, Warehouse

    facts = catalog_products(count)

    def work(session):
        categories = sorted({f["category"] for f in facts})
        brands = sorted({f["brand"] for f in facts if "brand" in f})
        session.execute(insert(Category), [{"slug": c, "name": c, "path": ""} for c in categories])
        session.execute(insert(Brand), [{"slug": b.lower(), "name": b} for b in brands])
        category_ids = dict(session.execute(select(Category.slug, Category.id)).all())
        for slug, id_ in category_ids.items():
            session.execute(Category.__table__.update().where(Category.id == id_).values(path=f"/{id_}/"))
        brand_ids = dict(session.execute(select(Brand.name, Brand.id)).all())
        session.add(Warehouse(code="main", name="Main"))
        session.flush()
        warehouse = session.execute(select(Warehouse.id)).scalar_one()
        now = utcnow()
        session.execute(insert(Product), [{
            "id": i + 1, "slug": f"p{i:06d}", "name": f["name"], "description": "",
            "brand_id": brand_ids.get(f.get("brand")), "category_id": category_ids[f["category"]],
            "tags": f["tags"], "attributes": f["attributes"], "is_published": f["status"] == "active",
            "track_inventory": True, "search_document": "", "updated_at": now,
            "created_at": datetime.fromisoformat(f["created_at"].replace("Z", "+00:00"))}
            for i, f in enumerate(facts)])
        session.execute(insert(ProductVariant), [{
            "id": i + 1, "product_id": i + 1, "sku": f["sku"], "name": "", "attributes": {},
            "base_price": Decimal(str(f["price"])), "base_currency": "EUR", "position": 0,
            "is_active": True} for i, f in enumerate(facts)])
        session.execute(insert(StockLevel), [{"variant_id": i + 1, "warehouse_id": warehouse, "on_hand": f["stock"],
                                              "updated_at": now} for i, f in enumerate(facts)])

    app.extensions["vectis.db"].run(work)


def publish_labels(app, count: int) -> None:
    """``count`` label definitions in one transaction (one relabel trigger, not ``count``)."""
    from runtime.definitions import store
    from runtime.definitions.environment import build_environment

    env = build_environment(app.extensions["vectis.registry"])
    sources = [label_source(spec) for spec in label_specs(count)]
    app.extensions["vectis.db"].run(
        lambda session: [store.publish(session, s, env, author="bench") for s in sources])


def best(function, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result


def bench_page(app, page: int, repeats: int) -> dict:
    from runtime.definitions.live import live_definitions

    client = app.test_client()
    live_definitions(app).refresh(force=True)
    statements, evaluations = [], []
    original = BatchEvaluator.evaluate

    def counted(self, facts):
        evaluations.append(len(facts))
        return original(self, facts)

    def request(fields: str):
        answer = client.post("/graphql", json={"query": QUERY % fields, "variables": {"first": page}}).get_json()
        assert "errors" not in answer, answer
        return answer

    listen = lambda *args: statements.append(1)  # noqa: E731
    result = {}
    for name, fields in (("without labels", ""), ("with labels", "labels { name }")):
        request(fields)  # warm: operation cache, label set, evaluator
        statements.clear()
        evaluations.clear()
        event.listen(app.extensions["vectis.db"].engine, "before_cursor_execute", listen)
        BatchEvaluator.evaluate = counted
        try:
            seconds, answer = best(lambda: request(fields), repeats)
        finally:
            BatchEvaluator.evaluate = original
            event.remove(app.extensions["vectis.db"].engine, "before_cursor_execute", listen)
        shown = sum(len(n.get("labels", ())) for n in answer["data"]["products"]["nodes"])
        result[name] = (seconds, len(statements) // repeats, len(evaluations) // repeats, shown)
    return result


def bench_page_labels_alone(app, page: int, repeats: int) -> float:
    """What ``labels`` adds inside a request, without GraphQL: the page's facts (stock, sales,
    categories) and the one batch evaluation."""
    from runtime.clock import utcnow
    from runtime.labels import labelset
    from runtime.labels.facts import load_catalog as load_rows
    from runtime.labels.facts import product_facts

    database = app.extensions["vectis.db"]
    with app.app_context():
        set_ = labelset.current(app)
    with database.session() as session:
        rows = load_rows(session, range(1, page + 1))

    def once():
        with database.session() as session:
            return set_.evaluate(product_facts(session, rows, utcnow(), needs=set_.needs))

    return best(once, repeats)[0]


def bench_relabel(app, count: int, labels: int, repeats: int) -> dict:
    from rules.batch_table import FactTable
    from runtime.clock import utcnow
    from runtime.labels import index, labelset
    from runtime.labels.facts import load_catalog as load_rows
    from runtime.labels.facts import product_facts

    database = app.extensions["vectis.db"]
    with app.app_context():
        set_ = labelset.current(app, force=True)
    from sqlalchemy import delete

    from runtime.labels.models import ProductLabel

    database.run(lambda session: session.execute(delete(ProductLabel)))  # the relabel writes it all anew
    first, outcome = best(lambda: index.run(app, None), 1)
    again, unchanged = best(lambda: index.run(app, None), repeats)  # nothing changed: no writes

    def facts_only():
        with database.session() as session:
            return product_facts(session, load_rows(session), utcnow(), needs=set_.needs, whole_catalog=True)

    facts_seconds, facts = best(facts_only, repeats)
    evaluate_seconds, _ = best(lambda: set_.evaluator.evaluate(FactTable(facts, set_.evaluator.paths)), repeats)
    specs = label_specs(labels)
    evaluator = BatchEvaluator([s.label.predicate for s in set_.labels])
    generated = catalog_products(count)
    table = FactTable(generated, evaluator.paths)
    pass_seconds, _ = best(lambda: evaluator.evaluate(table), repeats)
    return {"relabel from an empty index (writes every row)": (first, outcome),
            "relabel, nothing changed": (again, unchanged),
            "facts from the database": (facts_seconds, None),
            "evaluation: table + columnar pass over those facts": (evaluate_seconds, None),
            "columnar pass alone, generator's facts (as bench_labels)": (pass_seconds, len(specs))}


#: Options this benchmark takes; the runner (tests/bench/run.py) passes it only these.
OPTIONS = ("--quick", "--products", "--labels", "--page")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_label_page", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 products, fewer repeats")
    parser.add_argument("--products", type=int)
    parser.add_argument("--labels", type=int, default=300)
    parser.add_argument("--page", type=int, default=100)
    args = parser.parse_args(argv)
    count = args.products or (2_000 if args.quick else 20_000)
    repeats = 3 if args.quick else 10
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        load_catalog(app, count)
        started = time.perf_counter()
        publish_labels(app, args.labels)
        publish_seconds = time.perf_counter() - started
        page = bench_page(app, args.page, repeats)
        alone = bench_page_labels_alone(app, args.page, repeats)
        relabel = bench_relabel(app, count, args.labels, max(1, repeats // 3))
        app.extensions["vectis.db"].dispose()
    print(f"{count:,} products, {args.labels} labels, SQLite; publishing the labels (one transaction, "
          f"then the in-process relabel): {publish_seconds:.2f} s")
    print(f"\nproducts(first: {args.page}) over GraphQL, best of {repeats}:")
    print(f"  {'':<16} {'ms/request':>10} {'statements':>10} {'evaluations':>11} {'labels shown':>12}")
    for name, (seconds, statements, evaluations, shown) in page.items():
        print(f"  {name:<16} {seconds * 1000:>10.1f} {statements:>10} {evaluations:>11} {shown:>12}")
    print(f"  facts and the one evaluation alone (no GraphQL): {alone * 1000:.1f} ms; the rest of the "
          f"difference is GraphQL completing the label objects")
    print(f"\ncatalog relabel ({count:,} × {args.labels}):")
    for name, (seconds, detail) in relabel.items():
        extra = f"  ({detail})" if detail is not None and not isinstance(detail, int) else ""
        print(f"  {name:<58} {seconds:>8.3f} s{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
