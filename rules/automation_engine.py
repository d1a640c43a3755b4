"""Running automations on durable_rules: which matches an event completes.

durable_rules keeps its state in process memory and has no sliding windows, so nothing is kept
in it between events. For each event, the caller hands over the *history* of one correlation
value (the events not yet part of a match of this automation); :func:`completed_by` keeps those
inside the window that ends at the event, replays them in order into a fresh durable_rules
session and returns the matches that include the event. Replaying the same history gives the
same answer, so a restarted or second consumer reaches the same matches, which the caller
deduplicates by their event ids.

Only a ruleset that passed :func:`rules.automation_limits.ruleset_problems` is registered, and
events are projected onto the fields the automation reads (durable's properties limit).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import durable_rules_engine
from durable.engine import MessageNotHandledException, Ruleset

from rules.automation import Automation
from rules.automation_limits import ruleset_problems
from rules.facts import MISSING, get_path


class AutomationRunError(Exception):
    """durable_rules refused or failed on an automation; the message names it."""


@dataclass(frozen=True)
class Occurrence:
    """One event of the stream: its id, when it happened, and its data (the event fact)."""

    id: str
    occurred_at: datetime
    data: dict[str, Any]


def correlation(automation: Automation, event: dict[str, Any]) -> Any:
    """The value ``event`` is correlated by (``""`` without ``correlate_by``; MISSING if absent)."""
    if automation.correlate_by is None:
        return ""
    value = get_path(event, tuple(automation.correlate_by.split(".")))
    return MISSING if value is None else value


def in_window(automation: Automation, history: Iterable[Occurrence], event: Occurrence) -> list[Occurrence]:
    """The history up to ``event`` (in order) that the window ending at ``event`` still counts."""
    start = event.occurred_at - automation.within if automation.within else None
    kept = []
    for item in history:
        if item.id == event.id:
            break
        if item.occurred_at > event.occurred_at or (start is not None and item.occurred_at < start):
            continue
        kept.append(item)
    return [*kept, event]


def project(event: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """Only the fields an automation reads (nested keys kept nested), for durable_rules."""
    result: dict[str, Any] = {}
    for name in fields:
        path = name.split(".")
        value = get_path(event, tuple(path))
        if value is MISSING:
            continue
        target = result
        for part in path[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                break
        else:
            target[path[-1]] = value
    return result


def _event_ids(raw: Any) -> set[str]:
    """The ids of the events in a durable_rules match (``{alias: event}`` or a counted list)."""
    if isinstance(raw, dict):
        if "sid" in raw and "id" in raw:
            return {raw["id"]}
        return {i for value in raw.values() for i in _event_ids(value)}
    if isinstance(raw, list):
        return {i for value in raw for i in _event_ids(value)}
    data = getattr(raw, "_d", None)
    return _event_ids(data) if data is not None else set()


class _Actions:
    """What a durable_rules ``Ruleset`` asks its host for: the action a rule runs."""

    def __init__(self, collect):
        self._collect = collect

    def get_action(self, action_name: str):
        collect = self._collect
        return lambda closure: collect(closure)


class Matcher:
    """Replays events into a throw-away durable_rules ruleset, one per call.

    durable_rules' ``delete_state`` segfaults on a session holding events that never completed
    a match (measured, see docs/automations.md), so a session is never deleted: the whole
    ruleset is, with ``delete_ruleset``. Calls are serialised: durable_rules is not thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def matches(self, automation: Automation, events: Sequence[Occurrence]) -> list[frozenset[str]]:
        """Post ``events`` in order to a fresh session; the event ids of each match, in order."""
        problems = ruleset_problems(automation.ruleset)
        if problems:  # compile_automation refuses these; never hand one to durable_rules
            raise AutomationRunError(f"automation {automation.name}: {'; '.join(problems)}")
        fired: list[set[str]] = []

        def collect(closure) -> None:
            raw = closure._m if closure._m is not None else closure.m
            fired.append(_event_ids(raw))

        with self._lock:
            try:
                ruleset = Ruleset(automation.name, _Actions(collect),
                                  copy.deepcopy(automation.ruleset[automation.ruleset_name]))
            except Exception as exc:
                raise AutomationRunError(f"automation {automation.name}: durable_rules refused "
                                         f"the ruleset: {exc}") from None
            try:
                for event in events:
                    _post(ruleset, {**project(event.data, automation.fields), "id": event.id,
                                    "sid": "0"})
            except Exception as exc:
                raise AutomationRunError(f"automation {automation.name}: durable_rules failed: "
                                         f"{exc}") from None
            finally:
                durable_rules_engine.delete_ruleset(ruleset._handle)
        return [frozenset(ids) for ids in fired]


def _post(ruleset: Ruleset, message: dict[str, Any]) -> None:
    """Assert one event and run the actions it completes (what ``Host.post`` does)."""
    try:
        state = ruleset.assert_event(message)
    except MessageNotHandledException:
        return  # an event no rule wants
    errors: list[BaseException] = []
    ruleset.do_actions(state, lambda error, _result: errors.append(error) if error else None)
    if errors:
        raise errors[0]


def completed_by(matcher: Matcher, automation: Automation, history: Sequence[Occurrence],
                 event: Occurrence) -> list[frozenset[str]]:
    """The matches ``event`` completes, given its correlation value's unmatched ``history``."""
    if not automation.may_match(event.data.get("type")):
        return []
    replay = [item for item in in_window(automation, history, event)
              if automation.may_match(item.data.get("type"))]
    return [ids for ids in matcher.matches(automation, replay) if event.id in ids]
