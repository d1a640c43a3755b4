"""``Product.labels`` for every product of a request in one batch evaluation.

The first ``labels`` field of a request takes every product the catalog loaders hold for that
request (a listing's page, a single product, variants' products), builds their facts in bulk and
evaluates the live labels over them once; every other product's field reads the result. A product
not seen yet (resolved later in the same request) starts one more batch with every product still
pending, so the statements and evaluations never grow with the page size.
"""
from __future__ import annotations

import numpy as np
from sqlalchemy import select

from runtime.catalog import loaders
from runtime.catalog.models import Brand, Product
from runtime.clock import utcnow
from runtime.graphql.context import context_of
from runtime.labels import labelset
from runtime.labels.facts import CatalogRows, field_sources, product_facts
from runtime.labels.labelset import LiveLabel

KEY = "vectis.labels"


class RequestLabels:
    """The labels shown in this request: scheduled now, in the request's channel."""

    def __init__(self, info):
        self.info = info
        ctx = context_of(info)
        self.set = labelset.current(ctx.app)
        self.now = utcnow()
        channel = ctx.channel.slug if ctx.channel is not None else None
        self.shown = [index for index, live in enumerate(self.set.labels)
                      if live.label.active_at(self.now) and live.label.shown_in(channel)]
        self.matched: dict[int, list[LiveLabel]] = {}

    def of(self, product: Product, surface: str | None) -> list[LiveLabel]:
        if product.id not in self.matched:
            self._resolve(product)
        return [live for live in self.matched[product.id] if surface is None or live.label.shows_on(surface)]

    def _resolve(self, product: Product) -> None:
        known = {**loaders.cache(self.info).get("products", {}), product.id: product}
        pending = [p for pid, p in known.items() if pid not in self.matched]
        if not self.shown:
            self.matched.update({p.id: [] for p in pending})
            return
        result = self.set.evaluate(self._facts(pending))
        hits: list[list[LiveLabel]] = [[] for _ in pending]
        for row, column in zip(*np.nonzero(result.matrix[self.shown])):  # shown labels × products
            hits[column].append(self.set.labels[self.shown[row]])
        for item, found in zip(pending, hits):
            self.matched[item.id] = sorted(found, key=lambda live: (-live.label.priority, live.name))

    def _facts(self, products: list[Product]) -> list[dict]:
        needs = self.set.needs
        wants = (lambda name: True) if needs is None else needs.__contains__
        info = self.info
        loaders.load_variants_for(info, [p.id for p in products])
        store = loaders.cache(info)
        rows = CatalogRows(products, store["variants_by_product"])
        with context_of(info).reads() as session:
            if wants("brand"):
                rows.brands = self._brands(session, products)
            if wants("category") or wants("categories"):
                rows.categories = loaders.category_tree(info)
            return product_facts(session, rows, self.now, needs=needs, sources=field_sources(context_of(info).app))

    def _brands(self, session, products: list[Product]):
        brands = loaders.cache(self.info).setdefault("brands", {})
        missing = sorted({p.brand_id for p in products if p.brand_id is not None} - set(brands))
        if missing:
            brands.update({b.id: b for b in session.execute(select(Brand).where(Brand.id.in_(missing))).scalars()})
        return brands


def labels_of(info, product: Product, surface: str | None = None) -> list[LiveLabel]:
    """The labels ``product`` shows on ``surface`` (every surface when ``None``), highest
    priority first, then by name."""
    state = info.context.__dict__.get(KEY)
    if state is None:
        state = info.context.__dict__[KEY] = RequestLabels(info)
    return state.of(product, surface)
