"""Flat rate shipping: fixed rates per destination country.

Each configured rate is offered when the destination is in its ``countries`` (or it has none) and
the order's subtotal is within ``[min_order, max_order)``. From ``free_over`` on, every offered
rate costs zero. Rates are priced in one currency, the order's: a rate in another currency is a
configuration error, refused with ``CURRENCY_MISMATCH`` rather than converted.
"""
from __future__ import annotations

import json
from pathlib import Path

from runtime.packs.api import PackContext

from .provider import FlatRateProvider

CONFIG_SCHEMA = json.loads((Path(__file__).parent / "config.schema.json").read_text())


def register(pack: PackContext) -> None:
    pack.register(
        "shipping_rate_provider",
        "flat_rate",
        FlatRateProvider(CONFIG_SCHEMA),
        label="Flat rate",
        config_schema=CONFIG_SCHEMA,
    )
