import json

from rules.automation import MAX_CONDITIONS_PER_RULE, ruleset_problems
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
do: [core.effect_action.notfy]
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
        "a.yaml:8:6: automation/ghost: /do/0: unknown effect action 'core.effect_action.notfy' "
        "(did you mean 'core.effect_action.notify'?)",
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
