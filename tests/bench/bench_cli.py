"""CLI start-up: the median wall time of whole ``vectis`` processes, per command.

    .venv/bin/python -m tests.bench.bench_cli [--quick] [--runs N] [--in-place | --code DIR]

Every command runs as a new process (interpreter start, imports, the command itself) against a
scratch SQLite database under a temporary ``VECTIS_VAR_DIR``, migrated once before timing. The
target (issue 12) is at most 1 s for every command that does not serve.

``definitions validate`` keeps what definitions may name in ``var/cache`` until the code or the
pack settings change (``runtime/definitions/vocabulary.py``): it is timed warm, and once more with
the cache removed before each run (the first run after a change). The code is copied to a
temporary folder first (``--in-place``: run the working tree), so that edits others make to a
shared working tree during the run do not count as code changes.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: What a copy of the code needs: the importable packages and the project file.
CODE = ("runtime", "rules", "schemas", "definitions", "extensions", "examples", "admin_ui")
#: Options this benchmark accepts; the runner passes it only these (tests/bench/run.py).
OPTIONS = ("--quick", "--runs", "--in-place", "--code")
TARGET_SECONDS = 1.0
ONE_FILE = "definitions/label/sale.yaml"


def commands() -> list[tuple[str, list[str], bool]]:
    """(label, arguments, remove the validate cache first) of every timed command; ``{n}`` is the run number."""
    return [
        ("vectis --help", ["--help"], False),
        ("definitions --help", ["definitions", "--help"], False),
        ("definitions validate FILE", ["definitions", "validate", ONE_FILE], False),
        ("definitions validate (all shipped)", ["definitions", "validate"], False),
        ("definitions validate FILE, cache cold", ["definitions", "validate", ONE_FILE], True),
        ("definitions history", ["definitions", "history", "label", "sale"], False),
        ("definitions list", ["definitions", "list"], False),
        ("users create", ["users", "create", "--email", "bench{n}@example.com", "--password", "bench-password-1",
                          "--role", "admin"], False),
        ("db upgrade (up to date)", ["db", "upgrade"], False),
    ]


def vectis(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the process, exit status) of one ``vectis`` process. CPU time
    (user + system) depends much less than wall time on what else the machine runs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "from runtime.cli import main; main()", *args], cwd=cwd,
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode:
        print(f"  vectis {' '.join(args)}: exit {done.returncode}: {done.stderr.strip()[-300:]}", file=sys.stderr)
    return elapsed, cpu, done.returncode


def copy_code(target: Path) -> Path:
    for name in CODE:
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__", "var"))
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.bench.bench_cli")
    parser.add_argument("--quick", action="store_true", help="3 runs per command instead of 5")
    parser.add_argument("--runs", type=int, help="runs per command (median reported)")
    parser.add_argument("--in-place", action="store_true", help="run the working tree rather than a copy of it")
    parser.add_argument("--code", type=Path, help="run the code in this folder instead, e.g. an older revision for "
                                                  "before/after numbers: git archive REV | tar -x -C DIR")
    args = parser.parse_args(argv)
    runs = args.runs or (3 if args.quick else 5)
    with tempfile.TemporaryDirectory(prefix="vectis-bench-cli-") as scratch:
        var, code = Path(scratch) / "var", Path(scratch) / "code"
        var.mkdir()
        root = ROOT if args.in_place else (args.code.resolve() if args.code else copy_code(code))
        env = {**os.environ, "VECTIS_VAR_DIR": str(var), "VECTIS_DATABASE_URL": f"sqlite:///{var}/cli.db",
               "VECTIS_REDIS_URL": "", "VECTIS_SECRET_KEY": "bench-secret-key-0123456789abcdef-0123456789"}
        if not args.in_place:
            env["PYTHONPATH"] = str(root)
        *_, status = vectis(["db", "upgrade"], env, root)
        if status:
            return 1
        vectis(["definitions", "validate"], env, root)  # keeps the cache the warm runs read
        print(f"median of {runs} whole-process runs of {root}; "
              f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        failed = 0
        counter = 0
        print(f"{'command':<40} {'wall':>7} {'CPU':>7}")
        for label, arguments, cold in commands():
            walls, cpus = [], []
            for _ in range(runs):
                counter += 1
                if cold:
                    shutil.rmtree(var / "cache", ignore_errors=True)
                elapsed, cpu, status = vectis([a.replace("{n}", str(counter)) for a in arguments], env, root)
                failed += bool(status)
                walls.append(elapsed)
                cpus.append(cpu)
            wall, cpu = statistics.median(walls), statistics.median(cpus)
            mark = "ok" if wall <= TARGET_SECONDS else "over 1 s"
            print(f"{label:<40} {wall:6.2f}s {cpu:6.2f}s  ({mark})", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
