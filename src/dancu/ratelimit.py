"""Rate limiting by token bucket, kept in Django's cache.

Each client (an API key, a staff member) has a bucket of ``burst`` tokens refilled at
``per_minute`` tokens a minute; a request takes one token or is refused with the seconds until
the next token (HTTP 429 with ``Retry-After``, RFC 9110 §10.2.3). The state is two numbers per
client in the ``default`` cache.

The read–update of a bucket is serialised by a lock inside the process. With the per-process
cache (the default: development, tests, one process) that is exact. That cache is
:class:`ProcessCache`, Django's ``LocMemCache`` whose buckets are kept as plain numbers beside
it instead of pickled into it on every read and write (the same per-process state, ~4 times less
CPU a request on the verification route); its ``clear()`` empties them too, as it did when they
were cache entries. Production runs
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
from django.core.cache.backends.locmem import LocMemCache

CACHE_PREFIX = "dancu:ratelimit:"
_LOCK = threading.Lock()
_PRUNE_ABOVE = 4096  # buckets of a process cache; beyond, the full ones (expired entries) go


class ProcessCache(LocMemCache):
    """``LocMemCache`` (memory of this process, ``CACHE_URL`` empty) that also holds the token
    buckets of :func:`take` unpickled: ``[tokens, stamp, keep_until]`` per client, shared by the
    process's threads like the entries (one store per ``LOCATION``). ``clear()`` empties both."""

    _stores: dict[str, dict[str, list[float]]] = {}

    def __init__(self, name: str, params: dict[str, object]) -> None:
        super().__init__(name, params)
        self.buckets = self._stores.setdefault(name, {})

    def clear(self) -> None:
        super().clear()
        with _LOCK:
            self.buckets.clear()


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
    if isinstance(cache, ProcessCache):
        return _take_local(cache.buckets, key, rate, moment, refill_per_second, keep_for)
    with _LOCK:
        state = cache.get(key)
        tokens, stamp = state if isinstance(state, tuple) else (float(rate.burst), moment)
        tokens = min(float(rate.burst), tokens + max(0.0, moment - stamp) * refill_per_second)
        if tokens < 1.0:
            cache.set(key, (tokens, moment), keep_for)
            raise RateLimited((1.0 - tokens) / refill_per_second)
        cache.set(key, (tokens - 1.0, moment), keep_for)
        return tokens - 1.0


def _take_local(
    buckets: dict[str, list[float]], key: str, rate: Rate, moment: float, refill: float, keep_for: int
) -> float:
    """``take`` on a :class:`ProcessCache`'s buckets: the same arithmetic, and a bucket unused for
    ``keep_for`` seconds counts as full, as an expired cache entry does."""
    burst = float(rate.burst)
    with _LOCK:
        state = buckets.get(key)
        if state is None or moment >= state[2]:
            tokens, stamp = burst, moment
        else:
            tokens, stamp = state[0], state[1]
        tokens = min(burst, tokens + max(0.0, moment - stamp) * refill)
        if tokens < 1.0:
            buckets[key] = [tokens, moment, moment + keep_for]
            raise RateLimited((1.0 - tokens) / refill)
        if state is None and len(buckets) >= _PRUNE_ABOVE:
            for stale in [k for k, v in buckets.items() if moment >= v[2]]:
                del buckets[stale]
        buckets[key] = [tokens - 1.0, moment, moment + keep_for]
        return tokens - 1.0
