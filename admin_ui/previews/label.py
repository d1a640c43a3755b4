"""``label``: the products that gain and lose the label against the live revision, and explain.

The predicate alone is compared (schedule, channels and surfaces are filters applied at display
time and are shown beside); the whole catalog is evaluated in one batch pass for both predicates.
"""
from __future__ import annotations

from typing import Any

from rules.batch import BatchEvaluator
from rules.label import Label
from rules.predicates import Predicate

from runtime.clock import utcnow
from runtime.labels.facts import field_sources, load_catalog, product_facts

SAMPLE = 10


def _needs(predicates: list[Predicate], labels: list[Label]) -> frozenset[str] | None:
    if any(label.functions for label in labels):
        return None  # a predicate function may read any field
    return frozenset(path.split(".")[0] for p in predicates for path in p.fields)


def preview(app, session, draft: Label, live: Label | None, form) -> dict[str, Any]:
    labels = [draft] + ([live] if live is not None else [])
    predicates = [label.predicate for label in labels]
    rows = load_catalog(session)
    facts = product_facts(session, rows, utcnow(), needs=_needs(predicates, labels), whole_catalog=True,
                          sources=field_sources(app))
    result = BatchEvaluator(predicates).evaluate(facts) if facts else None
    now_set = set(result.facts_matching(0).tolist()) if result else set()
    before = set(result.facts_matching(1).tolist()) if result and live is not None else set()
    products = rows.products

    def sample(indexes: set[int]) -> list[dict[str, Any]]:
        return [{"id": products[i].id, "slug": products[i].slug, "name": products[i].name}
                for i in sorted(indexes, key=lambda i: products[i].name)[:SAMPLE]]

    gained, lost = now_set - before, before - now_set
    explained = _explain(form.get("explain_product", "").strip(), products, facts, draft, live)
    return {"total": len(products), "draft_count": len(now_set), "live_count": len(before),
            "gained_count": len(gained), "lost_count": len(lost), "gained": sample(gained),
            "lost": sample(lost), "explain": explained, "has_live": live is not None,
            "schedule": (draft.starts_at, draft.ends_at), "channels": sorted(draft.channels or [])}


def _explain(wanted: str, products, facts, draft: Label, live: Label | None) -> dict[str, Any] | None:
    if not wanted:
        return None
    for index, product in enumerate(products):
        if wanted in (product.slug, str(product.id), product.name):
            fact = facts[index]
            return {"product": {"id": product.id, "slug": product.slug, "name": product.name},
                    "draft": draft.explain(fact).to_dict(),
                    "live": live.explain(fact).to_dict() if live is not None else None}
    return {"missing": wanted}
