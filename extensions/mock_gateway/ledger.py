"""The sandbox's processor-side record kept in a SQLite file (``state_file`` in the configuration),
so that it outlives a process and is shared by every process naming the same file: what a real
processor keeps on its side. Without it the record lives in the gateway instance's memory.

Each gateway call runs as one ``BEGIN IMMEDIATE`` transaction on the file: the record is read,
the call applied, the record written, committed. A caller killed mid-call (SIGKILL) leaves the
call either wholly recorded (its idempotency key answered, the money moved) or not at all, as at
a processor. The record is one JSON document; the sandbox holds at most a few thousand
authorizations, so reading it whole per call is cheap enough and keeps the format obvious.
"""
from __future__ import annotations

import itertools
import json
import secrets
import sqlite3
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Iterator

from runtime.packs.api import Money, PaymentResult

from .cards import Card

#: Seconds a call waits for another process's call on the same file.
BUSY_TIMEOUT = 30


@contextmanager
def recorded(path: str, gateway: Any) -> Iterator[None]:
    """Load the file's record into ``gateway`` (its authorizations, operations, keys, id counter
    and fingerprint secret), run the block, write the record back and commit; roll back on error."""
    connection = _open(path)
    try:
        connection.execute("BEGIN IMMEDIATE")
        row = connection.execute("SELECT body FROM record WHERE id = 1").fetchone()
        _load(gateway, json.loads(row[0]) if row else None)
        try:
            yield
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        body = json.dumps(_dump(gateway), separators=(",", ":"))
        connection.execute("INSERT INTO record (id, body) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                           (body,))
        connection.execute("COMMIT")
    finally:
        connection.close()


#: path → its secret: a file's secret never changes, so each process reads it once.
_SECRETS: dict[str, bytes] = {}


def secret_of(path: str) -> bytes:
    """The file's fingerprint secret (made with the file), so every process fingerprints alike."""
    if path in _SECRETS:
        return _SECRETS[path]
    connection = _open(path)
    try:
        connection.execute("BEGIN IMMEDIATE")
        row = connection.execute("SELECT body FROM record WHERE id = 1").fetchone()
        if row is None:
            body = _empty()
            connection.execute("INSERT INTO record (id, body) VALUES (1, ?)", (json.dumps(body),))
        else:
            body = json.loads(row[0])
        connection.execute("COMMIT")
    finally:
        connection.close()
    _SECRETS[path] = bytes.fromhex(body["secret"])
    return _SECRETS[path]


def _open(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS record (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL)")
    return connection


def _empty() -> dict[str, Any]:
    return {"authorizations": {}, "operations": {}, "keys": [], "next_id": 1, "secret": secrets.token_hex(32)}


def _money(data: dict[str, str]) -> Money:
    return Money(Decimal(data["amount"]), data["currency"])


def _plain(money: Money) -> dict[str, str]:
    return {"amount": str(money.amount), "currency": money.currency}


def _load(gateway: Any, body: dict[str, Any] | None) -> None:
    from .gateway import _Authorization  # the gateway imports this module

    body = body or _empty()
    gateway._authorizations = {
        auth_id: _Authorization(auth_id, a["merchant_id"], _money(a["amount"]),
                                Card(**{k: (Decimal(v) if k == "limit" else v) for k, v in a["card"].items()}),
                                a["status"], _money(a["captured"]), _money(a["refunded"]))
        for auth_id, a in body["authorizations"].items()}
    gateway._operations = dict(body["operations"])
    gateway._keys = {(merchant, key): (fingerprint, PaymentResult(
        status=r["status"], transaction_id=r["transaction_id"], amount=_money(r["amount"]), error_code=r["error_code"],
        message=r["message"], raw=r["raw"])) for merchant, key, fingerprint, r in body["keys"]}
    gateway._ids = itertools.count(body["next_id"])
    gateway._secret = bytes.fromhex(body["secret"])


def _dump(gateway: Any) -> dict[str, Any]:
    def card(value) -> dict[str, Any]:
        fields = {"brand": value.brand, "last4": value.last4}
        if getattr(value, "limit", None) is not None:
            fields["limit"] = str(value.limit)
        return fields

    return {
        "authorizations": {a.id: {"merchant_id": a.merchant_id, "amount": _plain(a.amount), "card": card(a.card),
                                  "status": a.status, "captured": _plain(a.captured), "refunded": _plain(a.refunded)}
                           for a in gateway._authorizations.values()},
        "operations": gateway._operations,
        "keys": [[merchant, key, fingerprint, {"status": r.status, "transaction_id": r.transaction_id,
                                               "amount": _plain(r.amount), "error_code": r.error_code,
                                               "message": r.message, "raw": r.raw}]
                 for (merchant, key), (fingerprint, r) in gateway._keys.items()],
        "next_id": next(gateway._ids),
        "secret": gateway._secret.hex(),
    }
