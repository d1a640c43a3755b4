"""The rate limiter's cost per request: one GraphQL request through the whole app with no limiter,
with an in-process bucket, and with the Redis bucket (one Lua script call), plus a bucket take alone.

    .venv/bin/python -m tests.bench.bench_rate_limits [--requests 2000] [--redis redis://127.0.0.1:6379/8]

The app runs on a scratch SQLite file; the request is ``{ __typename }`` (no database work), so
the differences are the limiter's. Every request is counted against a ``/graphql`` policy keyed by
IP with a burst large enough never to refuse. Times are CPU microseconds per request of this
process (the machine is shared), the best of three rounds; Redis's own CPU is not in them, so its
row also shows wall time.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import redis

from runtime.app import create_app
from runtime.clock import clock
from runtime.config import load_settings
from runtime.migrate import upgrade
from runtime.security.buckets import MemoryBuckets, RedisBuckets
from runtime.security.policies import RatePolicy

OPTIONS = ["--requests", "--redis"]
POLICY = [{"name": "graphql", "burst": 10_000_000, "per_second": 1_000_000, "endpoints": ["/graphql"]}]


def _client(folder: Path, **settings):
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    app = create_app(load_settings(environ={}, database_url=url, var_dir=folder, run_sweeps_in_process=False, **settings))
    return app.test_client()


def _per_request(client, requests: int) -> tuple[float, float]:
    body = {"query": "{ __typename }"}
    for _ in range(50):
        client.post("/graphql", json=body)
    best_cpu = best_wall = float("inf")
    for _ in range(3):
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(requests):
            client.post("/graphql", json=body)
        best_cpu = min(best_cpu, (time.process_time() - cpu) / requests * 1e6)
        best_wall = min(best_wall, (time.perf_counter() - wall) / requests * 1e6)
    return best_cpu, best_wall


def _take(buckets, requests: int) -> tuple[float, float]:
    policy = RatePolicy("bench", 10_000_000, 1_000_000.0, endpoints=("/graphql",))
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(requests):
        buckets.take(policy, "ip:127.0.0.1", clock.now().timestamp())
    return (time.process_time() - cpu) / requests * 1e6, (time.perf_counter() - wall) / requests * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--redis", default="", help="a Redis URL (its database is flushed) for the Redis rows")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows.append(("no limiter", *_per_request(_client(Path(folder), rate_limits_enabled=False), args.requests)))
        rows.append(("in-process bucket", *_per_request(_client(Path(folder), rate_limits=json.dumps(POLICY)), args.requests)))
        if args.redis:
            redis.Redis.from_url(args.redis).flushdb()
            rows.append(("Redis bucket", *_per_request(
                _client(Path(folder), rate_limits=json.dumps(POLICY), redis_url=args.redis), args.requests)))
    rows.append(("take() alone, in-process", *_take(MemoryBuckets(), args.requests * 5)))
    if args.redis:
        rows.append(("take() alone, Redis", *_take(RedisBuckets(redis.Redis.from_url(args.redis)), args.requests)))
        redis.Redis.from_url(args.redis).flushdb()
    print(f"{'':28} {'CPU µs/request':>15} {'wall µs/request':>16}")
    for name, cpu, wall in rows:
        print(f"{name:28} {cpu:15.0f} {wall:16.0f}")


if __name__ == "__main__":
    main()
