"""The demo store's tax: its rate table and each channel's tax settings (``store.yaml``'s ``tax``)."""
from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from runtime.tax.importer import import_rates
from runtime.tax.service import set_channel_settings


def load_tax(session: Session, folder: Path, spec: dict, channels: dict[str, int]) -> list[str]:
    """Import ``spec['tax']['rates']`` (a CSV beside the spec) and set each named channel's settings."""
    tax = spec.get("tax") or {}
    if not tax:
        return []
    report = import_rates(session, folder / tax["rates"])
    for slug, settings in (tax.get("channels") or {}).items():
        set_channel_settings(session, channels[slug], **settings)
    return [f"demo tax: {line.split(': ', 1)[1]}" for line in report.lines]
