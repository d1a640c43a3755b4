"""paymentMethodCapabilities and the readiness gate: a payment method whose gateway pack is missing
is listed as orphaned, and /ready and `vectis worker` refuse (strict, the default) or report it."""
from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from runtime.channels.models import Channel, ChannelProvider
from runtime.jobs import cli as jobs_cli
from runtime.observability.health import run_readiness_checks
from tests.runtime.helpers import signed_in
from tests.runtime.test_carts_api import GATEWAY, post, store

CAPABILITIES = ("query($c: String, $o: Boolean, $d: Boolean) { paymentMethodCapabilities(channel: $c,"
                " includeOrphaned: $o, includeDisabled: $d) { channel provider label isActive orphaned"
                " capabilities { partialCapture incrementalAuth void refund expiryWindowDays } } }")


def orphan(app, active=True):
    """A payment method naming a gateway no pack provides (its pack was removed)."""
    def work(session):
        channel = session.exec(select(Channel).where(Channel.slug == "web")).one()
        session.add(ChannelProvider(channel_id=channel.id, slot="payment_gateway", provider="gone.payment_gateway.card",
                                    config={}, position=5, is_active=active))

    app.extensions["vectis.db"].run(work)


def test_capabilities_list_each_method_and_orphans_on_request(app, client):
    store(app)
    orphan(app)
    staff = signed_in(app, client, "admin")
    mock = {"channel": "web", "provider": GATEWAY, "label": "Mock gateway (sandbox)", "isActive": True, "orphaned": False,
            "capabilities": {"partialCapture": True, "incrementalAuth": False, "void": True, "refund": True,
                             "expiryWindowDays": 7.0}}

    listed = post(client, CAPABILITIES, {"c": "web"}, staff)["data"]["paymentMethodCapabilities"]
    with_orphans = post(client, CAPABILITIES, {"c": "web", "o": True}, staff)["data"]["paymentMethodCapabilities"]

    assert listed == [mock]
    assert with_orphans == [mock, {"channel": "web", "provider": "gone.payment_gateway.card", "label": "",
                                   "isActive": True, "orphaned": True, "capabilities": None}]
    refused = post(client, CAPABILITIES, {"c": "web"}, signed_in(app, client, "viewer"))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_ready_refuses_while_an_enabled_method_is_orphaned(app, client):
    store(app)
    assert client.get("/ready").get_json()["checks"]["payments"] == "ok"
    orphan(app)

    answer = client.get("/ready")

    assert answer.status_code == 503
    body = answer.get_json()
    assert body["checks"]["payments"] == ("failed: channel web: payment method 'gone.payment_gateway.card' has no "
                                          "registered gateway (is its pack installed?)")
    assert "payments" in body["failed"]


def test_a_disabled_orphan_does_not_block_and_lenient_mode_only_reports(app):
    store(app)
    orphan(app, active=False)
    assert run_readiness_checks(app) == {"payments": "ok"}

    def enable(session):
        method = session.exec(select(ChannelProvider).where(ChannelProvider.provider == "gone.payment_gateway.card")).one()
        method.is_active = True
        session.add(method)

    app.extensions["vectis.db"].run(enable)
    app.config["VECTIS"] = replace(app.config["VECTIS"], strict_payment_readiness=False)
    assert run_readiness_checks(app)["payments"].startswith("degraded: channel web: payment method 'gone.")


def test_the_worker_refuses_to_start(app, capsys):
    store(app)
    orphan(app)
    with pytest.raises(SystemExit) as stopped:
        jobs_cli._refuse_unless_ready(app)
    assert stopped.value.code == jobs_cli.EXIT_NOT_READY == 3
    assert capsys.readouterr().err == ("vectis worker: not ready (payments): channel web: payment method "
                                       "'gone.payment_gateway.card' has no registered gateway (is its pack installed?)\n")
