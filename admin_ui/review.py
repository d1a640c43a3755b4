"""What the editor shows about a source besides the source: its errors by line, its examples'
outcomes, and line diffs between revisions."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from rules.errors import AuthorErrors
from rules.pipeline import Checked
from rules.yamlsource import parse


@dataclass(frozen=True)
class Example:
    index: int
    description: str
    outcome: str  # passed | failed | not run
    message: str = ""


def errors_by_line(checked: Checked | None) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    for error in checked.errors if checked else ():
        found.setdefault(error.line or 0, []).append(error)
    return found


def examples(source: str, checked: Checked) -> list[Example]:
    """Each example's outcome: the pipeline runs examples only once everything else passed, and
    reports a failed one at ``/examples/<i>/…``."""
    try:
        data = parse(source, "source").data
    except AuthorErrors:
        return []
    listed = data.get("examples") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        return []
    ran = all((e.pointer or "").startswith("/examples/") for e in checked.errors)
    found = []
    for index, example in enumerate(listed):
        mine = [e for e in checked.errors if (e.pointer or "").startswith(f"/examples/{index}/")
                or e.pointer == f"/examples/{index}"]
        description = example.get("description", "") if isinstance(example, dict) else ""
        outcome = "failed" if mine else "passed" if ran else "not run"
        found.append(Example(index, description, outcome, "; ".join(e.message for e in mine)))
    return found


@dataclass(frozen=True)
class DiffLine:
    kind: str  # add | remove | context | hunk
    text: str


def diff(old: str, new: str, old_label: str, new_label: str) -> list[DiffLine]:
    lines = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), old_label, new_label, lineterm=""):
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "add", "-": "remove", "@": "hunk"}.get(line[:1], "context")
        lines.append(DiffLine(kind, line))
    return lines
