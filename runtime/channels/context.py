"""The request's channel: named by the ``X-Channel-Slug`` header, else the default channel.

An unknown or inactive slug is a top-level GraphQL error with ``extensions.code``
``CHANNEL_NOT_FOUND`` (the whole request addresses a channel, so no payload can carry it).
Resolvers read ``info.context.channel``, resolved once per request; ``ChannelNotFound`` is a
:class:`~runtime.errors.RequestError`, so the view keeps its code.
"""
from __future__ import annotations

from sqlmodel import Session, select

from runtime.channels.errors import ChannelNotFound
from runtime.channels.models import Channel
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
    with database.session() as session:
        return resolve_channel(session, request.headers.get(HEADER) if request is not None else None)
