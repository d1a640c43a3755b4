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
  send: {from: packed, to: sent, permission: orders.sendd}
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
        "'orders.sendd' (did you mean 'orders.ship'?)",
        "p.yaml:9:18: state_machine/parcel: /transitions/reopen/from: final state 'done' has "
        "an outgoing transition 'reopen'",
    ]
