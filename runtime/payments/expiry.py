"""``VoidExpiringCardAuths``: the daily sweep that voids, at the gateway, card authorisations that
reached their gateway's expiry window (its ``expiry_window_days`` capability), and moves each on
the ``payment_transaction`` machine (``expire_authorization``) with a ``void`` child row.

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
from runtime.packs.api import ProviderError
from runtime.payments.capabilities import capabilities_of
from runtime.payments.gateway import SLOT, gateway_for
from runtime.payments.models import PaymentTransaction
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
    for entry in app.extensions["vectis.registry"].entries(SLOT):
        cutoff = now - capabilities_of(entry.value).expiry_window
        after = 0
        while True:
            done, after = database.run(lambda session: _batch(session, entry.key, cutoff, after, batch))
            counts.update(done)
            if after is None:
                break
    return counts


def _batch(session: Session, gateway: str, cutoff: datetime, after: int, size: int) -> tuple[Counter, int | None]:
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
    apply(session, row, "expire_authorization", SWEEPER)
    session.add(PaymentTransaction(order_id=row.order_id, parent_id=row.id, type="void", state="succeeded",
                                   gateway=row.gateway, gateway_reference=result.transaction_id, idempotency_key=key,
                                   amount=row.amount - row.captured_amount, currency=row.currency, actor=SWEEPER.label,
                                   message="the authorisation reached its gateway's expiry window"))
    return "voided"
