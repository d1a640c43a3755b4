"""Which caps apply to which variants: the live ``mmoq_cap`` definitions, their predicates
evaluated in one batch over a cart's variants, merged per variant (strictest wins) with the
variant's own fields as the fallback.

The batch evaluator is built once per set of live revisions and rebuilt when one is published.
"""
from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from rules.batch import BatchEvaluator
from rules.mmoq import MmoqCap
from rules.mmoq_limits import Resolved, Source, resolve

from runtime.mmoq.facts import Customer, variant_fact

KIND = "mmoq_cap"
_lock = threading.Lock()


class LiveCaps:
    """The live caps of one set of revisions and their shared predicate network."""

    def __init__(self, caps: list[tuple[MmoqCap, Source]]):
        self.caps = caps
        self.by_predicate = [index for index, (cap, _source) in enumerate(caps) if cap.predicate is not None]
        self.evaluator = BatchEvaluator([caps[i][0].predicate for i in self.by_predicate]) if self.by_predicate else None

    def selected(self, facts: list[dict[str, Any]]) -> list[list[int]]:
        """For each fact, the indexes of the caps that select it (one batch pass for predicates)."""
        chosen: list[list[int]] = [[] for _ in facts]
        if self.evaluator is not None and facts:
            for position, fact_index in self.evaluator.evaluate(facts).pairs():
                chosen[fact_index].append(self.by_predicate[position])
        for cap_index, (cap, _source) in enumerate(self.caps):
            if cap.skus is not None:
                for fact_index, fact in enumerate(facts):
                    if fact["sku"] in cap.skus:
                        chosen[fact_index].append(cap_index)
        return [sorted(indexes) for indexes in chosen]


def live_caps(app: Flask) -> LiveCaps:
    """The compiled live caps (cached on the app until a revision changes). Inside a request they
    are those its start polled: no check polls mid-transaction (``runtime.definitions.live``)."""
    from runtime.definitions.live import live_definitions

    live = live_definitions(app).all(KIND)
    stamp = tuple((d.name, d.revision) for d in live)
    cached = app.extensions.get("vectis.mmoq.caps")
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _lock:
        caps = LiveCaps([(d.compiled, Source(d.name, d.revision)) for d in live])
        app.extensions["vectis.mmoq.caps"] = (stamp, caps)
    return caps


def fallback(variant) -> dict[str, Any]:
    """The variant's own limits (None: not set). ``max_backorder_qty`` has none: the variant's
    ``backorder_limit`` is inventory's own refusal (OUT_OF_STOCK), not a cap."""
    return {"min_quantity": variant.mmoq_min_quantity, "increment": variant.mmoq_increment,
            "max_per_customer_per_order": variant.mmoq_max_per_order,
            "max_per_customer_30d": variant.mmoq_max_per_customer_30d,
            "display_unit": variant.mmoq_display_unit}


def resolve_caps(app: Flask, variants: dict[int, tuple], customer: Customer) -> dict[int, Resolved]:
    """``variant_id → Resolved`` for ``variants`` (``id → (ProductVariant, Product)``) and ``customer``."""
    caps = live_caps(app)
    ids = list(variants)
    selected = caps.selected([variant_fact(*variants[i]) for i in ids])
    in_scope = [cap.in_scope(customer.fact) for cap, _source in caps.caps]
    resolved = {}
    for variant_id, indexes in zip(ids, selected):
        applying = sorted((caps.caps[i] for i in indexes if in_scope[i]), key=lambda pair: pair[0].name)
        resolved[variant_id] = resolve([(source, cap.limits) for cap, source in applying],
                                       fallback(variants[variant_id][0]))
    return resolved
