"""Parse quality of the core catalog parser over the checked-in corpus
(``tests/bench/quick_order_corpus.tsv``: order lines in varied forms against the demo catalog,
each with its expected SKU, quantity and package; noise lines expect nothing).

    .venv/bin/python -m tests.bench.bench_quick_order_corpus [--write] [--show-misses]

The index is the demo catalog's (``examples/demo_store/catalog.yaml`` expanded by
``runtime.demo.generate_products``: ~300 products, their variants, German names), with a
``box`` of 10 on the consumables (screws, anchors, gloves) since the demo has no ladders.
Reported: precision (answered items that are right: variant, quantity and package) and recall
(expected items answered right); targets 0.95 and 0.90. ``--write`` regenerates the corpus
(seeded, so the same file).
"""
from __future__ import annotations

import argparse
import csv
import io
import random
from pathlib import Path

import yaml

from runtime.demo import DEMO_STORE, generate_products
from runtime.quick_order import catalog_parser
from runtime.quick_order.catalog_index import CatalogIndex, Entry, variant_parts

CORPUS = Path(__file__).with_name("quick_order_corpus.tsv")
BOXED = ("Screws", "Plugs", "Anchor", "Gloves")
NOISE = ["Hi there,", "Hello team", "Good morning Anna,", "please send us the following:", "see the list below",
         "Thanks a lot!", "Best regards", "Kind regards, Tom Weber", "Mit freundlichen Grüßen", "Purchasing dept.",
         "Acme Bau GmbH", "Werkstraße 5", "4020 Linz", "Austria", "Tel. +43 732 123456", "Order 2026-11-30",
         "PO number: 4711-AB", "Delivery to site B please", "Can you deliver by Friday?", "Invoice to the usual address",
         "--", "Sent from my phone", "call me if anything is unclear", "Cheers, Bo", "Regards"]


def index() -> tuple[CatalogIndex, list[dict]]:
    catalog = yaml.safe_load((DEMO_STORE / "catalog.yaml").read_text())
    products = generate_products(catalog)
    entries, variant_id = [], 0
    for number, product in enumerate(products):
        boxed = {"box": 10} if product["name"].split()[-2] in BOXED or any(w in product["name"] for w in BOXED) else {}
        for variant in product["variants"]:
            variant_id += 1
            bases = [product["name"]] + ([product["german"][0]] if product["german"] else [])
            names = [f"{base} {part}".lower() for base in bases for part in variant_parts(variant["name"])]
            names += [base.lower() for base in bases]
            entries.append(Entry(variant_id, variant["sku"], number, tuple(names), boxed))
    return CatalogIndex(entries, package_words={"box": "box"}), products


def _typo(text: str, rng: random.Random) -> str:
    letters = [i for i in range(len(text) - 1) if text[i].isalpha() and text[i + 1].isalpha()]
    if not letters:
        return text
    i = rng.choice(letters)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:]


def write(seed: int = 19) -> None:
    rng = random.Random(seed)
    _index, products = index()
    rows = []
    for _ in range(185):
        product = rng.choice(products)
        variant = rng.choice(product["variants"])
        size = variant["sku"].rsplit("-", 1)[1]
        name, sku, q = product["name"], variant["sku"], rng.randint(1, 60)
        boxed = any(w in name for w in BOXED)
        german = product["german"][0] if product["german"] else None
        forms = [(f"{q} x {sku}", q, ""), (f"{sku} x{q}", q, ""), (f"{sku.lower()} {q}", q, ""),
                 (f"{q} pcs {sku}", q, ""), (f"{_typo(sku, rng)} - {q}", q, ""),
                 (f"{q} {name} {size}", q, ""), (f"{name} size {size}: {q}", q, ""),
                 (f"{q}x {_typo(name, rng)} {size}", q, ""), (f"- {name.lower()} {size} {q} pcs", q, ""),
                 (f"a dozen {name} {size}", 12, "")]
        if german:
            forms.append((f"{q} Stück {german} {size}", q, ""))
        if boxed:
            forms += [(f"{q} boxes of {name} {size}", q, "box"), (f"{sku} {q} box", q, "box")]
        text, quantity, package = rng.choice(forms)
        rows.append((text, sku, quantity, package))
    rows += [(line, "", "", "") for line in NOISE] + [(line.upper(), "", "", "") for line in NOISE[:10]]
    rng.shuffle(rows)
    with CORPUS.open("w", newline="") as out:
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        writer.writerow(["text", "sku", "quantity", "package"])
        writer.writerows(rows)


