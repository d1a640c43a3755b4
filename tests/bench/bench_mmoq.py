"""MMOQ cap selection: C predicate caps over a cart's V variants in one batch (what every cart
change and placeOrder pays before the limits are merged).

    .venv/bin/python -m tests.bench.bench_mmoq [--quick]
"""
from __future__ import annotations

import argparse
import time

import rules.builtin  # noqa: F401  (registers mmoq_cap)
from rules.environment import Environment
from rules.mmoq_limits import Source
from rules.pipeline import check_source

CAP = """kind: mmoq_cap
name: c{i}
select:
  when:
    tags: {{any: {{$i: t{tag}}}}}
    price: {{gt: {price}}}
limits: {{min_quantity: {minimum}}}
"""


def caps(count: int):
    env, found = Environment(), []
    for i in range(count):
        checked = check_source(CAP.format(i=i, tag=i % 50, price=i % 40, minimum=1 + i % 5), f"c{i}.yaml", env)
        assert checked.ok, checked.errors
        found.append((checked.definition.compiled, Source(f"c{i}", 1)))
    return found


#: Options this benchmark takes; the runner (tests/bench/run.py) passes it only these.
OPTIONS = ("--quick",)


def main(argv: list[str] | None = None) -> int:
    from runtime.mmoq.caps import LiveCaps

    parser = argparse.ArgumentParser(prog="tests.bench.bench_mmoq")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else 20
    live = LiveCaps(caps(300))
    facts = [{"sku": f"S{j}", "price": float(j % 60), "tags": [f"t{j % 50}", f"t{(j * 7) % 50}"]} for j in range(500)]
    for size in (10, 100, 500):
        batch = facts[:size]
        live.selected(batch)
        started = time.perf_counter()
        for _ in range(repeats):
            pairs = sum(len(found) for found in live.selected(batch))
        per_cart = (time.perf_counter() - started) / repeats * 1000
        print(f"300 caps x {size:>3} variants: {per_cart:7.2f} ms per cart ({pairs} cap-variant matches)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
