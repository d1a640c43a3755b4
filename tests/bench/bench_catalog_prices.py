"""Catalog with prices over HTTP: ``products(first: N)`` with every variant's price, as a B2B buyer.

    .venv/bin/python -m tests.bench.bench_catalog_prices [--quick] [--postgres URL] [--redis URL] [--workers N] [--threads T] [--port P]

The demo store in a scratch PostgreSQL database (as ``bench_checkout`` picks it; SQLite otherwise),
served by gunicorn; ``buyer@acme.demo.test`` (bearer token) reads the ``b2b`` channel, whose prices
come from five levels (base, channel, wholesale group with tiers, Acme account, Acme HQ contract).
Measured at concurrency 8 for first=5 and first=20: requests/s, p50/p95 and SQL statements per
request (``X-Vectis-SQL-Count``), which must not grow with ``first``. Targets: >= 175 req/s at
first=20, <= 6 statements.
"""
from __future__ import annotations

import argparse
import importlib.util
import tempfile
import threading
from pathlib import Path

from tests.bench import http_load

QUERY = """query($first: Int!) { products(first: $first) { totalCount nodes { id name
  variants { sku price { unitPrice { amount currency } level priceList { slug } } } } } }"""
BUYER = ("buyer@acme.demo.test", "demo-buyer-password")


def run(host: str, port: int, token: str, first: int, concurrency: int, per_thread: int) -> dict:
    latencies: list[float] = []
    statements: set[int] = set()
    transactions: set[int] = set()
    priced: list[int] = []
    lock = threading.Lock()
    clients = [http_load.GraphQL(host, port, "b2b", token) for _ in range(concurrency)]

    def work(thread: int, _iteration: int) -> None:
        data, seconds, sql = clients[thread].call(QUERY, {"first": first})
        nodes = data["products"]["nodes"]
        with lock:
            latencies.append(seconds)
            statements.add(sql)
            transactions.add(clients[thread].transactions)
            priced.append(sum(1 for p in nodes for v in p["variants"] if v["price"] is not None))

    seconds = http_load.run_threads(concurrency, per_thread, work)
    for client in clients:
        client.close()
    return {"requests": concurrency * per_thread, "seconds": seconds, "latencies": latencies,
            "sql": sorted(statements), "transactions": sorted(transactions), "priced": max(priced)}


#: Options this benchmark takes; the runner (tests/bench/run.py) passes it only these.
OPTIONS = ("--quick", "--postgres", "--redis", "--workers", "--threads", "--port")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.bench.bench_catalog_prices", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8x10 requests per size instead of 8x50")
    parser.add_argument("--postgres", help="server to create a scratch database on (default: VECTIS_BENCH_DATABASE_URL or 127.0.0.1)")
    parser.add_argument("--redis", help="Redis for jobs: a server (an empty database is claimed) or server/db (used only if empty); default VECTIS_BENCH_REDIS_URL or 127.0.0.1; none: in-process")
    parser.add_argument("--workers", type=int, default=http_load.cpu_count(), help="gunicorn worker processes (default: CPUs)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--port", type=int, help="HTTP port for gunicorn (default: VECTIS_BENCH_PORT or a free one)")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("gunicorn") is None:
        print("bench_catalog_prices: gunicorn is not installed: .venv/bin/pip install -e '.[serve]'")
        return 1
    per_thread = 10 if args.quick else 50
    pg = http_load.postgres_url(args.postgres)
    with tempfile.TemporaryDirectory() as tmp, http_load.scratch_redis(args.redis) as redis_url:
        args.redis_url = redis_url
        if pg is None:
            print("no PostgreSQL answered: SQLite in a temporary file")
            return _run("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", Path(tmp), args, per_thread)
        with http_load.scratch_postgres(pg) as url:
            return _run("postgresql", url, Path(tmp), args, per_thread)


def _run(backend: str, url: str, var_dir: Path, args, per_thread: int) -> int:
    env = http_load.server_env(url, var_dir, args.redis_url)
    print(f"jobs (outbox publishing): {'enqueued on ' + args.redis_url if args.redis_url else 'in-process after each commit'}")
    print(f"demo store loaded in {http_load.load_demo_store(env):.1f} s; load average before the run "
          f"{http_load.load_average()} on {http_load.cpu_count()} CPUs", flush=True)
    with http_load.gunicorn(env, args.workers, args.threads, args.port) as (host, port):
        token = http_load.login(host, port, *BUYER)
        run(host, port, token, 20, 4, 2)  # warm-up
        runs = {first: run(host, port, token, first, 8, per_thread) for first in (5, 20)}
    print(f"products with variant prices as a B2B buyer (b2b channel) on {backend}; gunicorn {args.workers} workers x "
          f"{args.threads} threads; concurrency 8\n")
    print(f"{'first':>5} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'SQL/request':>12} {'transactions':>13} {'priced variants':>16}")
    for first, result in runs.items():
        print(f"{first:>5} {result['requests']:>9} {result['requests'] / result['seconds']:>8.1f} "
              f"{http_load.percentile(result['latencies'], 50) * 1000:>8.1f} {http_load.percentile(result['latencies'], 95) * 1000:>8.1f} "
              f"{'/'.join(map(str, result['sql'])):>12} {'/'.join(map(str, result['transactions'])):>13} {result['priced']:>16}")
    top = runs[20]
    print(f"\ntargets: {top['requests'] / top['seconds']:.1f} req/s at first=20 (want >= 175); "
          f"{max(top['sql'])} statements per request (want <= 6, the same for first=5: {max(runs[5]['sql'])})")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
