"""Applying the rate-limit policies to requests.

Policies keyed by client IP are checked before anything else runs (``before_request``); on
``/graphql`` the ones keyed by the caller, and the per-operation ones, once the GraphQL view knows
the actor and the document (:func:`limit_graphql`). Every root field counts: ``login`` aliased
five times in one document takes five tokens. A refusal is HTTP 429 with ``Retry-After`` and the
IETF ``RateLimit``/``RateLimit-Policy`` headers; on ``/graphql`` also a GraphQL error whose
``extensions.code`` is ``RATE_LIMITED``.
"""
from __future__ import annotations

import logging
import math
from collections import Counter as Tally

import redis
from flask import Response, current_app, g, jsonify, request
from graphql import FieldNode, FragmentSpreadNode, GraphQLError, InlineFragmentNode, OperationDefinitionNode
from prometheus_client import Counter

from runtime.auth.permissions import Actor
from runtime.clock import clock
from runtime.security.buckets import Decision, MemoryBuckets, RedisBuckets
from runtime.security.policies import RatePolicy

log = logging.getLogger("runtime.security.ratelimit")
GRAPHQL_PATH = "/graphql"
CODE = "RATE_LIMITED"


class RateLimiter:
    """Kept in ``app.extensions["vectis.rate_limiter"]``."""

    def __init__(self, policies: tuple[RatePolicy, ...], connection: redis.Redis | None, registry=None):
        self.policies = policies
        self.buckets = RedisBuckets(connection) if connection is not None else MemoryBuckets()
        self.refused = Counter("vectis_rate_limited", "Requests refused by a rate-limit policy",
                               ["policy"], registry=registry) if registry is not None else None
        self.operations: dict[str, list[RatePolicy]] = {}
        for policy in policies:
            for name in policy.operations:
                self.operations.setdefault(name, []).append(policy)

    def endpoint_policies(self, path: str, endpoint: str | None, method: str) -> list[RatePolicy]:
        return [p for p in self.policies if method in p.methods and any(
            target == path or target == endpoint or (target.endswith("/") and path.startswith(target))
            for target in p.endpoints)]

    def take(self, charges: list[tuple[RatePolicy, int]], actor: Actor | None) -> list[Decision]:
        now = clock.now().timestamp()
        decisions = []
        for policy, cost in charges:
            try:
                decisions.append(self.buckets.take(policy, bucket_key(policy, actor), now, cost))
            except redis.RedisError as exc:
                # Redis down must not take the store down with it: admit, and say so in the log.
                log.warning("rate limit %s not checked: Redis answered %s", policy.name, type(exc).__name__)
        refused = [d for d in decisions if not d.allowed]
        if refused and self.refused is not None:
            for decision in refused:
                self.refused.labels(decision.policy.name).inc()
        return decisions


def client_ip() -> str:
    """The peer address, already rewritten by ProxyFix when trusted proxies are configured."""
    return request.remote_addr or "unknown"


def bucket_key(policy: RatePolicy, actor: Actor | None) -> str:
    """The caller's identity for this policy's key, falling back to coarser ones it has not got."""
    if actor is not None:
        if policy.key == "account" and actor.account_id is not None:
            return f"account:{actor.account_id}"
        if policy.key in ("account", "user") and actor.user_id is not None:
            return f"user:{actor.user_id}"
        if policy.key in ("account", "user", "api_key") and actor.api_key_id is not None:
            return f"api_key:{actor.api_key_id}"
    return f"ip:{client_ip()}"


def before_request() -> Response | None:
    limiter: RateLimiter = current_app.extensions["vectis.rate_limiter"]
    policies = limiter.endpoint_policies(request.path, request.endpoint, request.method)
    if not policies:
        return None
    on_graphql = request.path == GRAPHQL_PATH
    # On /graphql a policy keyed by the caller waits until the view has authenticated it.
    g.rate_limit_deferred = [p for p in policies if on_graphql and p.key != "ip"]
    now = [(p, 1) for p in policies if p not in g.rate_limit_deferred]
    return _answer(limiter.take(now, None), graphql=on_graphql)


def limit_graphql(data: dict, actor: Actor) -> Response | None:
    """The GraphQL view's hook, once the actor is known: a 429 response, or None to go on."""
    limiter: RateLimiter | None = current_app.extensions.get("vectis.rate_limiter")
    if limiter is None:
        return None
    charges = [(p, 1) for p in g.get("rate_limit_deferred", ())]
    if limiter.operations:
        tally: Tally[RatePolicy] = Tally()
        for name in root_fields(data):
            for policy in limiter.operations.get(name, ()):
                tally[policy] += 1
        charges.extend(tally.items())
    return _answer(limiter.take(charges, actor), graphql=True) if charges else None


def root_fields(data: dict) -> list[str]:
    """The root field names of the operation ``data`` selects, once per occurrence (aliases
    included); none when the text does not parse, which the view then refuses on its own."""
    settings = current_app.config["VECTIS"]
    try:
        document, _errors = current_app.extensions["vectis.graphql_documents"].checked(
            data.get("query"), settings.graphql_max_depth, settings.graphql_max_cost)
    except GraphQLError:
        return []
    wanted = data.get("operationName")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if (o.name.value if o.name else None) == wanted] if wanted else operations[:1]
    fragments = {d.name.value: d for d in document.definitions if d.kind == "fragment_definition"}
    names: list[str] = []
    pending = [chosen[0].selection_set] if chosen else []
    seen_fragments: set[str] = set()
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                names.append(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen_fragments:
                seen_fragments.add(selection.name.value)
                if selection.name.value in fragments:
                    pending.append(fragments[selection.name.value].selection_set)
    return names


def _answer(decisions: list[Decision], *, graphql: bool) -> Response | None:
    g.setdefault("rate_limit_decisions", []).extend(decisions)
    refused = [d for d in decisions if not d.allowed]
    if not refused:
        return None
    worst = max(refused, key=lambda d: d.retry_after)
    seconds = max(1, math.ceil(worst.retry_after))
    policy = worst.policy
    message = (f"too many requests: limit '{policy.name}' allows {policy.burst} at once, refilled at"
               f" {policy.per_second:g} per second; retry in {seconds} s")
    if graphql:
        response = jsonify({"errors": [{"message": message, "extensions": {
            "code": CODE, "policy": policy.name, "retryAfter": seconds}}]})
    else:
        response = Response(message + "\n", mimetype="text/plain")
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    return response


def after_request(response: Response) -> Response:
    """``RateLimit-Policy`` and ``RateLimit`` for every policy this request was counted against."""
    decisions = g.get("rate_limit_decisions")
    if decisions:
        response.headers["RateLimit-Policy"] = ", ".join(d.policy.header for d in decisions)
        response.headers["RateLimit"] = ", ".join(
            f'"{d.policy.name}";r={d.remaining};t={math.ceil(d.reset)}' for d in decisions)
    return response
