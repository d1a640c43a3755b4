import json

from rules.automation_limits import MAX_CONDITIONS_PER_RULE, ruleset_problems
from rules.kinds import DEFINITION_SCHEMAS, ENVELOPE_KEYS, get_kind
from rules.pipeline import check_source
from rules.validation import validator_for

AUTOMATION = """\
kind: automation
name: ghost
on:
  all:
    - absent: {$nex: {account_id: 1}}
  within: 3x
  correlate_by: acount_id
do: [core.notfy]
"""


def test_automation_errors_are_all_reported(env):
    checked = check_source(AUTOMATION, "a.yaml", env)

    assert [str(e) for e in checked.errors] == [
        "a.yaml:6:11: automation/ghost: /on/within: invalid duration '3x'; write e.g. '15m', "
        "'2h', '7d' or 'PT15M'",
    ]


def test_automation_semantic_errors(env):
    checked = check_source(AUTOMATION.replace("3x", "3d"), "a.yaml", env)

    assert [str(e) for e in checked.errors] == [
        "a.yaml:5:7: automation/ghost: /on/all/0/absent: a condition made only of missing-field "
        "tests matches durable_rules' own session record and fires without end (add a test "
        "every event has, e.g. 'type: refund.requested')",
        "a.yaml:7:17: automation/ghost: /on/correlate_by: unknown field 'acount_id' of event "
        "(did you mean 'account_id'?)",
        "a.yaml:8:6: automation/ghost: /do/0: unknown effect action 'core.notfy' "
        "(did you mean 'core.notify'?)",
    ]


def test_ruleset_limits_are_refused_without_durable_rules():
    conditions = [{f"m_{i}": {"type": f"t{i}"}} for i in range(MAX_CONDITIONS_PER_RULE + 1)]

    assert ruleset_problems({"big": {"r": {"all": conditions}}}) == [
        "rule 'r': 65 conditions; durable_rules allows 64"]
    assert ruleset_problems({"x": {"r": {"all": [{"m": {"$gtt": {"a": 1}}}]}}}) == [
        "rule 'r': unknown operator '$gtt'"]


def test_every_kind_schema_is_valid_and_closes_its_top_level():
    for name in ("state_machine", "label", "automation"):
        schema = json.loads(get_kind(name).schema_file.read_text())
        validator_for(get_kind(name).schema_file)  # check_schema passes
        assert schema["$ref"] == "_envelope.schema.json"
        assert schema["unevaluatedProperties"] is False


def test_envelope_keys_agree_with_the_envelope_schema():
    envelope = json.loads((DEFINITION_SCHEMAS / "_envelope.schema.json").read_text())

    assert tuple(envelope["properties"]) == ENVELOPE_KEYS


def test_state_machine_schema_keys_are_the_keys_the_compiler_reads():
    # every property the schema allows appears as a key the compiler reads (and none other)
    import inspect

    import rules.state_machine as module

    schema = json.loads(get_kind("state_machine").schema_file.read_text())
    allowed = (set(schema["properties"]) - {"examples"}
               | set(schema["$defs"]["state"]["properties"])
               | set(schema["$defs"]["timer"]["properties"])
               | set(schema["$defs"]["transition"]["properties"])
               | set(schema["$defs"]["example"]["properties"])
               | set(schema["$defs"]["example"]["properties"]["given"]["properties"])
               | set(schema["$defs"]["example"]["properties"]["expect"]["properties"]))
    source = inspect.getsource(module)
    read = {key for key in allowed if f'"{key}"' in source}

    assert allowed - {"description"} == read - {"description"}


# -- automations: the language mapped onto durable_rules', limits, checked-in broken fixtures -----

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from rules.automation_engine import Matcher, Occurrence  # noqa: E402
from rules.automation_examples import EXAMPLE_EPOCH, simulate  # noqa: E402
from rules.automation_limits import (  # noqa: E402
    MAX_BRANCHES_AT_ONE_POINT, MAX_NEX_PER_NODE, MAX_RULES_PER_RULESET,
    MAX_RULES_SHARING_A_CONDITION, fact_problems, properties_of,
)

BROKEN_AUTOMATIONS = Path(__file__).parents[1] / "fixtures" / "definitions" / "broken" / "automation"
SEQUENCE = """\
kind: automation
name: chargeback_after_refund
on:
  all:
    - refund: {type: refund.executed}
    - chargeback:
        type: payment.charged_back
        entity_id: {refund: entity_id}
        $gte: {amount: {refund: amount}}
    - reversed$not:
        type: refund.reversed
        entity_id: {refund: entity_id}
  within: 7d
do: [core.notify]
"""

