"""Which pack strategies a channel uses (its payment gateway, its shipping rate providers), each
with the merchant's configuration, checked against the provider's ``config_schema`` when saved."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlmodel import Session, select

from runtime.channels.context import CACHE, forget_channels
from runtime.channels.errors import ChannelErrorCode
from runtime.channels.models import Channel, ChannelProvider
from runtime.errors import BusinessError
from runtime.packs.registry import Entry
from runtime.security.secrets import SecretUnreadable, open_config, seal_config, secret_fields

#: Slots a channel configures providers for.
PROVIDER_SLOTS = ("payment_gateway", "shipping_rate_provider", "tax_provider", "cart_parse_provider")


@dataclass(frozen=True)
class ConfiguredProvider:
    """A registered strategy and the configuration a channel saved for it."""

    key: str
    label: str
    value: Any
    config: dict[str, Any]


def providers(session: Session, channel_id: int, slot: str) -> list[ConfiguredProvider]:
    """The channel's active providers for ``slot`` whose pack is loaded, in position order (from
    the channel cache while it is fresh: ``VECTIS_CHANNEL_CACHE_SECONDS``).

    A row naming a provider that is no longer registered (its pack was removed or failed to
    load) is skipped: the remaining providers still serve.
    """
    registry = current_app.extensions["vectis.registry"]
    cache = current_app.extensions.get(CACHE)
    rows = cache.provider_rows(session, channel_id, slot) if cache is not None else None
    if rows is None:
        rows = session.exec(
            select(ChannelProvider)
            .where(ChannelProvider.channel_id == channel_id, ChannelProvider.slot == slot, ChannelProvider.is_active)
            .order_by(ChannelProvider.position, ChannelProvider.id)
        ).all()
    found = []
    for row in rows:
        entry: Entry | None = registry.get(row.provider)
        if entry is not None and entry.slot == slot:
            # Secrets (writeOnly fields) are sealed at rest and opened only for the provider.
            config = open_config(current_app.extensions["vectis.secrets"], row.config, f"channel_provider {row.id} config")
            found.append(ConfiguredProvider(entry.key, entry.label, entry.value, config))
    return found


def set_provider(session: Session, channel: Channel, slot: str, provider: str, config: dict[str, Any] | None = None,
                 *, position: int = 0, is_active: bool = True) -> ChannelProvider:
    """Enable (or reconfigure) ``provider`` on ``channel``; the config must satisfy its schema."""
    if slot not in PROVIDER_SLOTS:
        raise BusinessError(ChannelErrorCode.INVALID_PROVIDER, f"slot: expected one of {', '.join(PROVIDER_SLOTS)}, got {slot!r}", field="slot")
    registry = current_app.extensions["vectis.registry"]
    entry = registry.get(provider)
    if entry is None or entry.slot != slot:
        known = sorted(e.key for e in registry.entries(slot))
        raise BusinessError(ChannelErrorCode.INVALID_PROVIDER,
                            f"provider: no loaded {slot} {provider!r} (known: {', '.join(known) or 'none'})", field="provider")
    box = current_app.extensions["vectis.secrets"]
    try:
        config = open_config(box, dict(config or {}))  # a sealed secret sent back as it was read
    except SecretUnreadable:
        raise BusinessError(ChannelErrorCode.INVALID_PROVIDER_CONFIG,
                            "config: holds a sealed secret this store's keys cannot open; send the secret itself",
                            field="config") from None
    if entry.config_schema is not None:
        from jsonschema import Draft202012Validator

        error = next(iter(sorted(Draft202012Validator(entry.config_schema).iter_errors(config), key=lambda e: list(e.absolute_path))), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            secret = bool(error.absolute_path) and error.absolute_path[0] in secret_fields(entry.config_schema)
            message = "invalid value (a secret: not shown)" if secret else error.message
            raise BusinessError(ChannelErrorCode.INVALID_PROVIDER_CONFIG, f"config: {where}: {message}", field="config")
    row = session.exec(select(ChannelProvider).where(ChannelProvider.channel_id == channel.id, ChannelProvider.slot == slot,
                                                     ChannelProvider.provider == provider)).first()
    row = row or ChannelProvider(channel_id=channel.id, slot=slot, provider=provider)
    row.config, row.position, row.is_active = seal_config(box, entry.config_schema, config), position, is_active
    session.add(row)
    session.flush()
    forget_channels(session)
    return row
