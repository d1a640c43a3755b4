"""Incoming settlement webhooks (issue 18): POST /webhooks/in/<pack> verifies the Standard Webhooks
signature against every active secret of the pack, refuses stale timestamps, ignores replayed ids,
and applies the mock gateway's events to the payments once, whatever the delivery count."""
from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from sqlmodel import select

from extensions.mock_gateway.webhooks import KINDS, review_event
from runtime.app import create_app
from runtime.clock import utcnow
from runtime.orders.models import Order
from runtime.payments.models import PaymentTransaction
from runtime.security.sealed import unreadable
from runtime.security.secrets import SecretBox
from runtime.state_machines.models import StateTransition
from runtime.webhooks import incoming
from runtime.webhooks.incoming import forget_old_receipts
from runtime.webhooks.incoming_models import IncomingWebhookReceipt, IncomingWebhookSecret
from runtime.webhooks.incoming_secrets import add_secret
from runtime.webhooks.signing import generate_secret, signature_header
from tests.conftest import _empty_tables, _flush_redis, make_settings
from tests.runtime.test_orders_data import FRAUD, MOCK, events, live, shop  # noqa: F401
from tests.runtime.test_payments import place_and_pay

PACK = "mock_gateway"
URL = f"/webhooks/in/{PACK}"


@pytest.fixture
def settings(database_url, redis_url, tmp_path):
    return make_settings(database_url, redis_url, tmp_path, secrets_master_key=Fernet.generate_key().decode())


def new_secret(app, *, overlap: int = 86400, secret: str | None = None) -> str:
    box = app.extensions["vectis.secrets"]
    return app.extensions["vectis.db"].run(lambda s: add_secret(s, box, PACK, secret=secret, overlap_seconds=overlap))[1]


