"""HTTP tax service: a ``tax_provider`` that asks an external service to compute the taxes.

The request is one POST of JSON (destination, currency, lines with amount and class, the buyer's
tax id); the answer lists taxes per line. A time-out, a connection error or a 5xx answer is retried
``retries`` times with a short back-off, then reported as ``PROVIDER_UNAVAILABLE``; the channel's
failure policy (docs/tax.md) then refuses the checkout or falls back to the table rates.
"""
from __future__ import annotations

import json
from pathlib import Path

from runtime.packs.api import PackContext

from .provider import HttpTaxProvider

CONFIG_SCHEMA = json.loads((Path(__file__).parent / "config.schema.json").read_text())


def register(pack: PackContext) -> None:
    pack.register("tax_provider", "http", HttpTaxProvider(), label="HTTP tax service", config_schema=CONFIG_SCHEMA)