BROKEN_AUTOMATION_CASES = {
    "unknown_alias.yaml": [
        "broken/automation/unknown_alias.yaml:8:21: automation/chargeback_after_refund: "
        "/on/all/1/chargeback/entity_id/refnd: unknown alias 'refnd' in a reference "
        "(did you mean 'refund'?)"],
    "only_nex.yaml": [
        "broken/automation/only_nex.yaml:5:7: automation/ghost: /on/all/0/anything: a condition "
        "made only of missing-field tests matches durable_rules' own session record and fires "
        "without end (add a test every event has, e.g. 'type: refund.requested')"],
    "bad_window.yaml": [
        "broken/automation/bad_window.yaml:7:11: automation/refunds: /on/within: invalid "
        "duration '30 days'; write e.g. '15m', '2h', '7d' or 'PT15M'"],
    "unknown_effect.yaml": [
        "broken/automation/unknown_effect.yaml:6:6: automation/refunds: /do/0: unknown effect "
        "action 'core.pause_recurring_orders'"],  # no registered name is close enough to suggest
    "absence_in_middle.yaml": [
        "broken/automation/absence_in_middle.yaml:6:7: automation/unpaid: /on/all/1/paid$not: an "
        "absence ($not) must come after every event condition; durable_rules does not block on "
        "one in the middle of a sequence"],
    "count_on_sequence.yaml": [
        "broken/automation/count_on_sequence.yaml:7:10: automation/refund_pairs: /on/count: count "
        "repeats exactly one event condition under 'all' (durable_rules reuses events across "
        "counted sequences) (to count several event types use one condition with "
        "'type: {in: [...]}')"],
    "failing_example.yaml": [
        "broken/automation/failing_example.yaml:14:14: automation/refunds: "
        "/examples/0/expect/fires: expected firings [[0, 1]], got []"],
}


@pytest.mark.parametrize("file", sorted(BROKEN_AUTOMATION_CASES))
def test_broken_automation_fixture_reports_exact_errors(env, file):
    source = (BROKEN_AUTOMATIONS / file).read_text("utf-8")

    checked = check_source(source, f"broken/automation/{file}", env)

    assert [str(e) for e in checked.errors] == BROKEN_AUTOMATION_CASES[file]
    assert checked.definition is None


def test_every_broken_automation_fixture_has_a_case():
    assert {p.name for p in BROKEN_AUTOMATIONS.glob("*.yaml")} == set(BROKEN_AUTOMATION_CASES)


def test_references_and_absence_compile_to_durable_rules_own_json(env):
    # the forms durable_rules.lang itself generates for c.first.x references and none(...)
    checked = check_source(SEQUENCE, "s.yaml", env)

    automation = checked.raise_for_errors().compiled
    assert automation.rule == {"all": [
        {"refund": {"type": "refund.executed"}},
        {"chargeback": {"$and": [{"type": "payment.charged_back"},
                                 {"entity_id": {"refund": "entity_id"}},
                                 {"$gte": {"amount": {"refund": "amount"}}}]}},
        {"reversed$not": {"$and": [{"type": "refund.reversed"},
                                   {"entity_id": {"refund": "entity_id"}}]}},
    ], "run": "chargeback_after_refund"}
    assert automation.event_types == {"refund.executed", "payment.charged_back", "refund.reversed"}
    assert automation.fields == ("amount", "entity_id", "type")


@pytest.mark.parametrize("change, errors", [
    (("entity_id: {refund: entity_id}\n        $gte", "entity_id: {chargeback: entity_id}\n        $gte"),
     ["s.yaml:8:21: automation/chargeback_after_refund: /on/all/1/chargeback/entity_id/chargeback: "
      "'chargeback' comes later in the sequence; a reference can only name an earlier event"]),
    (("$gte: {amount: {refund: amount}}", "$gte: {currency: {refund: amount}}"),
     ["s.yaml:9:26: automation/chargeback_after_refund: /on/all/1/chargeback/$gte/currency: "
      "$gte compares numbers, but 'currency' is a string field of event"]),
    (("{refund: amount}", "{reversed: amount}"),
     ["s.yaml:9:25: automation/chargeback_after_refund: /on/all/1/chargeback/$gte/amount/reversed: "
      "'reversed' is an absence ($not): it matches no event, so it has no fields to refer to"]),
    (("{refund: amount}", "{refund: amont}"),
     ["s.yaml:9:33: automation/chargeback_after_refund: /on/all/1/chargeback/$gte/amount/refund: "
      "unknown field 'amont' of event (did you mean 'amount'?)"]),
    (("  all:", "  any:"),
     ["s.yaml:8:9: automation/chargeback_after_refund: /on/any/1/chargeback/entity_id: a reference "
      "to another event needs 'all': under 'any' one event matches alone",
      "s.yaml:10:7: automation/chargeback_after_refund: /on/any/2/reversed$not: an absence ($not) "
      "needs 'all': it is checked when the events before it have matched",
      "s.yaml:12:9: automation/chargeback_after_refund: /on/any/2/reversed$not/entity_id: a "
      "reference to another event needs 'all': under 'any' one event matches alone"]),
    (("- chargeback:", "- refund:"),
     ["s.yaml:6:7: automation/chargeback_after_refund: /on/all/1/refund: alias 'refund' is used "
      "twice; each event needs its own alias",
      "s.yaml:8:21: automation/chargeback_after_refund: /on/all/1/refund/entity_id/refund: 'refund' "
      "comes later in the sequence; a reference can only name an earlier event",
      "s.yaml:9:25: automation/chargeback_after_refund: /on/all/1/refund/$gte/amount/refund: "
      "'refund' comes later in the sequence; a reference can only name an earlier event"]),
])
def test_sequence_mistakes_are_refused_with_their_place(env, change, errors):
    checked = check_source(SEQUENCE.replace(*change), "s.yaml", env)

    assert [str(e) for e in checked.errors] == errors


