"""Run every benchmark: each ``tests/bench/bench_*.py`` module's ``main(argv)``, in name order.

    .venv/bin/python -m tests.bench.run [--only NAME ...] [benchmark options, e.g. --quick]

Options other than ``--only`` are passed to every benchmark (each also runs alone:
``python -m tests.bench.bench_labels --quick``). Exits non-zero when any benchmark does.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    return sorted(path.stem for path in HERE.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", metavar="NAME",
                        help=f"run only this benchmark (of: {', '.join(discover())})")
    args, rest = parser.parse_known_args(argv)
    names = discover()
    unknown = sorted(set(args.only or ()) - set(names))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (known: {', '.join(names)})")
    failed = []
    for name in args.only or names:
        print(f"== {name} ==", flush=True)
        status = importlib.import_module(f"tests.bench.{name}").main(list(rest))
        if status:
            failed.append(name)
        print(flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
