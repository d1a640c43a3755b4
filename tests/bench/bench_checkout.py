"""Checkout over HTTP: the six-request guest checkout against the demo store served by gunicorn.

    .venv/bin/python -m tests.bench.bench_checkout [--quick] [--postgres URL] [--redis URL] [--workers N] [--threads T] [--port P]
                                                   [--promotions]

Loads the demo store (``vectis demo --no-serve``) into a scratch PostgreSQL database
(``--postgres``, else ``VECTIS_BENCH_DATABASE_URL``, else 127.0.0.1 if it answers; SQLite in a
temporary file otherwise), serves it with gunicorn (gthread workers, keep-alive), and runs
createCart (one line) → setCartShippingAddress → setCartBillingAddress → setCartShippingMethod →
setCartPayment (mock test card) → placeOrder, at concurrency 1 and 8 (threads, one keep-alive
``http.client`` connection each). Reports checkouts/s, p50/p95 per step and SQL statements per
checkout (``X-Vectis-SQL-Count``, see ``tests/bench/sql_count_wsgi.py``).

The floor: the same order written by one hand-written psycopg transaction (insert the order, its
line and its payment row, mark the cart converted) at concurrency 8; the report gives placeOrder's
p50 over the floor's p50. Targets: >= 25 checkouts/s at c=8, <= 60 statements per checkout,
ratio <= 4.

``--promotions``: every checkout also buys a watering product (the demo's ``watering_sale``,
catalog phase) and three pairs of work gloves (``work_gloves_3_for_2``, line phase) and applies
the coupon ``WELCOME10`` (order phase, enforced once per customer: each checkout has its own
guest e-mail) before placeOrder; the report counts the checkouts whose order has a discount.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

from tests.bench import http_load

STEPS = ("createCart", "setCartShippingAddress", "setCartBillingAddress", "setCartShippingMethod", "setCartPayment", "placeOrder")
PROMOTION_STEPS = STEPS[:-1] + ("applyCartCoupon", "placeOrder")
ERRORS = "errors { code field message }"
CART = "cart { id total { amount currency } }"
QUERIES = {
    "createCart": f"mutation($input: CreateCartInput!) {{ createCart(input: $input) {{ {CART} {ERRORS} }} }}",
    "setCartShippingAddress": f"mutation($id: ID!, $input: CartAddressInput!) {{ setCartShippingAddress(cartId: $id, input: $input) {{ {CART} {ERRORS} }} }}",
    "setCartBillingAddress": f"mutation($id: ID!, $input: CartAddressInput!) {{ setCartBillingAddress(cartId: $id, input: $input) {{ {CART} {ERRORS} }} }}",
    "setCartShippingMethod": f"mutation($id: ID!, $code: String!) {{ setCartShippingMethod(cartId: $id, code: $code) {{ {CART} {ERRORS} }} }}",
    "setCartPayment": f"mutation($id: ID!, $input: CartPaymentInput!) {{ setCartPayment(cartId: $id, input: $input) {{ {CART} {ERRORS} }} }}",
    "placeOrder": f"mutation($id: ID!, $key: String!) {{ placeOrder(cartId: $id, idempotencyKey: $key) {{ order {{ id number total {{ amount currency }} discountTotal {{ amount }} }} {ERRORS} }} }}",
    "applyCartCoupon": f"mutation($id: ID!, $code: String!) {{ applyCartCoupon(cartId: $id, code: $code) {{ {CART} {ERRORS} }} }}",
}
ADDRESS = {"address": {"firstName": "Bea", "lastName": "Bench", "line1": "Ring 1", "postalCode": "1010", "city": "Wien", "country": "AT"}}
#: Products visible in the web channel (every 25th demo product is B2B-only).
SKUS = [f"DEMO-{n:04d}-S" for n in range(1, 21)]
#: ``--promotions``: watering products (demo products 4, 12, … 76: category ``watering``, all in
#: the web channel) and the work gloves of ``work_gloves_3_for_2``.
WATERING = [f"DEMO-{n:04d}-S" for n in range(4, 80, 8)]
GLOVES = "DEMO-0005-S"
COUPON = "WELCOME10"


def checkout(client: http_load.GraphQL, number: int, promotions: bool = False) -> tuple[dict[str, tuple[float, int, int]], bool]:
    """One checkout; (step → (seconds, SQL statements, transactions), whether the order has a discount)."""
    timings = {}
    if promotions:
        lines = [{"sku": WATERING[number % len(WATERING)], "quantity": 1}, {"sku": GLOVES, "quantity": 3}]
        email = f"bench-{uuid.uuid4().hex[:12]}@demo.test"  # WELCOME10 is once per customer
    else:
        lines, email = [{"sku": SKUS[number % len(SKUS)], "quantity": 1 + number % 3}], "bench@demo.test"
    data, seconds, sql = client.call(QUERIES["createCart"], {"input": {"email": email, "lines": lines}}, "createCart")
    timings["createCart"] = (seconds, sql, client.transactions)
    cart = data["cart"]["id"]
    steps = [("setCartShippingAddress", {"input": ADDRESS}), ("setCartBillingAddress", {"input": ADDRESS}),
             ("setCartShippingMethod", {"code": "standard"}), ("setCartPayment", {"input": {"token": "4242424242424242"}})]
    steps += [("applyCartCoupon", {"code": COUPON})] if promotions else []
    placed = None
    for step, variables in steps + [("placeOrder", {"key": f"bench-{uuid.uuid4()}"})]:
        placed, seconds, sql = client.call(QUERIES[step], {"id": cart, **variables}, step)
        timings[step] = (seconds, sql, client.transactions)
    return timings, placed["order"]["discountTotal"]["amount"] != "0.00"


def run_http(host: str, port: int, concurrency: int, per_thread: int, promotions: bool = False) -> dict:
    samples: dict[str, list[float]] = defaultdict(list)
    discounted: list[bool] = []
    step_sql: dict[str, list[int]] = defaultdict(list)
    statements: list[int] = []
    transactions: list[int] = []
    lock = threading.Lock()
    clients = [http_load.GraphQL(host, port, "web") for _ in range(concurrency)]

    def work(thread: int, iteration: int) -> None:
        timings, discount = checkout(clients[thread], thread * 100_000 + iteration, promotions)
        with lock:
            discounted.append(discount)
            for step, (seconds, sql, _) in timings.items():
                samples[step].append(seconds)
                step_sql[step].append(sql)
            statements.append(sum(sql for _, sql, _ in timings.values()))
            transactions.append(sum(begun for _, _, begun in timings.values()))

    seconds = http_load.run_threads(concurrency, per_thread, work)
    for client in clients:
        client.close()
    return {"checkouts": concurrency * per_thread, "seconds": seconds, "samples": samples, "step_sql": step_sql,
            "discounted": sum(discounted),
            "sql": statistics.mean(statements) if statements else 0,
            "transactions": statistics.mean(transactions) if transactions else 0}


def run_floor(database_url: str, concurrency: int, per_thread: int) -> dict:
    """The order placeOrder writes, written by hand: 4 statements in one transaction per order."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        channel = conn.execute("SELECT id FROM channel WHERE slug = 'web'").fetchone()[0]
        variant, sku = conn.execute("SELECT id, sku FROM product_variant WHERE sku = %s", (SKUS[0],)).fetchone()
        carts = [row[0] for row in conn.execute(
            "INSERT INTO cart (token, channel_id, currency, state, state_entered_at, item_count, subtotal, shipping_total,"
            " total, version, created_at, updated_at) SELECT md5(random()::text || g), %s, 'EUR', 'active', now(), 1, 59.99,"
            " 4.90, 64.89, 1, now(), now() FROM generate_series(1, %s) g RETURNING id", (channel, concurrency * per_thread))]
    latencies: list[float] = []
    lock = threading.Lock()
    connections = [psycopg.connect(url) for _ in range(concurrency)]

    def work(thread: int, iteration: int) -> None:
        conn, cart = connections[thread], carts[thread * per_thread + iteration]
        started = time.perf_counter()
        with conn.transaction():
            order = conn.execute(
                "INSERT INTO orders (number, channel_id, cart_id, idempotency_key, email, state, state_entered_at,"
                " payment_status, item_count, currency, subtotal, shipping_total, discount_total, tax_total, total,"
                " base_currency, exchange_rate, base_total, shipping_address, billing_address, shipping_method, pipeline,"
                " created_at, updated_at) VALUES (%s, %s, %s, %s, 'bench@demo.test', 'placed', now(), 'captured', 1, 'EUR',"
                " 59.99, 4.90, 0, 0, 64.89, 'EUR', 1, 64.89, %s, %s, %s, '{}', now(), now()) RETURNING id",
                (f"F-{uuid.uuid4().hex[:20]}", channel, cart, f"floor-{uuid.uuid4()}", _json(ADDRESS["address"]),
                 _json(ADDRESS["address"]), _json({"provider": "flat_rate", "code": "standard", "amount": "4.90"}))).fetchone()[0]
            conn.execute(
                "INSERT INTO order_line (order_id, variant_id, sku, product_name, variant_name, quantity, unit_price,"
                " line_total, base_unit_price, price_level, price_list_slug) VALUES (%s, %s, %s, 'Bench product', 'S', 1,"
                " 59.99, 59.99, 59.99, 'CHANNEL', 'web-eur')", (order, variant, sku))
            conn.execute(
                "INSERT INTO payment_transaction (order_id, type, state, state_entered_at, gateway, gateway_reference,"
                " idempotency_key, amount, currency, captured_amount, refunded_amount, fraud_hold, actor, raw, created_at)"
                " VALUES (%s, 'charge', 'captured', now(), 'mock_gateway.payment_gateway.mock', %s, %s, 64.89, 'EUR',"
                " 64.89, 0, false, 'system', '{}', now())", (order, f"ch_{uuid.uuid4().hex}", f"pay-{uuid.uuid4()}"))
            conn.execute("UPDATE cart SET state = 'converted', state_entered_at = now(), version = version + 1,"
                         " updated_at = now() WHERE id = %s", (cart,))
        with lock:
            latencies.append(time.perf_counter() - started)

    seconds = http_load.run_threads(concurrency, per_thread, work)
    for conn in connections:
        conn.close()
    return {"orders": concurrency * per_thread, "seconds": seconds, "latencies": latencies}


