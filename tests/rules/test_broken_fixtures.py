"""One checked-in broken definition per author-error kind, each with its exact message."""

import pytest

from rules.pipeline import check_paths, check_source

CASES = {
    "malformed_yaml.yaml": [
        "broken/malformed_yaml.yaml:3:23: malformed YAML: expected ',' or ']', but got '}' "
        "(while parsing a flow sequence at line 3)",
    ],
    "duplicate_key.yaml": [
        "broken/duplicate_key.yaml:5:1: duplicate key 'when' (first defined at line 4)",
    ],
    "unknown_kind.yaml": [
        "broken/unknown_kind.yaml:1:7: /kind: unknown kind 'lable' (did you mean 'label'?)",
    ],
    "missing_name.yaml": [
        "broken/missing_name.yaml:1:1: missing required key 'name'",
    ],
    "unexpected_key.yaml": [
        "broken/unexpected_key.yaml:7:3: state_machine/parcel: /transitions/send: "
        "missing required key 'to'",
        "broken/unexpected_key.yaml:9:5: state_machine/parcel: /transitions/send/too: "
        "unexpected key 'too' (did you mean 'to'?)",
    ],
    "unknown_state.yaml": [
        "broken/unknown_state.yaml:9:9: state_machine/unknown_state: /transitions/ship/to: "
        "unknown state 'shiped' (did you mean 'shipped'?)",
    ],
    "unreachable_state.yaml": [
        "broken/unreachable_state.yaml:6:3: state_machine/unreachable_state: /states/lost: "
        "state 'lost' is unreachable from initial state 'packed'",
    ],
    "unknown_effect.yaml": [
        "broken/unknown_effect.yaml:10:15: state_machine/unknown_effect: "
        "/transitions/ship/effects/0: unknown effect action 'core.notfy' "
        "(did you mean 'core.notify'?)",
    ],
    "unknown_field.yaml": [
        "broken/unknown_field.yaml:5:3: label/popular: /when/sales_30: "
        "unknown field 'sales_30' of product (did you mean 'sales_30d'?)",
    ],
    "gt_on_string.yaml": [
        "broken/gt_on_string.yaml:5:14: label/late_alphabet: /when/name/gt: "
        "$gt compares numbers, but 'name' is a string field of product",
    ],
    "bad_regex.yaml": [
        "broken/bad_regex.yaml:5:14: label/premium: /when/$mt/sku: invalid regular expression "
        "'PRM-[0-9': unterminated character set at position 4",
    ],
    "failing_example.yaml": [
        "broken/failing_example.yaml:10:13: label/cheap: /examples/1/expect: "
        "example failed: expected true, got false: price < 20 (actual: 25)",
    ],
}


@pytest.mark.parametrize("file", sorted(CASES))
def test_broken_fixture_reports_exact_errors(broken, env, file):
    # given a checked-in broken definition
    source = (broken / file).read_text("utf-8")

    # when it is checked
    checked = check_source(source, f"broken/{file}", env)

    # then it is refused with exactly these errors, and nothing is compiled
    assert [str(error) for error in checked.errors] == CASES[file]
    assert checked.definition is None
    assert checked.ok is False


def test_every_broken_fixture_has_a_case(broken):
    files = {path.name for path in broken.glob("*.yaml")}

    assert files == set(CASES)


def test_duplicate_name_across_files_names_the_first(broken, env):
    # given two files defining label/bestseller
    # when the folder is checked
    result = check_paths([broken / "duplicate_name"], env, origin="definitions/label")

    # then the second file is refused, pointing at the first; the first stays valid
    assert [str(error) for error in result.errors] == [
        "definitions/label/b.yaml:2:1: label/bestseller: /name: duplicate definition "
        "label/bestseller, first defined at definitions/label/a.yaml:2",
    ]
    assert [d.path for d in result.definitions] == ["definitions/label/a.yaml"]
    assert result.ok is False


def test_error_to_dict_carries_every_field(broken, env):
    checked = check_source((broken / "unknown_state.yaml").read_text(), "x.yaml", env)

    assert checked.errors[0].to_dict() == {
        "message": "unknown state 'shiped'",
        "path": "x.yaml",
        "line": 9,
        "column": 9,
        "kind": "state_machine",
        "name": "unknown_state",
        "pointer": "/transitions/ship/to",
        "hint": "did you mean 'shipped'?",
        "text": "x.yaml:9:9: state_machine/unknown_state: /transitions/ship/to: "
                "unknown state 'shiped' (did you mean 'shipped'?)",
    }
