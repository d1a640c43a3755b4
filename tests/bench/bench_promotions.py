"""Promotions at scale: 300 live promotions against a 50-line cart, and a products page with 300
catalog-phase promotions against none.

    .venv/bin/python -m tests.bench.bench_promotions [--quick] [--count N] [--lines L] [--page P] [--dense]

SQLite in temporary files, jobs in-process, the demo store's catalog (``runtime.demo.load_store``:
600 variants in 12 categories and 15 brands) without its definitions, so the promotions live are
exactly the generated ones (:func:`cart_promotions`, :func:`catalog_promotions`: targets by
category, brand and SKU lists and by predicates over the line, conditions over the cart, stack
groups, coupons, every action; ``--dense``: sitewide targets, so most apply to every cart).
Times are the fewest CPU milliseconds of the benchmark's process (the app runs in it, on SQLite)
over N runs: on a shared machine wall time mostly measures the neighbours. Reported:

* the cart: the engine alone (``rules.promotion_engine.evaluate`` on the cart fact), the runtime's
  ``price_cart`` (facts from the database + the engine), and over GraphQL ``cart { discountTotal }``
  and ``cart { promotionExplain }`` (staff) — ms per cart, statements and batch evaluations per
  request, with no promotion live as the baseline. Target: <= 10 ms per cart in the engine.
* ``products(first: P) { nodes { variants { price { unitPrice discountedUnitPrice } } } }`` with
  no promotion and with N catalog-phase ones (the ratio within one run; target <= 2x), and the
  statements at pages of P/4, P/2 and P (constant in page size).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from rules.batch import BatchEvaluator
from sqlalchemy import event, select


LEAVES = ["power-tools", "hand-tools", "garden-machines", "watering", "gloves", "eyewear", "screws", "anchors"]
BRANDS = ["bosch-blue", "makita", "festool", "metabo", "hilti", "milwaukee", "dewalt", "wera", "knipex", "gardena",
          "kaercher", "stihl", "3m", "uvex", "fischer"]
STAFF = ("bench-merch@example.test", "bench-merch-password")
CART_QUERY = "query($id: ID!) { cart(id: $id) { discountTotal { amount } } }"
EXPLAIN_QUERY = ("query($id: ID!) { cart(id: $id) { promotionExplain { promotion applied amount { amount } reason "
                 "failedConditions { condition actual } } } }")
APPLY = ("mutation($id: ID!, $code: String!) { applyCartCoupon(cartId: $id, code: $code) { cart { id } "
         "errors { code message } } }")
PAGE_QUERY = ("query($first: Int) { products(first: $first) { nodes { variants { price { unitPrice { amount } "
              "discountedUnitPrice { amount } promotionLabel } } } } }")


#: Batch evaluations run while :func:`main` runs (every promotion set evaluates through
#: ``BatchEvaluator``; counted there, whatever sets the runtime keeps).
EVALUATIONS = [0]
_EVALUATE = BatchEvaluator.evaluate


def _counted(self, facts):
    EVALUATIONS[0] += 1
    return _EVALUATE(self, facts)


def best(function, repeats: int):
    """The fewest CPU seconds of this process over ``repeats`` calls, and the last result: CPU time,
    not wall time, because the machine these run on is shared (SQLite runs in this process, so its
    work is counted too)."""
    times, result = [], None
    for _ in range(repeats):
        started = time.process_time()
        result = function()
        times.append(time.process_time() - started)
    return min(times), result


def _target(i: int, dense: bool = False) -> str:
    """A target: one category, one brand, two SKUs, or a predicate — over one category unless
    ``dense`` (then it selects every line above a price: a sitewide promotion)."""
    leaf = LEAVES[i % len(LEAVES)]
    price = f"{{unit_price: {{gte: {5 + i % 90}}}}}"
    return [f"target: {{categories: [{leaf}]}}",
            f"target: {{brands: [{BRANDS[i % len(BRANDS)]}]}}",
            f"target: {{skus: [DEMO-{1 + i % 296:04d}-S, DEMO-{2 + i % 296:04d}-S]}}",
            f"target: {{when: {price}}}" if dense else f"target: {{categories: [{leaf}], when: {price}}}",
            f"target: {{when: {{$and: [{{quantity: {{gte: 2}}}}, {{category: {leaf}}}]}}}}"][i % 5]


def cart_promotions(count: int, dense: bool = False) -> list[str]:
    """``count`` promotions over the line, order and shipping phases."""
    sources = []
    for i in range(count):
        kind = i % 10
        head = f"kind: promotion\nname: bench_{i:04d}\npriority: {i % 10}\n"
        if i % 5 == 0:
            head += f"stack_group: g{i % 7}\n"
        if i % 17 == 0:
            head += f"coupon: {{codes: [BENCH{i}]}}\n"
        conditions = ["", f"conditions: {{subtotal: {{gte: {50 + i % 400}}}}}\n",
                      f"conditions: {{$and: [{{item_count: {{gte: {2 + i % 30}}}}}, {{currency: EUR}}]}}\n"][i % 3]
        if kind < 6:
            action = ["{type: percentage_off, percent: %d}" % (1 + i % 20),
                      "{type: amount_off, amount: {EUR: \"0.50\"}, per: unit}",
                      "{type: buy_x_get_y, buy: {quantity: 2}, get: {quantity: 1, when: {unit_price: {lt: 30}}}, "
                      "max_applications: 2}",
                      "{type: tiered, by: quantity, tiers: [{min: 3, percent: 5}, {min: 10, percent: 10}]}",
                      "{type: fixed_price, price: {EUR: \"9.99\"}}",
                      "{type: amount_off, amount: {EUR: \"2.00\"}, per: line}"][kind]
            sources.append(f"{head}phase: line\n{_target(i, dense)}\n{conditions}action: {action}\n")
        elif kind < 9:
            action = ["{type: percentage_off, percent: %d}" % (1 + i % 10), "{type: amount_off, amount: {EUR: \"5\"}}",
                      "{type: tiered, by: spend, tiers: [{min: 100, amount: {EUR: 10}}, {min: 500, percent: 5}]}"][kind - 6]
            target = _target(i, dense) + "\n" if i % 2 else ""
            if not dense and i % 3:  # most order discounts are a coupon's; the rest compete in one group
                head += f"coupon: {{codes: [ORDER{i}]}}\n" if "coupon:" not in head else ""
            elif not dense:
                head += "stack_group: order_best\n" if "stack_group:" not in head else ""
            sources.append(f"{head}phase: order\n{target}{conditions}action: {action}\n")
        else:
            action = "{type: free_shipping}" if i % 20 == 9 else "{type: shipping_discount, percent: 50}"
            sources.append(f"{head}phase: shipping\n{conditions}action: {action}\n")
    return sources


def catalog_promotions(count: int, dense: bool = False) -> list[str]:
    """``count`` catalog-phase promotions (what product listings price)."""
    return [f"kind: promotion\nname: catalog_{i:04d}\nphase: catalog\npriority: {i % 10}\n"
            + (f"stack_group: c{i % 5}\n" if i % 4 == 0 else "")
            + ("scope: {channels: [web]}\n" if i % 3 == 0 else "")
            + f"{_target(i if i % 5 != 4 else i + 1, dense)}\naction: {{type: percentage_off, percent: {1 + i % 30}}}\n"
            for i in range(count)]


def build(folder: Path):
    """An app on SQLite in ``folder`` with the demo store's data and a staff user."""
    from runtime.auth.service import create_user
    from runtime.demo import DEMO_STORE, load_store
    from runtime.setup import upgrade
    from tests.bench.bench_label_page import build_app

    app = build_app(folder)
    # Publishing here refreshes by hand: no poll for new revisions falls inside a measured request.
    app.config["VECTIS"] = replace(app.config["VECTIS"], definitions_poll_seconds=3600)
    list(upgrade(app))
    database = app.extensions["vectis.db"]
    with app.app_context():  # set_provider reads the pack registry of the current app
        database.run(lambda session: load_store(session, DEMO_STORE, "EUR"))
    database.run(lambda session: create_user(session, STAFF[0], STAFF[1], ["merchandiser"]))
    return app


