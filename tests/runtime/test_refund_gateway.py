"""The mock gateway's answer to "what happened for this idempotency key" (``lookup``), and its
record in a SQLite file that two gateway instances (two processes) share and a killed call leaves
whole: what the refund execution's reconciliation relies on."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from decimal import Decimal

from extensions.mock_gateway import CONFIG_SCHEMA
from extensions.mock_gateway.gateway import MockGateway
from runtime.config import ROOT
from runtime.packs.api import Money, PaymentRequest

VISA = "4242424242424242"


def _eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def _captured(gateway, config, key="auth-1"):
    auth = gateway.authorize(PaymentRequest(amount=_eur("30.00"), payment_token=VISA, idempotency_key=key,
                                            reference="order-1"), config)
    gateway.capture(auth.transaction_id, _eur("30.00"), f"{key}:capture", config)
    return auth.transaction_id


def test_lookup_answers_the_keyed_call_or_none_in_memory():
    gateway, config = MockGateway(CONFIG_SCHEMA), {"merchant_id": "shop_1"}
    auth = _captured(gateway, config)
    assert gateway.lookup("refund:1:1", config) is None
    refunded = gateway.refund(auth, _eur("10.00"), "refund:1:1", config)
    assert gateway.lookup("refund:1:1", config) == refunded
    # another merchant's key space knows nothing of it
    assert gateway.lookup("refund:1:1", {"merchant_id": "shop_2"}) is None


def test_two_instances_on_one_record_file_share_authorizations_keys_and_refund_once(tmp_path):
    config = {"merchant_id": "shop_1", "state_file": str(tmp_path / "gateway.sqlite")}
    first, second = MockGateway(CONFIG_SCHEMA), MockGateway(CONFIG_SCHEMA)
    auth = _captured(first, config)

    refunded = second.refund(auth, _eur("10.00"), "refund:7:3", config)
    again = first.refund(auth, _eur("10.00"), "refund:7:3", config)  # a retry after a lost answer

    assert again == refunded and first.lookup("refund:7:3", config) == refunded
    assert refunded.raw["refunded"] == "10.00" and refunded.status == "partially_refunded"
    assert second._authorizations[auth].refunded == _eur("10.00")  # refunded once, whoever asked


def test_a_call_killed_midway_leaves_the_record_whole(tmp_path):
    config = {"merchant_id": "shop_1", "state_file": str(tmp_path / "gateway.sqlite")}
    gateway = MockGateway(CONFIG_SCHEMA)
    auth = _captured(gateway, config)
    # a process that takes the record's lock, changes it in memory and is SIGKILLed before it commits
    script = f"""
import os, signal
from decimal import Decimal
from extensions.mock_gateway import CONFIG_SCHEMA, ledger
from extensions.mock_gateway.gateway import MockGateway
from runtime.packs.api import Money
gateway = MockGateway(CONFIG_SCHEMA)
with ledger.recorded({config['state_file']!r}, gateway):
    gateway._authorizations[{auth!r}].refunded = Money(Decimal("30.00"), "EUR")
    os.kill(os.getpid(), signal.SIGKILL)
"""
    process = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=os.environ.copy())
    assert process.returncode == -signal.SIGKILL
    assert gateway.lookup("refund:9:9", config) is None
    refunded = gateway.refund(auth, _eur("30.00"), "refund:9:9", config)
    assert refunded.raw["refunded"] == "30.00" and refunded.status == "refunded"
