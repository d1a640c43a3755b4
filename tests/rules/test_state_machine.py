from datetime import timedelta

import definitions
import pytest

from rules.pipeline import check_source
from rules.state_machine import BlockerCode, TransitionBlocked


def _machine(env, name):
    path = definitions.PATH / "state_machine" / f"{name}.yaml"
    return check_source(path.read_text(), str(path), env).raise_for_errors().compiled


def test_order_blockers_say_why(env):
    order = _machine(env, "order")

    blockers = order.can_fire("shipped", "cancel", {}, [])

    assert [(b.code, b.message) for b in blockers] == [
        (BlockerCode.NOT_FROM_STATE, "'cancel' cannot fire from state 'shipped'"),
        (BlockerCode.PERMISSION_DENIED, "needs permission 'orders.cancel'"),
    ]


def test_fire_returns_target_or_raises(env):
    order = _machine(env, "order")

    assert order.fire("draft", "place", {"item_count": 1}) == "placed"
    with pytest.raises(TransitionBlocked) as raised:
        order.fire("draft", "place", {"item_count": 0})
    assert [b.message for b in raised.value.blockers] == ["guard failed: item_count > 0"]


def test_reservation_timer_and_transitions(env):
    reservation = _machine(env, "reservation")

    assert [(t.state, t.after, t.transition) for t in reservation.timers] == [
        ("held", timedelta(minutes=15), "expire")]
    assert [t.name for t in reservation.transitions_from("held")] == ["confirm", "release", "expire"]
    assert reservation.to_mermaid().splitlines()[:3] == [
        "stateDiagram-v2", "    [*] --> held", "    held --> confirmed: confirm"]


MACHINE = """\
kind: state_machine
name: parcel
states:
  packed: {initial: true}
  sent: {initial: true, timer: {after: 0m, transition: sned}}
  done: {final: true}
transitions:
  send: {from: packed, to: sent, permission: orders.shipp}
  reopen: {from: done, to: packed}
"""


def test_every_semantic_error_of_a_file_at_once(env):
    checked = check_source(MACHINE, "p.yaml", env)

    assert [str(e) for e in checked.errors] == [
        "p.yaml:5:19: state_machine/parcel: /states/sent/initial: more than one initial "
        "state: 'packed' and 'sent'",
        "p.yaml:5:40: state_machine/parcel: /states/sent/timer/after: duration '0m' must be "
        "longer than zero",
        "p.yaml:5:56: state_machine/parcel: /states/sent/timer/transition: unknown transition "
        "'sned' (did you mean 'send'?)",
        "p.yaml:8:46: state_machine/parcel: /transitions/send/permission: unknown permission "
        "'orders.shipp' (did you mean 'orders.ship'?)",
        "p.yaml:9:18: state_machine/parcel: /transitions/reopen/from: final state 'done' has "
        "an outgoing transition 'reopen'",
    ]


STATE_MACHINE_BROKEN = {
    "sm_duplicate_transition.yaml": [
        "broken/state_machine/sm_duplicate_transition.yaml:8:3: duplicate key 'ship' "
        "(first defined at line 7)",
    ],
    "sm_failing_example.yaml": [
        "broken/state_machine/sm_failing_example.yaml:14:21: state_machine/parcel: "
        "/examples/0/expect/state: example failed: expected state 'shipped', got blocked "
        "GUARD_FAILED (guard failed: paid == True)",
        "broken/state_machine/sm_failing_example.yaml:17:21: state_machine/parcel: "
        "/examples/1/expect/state: example failed: expected state 'shipped', got blocked "
        "INVALID_CONTEXT (context.note: expected a string, got int)",
        "broken/state_machine/sm_failing_example.yaml:19:11: state_machine/parcel: "
        "/examples/2/fire: unknown transition 'shipp' (did you mean 'ship'?)",
        "broken/state_machine/sm_failing_example.yaml:20:24: state_machine/parcel: "
        "/examples/2/expect/blocked/0: unknown blocker code 'GUARD_FAILD' "
        "(did you mean 'GUARD_FAILED'?)",
    ],
    "sm_final_outgoing.yaml": [
        "broken/state_machine/sm_final_outgoing.yaml:7:5: state_machine/parcel: "
        "/states/shipped/timer: final state 'shipped' cannot have a timer",
        "broken/state_machine/sm_final_outgoing.yaml:11:19: state_machine/parcel: "
        "/transitions/archive/from: final state 'shipped' has an outgoing transition 'archive'",
    ],
    "sm_guard_context.yaml": [
        "broken/state_machine/sm_guard_context.yaml:15:7: state_machine/refund: "
        "/transitions/approve/guard/context.reasn: unknown field 'context.reasn' of order "
        "(did you mean 'context.reason'?)",
        "broken/state_machine/sm_guard_context.yaml:16:28: state_machine/refund: "
        "/transitions/approve/guard/context.reason/gt: $gt compares numbers, but "
        "'context.reason' is a string field of order",
        "broken/state_machine/sm_guard_context.yaml:17:29: state_machine/refund: "
        "/transitions/approve/guard/context.amount/lte: $lte needs a number, got 'total'",
    ],
    "sm_guard_without_entity.yaml": [
        "broken/state_machine/sm_guard_without_entity.yaml:10:5: state_machine/parcel: "
        "/transitions/ship/guard: a guard needs 'entity' naming the fact it reads "
        "(e.g. entity: order) or a declared 'context'",
    ],
    "sm_timer_guard.yaml": [
        "broken/state_machine/sm_timer_guard.yaml:7:37: state_machine/hold: "
        "/states/held/timer/transition: timer transition 'expire' has a guard; the timer "
        "sweep moves expired entities in bulk without evaluating guards, so a timer's "
        "transition cannot have one",
    ],
    "sm_unknown_entity.yaml": [
        "broken/state_machine/sm_unknown_entity.yaml:3:9: state_machine/parcel: /entity: "
        "unknown fact 'ordr' (did you mean 'order'?)",
    ],
}