def publish(app, sources: list[str]) -> float:
    from runtime.definitions import store
    from runtime.definitions.environment import build_environment
    from runtime.definitions.live import live_definitions

    env = build_environment(app.extensions["vectis.registry"])
    started = time.perf_counter()
    app.extensions["vectis.db"].run(lambda session: [store.publish(session, s, env, author="bench") for s in sources])
    live_definitions(app).refresh(force=True)
    return time.perf_counter() - started


class Client:
    """GraphQL over the Flask test client, counting statements and batch evaluations."""

    def __init__(self, app):
        self.app, self.http, self.token = app, app.test_client(), None
        self.statements = 0
        event.listen(app.extensions["vectis.db"].engine, "before_cursor_execute", self._count)

    def _count(self, *_args) -> None:
        self.statements += 1

    def call(self, query: str, variables: dict, *, staff: bool = False) -> dict:
        headers = {"X-Channel-Slug": "web", **({"Authorization": f"Bearer {self.token}"} if staff else {})}
        answer = self.http.post("/graphql", json={"query": query, "variables": variables}, headers=headers).get_json()
        assert not answer.get("errors"), answer["errors"]
        return answer["data"]

    def measure(self, query: str, variables: dict, repeats: int, *, staff: bool = False) -> tuple[float, int, int]:
        """Fewest CPU seconds per request, and the fewest statements and batch evaluations of a request
        (a request may also poll for new revisions or re-check stale references: periodic, not
        per request)."""
        self.call(query, variables, staff=staff)  # warm: operation cache, promotion set, evaluators
        times, counts = [], []
        for _ in range(repeats):
            statements, evaluations = self.statements, EVALUATIONS[0]
            started = time.process_time()
            self.call(query, variables, staff=staff)
            times.append(time.process_time() - started)
            counts.append((self.statements - statements, EVALUATIONS[0] - evaluations))
        return min(times), min(c[0] for c in counts), min(c[1] for c in counts)

    def sign_in(self) -> None:
        login = ("mutation($e: String!, $p: String!) { login(email: $e, password: $p) { tokens { accessToken } "
                 "errors { message } } }")
        self.token = self.call(login, {"e": STAFF[0], "p": STAFF[1]})["login"]["tokens"]["accessToken"]


