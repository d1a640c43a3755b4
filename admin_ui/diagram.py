"""A state machine as a server-rendered SVG: states in columns by distance from the initial
state, transitions as labelled arrows (``[guard]`` when guarded), timers dashed, and the number of
live entities in each state."""
from __future__ import annotations

from collections import deque

from markupsafe import Markup, escape
from rules.state_machine import StateMachine

BOX_W, BOX_H, COL, ROW, MARGIN = 150, 46, 230, 96, 30


def _depths(machine: StateMachine) -> dict[str, int]:
    depth = {machine.initial: 0}
    queue = deque([machine.initial])
    while queue:
        state = queue.popleft()
        for transition in machine.transitions_from(state):
            if transition.target not in depth:
                depth[transition.target] = depth[state] + 1
                queue.append(transition.target)
    deepest = max(depth.values(), default=0)
    for state in machine.states:  # the compiler refuses unreachable states; be safe anyway
        depth.setdefault(state, deepest + 1)
    return depth


def layout(machine: StateMachine) -> dict[str, tuple[int, int]]:
    """state → (x, y) of its box's top-left corner."""
    depths, rows = _depths(machine), {}
    places = {}
    for state in machine.states:
        column = depths[state]
        row = rows.get(column, 0)
        rows[column] = row + 1
        places[state] = (MARGIN + column * COL, MARGIN + row * ROW)
    return places


def _edge(x1, y1, x2, y2, bend: int, label: str, dashed: bool) -> str:
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2 + bend
    style = ' stroke-dasharray="5 4"' if dashed else ""
    return (f'<path d="M{x1},{y1} Q{mx},{my} {x2},{y2}" class="edge"{style} marker-end="url(#arrow)"/>'
            f'<text x="{mx}" y="{my - 4}" class="edge-label">{escape(label)}</text>')


def render(machine: StateMachine, counts: dict[str, int] | None = None, stranded: set[str] = frozenset()) -> Markup:
    counts = counts or {}
    places = layout(machine)
    width = max(x for x, _ in places.values()) + BOX_W + MARGIN
    height = max(y for _, y in places.values()) + BOX_H + MARGIN + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="machine" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="state machine {escape(machine.name)}">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>']
    seen: dict[tuple[str, str], int] = {}
    edges = [(source, t.target, t.name + (" [guard]" if t.guard is not None else ""), False)
             for t in machine.transitions.values() for source in t.sources]
    edges += [(timer.state, machine.transitions[timer.transition].target,
               f"⏱ {timer.transition} after {timer.text}", True) for timer in machine.timers]
    for source, target, label, dashed in edges:
        n = seen[(source, target)] = seen.get((source, target), -1) + 1
        (sx, sy), (tx, ty) = places[source], places[target]
        if source == target:
            parts.append(f'<path d="M{sx + 40},{sy} C{sx + 40},{sy - 40} {sx + 110},{sy - 40} {sx + 110},{sy}" '
                         f'class="edge" marker-end="url(#arrow)"/><text x="{sx + 75}" y="{sy - 34}" '
                         f'class="edge-label">{escape(label)}</text>')
            continue
        forward = tx > sx
        x1 = sx + BOX_W if forward else sx
        x2 = tx if forward else tx + BOX_W
        if tx == sx:  # same column: from the side, bowing out
            x1, x2 = sx + BOX_W, tx + BOX_W
        bend = (18 + 16 * n) * (1 if forward else -1) if n or not forward or tx == sx else 0
        parts.append(_edge(x1, sy + BOX_H / 2, x2, ty + BOX_H / 2, bend, label, dashed))
    for state, (x, y) in places.items():
        classes = ["state"]
        if state == machine.initial:
            classes.append("initial")
        if state in machine.finals:
            classes.append("final")
        if state in stranded:
            classes.append("stranded")
        count = counts.get(state)
        parts.append(f'<g class="{" ".join(classes)}" data-state="{escape(state)}">'
                     f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="10"/>'
                     f'<text x="{x + BOX_W / 2}" y="{y + 20}" class="state-name">{escape(state)}</text>'
                     + (f'<text x="{x + BOX_W / 2}" y="{y + 37}" class="state-count">{count} live</text>'
                        if count is not None else "") + '</g>')
    parts.append("</svg>")
    return Markup("".join(parts))