@pytest.mark.parametrize("file", sorted(STATE_MACHINE_BROKEN))
def test_broken_state_machine_is_refused_with_exact_errors(broken, env, file):
    # given a checked-in broken machine
    source = (broken / "state_machine" / file).read_text("utf-8")

    # when it is checked
    checked = check_source(source, f"broken/state_machine/{file}", env)

    # then every problem is reported at its file:line:col, and nothing compiles
    assert [str(error) for error in checked.errors] == STATE_MACHINE_BROKEN[file]
    assert checked.definition is None


def test_every_state_machine_fixture_has_a_case(broken):
    assert {p.name for p in (broken / "state_machine").glob("*.yaml")} == set(STATE_MACHINE_BROKEN)


REFUND = """\
kind: state_machine
name: refund
entity: order
context: {reason: string, amount: number}
states:
  requested: {initial: true}
  approved: {}
  rejected: {final: true}
  paid_out: {final: true}
transitions:
  approve:
    from: requested
    to: approved
    permission: orders.cancel
    guard: {context.amount: {lte: 100}, paid: true}
  reject: {from: [requested, approved], to: rejected}
  pay_out: {from: approved, to: paid_out}
"""


def test_guards_read_the_entity_and_the_declared_context(env):
    refund = check_source(REFUND, "r.yaml", env).raise_for_errors().compiled

    assert refund.can_fire("requested", "approve", {"paid": True}, ["orders.cancel"],
                           {"amount": 80}) == []
    blockers = refund.can_fire("requested", "approve", {"paid": True}, ["orders.cancel"],
                               {"amount": 120, "reason": "damaged"})
    assert [(b.code, b.message) for b in blockers] == [
        (BlockerCode.GUARD_FAILED, "guard failed: context.amount <= 100")]


def test_undeclared_or_mistyped_context_blocks_before_the_guard_runs(env):
    refund = check_source(REFUND, "r.yaml", env).raise_for_errors().compiled

    blockers = refund.can_fire("requested", "approve", {"paid": True}, ["orders.cancel"],
                               {"amount": "80", "why": "x"})

    assert [(b.code, b.message) for b in blockers] == [
        (BlockerCode.INVALID_CONTEXT, "context.amount: expected a number, got str"),
        (BlockerCode.INVALID_CONTEXT, "context: unknown key 'why' (declared: amount, reason)"),
    ]


def test_options_list_every_transition_from_a_state_with_its_blockers(env):
    refund = check_source(REFUND, "r.yaml", env).raise_for_errors().compiled

    options = refund.options("requested", {"paid": False}, [], {"amount": 10})

    assert [(t.name, [b.code for b in blockers]) for t, blockers in options] == [
        ("approve", [BlockerCode.PERMISSION_DENIED, BlockerCode.GUARD_FAILED]),
        ("reject", []),
    ]
    # a system actor (None) skips permissions, never guards
    assert [(t.name, [b.code for b in bs]) for t, bs in
            refund.options("requested", {"paid": True}, None, {"amount": 10})] == [
        ("approve", []), ("reject", [])]


SHIPPED = ["cart", "order", "payment_transaction", "refund_request", "reservation"]


@pytest.fixture
def runtime_env():
    from rules.environment import Environment
    from runtime.auth.permissions import PERMISSIONS

    # and the core's effect actions that shipped machines list (the inventory's stock effect,
    # the promotions' usage release, the tenders' undo, the approvals' expiry)
    return Environment(permissions=set(PERMISSIONS), effects={"core.release_stock", "core.release_promotion_usage",
                                                                "core.undo_tenders", "core.expire_approval",
                                                                "core.expire_refund_approval"})


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_machine_fires_each_transition_in_its_examples(runtime_env, name):
    # given a shipped machine, checked with the runtime's permissions (its examples pass)
    path = definitions.PATH / "state_machine" / f"{name}.yaml"
    definition = check_source(path.read_text(), str(path), runtime_env).raise_for_errors()

    # then each transition reaches its target in at least one example
    fired = {example["fire"] for example in definition.data["examples"]
             if "state" in example["expect"]}
    assert fired == set(definition.compiled.transitions)
    # and every timer's transition can be swept (no guard)
    assert all(definition.compiled.transitions[t.transition].guard is None
               for t in definition.compiled.timers)


def test_shipped_machines_render_as_mermaid(runtime_env):
    path = definitions.PATH / "state_machine" / "payment_transaction.yaml"
    machine = check_source(path.read_text(), str(path), runtime_env).raise_for_errors().compiled

    lines = machine.to_mermaid().splitlines()

    assert lines[:3] == ["stateDiagram-v2", "    [*] --> pending", "    pending --> authorized: authorize"]
    assert "    note right of authorized: expire_authorization after 7d" in lines
    assert lines[-4:] == ["    refunded --> [*]", "    voided --> [*]", "    failed --> [*]",
                          "    authorization_expired --> [*]"]
