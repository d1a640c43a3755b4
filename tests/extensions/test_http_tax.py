"""The http_tax pack against a fake tax service the test starts on 127.0.0.1: answers, retries,
time-outs, refusals; and through placeOrder, the channel's failure policy (refuse or fall back)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from extensions.http_tax.provider import HttpTaxProvider
from runtime.channels.models import Channel
from runtime.channels.providers import set_provider
from runtime.money import Money
from runtime.orders.models import Order
from runtime.packs.api import ProviderError, TaxableLine, TaxRequest
from runtime.tax.models import OrderTaxLine
from runtime.tax.service import set_channel_settings
from tests.extensions.fake_json_service import FakeJsonService
from tests.runtime.test_carts_api import post, rows
from tests.runtime.test_tax_api import BERLIN, PLACE, ready, taxed_store

HTTP_TAX = "http_tax.tax_provider.http"


def _vat_19(body, action, value):
    return {"lines": [{"reference": line["reference"], "name": "VAT 19%", "rate": "0.19",
                       "amount": str((Decimal(line["amount"]) * Decimal("0.19")).quantize(Decimal("0.01")))}
                      for line in body["lines"]]}


@pytest.fixture
def fake():
    with FakeJsonService("/calculate", _vat_19, default=("ok", None), error={"error": "boom"}) as service:
        yield service


REQUEST = TaxRequest(country="DE", lines=(TaxableLine("1", Money(Decimal("18.00"), "EUR"), "standard"),
                                          TaxableLine("shipping", Money(Decimal("4.90"), "EUR"), "standard")),
                     postal_code="10115", city="Berlin", tax_id="DE987654321")


def test_the_provider_posts_the_request_and_reads_the_taxes(fake):
    lines = HttpTaxProvider().calculate(REQUEST, {"url": fake.url, "api_key": "k-1"})
    assert [(l.reference, l.name, l.rate, l.amount) for l in lines] == [
        ("1", "VAT 19%", Decimal("0.19"), Money(Decimal("3.42"), "EUR")),
        ("shipping", "VAT 19%", Decimal("0.19"), Money(Decimal("0.93"), "EUR"))]
    assert fake.requests[0]["auth"] == "Bearer k-1"
    assert fake.requests[0]["body"] == {
        "country": "DE", "region": None, "postal_code": "10115", "city": "Berlin", "tax_id": "DE987654321",
        "currency": "EUR", "prices_include_tax": False,
        "lines": [{"reference": "1", "amount": "18.00", "tax_class": "standard"},
                  {"reference": "shipping", "amount": "4.90", "tax_class": "standard"}]}


def test_a_5xx_and_a_time_out_are_retried(fake):
    fake.script = [(500, None), ("slow", 0.6), ("ok", None)]
    lines = HttpTaxProvider().calculate(REQUEST, {"url": fake.url, "timeout_seconds": 0.3, "retries": 2})
    assert len(lines) == 2 and len(fake.requests) == 3


def test_retries_run_out_into_provider_unavailable(fake):
    fake.script = [(503, None)] * 3
    with pytest.raises(ProviderError) as failed:
        HttpTaxProvider().calculate(REQUEST, {"url": fake.url, "retries": 2})
    assert (failed.value.code, failed.value.message) == (
        "PROVIDER_UNAVAILABLE", "tax service answered 503 after 3 attempt(s)")
    assert len(fake.requests) == 3


def test_a_4xx_is_a_refusal_and_not_retried(fake):
    fake.script = [(422, None)]
    with pytest.raises(ProviderError) as failed:
        HttpTaxProvider().calculate(REQUEST, {"url": fake.url, "retries": 2})
    assert failed.value.code == "PROVIDER_DECLINED" and len(fake.requests) == 1


def _use_service(app, ids, url: str, policy: str):
    def work(session):
        set_provider(session, session.get(Channel, ids["channel"]), "tax_provider", HTTP_TAX,
                     {"url": url, "timeout_seconds": 0.5, "retries": 1})
        set_channel_settings(session, ids["channel"], failure_policy=policy)

    with app.app_context():
        app.extensions["vectis.db"].run(work)


def test_place_order_takes_the_services_taxes(app, client, fake):
    ids = taxed_store(app)
    _use_service(app, ids, fake.url, "refuse")
    cart = ready(client, BERLIN)

    placed = post(client, PLACE, {"id": cart, "key": "http-1"})["data"]["placeOrder"]

    assert placed["errors"] == []
    assert placed["order"]["taxTotal"] == {"amount": "4.35"}
    assert [(t["kind"], t["jurisdiction"], t["amount"]["amount"], t["provider"]) for t in placed["order"]["taxLines"]] == [
        ("line", HTTP_TAX, "3.42", HTTP_TAX), ("shipping", HTTP_TAX, "0.93", HTTP_TAX)]


def test_a_failing_service_refuses_the_checkout_when_the_policy_says_so(app, client, fake):
    ids = taxed_store(app)
    _use_service(app, ids, fake.url, "refuse")
    cart = ready(client, BERLIN)
    fake.script = [(500, None)] * 10

    placed = post(client, PLACE, {"id": cart, "key": "http-2"})["data"]["placeOrder"]

    assert placed["order"] is None
    assert placed["errors"] == [{"code": "TAX_PROVIDER_FAILED", "field": "cartId", "message":
                                 f"cartId: the tax service failed ({HTTP_TAX}: tax service answered 500 after 2 "
                                 "attempt(s)); try again later"}]
    assert rows(app, Order) == [] and rows(app, OrderTaxLine) == []


def test_a_failing_service_falls_back_to_the_tables_and_the_order_says_so(app, client, fake):
    ids = taxed_store(app)
    _use_service(app, ids, fake.url, "fallback")
    cart = ready(client, BERLIN)
    fake.script = [(500, None)] * 10

    placed = post(client, PLACE, {"id": cart, "key": "http-3"})["data"]["placeOrder"]

    assert placed["errors"] == []
    assert placed["order"]["taxTotal"] == {"amount": "4.35"}  # DE 19 % from the tables
    assert {t["provider"] for t in placed["order"]["taxLines"]} == {"core.tax_provider.table"}
    assert rows(app, Order)[0].pipeline["tax"]["fallback"] == f"{HTTP_TAX}: tax service answered 500 after 2 attempt(s)"