def measure(show_misses: bool = False) -> dict:
    catalog, _products = index()
    with CORPUS.open() as source:
        rows = list(csv.DictReader(source, delimiter="\t"))
    expected = answered = right = 0
    for row in rows:
        found = catalog_parser.parse(catalog, row["text"]).items
        want = (row["sku"], int(row["quantity"]), row["package"] or None) if row["sku"] else None
        got = [(item.entry.sku, item.quantity, item.package) for item in found]
        expected += want is not None
        answered += len(got)
        right += want is not None and got == [want]
        if show_misses and ((want is None and got) or (want is not None and got != [want])):
            print(f"  {row['text']!r}: expected {want}, got {got}")
    return {"lines": len(rows), "expected": expected, "answered": answered, "right": right,
            "precision": round(right / answered, 3) if answered else None,
            "recall": round(right / expected, 3) if expected else None}


FONTS = [("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 26), ("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", 30),
         ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf", 24)]
PAGE_LINES = 25


def render(lines: list[str], font_path: str, size: int, rng: random.Random) -> bytes:
    """A page of ``lines`` in one font with light speckle noise, as PNG."""
    from PIL import Image, ImageDraw, ImageFont  # only the OCR measurement renders

    font = ImageFont.truetype(font_path, size)
    step = int(size * 1.7)
    image = Image.new("L", (1400, 40 + step * len(lines)), 255)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((30, 20 + number * step), line, fill=0, font=font)
    for _ in range(image.width * image.height // 400):
        image.putpixel((rng.randrange(image.width), rng.randrange(image.height)), rng.randint(120, 230))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def measure_ocr() -> dict:
    """Recall of the OCR path: the corpus rendered page by page in each font, read by Tesseract
    (``runtime.quick_order.ocr``, without its upload bound), parsed by the catalog parser."""
    from runtime.quick_order import ocr

    catalog, _products = index()
    with CORPUS.open() as source:
        rows = list(csv.DictReader(source, delimiter="\t"))
    rng = random.Random(5)
    expected = right = answered = 0
    for font_path, size in FONTS:
        for start in range(0, len(rows), PAGE_LINES):
            page = rows[start:start + PAGE_LINES]
            png = render([row["text"] for row in page], font_path, size, rng)
            text = ocr.read_png(png)
            got = [(i.entry.sku, i.quantity, i.package) for i in catalog_parser.parse(catalog, text).items]
            want = [(r["sku"], int(r["quantity"]), r["package"] or None) for r in page if r["sku"]]
            expected += len(want)
            answered += len(got)
            remaining = list(got)
            for item in want:
                if item in remaining:
                    remaining.remove(item)
                    right += 1
    return {"pages": len(FONTS) * -(-len(rows) // PAGE_LINES), "expected": expected, "answered": answered,
            "right": right, "precision": round(right / answered, 3) if answered else None,
            "recall": round(right / expected, 3) if expected else None}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="regenerate the corpus file first")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--ocr", action="store_true", help="also measure the OCR path over rendered pages (Tesseract)")
    args = parser.parse_args(argv)
    if args.write:
        write()
    print(measure(args.show_misses))
    if args.ocr:
        print(measure_ocr())


if __name__ == "__main__":
    main()
