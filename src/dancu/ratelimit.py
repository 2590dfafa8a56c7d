"""Rate limiting by token bucket, kept in Django's cache.

Each client (an API key, a staff member) has a bucket of ``burst`` tokens refilled at
``per_minute`` tokens a minute; a request takes one token or is refused with the seconds until
the next token (HTTP 429 with ``Retry-After``, RFC 9110 §10.2.3). The state is two numbers per
client in the ``default`` cache.

The read–update of a bucket is serialised by a lock inside the process. With the per-process
``LocMemCache`` (the default: development, tests, one process) that is exact. Production runs
several processes against one Redis cache (``CACHE_URL=redis://…``, docs/configuration.md):
two processes may then both take the last token of a bucket at the same instant, so a client can
exceed its burst by at most one request per process — accepted for an abuse guard; an exact
limit would need an atomic script on the Redis server.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from django.core.cache import caches

CACHE_PREFIX = "dancu:ratelimit:"
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Rate:
    per_minute: float
    burst: int


class RateLimited(Exception):
    """No token left: retry after ``retry_after`` seconds (a whole number, at least 1)."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"too many requests; retry after {self.retry_after} s")


def take(client: str, rate: Rate, *, now: float | None = None, cache_alias: str = "default") -> float:
    """Take one token from ``client``'s bucket; returns the tokens left, or raises ``RateLimited``."""
    if rate.per_minute <= 0 or rate.burst < 1:
        raise ValueError("a rate needs per_minute > 0 and burst >= 1")
    cache = caches[cache_alias]
    key = CACHE_PREFIX + client
    moment = time.time() if now is None else now
    refill_per_second = rate.per_minute / 60.0
    keep_for = math.ceil(rate.burst / refill_per_second) + 1  # a full bucket needs no state
    with _LOCK:
        state = cache.get(key)
        tokens, stamp = state if isinstance(state, tuple) else (float(rate.burst), moment)
        tokens = min(float(rate.burst), tokens + max(0.0, moment - stamp) * refill_per_second)
        if tokens < 1.0:
            cache.set(key, (tokens, moment), keep_for)
            raise RateLimited((1.0 - tokens) / refill_per_second)
        cache.set(key, (tokens - 1.0, moment), keep_for)
        return tokens - 1.0
