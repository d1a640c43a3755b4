import definitions
from rules.pipeline import check_paths


def test_every_shipped_definition_validates_and_passes_its_examples(env):
    result = check_paths([definitions.PATH], env, origin="definitions")

    assert [str(error) for error in result.errors] == []
    assert sorted(d.key for d in result.definitions) == [
        ("automation", "repeated_refunds"),
        ("label", "bestseller"),
        ("label", "new_arrival"),
        ("label", "sale"),
        ("state_machine", "cart"),
        ("state_machine", "order"),
        ("state_machine", "payment_transaction"),
        ("state_machine", "refund_request"),
        ("state_machine", "reservation"),
        ("tender_cascade", "b2b_store_credit_terms_card"),
    ]


def test_every_shipped_label_and_state_machine_carries_examples(env):
    result = check_paths([definitions.PATH], env)

    assert all(d.data.get("examples") for d in result.definitions if d.kind != "automation")


def test_the_automation_fixture_validates(env):
    # No effect action is registered by the core yet, so no automation ships; this one is kept as a
    # fixture until the commerce issue registers real effects.
    from pathlib import Path

    folder = Path(__file__).parents[1] / "fixtures" / "definitions" / "valid"
    result = check_paths([folder], env)

    assert [str(error) for error in result.errors] == []
    assert [d.key for d in result.definitions] == [("automation", "repeated_refund_requests")]
