"""Outgoing webhooks (issue 18): subscriptions validated against the event registry and the URL
rules, deliveries signed per Standard Webhooks and checked by a local receiver written from the
spec, retried with exponential back-off into a dead-letter state, a rotation's overlap window
with both signatures, and the delivery log over GraphQL."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlmodel import select

from runtime.events import emit
from runtime.webhooks import delivery as delivery_module
from runtime.webhooks.delivery import retry_due_deliveries
from runtime.webhooks.models import WebhookDelivery, WebhookSubscription
from runtime.webhooks.signing import SignatureInvalid, verify
from tests.conftest import make_settings
from tests.runtime.helpers import gql, login, signed_in
from tests.runtime.test_automations import drain
from tests.runtime.test_events import run

CREATE = """mutation C($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) {
  subscription { id eventType url isActive previousSecretExpiresAt } secret errors { code field message } } }"""
ROTATE = """mutation R($id: ID!, $overlap: Int) { rotateWebhookSecret(id: $id, overlapSeconds: $overlap) {
  subscription { id previousSecretExpiresAt } secret errors { code field message } } }"""
DELIVERIES = """query D($filter: WebhookDeliveryFilter) { webhookDeliveries(filter: $filter) {
  nodes { eventType status attempts lastStatusCode lastError log { statusCode error } } } }"""
CART = {"cart_id": "c1", "channel_id": "web", "currency": "EUR"}


@pytest.fixture
def settings(database_url, redis_url, tmp_path):
    return make_settings(database_url, redis_url, tmp_path, secrets_master_key=Fernet.generate_key().decode())


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that answers the planned statuses in turn (then 200) and
    verifies each request's signatures with its own reading of the spec."""

    def __init__(self):
        self.plan: list[int] = []
        self.delay = 0.0
        self.secrets: list[str] = []
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
                                          "verified": receiver.verified(self.headers, body)})
                time.sleep(receiver.delay)
                self.send_response(receiver.plan.pop(0) if receiver.plan else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verified(self, headers, body: bytes) -> list[bool]:
        """For each known secret, whether one of the v1 signatures is its HMAC of id.timestamp.body."""
        signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
        sent = {part[3:] for part in headers["webhook-signature"].split(" ") if part.startswith("v1,")}
        return [base64.b64encode(hmac.new(base64.b64decode(s[len("whsec_"):]), signed, hashlib.sha256).digest()).decode()
                in sent for s in self.secrets]


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.server.shutdown()


def subscribe(app, client, token, url, event_type="cart.created"):
    app.config["VECTIS"] = replace(app.config["VECTIS"], webhooks_allow_private_networks=True)  # the receiver is on 127.0.0.1
    return gql(client, CREATE, {"input": {"eventType": event_type, "url": url}}, token).get_json()[
        "data"]["createWebhookSubscription"]


def deliveries(app) -> list[WebhookDelivery]:
    with app.extensions["vectis.db"].session() as session:
        return list(session.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def sweep(app) -> None:
    with app.app_context():
        retry_due_deliveries()
    drain(app)


def test_a_subscription_needs_a_known_event_type_and_an_allowed_http_url(app, client):
    admin = signed_in(app, client, "admin")

    both = gql(client, CREATE, {"input": {"eventType": "cart.creatd", "url": "ftp://hooks.example.com/x"}}, admin)
    private = gql(client, CREATE, {"input": {"eventType": "cart.created", "url": "http://10.1.2.3/hook"}}, admin)
    loopback = gql(client, CREATE, {"input": {"eventType": "cart.created", "url": "https://[::1]:8443/"}}, admin)

    assert both.get_json()["data"]["createWebhookSubscription"] == {"subscription": None, "secret": None, "errors": [
        {"code": "UNKNOWN_EVENT_TYPE", "field": "input.eventType",
         "message": "input.eventType: no event schema declares 'cart.creatd'"},
        {"code": "INVALID_URL", "field": "input.url",
         "message": "input.url: expected an absolute http(s) URL of at most 2000 characters"}]}
    assert private.get_json()["data"]["createWebhookSubscription"]["errors"] == [
        {"code": "DISALLOWED_ADDRESS", "field": "input.url", "message": "input.url: 10.1.2.3 is a non-public address (10.1.2.3)"}]
    assert loopback.get_json()["data"]["createWebhookSubscription"]["errors"][0]["code"] == "DISALLOWED_ADDRESS"
    with app.extensions["vectis.db"].session() as session:
        assert session.exec(select(WebhookSubscription)).all() == []


def test_the_secret_is_shown_once_and_stored_sealed(app, client, receiver):
    admin = signed_in(app, client, "admin")
    created = subscribe(app, client, admin, receiver.url)
    listed = gql(client, "{ webhookSubscriptions { id url eventType } }", token=admin).get_data(as_text=True)

    secret = created["secret"]
    assert created["errors"] == [] and secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    with app.extensions["vectis.db"].engine.connect() as conn:
        stored = conn.execute(text("SELECT CAST(secrets AS TEXT) FROM webhook_subscription")).scalar_one()
    assert secret not in stored and secret[6:] not in stored and '"$secret"' in stored
    assert secret not in listed and receiver.url in listed


def test_a_delivery_is_signed_retried_with_back_off_and_succeeds(app, client, receiver, frozen_clock):
    admin = signed_in(app, client, "admin")
    created = subscribe(app, client, admin, receiver.url)
    receiver.secrets, receiver.plan = [created["secret"]], [500, 503]

    run(app, lambda s: emit(s, "cart.created", CART, key="c1"))
    [first] = deliveries(app)
    frozen_clock.advance(seconds=29)
    sweep(app)  # not due yet
    frozen_clock.advance(seconds=1)
    sweep(app)
    [second] = deliveries(app)
    frozen_clock.advance(seconds=60)
    sweep(app)
    log = gql(client, DELIVERIES, token=admin).get_json()["data"]["webhookDeliveries"]["nodes"]

    assert (first.status, first.attempts, first.last_status_code) == ("retrying", 1, 500)
    assert first.next_attempt_at == first.created_at + timedelta(seconds=30)
    assert (second.status, second.attempts, second.next_attempt_at) == ("retrying", 2, first.created_at + timedelta(seconds=90))
    assert len(receiver.requests) == 3
    assert all(r["verified"] == [True] for r in receiver.requests)
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1 and json.loads(receiver.requests[0]["body"])["payload"] == CART
    assert log == [{"eventType": "cart.created", "status": "SUCCEEDED", "attempts": 3, "lastStatusCode": 200,
                    "lastError": None, "log": [{"statusCode": 500, "error": "HTTP 500"},
                                               {"statusCode": 503, "error": "HTTP 503"},
                                               {"statusCode": 200, "error": None}]}]
    # What a receiver does with the shipped helper: verify, and refuse a tampered body.
    request = receiver.requests[0]
    assert verify([created["secret"]], request["headers"], request["body"], int(request["headers"]["webhook-timestamp"])) in ids
    with pytest.raises(SignatureInvalid, match="no signature matches"):
        verify([created["secret"]], request["headers"], request["body"] + b" ", int(request["headers"]["webhook-timestamp"]))


def test_after_the_last_attempt_a_delivery_is_dead(app, client, receiver, frozen_clock, monkeypatch):
    monkeypatch.setattr(delivery_module, "MAX_ATTEMPTS", 3)
    admin = signed_in(app, client, "admin")
    receiver.secrets, receiver.plan = [subscribe(app, client, admin, receiver.url)["secret"]], [500] * 10

    run(app, lambda s: emit(s, "cart.created", CART, key="c1"))
    for _ in range(5):
        frozen_clock.advance(hours=1)
        sweep(app)
    admin = login(client, "admin@example.test")  # five hours on: the first access token expired
    dead = gql(client, DELIVERIES, {"filter": {"status": "DEAD"}}, admin).get_json()["data"]["webhookDeliveries"]["nodes"]

    assert [(d.status, d.attempts, d.next_attempt_at) for d in deliveries(app)] == [("dead", 3, None)]
    assert len(receiver.requests) == 3
    assert [d["attempts"] for d in dead] == [3]


def test_a_rotation_sends_both_signatures_during_the_overlap_then_only_the_new_one(app, client, receiver, frozen_clock):
    admin = signed_in(app, client, "admin")
    created = subscribe(app, client, admin, receiver.url)
    rotated = gql(client, ROTATE, {"id": created["subscription"]["id"], "overlap": 3600}, admin).get_json()[
        "data"]["rotateWebhookSecret"]
    receiver.secrets = [created["secret"], rotated["secret"]]

    bad = gql(client, ROTATE, {"id": created["subscription"]["id"], "overlap": -1}, admin).get_json()[
        "data"]["rotateWebhookSecret"]
    run(app, lambda s: emit(s, "cart.created", CART, key="c1"))
    frozen_clock.advance(seconds=3601)
    run(app, lambda s: emit(s, "cart.created", {**CART, "cart_id": "c2"}, key="c2"))

    assert rotated["errors"] == [] and rotated["secret"] != created["secret"]
    assert rotated["subscription"]["previousSecretExpiresAt"] is not None
    during, after = receiver.requests
    assert during["verified"] == [True, True] and len(during["headers"]["webhook-signature"].split(" ")) == 2
    assert after["verified"] == [False, True] and len(after["headers"]["webhook-signature"].split(" ")) == 1
    assert bad == {"subscription": None, "secret": None, "errors": [
        {"code": "INVALID_INPUT", "field": "overlapSeconds", "message": "overlapSeconds: expected 0 to 604800, got -1"}]}


def test_webhooks_need_the_permission(app, client):
    viewer = signed_in(app, client, "viewer")

    answer = gql(client, CREATE, {"input": {"eventType": "cart.created", "url": "https://hooks.example.com/"}}, viewer)

    assert answer.get_json()["errors"][0]["extensions"] == {"code": "FORBIDDEN"}


def test_a_slow_receiver_times_out_and_a_deactivated_subscription_stops_retrying(app, client, receiver, frozen_clock,
                                                                               monkeypatch):
    monkeypatch.setattr(delivery_module, "TIMEOUT", httpx.Timeout(0.2))
    admin = signed_in(app, client, "admin")
    created = subscribe(app, client, admin, receiver.url)
    receiver.secrets, receiver.delay = [created["secret"]], 1.0

    run(app, lambda s: emit(s, "cart.created", CART, key="c1"))
    [slow] = deliveries(app)
    deactivated = gql(client, "mutation D($id: ID!) { deactivateWebhookSubscription(id: $id) { subscription { isActive } errors { code } } }",
                      {"id": created["subscription"]["id"]}, admin).get_json()["data"]["deactivateWebhookSubscription"]
    frozen_clock.advance(seconds=30)
    sweep(app)
    run(app, lambda s: emit(s, "cart.created", {**CART, "cart_id": "c2"}, key="c2"))

    assert (slow.status, slow.attempts, slow.last_status_code, slow.last_error) == (
        "retrying", 1, None, "ReadTimeout: timed out")
    assert deactivated == {"subscription": {"isActive": False}, "errors": []}
    assert [(d.status, d.attempts, d.last_error) for d in deliveries(app)] == [("dead", 1, "subscription deactivated")]
    assert len(receiver.requests) == 1  # the sweep sent nothing more, and the new event no delivery
