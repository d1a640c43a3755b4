"""The stored-value ledger behind store credit and gift cards: accounts and their entries.

The balance is never stored: it is derived from the entries (credits − debits − holds +
releases). Every movement first locks the account row (``SELECT … FOR UPDATE`` on PostgreSQL;
SQLite's single writer serializes, and a stale read fails the write and retries the transaction),
so concurrent holds never take a balance below what the overdraft policy allows. Every entry has
a unique idempotency key: a retried movement finds its entry instead of writing a second one.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import case, func
from sqlmodel import Session, select

from runtime.db import lock_row
from runtime.money import Money
from runtime.tenders import overdraft
from runtime.tenders.models import StoredValueAccount, StoredValueEntry

CREDIT, DEBIT, HOLD, RELEASE = "credit", "debit", "hold", "release"
KINDS = (CREDIT, DEBIT, HOLD, RELEASE)


class InsufficientBalance(Exception):
    """A hold or debit above what the account has (plus its overdraft)."""

    def __init__(self, available: Decimal):
        super().__init__(f"available {available}")
        self.available = available


def owner_key(customer_id: int | None = None, account_id: int | None = None) -> str | None:
    """``account:<id>`` (a B2B account's credit) or ``customer:<id>``; None when neither."""
    if account_id is not None:
        return f"account:{account_id}"
    return f"customer:{customer_id}" if customer_id is not None else None


def find(session: Session, kind: str, owner: str, currency: str, *, lock: bool = False) -> StoredValueAccount | None:
    """The owner's account of ``kind`` in ``currency`` (``lock``: locked for this transaction)."""
    statement = select(StoredValueAccount).where(StoredValueAccount.kind == kind, StoredValueAccount.owner == owner,
                                                 StoredValueAccount.currency == currency)
    if lock and session.get_bind().dialect.name != "sqlite":
        return session.exec(statement.with_for_update()).first()
    account = session.exec(statement).first()
    return lock_row(session, StoredValueAccount, account.id) if lock and account is not None else account


def find_by_hash(session: Session, lookup_hash: str) -> StoredValueAccount | None:
    return session.exec(select(StoredValueAccount).where(StoredValueAccount.lookup_hash == lookup_hash)).first()


def open_account(session: Session, kind: str, currency: str, *, owner: str | None = None, lookup_hash: str | None = None,
                 hint: str = "", expires_at: datetime | None = None, attributes: dict | None = None,
                 overdraft_limit: Decimal = Decimal(0)) -> StoredValueAccount:
    account = StoredValueAccount(kind=kind, owner=owner, currency=currency, lookup_hash=lookup_hash, hint=hint,
                                 expires_at=expires_at, attributes=dict(attributes or {}),
                                 overdraft_limit=overdraft_limit)
    session.add(account)
    session.flush()
    return account


def lock(session: Session, account_id: int) -> StoredValueAccount:
    """The account row, locked for this transaction: ``FOR UPDATE`` on PostgreSQL; on SQLite a
    no-op UPDATE first, which takes the database's write lock (its driver starts a transaction only
    at the first write, so a read before it could see a balance another writer is changing)."""
    return lock_row(session, StoredValueAccount, account_id)


def balances(session: Session, account_ids: list[int]) -> dict[int, Decimal]:
    """``account id → available balance`` in one query (an account without entries has 0)."""
    if not account_ids:
        return {}
    signed = case((StoredValueEntry.kind.in_((CREDIT, RELEASE)), StoredValueEntry.amount), else_=-StoredValueEntry.amount)
    rows = session.exec(select(StoredValueEntry.account_id, func.coalesce(func.sum(signed), 0))
                        .where(StoredValueEntry.account_id.in_(account_ids)).group_by(StoredValueEntry.account_id))
    found = {account_id: Decimal(0) for account_id in account_ids}
    found.update({account_id: Decimal(str(total)) for account_id, total in rows})
    return found


def balance(session: Session, account_id: int) -> Decimal:
    return balances(session, [account_id])[account_id]


def _existing(session: Session, key: str) -> StoredValueEntry | None:
    return session.exec(select(StoredValueEntry).where(StoredValueEntry.idempotency_key == key)).first()


def _write(session: Session, account: StoredValueAccount, kind: str, amount: Decimal, key: str, *, note: str = "",
           actor: str = "system", order_id: int | None = None, hold_id: int | None = None) -> StoredValueEntry:
    entry = StoredValueEntry(account_id=account.id, kind=kind, amount=Money(amount, account.currency).amount,
                             idempotency_key=key, note=note[:300], actor=actor[:254], order_id=order_id, hold_id=hold_id)
    session.add(entry)
    session.flush()
    return entry


def credit(session: Session, account: StoredValueAccount, amount: Decimal, key: str, **kwargs) -> StoredValueEntry:
    """Add ``amount`` (issuing store credit, loading a gift card, a refund back to it)."""
    found = _existing(session, key)
    if found is not None:
        return found
    locked_account = lock(session, account.id)
    entry = _write(session, locked_account, CREDIT, amount, key, **kwargs)
    _redeem_drafts(session, locked_account)
    return entry


def hold(session: Session, account: StoredValueAccount, amount: Decimal, key: str, *, spend: bool = False,
         locked: bool = False, check_existing: bool = True, balance_now: Decimal | None = None,
         **kwargs) -> StoredValueEntry:
    """Reserve ``amount`` (``spend``: take it at once, a ``debit``) under the account's row lock;
    InsufficientBalance when the balance plus the overdraft limit is below it. ``locked``: the
    caller already holds the lock; ``check_existing=False``: the caller knows the key is new (a
    checkout's own entries), saving the lookup; ``balance_now``: the balance the caller read under
    the lock it still holds."""
    if check_existing:
        found = _existing(session, key)
        if found is not None:
            return found
    locked_account = account if locked else lock(session, account.id)
    current = balance(session, locked_account.id) if balance_now is None else balance_now
    available = current + locked_account.overdraft_limit
    if amount > available:
        raise InsufficientBalance(max(available, Decimal(0)))
    entry = _write(session, locked_account, DEBIT if spend else HOLD, amount, key, **kwargs)
    if current - amount < 0:  # within the overdraft policy: the owner owes the part below zero
        overdraft.open_draft(session, locked_account, entry, current - amount)
    return entry


def release(session: Session, held: StoredValueEntry, key: str, **kwargs) -> StoredValueEntry:
    """Give a hold back in full (a void, a cancelled order)."""
    found = _existing(session, key)
    if found is not None:
        return found
    locked_account = lock(session, held.account_id)
    entry = _write(session, locked_account, RELEASE, held.amount, key, hold_id=held.id, **kwargs)
    _redeem_drafts(session, locked_account)
    return entry


def _redeem_drafts(session: Session, account: StoredValueAccount) -> None:
    """Money came back: open overdraft drafts the balance covers again are redeemed. Only an account
    with an overdraft policy can have open drafts, so others pay no extra query."""
    if account.overdraft_limit > 0:
        overdraft.redeem(session, account, balance(session, account.id))


def link_order(session: Session, entries: list[StoredValueEntry], order_id: int) -> None:
    for entry in entries:
        entry.order_id = order_id
        session.add(entry)


def code_digest(code: str) -> str:
    """The keyed digest (with the app's secret key) a bearer code is found by; spaces, dashes and
    case do not matter. A code is never stored or logged in clear."""
    normalized = "".join(ch for ch in code.upper() if ch.isalnum())
    secret = str(current_app.config["VECTIS"].secret_key).encode()
    return hmac.new(secret, f"stored-value:{normalized}".encode(), hashlib.sha256).hexdigest()


def undo_hold(session: Session, hold_id: int, kind: str, amount: Decimal, key: str, *, order_id: int | None = None,
              actor: str = "system") -> StoredValueEntry:
    """Give a leg back: ``void`` releases its hold, ``refund`` credits back what it debited
    (``hold_id`` names the leg's entry: its hold, or its debit when it was spent at once)."""
    held = session.get(StoredValueEntry, hold_id)
    if kind == "void":
        return release(session, held, key, order_id=order_id, actor=actor)
    account = session.get(StoredValueAccount, held.account_id)
    return credit(session, account, amount, key, order_id=order_id, actor=actor, note="refund")


class Locked:
    """An account locked for a checkout and its balance, kept current as the checkout spends."""

    def __init__(self, account: StoredValueAccount | None, balance_now: Decimal):
        self.account, self.balance = account, balance_now

    @property
    def available(self) -> Decimal:
        if self.account is None or not self.account.is_active:
            return Decimal(0)
        return max(self.balance + self.account.overdraft_limit, Decimal(0))

    def hold(self, session: Session, amount: Decimal, key: str, **kwargs) -> StoredValueEntry:
        entry = hold(session, self.account, amount, key, locked=True, check_existing=False, balance_now=self.balance,
                     **kwargs)
        self.balance -= amount
        return entry


def locked_for(session: Session, memo: dict, memo_key, account_id: int | None = None, *, kind: str | None = None,
               owner: str | None = None, currency: str | None = None) -> Locked:
    """The checkout's :class:`Locked` view of an account (by id, or by kind, owner and currency),
    locked and read once per checkout."""
    if memo_key not in memo:
        if account_id is not None:
            account = lock(session, account_id)
        else:
            account = find(session, kind, owner, currency, lock=True) if owner else None
        memo[memo_key] = Locked(account, balance(session, account.id) if account is not None else Decimal(0))
    return memo[memo_key]


def capture_hold(session: Session, hold_id: int, amount: Decimal, key: str, *, order_id: int | None = None,
                 actor: str = "system") -> tuple[StoredValueEntry, StoredValueEntry | None]:
    """Spend ``amount`` of a hold (a staff capture): the hold is released and ``amount`` debited,
    under the account's lock; what the capture leaves is held again. Returns the debit and the new
    hold (None when all was captured). A retry with the same ``key`` finds what the first wrote."""
    debit = _existing(session, f"{key}:debit")
    if debit is not None:
        return debit, _existing(session, f"{key}:rehold")
    held = session.get(StoredValueEntry, hold_id)
    account = lock(session, held.account_id)
    release(session, held, f"{key}:release", order_id=order_id, actor=actor)
    debit = hold(session, account, amount, f"{key}:debit", spend=True, locked=True, check_existing=False,
                 order_id=order_id, actor=actor, note="capture")
    rest = Money(held.amount - amount, account.currency).amount
    again = hold(session, account, rest, f"{key}:rehold", locked=True, check_existing=False, order_id=order_id,
                 actor=actor, note="left after a partial capture") if rest > 0 else None
    return debit, again


def rehold(session: Session, hold_id: int, amount: Decimal, key: str, *, order_id: int | None = None,
           actor: str = "system") -> StoredValueEntry:
    """Hold ``amount`` instead of a hold's amount (an order modified): the old hold released and a
    new one taken under the account's lock; InsufficientBalance leaves both as they were."""
    found = _existing(session, f"{key}:hold")
    if found is not None:
        return found
    held = session.get(StoredValueEntry, hold_id)
    account = lock(session, held.account_id)
    if amount > balance(session, account.id) + held.amount + account.overdraft_limit:
        raise InsufficientBalance(max(balance(session, account.id) + held.amount + account.overdraft_limit, Decimal(0)))
    release(session, held, f"{key}:release", order_id=order_id, actor=actor)
    return hold(session, account, amount, f"{key}:hold", locked=True, check_existing=False, order_id=order_id,
                actor=actor, note="order modified")