def new_cart(client: Client, lines: int) -> str:
    """A guest cart of ``lines`` web-visible demo SKUs, quantities 1 to 3."""
    skus = [f"DEMO-{n:04d}-S" for n in range(1, 300) if n % 25 != 0][:lines]
    create = "mutation($input: CreateCartInput!) { createCart(input: $input) { cart { id } errors { message } } }"
    answer = client.call(create, {"input": {"email": "bench@demo.test", "lines": [
        {"sku": sku, "quantity": 1 + n % 3} for n, sku in enumerate(skus)]}})["createCart"]
    assert not answer["errors"], answer["errors"]
    return answer["cart"]["id"]


def bench_cart(folder: Path, count: int, lines: int, repeats: int, dense: bool) -> list[str]:
    from rules.promotion_engine import evaluate

    from runtime.carts.models import Cart, CartLine
    from runtime.promotions import service
    from runtime.promotions.arithmetic import MONEY
    from runtime.promotions.live import live_promotions

    app = build(folder)
    client = Client(app)
    client.sign_in()
    cart_id = new_cart(client, lines)
    out = [f"{count} live promotions (line, order, shipping) against a {lines}-line cart, best of {repeats}:",
           f"  {'':<44} {'CPU ms':>8} {'statements':>10} {'evaluations':>11}"]
    baseline = client.measure(CART_QUERY, {"id": cart_id}, repeats)
    seconds = publish(app, cart_promotions(count, dense))
    applied = client.call(APPLY, {"id": cart_id, "code": "bench17"})["applyCartCoupon"]
    assert not applied["errors"], applied["errors"]
    rows = []
    database = app.extensions["vectis.db"]
    with app.app_context(), database.session() as session:
        cart = session.execute(select(Cart)).scalar_one()  # the only one
        cart_lines = list(session.execute(select(CartLine).where(CartLine.cart_id == cart.id)
                                          .order_by(CartLine.id)).scalars())
        priced = service.price_cart(session, app, cart, cart_lines)
        live = live_promotions(app)
        fact, at, zone = priced.fact, priced.at, priced.zone
        engine_seconds, result = best(lambda: evaluate(live.promotions, fact, money=MONEY, at=at, zone=zone,
                                                       shipping=cart.shipping_total), repeats * 5)
        runtime_seconds, _ = best(lambda: service.price_cart(session, app, cart, cart_lines), repeats)
    rows.append(("engine: evaluate (cart fact given)", engine_seconds, "", ""))
    rows.append(("runtime: price_cart (facts from the database)", runtime_seconds, "", ""))
    with_promotions = client.measure(CART_QUERY, {"id": cart_id}, repeats)
    explain = client.measure(EXPLAIN_QUERY, {"id": cart_id}, repeats, staff=True)
    rows.append(("GraphQL cart { discountTotal }, no promotion", *baseline))
    rows.append((f"GraphQL cart {{ discountTotal }}, {count} promotions", *with_promotions))
    rows.append((f"GraphQL cart {{ promotionExplain }}, {count}", *explain))
    out += [f"  {name:<44} {s * 1000:>8.2f} {str(st):>10} {str(ev):>11}" for name, s, st, ev in rows]
    applied = len(result.applied)
    out.append(f"  ({applied} of {count} applied, discount {result.total} EUR; publishing {count} took {seconds:.1f} s)")
    out.append(f"  target: <= 10 ms per cart in the engine: {'met' if engine_seconds <= 0.010 else 'MISSED'} "
               f"({engine_seconds * 1000:.2f} ms)")
    database.dispose()
    return out