def send(client, secrets: list[str], payload, *, msg_id: str = "msg_1", timestamp: int | None = None, pack: str = PACK):
    """POST ``payload`` signed as the gateway signs: Standard Webhooks over id.timestamp.body."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    stamp = int(utcnow().timestamp()) if timestamp is None else timestamp
    return client.post(f"/webhooks/in/{pack}", data=body, headers={
        "webhook-id": msg_id, "webhook-timestamp": str(stamp), "content-type": "application/json",
        "webhook-signature": signature_header(secrets, msg_id, stamp, body)})


def event(kind: str, authorization: str, **data) -> dict:
    return {"id": f"evt_{kind}", "type": kind, "data": {"authorization_id": authorization, **data}}


def payments(database) -> list[tuple]:
    with database.session() as session:
        rows = session.exec(select(PaymentTransaction).order_by(PaymentTransaction.id)).all()
    return [(r.type, r.state, r.amount, r.captured_amount, r.refunded_amount, r.gateway_reference) for r in rows]


def receipts(database) -> list[tuple[str, str, list]]:
    with database.session() as session:
        rows = session.exec(select(IncomingWebhookReceipt).order_by(IncomingWebhookReceipt.id)).all()
    return [(r.pack, r.webhook_id, r.outcome) for r in rows]


def test_a_settlement_confirms_a_capture_made_at_checkout(app, client, shop, database, frozen_clock):
    # given a payment captured at checkout (the web channel captures) and the pack's secret
    secret = new_secret(app)
    order, auth = place_and_pay(database, shop, channel="web")
    capture_id = payments(database)[1][5]

    # when the gateway reports the capture settled
    answer = send(client, [secret], event("capture.settled", auth.gateway_reference, id=capture_id, amount="50.38",
                                          currency="EUR"))

    # then it is answered processed, the capture row is confirmed and nothing else moves
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "processed", "webhookId": "msg_1",
                                 "outcome": [f"settled {capture_id}: settled"]}
    assert payments(database) == [("authorization", "captured", Decimal("50.38"), Decimal("50.38"), Decimal("0"), auth.gateway_reference),
                                  ("capture", "succeeded", Decimal("50.38"), Decimal("0"), Decimal("0"), capture_id)]
    with database.session() as session:
        child = session.exec(select(PaymentTransaction).where(PaymentTransaction.type == "capture")).one()
    assert child.raw["confirmed_at"] == frozen_clock.now().isoformat()
    assert receipts(database) == [(PACK, "msg_1", [f"settled {capture_id}: settled"])]


def test_a_capture_made_at_the_processor_is_recorded_once_though_sent_under_two_ids(app, client, shop, database):
    secret = new_secret(app)
    order, auth = place_and_pay(database, shop, channel="trade")  # authorized only
    settled = event("capture.settled", auth.gateway_reference, id="mock_cap_ext_1", amount="20.00", currency="EUR")

    first = send(client, [secret], settled, msg_id="msg_a")
    second = send(client, [secret], settled, msg_id="msg_b")  # the gateway re-sent the event under a new id

    assert first.get_json()["outcome"] == [f"settled mock_cap_ext_1: captured 20.00 EUR of payment {auth.id}"]
    assert second.get_json() == {"status": "processed", "webhookId": "msg_b",
                                 "outcome": ["settled mock_cap_ext_1: already settled"]}
    assert payments(database) == [
        ("authorization", "partially_captured", Decimal("50.38"), Decimal("20.00"), Decimal("0"), auth.gateway_reference),
        ("capture", "succeeded", Decimal("20.00"), Decimal("0"), Decimal("0"), "mock_cap_ext_1")]
    assert [(t, p["amount"]) for t, p in events(database, "payment.captured")] == [("payment.captured", "20.00")]
    with database.session() as session:
        moves = session.exec(select(StateTransition.transition, StateTransition.actor)
                             .where(StateTransition.entity_type == "payment_transaction")).all()
    assert moves == [("authorize", "carla@example.test"), ("capture_partial", "webhook:mock_gateway")]
    assert [r[1] for r in receipts(database)] == ["msg_a", "msg_b"]

    # and the rest settled later captures the payment in full, the order's payment status following
    rest = send(client, [secret], event("capture.settled", auth.gateway_reference, id="mock_cap_ext_2", amount="30.38",
                                        currency="EUR"), msg_id="msg_c")
    assert rest.status_code == 200 and payments(database)[0][1:4] == ("captured", Decimal("50.38"), Decimal("50.38"))
    with database.session() as session:
        assert session.get(Order, order.id).payment_status == "captured"


def test_a_bad_signature_is_400_and_changes_nothing(app, client, shop, database):
    new_secret(app)
    order, auth = place_and_pay(database, shop, channel="trade")
    settled = event("capture.settled", auth.gateway_reference, id="mock_cap_x", amount="50.38", currency="EUR")
    before = payments(database)

    forged = send(client, [generate_secret()], settled)
    unsigned = client.post(URL, data=json.dumps(settled), headers={"webhook-id": "msg_2",
                                                                    "webhook-timestamp": str(int(utcnow().timestamp()))})
    body = json.dumps(settled).encode()
    tampered_headers = {"webhook-id": "msg_3", "webhook-timestamp": str(int(utcnow().timestamp()))}
    tampered_headers["webhook-signature"] = signature_header([new_secret(app, overlap=3600)], "msg_3",
                                                             int(tampered_headers["webhook-timestamp"]), body)
    tampered = client.post(URL, data=body.replace(b"50.38", b"10.00"), headers=tampered_headers)

    assert (forged.status_code, forged.get_json()) == (400, {"error": "webhook-signature: no signature matches"})
    assert (unsigned.status_code, unsigned.get_json()) == (
        400, {"error": "missing webhook-id, webhook-timestamp or webhook-signature"})
    assert (tampered.status_code, tampered.get_json()) == (400, {"error": "webhook-signature: no signature matches"})
    assert payments(database) == before and receipts(database) == []


def test_a_timestamp_outside_300_seconds_is_refused(app, client, shop, database, frozen_clock):
    secret = new_secret(app)
    order, auth = place_and_pay(database, shop, channel="trade")
    approved = event("authorization.expired", auth.gateway_reference)
    now = int(utcnow().timestamp())

    old = send(client, [secret], approved, msg_id="m1", timestamp=now - 301)
    future = send(client, [secret], approved, msg_id="m2", timestamp=now + 301)
    assert (old.status_code, old.get_json()) == (400, {"error": "webhook-timestamp: more than 300 seconds from now"})
    assert future.status_code == 400 and payments(database)[0][1] == "authorized" and receipts(database) == []

    edge = send(client, [secret], approved, msg_id="m3", timestamp=now - 300)
    assert edge.status_code == 200 and payments(database)[0][1] == "authorization_expired"


def test_a_replayed_webhook_id_is_answered_duplicate_and_ignored(app, client, shop, database):
    secret = new_secret(app)
    order, auth = place_and_pay(database, shop, channel="trade")

    first = send(client, [secret], event("capture.settled", auth.gateway_reference, id="cap_a", amount="10.00",
                                         currency="EUR"), msg_id="msg_1")
    # the same id again, even with another validly signed body, is not applied
    replay = send(client, [secret], event("capture.settled", auth.gateway_reference, id="cap_b", amount="10.00",
                                          currency="EUR"), msg_id="msg_1")

    assert first.get_json()["status"] == "processed"
    assert (replay.status_code, replay.get_json()) == (200, {"status": "duplicate", "webhookId": "msg_1"})
    assert payments(database)[0][3] == Decimal("10.00") and len(payments(database)) == 2
    assert len(receipts(database)) == 1


def test_during_a_rotation_old_and_new_secrets_verify_then_only_the_new(app, client, shop, database, frozen_clock):
    old = new_secret(app)
    order, auth = place_and_pay(database, shop, channel="trade")
    expired = event("authorization.approved", auth.gateway_reference)
    new = new_secret(app, overlap=3600)  # rotate: the old secret stays accepted for an hour

    assert send(client, [old], expired, msg_id="m1").status_code == 200
    assert send(client, [new], expired, msg_id="m2").status_code == 200
    assert send(client, [new, old], expired, msg_id="m3").status_code == 200  # both signatures, as a sender rotating

    frozen_clock.advance(seconds=3601)
    after_old = send(client, [old], expired, msg_id="m4")
    assert (after_old.status_code, after_old.get_json()) == (400, {"error": "webhook-signature: no signature matches"})
    assert send(client, [new], expired, msg_id="m5").status_code == 200
    assert [r[1] for r in receipts(database)] == ["m1", "m2", "m3", "m5"]
    with database.session() as session:
        rows = session.exec(select(IncomingWebhookSecret).order_by(IncomingWebhookSecret.id)).all()
    assert [row.expires_at is None for row in rows] == [False, True]


def test_a_malformed_body_is_400_with_the_field_and_nothing_is_recorded(app, client, shop, database):
    secret = new_secret(app)
    order, auth = place_and_pay(database, shop, channel="trade")
    ref = auth.gateway_reference
    cases = [
        (b"{not json", "body: not JSON (Expecting property name enclosed in double quotes at character 1)"),
        (b"\xff\xfe", "body: not UTF-8 JSON"),
        (b"[" * 100_000, "body: JSON nested too deeply"),
        ([1, 2], "body: expected a JSON object with type and data"),
        ({"type": "capture.settled"}, "data: expected an object"),
        (event("capture.settled", ref, id="c1", amount="1.005", currency="EUR"),
         "data.amount: expected a positive decimal string with at most 2 decimals for EUR, like \"10.00\", got '1.005'"),
        (event("capture.settled", ref, id="c1", amount="-3", currency="EUR"),
         "data.amount: expected a positive decimal string with at most 2 decimals for EUR, like \"10.00\", got '-3'"),
        (event("capture.settled", ref, amount="3.00", currency="EUR"),
         "data.id: expected the processor's id (letters, digits, '_' or '-'), got None"),
        (event("refund.succeeded", ref, id="r1", amount="3.00", currency="euro"),
         "data.currency: expected a three-letter ISO 4217 code like \"EUR\", got 'euro'"),
        ({"type": "capture.settled", "data": {"authorization_id": 7}},
         "data.authorization_id: expected the processor's id (letters, digits, '_' or '-'), got 7"),
    ]
    for index, (payload, message) in enumerate(cases):
        answer = send(client, [secret], payload, msg_id=f"m{index}")
        assert (answer.status_code, answer.get_json()) == (400, {"error": message}), payload
    assert receipts(database) == [] and payments(database)[0][1] == "authorized"


def test_unknown_packs_payments_and_events(app, client, shop, database):
    secret = new_secret(app)
    order, auth = place_and_pay(database, shop, channel="trade")

    no_pack = send(client, [secret], event("capture.settled", "x"), pack="flat_rate_shipping")
    unknown = send(client, [secret], event("authorization.voided", "mock_auth_999999"), msg_id="m1")
    other_type = send(client, [secret], event("payout.paid", auth.gateway_reference), msg_id="m2")

    assert (no_pack.status_code, no_pack.get_json()) == (404, {"error": "no pack 'flat_rate_shipping' receives webhooks here"})
    assert (unknown.status_code, unknown.get_json()) == (422, {"error": "authorization: no payment made through this "
                                                                        "pack's gateway has id 'mock_auth_999999'; nothing "
                                                                        "was recorded, a retry is applied once the payment exists"})
    assert other_type.get_json() == {"status": "processed", "webhookId": "m2", "outcome": []}
    assert [r[1] for r in receipts(database)] == ["m2"] and payments(database)[0][1] == "authorized"


def test_a_pack_without_a_secret_refuses_everything(app, client, shop, database):
    answer = send(client, [generate_secret()], event("authorization.approved", "mock_auth_000001"))
    assert (answer.status_code, answer.get_json()) == (
        400, {"error": "webhook-signature: pack 'mock_gateway' has no webhook secret configured"})


def test_fraud_review_outcomes_move_pending_payments(app, client, shop, database):
    secret = new_secret(app)
    _o1, held = place_and_pay(database, shop, channel="trade", card=FRAUD, key="c1:k")
    _o2, rejected = place_and_pay(database, shop, channel="trade", card=FRAUD, key="c2:k")

    approved = send(client, [secret], event("authorization.approved", held.gateway_reference), msg_id="m1")
    declined = send(client, [secret], event("authorization.declined", rejected.gateway_reference, code="fraud_rejected",
                                            message="The fraud review rejected the payment."), msg_id="m2")
    again = send(client, [secret], event("authorization.declined", rejected.gateway_reference), msg_id="m3")
    late = send(client, [secret], event("authorization.approved", rejected.gateway_reference), msg_id="m4")

    assert approved.get_json()["outcome"] == [f"authorized {held.gateway_reference}: payment {held.id} authorized"]
    assert declined.get_json()["outcome"] == [f"failed {rejected.gateway_reference}: payment {rejected.id} failed"]
    assert again.get_json()["outcome"] == [f"failed {rejected.gateway_reference}: already failed"]
    assert late.get_json()["outcome"][0].startswith(f"authorized {rejected.gateway_reference}: ignored, payment "
                                                    f"{rejected.id} is failed: ")
    with database.session() as session:
        rows = {r.id: r for r in session.exec(select(PaymentTransaction))}
    assert (rows[held.id].state, rows[held.id].fraud_hold) == ("authorized", False)
    assert (rows[rejected.id].state, rows[rejected.id].error_code, rows[rejected.id].message) == (
        "failed", "fraud_rejected", "The fraud review rejected the payment.")


def test_refunds_chargebacks_and_voids(app, client, shop, database):
    secret = new_secret(app)
    _o1, captured = place_and_pay(database, shop, channel="web", key="c1:k")
    _o2, authorized = place_and_pay(database, shop, channel="trade", key="c2:k")
    ref = captured.gateway_reference

    refund = send(client, [secret], event("refund.succeeded", ref, id="ref_1", amount="10.00", currency="EUR"), msg_id="m1")
    dispute = send(client, [secret], event("dispute.lost", ref, id="dp_1", amount="40.38", currency="EUR",
                                           reason="fraudulent"), msg_id="m2")
    too_much = send(client, [secret], event("refund.succeeded", ref, id="ref_2", amount="1.00", currency="EUR"), msg_id="m3")
    void = send(client, [secret], event("authorization.voided", authorized.gateway_reference, id="void_1"), msg_id="m4")
    void_again = send(client, [secret], event("authorization.voided", authorized.gateway_reference, id="void_1"), msg_id="m5")
    capture_voided = send(client, [secret], event("capture.settled", authorized.gateway_reference, id="cap_9",
                                                  amount="1.00", currency="EUR"), msg_id="m6")

    assert refund.get_json()["outcome"] == [f"refunded ref_1: refunded 10.00 EUR of payment {captured.id}"]
    assert dispute.get_json()["outcome"] == [f"refunded dp_1: charged back 40.38 EUR of payment {captured.id}"]
    assert too_much.get_json()["outcome"] == [
        "refunded ref_2: ignored, 1.00 is more than the 0.00 captured and not refunded"]
    assert void.get_json()["outcome"] == [f"voided {authorized.gateway_reference}: payment {authorized.id} voided"]
    assert void_again.get_json()["outcome"] == [f"voided {authorized.gateway_reference}: already voided"]
    assert capture_voided.get_json()["outcome"][0].startswith("settled cap_9: ignored, payment")
    with database.session() as session:
        rows = session.exec(select(PaymentTransaction).order_by(PaymentTransaction.id)).all()
    summary = [(r.type, r.state, r.amount, r.gateway_reference, r.message) for r in rows if r.parent_id is not None
               and r.type != "capture"]
    assert summary == [("refund", "succeeded", Decimal("10.00"), "ref_1", None),
                       ("refund", "succeeded", Decimal("40.38"), "dp_1", "chargeback: fraudulent"),
                       ("void", "succeeded", Decimal("50.38"), "void_1", None)]
    states = {r.id: (r.state, r.refunded_amount) for r in rows}
    assert states[captured.id] == ("refunded", Decimal("50.38")) and states[authorized.id][0] == "voided"
    assert [p["amount"] for _t, p in events(database, "payment.refunded")] == ["10.00", "40.38"]


def test_the_webhooks_rate_limit_applies(app_factory_settings, client_factory):
    client, secret = client_factory(rate_limits=json.dumps([{"name": "webhooks", "burst": 2, "per_second": 0.001,
                                                             "endpoints": ["incoming_webhooks.receive"]}]))
    answers = [send(client, [secret], event("payout.paid", "a"), msg_id=f"m{i}") for i in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"] and '"webhooks";q=2' in answers[2].headers["RateLimit-Policy"]


@pytest.fixture
def app_factory_settings(database_url, redis_url, tmp_path):
    return lambda **overrides: make_settings(database_url, redis_url, tmp_path,
                                             secrets_master_key=Fernet.generate_key().decode(), **overrides)


@pytest.fixture
def client_factory(app_factory_settings):
    made = []

    def build(**overrides):
        settings = app_factory_settings(**overrides)
        built = create_app(settings)
        made.append((built, settings))
        return built.test_client(), new_secret(built)

    yield build
    for built, settings in made:
        _empty_tables(built)
        _flush_redis(settings.redis_url)
        built.extensions["vectis.db"].dispose()


def test_incoming_secrets_are_sealed_and_re_sealed_by_a_master_key_rotation(app, database):
    secret = new_secret(app)
    with database.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT CAST(secret AS TEXT) FROM incoming_webhook_secret").scalar_one()
    assert secret not in stored and secret[6:] not in stored and '"$secret"' in stored
    # a box without the key that sealed it cannot open it: the start-up check and `vectis secrets rotate` see it
    assert unreadable(database, SecretBox(Fernet.generate_key().decode())) == ["incoming_webhook_secret 1 secret.value"]
    assert unreadable(database, app.extensions["vectis.secrets"]) == []


def test_a_failure_while_applying_records_nothing_and_the_retry_applies_it_once(app, client, shop, database, monkeypatch):
    secret = new_secret(app)
    order, auth = place_and_pay(database, shop, channel="trade")
    settled = event("capture.settled", auth.gateway_reference, id="cap_1", amount="50.38", currency="EUR")
    real = incoming.apply_updates

    def crash_after_the_effect(*args):
        real(*args)  # the capture is written in the transaction…
        raise RuntimeError("the process died before the commit")  # …which never commits

    monkeypatch.setattr(incoming, "apply_updates", crash_after_the_effect)
    crashed = send(client, [secret], settled)
    assert (crashed.status_code, crashed.headers["Retry-After"], crashed.get_json()) == (
        503, "30", {"error": "the store cannot take webhooks right now; retry later"})
    assert receipts(database) == [] and payments(database)[0][1] == "authorized" and len(payments(database)) == 1

    monkeypatch.setattr(incoming, "apply_updates", real)
    retried = send(client, [secret], settled)  # the gateway retries with the same id
    again = send(client, [secret], settled)
    assert retried.get_json()["status"] == "processed" and again.get_json()["status"] == "duplicate"
    assert payments(database)[0][1:4] == ("captured", Decimal("50.38"), Decimal("50.38")) and len(payments(database)) == 2


def test_two_deliveries_of_one_id_at_once_apply_it_once(app, shop, database):
    secret = new_secret(app)
    order, auth = place_and_pay(database, shop, channel="trade")
    settled = event("capture.settled", auth.gateway_reference, id="cap_1", amount="10.00", currency="EUR")
    barrier, answers = threading.Barrier(4), []

    def deliver(msg_id: str) -> None:
        client = app.test_client()
        barrier.wait()
        answers.append(send(client, [secret], settled, msg_id=msg_id).get_json()["status"])

    threads = [threading.Thread(target=deliver, args=(msg_id,)) for msg_id in ("same", "same", "same", "other")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == ["duplicate", "duplicate", "processed", "processed"]
    assert payments(database)[0][1:4] == ("partially_captured", Decimal("50.38"), Decimal("10.00"))
    assert [r[1] for r in receipts(database)] in (["same", "other"], ["other", "same"])


def test_receipts_older_than_seven_days_are_forgotten_once(app, client, database, frozen_clock):
    secret = new_secret(app)
    assert send(client, [secret], event("payout.paid", "a"), msg_id="old").status_code == 200
    frozen_clock.advance(days=6)
    assert send(client, [secret], event("payout.paid", "a"), msg_id="recent").status_code == 200
    frozen_clock.advance(days=1, seconds=1)
    with app.app_context():
        assert (forget_old_receipts(), forget_old_receipts()) == (1, 0)
    assert [r[1] for r in receipts(database)] == ["recent"]
    # a replay of the forgotten id is refused by its timestamp, not applied again
    assert send(client, [secret], event("payout.paid", "a"), msg_id="old",
                timestamp=int(frozen_clock.now().timestamp()) - 7 * 86400).status_code == 400


def test_the_sandbox_processor_decides_a_review_and_its_webhook_moves_the_payment(app, client, shop, database):
    secret = new_secret(app)
    _order, held = place_and_pay(database, shop, channel="trade", card=FRAUD)
    gateway = app.extensions["vectis.registry"].get(MOCK).value

    payload = review_event(gateway, held.gateway_reference, False, {"merchant_id": "m_trade"})
    answer = send(client, [secret], payload, msg_id="evt_review")

    assert payload == {"type": "authorization.declined", "data": {
        "authorization_id": held.gateway_reference, "code": "fraud_rejected",
        "message": "The fraud review rejected the payment."}}
    assert answer.get_json()["outcome"] == [f"failed {held.gateway_reference}: payment {held.id} failed"]
    assert gateway._authorizations[held.gateway_reference].status == "failed"
    assert payments(database)[0][1] == "failed"


def test_no_payload_or_header_makes_a_5xx(app, client, shop, database):
    """Bounded property test: JSON of any shape, any printable id, timestamps either side of the
    tolerance, signed or not — every answer is 200, 400 or 422 with a JSON body."""
    secret = new_secret(app)
    _order, auth = place_and_pay(database, shop, channel="trade")
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
    data = st.fixed_dictionaries(
        {"authorization_id": st.sampled_from([auth.gateway_reference, "mock_auth_x"]) | values},
        optional={"id": st.sampled_from(["op_1", "op_2"]) | values,
                  "amount": st.sampled_from(["1.00", "0", "99999", "1e3"]) | values,
                  "currency": st.sampled_from(["EUR", "USD"]) | values,
                  "code": values, "message": values, "reason": values})
    payloads = st.fixed_dictionaries({"type": st.sampled_from(sorted(KINDS)) | values, "data": data | values}) | values
    seen: set[int] = set()

    @hypothesis_settings(max_examples=80, deadline=None, database=None, derandomize=True,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(payload=payloads, msg_id=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=300),
           skew=st.sampled_from([0, 0, 300, -301]) | st.integers(-400, 400), signed=st.sampled_from([True, True, False]))
    def check(payload, msg_id, skew, signed):
        body = json.dumps(payload).encode()
        stamp = int(utcnow().timestamp()) + skew
        signature = signature_header([secret if signed else generate_secret()], msg_id, stamp, body)
        answer = client.post(URL, data=body, headers={"webhook-id": msg_id, "webhook-timestamp": str(stamp),
                                                       "webhook-signature": signature})
        assert answer.status_code in (200, 400, 422), (answer.status_code, answer.get_data(as_text=True))
        assert set(answer.get_json()) <= {"status", "webhookId", "outcome", "error"}
        seen.add(answer.status_code)

    check()
    assert seen >= {200, 400}  # both the refusals and the applied path were exercised
