"""The ``label`` kind: a product badge shown when a predicate over the product holds.

Besides its predicate a label says how it looks (text, style, colour, icon, priority), where it
shows (``surfaces``), when (``schedule``: from inclusive, until exclusive) and in which channels.
The predicate is evaluated in batch by the runtime; schedule, channel and surface are plain
filters applied to what it matched, so a label's time window never needs a relabel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rules.conditions import Call
from rules.environment import Environment
from rules.errors import AuthorError
from rules.facts import unknown_given_fields
from rules.kinds import KindSpec, ParsedDefinition, register_kind
from rules.predicates import Explanation, Predicate, compile_predicate, leaves

#: The fact a label's ``when`` reads.
FACT = "product"
#: Where a storefront shows labels; a label without ``surfaces`` shows on all of them.
SURFACES = ("product_page", "related_products", "recently_viewed", "search_results", "catalog_card")
#: How a storefront renders the badge (the schema's ``label.style``); the first is the default.
STYLES = ("neutral", "info", "success", "warning", "danger", "sale", "new")
DEFAULT_STYLE = STYLES[0]


@dataclass(frozen=True)
class Label:
    name: str
    text: str
    predicate: Predicate
    color: str | None = None
    icon: str | None = None
    priority: int = 0
    style: str = DEFAULT_STYLE
    surfaces: frozenset[str] = frozenset(SURFACES)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    #: Channel slugs the label is limited to; ``None``: every channel.
    channels: frozenset[str] | None = None

    def applies(self, product: dict[str, Any]) -> bool:
        return self.predicate(product)

    def explain(self, product: dict[str, Any]) -> Explanation:
        return self.predicate.explain(product)

    def active_at(self, moment: datetime) -> bool:
        """Whether the schedule is open at ``moment`` (an aware time)."""
        return ((self.starts_at is None or self.starts_at <= moment)
                and (self.ends_at is None or moment < self.ends_at))

    def shown_in(self, channel: str | None) -> bool:
        """Whether the label shows in the channel with slug ``channel`` (``None``: no channel,
        which only an unscoped label shows in)."""
        return self.channels is None or channel in self.channels

    def shows_on(self, surface: str) -> bool:
        return surface in self.surfaces

    @property
    def functions(self) -> tuple[str, ...]:
        """The predicate functions (``<pack>.<name>``) the predicate calls, sorted."""
        return tuple(sorted({leaf.name for leaf in leaves(self.predicate.root)
                             if isinstance(leaf, Call)}))


def parse_time(value: str) -> datetime | None:
    """An ISO-8601 time with a zone (``Z`` allowed), or ``None`` when it is not one."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _schedule(doc: ParsedDefinition) -> tuple[datetime | None, datetime | None]:
    schedule = doc.data.get("schedule") or {}
    bounds: dict[str, datetime | None] = {}
    for key in ("from", "until"):
        bounds[key] = None
        if key in schedule:
            bounds[key] = parse_time(schedule[key])
            if bounds[key] is None:
                doc.report(f"/schedule/{key}", f"expected an ISO-8601 time with a zone like "
                                               f"'2026-11-27T00:00:00Z', got {schedule[key]!r}")
    start, end = bounds["from"], bounds["until"]
    if start is not None and end is not None and end <= start:
        doc.report("/schedule/until", f"the schedule ends ({schedule['until']}) before or when it "
                                      f"starts ({schedule['from']})")
    return start, end


def compile_label(doc: ParsedDefinition, env: Environment) -> Label | None:
    display = doc.data["label"]
    starts_at, ends_at = _schedule(doc)
    predicate = compile_predicate(doc.data["when"], "/when", fact=FACT, env=env,
                                  report=doc.report)
    if predicate is None or doc.errors:
        return None
    channels = doc.data.get("channels")
    return Label(doc.name, display["text"], predicate, display.get("color"), display.get("icon"),
                 display.get("priority", 0), display.get("style", DEFAULT_STYLE),
                 frozenset(doc.data.get("surfaces") or SURFACES), starts_at, ends_at,
                 frozenset(channels) if channels else None)


def run_examples(label: Label, examples: list[dict], env: Environment) -> list[AuthorError]:
    errors = []
    for index, example in enumerate(examples):
        unknown = unknown_given_fields(env.facts, FACT, example["given"], f"/examples/{index}/given")
        if unknown:
            errors.extend(AuthorError(message, pointer=pointer, hint=text) for pointer, message, text in unknown)
            continue
        scope = _scope_problem(label, example, index)
        if isinstance(scope, AuthorError):
            errors.append(scope)
            continue
        got = label.applies(example["given"]) and scope is None
        if got is not example["expect"]:
            why = scope if scope is not None else _why(label, example["given"], got)
            errors.append(AuthorError(
                f"example failed: expected {str(example['expect']).lower()}, got "
                f"{str(got).lower()}" + (f": {why}" if why else ""),
                pointer=f"/examples/{index}/expect"))
    return errors


def _scope_problem(label: Label, example: dict, index: int) -> str | AuthorError | None:
    """Why the example's ``at``/``channel`` hide the label (``None``: they do not), or the error
    of an ``at`` that is not a time."""
    if "at" in example:
        moment = parse_time(example["at"])
        if moment is None:
            return AuthorError(f"expected an ISO-8601 time with a zone, got {example['at']!r}",
                               pointer=f"/examples/{index}/at")
        if not label.active_at(moment):
            return f"the schedule is closed at {example['at']}"
    if "channel" in example and not label.shown_in(example["channel"]):
        return f"the label is not shown in channel {example['channel']!r}"
    return None


def _why(label: Label, given: dict, got: bool) -> str:
    explanation = label.explain(given)
    failed = explanation.failures() if not got else _held_leaves(explanation)
    return "; ".join(f"{leaf.condition} (actual: {leaf.actual!r})" for leaf in failed)


def _held_leaves(explanation: Explanation) -> list[Explanation]:
    if not explanation.children:
        return [explanation] if explanation.held else []
    return [leaf for child in explanation.children for leaf in _held_leaves(child)]


register_kind(KindSpec("label", compile_label, run_examples, label="Product label"))