def _statements(client: Client, sizes: list[int], repeats: int) -> list[tuple[int, int]]:
    return [client.measure(PAGE_QUERY, {"first": size}, repeats)[1:] for size in sizes]


def bench_page(folder: Path, count: int, page: int, repeats: int, dense: bool) -> list[str]:
    app = build(folder)
    client = Client(app)
    out = [f"products(first: {page}) with variant prices and discountedUnitPrice, best of {repeats}:",
           f"  {'':<34} {'CPU ms':>10} {'statements':>10} {'evaluations':>11}"]
    sizes = sorted({max(1, page // 4), max(1, page // 2), page})
    none = client.measure(PAGE_QUERY, {"first": page}, repeats)
    counts_none = _statements(client, sizes, repeats)
    publish(app, catalog_promotions(count, dense))
    some = client.measure(PAGE_QUERY, {"first": page}, repeats)
    shown = client.call(PAGE_QUERY, {"first": page})["products"]["nodes"]
    discounted = sum(1 for n in shown for v in n["variants"]
                     if v["price"]["discountedUnitPrice"]["amount"] != v["price"]["unitPrice"]["amount"])
    variants = sum(len(n["variants"]) for n in shown)
    out.append(f"  {'no promotion':<34} {none[0] * 1000:>10.1f} {none[1]:>10} {none[2]:>11}")
    out.append(f"  {f'{count} catalog-phase promotions':<34} {some[0] * 1000:>10.1f} {some[1]:>10} {some[2]:>11}")
    ratio = some[0] / none[0]
    out.append(f"  ratio {ratio:.2f}x (target <= 2x: {'met' if ratio <= 2 else 'MISSED'}); {discounted} of {variants} "
               f"variant prices discounted")
    counts = _statements(client, sizes, repeats)
    for name, found in (("no promotion", counts_none), (f"{count} catalog-phase", counts)):
        out.append(f"  statements (evaluations) per request by page size, {name}: "
                   + ", ".join(f"{size}: {st} ({ev})" for size, (st, ev) in zip(sizes, found)))
    added = {st - base for (st, _), (base, _) in zip(counts, counts_none)}
    out.append(f"  the catalog promotions add {', '.join(map(str, sorted(added)))} statement(s) and one evaluation "
               f"per request: {'constant in page size' if len(added) == 1 else 'NOT constant in page size'}")
    app.extensions["vectis.db"].dispose()
    return out


#: Options this benchmark takes; the runner (tests/bench/run.py) passes it only these.
OPTIONS = ("--quick", "--count", "--lines", "--page", "--dense")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.bench.bench_promotions", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--count", type=int, default=300, help="promotions published (default 300)")
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--page", type=int, default=100)
    parser.add_argument("--dense", action="store_true",
                        help="sitewide targets and uncapped order discounts: most promotions apply to every cart")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 10
    BatchEvaluator.evaluate = _counted  # only while this benchmark runs (the runner imports them all)
    try:
        with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
            lines = bench_cart(Path(one), args.count, args.lines, repeats, args.dense)
            lines += [""] + bench_page(Path(two), args.count, args.page, repeats, args.dense)
    finally:
        BatchEvaluator.evaluate = _EVALUATE
    print(f"SQLite, jobs in-process, the demo store's catalog (600 variants); "
          f"{'dense' if args.dense else 'targeted'} promotions")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
