"""The tender_cascade preview: a payer and an order total (and tenders the buyer puts in front) give
the split under the live cascades and with the draft, side by side: which cascade is selected,
each step's cap and cover, the legs; refusals and bad input as data; nothing held or written."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from admin_ui.previews import tender_cascade
from runtime.accounts.models import Account
from runtime.auth.service import seed_roles
from runtime.accounts.service import register_customer
from runtime.definitions.environment import build_environment
from runtime.definitions.store import check
from runtime.payments.models import PaymentTransaction
from runtime.tenders import ledger
from runtime.tenders.models import NetTermsAccount, NetTermsReservation, PaymentIntent, StoredValueAccount, StoredValueEntry
from runtime.tenders.types import tender_types
from tests.admin_ui.helpers import publish, revisions, sign_in
from tests.runtime.test_carts_api import store

SHIPPED = (Path(__file__).resolve().parents[2] / "definitions" / "tender_cascade"
           / "b2b_store_credit_terms_card.yaml").read_text()
PAGE = "/admin/definitions/tender_cascade/b2b_store_credit_terms_card"
#: The draft: terms first, capped at 400, then store credit, then the card (its examples follow).
TERMS_FIRST = """kind: tender_cascade
name: b2b_store_credit_terms_card
priority: 10
when:
  is_b2b: true
steps:
  - tender: net_terms
    cap: {max_amount: "400.00"}
  - tender: store_credit
  - tender: card
examples:
  - given:
      payer: {is_b2b: true}
      total: "1000.00"
      available: {store_credit: "300.00", net_terms: "500.00"}
    expect:
      selected: true
      split:
        - {tender: net_terms, amount: "400.00"}
        - {tender: store_credit, amount: "300.00"}
        - {tender: card, amount: "300.00"}
"""
#: A new cascade for consumers: store credit, then the card.
CONSUMERS = """kind: tender_cascade
name: consumers_credit_first
when:
  is_b2b: false
steps:
  - tender: store_credit
  - tender: card
examples:
  - given: {payer: {is_b2b: false}, total: "10.00", available: {store_credit: "4.00"}}
    expect:
      split:
        - {tender: store_credit, amount: "4.00"}
        - {tender: card, amount: "6.00"}
