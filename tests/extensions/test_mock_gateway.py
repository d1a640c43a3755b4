"""The mock payment gateway pack: test-card outcomes, capture/refund/void arithmetic, refusals,
idempotency keys, thread safety, and loading through the real pack loader."""
from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extensions.mock_gateway import CONFIG_SCHEMA, register
from extensions.mock_gateway.cards import TEST_CARDS, _luhn_valid
from runtime.config import ROOT
from runtime.packs.api import Money, PackContext, PaymentGateway, PaymentRequest, ProviderError
from runtime.packs.manifest import load_manifest
from runtime.packs.registry import Registry
from runtime.packs.slots import declare_core_slots
from tests.runtime.test_packs_support import bare_app

CONFIG = {"merchant_id": "shop_1"}
VISA = "4242 4242 4242 4242"


@pytest.fixture
def gateway():
    registry = Registry()
    declare_core_slots(registry)
    manifest = load_manifest(ROOT / "extensions" / "mock_gateway" / "manifest.yaml")
    with registry.staged():
        register(PackContext(registry, manifest))
    return registry.get("mock_gateway.payment_gateway.mock").value


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def authorize(gateway, card=VISA, amount="100.00", key="auth-1", config=CONFIG, reference="order-1"):
    return gateway.authorize(PaymentRequest(reference, eur(amount) if isinstance(amount, str) else amount, key, card), config)


def refused(call, *args) -> ProviderError:
    with pytest.raises(ProviderError) as raised:
        call(*args)
    return raised.value


# --- authorization outcomes ---------------------------------------------------------------------


def test_every_test_card_number_passes_the_luhn_check():
    assert all(_luhn_valid(number) for number in TEST_CARDS)


def test_a_success_card_is_authorized_and_only_its_last_four_digits_are_kept(gateway):
    result = authorize(gateway)
    assert (result.status, result.amount, result.error_code) == ("authorized", eur("100.00"), None)
    assert result.transaction_id.startswith("mock_auth_")
    assert result.raw["card"] == {"brand": "visa", "last4": "4242"}
    stored = repr(vars(gateway))
    assert "4242424242424242" not in stored and "4242 4242 4242 4242" not in stored


@pytest.mark.parametrize(
    ("card", "code"),
    [
        ("4000000000009995", "insufficient_funds"),
        ("4000000000000002", "do_not_honor"),
        ("4000000000000069", "expired_card"),
        ("4000000000000127", "incorrect_cvc"),
        ("4242424242424241", "incorrect_number"),
        ("1234", "incorrect_number"),
    ],
)
def test_decline_cards_fail_with_the_processor_code(gateway, card, code):
    result = authorize(gateway, card)
    assert (result.status, result.error_code) == ("failed", code)
    assert result.message
    # A failed authorization cannot be captured.
    error = refused(gateway.capture, result.transaction_id, eur("1"), "cap", CONFIG)
    assert (error.code, error.field, error.params) == ("PAYMENT_STATE_INVALID", "transaction_id", {"status": "failed"})


def test_the_fraud_card_is_held_for_review_and_cannot_be_captured_until_approved(gateway):
    result = authorize(gateway, "4000 0000 0000 9235")
    assert (result.status, result.error_code) == ("pending", "fraud_review")
    assert refused(gateway.capture, result.transaction_id, eur("100"), "cap", CONFIG).code == "PAYMENT_STATE_INVALID"
    assert gateway.resolve_review(result.transaction_id, True, CONFIG).status == "authorized"
    assert gateway.capture(result.transaction_id, eur("100"), "cap", CONFIG).status == "captured"
    assert refused(gateway.resolve_review, result.transaction_id, True, CONFIG).code == "PAYMENT_STATE_INVALID"


def test_a_rejected_review_fails_the_authorization(gateway):
    result = authorize(gateway, "4000000000009235")
    rejected = gateway.resolve_review(result.transaction_id, False, CONFIG)
    assert (rejected.status, rejected.error_code) == ("failed", "fraud_rejected")


def test_amounts_from_the_review_threshold_are_held_for_review(gateway):
    config = {**CONFIG, "review_from": {"amount": "1000", "currency": "EUR"}}
    assert authorize(gateway, amount="999.99", key="a", config=config).status == "authorized"
    assert authorize(gateway, amount="1000.00", key="b", config=config).status == "pending"
    # A decline is not turned into a review.
    assert authorize(gateway, "4000000000000002", amount="5000", key="c", config=config).status == "failed"


