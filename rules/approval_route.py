"""The ``approval_route`` kind: which carts need whose approval, in which phases, with what quorum.

A route selects carts with a predicate over the cart fact and requesters by role; it declares
phases (``cart``, ``payment``…) ordered by ``after``, each with tiers of approvers (roles or named
users), a quorum per tier (N of M) and tiers in sequence or in parallel.

Several matching routes **combine** (:func:`combine`): the union of their phases, ordered by the
union of their ``after`` edges (ties: cart, payment, then by name); within a phase, tiers naming
the same approver pool merge and keep the strictest (highest) quorum and the shortest timeout,
other tiers are all required; a phase is ``sequence`` when any route says so; the drift tolerance
is the smallest any route allows. Every part of the plan names the routes it came from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from rules.durations import parse_duration
from rules.environment import Environment
from rules.errors import AuthorError
from rules.facts import unknown_given_fields
from rules.kinds import KindSpec, ParsedDefinition, register_kind
from rules.predicates import Explanation, Predicate, compile_predicate
from rules.promotion import selects_nothing
from rules.suggestions import hint

#: The fact ``when`` reads.
FACT = "cart"
#: Phases without ``after`` run in this order first, then the others by name.
PHASE_ORDER = ("cart", "payment")
SEQUENCE, PARALLEL = "sequence", "parallel"


@dataclass(frozen=True)
class Tier:
    name: str
    quorum: int
    roles: frozenset[str] = frozenset()
    users: frozenset[str] = frozenset()
    timeout: timedelta | None = None
    #: ``expire`` or ``escalate`` (with ``timeout``).
    on_timeout: str | None = None
    routes: tuple[str, ...] = ()

    @property
    def pool(self) -> tuple[str, frozenset[str]]:
        """What identifies the approvers: tiers with the same pool merge across routes."""
        return ("roles", self.roles) if self.roles else ("users", self.users)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "quorum": self.quorum}
        if self.roles:
            data["roles"] = sorted(self.roles)
        if self.users:
            data["users"] = sorted(self.users)
        if self.timeout is not None:
            data["timeout"] = {"seconds": int(self.timeout.total_seconds()), "then": self.on_timeout}
        if self.routes:
            data["routes"] = list(self.routes)
        return data


@dataclass(frozen=True)
class Phase:
    name: str
    tiers: tuple[Tier, ...]
    mode: str = PARALLEL
    after: frozenset[str] = frozenset()
    routes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tolerance:
    amount: Decimal | None = None
    percent: Decimal | None = None

    def allowance(self, approved: Decimal) -> Decimal:
        """How far a total may move from ``approved`` (with both, the larger allowance)."""
        parts = [self.amount or Decimal(0)]
        if self.percent is not None:
            parts.append(abs(approved) * self.percent / 100)
        return max(parts)


@dataclass(frozen=True)
class ApprovalRoute:
    name: str
    phases: tuple[Phase, ...]
    predicate: Predicate | None = None
    requesters: frozenset[str] | None = None
    tolerance: Tolerance = field(default_factory=Tolerance)

    def requester_matches(self, roles: Iterable[str]) -> bool:
        return self.requesters is None or bool(self.requesters & set(roles))

    def applies(self, cart: Mapping[str, Any], roles: Iterable[str]) -> bool:
        return self.requester_matches(roles) and (self.predicate is None or bool(self.predicate(cart)))


@dataclass(frozen=True)
class Plan:
    """The combined approval plan for one cart and requester (empty: no approval needed)."""

    routes: tuple[str, ...]
    phases: tuple[Phase, ...]
    tolerance: Tolerance

    @property
    def required(self) -> bool:
        return bool(self.phases)

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {phase.name: [tier.to_dict() for tier in phase.tiers] for phase in self.phases}


def select(routes: Sequence[ApprovalRoute], cart: Mapping[str, Any], roles: Iterable[str]) -> list[ApprovalRoute]:
    """The routes that apply, by name."""
    held = frozenset(roles)
    return sorted((route for route in routes if route.applies(cart, held)), key=lambda route: route.name)


def combine(routes: Sequence[ApprovalRoute]) -> Plan:
    """One plan from the matching routes (the rule is the module docstring's)."""
    phases: dict[str, dict[str, Any]] = {}
    for route in routes:
        for phase in route.phases:
            into = phases.setdefault(phase.name, {"tiers": {}, "mode": PARALLEL, "after": set(), "routes": []})
            into["routes"].append(route.name)
            into["after"] |= phase.after
            if phase.mode == SEQUENCE:
                into["mode"] = SEQUENCE
            for tier in phase.tiers:
                into["tiers"][tier.pool] = _merge(into["tiers"].get(tier.pool), tier, route.name)
    order = _order({name: spec["after"] & phases.keys() for name, spec in phases.items()})
    built = tuple(Phase(name, tuple(phases[name]["tiers"].values()), phases[name]["mode"],
                        frozenset(phases[name]["after"]), tuple(phases[name]["routes"])) for name in order)
    tolerances = [route.tolerance for route in routes]
    return Plan(tuple(route.name for route in routes), built, _strictest(tolerances))


def _merge(current: Tier | None, tier: Tier, route: str) -> Tier:
    if current is None:
        return Tier(tier.name, tier.quorum, tier.roles, tier.users, tier.timeout, tier.on_timeout, (route,))
    timeouts = [t for t in (current, tier) if t.timeout is not None]
    shortest = min(timeouts, key=lambda t: t.timeout) if timeouts else None
    return Tier(current.name, max(current.quorum, tier.quorum), current.roles, current.users,
                shortest.timeout if shortest else None, shortest.on_timeout if shortest else None,
                (*current.routes, route))


def _strictest(tolerances: Sequence[Tolerance]) -> Tolerance:
    if not tolerances:
        return Tolerance()
    amounts = [t.amount or Decimal(0) for t in tolerances]
    percents = [t.percent for t in tolerances]
    # A route without a percent allows no percentage at all: the strictest wins.
    return Tolerance(min(amounts), None if any(p is None for p in percents) else min(percents))


def _order(after: Mapping[str, set[str] | frozenset[str]]) -> list[str]:
    """Phases in dependency order; ties by :data:`PHASE_ORDER`, then by name. A loop across routes
    (each route alone is checked) falls back to the tie order for the phases left."""
    rank = {name: (PHASE_ORDER.index(name) if name in PHASE_ORDER else len(PHASE_ORDER), name) for name in after}
    done: list[str] = []
    left = dict(after)
    while left:
        ready = sorted((name for name, needs in left.items() if not (set(needs) - set(done))), key=rank.get)
        pick = ready[0] if ready else min(left, key=rank.get)
        done.append(pick)
        del left[pick]
    return done


def loop_in(after: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A cycle of ``after`` edges (phase names, first repeated at the end), or ``None``."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for need in after.get(name, ()):
            if state.get(need) == 1:
                return path[path.index(need):] + [need]
            if need in after and need not in state:
                found = visit(need)
                if found:
                    return found
        state[name] = 2
        path.pop()
        return None

    for name in after:
        if name not in state:
            found = visit(name)
            if found:
                return found
    return None


def compile_route(doc: ParsedDefinition, env: Environment) -> ApprovalRoute | None:
    data = doc.data
    predicate = None
    if "when" in data:
        predicate = compile_predicate(data["when"], "/when", fact=FACT, env=env, report=doc.report)
        why = selects_nothing(predicate) if predicate is not None else None
        if why:
            doc.report("/when", f"the route can never match: {why}")
    for index, role in enumerate(data.get("requesters", [])):
        _check_role(doc, env, f"/requesters/{index}", role)
    phases = [_phase(doc, env, name, spec) for name, spec in data["phases"].items()]
    cycle = loop_in({phase.name: phase.after for phase in phases})
    if cycle:
        doc.report(f"/phases/{cycle[0]}/after", "the phase order loops: " + " after ".join(cycle))
    tolerance = data.get("tolerance", {})
    if doc.errors:
        return None
    return ApprovalRoute(doc.name, tuple(phases), predicate,
                         frozenset(data["requesters"]) if "requesters" in data else None,
                         Tolerance(Decimal(tolerance["amount"]) if "amount" in tolerance else None,
                                   Decimal(str(tolerance["percent"])) if "percent" in tolerance else None))


def _check_role(doc: ParsedDefinition, env: Environment, pointer: str, role: str) -> None:
    if env.roles is not None and role not in env.roles:
        doc.report(pointer, f"unknown role {role!r}", hint(role, env.roles))


def _phase(doc: ParsedDefinition, env: Environment, name: str, spec: dict) -> Phase:
    where = f"/phases/{name}"
    for index, need in enumerate(spec.get("after", [])):
        if need not in doc.data["phases"]:
            doc.report(f"{where}/after/{index}", f"unknown phase {need!r}", hint(need, doc.data["phases"]))
    tiers, seen = [], set()
    for index, tier in enumerate(spec["tiers"]):
        at = f"{where}/tiers/{index}"
        if tier["name"] in seen:
            doc.report(f"{at}/name", f"tier {tier['name']!r} is already a tier of phase {name!r}")
        seen.add(tier["name"])
        if ("roles" in tier) == ("users" in tier):
            doc.report(at, "give exactly one of 'roles' and 'users'")
            continue
        for position, role in enumerate(tier.get("roles", [])):
            _check_role(doc, env, f"{at}/roles/{position}", role)
        if "users" in tier and tier["quorum"] > len(tier["users"]):
            doc.report(f"{at}/quorum", f"quorum {tier['quorum']} is more than the {len(tier['users'])} "
                                       "approver(s) the tier names: it could never be reached")
        timeout = tier.get("timeout")
        if timeout and timeout["then"] == "escalate" and (spec.get("mode") != SEQUENCE or index == len(spec["tiers"]) - 1):
            doc.report(f"{at}/timeout/then", "escalate needs a next tier in a 'sequence' phase to hand over to")
        tiers.append(Tier(tier["name"], tier["quorum"], frozenset(tier.get("roles", ())), frozenset(tier.get("users", ())),
                          parse_duration(timeout["after"]) if timeout else None, timeout["then"] if timeout else None))
    return Phase(name, tuple(tiers), spec.get("mode", PARALLEL), frozenset(spec.get("after", ())))


@dataclass(frozen=True)
class RouteExplanation:
    route: str
    matched: bool
    requester_matched: bool
    condition: Explanation | None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"route": self.route, "matched": self.matched, "requesterMatched": self.requester_matched}
        if self.condition is not None:
            data["condition"] = self.condition.to_dict()
        return data


def explain(routes: Sequence[ApprovalRoute], cart: Mapping[str, Any], roles: Iterable[str]) -> list[RouteExplanation]:
    """Every route, matched or not, with the requester check and its conditions' actual values."""
    held = frozenset(roles)
    out = []
    for route in sorted(routes, key=lambda r: r.name):
        condition = route.predicate.explain(cart) if route.predicate is not None else None
        requester = route.requester_matches(held)
        out.append(RouteExplanation(route.name, requester and (condition is None or condition.held), requester, condition))
    return out


def run_examples(route: ApprovalRoute, examples: list[dict], env: Environment) -> list[AuthorError]:
    """Each example: does the route apply to the cart and requester, and which phases and tiers."""
    errors = []
    for index, example in enumerate(examples):
        given, expect = example["given"], example["expect"]
        unknown = unknown_given_fields(env.facts, FACT, given["cart"], f"/examples/{index}/given/cart")
        if unknown:
            errors.extend(AuthorError(message, pointer=pointer, hint=text) for pointer, message, text in unknown)
            continue
        roles = given.get("requester", {}).get("roles", [])
        applies = route.applies(given["cart"], roles)
        if applies is not expect["applies"]:
            errors.append(AuthorError(f"example failed: expected applies {str(expect['applies']).lower()}, got "
                                      f"{str(applies).lower()}", pointer=f"/examples/{index}/expect/applies"))
            continue
        if applies and "phases" in expect:
            got = {name: [{k: v for k, v in tier.items() if k in ("name", "quorum", "roles", "users")} for tier in tiers]
                   for name, tiers in combine([route]).to_dict().items()}
            wanted = {name: [{**tier, **({"roles": sorted(tier["roles"])} if "roles" in tier else {}),
                              **({"users": sorted(tier["users"])} if "users" in tier else {})} for tier in tiers]
                      for name, tiers in expect["phases"].items()}
            if got != wanted or list(got) != list(wanted):
                errors.append(AuthorError(f"example failed: expected phases {wanted}, got {got}",
                                          pointer=f"/examples/{index}/expect/phases"))
    return errors


register_kind(KindSpec("approval_route", compile_route, run_examples, label="Approval route"))
