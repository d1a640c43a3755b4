"""An automation's own examples: given a stream of events, which of them fire together.

::

    examples:
      - given:
          - {type: refund.executed, account_id: a1, occurred_at: "2026-01-01T00:00:00Z"}
          - ...
        expect:
          fires: [[0, 1, 2]]   # one list of event indexes (of 'given') per firing

Events are consumed in order exactly as the runtime's consumer does it (:func:`simulate`): per
correlation value, in the window, each event in at most one firing.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from rules.automation import Automation
from rules.automation_engine import (
    AutomationRunError, Matcher, Occurrence, completed_by, correlation,
)
from rules.errors import AuthorError
from rules.facts import MISSING

#: When an example event says no ``occurred_at``: one minute apart from this instant.
EXAMPLE_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)

_matcher: Matcher | None = None


def shared_matcher() -> Matcher:
    """The process's matcher for examples (one durable_rules host, made on first use)."""
    global _matcher
    if _matcher is None:
        _matcher = Matcher()
    return _matcher


def simulate(automation: Automation, events: list[Occurrence], matcher: Matcher) -> list[list[str]]:
    """Consume ``events`` in order; the sorted event ids of each firing."""
    unmatched: dict[Any, list[Occurrence]] = {}
    firings = []
    for event in events:
        key = correlation(automation, event.data)
        if key is MISSING:
            continue
        history = unmatched.setdefault(repr(key), [])
        history.append(event)
        for ids in completed_by(matcher, automation, history, event):
            firings.append(sorted(ids))
            history[:] = [item for item in history if item.id not in ids]
    return firings


def _occurrence(index: int, data: dict[str, Any]) -> Occurrence:
    when = data.get("occurred_at")
    if isinstance(when, str):
        moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    else:
        moment = EXAMPLE_EPOCH + timedelta(minutes=index)
    return Occurrence(str(data.get("id", f"e{index}")), moment, data)


def run_examples(automation: Automation, examples: list[dict], env: Any) -> list[AuthorError]:
    errors = []
    for number, example in enumerate(examples):
        here = f"/examples/{number}"
        try:
            events = [_occurrence(i, data) for i, data in enumerate(example["given"])]
        except ValueError as exc:
            errors.append(AuthorError(f"occurred_at: {exc}", pointer=f"{here}/given"))
            continue
        index = {event.id: i for i, event in enumerate(events)}
        try:
            fired = simulate(automation, events, shared_matcher())
        except AutomationRunError as exc:
            errors.append(AuthorError(str(exc), pointer=here))
            continue
        got = sorted(sorted(index[i] for i in ids) for ids in fired)
        expected = sorted(sorted(ids) for ids in example["expect"]["fires"])
        if got != expected:
            errors.append(AuthorError(f"expected firings {expected}, got {got}",
                                      pointer=f"{here}/expect/fires"))
    return errors