def test_a_review_threshold_in_another_currency_is_refused(gateway):
    config = {**CONFIG, "review_from": {"amount": "1000", "currency": "USD"}}
    error = refused(authorize, gateway, VISA, "10", "k", config)
    assert (error.code, error.field, error.params) == ("CURRENCY_MISMATCH", "review_from.currency", {"expected": "EUR", "actual": "USD"})


def test_the_timeout_card_raises_provider_unavailable_and_authorizes_nothing(gateway):
    error = refused(authorize, gateway, "4000000000000119")
    assert error.code == "PROVIDER_UNAVAILABLE"
    assert "retrying may succeed" in error.message
    assert gateway._authorizations == {}
    # The key took no effect: it may carry another request.
    assert authorize(gateway, VISA).status == "authorized"


def test_a_missing_card_or_a_non_positive_amount_is_refused(gateway):
    error = refused(authorize, gateway, None)
    assert (error.code, error.field) == ("PROVIDER_DECLINED", "payment_token")
    error = refused(authorize, gateway, VISA, "0")
    assert (error.code, error.field) == ("PAYMENT_AMOUNT_INVALID", "amount")


# --- capture ------------------------------------------------------------------------------------


def test_partial_captures_add_up_to_the_authorized_amount(gateway):
    auth = authorize(gateway).transaction_id
    first = gateway.capture(auth, eur("30.10"), "c1", CONFIG)
    assert (first.status, first.amount, first.raw["captured"]) == ("partially_captured", eur("30.10"), "30.10")
    assert first.transaction_id.startswith("mock_cap_")
    second = gateway.capture(auth, eur("69.90"), "c2", CONFIG)
    assert (second.status, second.raw["captured"]) == ("captured", "100.00")


def test_a_capture_above_what_remains_is_refused_and_changes_nothing(gateway):
    auth = authorize(gateway).transaction_id
    gateway.capture(auth, eur("60"), "c1", CONFIG)
    error = refused(gateway.capture, auth, eur("40.01"), "c2", CONFIG)
    assert (error.code, error.field, error.params) == ("PAYMENT_AMOUNT_INVALID", "amount", {"available": "40.00"})
    assert error.message == "amount: cannot capture 40.01 EUR; 40.00 EUR of 100.00 EUR remains to capture"
    assert gateway.capture(auth, eur("40"), "c2", CONFIG).status == "captured"
    assert refused(gateway.capture, auth, eur("0.01"), "c3", CONFIG).code == "PAYMENT_STATE_INVALID"


def test_a_capture_of_zero_or_in_another_currency_is_refused(gateway):
    auth = authorize(gateway).transaction_id
    assert refused(gateway.capture, auth, eur("0"), "c1", CONFIG).code == "PAYMENT_AMOUNT_INVALID"
    error = refused(gateway.capture, auth, Money(Decimal("10"), "USD"), "c2", CONFIG)
    assert (error.code, error.field, error.params) == ("CURRENCY_MISMATCH", "amount", {"expected": "EUR", "actual": "USD"})


def test_an_unknown_or_foreign_transaction_is_not_found(gateway):
    auth = authorize(gateway).transaction_id
    assert refused(gateway.capture, "mock_auth_999999", eur("1"), "c1", CONFIG).code == "PAYMENT_NOT_FOUND"
    error = refused(gateway.capture, auth, eur("1"), "c1", {"merchant_id": "other_shop"})
    assert (error.code, error.field) == ("PAYMENT_NOT_FOUND", "transaction_id")


def test_a_follow_up_naming_a_capture_id_says_which_id_to_use(gateway):
    auth = authorize(gateway).transaction_id
    capture = gateway.capture(auth, eur("100"), "c1", CONFIG).transaction_id
    error = refused(gateway.refund, capture, eur("1"), "r1", CONFIG)
    assert error.code == "PAYMENT_NOT_FOUND"
    assert error.message == (
        f"transaction_id: {capture!r} is not an authorization; capture, refund and void name the authorization ({auth!r})"
    )


# --- void ---------------------------------------------------------------------------------------


def test_an_uncaptured_authorization_is_voided_once(gateway):
    auth = authorize(gateway).transaction_id
    result = gateway.void(auth, "v1", CONFIG)
    assert (result.status, result.amount) == ("voided", eur("100"))
    assert refused(gateway.void, auth, "v2", CONFIG).code == "PAYMENT_STATE_INVALID"
    assert refused(gateway.capture, auth, eur("1"), "c1", CONFIG).code == "PAYMENT_STATE_INVALID"


