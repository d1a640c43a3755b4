"""The one clock of the runtime. Everything that needs "now" asks :data:`clock`.

Tests freeze and advance it (``clock.freeze(...)``, ``clock.advance(minutes=15)``) so TTLs and
sweeps are tested without sleeping. Times are always timezone-aware UTC.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


class Clock:
    def __init__(self) -> None:
        self._frozen: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        frozen = self._frozen
        return frozen if frozen is not None else datetime.now(timezone.utc)

    def freeze(self, at: datetime | None = None) -> datetime:
        """Stop time at ``at`` (default: the current time)."""
        at = at or datetime.now(timezone.utc)
        if at.tzinfo is None:
            raise ValueError("at: a frozen time must be timezone-aware")
        with self._lock:
            self._frozen = at.astimezone(timezone.utc)
        return self._frozen

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move a frozen clock forward by ``delta`` or ``timedelta(**kwargs)``."""
        step = delta if delta is not None else timedelta(**kwargs)
        with self._lock:
            if self._frozen is None:
                raise RuntimeError("clock: advance() needs a frozen clock; call freeze() first")
            self._frozen += step
            return self._frozen

    def unfreeze(self) -> None:
        with self._lock:
            self._frozen = None

    @property
    def frozen(self) -> bool:
        return self._frozen is not None


#: The process-wide clock.
clock = Clock()


def utcnow() -> datetime:
    return clock.now()
