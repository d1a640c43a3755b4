"""The live definitions of this process: compiled from the database, rebuilt when a revision changes.

Each process polls one cheap query (the highest revision row id) at most every
``definitions_poll_seconds``, at the start of a request (never inside its transaction) or when a
job or script asks; publishing and rolling back both insert a row, so any change is seen on the
next poll without a restart. Compiled definitions are reused by checksum.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app, has_request_context
from rules.pipeline import Definition, check_source
from sqlalchemy import func
from sqlmodel import select

from runtime.definitions import store
from runtime.definitions.environment import build_environment
from runtime.definitions.models import DefinitionRevision

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveDefinition:
    kind: str
    name: str
    revision: int
    author: str
    published_at: datetime
    definition: Definition

    @property
    def compiled(self):
        return self.definition.compiled


class LiveDefinitions:
    def __init__(self, app: Flask):
        self._app = app
        self._lock = threading.Lock()
        self._by_key: dict[tuple[str, str], LiveDefinition] = {}
        self._stamp: int | None = -1
        self._checked_at = float("-inf")
        #: Live revisions this process could not compile (e.g. a pack they use was removed).
        self.failures: dict[tuple[str, str], str] = {}

    def refresh(self, force: bool = False) -> bool:
        """Rebuild from the database if a revision changed; returns True when it rebuilt."""
        settings = self._app.config["VECTIS"]
        if not force and time.monotonic() - self._checked_at < settings.definitions_poll_seconds:
            return False
        database = self._app.extensions["vectis.db"]
        with self._lock, database.session() as session:
            self._checked_at = time.monotonic()
            stamp = session.exec(select(func.max(DefinitionRevision.id))).one()
            if stamp == self._stamp and not force:
                return False
            rows = store.all_live(session)
            self._rebuild(rows)
            self._stamp = stamp
            return True

    def _rebuild(self, rows: list[DefinitionRevision]) -> None:
        env = build_environment(self._app.extensions["vectis.registry"])
        by_key, failures = {}, {}
        for row in rows:
            key = (row.kind, row.name)
            previous = self._by_key.get(key)
            if previous is not None and previous.definition.checksum == row.checksum and previous.revision == row.revision:
                by_key[key] = previous
                continue
            checked = check_source(row.source, f"{row.kind}/{row.name}@{row.revision}", env)
            if not checked.ok:
                failures[key] = "; ".join(str(e) for e in checked.errors)
                log.error("live definition %s/%s@%d does not compile: %s", *key, row.revision, failures[key])
                continue
            by_key[key] = LiveDefinition(row.kind, row.name, row.revision, row.author, row.created_at, checked.definition)
        self._by_key, self.failures = by_key, failures
        _report_revisions(self._app, by_key.values())

    def _poll(self) -> None:
        # A request polled before it began (``init_app``'s hook). Polling again here could take a
        # second pooled connection while the request's transaction holds one and row locks: with
        # as many busy threads as connections, every thread would wait for the pool.
        if not has_request_context():
            self.refresh()

    def get(self, kind: str, name: str) -> LiveDefinition | None:
        self._poll()
        return self._by_key.get((kind, name))

    def all(self, kind: str | None = None) -> list[LiveDefinition]:
        self._poll()
        return sorted(
            (d for d in self._by_key.values() if kind is None or d.kind == kind), key=lambda d: (d.kind, d.name)
        )


def _report_revisions(app: Flask, definitions) -> None:
    from runtime.observability import set_definition_revision

    for d in definitions:
        set_definition_revision(d.kind, d.name, d.revision, app=app)


def init_app(app: Flask) -> None:
    live = LiveDefinitions(app)
    app.extensions["vectis.definitions"] = live
    # Throttled to one cheap query per poll interval, so every process sees new revisions promptly.
    @app.before_request
    def _refresh_live_definitions() -> None:
        live.refresh()


def live_definitions(app: Flask | None = None) -> LiveDefinitions:
    return (app or current_app).extensions["vectis.definitions"]
