"""Database access: one engine per app, sessions per unit of work, after-commit hooks.

SQLite (the embedded default) and PostgreSQL through psycopg 3 are both first-class. Work that
must be all-or-nothing runs in :func:`Database.transaction`; a serialization failure or a
deadlock is retried there, never surfaced as a 500.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import BigInteger, DateTime, Numeric, String, create_engine, event, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

from runtime.errors import ConfigError

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Attempts for a transaction that hits a serialization failure, deadlock or a locked SQLite file.
TRANSACTION_ATTEMPTS = 5


class ExactDecimal(TypeDecorator):
    """A ``Decimal`` stored exactly: ``NUMERIC`` on PostgreSQL, text on SQLite (whose numbers are
    binary floats, which would turn a rate like ``0.1`` into ``0.1000000000000000055…``)."""

    impl = Numeric(28, 12)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(28, 12))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return format(Decimal(value), "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value).normalize()


class MoneyAmount(TypeDecorator):
    """An amount of money (its currency is a column beside it), exact and comparable in SQL:
    ``NUMERIC(19, 4)`` on PostgreSQL, an integer of ten-thousandths on SQLite (whose numbers are
    binary floats). Every ISO 4217 currency has at most four decimals, so nothing is rounded:
    an amount with more decimals is refused, never truncated."""

    impl = Numeric(19, 4)
    cache_ok = True
    SCALE = 4

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(19, self.SCALE))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        amount = Decimal(value)
        scaled = amount.scaleb(self.SCALE)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"amount {amount} has more than {self.SCALE} decimals")
        return int(scaled) if dialect.name == "sqlite" else amount

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.SCALE)
        return Decimal(value)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both backends (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a datetime stored by Vectis must be timezone-aware")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _is_retryable(exc: BaseException) -> bool:
    """Serialization failure, deadlock, a locked SQLite file, or a unique key taken by a concurrent
    insert: running the whole unit of work again sees the other transaction's row and decides anew."""
    if isinstance(exc, OperationalError) and "database is locked" in str(exc):
        return True
    if isinstance(exc, IntegrityError) and "UNIQUE constraint failed" in str(exc):
        return True
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(exc, DBAPIError) and sqlstate in ("40001", "40P01", "23505")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5}, **kwargs)


class Database:
    def __init__(self, url: str, **engine_kwargs: Any):
        self.url = url
        self.engine = create_db_engine(url, **engine_kwargs)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def probe(self) -> None:
        """Raise :class:`ConfigError` with one line if the database does not answer."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error becomes one line
            first = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"VECTIS_DATABASE_URL: cannot connect to {self.safe_url}: {first}") from None

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any exception, then run after-commit hooks."""
        session = self.session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            session.info.pop("after_commit", None)
            for hook in session.info.pop("after_rollback", []):
                _run_quietly(hook)
            raise
        finally:
            session.close()
        session.info.pop("after_rollback", None)
        for hook in session.info.pop("after_commit", []):
            hook()

    def run(self, work: Callable[[Session], T], attempts: int = TRANSACTION_ATTEMPTS) -> T:
        """Run ``work`` in a transaction, retrying it whole on a serialization failure or deadlock."""
        for attempt in range(1, attempts + 1):
            try:
                with self.transaction() as session:
                    return work(session)
            except (OperationalError, DBAPIError) as exc:
                if attempt == attempts or not _is_retryable(exc):
                    raise
                log.info("retrying transaction after %s (attempt %d)", type(exc).__name__, attempt)
                time.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()


def lock_row(session: Session, model: type, row_id: int, *, missing_ok: bool = False):
    """Row ``row_id`` of ``model`` locked for the transaction and read fresh: ``SELECT … FOR
    UPDATE`` on PostgreSQL; on SQLite (no row locks) a no-op write that takes the file lock first.
    ``missing_ok``: None for a missing row instead of an error."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(model).where(model.id == row_id).values(id=model.id))
    found = session.execute(select(model).where(model.id == row_id).with_for_update()
                            .execution_options(populate_existing=True)).scalars()
    return found.first() if missing_ok else found.one()


def after_commit(session: Session, hook: Callable[[], None]) -> None:
    """Run ``hook`` once the session's transaction has committed (jobs, outbound calls)."""
    session.info.setdefault("after_commit", []).append(hook)


def after_rollback(session: Session, hook: Callable[[], None]) -> None:
    """Run ``hook`` if the session's transaction rolls back: undo what happened outside the
    database (void a gateway authorization). A failing hook is logged, never raised."""
    session.info.setdefault("after_rollback", []).append(hook)


def _run_quietly(hook: Callable[[], None]) -> None:
    try:
        hook()
    except Exception:  # the rollback's own exception is the one the caller must see
        log.exception("after-rollback hook failed")


def open_database(url: str) -> Database:
    try:
        return Database(url)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"VECTIS_DATABASE_URL: {exc}") from None
