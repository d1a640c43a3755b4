"""Run every benchmark: each ``tests/bench/bench_*.py`` module's ``main(argv)``, in name order.

    .venv/bin/python -m tests.bench.run [--only NAME ...] [benchmark options, e.g. --quick --port 8123]

Each benchmark declares the options it takes (``OPTIONS``, its flags; without it the runner reads
them from the benchmark's ``--help``); every option is given only to the benchmarks that take it (``--postgres`` reaches the ones with a database, ``--port``
the HTTP ones), and an option no benchmark takes is an error before anything runs. Each benchmark
also runs alone: ``python -m tests.bench.bench_labels --quick``. Exits non-zero when any fails.

The benchmarks borrow nothing they do not give back (``tests/bench/scratch.py``): a scratch
PostgreSQL database created and dropped on the server given (``--postgres`` or
``VECTIS_BENCH_DATABASE_URL``), a Redis database found empty and claimed, a pinned or free port.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import re
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    return sorted(path.stem for path in HERE.glob("bench_*.py"))


def split_options(args: list[str]) -> list[tuple[str, list[str]]]:
    """``["--quick", "--port", "8123", "--x=1"]`` → ``[("--quick", ["--quick"]), ("--port", ["--port",
    "8123"]), ("--x", ["--x=1"])]``: each option with the values that follow it."""
    groups: list[tuple[str, list[str]]] = []
    for arg in args:
        if arg.startswith("--"):
            groups.append((arg.split("=", 1)[0], [arg]))
        elif groups:
            groups[-1][1].append(arg)
        else:
            raise ValueError(f"{arg!r} is not an option (options start with --)")
    return groups


def route(args: list[str], accepted: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """The arguments each benchmark gets: only the options in its ``OPTIONS``.

    Raises ``ValueError`` naming an option that none of ``accepted`` takes.
    """
    groups = split_options(args)
    unknown = sorted({flag for flag, _ in groups if not any(flag in flags for flags in accepted.values())})
    if unknown:
        raise ValueError(f"no benchmark takes {', '.join(unknown)}")
    return {name: [token for flag, tokens in groups if flag in flags for token in tokens]
            for name, flags in accepted.items()}


def accepted_options(module: ModuleType) -> tuple[str, ...]:
    """The flags a benchmark takes: its ``OPTIONS``, else those its ``main(["--help"])`` prints."""
    declared = getattr(module, "OPTIONS", None)
    if declared is not None:
        return tuple(declared)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        module.main(["--help"])
    return tuple(sorted(set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", out.getvalue())) - {"--help"}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", metavar="NAME",
                        help=f"run only this benchmark (of: {', '.join(discover())})")
    args, rest = parser.parse_known_args(argv)
    names = discover()
    unknown = sorted(set(args.only or ()) - set(names))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} (known: {', '.join(names)})")
    modules = {name: importlib.import_module(f"tests.bench.{name}") for name in args.only or names}
    try:
        routed = route(rest, {name: accepted_options(module) for name, module in modules.items()})
    except ValueError as exc:
        parser.error(str(exc))
    failed = []
    for name, module in modules.items():
        print(f"== {name} {' '.join(routed[name])} ==".replace("  ==", " =="), flush=True)
        if module.main(list(routed[name])):
            failed.append(name)
        print(flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
