"""Label predicates on durable_rules, run in a child process (it can crash or hang: see
``notes/durable_rules.md``): ``python -m tests.bench.durable_labels INPUT.json``.

INPUT holds ``{"conditions": [durable JSON per label], "facts": [...], "guard": field}``, the
guard a field every fact has (not ``id``: durable's own state record has one). Labels are split into
rulesets small enough that no fact matches more than durable's 64 conditions at once and no
condition is shared by more than 256 rules; each fact is asserted into every ruleset through the
public ``Host`` API, then retracted. Prints ``{"seconds": ..., "matches": [[fact index, ...] per
label], "rulesets": n}`` as JSON.
"""

from __future__ import annotations

import json
import sys
import time

from durable.engine import Host, MessageNotHandledException

#: Rules per ruleset: an ``$or`` counts once per branch toward the 64 conditions matching at once.
CHUNK = 24


def _only_absence(condition) -> bool:
    """A rule of ``$nex`` tests alone also matches durable's own state record: it needs a guard."""
    if not isinstance(condition, dict):
        return False
    for key, value in condition.items():
        if key in ("$and", "$or"):
            if not all(_only_absence(item) for item in value):
                return False
        elif key != "$nex":
            return False
    return True


def _recorder(found: list[int], index_of: dict):
    def action(c):  # one argument: durable treats a two-argument action as asynchronous
        found.append(index_of[c.m["id"]])
    return action


def rulesets(conditions: list, hits: list[list[int]], index_of: dict, guard: str) -> dict:
    result = {}
    for start in range(0, len(conditions), CHUNK):
        rules = {}
        for label in range(start, min(start + CHUNK, len(conditions))):
            condition = conditions[label]
            if _only_absence(condition):
                condition = {"$and": [{"$ex": {guard: 1}}, condition]}

            rules[f"label_{label}"] = {"all": [{"m": condition}],
                                       "run": _recorder(hits[label], index_of)}
        result[f"labels_{start // CHUNK}"] = rules
    return result


def run(conditions: list, facts: list, guard: str) -> dict:
    hits: list[list[int]] = [[] for _ in conditions]
    index_of = {fact["id"]: index for index, fact in enumerate(facts)}
    definitions = rulesets(conditions, hits, index_of, guard)  # an $or fires once per branch
    host = Host()
    host.set_rulesets(definitions)
    names = list(definitions)
    started = time.perf_counter()
    for fact in facts:
        for name in names:
            for call in (host.assert_fact, host.retract_fact):
                try:
                    call(name, fact)
                except MessageNotHandledException:
                    pass  # no label of this ruleset holds for the fact
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "matches": [sorted(set(h)) for h in hits], "rulesets": len(names)}


def main(argv: list[str]) -> None:
    with open(argv[0], encoding="utf-8") as file:
        data = json.load(file)
    json.dump(run(data["conditions"], data["facts"], data["guard"]), sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