def test_a_held_authorization_can_be_voided(gateway):
    auth = authorize(gateway, "4000000000009235").transaction_id
    assert gateway.void(auth, "v1", CONFIG).status == "voided"


def test_captured_money_is_refunded_not_voided(gateway):
    auth = authorize(gateway).transaction_id
    gateway.capture(auth, eur("10"), "c1", CONFIG)
    error = refused(gateway.void, auth, "v1", CONFIG)
    assert error.code == "PAYMENT_STATE_INVALID"
    assert error.message == (
        f"transaction_id: cannot void authorization {auth!r}, which is partially_captured;"
        " only an uncaptured authorization can be voided; refund captured money"
    )


# --- refund -------------------------------------------------------------------------------------


def test_partial_refunds_sum_to_at_most_the_captured_amount(gateway):
    auth = authorize(gateway).transaction_id
    gateway.capture(auth, eur("80"), "c1", CONFIG)
    first = gateway.refund(auth, eur("30.33"), "r1", CONFIG)
    assert (first.status, first.raw["refunded"]) == ("partially_refunded", "30.33")
    assert first.transaction_id.startswith("mock_ref_")
    error = refused(gateway.refund, auth, eur("49.68"), "r2", CONFIG)
    assert (error.code, error.params) == ("PAYMENT_AMOUNT_INVALID", {"available": "49.67"})
    last = gateway.refund(auth, eur("49.67"), "r2", CONFIG)
    assert (last.status, last.raw["refunded"]) == ("refunded", "80.00")
    assert refused(gateway.refund, auth, eur("0.01"), "r3", CONFIG).code == "PAYMENT_STATE_INVALID"


def test_uncaptured_money_cannot_be_refunded(gateway):
    auth = authorize(gateway).transaction_id
    error = refused(gateway.refund, auth, eur("1"), "r1", CONFIG)
    assert (error.code, error.params) == ("PAYMENT_STATE_INVALID", {"status": "authorized"})


def test_a_refund_stops_further_captures(gateway):
    auth = authorize(gateway).transaction_id
    gateway.capture(auth, eur("50"), "c1", CONFIG)
    gateway.refund(auth, eur("10"), "r1", CONFIG)
    assert refused(gateway.capture, auth, eur("50"), "c2", CONFIG).code == "PAYMENT_STATE_INVALID"


def test_money_in_a_currency_without_minor_units(gateway):
    yen = lambda amount: Money(Decimal(amount), "JPY")  # noqa: E731
    auth = authorize(gateway, amount=yen("1000")).transaction_id
    assert gateway.capture(auth, yen("999"), "c1", CONFIG).raw["captured"] == "999"
    assert refused(gateway.capture, auth, yen("2"), "c2", CONFIG).params == {"available": "1"}


# --- idempotency --------------------------------------------------------------------------------


def test_the_same_key_and_request_returns_the_same_result_without_a_second_effect(gateway):
    first = authorize(gateway)
    assert authorize(gateway) == first
    assert len(gateway._authorizations) == 1
    capture = gateway.capture(first.transaction_id, eur("60"), "c1", CONFIG)
    assert gateway.capture(first.transaction_id, eur("60"), "c1", CONFIG) == capture
    assert gateway.capture(first.transaction_id, eur("40"), "c2", CONFIG).status == "captured"


def test_a_declined_result_is_replayed_for_its_key(gateway):
    first = authorize(gateway, "4000000000009995")
    assert authorize(gateway, "4000000000009995") == first


@pytest.mark.parametrize(
    "other",
    [
        {"card": "5555555555554444"},
        {"amount": "100.01"},
        {"reference": "order-2"},
    ],
)
def test_the_same_key_with_another_request_is_refused(gateway, other):
    authorize(gateway)
    error = refused(lambda: authorize(gateway, **other))
    assert (error.code, error.field) == ("IDEMPOTENCY_KEY_REUSED", "idempotency_key")
    assert error.message == "idempotency_key: 'auth-1' was already used for a different request; use a new key for a new request"
    assert len(gateway._authorizations) == 1


def test_a_key_used_for_one_operation_is_refused_for_another(gateway):
    auth = authorize(gateway).transaction_id
    gateway.capture(auth, eur("10"), "k", CONFIG)
    assert refused(gateway.refund, auth, eur("10"), "k", CONFIG).code == "IDEMPOTENCY_KEY_REUSED"


def test_idempotency_keys_belong_to_a_merchant(gateway):
    ours = authorize(gateway)
    theirs = authorize(gateway, config={"merchant_id": "shop_2"})
    assert ours.transaction_id != theirs.transaction_id


