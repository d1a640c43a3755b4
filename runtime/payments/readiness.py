"""Payment methods and what their gateways can do: ``paymentMethodCapabilities``, and the readiness
check that refuses to serve (``/ready``, ``vectis worker``) while an enabled payment method names a
gateway no loaded pack provides (its pack was removed or failed to load): checkouts on that
channel would all fail with NO_GATEWAY. ``VECTIS_STRICT_PAYMENT_READINESS=false`` only reports it."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlmodel import Session, select

from runtime.channels.models import Channel, ChannelProvider
from runtime.observability.health import READINESS_CHECKS
from runtime.payments.capabilities import Capabilities, capabilities_of
from runtime.payments.gateway import SLOT



@dataclass(frozen=True)
class PaymentMethod:
    channel: str
    provider: str
    label: str
    is_active: bool
    #: The gateway's pack is not loaded: the method cannot take a payment.
    orphaned: bool
    capabilities: Capabilities | None


def payment_methods(session: Session, app: Flask, channel_slug: str | None = None, *, include_orphaned: bool = False,
                    include_disabled: bool = False) -> list[PaymentMethod]:
    registry = app.extensions["vectis.registry"]
    query = (select(ChannelProvider, Channel.slug).join(Channel, Channel.id == ChannelProvider.channel_id)
             .where(ChannelProvider.slot == SLOT).order_by(Channel.slug, ChannelProvider.position, ChannelProvider.id))
    if channel_slug is not None:
        query = query.where(Channel.slug == channel_slug)
    found = []
    for row, slug in session.exec(query):
        entry = registry.get(row.provider)
        orphaned = entry is None or entry.slot != SLOT
        if (orphaned and not include_orphaned) or (not row.is_active and not include_disabled):
            continue
        found.append(PaymentMethod(slug, row.provider, "" if orphaned else entry.label, row.is_active, orphaned,
                                   None if orphaned else capabilities_of(entry.value, row.config)))
    return found


def payment_readiness(app: Flask) -> str:
    """``ok``, or which enabled methods are orphaned (``failed: …`` when strict, else ``degraded: …``)."""
    with app.extensions["vectis.db"].session() as session:
        orphans = [m for m in payment_methods(session, app, include_orphaned=True) if m.orphaned]
    if not orphans:
        return "ok"
    detail = "; ".join(f"channel {m.channel}: payment method {m.provider!r} has no registered gateway (is its pack "
                       f"installed?)" for m in orphans)
    return ("failed: " if app.config["VECTIS"].strict_payment_readiness else "degraded: ") + detail


def register_readiness(app: Flask) -> None:
    app.extensions.setdefault(READINESS_CHECKS, {})["payments"] = payment_readiness
