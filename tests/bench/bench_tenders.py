"""Split-tender benchmark on PostgreSQL: placeOrder with three tenders next to one card, and the
authorisation-expiry sweep.

    .venv/bin/python -m tests.bench.bench_tenders [--quick] [--postgres URL]

1. placeOrder at concurrency 8 (threads, one test client each) over prepared carts: each cart
   paid by one card, then each paid by a gift card (the buyer's, 5.00), the account's store credit
   (5.00, the cascade's first step) and a card (the rest). Orders/s and SQL statements per
   placeOrder for both; target: the split at >= 70 % of the single card's throughput.
2. ``VoidExpiringCardAuths`` over 100,000 expired card authorisations (``--quick``: 10,000):
   seconds and SQL statements; every one must end voided at the gateway.

A scratch database is created, migrated and dropped on the server given.
"""
from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import event, insert, text

from tests.bench import scratch

#: Options this benchmark takes; the runner (tests/bench/run.py) passes it only these.
OPTIONS = ("--quick", "--postgres", "--checkouts-only")
CONCURRENCY = 8
CASCADE = "kind: tender_cascade\nname: bench\nsteps:\n  - tender: store_credit\n  - tender: card\n"
PLACE = ("mutation($id: ID!, $key: String!) { placeOrder(cartId: $id, idempotencyKey: $key) { order { id }"
         " errors { code message } } }")


def prepared_carts(app, client, count: int, split: bool) -> list[str]:
    """``count`` carts like one ready cart; with ``split``, each of its own account (5.00 store
    credit) with a 5.00 gift card in front."""
    from sqlmodel import select

    from extensions.gift_cards.cards import generate
    from runtime.accounts.models import Account
    from runtime.carts.models import Cart
    from runtime.tenders import ledger
    from runtime.tenders.models import CartTender, StoredValueAccount
    from tests.runtime.test_checkout_api import ready_cart
    from tests.runtime.test_inventory_concurrency import clone_carts

    tokens = clone_carts(app, ready_cart(client), count)
    if not split:
        return tokens
    database = app.extensions["vectis.db"]

    def work(session):
        run = uuid.uuid4().hex[:8]
        session.add_all([Account(slug=f"b-{run}-{i}", name="Bench") for i in range(count)])
        session.flush()
        accounts = session.exec(select(Account.id).where(Account.slug.like(f"b-{run}-%")).order_by(Account.id)).all()
        credit = [ledger.open_account(session, "store_credit", "EUR", owner=ledger.owner_key(None, a)) for a in accounts]
        for account in credit:
            ledger.credit(session, account, Decimal("5.00"), f"bench:{account.id}")
        generate(session, "bench", count=count, amount="5.00", currency="EUR")
        cards = session.exec(select(StoredValueAccount.id).where(StoredValueAccount.kind == "gift_card")
                             .order_by(StoredValueAccount.id.desc()).limit(count)).all()
        carts = session.exec(select(Cart).where(Cart.token.in_(tokens))).all()
        for cart, account_id, card_id in zip(carts, accounts, cards):
            cart.account_id = account_id
            session.add(cart)
            session.add(CartTender(cart_id=cart.id, position=0, type="gift_card", details={"stored_value_account_id": card_id}))

    with app.app_context():
        database.run(work)
    return tokens


def place_concurrently(app, tokens: list[str]) -> tuple[float, int, int]:
    """(orders/s, statements, refusals) placing every cart, CONCURRENCY at a time."""
    database = app.extensions["vectis.db"]
    statements = []
    listener = lambda *args: statements.append(1)  # noqa: E731
    refusals = []
    shares = [tokens[i::CONCURRENCY] for i in range(CONCURRENCY)]

    def run(share):
        client = app.test_client()
        for token in share:
            answer = client.post("/graphql", json={"query": PLACE, "variables": {"id": token, "key": uuid.uuid4().hex}},
                                 headers={"X-Channel-Slug": "web"}).get_json()
            if answer["data"]["placeOrder"]["errors"]:
                refusals.append(answer["data"]["placeOrder"]["errors"])

    threads = [threading.Thread(target=run, args=(share,)) for share in shares]
    event.listen(database.engine, "before_cursor_execute", listener)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    event.remove(database.engine, "before_cursor_execute", listener)
    return len(tokens) / seconds, len(statements), len(refusals)


