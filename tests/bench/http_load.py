"""Shared by the HTTP benchmarks: a scratch PostgreSQL database with the demo store, the app served
by gunicorn (as docs/operations.md recommends), keep-alive GraphQL clients on threads, percentiles.

SQL is counted server-side: gunicorn serves ``tests.bench.sql_count_wsgi:app``, which wraps
``runtime.wsgi:app`` and answers every request with headers counting the statements, transactions
and pool checkouts of the request's thread. Nothing else differs from ``runtime.wsgi:app``.
"""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.bench import scratch

ROOT = Path(__file__).resolve().parents[2]
SQL_COUNT_HEADER = "X-Vectis-SQL-Count"
TRANSACTIONS_HEADER = "X-Vectis-SQL-Transactions"


def postgres_url(given: str | None) -> str | None:
    """The server to make a scratch database on (``--postgres``, ``VECTIS_BENCH_DATABASE_URL`` or the
    local one), or ``None`` when it does not answer."""
    server = scratch.postgres_server(given)
    return server if scratch.postgres_answers(server) else None


scratch_postgres = scratch.scratch_postgres
scratch_redis = scratch.scratch_redis


def server_env(database_url: str, var_dir: Path, redis_url: str = "") -> dict[str, str]:
    return {**os.environ, "VECTIS_DATABASE_URL": database_url, "VECTIS_VAR_DIR": str(var_dir), "VECTIS_REDIS_URL": redis_url,
            "VECTIS_LOG_LEVEL": "WARNING", "VECTIS_SECRET_KEY": "bench-secret-key-0123456789abcdef-0123456789",
            "VECTIS_RUN_SWEEPS_IN_PROCESS": "false"}


def load_demo_store(env: dict[str, str]) -> float:
    """``vectis demo --no-serve`` (migrate + demo store) into the database ``env`` names; seconds taken."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from runtime.cli import main; main()", "demo", "--no-serve"],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


@contextmanager
def gunicorn(env: dict[str, str], workers: int, threads: int, port: int | None = None) -> Iterator[tuple[str, int]]:
    """gunicorn with ``workers`` processes of ``threads`` threads (gthread: keep-alive connections), on
    ``port`` (``--port``), else ``VECTIS_BENCH_PORT``, else a free one."""
    port = scratch.http_port(port)
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
               "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}", "--keep-alive", "30",
               "--log-level", "warning", "tests.bench.sql_count_wsgi:app"]
    server = subprocess.Popen(command, cwd=ROOT, env={**env, "VECTIS_BENCH_COUNT_SQL": "1"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not come up on port {port} (exit {server.poll()})")
            time.sleep(0.2)
        yield "127.0.0.1", port
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


class GraphQL:
    """One keep-alive connection; ``call`` returns (payload data, seconds, SQL statements) and
    keeps the transactions the request began in ``transactions``."""

    def __init__(self, host: str, port: int, channel: str, token: str | None = None):
        self.connection = http.client.HTTPConnection(host, port, timeout=60)
        self.transactions = 0
        self.headers = {"Content-Type": "application/json", "X-Channel-Slug": channel}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def call(self, query: str, variables: dict | None = None, payload: str | None = None) -> tuple[dict, float, int]:
        body = json.dumps({"query": query, "variables": variables or {}})
        started = time.perf_counter()
        self.connection.request("POST", "/graphql", body=body, headers=self.headers)
        response = self.connection.getresponse()
        raw = response.read()
        seconds = time.perf_counter() - started
        answer = json.loads(raw)
        data = (answer.get("data") or {}).get(payload) if payload else answer.get("data")
        if answer.get("errors") or (payload and (data is None or data.get("errors"))):
            raise RuntimeError(f"{payload or 'query'}: {raw[:500]!r}")
        self.transactions = int(response.getheader(TRANSACTIONS_HEADER, "-1"))
        return data, seconds, int(response.getheader(SQL_COUNT_HEADER, "-1"))

    def close(self) -> None:
        self.connection.close()


def login(host: str, port: int, email: str, password: str) -> str:
    client = GraphQL(host, port, "web")
    query = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { tokens { accessToken } errors { message } } }"
    data, _, _ = client.call(query, {"e": email, "p": password}, "login")
    client.close()
    return data["tokens"]["accessToken"]


def run_threads(concurrency: int, per_thread: int, work: Callable[[int, int], None]) -> float:
    """``work(thread, iteration)`` ``per_thread`` times on each of ``concurrency`` threads; wall seconds."""
    errors: list[BaseException] = []

    def loop(thread: int) -> None:
        try:
            for iteration in range(per_thread):
                work(thread, iteration)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def cpu_count() -> int:
    return os.cpu_count() or 1


def load_average() -> str:
    """The 1-minute load average: other processes on the machine skew every number here."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"
