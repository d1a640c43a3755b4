"""``VoidExpiringCardAuths``: the daily sweep that voids, at the gateway, card authorisations that
reached their gateway's expiry window (its ``expiry_window_days`` capability), and moves each on
the ``payment_transaction`` machine (``expire_authorization``) with a ``void`` child row.

Tenders that settle asynchronously (a pack's ``ach`` bank debit) declare the same capability on
their tender type: an authorisation of theirs still unsettled past the window is voided through
the tender type (cancelled at the bank), by the same batches and keys; one the bank settled
meanwhile refuses the void and is left for its capture.

Batches are claimed with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite's single writer
serializes), so two sweeps never take the same row. Each void reaches the gateway with a key
derived from the authorisation: a sweep killed after the gateway's answer but before its commit
leaves the row ``authorized``; the next run asks again with the same key and the gateway answers
with what it already did, so every authorisation is voided once however often the sweep runs.
The generic timer sweep leaves this machine to this job (``sweep_separately``): it would expire
the rows without telling the gateway.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from flask import Flask, current_app
from sqlmodel import Session, select

from runtime.clock import utcnow
from runtime.errors import BusinessError
from runtime.orders.models import Order
from runtime.orders.transitions import apply
from runtime.money import Money
from runtime.packs.api import ProviderError, ProviderErrorCode
from runtime.payments.capabilities import capabilities_of
from runtime.payments.gateway import SLOT, gateway_for
from runtime.payments.models import PaymentTransaction
from runtime.payments.service import TENDER_TYPE_SLOT, TenderUndo
from runtime.state_machines.service import SystemActor

log = logging.getLogger(__name__)

SWEEPER = SystemActor("system:auth-expiry")
#: Authorisations voided per transaction: row locks stay short, a kill loses at most one batch's commit.
BATCH = 200


def void_expiring_card_auths(app: Flask | None = None, now: datetime | None = None, batch: int = BATCH) -> Counter:
    """Void every expired card authorisation; returns counts by outcome (``voided``, ``failed``)."""
    app = app or current_app._get_current_object()
    now = now or utcnow()
    database = app.extensions["vectis.db"]
    counts: Counter = Counter()
    registry = app.extensions["vectis.registry"]
    for entry in registry.entries(SLOT) + _settling_tenders(registry):
        cutoff = now - capabilities_of(entry.value).expiry_window
        after = 0
        while True:
            done, after = database.run(lambda session: _batch(session, entry, cutoff, after, batch))
            counts.update(done)
            if after is None:
                break
    return counts


def _settling_tenders(registry) -> list:
    """Tender types whose money settles later (a pack's bank debit) and that declare how long an
    unsettled authorisation lasts (``expiry_window_days``): the sweep voids those too."""
    if TENDER_TYPE_SLOT not in registry.slots:
        return []
    return [entry for entry in registry.entries(TENDER_TYPE_SLOT)
            if "expiry_window_days" in (getattr(entry.value, "capabilities", None) or {})]


def _batch(session: Session, entry, cutoff: datetime, after: int, size: int) -> tuple[Counter, int | None]:
    gateway = entry.key
    rows = list(session.exec(
        select(PaymentTransaction).where(PaymentTransaction.type == "authorization", PaymentTransaction.gateway == gateway,
                                         PaymentTransaction.state == "authorized", PaymentTransaction.created_at <= cutoff,
                                         PaymentTransaction.id > after)
        .order_by(PaymentTransaction.id).limit(size).with_for_update(skip_locked=True)))
    done: Counter = Counter()
    orders = {row.order_id for row in rows if row.order_id is not None}
    channels = dict(session.exec(select(Order.id, Order.channel_id).where(Order.id.in_(orders))).all()) if orders else {}
    providers: dict = {}
    with session.no_autoflush:  # the batch's rows are written together, by a few executemany
        for row in rows:
            if entry.slot == TENDER_TYPE_SLOT:
                done[_void_tender(session, entry, row)] += 1
            else:
                done[_void(session, row, channels.get(row.order_id), providers)] += 1
    return done, (rows[-1].id if len(rows) == size else None)


def _void(session: Session, row: PaymentTransaction, channel_id: int | None, providers: dict) -> str:
    key = f"{row.idempotency_key}:expiry-void"
    try:
        if (channel_id, row.gateway) not in providers:
            providers[(channel_id, row.gateway)] = gateway_for(session, channel_id, row.gateway)
        provider = providers[(channel_id, row.gateway)]
        result = provider.value.void(row.gateway_reference, key, provider.config)
    except (ProviderError, BusinessError) as exc:  # left authorized: the next run tries again
        log.warning("expiry void of payment %s failed: %s", row.id, exc.message)
        return "failed"
    _record(session, row, result.transaction_id, key)
    return "voided"


def _void_tender(session: Session, entry, row: PaymentTransaction) -> str:
    """An unsettled tender (a bank debit) past its window, voided through its tender type; one
    that settled meanwhile cannot be voided and is left for its capture (``settled``)."""
    key = f"{row.idempotency_key}:expiry-void"
    order = session.get(Order, row.order_id)
    try:
        reference = entry.value.undo(session, order, row, TenderUndo("void", Money(row.amount - row.captured_amount,
                                                                                 row.currency), key))
    except ProviderError as exc:
        if exc.code == ProviderErrorCode.PAYMENT_STATE_INVALID.value:
            return "settled"
        log.warning("expiry void of payment %s failed: %s", row.id, exc.message)
        return "failed"
    except BusinessError as exc:
        log.warning("expiry void of payment %s failed: %s", row.id, exc.message)
        return "failed"
    _record(session, row, reference, key)
    return "voided"


def _record(session: Session, row: PaymentTransaction, reference: str | None, key: str) -> None:
    apply(session, row, "expire_authorization", SWEEPER)
    session.add(PaymentTransaction(order_id=row.order_id, parent_id=row.id, type="void", state="succeeded",
                                   gateway=row.gateway, gateway_reference=reference, idempotency_key=key,
                                   amount=row.amount - row.captured_amount, currency=row.currency, actor=SWEEPER.label,
                                   message="the authorisation reached its gateway's expiry window"))