"""


def post(client, path, token, **form):
    return client.post(path, data={"csrf_token": token, **form})


@pytest.fixture
def payers(app):
    """acme (300.00 store credit, 500.00 net terms of which 100.00 reserved) and a customer with 40.00."""
    store(app)

    def work(session):
        seed_roles(session)
        account = Account(slug="acme", name="Acme")
        session.add(account)
        session.flush()
        credit = ledger.open_account(session, "store_credit", "EUR", owner=ledger.owner_key(account_id=account.id))
        ledger.credit(session, credit, Decimal("300.00"), "seed-acme")
        terms = NetTermsAccount(account_id=account.id, credit_limit=Decimal("500.00"), currency="EUR")
        session.add(terms)
        session.flush()
        session.add(NetTermsReservation(terms_account_id=terms.id, amount=Decimal("100.00"), currency="EUR",
                                        due_at=terms.updated_at, idempotency_key="seed-reservation"))
        customer = register_customer(session, "vera@example.test", "correct horse battery", "Vera", "Ip")
        own = ledger.open_account(session, "store_credit", "EUR", owner=ledger.owner_key(customer_id=customer.id))
        ledger.credit(session, own, Decimal("40.00"), "seed-vera")

    app.extensions["vectis.db"].run(work)


def side(page: str, name: str) -> dict:
    block = re.search(rf'id="split-{name}">(.*?)</div>', page, re.S).group(1)
    return {"cascade": re.search(r'<strong class="cascade">([^<]+)</strong>', block).group(1),
            "legs": re.findall(r'<li data-tender="(\w+)" data-source="(\w+)">\w+ <strong>([\d.]+)</strong>', block),
            "refusal": re.findall(r'<p class="refused"><code>(\w+)</code> (.*?)</p>', block)}


def test_the_draft_split_against_the_live_one_for_an_account(app, client, payers):
    token = sign_in(app, client, "merchandiser")
    response = post(client, PAGE, token, source=TERMS_FIRST, action="preview", base_revision="1",
                    cascade_total="1000.00", cascade_buyer="acme")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert side(page, "live") == {"cascade": "b2b_store_credit_terms_card@1", "refusal": [], "legs": [
        ("store_credit", "cascade", "300.00"), ("net_terms", "cascade", "400.00"), ("card", "cascade", "300.00")]}
    assert side(page, "draft") == {"cascade": "b2b_store_credit_terms_card@draft", "refusal": [], "legs": [
        ("net_terms", "cascade", "400.00"), ("store_credit", "cascade", "300.00"), ("card", "cascade", "300.00")]}
    covers = re.search(r'id="covers">(.*?)</p>', page, re.S).group(1)
    assert "store_credit 300.00 <small>(balance)</small>" in covers
    assert "net_terms 400.00 <small>(open credit of 500.00)</small>" in covers
    assert "card any amount" in covers
    assert re.search(r'id="payer">(.*?)</code>', page).group(1) == (
        '{"account": "acme", "channel": "web", "currency": "EUR", "is_b2b": true, "total": 1000.0}')
    assert revisions(app, "tender_cascade", "b2b_store_credit_terms_card")[0][0] == 1


def test_a_new_cascade_and_a_buyer_tender_in_front(app, client, payers):
    token = sign_in(app, client, "merchandiser")
    page = post(client, "/admin/definitions/new", token, kind="tender_cascade", source=CONSUMERS, action="preview",
                cascade_total="100.00", cascade_buyer="vera@example.test",
                cascade_prepended="gift_card 25.00").get_data(as_text=True)
    # live: the shipped B2B cascade does not select a consumer: the card pays what the gift card leaves
    assert side(page, "live") == {"cascade": "No cascade selects this payer", "refusal": [], "legs": [
        ("gift_card", "buyer_prepended", "25.00"), ("card", "cascade", "75.00")]}
    assert side(page, "draft") == {"cascade": "consumers_credit_first@draft", "refusal": [], "legs": [
        ("gift_card", "buyer_prepended", "25.00"), ("store_credit", "cascade", "40.00"), ("card", "cascade", "35.00")]}
    assert "Live cascades (consumers_credit_first not published)" in page
    assert "✗ is_b2b" in page and "✓ is_b2b" in page
    assert revisions(app, "tender_cascade", "consumers_credit_first") == []


def test_refusals_are_shown_as_data_per_side(app, client, payers):
    token = sign_in(app, client, "merchandiser")
    no_card = TERMS_FIRST.replace("  - tender: card\n", "").replace(
        '        - {tender: card, amount: "300.00"}\n', "").replace('total: "1000.00"', 'total: "700.00"')
    page = post(client, PAGE, token, source=no_card, action="preview", base_revision="1", cascade_total="1000.00",
                cascade_buyer="acme").get_data(as_text=True)
    assert side(page, "live")["refusal"] == []
    assert side(page, "draft")["refusal"] == [
        ("TENDERS_NOT_COVERED", "tenders: 300.00 of the total 1000.00 is covered by no tender; add a card or another tender")]
    over = post(client, PAGE, token, source=TERMS_FIRST, action="preview", base_revision="1", cascade_total="10.00",
                cascade_buyer="acme", cascade_prepended="gift_card 12.00").get_data(as_text=True)
    assert side(over, "live")["refusal"] == side(over, "draft")["refusal"] == [
        ("TENDERS_EXCEED_TOTAL", "tenders[0].amount: 12.00 is more than the 10.00 left of the total 10.00")]


def test_balances_given_replace_what_is_read(app, client, payers):
    token = sign_in(app, client, "merchandiser")
    page = post(client, PAGE, token, source=TERMS_FIRST, action="preview", base_revision="1", cascade_total="1000.00",
                cascade_buyer="acme", cascade_balances="store_credit 50\nnet_terms 0",
                cascade_prepended="gift_card").get_data(as_text=True)
    # a gift card in front with no amount and no balance given covers nothing
    assert side(page, "live")["legs"] == [("store_credit", "cascade", "50.00"), ("card", "cascade", "950.00")]
    assert "gift_card 0.00 <small>(not read in a preview: give it a balance)</small>" in page


@pytest.mark.parametrize("form, problems", [
    ({"cascade_total": "abc", "cascade_buyer": "ghost"},
     ["cascade_buyer: no customer e-mail or B2B account slug &#39;ghost&#39;",
      "cascade_total: expected a positive decimal like &#34;10.00&#34;, got &#39;abc&#39;"]),
    ({"cascade_total": "10.001", "cascade_prepended": "cheque 5\ngift_card 1 2", "cascade_balances": "store_credit",
      "cascade_group": "nobody", "cascade_location": "HQ"},
     ["cascade_total: EUR amounts have at most 2 decimal places and 13 digits, got &#39;10.001&#39;",
      "cascade_group: no customer group &#39;nobody&#39;",
      "cascade_location: a location belongs to a B2B account; give the account&#39;s slug as the buyer",
      "cascade_prepended: line 1: unknown tender type &#39;cheque&#39; (known: {known})",
      "cascade_prepended: line 2: expected &#39;type amount&#39; or just the type, got &#39;gift_card 1 2&#39;",
      "cascade_balances: line 1: expected &#39;type amount&#39;, got &#39;store_credit&#39;"]),
    ({"cascade_total": "-5", "cascade_currency": "JPY"},
     ["cascade_currency: channel web sells in EUR, USD, not &#39;JPY&#39;"]),
    ({"cascade_total": "0", "cascade_channel": "nowhere"}, ["cascade_channel: no channel &#39;nowhere&#39;"]),
    ({"cascade_total": "0"}, ["cascade_total: expected a positive decimal like &#34;10.00&#34;, got &#39;0&#39;"]),
])
def test_bad_input_is_named_by_its_field_never_a_500(app, client, payers, form, problems):
    token = sign_in(app, client, "merchandiser")
    response = post(client, PAGE, token, source=TERMS_FIRST, action="preview", base_revision="1", **form)
    assert response.status_code == 200
    known = ", ".join(sorted(tender_types(app)))  # the core's types and the built-in packs'
    assert re.findall(r'<p class="refused">(.*?)</p>', response.get_data(as_text=True)) == [
        problem.replace("{known}", known) for problem in problems]


def test_the_preview_holds_nothing_and_writes_nothing(app, payers):
    database = app.extensions["vectis.db"]
    checked = check(TERMS_FIRST, build_environment(app.extensions["vectis.registry"]), "tender_cascade/x")
    assert checked.ok, checked.errors
    models = (StoredValueAccount, StoredValueEntry, NetTermsAccount, NetTermsReservation, PaymentIntent,
              PaymentTransaction)

    def counts():
        with database.session() as s:
            return tuple(s.execute(select(func.count()).select_from(m)).scalar_one() for m in models)

    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    before = counts()
    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        with app.test_request_context(), database.session() as s:
            live = app.extensions["vectis.definitions"].get("tender_cascade", "b2b_store_credit_terms_card").compiled
            shown = tender_cascade.preview(app, s, checked.definition.compiled, live,
                                           {"cascade_total": "1000.00", "cascade_buyer": "acme",
                                            "cascade_prepended": "gift_card 10.00"})
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    assert [(leg["tender"], leg["amount"]) for leg in shown["sample"]["draft"]["legs"]] == [
        ("gift_card", Decimal("10.00")), ("net_terms", Decimal("400.00")), ("store_credit", Decimal("300.00")),
        ("card", Decimal("290.00"))]
    assert statements and all(s.lstrip().upper().startswith("SELECT") for s in statements), statements
    assert not any("FOR UPDATE" in s.upper() for s in statements)
    assert counts() == before
