"""Token buckets: in-process (one lock) or in Redis (one Lua script, so concurrent processes never
both take the last token). Both answer the same :class:`Decision`; time comes from the caller."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import redis

from runtime.security.policies import RatePolicy


@dataclass(frozen=True)
class Decision:
    policy: RatePolicy
    allowed: bool
    #: Whole tokens left after this request.
    remaining: int
    #: Seconds until a refused request may be retried (0 when allowed).
    retry_after: float
    #: Seconds until the bucket is full again (the ``t`` of the ``RateLimit`` header).
    reset: float


def _decide(policy: RatePolicy, tokens: float, allowed: bool, cost: int) -> Decision:
    # A cost above the burst can never be admitted: its retry is a full window.
    retry = 0.0 if allowed else (min(cost, policy.burst) - tokens) / policy.per_second
    return Decision(policy, allowed, int(tokens), retry, (policy.burst - tokens) / policy.per_second)


class MemoryBuckets:
    """The embedded default: buckets in this process's memory, dropped once full again."""

    #: Buckets kept before the full ones are forgotten.
    MAX_BUCKETS = 100_000

    def __init__(self) -> None:
        #: bucket → (tokens, stamp, when it is full again)
        self._buckets: dict[str, tuple[float, float, float]] = {}
        self._lock = threading.Lock()

    def take(self, policy: RatePolicy, key: str, now: float, cost: int = 1) -> Decision:
        bucket = f"{policy.name}|{key}"
        with self._lock:
            tokens, stamp, _full = self._buckets.get(bucket, (float(policy.burst), now, now))
            tokens = min(float(policy.burst), tokens + max(0.0, now - stamp) * policy.per_second)
            allowed = tokens >= cost
            if allowed:
                tokens -= cost
            self._buckets[bucket] = (tokens, max(now, stamp), now + (policy.burst - tokens) / policy.per_second)
            if len(self._buckets) > self.MAX_BUCKETS:
                # A full bucket holds nothing a new one would not: forget those.
                self._buckets = {k: v for k, v in self._buckets.items() if v[2] > now}
        return _decide(policy, tokens, allowed, cost)


#: KEYS[1] the bucket; ARGV burst, per_second, now, cost. Numbers travel as strings: Redis would
#: truncate a Lua float reply to an integer.
TAKE_SCRIPT = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1])
local stamp = tonumber(state[2])
if tokens == nil or stamp == nil then
  tokens = burst
  stamp = now
end
if now > stamp then
  tokens = math.min(burst, tokens + (now - stamp) * rate)
  stamp = now
end
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(stamp))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""

#: Prefix of every bucket key in Redis.
KEY_PREFIX = "vectis:ratelimit:"


class RedisBuckets:
    """Buckets shared by every process using one Redis; each expires once it would be full."""

    def __init__(self, connection: redis.Redis) -> None:
        self._script = connection.register_script(TAKE_SCRIPT)

    def take(self, policy: RatePolicy, key: str, now: float, cost: int = 1) -> Decision:
        allowed, tokens = self._script(keys=[f"{KEY_PREFIX}{policy.name}:{key}"],
                                       args=[policy.burst, repr(policy.per_second), repr(now), cost])
        return _decide(policy, float(tokens), bool(int(allowed)), cost)
