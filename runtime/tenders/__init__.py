"""Tenders: an order paid by several tenders at once (card, store credit, net terms, a pack's gift
card), composed by the live ``tender_cascade`` definitions. See ``docs/payments.md``.

:func:`init_app` registers the core tender types in the ``tender_type`` slot (declared with the
core slots, so packs can fill it), the ``tenders`` (700) and ``payment`` (900) checkout stages and
the ``core.undo_tenders`` effect of an order's cancel and the ``ReconcilePaymentIntents`` and
``SettleCancelledTenders`` periodic jobs, and ``GcExpiredOverdraftDrafts``.
"""
from __future__ import annotations

from flask import Flask, current_app

#: How often stale payment intents are reconciled.
RECONCILE_INTERVAL_SECONDS = 300
#: How often overdraft drafts past their date are reaped.
GC_OVERDRAFT_INTERVAL_SECONDS = 3600


def init_app(app: Flask) -> None:
    from runtime.checkout.pipeline import Stage, register_stage
    from runtime.jobs import register_periodic_job
    from runtime.state_machines import Effect
    from runtime.state_machines.effects import EFFECT_ACTION
    from runtime.tenders.card import CardTender
    from runtime.tenders.lifecycle import settle_cancelled_tenders, undo_tenders_effect
    from runtime.tenders.checkout import AUTHORIZE_POSITION, RECORD_POSITION, authorize_tenders, record_tenders
    from runtime.tenders.overdraft import gc_expired_overdraft_drafts
    from runtime.tenders.store_credit import StoreCreditTender
    from runtime.tenders.terms import NetTermsTender
    from runtime.tenders.types import TENDER_TYPE, declare_slot

    registry = app.extensions["vectis.registry"]
    declare_slot(registry)
    registry.register("core", TENDER_TYPE, "card", CardTender(), label="Card: a gateway token or a saved card")
    registry.register("core", TENDER_TYPE, "store_credit", StoreCreditTender(), label="Store credit of the account or customer")
    registry.register("core", TENDER_TYPE, "net_terms", NetTermsTender(), label="Net terms: the account's open credit")
    register_stage(app, Stage("tenders", AUTHORIZE_POSITION, authorize_tenders,
                              "Compose the tender split and authorise every leg, before stock rows are locked."))
    register_stage(app, Stage("payment", RECORD_POSITION, record_tenders,
                              "Record each tender and its authorisation against the order; pay the order."))
    register_periodic_job(registry, "ReconcilePaymentIntents", reconcile_payment_intents,
                          interval=RECONCILE_INTERVAL_SECONDS,
                          description="Void gateway authorisations whose checkout died before its commit")
    registry.register("core", EFFECT_ACTION, "undo_tenders", Effect(undo_tenders_effect),
                      label="After an order's cancel: void each authorised tender, refund each captured one")
    register_periodic_job(registry, "SettleCancelledTenders", settle_cancelled_tenders,
                          interval=RECONCILE_INTERVAL_SECONDS,
                          description="Undo again the tenders of cancelled orders a failed run left open")
    register_periodic_job(registry, "GcExpiredOverdraftDrafts", gc_expired_overdraft_drafts,
                          interval=GC_OVERDRAFT_INTERVAL_SECONDS,
                          description="Expire store-credit overdraft drafts nobody settled in time; withdraw the overdraft")


def reconcile_payment_intents() -> None:
    from runtime.tenders.intents import reconcile

    reconcile(current_app._get_current_object())