def _json(value: dict):
    from psycopg.types.json import Json

    return Json(value)


def report(backend: str, workers: int, threads: int, runs: dict[int, dict], floor: dict | None,
           promotions: bool = False) -> list[str]:
    ms = lambda values, p: f"{http_load.percentile(values, p) * 1000:8.1f}"  # noqa: E731
    what = ("two lines (watering_sale, work_gloves_3_for_2) and the coupon WELCOME10" if promotions else "one line")
    lines = [f"checkout over HTTP on {backend}: guest, web channel, {what}; gunicorn {workers} workers x {threads} threads",
             "", f"{'concurrency':>11} {'checkouts':>10} {'seconds':>8} {'checkouts/s':>12} {'SQL/checkout':>13} {'transactions':>13}"]
    for concurrency, run in runs.items():
        lines.append(f"{concurrency:>11} {run['checkouts']:>10} {run['seconds']:>8.2f} "
                     f"{run['checkouts'] / run['seconds']:>12.1f} {run['sql']:>13.1f} {run['transactions']:>13.1f}")
    header = "".join(f"{f'c={c} p50':>10}{f'c={c} p95':>10}" for c in runs)
    lines += ["", f"{'step (ms)':<24}{header}{'SQL':>6}"]
    for step in PROMOTION_STEPS if promotions else STEPS:
        lines.append(f"{step:<24}" + "".join(f"{ms(run['samples'][step], 50):>10}{ms(run['samples'][step], 95):>10}"
                                            for run in runs.values())
                     + f"{statistics.mean(runs[1]['step_sql'][step]):>6.1f}")
    top = runs[max(runs)]
    rate, sql = top["checkouts"] / top["seconds"], top["sql"]
    if promotions:
        done = sum(run["discounted"] for run in runs.values())
        lines += ["", f"orders with a discount: {done} of {sum(run['checkouts'] for run in runs.values())}"]
    targets = f"targets: {rate:.1f} checkouts/s at c={max(runs)} (want >= 25); {sql:.1f} statements per checkout (want <= 60)"
    if floor:
        floor_p50 = http_load.percentile(floor["latencies"], 50)
        place_p50 = http_load.percentile(top["samples"]["placeOrder"], 50)
        lines += ["", f"floor: hand-written psycopg transaction (order + line + payment + cart update), c={max(runs)}: "
                      f"{floor['orders'] / floor['seconds']:.0f} orders/s, p50 {floor_p50 * 1000:.1f} ms, "
                      f"p95 {http_load.percentile(floor['latencies'], 95) * 1000:.1f} ms",
                  f"placeOrder p50 {place_p50 * 1000:.1f} ms / floor p50 {floor_p50 * 1000:.1f} ms = {place_p50 / floor_p50:.1f}x"]
        if 1 in runs and max(runs) != 1:
            alone = http_load.percentile(runs[1]["samples"]["placeOrder"], 50)
            lines.append(f"(at c=1: placeOrder p50 {alone * 1000:.1f} ms = {alone / floor_p50:.1f}x the floor's c=8 p50)")
        targets += f"; placeOrder/floor {place_p50 / floor_p50:.1f}x (want <= 4)"
    return lines + ["", targets]