def test_a_refused_call_records_no_key(gateway):
    auth = authorize(gateway).transaction_id
    refused(gateway.capture, auth, eur("500"), "c1", CONFIG)
    assert gateway.capture(auth, eur("50"), "c1", CONFIG).status == "partially_captured"


# --- threads ------------------------------------------------------------------------------------


def test_concurrent_captures_never_capture_more_than_the_authorization(gateway):
    auth = authorize(gateway).transaction_id
    threads_count = 20
    start = threading.Barrier(threads_count)
    results, errors = [], []

    def capture(index: int) -> None:
        start.wait()
        try:
            results.append(gateway.capture(auth, eur("10"), f"c{index}", CONFIG))
        except ProviderError as error:
            errors.append(error.code)

    threads = [threading.Thread(target=capture, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 10
    assert sorted(r.raw["captured"] for r in results) == sorted(f"{10 * n}.00" for n in range(1, 11))
    assert errors.count("PAYMENT_AMOUNT_INVALID") + errors.count("PAYMENT_STATE_INVALID") == 10
    assert gateway._authorizations[auth].captured == eur("100")


def test_concurrent_retries_of_one_key_capture_once(gateway):
    auth = authorize(gateway).transaction_id
    start = threading.Barrier(8)
    results = []

    def capture() -> None:
        start.wait()
        results.append(gateway.capture(auth, eur("25"), "same", CONFIG))

    threads = [threading.Thread(target=capture) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({r.transaction_id for r in results}) == 1
    assert gateway._authorizations[auth].captured == eur("25")


# --- configuration and loading ------------------------------------------------------------------


def test_a_configuration_outside_the_schema_is_refused(gateway):
    error = refused(authorize, gateway, VISA, "10", "k", {"merchant_id": "a b", "delay": 1})
    assert error.code == "PROVIDER_CONFIG_INVALID"
    assert error.message == (
        "mock gateway configuration: (config): Additional properties are not allowed ('delay' was unexpected);"
        " merchant_id: 'a b' does not match '^[A-Za-z0-9_-]{1,64}$'"
    )


def test_the_gateway_implements_the_protocol(gateway):
    assert isinstance(gateway, PaymentGateway)


def test_the_pack_loads_through_the_real_loader(tmp_path):
    app = bare_app("sqlite://", tmp_path)
    assert "mock_gateway" not in app.extensions["vectis.pack_failures"]
    registry = app.extensions["vectis.registry"]
    assert "mock_gateway.payment_gateway.mock" in registry.names("payment_gateway")
    entry = registry.get("mock_gateway.payment_gateway.mock")
    assert entry.config_schema == CONFIG_SCHEMA


# --- arithmetic, for any sequence of calls --------------------------------------------------------

_calls = st.lists(st.tuples(st.sampled_from(["capture", "refund", "void"]), st.integers(min_value=-100, max_value=6000)), max_size=12)


@settings(max_examples=150, deadline=None)
@given(calls=_calls)
def test_totals_never_exceed_what_was_authorized_or_captured(calls):
    registry = Registry()
    declare_core_slots(registry)
    with registry.staged():
        register(PackContext(registry, load_manifest(ROOT / "extensions" / "mock_gateway" / "manifest.yaml")))
    gateway = registry.get("mock_gateway.payment_gateway.mock").value
    auth = authorize(gateway, amount="50.00").transaction_id
    captured = refunded = Decimal(0)
    for index, (operation, cents) in enumerate(calls):
        amount = Money(Decimal(cents) / 100, "EUR")
        try:
            if operation == "void":
                result = gateway.void(auth, f"k{index}", CONFIG)
            else:
                result = getattr(gateway, operation)(auth, amount, f"k{index}", CONFIG)
        except ProviderError as error:
            assert error.code in {"PAYMENT_STATE_INVALID", "PAYMENT_AMOUNT_INVALID"}
            continue
        if operation == "capture":
            captured += amount.amount
        elif operation == "refund":
            refunded += amount.amount
        assert (Decimal(result.raw["captured"]), Decimal(result.raw["refunded"])) == (captured, refunded)
    assert Decimal(0) <= refunded <= captured <= Decimal("50.00")
    state = gateway._authorizations[auth]
    assert state.status != "voided" or captured == 0
    expected = (
        "voided" if state.status == "voided"
        else "authorized" if captured == 0
        else ("refunded" if refunded == captured else "partially_refunded") if refunded
        else "captured" if captured == Decimal("50.00") else "partially_captured"
    )
    assert state.status == expected
