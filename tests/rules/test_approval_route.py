"""The approval_route kind: author errors at file:line, examples, selection over the cart fact and
the combination rule (union of phases, strictest quorum per approver pool, smallest tolerance)."""
from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest
from rules.approval_route import PARALLEL, SEQUENCE, combine, explain, select
from rules.environment import Environment
from rules.pipeline import check_paths, check_source

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "fixtures" / "definitions" / "broken" / "approval_route"
DEMO = ROOT / "examples" / "demo" / "definitions" / "approvals"
ROLES = {"b2b_buyer", "b2b_manager", "b2b_finance", "admin"}


@pytest.fixture
def env() -> Environment:
    return Environment(roles=ROLES)


def errors(name: str, env: Environment) -> list[str]:
    checked = check_source((BROKEN / name).read_text("utf-8"), f"broken/approval_route/{name}", env)
    assert checked.definition is None
    return [str(e) for e in checked.errors]


def route(env: Environment, source: str):
    checked = check_source(source, "test.yaml", env)
    assert checked.ok, [str(e) for e in checked.errors]
    return checked.definition.compiled


def test_a_quorum_above_the_named_approvers_is_refused_at_its_line(env):
    assert errors("quorum_above_tier.yaml", env) == [
        "broken/approval_route/quorum_above_tier.yaml:6:60: approval_route/too_many: /phases/payment/tiers/0/quorum: "
        "quorum 3 is more than the 2 approver(s) the tier names: it could never be reached"]


def test_unknown_roles_are_refused_with_a_suggestion(env):
    assert errors("unknown_role.yaml", env) == [
        "broken/approval_route/unknown_role.yaml:3:14: approval_route/typo: /requesters/0: unknown role 'b2b_buyr' "
        "(did you mean 'b2b_buyer'?)",
        "broken/approval_route/unknown_role.yaml:7:34: approval_route/typo: /phases/cart/tiers/0/roles/0: unknown role "
        "'b2b_manger' (did you mean 'b2b_manager'?)"]


def test_a_looping_phase_order_is_refused(env):
    assert errors("phase_loop.yaml", env) == [
        "broken/approval_route/phase_loop.yaml:5:12: approval_route/loop: /phases/cart/after: the phase order loops: "
        "cart after payment after cart"]


def test_a_route_that_can_never_match_is_refused(env):
    assert errors("never_matches.yaml", env) == [
        "broken/approval_route/never_matches.yaml:4:3: approval_route/never: /when: the route can never match: "
        "total would have to be > 5000 and < 1000"]


def test_a_failing_example_names_the_phases_it_got(env):
    assert errors("failing_example.yaml", env) == [
        "broken/approval_route/failing_example.yaml:14:9: approval_route/wrong_quorum: /examples/0/expect/phases: "
        "example failed: expected phases {'cart': [{'name': 'managers', 'quorum': 1, 'roles': ['b2b_manager']}]}, "
        "got {'cart': [{'name': 'managers', 'quorum': 2, 'roles': ['b2b_manager']}]}"]


def test_escalate_needs_a_next_tier_in_a_sequence(env):
    checked = check_source("kind: approval_route\nname: esc\nphases:\n  cart:\n    tiers:\n"
                           "      - {name: a, roles: [b2b_manager], quorum: 1, timeout: {after: 1d, then: escalate}}\n",
                           "esc.yaml", env)
    assert [str(e) for e in checked.errors] == [
        "esc.yaml:6:79: approval_route/esc: /phases/cart/tiers/0/timeout/then: escalate needs a next tier in a "
        "'sequence' phase to hand over to"]


def test_the_demo_routes_validate_and_pass_their_examples(env):
    checked = check_paths([DEMO], env)
    assert checked.ok, [str(e) for e in checked.errors]
    assert sorted(d.name for d in checked.definitions) == ["finance_over_10000", "manager_over_1000"]


def demo_routes(env):
    return [d.compiled for d in check_paths([DEMO], env).definitions]


def test_several_routes_combine_union_of_phases_strictest_quorum_smallest_tolerance(env):
    routes = demo_routes(env)
    extra = route(env, "kind: approval_route\nname: two_managers\nwhen: {line_count: {gte: 20}}\n"
                       "tolerance: {amount: '2.00', percent: 1}\n"
                       "phases:\n  cart:\n    mode: sequence\n    tiers:\n"
                       "      - {name: mgr, roles: [b2b_manager], quorum: 2, timeout: {after: 1d, then: expire}}\n")
    cart = {"total": 12000, "line_count": 25, "account": "acme-tools"}
    matched = select([*routes, extra], cart, ["b2b_buyer"])
    assert [r.name for r in matched] == ["finance_over_10000", "manager_over_1000", "two_managers"]

    plan = combine(matched)

    assert [p.name for p in plan.phases] == ["cart", "payment"]
    cart_phase = plan.phases[0]
    assert cart_phase.mode == SEQUENCE
    assert [t.to_dict() for t in cart_phase.tiers] == [
        {"name": "managers", "quorum": 2, "roles": ["b2b_manager"], "timeout": {"seconds": 86400, "then": "expire"},
         "routes": ["finance_over_10000", "manager_over_1000", "two_managers"]}]
    assert plan.phases[1].mode == PARALLEL and plan.phases[1].tiers[0].quorum == 2
    # Amounts: min(5.00, 0, 2.00) = 0; percent: one route has none, so none.
    assert (plan.tolerance.amount, plan.tolerance.percent) == (Decimal("0"), None)


def test_no_matching_route_means_no_approval_and_the_explain_says_why(env):
    routes = demo_routes(env)
    cart = {"total": 900.0}
    assert combine(select(routes, cart, ["b2b_buyer"])).required is False

    explained = {e.route: e.to_dict() for e in explain(routes, cart, ["b2b_buyer"])}

    assert explained["manager_over_1000"] == {
        "route": "manager_over_1000", "matched": False, "requesterMatched": True,
        "condition": {"condition": "total > 1000", "held": False, "actual": 900.0}}
    assert explained["finance_over_10000"]["matched"] is False
    assert explain(routes, {"total": 5000}, ["b2b_manager"])[1].to_dict()["requesterMatched"] is False


def test_route_selection_over_300_routes_takes_at_most_5_ms_per_cart(env):
    routes = [route(env, f"kind: approval_route\nname: r{i}\nwhen:\n  $and:\n    - total: {{gt: {i * 100}}}\n"
                         f"    - line_count: {{gte: {i % 7}}}\nrequesters: [b2b_buyer]\n"
                         f"phases:\n  cart:\n    tiers: [{{name: t, roles: [b2b_manager], quorum: {1 + i % 3}}}]\n")
              for i in range(300)]
    cart = {"total": 15050.0, "line_count": 4, "currency": "USD"}
    start = time.perf_counter()
    for _ in range(50):
        plan = combine(select(routes, cart, ["b2b_buyer"]))
    per_cart = (time.perf_counter() - start) / 50
    assert len(plan.routes) == 109  # i <= 150 (i*100 < 15050) with i % 7 <= 4: 21 weeks x 5 + 147..150
    assert plan.phases[0].tiers[0].quorum == 3
    assert per_cart <= 0.005, f"{per_cart * 1000:.2f} ms per cart"
