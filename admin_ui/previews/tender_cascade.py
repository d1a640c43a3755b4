"""``tender_cascade``: a sample payer and order total (and tenders the buyer puts in front) → the
split under the live cascades and under the live cascades with this draft in place of its live
revision, side by side: which cascade the payer selects (each candidate by priority, then name,
with its predicate explained), each step with its cap and what its tender covers, and the legs.

Selection and the split are what checkout's :func:`runtime.tenders.plan.plan` does, through the
same pure composer (:func:`rules.tender_cascade.compose`). What a tender covers is read without
locks or holds: the payer's store credit balance (plus its overdraft) and the account's open
net-terms credit; a card covers anything; any other type (a pack's gift card) covers what the
form gives it, else nothing. No tender type is called: a preview authorises and holds nothing.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from rules.tender_cascade import CompositionError, TenderCascade, compose
from sqlmodel import Session

from admin_ui.previews import cascade_sample
from runtime.definitions.live import live_definitions
from runtime.money import Money, minor_units
from runtime.tenders.plan import DEFAULT_STEPS, KIND

#: How the draft's revision is shown where a cascade is named.
DRAFT = "draft"


def cascade_sets(app, draft: TenderCascade) -> dict[str, list[tuple[TenderCascade, str]]]:
    """``live`` and ``draft``, each in selection order (priority, then name) with its revision."""
    live = [(d.compiled, str(d.revision)) for d in live_definitions(app).all(KIND)]
    drafted = [pair for pair in live if pair[0].name != draft.name] + [(draft, DRAFT)]
    return {side: sorted(pairs, key=lambda pair: (-pair[0].priority, pair[0].name))
            for side, pairs in (("live", live), ("draft", drafted))}


def preview(app, session: Session, draft: TenderCascade, live: TenderCascade | None, form) -> dict[str, Any]:
    shown: dict[str, Any] = {"name": draft.name, "has_live": live is not None, "sample": None, "money": money}
    if form.get("cascade_total", "").strip():
        shown["sample"] = split_sample(app, session, draft, form)
    return shown


def split_sample(app, session: Session, draft: TenderCascade, form) -> dict[str, Any]:
    sets = cascade_sets(app, draft)
    wanted = {step.tender for pairs in sets.values() for cascade, _r in pairs for step in cascade.steps}
    given = cascade_sample.read(app, session, form, wanted | {step.tender for step in DEFAULT_STEPS})
    if isinstance(given, list):
        return {"problems": given}
    return {"currency": given.currency, "total": given.total, "payer": given.payer,
            "prepended": [{"tender": t, "amount": a} for t, a in given.prepended],
            "covers": given.covers, "live": _side(sets["live"], given), "draft": _side(sets["draft"], given)}


def _side(cascades: list[tuple[TenderCascade, str]], given: cascade_sample.Sample) -> dict[str, Any]:
    candidates, chosen = [], None
    for cascade, revision in cascades:
        selects = chosen is None and cascade.selects(given.payer)
        candidates.append({"name": cascade.name, "revision": revision, "priority": cascade.priority,
                           "selected": selects, "considered": chosen is None,
                           "explain": str(cascade.predicate.explain(given.payer)) if cascade.predicate else None})
        if selects:
            chosen = (cascade, revision)
    steps = chosen[0].steps if chosen else DEFAULT_STEPS
    exponent = Decimal(1).scaleb(-minor_units(given.currency))
    available = {name: cover["amount"] for name, cover in given.covers.items()}
    result: dict[str, Any] = {"cascade": {"name": chosen[0].name, "revision": chosen[1]} if chosen else None,
                              "candidates": candidates, "legs": [], "refusal": None,
                              "steps": [{"tender": s.tender, "max_amount": s.max_amount, "max_percent": s.max_percent,
                                         "cap": s.cap(given.total, exponent), "covers": given.covers[s.tender]}
                                        for s in steps]}
    try:
        legs = compose(given.total, steps, available, prepended=given.prepended, decimals=minor_units(given.currency))
    except CompositionError as exc:
        result["refusal"] = {"code": exc.code, "message": exc.message}
        return result
    result["legs"] = [{"position": i, "tender": leg.tender, "amount": leg.amount, "source": leg.source}
                      for i, leg in enumerate(legs)]
    took: dict[str, Decimal] = {}
    for leg in legs:
        if leg.prepended_index is None:
            took[leg.tender] = took.get(leg.tender, Decimal(0)) + leg.amount
    for step in result["steps"]:
        step["took"] = took.get(step["tender"], Decimal(0))
    return result


def money(amount: Decimal, currency: str) -> str:
    return format(Money(amount, currency).amount, "f")
