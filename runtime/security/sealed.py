"""Where sealed secrets live, the start-up check that they open, and their rotation.

Sealed values sit in JSON columns (today: ``channel_provider.config``). A rotation re-seals them
under the primary key in batches, each batch its own transaction, skipping values already under
it: a run killed at any point leaves every value sealed under either key, and the next run
finishes the rest.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import String, cast
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from runtime.channels.models import ChannelProvider
from runtime.webhooks.incoming_models import IncomingWebhookSecret
from runtime.webhooks.models import WebhookSubscription
from runtime.db import Database
from runtime.errors import ConfigError
from runtime.security.secrets import PRIMARY_ENV, ROTATING_ENV, SEALED, SecretBox, SecretUnreadable, is_sealed

#: JSON columns that may hold sealed values: (model, column name, label in messages).
SEALED_COLUMNS = [(ChannelProvider, "config", "channel_provider"),
                  (WebhookSubscription, "secrets", "webhook_subscription"),
                  (IncomingWebhookSecret, "secret", "incoming_webhook_secret")]


@dataclass
class RotationReport:
    resealed: int = 0
    current: int = 0
    batches: int = 0


def _rows(session: Session, model, column: str, after: int, limit: int, lock: bool = False):
    query = (select(model).where(model.id > after, cast(getattr(model, column), String).like(f'%"{SEALED}"%'))
             .order_by(model.id).limit(limit))
    return session.exec(query.with_for_update() if lock else query).all()


def _sealed_values(session: Session, batch: int = 500) -> Iterator[tuple[str, dict]]:
    for model, column, label in SEALED_COLUMNS:
        after = 0
        while rows := _rows(session, model, column, after, batch):
            for row in rows:
                for name, value in getattr(row, column).items():
                    if is_sealed(value):
                        yield f"{label} {row.id} {column}.{name}", value
            after = rows[-1].id


def unreadable(database: Database, box: SecretBox) -> list[str]:
    """Where each stored secret that no configured key opens is (never its value)."""
    found = []
    with database.session() as session:
        for where, value in _sealed_values(session):
            try:
                box.open(value, where)
            except SecretUnreadable:
                found.append(where)
    return found


def check_on_start(database: Database, box: SecretBox) -> None:
    """One line at start-up when the key cannot open the stored secrets (the first one found is
    tried, so start-up stays one query). A database without the tables yet is left to migrate."""
    try:
        with database.session() as session:
            first = next(_sealed_values(session, batch=1), None)
    except DBAPIError:
        return
    if first is not None:
        box.open(first[1], first[0])


def rotate(database: Database, box: SecretBox, *, batch_size: int = 100, pause: float = 0.0,
           progress: Callable[[RotationReport], None] | None = None) -> RotationReport:
    """Re-seal every stored secret under the primary key. Refuses, changing nothing, when any
    cannot be opened (the old key missing from ``VECTIS_SECRETS_MASTER_KEY_ROTATING_FROM``)."""
    if batch_size <= 0:
        raise ConfigError(f"--batch-size: expected a positive number of rows, got {batch_size}")
    missing = unreadable(database, box)
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise ConfigError(f"{len(missing)} stored secret(s) cannot be opened with {PRIMARY_ENV} or {ROTATING_ENV}"
                          f" ({shown}): put the old key in {ROTATING_ENV}; nothing was changed")
    report = RotationReport()
    for model, column, label in SEALED_COLUMNS:
        after = 0
        while True:
            def batch(session: Session) -> int | None:
                rows = _rows(session, model, column, after, batch_size, lock=True)
                for row in rows:
                    values = dict(getattr(row, column))
                    for name, value in values.items():
                        if not is_sealed(value):
                            continue
                        if box.is_current(value):
                            report.current += 1
                        else:
                            values[name] = box.reseal(value, f"{label} {row.id} {column}.{name}")
                            report.resealed += 1
                    setattr(row, column, values)  # a new dict: the JSON column sees the change
                    session.add(row)
                return rows[-1].id if rows else None

            last = database.run(batch)
            if last is None:
                break
            after = last
            report.batches += 1
            if progress is not None:
                progress(report)
            if pause:
                time.sleep(pause)
    return report
