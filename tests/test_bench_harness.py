"""Issue 12, item 15: the benchmark runner routes each option only to the benchmarks that take it,
and borrows a PostgreSQL database and a Redis database safely. None of the heavy benchmarks runs."""
import contextlib
import importlib
import io
import os
import re

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.bench import run, scratch

BENCHES = run.discover()


def _flags_of(name: str) -> set[str]:
    """The options a benchmark's own parser accepts, read from its --help."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        importlib.import_module(f"tests.bench.{name}").main(["--help"])
    assert done.value.code == 0
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", out.getvalue())) - {"--help"}


@pytest.mark.parametrize("name", BENCHES)
def test_the_runner_knows_exactly_the_options_each_benchmark_takes(name):
    # declared (OPTIONS) or, when a benchmark declares none, read from its --help
    module = importlib.import_module(f"tests.bench.{name}")

    assert set(run.accepted_options(module)) == _flags_of(name)


def test_options_reach_only_the_benchmarks_that_take_them():
    accepted = {name: run.accepted_options(importlib.import_module(f"tests.bench.{name}")) for name in BENCHES}

    routed = run.route(["--quick", "--postgres", "postgresql://u@h/x", "--port=8123", "--runs", "3"], accepted)

    assert routed["bench_mmoq"] == ["--quick"]
    assert routed["bench_cli"] == ["--quick", "--runs", "3"]
    assert routed["bench_state_machine"] == ["--quick", "--postgres", "postgresql://u@h/x"]
    assert routed["bench_checkout"] == ["--quick", "--postgres", "postgresql://u@h/x", "--port=8123"]
    assert routed["bench_labels"] == ["--quick"]


def test_an_option_no_benchmark_takes_is_refused_before_anything_runs(capsys):
    with pytest.raises(SystemExit) as refused:
        run.main(["--only", "bench_mmoq", "--postgress", "x"])

    assert refused.value.code == 2
    assert "no benchmark takes --postgress" in capsys.readouterr().err


def test_a_value_without_an_option_is_refused():
    with pytest.raises(ValueError, match="'stray' is not an option"):
        run.split_options(["stray", "--quick"])


class FakeRedis:
    """Databases of one server: number -> {key: value}; records flushes."""

    def __init__(self, databases: dict[int, dict]):
        self.databases = databases
        self.flushed: list[int] = []

    def connect(self, url: str):
        server = self

        class Client:
            number = int(url.rsplit("/", 1)[1])

            def dbsize(self):
                return len(server.databases.setdefault(self.number, {}))

            def set(self, key, value, nx=False):
                data = server.databases.setdefault(self.number, {})
                if nx and key in data:
                    return False
                data[key] = value.encode()
                return True

            def get(self, key):
                return server.databases.get(self.number, {}).get(key)

            def delete(self, key):
                server.databases[self.number].pop(key, None)

            def flushdb(self):
                server.flushed.append(self.number)
                server.databases[self.number] = {}

            def close(self):
                pass

        return Client()


def test_redis_the_run_claims_the_highest_empty_database_and_empties_only_it():
    redis = FakeRedis({15: {"someone": b"1"}, 14: {}, 13: {}})

    with scratch.scratch_redis("redis://127.0.0.1:6379", connect=redis.connect) as url:
        claimed = dict(redis.databases[14])
        redis.databases[14]["rq:queue:events"] = b"job"

    assert url == "redis://127.0.0.1:6379/14"
    assert list(claimed) == [scratch.CLAIM_KEY]
    assert redis.flushed == [14]
    assert redis.databases[15] == {"someone": b"1"}


def test_a_pinned_redis_database_that_is_not_empty_is_refused_and_left_alone():
    redis = FakeRedis({13: {"rq:queue:default": b"theirs"}})

    with pytest.raises(scratch.ScratchError, match="Redis database 13 on redis://127.0.0.1:6379 is not empty"):
        with scratch.scratch_redis("redis://127.0.0.1:6379/13", connect=redis.connect):
            pass

    assert redis.flushed == []
    assert redis.databases[13] == {"rq:queue:default": b"theirs"}


def test_a_claim_taken_over_by_someone_else_is_not_emptied():
    redis = FakeRedis({15: {}})

    with scratch.scratch_redis("redis://127.0.0.1:6379/15", connect=redis.connect):
        redis.databases[15][scratch.CLAIM_KEY] = b"another-run"

    assert redis.flushed == []


def test_no_redis_means_jobs_in_process(monkeypatch):
    monkeypatch.delenv("VECTIS_BENCH_REDIS_URL", raising=False)

    with scratch.scratch_redis("none") as url:
        assert url == ""


def test_ports_are_pinned_by_option_or_environment(monkeypatch):
    monkeypatch.delenv("VECTIS_BENCH_PORT", raising=False)
    free = scratch.http_port(None)
    monkeypatch.setenv("VECTIS_BENCH_PORT", "8765")

    assert scratch.http_port(8123) == 8123
    assert scratch.http_port(None) == 8765
    assert 0 < free < 65536


@pytest.mark.skipif(not os.environ.get("VECTIS_TEST_DATABASE_URL"), reason="VECTIS_TEST_DATABASE_URL not set")
def test_postgres_scratch_database_is_created_and_dropped_never_the_named_one():
    server = os.environ["VECTIS_TEST_DATABASE_URL"]
    admin = create_engine(scratch.maintenance_url(server))

    with scratch.scratch_postgres(server) as url:
        name = make_url(url).database
        with admin.connect() as conn:
            during = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).all()
        with create_engine(url).connect() as conn:
            conn.execute(text("CREATE TABLE bench_probe (id int)"))
    with admin.connect() as conn:
        after = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).all()
    admin.dispose()

    assert name.startswith(scratch.SCRATCH_PREFIX) and name != make_url(server).database
    assert (len(during), len(after)) == (1, 0)
    assert make_url(scratch.maintenance_url(server)).database == "postgres"
