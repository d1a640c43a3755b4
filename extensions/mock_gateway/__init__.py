"""Mock payment gateway: a deterministic card processor sandbox for development and tests.

Test card numbers trigger approvals, declines, fraud review and time-outs (``cards.TEST_CARDS``;
the table is in ``docs/extensions.md``). State lives in the gateway instance, in memory: one per
process, lost on restart — a real gateway keeps it at the processor. Never moves real money.
The pack also adds the ``ach`` tender type: a bank debit at a mock bank whose settlement is
asynchronous (``ach.py``).
"""
from __future__ import annotations

import json
from pathlib import Path

from runtime.packs.api import PackContext

from .ach import AchTender
from .bank import MockBank
from .gateway import MockGateway
from .webhooks import MockSettlementWebhooks

CONFIG_SCHEMA = json.loads((Path(__file__).parent / "config.schema.json").read_text())


def register(pack: PackContext) -> None:
    pack.register(
        "payment_gateway",
        "mock",
        MockGateway(CONFIG_SCHEMA),
        label="Mock gateway (sandbox)",
        config_schema=CONFIG_SCHEMA,
    )
    pack.register("tender_type", "ach", AchTender(MockBank()), label="Bank debit (ACH, mock bank): settles asynchronously")
    # POST /webhooks/in/mock_gateway: the sandbox processor's settlement events (webhooks.py).
    pack.register("settlement_webhook", "mock", MockSettlementWebhooks(), label="Mock gateway settlement webhooks")
