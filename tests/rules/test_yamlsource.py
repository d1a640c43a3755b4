from rules.errors import AuthorErrors
from rules.yamlsource import parse


def test_yaml_11_booleans_and_dates_stay_strings():
    source = parse("a: off\nb: no\nc: NO\nd: yes\ne: on\nf: 2024-05-01\ng: 2024-05-01T10:00:00Z\n")

    assert source.data == {"a": "off", "b": "no", "c": "NO", "d": "yes", "e": "on",
                           "f": "2024-05-01", "g": "2024-05-01T10:00:00Z"}


def test_core_schema_scalars_resolve():
    source = parse("a: [true, True, TRUE, false, null, ~, 12, 0o17, 0x1F, 1.5, 012]\n")

    assert source.data == {"a": [True, True, True, False, None, None, 12, 15, 31, 1.5, 12]}


def test_positions_are_one_based_for_keys_and_values():
    source = parse("kind: label\nwhen:\n  stock: {gt: 0}\n")

    assert source.positions.of("/when/stock/gt") == (3, 15)
    assert source.positions.key("/when/stock") == (3, 3)
    assert source.positions.of("/when/missing/deeper") == (3, 3)


def _error(text):
    try:
        parse(text, "f.yaml")
    except AuthorErrors as exc:
        return [str(error) for error in exc.errors]
    raise AssertionError("no error")


def test_refusals_are_author_errors_with_positions():
    assert _error("a: 1\n---\nb: 2\n") == [
        "f.yaml:2:1: malformed YAML: expected exactly one document, found another "
        "(one definition per file)"]
    assert _error("- 1\n") == ["f.yaml:1:1: the top level must be a mapping (kind, name, ...)"]
    assert _error("a: &x 1\nb: *x\n") == ["f.yaml:2:4: anchors and aliases are not supported"]
    assert _error("1: a\n") == ["f.yaml:1:1: mapping key '1' must be a string; quote it"]
    assert _error("") == ["f.yaml:1:1: empty document; expected a mapping"]