#: Options this benchmark takes; the runner (tests/bench/run.py) passes it only these.
OPTIONS = ("--quick", "--postgres", "--redis", "--workers", "--threads", "--port", "--promotions")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.bench.bench_checkout", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 checkouts at c=1, 8x5 at c=8")
    parser.add_argument("--postgres", help="server to create a scratch database on (default: VECTIS_BENCH_DATABASE_URL or 127.0.0.1)")
    parser.add_argument("--redis", help="Redis for jobs: a server (an empty database is claimed) or server/db (used only if empty); default VECTIS_BENCH_REDIS_URL or 127.0.0.1; none: in-process")
    parser.add_argument("--workers", type=int, default=http_load.cpu_count(), help="gunicorn worker processes (default: CPUs)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--port", type=int, help="HTTP port for gunicorn (default: VECTIS_BENCH_PORT or a free one)")
    parser.add_argument("--promotions", action="store_true",
                        help="two promotions and the coupon WELCOME10 in every checkout (the demo store's)")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("gunicorn") is None:
        print("bench_checkout: gunicorn is not installed: .venv/bin/pip install -e '.[serve]'")
        return 1
    serial, per_thread = (10, 5) if args.quick else (50, 25)
    pg = http_load.postgres_url(args.postgres)
    with tempfile.TemporaryDirectory() as tmp, http_load.scratch_redis(args.redis) as redis_url:
        args.redis_url = redis_url
        if pg is None:
            print("no PostgreSQL answered: SQLite in a temporary file, without the floor")
            return _run("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp), args, serial, per_thread)
        with http_load.scratch_postgres(pg) as url:
            return _run("postgresql", url, Path(tmp), args, serial, per_thread)


def _run(backend: str, url: str, var_dir: Path, args, serial: int, per_thread: int) -> int:
    env = http_load.server_env(url, var_dir, args.redis_url)
    print(f"jobs (outbox publishing): {'enqueued on ' + args.redis_url if args.redis_url else 'in-process after each commit'}")
    print(f"demo store loaded in {http_load.load_demo_store(env):.1f} s; load average before the run "
          f"{http_load.load_average()} on {http_load.cpu_count()} CPUs", flush=True)
    with http_load.gunicorn(env, args.workers, args.threads, args.port) as (host, port):
        run_http(host, port, 2, 2, args.promotions)  # warm-up: every worker imports, connects and compiles
        runs = {1: run_http(host, port, 1, serial, args.promotions), 8: run_http(host, port, 8, per_thread, args.promotions)}
    floor = run_floor(url, 8, per_thread) if backend == "postgresql" else None
    print("\n".join(report(backend, args.workers, args.threads, runs, floor, args.promotions)))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
