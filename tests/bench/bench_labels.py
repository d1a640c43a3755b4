"""Labels batch: 300 label predicates over a 20,000-product catalog, five ways, in one run.

    .venv/bin/python -m tests.bench.bench_labels [--quick] [--products N] [--labels L]

(a) the batch evaluator (rules.batch), (b) each compiled predicate on each product, (c) a plain
tree-walking interpreter, (d) durable_rules in a child process, (e) a hand-written NumPy pass
over column arrays; plus the generated per-fact function (rules.batch_codegen) over the whole
catalog, and the small-batch crossover behind ``rules.batch.SMALL_BATCH``. Every method's match
sets are checked against (b) before anything is reported. Times are the best of N repeats.
"""

from __future__ import annotations

import argparse
import json
import operator
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from rules.batch import BatchEvaluator
from rules.conditions import All, AnyOf, Compare, Exists, Matches
from rules.environment import Environment
from rules.facts import MISSING, get_path
from rules.predicates import compile_predicate
from tests.bench.catalog import LabelSpec, labels, products

MatchSets = list[tuple[int, ...]]  # per predicate, the indexes of the products it holds for


def best(function: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """The shortest of ``repeats`` timed calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result


def compile_labels(specs: list[LabelSpec]) -> list:
    env = Environment()

    def fail(pointer, message, hint=None, key=False):
        raise ValueError(f"{pointer}: {message}")

    return [compile_predicate(s.when, "/when", fact="product", env=env, report=fail)
            for s in specs]


def _sets(rows) -> MatchSets:
    return [tuple(int(i) for i in np.flatnonzero(row)) for row in rows]


# -- (c) a plain tree-walking interpreter over the parsed tree ------------------------------------

_ORDER = {"$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge}


def interpret(node, fact) -> bool:
    kind = type(node)
    if kind is All:
        return all(interpret(item, fact) for item in node.items)
    if kind is AnyOf:
        return any(interpret(item, fact) for item in node.items)
    value = get_path(fact, node.path)
    if kind is Exists:
        return (value is not MISSING) is node.present
    if kind is Matches:
        return isinstance(value, str) and re.fullmatch(node.pattern, value) is not None
    if kind is Compare:
        if node.op in _ORDER:
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            return number and _ORDER[node.op](value, node.value)
        same = (value is node.value if isinstance(value, bool) or isinstance(node.value, bool)
                else value == node.value)
        return same if node.op == "$eq" else value is not MISSING and not same
    raise TypeError(f"the interpreter does not know {kind.__name__}")


# -- (e) hand-written NumPy over column arrays ----------------------------------------------


def numpy_columns(catalog: list[dict]) -> dict[str, np.ndarray]:
    """Strings as unicode arrays ("" when missing), numbers as float64 (NaN when missing)."""
    def text(name):
        return np.array([p.get(name, "") for p in catalog])

    def number(name):
        return np.array([p.get(name, np.nan) for p in catalog], dtype=float)

    return {"status": text("status"), "category": text("category"), "brand": text("brand"),
            "sku": text("sku"), "price": number("price"), "stock": number("stock"),
            "sales_30d": number("sales_30d"), "rating": number("rating"),
            "is_new": np.array([p.get("is_new") is True for p in catalog]),
            "has_brand": np.array(["brand" in p for p in catalog]),
            "color": np.array([p["attributes"].get("color", "") for p in catalog])}


def _isin(column: np.ndarray, choices) -> np.ndarray:
    mask = column == choices[0]
    for choice in choices[1:]:
        mask |= column == choice
    return mask


def numpy_label(c: dict[str, np.ndarray], spec: LabelSpec) -> np.ndarray:
    p, template = spec.params, spec.template
    if template == "status_category":
        return (c["status"] == p[0]) & (c["category"] == p[1])
    if template == "category_in_stock":
        return _isin(c["category"], p[0]) & (c["stock"] > 0)
    if template == "brand_active":
        return (c["brand"] == p[0]) & (c["status"] == "active")
    if template == "price_band":
        return (c["price"] >= p[0]) & (c["price"] < p[1])
    if template == "low_stock":
        return (c["stock"] > 0) & (c["stock"] <= p[0]) & (c["status"] == "active")
    if template == "bestseller":
        return (c["sales_30d"] >= p[0]) & (c["rating"] >= p[1])
    if template == "top_rated":
        return (c["rating"] >= p[0]) & (c["category"] == p[1])
    if template == "sku_family":
        return np.strings.startswith(c["sku"], f"{p[0]}-{p[1]}")
    if template == "new_arrival":
        return c["is_new"] & (c["status"] == "active") & (c["stock"] > 0)
    if template == "unbranded":
        return ~c["has_brand"] & (c["status"] == "active")
    if template == "colour":
        return (c["color"] == p[0]) & _isin(c["category"], p[1])
    if template == "promo_or":
        return (((c["category"] == p[0]) & (c["price"] < p[1]))
                | (_isin(c["brand"], p[2]) & (c["sales_30d"] > p[3])))
    if template == "clearance":
        return (c["status"] == "archived") | ((c["stock"] > p[0]) & (c["sales_30d"] < p[1]))
    if template == "rated_cheap":
        return ~np.isnan(c["rating"]) & (c["price"] <= p[0])
    raise ValueError(template)


# -- (d) durable_rules, in a child process ---------------------------------------------------------


def run_durable(predicates, catalog, timeout: float) -> tuple[float | None, Any, str]:
    """(seconds, match sets, note); seconds is None and the note says why when it could not run."""
    data = {"conditions": [p.to_durable() for p in predicates], "facts": catalog, "guard": "sku"}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=True) as file:
        json.dump(data, file)
        file.flush()
        try:
            done = subprocess.run([sys.executable, "-m", "tests.bench.durable_labels", file.name],
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, None, f"could not run: no answer within {timeout:.0f} s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return None, None, f"could not run: exit code {done.returncode} ({last})"
    answer = json.loads(done.stdout)
    note = f"{answer['rulesets']} rulesets, Host.assert_fact + retract_fact"
    return answer["seconds"], [tuple(m) for m in answer["matches"]], note


# -- the run ---------------------------------------------------------------------------------


def crossover(evaluator: BatchEvaluator, catalog: list[dict], repeats: int) -> list[str]:
    lines = ["", "small batches: generated function vs. FactTable + columnar pass (ms)",
             f"{'facts':>7} {'generated':>10} {'columnar':>10}"]
    for size in (1, 4, 16, 64, 256, 1024):
        facts = catalog[:size]
        each, _ = best(lambda: evaluator.evaluate_each(facts), repeats)
        columns, _ = best(lambda: evaluator.evaluate(evaluator.table(facts)), repeats)
        lines.append(f"{size:>7} {each * 1e3:>10.2f} {columns * 1e3:>10.2f}")
    return lines


#: Options this benchmark takes; the runner (tests/bench/run.py) passes it only these.
OPTIONS = ("--quick", "--products", "--labels", "--durable-timeout")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_labels", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 products, fewer repeats")
    parser.add_argument("--products", type=int)
    parser.add_argument("--labels", type=int, default=300)
    parser.add_argument("--durable-timeout", type=float, default=300)
    args = parser.parse_args(argv)
    count = args.products or (2_000 if args.quick else 20_000)
    fast, slow = (5, 1) if args.quick else (20, 3)

    catalog, specs = products(count), labels(args.labels)
    predicates = compile_labels(specs)
    evaluations = len(predicates) * len(catalog)
    print(f"labels batch: {len(predicates)} labels x {len(catalog)} products "
          f"= {evaluations:,} predicate evaluations; best of {fast} (fast) / {slow} (slow) runs")

    plan_s, evaluator = best(lambda: BatchEvaluator(predicates), slow)
    table_s, table = best(lambda: evaluator.table(catalog), slow)
    batch_s, result = best(lambda: evaluator.evaluate(table), fast)
    closures_s, closures = best(lambda: [[p(f) for f in catalog] for p in predicates], slow)
    interp_s, interpreted = best(
        lambda: [[interpret(p.root, f) for f in catalog] for p in predicates], slow)
    generated_s, generated = best(lambda: [evaluator.per_fact(f) for f in catalog], slow)
    columns_s, columns = best(lambda: numpy_columns(catalog), slow)
    numpy_s, handwritten = best(lambda: [numpy_label(columns, s) for s in specs], fast)
    durable_s, durable, durable_note = run_durable(predicates, catalog, args.durable_timeout)

    expected = _sets(np.array(closures, dtype=bool).reshape(len(predicates), len(catalog)))
    outcomes = {"(a) batch": _sets(result.masks), "(c) interpreter": _sets(
        np.array(interpreted, dtype=bool).reshape(len(predicates), len(catalog))),
        "generated per-fact": _sets(np.array(generated, dtype=bool).T.reshape(
            len(predicates), len(catalog))), "(e) numpy": _sets(handwritten)}
    if durable is not None:
        outcomes["(d) durable_rules"] = durable
    wrong = [name for name, sets in outcomes.items() if sets != expected]
    matches = sum(len(s) for s in expected)
    print(f"match sets: {matches:,} (predicate, product) pairs; identical across "
          f"{', '.join(['(b) closures', *outcomes]) if not wrong else 'NOT ' + ', '.join(wrong)}")
    stats = evaluator.plan.stats
    print(f"plan: {stats['leaf_references']} leaves written, {stats['distinct_leaves']} distinct "
          f"evaluated, {stats['fields']} fields; built in {plan_s * 1e3:.1f} ms")
    print(f"FactTable build (once per catalog snapshot): {table_s * 1e3:.1f} ms; "
          f"numpy column arrays for (e): {columns_s * 1e3:.1f} ms")
    print()
    rows = [("(a) batch evaluator, pass", batch_s, ""),
            ("(b) compiled closures, one at a time", closures_s, ""),
            ("(c) tree-walking interpreter", interp_s, ""),
            ("(d) durable_rules", durable_s, durable_note),
            ("(e) hand-written numpy", numpy_s, ""),
            ("generated function per product", generated_s, "the small-batch fallback")]
    print(f"{'method':<38} {'seconds':>9} {'evals/s':>12} {'x (a)':>8}")
    for name, seconds, note in rows:
        if seconds is None:
            print(f"{name:<38} {'-':>9} {'-':>12} {'-':>8}  {note}")
            continue
        print(f"{name:<38} {seconds:>9.4f} {evaluations / seconds:>12.3g} "
              f"{seconds / batch_s:>8.1f}  {note}")
    print(f"\ntargets: (b)/(a) = {closures_s / batch_s:.1f} (want >= 10); "
          f"(a)/(e) = {batch_s / numpy_s:.2f} (want <= 2)")
    print("\n".join(crossover(evaluator, catalog, fast)))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
