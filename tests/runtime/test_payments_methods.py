"""Saved payment methods (who may save, see and use which) and pay_order's refusals before the gateway."""
from __future__ import annotations

import pytest
from sqlmodel import select

from runtime.auth.permissions import Actor
from runtime.channels.models import Channel, ChannelProvider
from runtime.errors import BusinessError
from runtime.orders import service as orders
from runtime.orders.models import Order
from runtime.payments import service as payments
from runtime.payments.models import PaymentTransaction, SavedPaymentMethod
from tests.runtime.test_orders_data import (MOCK, STAFF, SUCCESS, customer, draft, employee, events, live,  # noqa: F401
                                            shop)


def methods(database):
    with database.session() as session:
        return session.exec(select(SavedPaymentMethod).order_by(SavedPaymentMethod.id)).all()


def _add(database, shop, actor, **kwargs):
    return database.run(lambda s: payments.add_saved_payment_method(s, actor, channel_id=shop["web"], **kwargs))


def _customer_id(database, shop) -> int:
    from runtime.accounts.models import Customer

    def work(session):
        row = Customer(user_id=shop["carla"])
        session.add(row)
        session.flush()
        return row.id

    return database.run(work)


def test_who_saves_a_method_for_whom(shop, database):
    customer_id = _customer_id(database, shop)
    carla = Actor(user_id=shop["carla"], email="carla@example.test", customer_id=customer_id)
    own = _add(database, shop, carla, token="5555555555554444", label="Mine")
    account_wide = _add(database, shop, employee(shop), token=SUCCESS)
    by_staff = _add(database, shop, STAFF, token=SUCCESS, account_id=shop["globex"], location_id=shop["globex_hq"])

    assert [(m.customer_id, m.account_id, m.location_id, m.brand, m.last4, m.gateway) for m in methods(database)] == [
        (customer_id, None, None, "mastercard", "4444", MOCK), (None, shop["acme"], None, "visa", "4242", MOCK),
        (None, shop["globex"], shop["globex_hq"], "visa", "4242", MOCK)]
    assert (own.label, account_wide.label, by_staff.label) == ("Mine", "", "")


def test_refused_saves_change_nothing(shop, database):
    carla = Actor(user_id=shop["carla"], email="carla@example.test", customer_id=7)
    cases = [
        (carla, {"token": SUCCESS, "location_id": shop["acme_hq"]}, "INVALID_LOCATION", "locationId",
         "locationId: a customer's payment methods are not scoped to a location"),
        (employee(shop), {"token": SUCCESS, "account_id": shop["globex"]}, "NOT_FOUND", "accountId",
         f"accountId: no account {shop['globex']}"),
        (employee(shop), {"token": SUCCESS, "location_id": shop["globex_hq"]}, "NOT_FOUND", "locationId",
         f"locationId: no location {shop['globex_hq']}"),
        (STAFF, {"token": SUCCESS}, "NO_OWNER", "accountId",
         "accountId: only a customer, an employee, or staff naming an account can save a payment method"),
        (STAFF, {"token": SUCCESS, "account_id": 999999}, "NOT_FOUND", "accountId", "accountId: no account 999999"),
        (employee(shop), {"token": "  "}, "MISSING_PAYMENT", "token", "token: a payment token is needed"),
    ]
    for actor, kwargs, code, field, message in cases:
        with pytest.raises(BusinessError) as refused:
            _add(database, shop, actor, **kwargs)
        assert (refused.value.code, refused.value.field, refused.value.message) == (code, field, message)
    assert methods(database) == []


def test_who_sees_which_method(shop, database):
    account_wide = _add(database, shop, employee(shop), token=SUCCESS)
    at_hq = _add(database, shop, employee(shop), token=SUCCESS, location_id=shop["acme_hq"])
    other = _add(database, shop, employee(shop, "gina", "globex"), token=SUCCESS)
    elsewhere = Actor(user_id=shop["erik"], email="erik@example.test", employee_id=1, account_id=shop["acme"],
                      location_id=999)

    with database.session() as session:
        listed = {name: [m.id for m in payments.list_saved_payment_methods(session, actor, location)]
                  for name, actor, location in (("erik", employee(shop), None), ("elsewhere", elsewhere, None),
                                                ("gina", employee(shop, "gina", "globex"), None),
                                                ("staff", STAFF, shop["acme_hq"]), ("staff-none", STAFF, None))}
        assert listed == {"erik": [account_wide.id, at_hq.id], "elsewhere": [account_wide.id], "gina": [other.id],
                          "staff": [account_wide.id, at_hq.id], "staff-none": []}
        assert payments.validate_payment_method(session, employee(shop), session.get(Channel, shop["web"]), token=None,
                                                saved_payment_method_id=str(at_hq.id)) == {
            "gateway": MOCK, "token": None, "saved_payment_method_id": at_hq.id, "label": "", "brand": "visa", "last4": "4242"}
        assert payments.validate_payment_method(session, customer(shop), session.get(Channel, shop["web"]), token=SUCCESS) == {
            "gateway": MOCK, "token": SUCCESS, "saved_payment_method_id": None}
        for actor, method_id in ((elsewhere, at_hq.id), (employee(shop, "gina", "globex"), account_wide.id),
                                 (employee(shop), "nope")):
            with pytest.raises(BusinessError) as refused:
                payments.validate_payment_method(session, actor, session.get(Channel, shop["web"]), token=None,
                                                 saved_payment_method_id=method_id)
            assert (refused.value.code, refused.value.field, refused.value.message) == (
                "NOT_FOUND", "savedPaymentMethodId", f"savedPaymentMethodId: no saved payment method {method_id}")
        with pytest.raises(BusinessError) as both:
            payments.validate_payment_method(session, employee(shop), session.get(Channel, shop["web"]), token=SUCCESS,
                                             saved_payment_method_id=at_hq.id)
        assert (both.value.code, both.value.message) == ("MISSING_PAYMENT", "input: give exactly one of token and savedPaymentMethodId")


def test_pay_order_refuses_without_gateway_or_payment_and_changes_nothing(shop, database):
    def without_gateway(session):
        for row in session.exec(select(ChannelProvider)):
            row.is_active = False
            session.add(row)

    def pay(token):
        def work(session):
            order = orders.create_order(session, draft(shop, channel="trade", user="carla"), customer(shop))
            payments.pay_order(session, order, channel=session.get(Channel, shop["trade"]), actor=customer(shop),
                               idempotency_key="order:1:k", token=token)
        database.run(work)

    with pytest.raises(BusinessError) as missing:
        pay(None)
    assert (missing.value.code, missing.value.field, missing.value.message) == (
        "MISSING_PAYMENT", "payment", "payment: a card token or a saved payment method is needed")
    database.run(without_gateway)
    with pytest.raises(BusinessError) as no_gateway:
        pay(SUCCESS)
    assert (no_gateway.value.code, no_gateway.value.field, no_gateway.value.message) == (
        "NO_GATEWAY", "payment",
        "payment: the channel has no payment gateway configured (setChannelProvider, slot payment_gateway)")
    with database.session() as session:
        assert session.exec(select(Order)).all() == [] and session.exec(select(PaymentTransaction)).all() == []
    assert events(database) == []
