"""The ``tender_cascade`` kind: for the payers a predicate selects, the order in which tenders
fill an order's total, each step capped, and the composer that builds the split.

The composer is a pure function of the total, the steps, what each tender covers and the tenders
the buyer put in front: the same inputs always give the same split, and the parts always add up
to the total exactly (or it refuses). Amounts are ``Decimal`` in the currency's major unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from rules.environment import Environment
from rules.errors import AuthorError
from rules.kinds import KindSpec, ParsedDefinition, register_kind
from rules.predicates import Predicate, compile_predicate
from rules.suggestions import hint

#: The fact ``when`` reads.
FACT = "payer"
#: ``PaymentTender.source`` values.
BUYER_PREPENDED, CASCADE = "buyer_prepended", "cascade"
#: The composer's refusals.
NOT_COVERED, EXCEEDS_TOTAL = "TENDERS_NOT_COVERED", "TENDERS_EXCEED_TOTAL"


@dataclass(frozen=True)
class Step:
    tender: str
    max_amount: Decimal | None = None
    max_percent: Decimal | None = None

    def cap(self, total: Decimal, exponent: Decimal) -> Decimal | None:
        """The most this step may take of ``total`` (a percentage rounds down to the minor unit)."""
        caps = [self.max_amount] if self.max_amount is not None else []
        if self.max_percent is not None:
            caps.append((total * self.max_percent / 100).quantize(exponent, rounding=ROUND_DOWN))
        return min(caps) if caps else None


@dataclass(frozen=True)
class Leg:
    tender: str
    amount: Decimal
    source: str
    #: The index of the buyer's tender it came from (None for a cascade step).
    prepended_index: int | None = None


class CompositionError(ValueError):
    """The tenders cannot pay the total: ``code`` is :data:`NOT_COVERED` or :data:`EXCEEDS_TOTAL`."""

    def __init__(self, code: str, message: str, *, index: int | None = None):
        super().__init__(message)
        self.code, self.message, self.index = code, message, index


@dataclass(frozen=True)
class TenderCascade:
    name: str
    steps: tuple[Step, ...]
    priority: int = 0
    predicate: Predicate | None = None

    def selects(self, payer: Mapping[str, Any]) -> bool:
        return self.predicate is None or bool(self.predicate(payer))

    @property
    def tenders(self) -> tuple[str, ...]:
        return tuple(step.tender for step in self.steps)


def compose(total: Decimal, steps: Sequence[Step], available: Mapping[str, Decimal | None], *,
            prepended: Sequence[tuple[str, Decimal | None]] = (), decimals: int = 2) -> list[Leg]:
    """The split of ``total``: the buyer's tenders first (an amount of None takes what the tender
    covers, up to what is left), then each step in order, up to its cap and what its tender covers
    (``available[tender]``; a tender left out covers anything). Steps that would take nothing are
    left out. Refuses with :class:`CompositionError` when the buyer's tenders exceed the total or
    nothing covers the rest."""
    exponent = Decimal(1).scaleb(-decimals)
    left = total
    used: dict[str, Decimal] = {}
    legs: list[Leg] = []

    def covers(tender: str) -> Decimal | None:
        limit = available.get(tender)
        return None if limit is None else max(limit - used.get(tender, Decimal(0)), Decimal(0))

    for index, (tender, amount) in enumerate(prepended):
        take = amount if amount is not None else _least(left, covers(tender))
        if take > left:
            raise CompositionError(EXCEEDS_TOTAL, f"tenders[{index}].amount: {take} is more than the {left} left of "
                                   f"the total {total}", index=index)
        if take > 0:
            legs.append(Leg(tender, take, BUYER_PREPENDED, index))
            used[tender] = used.get(tender, Decimal(0)) + take
            left -= take
    for step in steps:
        if left <= 0:
            break
        take = _least(left, covers(step.tender), step.cap(total, exponent))
        if take > 0:
            legs.append(Leg(step.tender, take, CASCADE))
            used[step.tender] = used.get(step.tender, Decimal(0)) + take
            left -= take
    if left > 0:
        raise CompositionError(NOT_COVERED, f"tenders: {left} of the total {total} is covered by no tender; "
                               "add a card or another tender")
    return legs


def _least(*values: Decimal | None) -> Decimal:
    return min(value for value in values if value is not None)


def compile_cascade(doc: ParsedDefinition, env: Environment) -> TenderCascade | None:
    known = env.tender_types
    steps, seen = [], set()
    for index, step in enumerate(doc.data["steps"]):
        tender = step["tender"]
        if known is not None and tender not in known:
            doc.report(f"/steps/{index}/tender", f"unknown tender type {tender!r}", hint(tender, known))
        if tender in seen:
            doc.report(f"/steps/{index}/tender", f"tender {tender!r} is already a step; a tender fills once")
        seen.add(tender)
        cap = step.get("cap", {})
        steps.append(Step(tender, Decimal(cap["max_amount"]) if "max_amount" in cap else None,
                          Decimal(str(cap["max_percent"])) if "max_percent" in cap else None))
    predicate = None
    if "when" in doc.data:
        predicate = compile_predicate(doc.data["when"], "/when", fact=FACT, env=env, report=doc.report)
    if doc.errors:
        return None
    return TenderCascade(doc.name, tuple(steps), doc.data.get("priority", 0), predicate)


def run_examples(cascade: TenderCascade, examples: list[dict], env: Environment) -> list[AuthorError]:
    """Each example: is the payer selected, and which split (or refusal) does the composer give."""
    errors = []
    for index, example in enumerate(examples):
        given, expect = example["given"], example["expect"]
        where = f"/examples/{index}/expect"
        if "selected" in expect and cascade.selects(given.get("payer", {})) is not expect["selected"]:
            errors.append(AuthorError(f"example failed: expected selected {str(expect['selected']).lower()}, got "
                                      f"{str(not expect['selected']).lower()}", pointer=f"{where}/selected"))
            continue
        if "split" not in expect and "error" not in expect:
            continue
        available = {name: Decimal(value) for name, value in given.get("available", {}).items()}
        prepended = [(p["tender"], Decimal(p["amount"]) if "amount" in p else None) for p in given.get("prepended", [])]
        try:
            legs = compose(Decimal(given["total"]), cascade.steps, available, prepended=prepended,
                           decimals=given.get("decimals", 2))
        except CompositionError as exc:
            if expect.get("error") != exc.code:
                errors.append(AuthorError(f"example failed: the composer refused ({exc.code}: {exc.message})",
                                          pointer=where))
            continue
        got = [{"tender": leg.tender, "amount": format(leg.amount, "f"), "source": leg.source} for leg in legs]
        wanted = [{"source": got[i]["source"] if i < len(got) else CASCADE, **part,
                   "amount": format(Decimal(part["amount"]), "f")} for i, part in enumerate(expect.get("split", []))]
        if "error" in expect or [_key(p) for p in got] != [_key(p) for p in wanted]:
            shown = ", ".join(f"{p['tender']} {p['amount']} ({p['source']})" for p in got)
            errors.append(AuthorError(f"example failed: got the split {shown}", pointer=where))
    return errors


def _key(part: dict) -> tuple:
    return part["tender"], Decimal(part["amount"]), part["source"]


register_kind(KindSpec("tender_cascade", compile_cascade, run_examples, label="Tender cascade"))
