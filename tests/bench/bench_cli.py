"""CLI start-up: the median wall time of whole ``vectis`` processes, per command.

    .venv/bin/python -m tests.bench.bench_cli [--quick] [--runs N]

Every command runs as a new process (interpreter start, imports, the command itself) against a
scratch SQLite database under a temporary ``VECTIS_VAR_DIR``, migrated once before timing. The
target (issue 12) is at most 1 s for every command that does not serve.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Options this benchmark accepts; the runner passes it only these (tests/bench/run.py).
OPTIONS = ("--quick", "--runs")
TARGET_SECONDS = 1.0
ONE_FILE = "definitions/label/sale.yaml"


def commands() -> list[tuple[str, list[str]]]:
    """(label, arguments) of every timed command; ``{n}`` is replaced by the run number."""
    return [
        ("vectis --help", ["--help"]),
        ("definitions --help", ["definitions", "--help"]),
        ("definitions validate FILE", ["definitions", "validate", ONE_FILE]),
        ("definitions validate (all shipped)", ["definitions", "validate"]),
        ("definitions history", ["definitions", "history", "label", "sale"]),
        ("definitions list", ["definitions", "list"]),
        ("users create", ["users", "create", "--email", "bench{n}@example.com", "--password", "bench-password-1",
                          "--role", "admin"]),
        ("db upgrade (up to date)", ["db", "upgrade"]),
    ]


def vectis(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "from runtime.cli import main; main()", *args], cwd=ROOT,
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode:
        print(f"  vectis {' '.join(args)}: exit {done.returncode}: {done.stderr.strip()[-300:]}", file=sys.stderr)
    return elapsed, done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.bench.bench_cli")
    parser.add_argument("--quick", action="store_true", help="3 runs per command instead of 5")
    parser.add_argument("--runs", type=int, help="runs per command (median reported)")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 5)
    with tempfile.TemporaryDirectory(prefix="vectis-bench-cli-") as var:
        env = {**os.environ, "VECTIS_VAR_DIR": var, "VECTIS_DATABASE_URL": f"sqlite:///{var}/cli.db",
               "VECTIS_REDIS_URL": "", "VECTIS_SECRET_KEY": "bench-secret-key-0123456789abcdef-0123456789"}
        _, status = vectis(["db", "upgrade"], env)
        if status:
            return 1
        print(f"median of {runs} whole-process runs; load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        failed = 0
        counter = 0
        for label, arguments in commands():
            times = []
            for _ in range(runs):
                counter += 1
                elapsed, status = vectis([a.replace("{n}", str(counter)) for a in arguments], env)
                failed += bool(status)
                times.append(elapsed)
            median = statistics.median(times)
            mark = "ok" if median <= TARGET_SECONDS else "over 1 s"
            print(f"{label:<36} {median:6.2f} s  ({mark})", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
