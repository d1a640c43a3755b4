"""A deterministic product catalog and label predicates of realistic shapes, for benchmarks.

Products follow ``schemas/facts/product.schema.json``; some fields are missing the way real
catalogs miss them (no brand, no rating yet, no sales for drafts, no colour). Labels are drawn
from a few templates with parameters from small pools, so many labels test the same fields with
different constants, as merchandisers write them. Each label keeps its template and parameters:
the hand-written NumPy pass in :mod:`tests.bench.bench_labels` evaluates them from those.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

SEED = 20_240_3
CATEGORIES = {"shoes": "SH", "bags": "BG", "hats": "HT", "belts": "BL", "shirts": "SR",
              "jackets": "JK", "trousers": "TR", "socks": "SK", "watches": "WT",
              "scarves": "SC", "gloves": "GL", "sunglasses": "SG"}
BRANDS = [f"{first}{second}" for first in ("North", "Blue", "Iron", "Silver", "Red", "Oak",
                                            "Stone", "Wild")
          for second in ("field", "peak", "line", "craft", "wood")]
COLORS = ["black", "white", "red", "blue", "green", "grey", "brown", "beige"]
SIZES = ["XS", "S", "M", "L", "XL"]
TAGS = ["summer", "winter", "eco", "bestseller", "limited", "outlet", "gift"]
PRICES = [10, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200]
RATINGS = [3.5, 4.0, 4.5]
STOCKS = [3, 5, 10, 50]
SALES = [10, 25, 50, 100]


def products(count: int, seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    names = list(CATEGORIES)
    result = []
    for index in range(count):
        category = rng.choices(names, weights=range(len(names), 0, -1))[0]
        status = rng.choices(["active", "draft", "archived"], weights=[80, 12, 8])[0]
        product: dict[str, Any] = {
            "id": f"p{index:06d}", "sku": f"{CATEGORIES[category]}-{index:05d}",
            "name": f"{category.title()} {index}", "status": status, "category": category,
            "price": round(rng.lognormvariate(3.5, 0.8), 2), "currency": "EUR",
            "stock": 0 if rng.random() < 0.1 else int(rng.expovariate(1 / 40)),
            "is_new": rng.random() < 0.15,
            "created_at": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00Z",
            "tags": rng.sample(TAGS, rng.randint(0, 3)),
            "attributes": {"size": rng.choice(SIZES)},
        }
        if rng.random() > 0.05:
            product["brand"] = rng.choice(BRANDS)
        if status != "draft":
            product["sales_30d"] = int(rng.expovariate(1 / 25))
        if rng.random() > 0.2:
            product["rating"] = round(rng.uniform(1, 5), 1)
        if rng.random() > 0.1:
            product["attributes"]["color"] = rng.choice(COLORS)
        result.append(product)
    return result


@dataclass(frozen=True)
class LabelSpec:
    name: str
    template: str
    params: tuple
    when: dict[str, Any]


def _when(template: str, p: tuple) -> dict[str, Any]:
    if template == "status_category":
        return {"status": p[0], "category": p[1]}
    if template == "category_in_stock":
        return {"category": {"in": list(p[0])}, "stock": {"gt": 0}}
    if template == "brand_active":
        return {"brand": p[0], "status": "active"}
    if template == "price_band":
        return {"price": {"gte": p[0], "lt": p[1]}}
    if template == "low_stock":
        return {"stock": {"gt": 0, "lte": p[0]}, "status": "active"}
    if template == "bestseller":
        return {"sales_30d": {"gte": p[0]}, "rating": {"gte": p[1]}}
    if template == "top_rated":
        return {"rating": {"gte": p[0]}, "category": p[1]}
    if template == "sku_family":
        return {"sku": {"matches": f"{p[0]}-{p[1]}[0-9]*"}}
    if template == "new_arrival":
        return {"is_new": True, "status": "active", "stock": {"gt": 0}}
    if template == "unbranded":
        return {"$nex": {"brand": 1}, "status": "active"}
    if template == "colour":
        return {"attributes.color": p[0], "category": {"in": list(p[1])}}
    if template == "promo_or":
        return {"$or": [{"category": p[0], "price": {"lt": p[1]}},
                        {"brand": {"in": list(p[2])}, "sales_30d": {"gt": p[3]}}]}
    if template == "clearance":
        return {"$or": [{"status": "archived"},
                        {"$and": [{"stock": {"gt": p[0]}}, {"sales_30d": {"lt": p[1]}}]}]}
    if template == "rated_cheap":
        return {"$ex": {"rating": 1}, "price": {"lte": p[0]}}
    raise ValueError(template)


def _params(template: str, rng: random.Random) -> tuple:
    names = list(CATEGORIES)
    if template == "status_category":
        return rng.choice(["active", "draft", "archived"]), rng.choice(names)
    if template == "category_in_stock":
        return (tuple(rng.sample(names, 3)),)
    if template == "brand_active":
        return (rng.choice(BRANDS),)
    if template == "price_band":
        low, high = sorted(rng.sample(PRICES, 2))
        return low, high
    if template == "low_stock":
        return (rng.choice(STOCKS),)
    if template == "bestseller":
        return rng.choice(SALES), rng.choice(RATINGS)
    if template == "top_rated":
        return rng.choice(RATINGS), rng.choice(names)
    if template == "sku_family":
        return CATEGORIES[rng.choice(names)], rng.randint(0, 1)
    if template == "colour":
        return rng.choice(COLORS), tuple(rng.sample(names, 2))
    if template == "promo_or":
        return (rng.choice(names), rng.choice(PRICES), tuple(rng.sample(BRANDS, 2)),
                rng.choice(SALES))
    if template == "clearance":
        return rng.choice(STOCKS), rng.choice(SALES)
    if template == "rated_cheap":
        return (rng.choice(PRICES),)
    return ()


TEMPLATES = {"status_category": 30, "category_in_stock": 25, "brand_active": 35, "price_band": 35,
             "low_stock": 10, "bestseller": 20, "top_rated": 25, "sku_family": 10,
             "new_arrival": 2, "unbranded": 3, "colour": 30, "promo_or": 35, "clearance": 20,
             "rated_cheap": 20}


def labels(count: int, seed: int = SEED) -> list[LabelSpec]:
    """``count`` labels; templates in fixed proportions (those of 300 labels), params seeded."""
    rng = random.Random(seed + 1)
    total = sum(TEMPLATES.values())
    chosen = [name for name, weight in TEMPLATES.items() for _ in range(weight)]
    result = []
    for index in range(count):
        template = chosen[index * total // count % total]
        params = _params(template, rng)
        result.append(LabelSpec(f"label-{index:03d}", template, params, _when(template, params)))
    return result
