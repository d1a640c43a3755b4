"""The live promotions of this process, compiled together, and which of them are stale.

The set is rebuilt when a promotion revision changes (publish or rollback: the live definitions
see it on their next poll, no restart). A promotion is *stale* when a SKU, category, brand,
channel, customer group or account it names no longer resolves, or when its live revision no
longer compiles (a pack providing a function it calls was removed); a stale promotion does not
apply, and the reason shows in ``promotions``, ``cart.promotionExplain`` and ``/metrics``
(``vectis_promotion_stale``). Staleness is checked with one statement per kind of reference,
at most every :data:`STALE_CHECK_SECONDS` per process.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from flask import Flask
from prometheus_client import Gauge
from rules.promotion_engine import PromotionSet
from sqlalchemy import select
from sqlmodel import Session

from runtime.accounts.models import Account, CustomerGroup
from runtime.catalog.models import Brand, Category, ProductVariant
from runtime.channels.models import Channel
from runtime.definitions.live import live_definitions

#: How long a process trusts its last stale check.
STALE_CHECK_SECONDS = 30.0
#: Reference kind → the column its slugs must be found in.
REFERENCE_COLUMNS = {"skus": ProductVariant.sku, "categories": Category.slug, "brands": Brand.slug,
                     "channels": Channel.slug, "customer_groups": CustomerGroup.slug, "accounts": Account.slug}
EXTENSION = "vectis.promotions"
STALE = "STALE"


@dataclass
class LivePromotions:
    promotions: PromotionSet
    #: name → live revision.
    revisions: dict[str, int]
    #: Live revisions that do not compile any more: name → why.
    broken: dict[str, str]
    key: tuple
    stale: dict[str, str] = field(default_factory=dict)
    stale_checked_at: float = float("-inf")
    _phases: frozenset[str] | None = field(default=None, repr=False)
    _catalog: PromotionSet | None = field(default=None, repr=False)

    @property
    def phases(self) -> frozenset[str]:
        """The phases some live promotion acts in."""
        if self._phases is None:
            self._phases = frozenset(p.phase for p in self.promotions.promotions)
        return self._phases

    @property
    def catalog(self) -> PromotionSet:
        """Only the catalog-phase promotions, compiled together (what product listings evaluate)."""
        if self._catalog is None:
            self._catalog = PromotionSet([p for p in self.promotions.promotions if p.phase == "catalog"])
        return self._catalog

    def message(self, name: str) -> str:
        """What a buyer sees for a promotion: its ``message``, never the internal name."""
        promotion = self.promotions.by_name(name)
        return (promotion.message if promotion is not None else None) or "Discount"

    def blocked(self) -> dict[str, tuple[str, str]]:
        return {name: (STALE, reason) for name, reason in self.stale.items()}


def live_promotions(app: Flask) -> LivePromotions:
    """The current set (rebuilt only when a promotion revision changed)."""
    definitions = live_definitions(app)
    found = definitions.all("promotion")
    broken = {name: why for (kind, name), why in definitions.failures.items() if kind == "promotion"}
    key = (tuple((d.name, d.revision) for d in found), tuple(sorted(broken)))
    state = app.extensions.setdefault(EXTENSION, {})
    current = state.get("live")
    if current is None or current.key != key:
        current = LivePromotions(PromotionSet([d.compiled for d in found]), {d.name: d.revision for d in found},
                                 broken, key)
        state["live"] = current
    return current


def check_stale(session: Session, app: Flask, live: LivePromotions, *, force: bool = False) -> dict[str, str]:
    """name → why it is stale; refreshed at most every :data:`STALE_CHECK_SECONDS`."""
    if not force and time.monotonic() - live.stale_checked_at < STALE_CHECK_SECONDS:
        return live.stale
    wanted: dict[str, set[str]] = {}
    for promotion in live.promotions.promotions:
        for kind, names in promotion.references.items():
            wanted.setdefault(kind, set()).update(names)
    missing: dict[str, set[str]] = {}
    for kind, names in wanted.items():
        if kind == "functions":
            known = {e.definition_name for e in app.extensions["vectis.registry"].entries("predicate_function")}
            missing[kind] = names - known
            continue
        column = REFERENCE_COLUMNS[kind]
        found = set(session.execute(select(column).where(column.in_(sorted(names)))).scalars())
        missing[kind] = names - found
    stale = {}
    for promotion in live.promotions.promotions:
        reasons = [f"{kind} {', '.join(sorted(names & missing.get(kind, set())))} no longer resolve"
                   for kind, names in sorted(promotion.references.items()) if names & missing.get(kind, set())]
        if reasons:
            stale[promotion.name] = "; ".join(reasons)
    stale.update({name: f"the live revision no longer compiles: {why}" for name, why in live.broken.items()})
    live.stale, live.stale_checked_at = stale, time.monotonic()
    _report(app, live)
    return stale


def stale_promotions(session: Session, app: Flask) -> dict[str, str]:
    """Live promotion name → why it is stale (the admin index and ``promotions`` show it)."""
    return check_stale(session, app, live_promotions(app))


def _report(app: Flask, live: LivePromotions) -> None:
    gauge = app.extensions.get(EXTENSION, {}).get("gauge")
    if gauge is None:
        return
    gauge.clear()
    for name in live.revisions:
        gauge.labels(name).set(1 if name in live.stale else 0)
    for name in live.broken:
        gauge.labels(name).set(1)


def init_metrics(app: Flask) -> None:
    """``vectis_promotion_stale{promotion}``: 1 when a live promotion is stale, else 0."""
    metrics = app.extensions.get("vectis.metrics")
    if metrics is not None:
        app.extensions.setdefault(EXTENSION, {})["gauge"] = Gauge(
            "vectis_promotion_stale", "1 when a live promotion is stale (a reference no longer resolves)",
            ["promotion"], registry=metrics.registry)

