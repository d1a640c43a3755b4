"""The ``tax_rule`` kind: which tax class (or exemption, or excise category) a line gets.

A rule's ``when`` is a predicate over the ``tax_line`` fact (the line with its product's fields,
the customer, the account, the ship-to address). Of the rules whose predicate holds and whose
schedule is open, one sets the line's class, by this order (``docs/tax.md``):

1. the higher ``priority`` (default 0);
2. on equal priority, the more specific predicate (more conditions);
3. then the name, alphabetically (so the result never depends on load order).

An ``excise_category`` is merged from the best rule that sets one, so an excise rule and a class
rule can both apply to a line. ``exemption`` (with its certificate number) makes the class
``exempt``.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rules.environment import Environment
from rules.errors import AuthorError
from rules.facts import unknown_given_fields
from rules.kinds import KindSpec, ParsedDefinition, register_kind
from rules.label import parse_time
from rules.predicates import Predicate, compile_predicate, leaves
from rules.suggestions import did_you_mean
from rules.tax import TAX_CLASSES

FACT = "tax_line"


@dataclass(frozen=True)
class TaxRule:
    name: str
    predicate: Predicate
    priority: int = 0
    specificity: int = 0
    tax_class: str | None = None
    excise_category: str | None = None
    certificate: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def active_at(self, moment: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= moment) and (self.ends_at is None or moment < self.ends_at)

    def applies(self, fact: dict[str, Any], moment: datetime | None = None) -> bool:
        return (moment is None or self.active_at(moment)) and self.predicate(fact)

    @property
    def order(self) -> tuple:
        return (-self.priority, -self.specificity, self.name)


@dataclass(frozen=True)
class Classification:
    tax_class: str = "standard"
    excise_category: str | None = None
    #: The rule that set the class (and the one that set the excise, when another).
    rule: str | None = None
    excise_rule: str | None = None
    certificate: str | None = None


def classify(rules: Sequence[TaxRule], fact: dict[str, Any], moment: datetime, default: str = "standard") -> Classification:
    """The class of one line under ``rules`` (sorted by :attr:`TaxRule.order` or not)."""
    matched = sorted((rule for rule in rules if rule.applies(fact, moment)), key=lambda rule: rule.order)
    klass = next((rule for rule in matched if rule.tax_class), None)
    excise = next((rule for rule in matched if rule.excise_category), None)
    return Classification(klass.tax_class if klass else default, excise.excise_category if excise else None,
                          klass.name if klass else None, excise.name if excise else None,
                          klass.certificate if klass else None)


def _schedule(doc: ParsedDefinition) -> tuple[datetime | None, datetime | None]:
    schedule = doc.data.get("schedule") or {}
    bounds = {}
    for key in ("from", "until"):
        bounds[key] = parse_time(schedule[key]) if key in schedule else None
        if key in schedule and bounds[key] is None:
            doc.report(f"/schedule/{key}", f"expected an ISO-8601 time with a zone like '2026-08-07T00:00:00-04:00', "
                                           f"got {schedule[key]!r}")
    if bounds["from"] and bounds["until"] and bounds["until"] <= bounds["from"]:
        doc.report("/schedule/until", f"the schedule ends ({schedule['until']}) before or when it starts "
                                      f"({schedule['from']})")
    return bounds["from"], bounds["until"]


def compile_tax_rule(doc: ParsedDefinition, env: Environment) -> TaxRule | None:
    setting = doc.data["set"]
    klass = setting.get("tax_class")
    if klass is not None and klass not in TAX_CLASSES:
        doc.report("/set/tax_class", f"unknown tax class {klass!r}{did_you_mean(klass, TAX_CLASSES)}; known: "
                   f"{', '.join(TAX_CLASSES)}")
    exemption = setting.get("exemption")
    if exemption is not None and klass not in (None, "exempt"):
        doc.report("/set/exemption", f"an exemption makes the class exempt; it cannot also set tax_class {klass!r}")
    starts_at, ends_at = _schedule(doc)
    predicate = compile_predicate(doc.data["when"], "/when", fact=FACT, env=env, report=doc.report)
    if predicate is None or doc.errors:
        return None
    return TaxRule(doc.name, predicate, doc.data.get("priority", 0), len(list(leaves(predicate.root))),
                   "exempt" if exemption is not None else klass, setting.get("excise_category"),
                   exemption["certificate"] if exemption else None, starts_at, ends_at)


def run_examples(rule: TaxRule, examples: list[dict], env: Environment) -> list[AuthorError]:
    errors = []
    for index, example in enumerate(examples):
        unknown = unknown_given_fields(env.facts, FACT, example["given"], f"/examples/{index}/given")
        if unknown:
            errors.extend(AuthorError(message, pointer=pointer, hint=text) for pointer, message, text in unknown)
            continue
        moment = parse_time(example["at"]) if "at" in example else None
        if "at" in example and moment is None:
            errors.append(AuthorError(f"expected an ISO-8601 time with a zone, got {example['at']!r}",
                                      pointer=f"/examples/{index}/at"))
            continue
        applies = rule.applies(example["given"], moment)
        got = {"applies": applies, "tax_class": rule.tax_class if applies else None,
               "excise_category": rule.excise_category if applies else None}
        for key, wanted in example["expect"].items():
            if got[key] != wanted:
                why = "" if applies or moment is None or rule.active_at(moment) else f": the schedule is closed at {example['at']}"
                errors.append(AuthorError(f"example failed: expected {key} {wanted!r}, got {got[key]!r}{why}",
                                          pointer=f"/examples/{index}/expect/{key}"))
    return errors


def ordered(rules: Iterable[TaxRule]) -> list[TaxRule]:
    return sorted(rules, key=lambda rule: rule.order)


register_kind(KindSpec("tax_rule", compile_tax_rule, run_examples, label="Tax rule"))
