"""The gift_cards pack: bulk generation (codes kept only as digests, never logged), partial
redemption, expiry, and 20 concurrent redemptions of one card never taking it below zero."""
from __future__ import annotations

import logging
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from extensions.gift_cards import cards
from runtime.clock import utcnow
from runtime.errors import BusinessError
from runtime.tenders import ledger
from runtime.tenders.models import StoredValueAccount, StoredValueEntry


def issue(app, count=1, amount="150.00", **kwargs):
    with app.app_context():
        return app.extensions["vectis.db"].run(lambda s: [code for code, _card in cards.generate(
            s, "staff@example.test", count=count, amount=amount, currency="EUR", **kwargs)])


def redeem(app, code, amount, key):
    with app.app_context():
        return app.extensions["vectis.db"].run(lambda s: cards.redeem(s, code, amount, key))


def balance(app, code):
    with app.app_context(), app.extensions["vectis.db"].session() as session:
        return cards.balance_of(session, code)


def count_entries(app) -> int:
    with app.extensions["vectis.db"].session() as session:
        return len(session.exec(select(StoredValueEntry)).all())


def test_bulk_generation_keeps_digests_only_and_logs_no_code(app, caplog):
    caplog.set_level(logging.DEBUG)
    codes = issue(app, count=50, amount="25.00", form="physical", batch="print-1")

    assert len(set(codes)) == 50 and all(len(code) == 19 and code.count("-") == 3 for code in codes)
    with app.extensions["vectis.db"].session() as session:
        stored = session.exec(select(StoredValueAccount)).all()
    assert len(stored) == 50 and {a.kind for a in stored} == {"gift_card"}
    assert all(a.lookup_hash and len(a.lookup_hash) == 64 and a.attributes == {"form": "physical", "batch": "print-1"}
               for a in stored)
    dumped = " ".join(str(a.model_dump()) for a in stored) + caplog.text
    assert not any(code in dumped or code.replace("-", "") in dumped for code in codes)
    assert "issued 50 physical gift cards of 25.00 EUR" in caplog.text
    assert balance(app, codes[0].lower().replace("-", " "))["balance"].amount == Decimal("25.00")


def test_partial_redemption_and_every_refusal_changes_nothing(app):
    [code] = issue(app, amount="30.00")
    assert redeem(app, code, "12.50", "r1") == Decimal("17.50")
    assert redeem(app, code, "12.50", "r1") == Decimal("17.50")  # the same key spends once
    entries = count_entries(app)

    for amount, key, code_, error, message in [
        ("20.00", "r2", code, "INSUFFICIENT_GIFT_CARD_BALANCE",
         f"amount: the gift card ending {code[-4:]} has 17.50 EUR, not 20.00"),
        ("-1", "r3", code, "INVALID_AMOUNT", "amount: expected a positive decimal in EUR's precision like \"25.00\", got '-1'"),
        ("1.00", "r4", "AAAA-BBBB-CCCC-DDDD", "UNKNOWN_GIFT_CARD", "code: no gift card with this code"),
    ]:
        with pytest.raises(BusinessError) as refused:
            redeem(app, code_, amount, key)
        assert (refused.value.code, refused.value.message) == (error, message)
    assert count_entries(app) == entries
    assert balance(app, code)["balance"].amount == Decimal("17.50")


def test_an_expired_card_is_refused(app):
    [code] = issue(app, amount="10.00", expires_at=utcnow() + timedelta(days=1))

    def expire(session):
        card = session.exec(select(StoredValueAccount)).one()
        card.expires_at = utcnow() - timedelta(seconds=1)
        session.add(card)

    app.extensions["vectis.db"].run(expire)
    with pytest.raises(BusinessError) as refused:
        redeem(app, code, "1.00", "r1")
    assert refused.value.code == "GIFT_CARD_EXPIRED"
    assert refused.value.message.startswith(f"code: the gift card ending {code[-4:]} expired on ")
    assert balance(app, code)["balance"].amount == Decimal("10.00")


def test_twenty_concurrent_redemptions_never_take_a_card_below_zero(app):
    # given a card of 150.00 and 20 buyers spending 10.00 each at the same moment
    [code] = issue(app, amount="150.00")
    barrier = threading.Barrier(20)
    outcomes: list = [None] * 20

    def spend(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = redeem(app, code, "10.00", f"buyer-{index}")
        except BusinessError as exc:
            outcomes[index] = exc.code

    threads = [threading.Thread(target=spend, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then exactly 15 succeed, 5 are refused, and the card ends at zero
    assert sorted(o for o in outcomes if isinstance(o, str)) == ["INSUFFICIENT_GIFT_CARD_BALANCE"] * 5
    assert sorted(o for o in outcomes if not isinstance(o, str)) == [Decimal(10) * n for n in range(15)]
    assert balance(app, code)["balance"].amount == Decimal("0")
    with app.extensions["vectis.db"].session() as session:
        debits = session.exec(select(StoredValueEntry).where(StoredValueEntry.kind == ledger.DEBIT)).all()
    assert len(debits) == 15
