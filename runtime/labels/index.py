"""The catalog-wide label index: recomputed by a job, read by product search.

:func:`relabel_catalog` evaluates every live label over every product (the batch evaluator's
columnar pass) and writes only the difference to ``product_label``; :func:`relabel_products` does
the same for a few products. Both are idempotent jobs (the result depends only on the database),
run after a label revision is published or products change (:mod:`runtime.labels.triggers`) and
periodically (facts such as age, stock and sales change with time). A label that is live but does
not compile in this process (a pack it calls is missing here) keeps its rows: another process may
still have the pack; ``clearProductLabelStaleReferences`` is the explicit way to drop them.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app
from rules.suggestions import did_you_mean
from sqlalchemy import and_, delete, exists, false, insert, select, update
from sqlmodel import Session

from runtime.clock import utcnow
from runtime.errors import BusinessError
from runtime.labels.errors import LabelErrorCode
from runtime.labels import labelset
from runtime.labels.facts import chunks, field_sources, load_catalog, product_facts
from runtime.labels.labelset import LabelSet
from runtime.labels.models import LabelFunctionReference, LabelIndexState, ProductLabel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Relabel:
    """What one run changed."""

    products: int
    added: int
    removed: int
    revised: int


def relabel_catalog() -> Relabel:
    """Job: the whole catalog against every live label (in the current app)."""
    return run(current_app, None)


def relabel_products(product_ids: list[int]) -> Relabel:
    """Job: these products against every live label."""
    return run(current_app, list(product_ids))


def run(app: Flask, product_ids: list[int] | None) -> Relabel:
    labels = labelset.current(app, force=True)
    database = app.extensions["vectis.db"]
    if product_ids is not None and not labels.labels:
        return Relabel(len(product_ids), 0, 0, 0)
    sources = field_sources(app)
    outcome = database.run(lambda session: _relabel(session, labels, product_ids, sources))
    log.info("label index: %s", outcome)
    return outcome


def _relabel(session: Session, labels: LabelSet, product_ids: list[int] | None, sources=()) -> Relabel:
    now = utcnow()
    rows = load_catalog(session, product_ids)
    facts = product_facts(session, rows, now, needs=labels.needs, whole_catalog=product_ids is None, sources=sources)
    ids = [product.id for product in rows.products]
    wanted: dict[str, set[int]] = {}
    if labels.labels and ids:
        result = labels.evaluate(facts)
        for index, live in enumerate(labels.labels):
            wanted[live.name] = {ids[i] for i in result.facts_matching(index)}
    else:
        wanted = {live.name: set() for live in labels.labels}
    held = _current_rows(session, product_ids)
    revisions = {live.name: live.revision for live in labels.labels}
    added = removed = revised = 0
    for name, rows_now in held.items():
        if name in labels.failed or (name not in revisions and product_ids is not None):
            continue  # kept: not evaluable here, or a partial run that cannot tell it is gone
        gone = sorted(set(rows_now) - wanted.get(name, set()))
        removed += _delete(session, name, gone)
        stale = [pid for pid, revision in rows_now.items() if name in revisions and revision != revisions[name]
                 and pid in wanted[name]]
        revised += _revise(session, name, revisions.get(name), stale, now)
    for name, products in wanted.items():
        new = sorted(products - set(held.get(name, {})))
        added += _insert(session, name, revisions[name], new, now)
    if product_ids is None:
        _record_state(session, labels, wanted, now)
    return Relabel(len(ids), added, removed, revised)


def _current_rows(session: Session, product_ids: list[int] | None) -> dict[str, dict[int, int]]:
    """label name → product id → revision, for the products in scope."""
    found: dict[str, dict[int, int]] = defaultdict(dict)
    statement = select(ProductLabel.label_name, ProductLabel.product_id, ProductLabel.label_revision)
    parts = [None] if product_ids is None else list(chunks(sorted(set(product_ids))))
    for part in parts:
        scoped = statement if part is None else statement.where(ProductLabel.product_id.in_(part))
        for name, pid, revision in session.execute(scoped):
            found[name][pid] = revision
    return found


def _delete(session: Session, name: str, product_ids: list[int]) -> int:
    for part in chunks(product_ids):
        session.execute(delete(ProductLabel).where(ProductLabel.label_name == name,
                                                   ProductLabel.product_id.in_(part)))
    return len(product_ids)


def _revise(session: Session, name: str, revision: int | None, product_ids: list[int], now: datetime) -> int:
    for part in chunks(product_ids):
        session.execute(update(ProductLabel).where(ProductLabel.label_name == name, ProductLabel.product_id.in_(part))
                        .values(label_revision=revision, computed_at=now))
    return len(product_ids)


def _insert(session: Session, name: str, revision: int, product_ids: list[int], now: datetime) -> int:
    for part in chunks(product_ids):
        session.execute(insert(ProductLabel), [{"product_id": pid, "label_name": name, "label_revision": revision,
                                                "computed_at": now} for pid in part])
    return len(product_ids)


def _record_state(session: Session, labels: LabelSet, wanted: dict[str, set[int]], now: datetime) -> None:
    """Per label the revision the index now holds, and the functions that revision calls; labels
    no longer live lose their state and references (their rows went above)."""
    live = {item.name: item for item in labels.labels}
    keep = set(live) | labels.failed
    session.execute(delete(LabelIndexState).where(LabelIndexState.label_name.notin_(keep)))
    session.execute(delete(LabelFunctionReference).where(LabelFunctionReference.label_name.notin_(keep)))
    if not live:
        return
    session.execute(delete(LabelIndexState).where(LabelIndexState.label_name.in_(live)))
    session.execute(insert(LabelIndexState), [
        {"label_name": name, "label_revision": item.revision, "computed_at": now,
         "product_count": len(wanted[name])} for name, item in live.items()])
    session.execute(delete(LabelFunctionReference).where(LabelFunctionReference.label_name.in_(live)))
    references = [{"label_name": name, "extension": function.partition(".")[0],
                   "function": function.partition(".")[2], "label_revision": item.revision}
                  for name, item in live.items() for function in item.label.functions]
    if references:
        session.execute(insert(LabelFunctionReference), references)


def filter_clause(app: Flask, name: str, channel_id: int | None, at: datetime | None = None):
    """A where-clause on :class:`~runtime.catalog.models.Product`: the products the index holds
    for label ``name`` while that label is scheduled at ``at`` (default now) and shown in channel
    ``channel_id``; none otherwise. A name that is not a live label is refused (UNKNOWN_LABEL)."""
    from runtime.catalog.models import Product
    from runtime.channels.models import Channel

    labels = labelset.current(app)
    live = labels.by_name(name)
    if live is None and name not in labels.failed:
        known = [item.name for item in labels.labels]
        raise BusinessError(LabelErrorCode.UNKNOWN_LABEL, f"filter.label: no live label {name!r}"
                            f"{did_you_mean(name, known)}", field="filter.label")
    if live is None or not live.label.active_at(at or utcnow()):
        return false()  # not evaluable in this process, or outside its schedule
    clause = Product.id.in_(select(ProductLabel.product_id).where(ProductLabel.label_name == name))
    if live.label.channels is None:
        return clause
    in_channel = exists().where(Channel.id == channel_id, Channel.slug.in_(sorted(live.label.channels)))
    return and_(clause, in_channel) if channel_id is not None else false()


@dataclass(frozen=True)
class IndexStatus:
    label: str
    live_revision: int | None
    indexed_revision: int | None
    computed_at: datetime | None
    product_count: int

    @property
    def stale(self) -> bool:
        return self.live_revision != self.indexed_revision


def status(app: Flask, session: Session) -> list[IndexStatus]:
    """Per live (or still indexed) label: the revision live now and the one the index holds."""
    states = {s.label_name: s for s in session.execute(select(LabelIndexState)).scalars()}
    live = {item.name: item.revision for item in labelset.current(app).labels}
    result = []
    for name in sorted(set(states) | set(live)):
        state = states.get(name)
        result.append(IndexStatus(name, live.get(name), state.label_revision if state else None,
                                  state.computed_at if state else None, state.product_count if state else 0))
    return result