def bench_sweep(app, count: int) -> tuple[float, int]:
    from runtime.clock import utcnow
    from runtime.money import Money
    from runtime.packs.api import PaymentRequest
    from runtime.payments.expiry import void_expiring_card_auths
    from runtime.payments.models import PaymentTransaction

    gateway = app.extensions["vectis.registry"].get("mock_gateway.payment_gateway.mock").value
    config = {"merchant_id": "test"}
    database = app.extensions["vectis.db"]
    order_id = database.run(lambda s: s.execute(text("SELECT id FROM orders ORDER BY id LIMIT 1")).scalar_one())
    then = utcnow() - timedelta(days=8)
    rows = []
    for n in range(count):
        key = f"bench-expiry-{n}"
        result = gateway.authorize(PaymentRequest(reference=key, amount=Money("10.00", "EUR"), idempotency_key=key,
                                                  payment_token="4242424242424242"), config)
        rows.append({"order_id": order_id, "type": "authorization", "state": "authorized", "state_entered_at": then,
                     "gateway": "mock_gateway.payment_gateway.mock", "gateway_reference": result.transaction_id,
                     "idempotency_key": key, "amount": Decimal("10.00"), "currency": "EUR",
                     "captured_amount": Decimal(0), "refunded_amount": Decimal(0), "fraud_hold": False,
                     "actor": "bench", "raw": {}, "created_at": then})

    def given(session):
        for start in range(0, count, 10_000):
            session.execute(insert(PaymentTransaction.__table__), rows[start:start + 10_000])

    database.run(given)
    statements = []
    listener = lambda *args: statements.append(1)  # noqa: E731
    event.listen(database.engine, "before_cursor_execute", listener)
    started = time.perf_counter()
    with app.app_context():
        done = void_expiring_card_auths(app)
    seconds = time.perf_counter() - started
    event.remove(database.engine, "before_cursor_execute", listener)
    assert done["voided"] >= count, done
    return seconds, len(statements)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests.bench.bench_tenders", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="48 checkouts per variant and 10,000 authorisations")
    parser.add_argument("--postgres", metavar="URL", help="server for the scratch database (default: VECTIS_BENCH_DATABASE_URL or 127.0.0.1)")
    parser.add_argument("--checkouts-only", action="store_true", help="measure the checkouts, not the expiry sweep")
    args = parser.parse_args(argv)
    checkouts, auths = (48, 10_000) if args.quick else (240, 100_000)

    from runtime.app import create_app
    from runtime.definitions import store as definitions
    from runtime.definitions.environment import build_environment
    from runtime.definitions.live import live_definitions
    from runtime.migrate import upgrade
    from tests.conftest import make_settings
    from tests.runtime.test_carts_api import store
    from tests.runtime.test_inventory_concurrency import wide_pool

    with scratch.scratch_postgres(scratch.postgres_server(args.postgres)) as url, tempfile.TemporaryDirectory() as var:
        upgrade(url)
        app = create_app(make_settings(url, "", Path(var)))
        wide_pool(app)
        client = app.test_client()
        with app.app_context():
            store(app)
            env = build_environment(app.extensions["vectis.registry"])
            app.extensions["vectis.db"].run(lambda s: definitions.publish(s, CASCADE, env, author="bench"))
            live_definitions(app).refresh(force=True)
        results = {}
        for name, split in (("one card", False), ("gift card + store credit + card", True), ("one card (again)", False)):
            tokens = prepared_carts(app, client, checkouts, split)
            rate, statements, refused = place_concurrently(app, tokens)
            results[name] = rate
            print(f"placeOrder, {name}: {rate:.1f} orders/s at c={CONCURRENCY}, {statements / checkouts:.1f} statements "
                  f"per placeOrder, {refused} refused", flush=True)
        single = (results["one card"] + results["one card (again)"]) / 2
        ratio = results["gift card + store credit + card"] / single
        print(f"three tenders at {ratio:.0%} of one card's throughput (target >= 70 %)", flush=True)
        if not args.checkouts_only:
            seconds, statements = bench_sweep(app, auths)
            print(f"VoidExpiringCardAuths over {auths:,} authorisations: {seconds:.2f} s ({auths / seconds:,.0f}/s), "
                  f"{statements} statements", flush=True)
        app.extensions["vectis.db"].dispose()
    return 0 if ratio >= 0.7 else 1


if __name__ == "__main__":
    raise SystemExit(main())
