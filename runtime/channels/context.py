"""The request's channel: named by the ``X-Channel-Slug`` header, else the default channel.

An unknown or inactive slug is a top-level GraphQL error with ``extensions.code``
``CHANNEL_NOT_FOUND`` (the whole request addresses a channel, so no payload can carry it).
Resolvers read ``info.context.channel``, resolved once per request; ``ChannelNotFound`` is a
:class:`~runtime.errors.RequestError`, so the view keeps its code.
"""
from __future__ import annotations

import threading
import time

from flask import current_app, has_app_context
from sqlmodel import Session, select

from runtime.db import after_commit

from runtime.channels.errors import ChannelNotFound
from runtime.channels.models import Channel, ChannelProvider
from runtime.channels.service import default_channel
from rules.suggestions import did_you_mean

HEADER = "X-Channel-Slug"


def resolve_channel(session: Session, slug: str | None) -> Channel | None:
    """The active channel ``slug``; without a slug the default channel, or ``None`` when there is none."""
    slug = (slug or "").strip()
    if not slug:
        return default_channel(session)
    channel = session.exec(select(Channel).where(Channel.slug == slug, Channel.is_active)).first()
    if channel is None:
        active = session.exec(select(Channel.slug).where(Channel.is_active)).all()
        raise ChannelNotFound(f"{HEADER}: no active channel {slug!r}{did_you_mean(slug, active)}")
    return channel


def channel_for_request(database, request) -> Channel | None:
    """What ``Context.channel`` holds: the channel the request's header names."""
    slug = request.headers.get(HEADER) if request is not None else None
    cache: ChannelCache | None = current_app.extensions.get(CACHE) if has_app_context() else None
    if cache is not None:
        found, channel = cache.lookup(slug)
        if found:
            return channel
    with database.session() as session:
        if cache is None:
            return resolve_channel(session, slug)
        cache.refill(session)  # every active channel in one read: the next requests need none
    found, channel = cache.lookup(slug, fresh=True)
    if not found:
        raise ChannelNotFound(f"{HEADER}: no active channel {slug.strip()!r}{did_you_mean(slug.strip(), cache.slugs())}")
    return channel


#: ``app.extensions`` key of the process's :class:`ChannelCache`.
CACHE = "vectis.channel_cache"


class ChannelCache:
    """The active channels by slug (and, once asked, their providers: the cart and checkout
    mutations ask for the gateway and the shipping providers several times per checkout), kept for
    ``VECTIS_CHANNEL_CACHE_SECONDS``. Nearly every request needs its channel and channels change
    rarely; a change this process commits clears the cache at once, a change by another process
    is seen within those seconds. A slug the cache lacks is read again (a new channel is found at
    once)."""

    def __init__(self, seconds: float):
        self._seconds = seconds
        self._lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self._until = 0.0
        self._by_slug: dict[str, Channel] = {}
        self._default: Channel | None = None
        #: Loaded on first use after each refill: most requests never ask for a provider.
        self._providers: dict[tuple[int, str], list[ChannelProvider]] | None = None

    def clear(self) -> None:
        with self._lock:
            self._clear()

    def lookup(self, slug: str | None, *, fresh: bool = False) -> tuple[bool, Channel | None]:
        """``(True, channel)`` when the answer is in memory, else ``(False, None)``; ``fresh``
        (just refilled) answers even when the cache expires at once (0 seconds)."""
        slug = (slug or "").strip()
        with self._lock:
            if not fresh and time.monotonic() >= self._until:
                return False, None
            if not slug:
                return True, self._default
            channel = self._by_slug.get(slug)
            return (channel is not None), channel

    def provider_rows(self, session: Session, channel_id: int, slot: str) -> list[ChannelProvider] | None:
        """The channel's active provider rows for ``slot`` in position order (every channel's
        read in one statement the first time after a refill), or None when the cache has expired
        (the caller reads them itself)."""
        with self._lock:
            if time.monotonic() >= self._until:
                return None
            if self._providers is not None:
                return self._providers.get((channel_id, slot), [])
            until = self._until
        rows = session.exec(select(ChannelProvider).where(ChannelProvider.is_active)
                            .order_by(ChannelProvider.position, ChannelProvider.id)).all()
        providers: dict[tuple[int, str], list[ChannelProvider]] = {}
        for row in rows:
            session.expunge(row)  # shared read-only between requests, never flushed again
            providers.setdefault((row.channel_id, row.slot), []).append(row)
        with self._lock:
            if self._until == until:  # not cleared or refilled meanwhile
                self._providers = providers
        return providers.get((channel_id, slot), [])

    def slugs(self) -> list[str]:
        with self._lock:
            return sorted(self._by_slug)

    def refill(self, session: Session) -> None:
        channels = session.exec(select(Channel).where(Channel.is_active)).all()
        for channel in channels:
            session.expunge(channel)  # shared read-only between requests, never flushed again
        with self._lock:
            self._by_slug = {c.slug: c for c in channels}
            self._default = next((c for c in channels if c.is_default), None)
            self._providers = None
            self._until = time.monotonic() + self._seconds


def forget_channels(session: Session) -> None:
    """Clear this process's channel cache once ``session`` commits (a channel was written)."""
    cache = current_app.extensions.get(CACHE) if has_app_context() else None
    if cache is not None:
        after_commit(session, cache.clear)
