"""The tax_rule kind: author errors with file:line, examples, and which rule sets a line's class."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from rules.pipeline import check_paths, check_source
from rules.tax_rule import classify

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "fixtures" / "definitions" / "broken" / "tax_rule"
NOW = datetime(2026, 12, 2, 12, tzinfo=timezone.utc)


def _rule(source: str):
    checked = check_source(source, "rule.yaml")
    assert checked.errors == []
    return checked.definition.compiled


def test_each_broken_tax_rule_gives_its_exact_message():
    checked = check_paths([BROKEN], origin="broken/tax_rule")
    assert [str(error) for error in checked.errors] == [
        "broken/tax_rule/certificate_without_number.yaml:4:7: tax_rule/certificate_without_number: /set/exemption: "
        "missing required key 'certificate'",
        "broken/tax_rule/failing_example.yaml:6:42: tax_rule/failing_example: /examples/0/given/shipto: unknown field "
        "'shipto' of tax_line (did you mean 'ship_to'?)",
        "broken/tax_rule/failing_example.yaml:9:25: tax_rule/failing_example: /examples/1/expect/tax_class: example "
        "failed: expected tax_class 'reduced', got None",
        "broken/tax_rule/unknown_class.yaml:4:18: tax_rule/unknown_class: /set/tax_class: unknown tax class 'reduce' "
        "(did you mean 'reduced'?); known: standard, reduced, super_reduced, zero, exempt",
    ]


def test_the_demo_tax_rules_validate_and_pass_their_examples():
    checked = check_paths([ROOT / "examples" / "demo" / "definitions" / "tax_rules"])
    assert checked.ok, [str(e) for e in checked.errors]
    assert sorted(d.name for d in checked.definitions) == [
        "books_reduced_vat", "ny_clothing_under_110", "wa_back_to_school_holiday"]


BOOKS = "kind: tax_rule\nname: books\nwhen: {line.categories: {$iany: {$i: books}}}\nset: {tax_class: reduced}\n"
DE_BOOKS = ("kind: tax_rule\nname: de_books\nwhen: {$and: [{line.categories: {$iany: {$i: books}}}, "
            "{ship_to.country: DE}]}\nset: {tax_class: zero}\n")
EXEMPT = ("kind: tax_rule\nname: acme_exempt\npriority: 100\nwhen: {account.slug: acme}\n"
          "set: {exemption: {certificate: RC-77}}\n")
SPIRITS = "kind: tax_rule\nname: spirits\nwhen: {line.tags: {$iany: {$i: spirits}}}\nset: {excise_category: spirits}\n"
HOLIDAY = ("kind: tax_rule\nname: holiday\npriority: 50\nwhen: {ship_to.region: US-WA}\nset: {tax_class: zero}\n"
           "schedule: {from: '2026-08-06T00:00:00-07:00', until: '2026-08-09T00:00:00-07:00'}\n")


def test_priority_then_specificity_then_name_decide_and_excise_merges():
    rules = [_rule(s) for s in (BOOKS, DE_BOOKS, EXEMPT, SPIRITS)]
    book_de = {"line": {"categories": ["books"], "tags": []}, "ship_to": {"country": "DE"}}
    assert classify(rules, book_de, NOW).tax_class == "zero"   # two conditions beat one
    assert classify(rules, book_de, NOW).rule == "de_books"
    book_at = {"line": {"categories": ["books"], "tags": ["spirits"]}, "ship_to": {"country": "AT"}}
    assert (classify(rules, book_at, NOW).tax_class, classify(rules, book_at, NOW).excise_category,
            classify(rules, book_at, NOW).excise_rule) == ("reduced", "spirits", "spirits")
    acme = {**book_de, "account": {"slug": "acme"}}
    found = classify(rules, acme, NOW)
    assert (found.tax_class, found.rule, found.certificate) == ("exempt", "acme_exempt", "RC-77")
    assert classify(list(reversed(rules)), acme, NOW) == found


def test_a_schedule_limits_when_a_rule_applies():
    rule = _rule(HOLIDAY)
    fact = {"ship_to": {"region": "US-WA"}}
    assert classify([rule], fact, datetime(2026, 8, 7, 12, tzinfo=timezone.utc)).tax_class == "zero"
    assert classify([rule], fact, datetime(2026, 8, 10, 12, tzinfo=timezone.utc)) == classify([], fact, NOW)


def test_a_schedule_that_ends_before_it_starts_is_an_author_error():
    checked = check_source(HOLIDAY.replace("2026-08-09", "2026-08-01"), "holiday.yaml")
    assert [str(e) for e in checked.errors] == [
        "holiday.yaml:6:54: tax_rule/holiday: /schedule/until: the schedule ends (2026-08-01T00:00:00-07:00) before "
        "or when it starts (2026-08-06T00:00:00-07:00)"]
