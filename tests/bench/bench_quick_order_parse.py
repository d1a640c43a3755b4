"""Parse-to-cart latency: the core catalog parser reading a 50-line order against a catalog of N
products (3 variants each, named like the demo catalog: brand, adjective, noun, size; every
product in a box-of-10 ladder).

    .venv/bin/python -m tests.bench.bench_quick_order_parse [--products N] [--lines L] [--runs K]

Reported: the index build (once per catalog change, not per request) and the parse of L lines,
the fewest CPU milliseconds over K runs (target: <= 200 ms for 50 lines at 20,000 products).
"""
from __future__ import annotations

import argparse
import random
import time

from runtime.quick_order import catalog_parser
from runtime.quick_order.catalog_index import CatalogIndex, Entry

BRANDS = ["Bosch Blue", "Makita", "Festool", "Metabo", "Hilti", "Milwaukee", "DeWalt", "Wera", "Knipex", "Gardena"]
ADJECTIVES = ["Pro", "Compact", "Heavy-Duty", "Eco", "Ultra", "Classic", "Precision", "Titan", "Flex", "Max"]
NOUNS = ["Drill", "Angle Grinder", "Jigsaw", "Hammer", "Pliers", "Lawn Mower", "Hose", "Sprinkler", "Work Gloves",
         "Nitrile Gloves", "Safety Glasses", "Wood Screws", "Wall Plugs", "Chemical Anchor", "Leaf Blower"]
SIZES = ["S", "M", "L"]


def catalog(products: int) -> CatalogIndex:
    entries, variant_id = [], 0
    for product in range(products):
        name = f"{BRANDS[product % 10]} {ADJECTIVES[(product // 10) % 10]} {NOUNS[(product // 100) % 15]} {product // 1500}"
        for size in SIZES:
            variant_id += 1
            entries.append(Entry(variant_id, f"P{product:05d}-{size}", product, (f"{name} {size}".lower(), name.lower()),
                                 {"each": 1, "box": 10}))
    return CatalogIndex(entries, package_words={"each": "each", "box": "box"})


def order(index: CatalogIndex, lines: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    forms = ["{q} x {sku}", "{sku} x{q}", "{q} boxes of {name}", "{name} {q}", "a dozen {name}", "{q} pcs {sku}"]
    out = ["Hello team,", "please deliver:"]
    for _ in range(lines):
        entry = rng.choice(index.entries)
        out.append(rng.choice(forms).format(q=rng.randint(1, 40), sku=entry.sku, name=entry.names[0]))
    return "\n".join(out + ["Thanks, Anna"])


def measure(products: int, lines: int, runs: int) -> dict:
    started = time.process_time()
    index = catalog(products)
    built = (time.process_time() - started) * 1000
    text = order(index, lines)
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        found = catalog_parser.parse(index, text)
        best = min(best, (time.process_time() - started) * 1000)
    return {"products": products, "variants": len(index.entries), "index_ms": round(built, 1),
            "parse_ms": round(best, 1), "items": len(found.items), "unparsed": len(found.unparsed)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, nargs="+", default=[300, 20_000])
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    for products in args.products:
        print(measure(products, args.lines, args.runs))


if __name__ == "__main__":
    main()
