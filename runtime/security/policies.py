"""Rate-limit policies: data, read from ``VECTIS_RATE_LIMITS`` over the defaults.

A policy is a token bucket — ``burst`` tokens at most, refilled at ``per_second`` — applied to one
endpoint (a path, or a Flask endpoint name such as ``admin.login_submit``) or to GraphQL root
fields (``operations``), with one bucket per key: the client ``ip``, the signed-in ``user``, the
``api_key`` or the B2B ``account``. A key the caller has not got falls back to the next coarser
one (account → user → IP; api_key → IP), so an anonymous caller is always limited by address.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

from runtime.errors import ConfigError

ENV = "VECTIS_RATE_LIMITS"
KEYS = ("ip", "user", "api_key", "account")


@dataclass(frozen=True)
class RatePolicy:
    name: str
    burst: int
    per_second: float
    key: str = "ip"
    #: Paths (``/graphql``) or Flask endpoint names (``admin.login_submit``) this policy covers.
    endpoints: tuple[str, ...] = ()
    #: GraphQL root field names (``login``, ``cartBulkLookup``) this policy covers.
    operations: tuple[str, ...] = ()
    #: HTTP methods of the endpoints counted (a GET of the sign-in page costs nothing).
    methods: tuple[str, ...] = ("POST",)

    @property
    def window(self) -> int:
        """Seconds an empty bucket takes to fill: the ``w`` of ``RateLimit-Policy``."""
        return max(1, math.ceil(self.burst / self.per_second))

    @property
    def header(self) -> str:
        return f'"{self.name}";q={self.burst};w={self.window}'


#: Protect sign-in (GraphQL ``login``/``refreshToken`` and the admin form) against password
#: guessing, and the bulk operations whose cost grows with their input. Generous enough for a
#: person and a storefront behind one address; an operator tightens or adds with ``VECTIS_RATE_LIMITS``.
DEFAULT_POLICIES: tuple[RatePolicy, ...] = (
    RatePolicy("login", burst=20, per_second=20 / 60, key="ip", operations=("login", "refreshToken")),
    RatePolicy("admin_sign_in", burst=20, per_second=20 / 60, key="ip", endpoints=("admin.login_submit",)),
    RatePolicy("bulk", burst=30, per_second=1.0, key="user", operations=("cartBulkLookup", "bulkAddToCart")),
    # Gateways send settlement webhooks in bursts (a day's captures at once) from a few addresses.
    RatePolicy("webhooks", burst=200, per_second=50.0, key="ip", endpoints=("incoming_webhooks.receive",)),
)


def _policy(index: int, raw: object) -> RatePolicy | str:
    """One policy, or its name when the entry only switches a default off (``"disabled": true``)."""
    where = f"{ENV}[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected an object with name, burst and per_second")
    unknown = set(raw) - {"name", "burst", "per_second", "key", "endpoints", "operations", "methods", "disabled"}
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    name = raw.get("name")
    if not isinstance(name, str) or not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ConfigError(f"{where}.name: expected a name of letters, digits, '_' or '-', got {name!r}")
    if raw.get("disabled") is True:
        return name
    burst, rate = raw.get("burst"), raw.get("per_second")
    if isinstance(burst, bool) or not isinstance(burst, int) or burst <= 0:
        raise ConfigError(f"{where}.burst: expected a positive whole number of requests, got {burst!r}")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0 or not math.isfinite(rate):
        raise ConfigError(f"{where}.per_second: expected a positive refill rate, got {rate!r}")
    key = raw.get("key", "ip")
    if key not in KEYS:
        raise ConfigError(f"{where}.key: expected one of {', '.join(KEYS)}, got {key!r}")
    lists = {}
    for field in ("endpoints", "operations", "methods"):
        value = raw.get(field, [] if field != "methods" else ["POST"])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{where}.{field}: expected a list of strings, got {value!r}")
        lists[field] = tuple(v.upper() if field == "methods" else v for v in value)
    if not lists["endpoints"] and not lists["operations"]:
        raise ConfigError(f"{where}: give endpoints or operations (a policy that covers nothing)")
    return RatePolicy(name, burst, float(rate), key, lists["endpoints"], lists["operations"], lists["methods"])


def parse_policies(text: str) -> tuple[RatePolicy, ...]:
    """The defaults with ``text`` (a JSON list) applied: an entry replaces the default of its name,
    ``{"name": …, "disabled": true}`` removes it, any other name is added."""
    policies = {p.name: p for p in DEFAULT_POLICIES}
    if not text.strip():
        return tuple(policies.values())
    try:
        entries = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{ENV}: not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(entries, list):
        raise ConfigError(f"{ENV}: expected a JSON list of policies")
    seen: set[str] = set()
    for index, raw in enumerate(entries):
        policy = _policy(index, raw)
        name = policy if isinstance(policy, str) else policy.name
        if name in seen:
            raise ConfigError(f"{ENV}[{index}].name: policy {name!r} is given twice")
        seen.add(name)
        if isinstance(policy, str):
            policies.pop(policy, None)
        else:
            policies[name] = policy
    return tuple(policies.values())
