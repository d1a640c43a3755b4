"""Issue 12, items 11-13: what an author reads for a control character, a file that is not UTF-8,
and the messages that used to be raw validator output. One checked-in fixture per message, in
``tests/fixtures/definitions/broken/messages/``."""

import pytest

from rules.errors import AuthorErrors
from rules.pipeline import check_paths, check_source
from rules.yamlsource import MAX_DEPTH, parse

MESSAGES = {
    "control_character.yaml": [
        "messages/control_character.yaml:4:15: malformed YAML: U+000B (vertical tab) is not "
        "allowed in YAML; remove it, or write it as \\x0b inside a double-quoted string",
    ],
    "not_utf8.yaml": [
        "messages/not_utf8.yaml:4: not UTF-8: byte 0xFC at column 11 cannot be decoded "
        "(Latin-1?); save the file as UTF-8",
    ],
    "state_name_case.yaml": [
        "messages/state_name_case.yaml:7:3: state_machine/parcel4: /states/Refund: state names are "
        "lower_snake_case: lowercase letters, digits and '_', starting with a letter (use 'refund')",
    ],
    "alias_name_case.yaml": [
        "messages/alias_name_case.yaml:6:7: automation/two: /on/all/0/Refund: event aliases are "
        "lower_snake_case: lowercase letters, digits and '_', starting with a letter, optionally "
        "ending in '$not' (use 'refund')",
    ],
    "two_aliases.yaml": [
        "messages/two_aliases.yaml:8:7: automation/two2: /on/all/0/other: each event condition is "
        "one mapping 'alias: condition'; found 2 keys: 'refund', 'other'",
    ],
    "too_many_keys.yaml": [
        "messages/too_many_keys.yaml:16:30: state_machine/parcel3: /examples/0/expect/blocked: "
        "give only one of 'state' or 'blocked' here, found 2: 'state', 'blocked'",
    ],
    "duplicate_item.yaml": [
        "messages/duplicate_item.yaml:6:40: label/sale9: /surfaces/2: 'product_page' is listed "
        "twice (also item 1); list each value once",
    ],
    "list_equals_scalar.yaml": [
        "messages/list_equals_scalar.yaml:7:9: label/on_sale: /when/tags: 'tags' is a list field "
        "of product, so it never equals the single value 'sale' (to match a list that holds "
        "'sale', write 'tags: {any: {$i: sale}}')",
    ],
    "example_unknown_field.yaml": [
        "messages/example_unknown_field.yaml:9:21: label/sale4: /examples/0/given/stauts: "
        "unknown field 'stauts' of product (did you mean 'status'?)",
    ],
    "guard_without_entity.yaml": [
        "messages/guard_without_entity.yaml:15:7: state_machine/parcel: "
        "/transitions/ship/guard/total: unknown field 'total': this machine has no 'entity', so "
        "guards read only its context (context.reason); add 'entity: <fact>' (e.g. entity: "
        "order) to read an entity's fields",
    ],
}


@pytest.fixture
def messages(broken):
    return broken / "messages"


@pytest.mark.parametrize("file", sorted(MESSAGES))
def test_broken_fixture_reads_as_a_plain_sentence(messages, env, file):
    # given a checked-in definition an author got wrong
    # when its folder's file is checked as the CLI checks it (bytes read from disk)
    result = check_paths([messages / file], env, origin="messages")

    # then exactly this sentence, at the right line, and nothing compiled
    assert [str(error) for error in result.errors] == MESSAGES[file]
    assert result.definitions == []


def test_every_message_fixture_has_a_case(messages):
    assert {path.name for path in messages.glob("*.yaml")} == set(MESSAGES)


@pytest.mark.parametrize("char, name", [("\x0b", "vertical tab"), ("\x07", "bell"), ("\x00", "NUL"),
                                        ("\x1b", "escape"), ("\x7f", "delete")])
def test_a_control_character_is_located_in_source_text(env, char, name):
    # given a source (as GraphQL sends it: text, not a file) with a control character on line 3
    source = f"kind: label\nname: x\nlabel: {{text: a{char}b, style: sale}}\nwhen: {{status: active}}\n"

    # when it is checked
    checked = check_source(source, "source", env)

    # then one located error naming the character, never a ReaderError
    assert [(e.line, e.column) for e in checked.errors] == [(3, 16)]
    assert checked.errors[0].message.startswith(f"malformed YAML: U+{ord(char):04X} ({name.lower()})")
    assert checked.definition is None


def test_a_lone_surrogate_is_located():
    with pytest.raises(AuthorErrors) as refused:
        parse("kind: label\r\nname: a\ud800\n", "f.yaml")

    assert [str(e) for e in refused.value.errors] == [
        "f.yaml:2:8: malformed YAML: U+D800 is a lone surrogate, not a character; remove it"]


def test_nesting_and_huge_integers_are_refused_without_a_traceback():
    deep = "a: " + "[" * (MAX_DEPTH + 10) + "]" * (MAX_DEPTH + 10) + "\n"
    with pytest.raises(AuthorErrors) as too_deep:
        parse(deep, "f.yaml")
    with pytest.raises(AuthorErrors) as too_long:
        parse("a: " + "9" * 5000 + "\n", "f.yaml")

    assert [str(e) for e in too_deep.value.errors] == [f"f.yaml:1:{4 + MAX_DEPTH - 1}: nested more than {MAX_DEPTH} levels deep"]
    assert [str(e) for e in too_long.value.errors] == ["f.yaml:1:4: integer with more than 100 digits"]


def test_a_not_utf8_file_is_one_error_among_valid_files(tmp_path, env, messages):
    # given a folder with a Latin-1 file next to a valid one
    (tmp_path / "a.yaml").write_bytes((messages / "not_utf8.yaml").read_bytes())
    (tmp_path / "b.yaml").write_text("kind: label\nname: ok\nlabel: {text: Ok, style: sale}\nwhen: {status: active}\n")

    # when the folder is checked
    result = check_paths([tmp_path], env, origin="defs")

    # then the Latin-1 file is refused at its line and the other still checks
    assert [str(e) for e in result.errors] == [
        "defs/a.yaml:4: not UTF-8: byte 0xFC at column 11 cannot be decoded (Latin-1?); save the file as UTF-8"]
    assert [d.name for d in result.definitions] == ["ok"]


def test_a_name_that_snake_case_cannot_fix_gets_no_suggestion(env):
    source = ("kind: state_machine\nname: p\nstates:\n  packed: {initial: true}\n  '9lives': {}\n"
              "transitions:\n  go: {from: packed, to: packed}\n")

    checked = check_source(source, "f.yaml", env)

    assert [(e.pointer, e.line, e.hint) for e in checked.errors] == [("/states/9lives", 5, None)]
