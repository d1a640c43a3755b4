#!/usr/bin/env bash
# Run the benchmarks in tests/bench/ (every bench_*.py). Each option goes only to the benchmarks
# that take it (e.g. --quick to all, --postgres URL to those with a database, --port N to the HTTP
# ones); --only bench_labels runs one. PostgreSQL: a scratch database is created and dropped on the
# server given (--postgres or VECTIS_BENCH_DATABASE_URL; default 127.0.0.1). Redis: an empty
# database is claimed and emptied afterwards (--redis / VECTIS_BENCH_REDIS_URL; "none" for none).
source "$(dirname "$0")/_env.sh"
exec .venv/bin/python -m tests.bench.run "$@"
