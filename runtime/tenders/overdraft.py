"""Store-credit overdraft drafts: what a spend below zero owes, and how long the owner has to settle it.

A store-credit account's overdraft policy is its ``overdraft_limit`` (how far below zero a spend
may go) and ``attributes["overdraft_settle_days"]`` (how long the owner has to bring the balance
back, :data:`DEFAULT_SETTLE_DAYS` when unset), both set by staff with ``setStoreCreditOverdraft``.
A hold or debit that leaves the balance below zero opens an :class:`OverdraftDraft` for the part
below zero, due ``settle days`` later. Credits (issued store credit, a refund) and releases (a
cancelled order) redeem open drafts, oldest first, as far as the balance is back. The periodic
``GcExpiredOverdraftDrafts`` reaps the drafts nobody redeemed in time: each becomes ``expired``
and its account's overdraft is withdrawn (limit 0, the old limit kept in
``attributes["overdraft_withdrawn"]``), so an owner who does not settle cannot overdraw again.

The ledger calls :func:`open_draft` and :func:`redeem` under the account's row lock, with the
balance it just computed; nothing here reads the ledger.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask import Flask, current_app
from sqlmodel import Session, select

from runtime.clock import utcnow
from runtime.tenders.models import OverdraftDraft, StoredValueAccount, StoredValueEntry

#: Days an owner has to settle an overdraft when the account's policy names none.
DEFAULT_SETTLE_DAYS = 14
#: Expired drafts one GC transaction reaps.
BATCH = 500
OPEN, REDEEMED, EXPIRED = "open", "redeemed", "expired"


def settle_days(account: StoredValueAccount) -> int:
    return int((account.attributes or {}).get("overdraft_settle_days", DEFAULT_SETTLE_DAYS))


def open_draft(session: Session, account: StoredValueAccount, entry: StoredValueEntry,
               balance_after: Decimal) -> OverdraftDraft | None:
    """After ``entry`` (a hold or debit) left the balance at ``balance_after``: a draft for the part below zero."""
    if balance_after >= 0:
        return None
    draft = OverdraftDraft(account_id=account.id, entry_id=entry.id, amount=min(entry.amount, -balance_after),
                           currency=account.currency, expires_at=utcnow() + timedelta(days=settle_days(account)))
    session.add(draft)
    return draft


def redeem(session: Session, account: StoredValueAccount, balance_now: Decimal) -> list[OverdraftDraft]:
    """After a credit or release: the open drafts the balance covers again (oldest first) become ``redeemed``."""
    drafts = list(session.exec(select(OverdraftDraft).where(OverdraftDraft.account_id == account.id,
                                                            OverdraftDraft.state == OPEN)
                               .order_by(OverdraftDraft.id.desc())))
    owed, still_owed, redeemed = max(-balance_now, Decimal(0)), Decimal(0), []
    for draft in drafts:  # newest first: the newest debts stay open while the balance is still short
        if still_owed < owed:
            still_owed += draft.amount
            continue
        draft.state, draft.resolved_at = REDEEMED, utcnow()
        session.add(draft)
        redeemed.append(draft)
    return redeemed


def open_drafts(session: Session, account_id: int) -> list[OverdraftDraft]:
    return list(session.exec(select(OverdraftDraft).where(OverdraftDraft.account_id == account_id,
                                                          OverdraftDraft.state == OPEN).order_by(OverdraftDraft.id)))


def gc_expired_overdraft_drafts(app: Flask | None = None) -> int:
    """The periodic job: reap open drafts past their date, in batches claimed ``FOR UPDATE SKIP
    LOCKED`` (a second run, or one beside it, finds none of them); returns how many it reaped."""
    app = app or current_app._get_current_object()
    database, reaped = app.extensions["vectis.db"], 0
    while True:
        done = database.run(_reap_batch)
        reaped += done
        if done < BATCH:
            return reaped


def _reap_batch(session: Session) -> int:
    now = utcnow()
    drafts = list(session.exec(select(OverdraftDraft).where(OverdraftDraft.state == OPEN,
                                                            OverdraftDraft.expires_at <= now)
                               .order_by(OverdraftDraft.id).limit(BATCH).with_for_update(skip_locked=True)))
    for account_id in sorted({draft.account_id for draft in drafts}):  # one lock order: no deadlock between runs
        account = session.exec(select(StoredValueAccount).where(StoredValueAccount.id == account_id)
                               .with_for_update()).one()
        if account.overdraft_limit > 0:
            first = min(d.id for d in drafts if d.account_id == account_id)
            account.attributes = {**(account.attributes or {}), "overdraft_withdrawn": {
                "limit": format(account.overdraft_limit, "f"), "at": now.isoformat(), "draft_id": first}}
            account.overdraft_limit = Decimal(0)
            session.add(account)
    for draft in drafts:
        draft.state, draft.resolved_at = EXPIRED, now
        session.add(draft)
    return len(drafts)
