"""The live labels of this process as one batch evaluator, rebuilt when a label revision changes.

Building the shared network (:class:`rules.batch.BatchEvaluator`) costs more than evaluating a
page, so it is kept per app and reused until the set of live label revisions differs.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property

from flask import Flask
from rules.batch import BatchEvaluator, BatchResult
from rules.label import Label

from runtime.definitions.live import live_definitions

KEY = "vectis.label_set"
_lock = threading.Lock()


@dataclass(frozen=True)
class LiveLabel:
    name: str
    revision: int
    label: Label


class LabelSet:
    """Live labels by name, and one evaluator over all their predicates (in that order)."""

    def __init__(self, labels: list[LiveLabel], failed: frozenset[str] = frozenset()):
        self.labels = tuple(sorted(labels, key=lambda live: live.name))
        #: Live labels this process could not compile (a pack they call is missing here).
        self.failed = failed
        self.evaluator = BatchEvaluator([live.label.predicate for live in self.labels])

    @property
    def key(self) -> tuple:
        return tuple((live.name, live.revision) for live in self.labels) + (self.failed,)

    @cached_property
    def needs(self) -> frozenset[str] | None:
        """The top-level fact fields the predicates read; ``None`` (all) when one calls a
        function, which may read anything."""
        if any(live.label.functions for live in self.labels):
            return None
        return frozenset(path.split(".")[0] for live in self.labels
                         for path in live.label.predicate.fields)

    def evaluate(self, facts: list[dict]) -> BatchResult:
        return self.evaluator.evaluate(facts)

    def by_name(self, name: str) -> LiveLabel | None:
        return next((live for live in self.labels if live.name == name), None)


def current(app: Flask, *, force: bool = False) -> LabelSet:
    """The live labels (``force``: re-read the revisions now rather than at the next poll)."""
    live = live_definitions(app)
    if force:
        live.refresh(force=True)
    found = [LiveLabel(d.name, d.revision, d.compiled) for d in live.all("label")]
    failed = frozenset(name for kind, name in live.failures if kind == "label")
    key = tuple((item.name, item.revision) for item in sorted(found, key=lambda i: i.name)) + (failed,)
    cached: LabelSet | None = app.extensions.get(KEY)
    if cached is not None and cached.key == key:
        return cached
    with _lock:
        cached = app.extensions.get(KEY)
        if cached is None or cached.key != key:
            cached = app.extensions[KEY] = LabelSet(found, failed)
    return cached
