#!/usr/bin/env bash
# Run the benchmarks in tests/bench/ (every bench_*.py); arguments go to each, e.g. --quick,
# or --only bench_labels to run one.
source "$(dirname "$0")/_env.sh"
exec .venv/bin/python -m tests.bench.run "$@"