def test_an_automation_over_the_conditions_limit_is_refused_at_validation(env):
    conditions = "".join(f"    - e{i}: {{type: t{i}}}\n" for i in range(65))
    source = f"kind: automation\nname: big\non:\n  all:\n{conditions}do: [core.notify]\n"

    checked = check_source(source, "big.yaml", env)

    assert [str(e) for e in checked.errors] == [
        "big.yaml:3:1: automation/big: /on: rule 'big': 65 conditions; durable_rules allows 64"]


def test_an_automation_reading_too_many_event_fields_is_refused_at_validation(env):
    tests = "".join(f"        payload.f{i}: 1\n" for i in range(250))
    source = ("kind: automation\nname: wide\non:\n  all:\n    - e:\n        type: x\n"
              f"{tests}do: [core.notify]\n")

    checked = check_source(source, "wide.yaml", env)

    assert [str(e) for e in checked.errors] == [
        "wide.yaml:3:1: automation/wide: /on: reads 251 event fields, 254 properties per event "
        "with id, sid; durable_rules handles at most 252"]


def test_properties_count_nested_keys_and_the_posted_id_and_sid():
    assert properties_of(["type", "payload.a", "payload.b"]) == 6  # type payload a b id sid
    assert fact_problems([f"f{i}" for i in range(250)]) == []


def _rules(count, condition=lambda i: {"type": f"t{i}"}):
    return {"set": {f"r{i}": {"all": [{"m": condition(i)}]} for i in range(count)}}


def test_each_durable_limit_of_a_ruleset_is_checked_without_durable_rules():
    # a definition SET loaded into one ruleset is refused here; the consumer gives each
    # automation a ruleset of its own, so only these per-rule limits can bind it
    assert ruleset_problems(_rules(MAX_RULES_PER_RULESET + 1))[0] == (
        "4097 rules; durable_rules allows 4096")
    assert ruleset_problems(_rules(MAX_RULES_SHARING_A_CONDITION + 1, lambda i: {"type": "x"})) == [
        "256 rules share one condition; durable_rules allows 255"]
    assert ruleset_problems(_rules(MAX_RULES_SHARING_A_CONDITION, lambda i: {"type": "x"})) == []
    assert ruleset_problems(_rules(MAX_BRANCHES_AT_ONE_POINT + 1)) == [
        "512 different first conditions; durable_rules handles at most 511"]
    assert ruleset_problems(_rules(MAX_BRANCHES_AT_ONE_POINT)) == []
    nex = {"$and": [{"type": "x"}] + [{"$nex": {f"f{i}": 1}} for i in range(MAX_NEX_PER_NODE + 1)]}
    assert ruleset_problems({"n": {"r": {"all": [{"m": nex}]}}}) == [
        "rule 'r': 128 $nex tests under one node; durable_rules allows 127"]


def _events(*specs):
    return [Occurrence(f"e{i}", EXAMPLE_EPOCH + __import__("datetime").timedelta(days=day), data)
            for i, (day, data) in enumerate(specs)]


def test_simulated_consumer_counts_per_account_within_the_window(env):
    automation = check_source(
        (Path(__file__).parents[1] / "fixtures/definitions/valid/repeated_refund_requests.yaml")
        .read_text(), "r.yaml", env).raise_for_errors().compiled
    refund = {"type": "refund.executed", "account_id": "a1"}
    other = {"type": "refund.executed", "account_id": "a2"}

    fired = simulate(automation, _events((0, refund), (1, other), (2, refund), (40, refund),
                                         (41, refund), (42, refund), (43, refund)), Matcher())

    assert fired == [["e3", "e4", "e5"]]

