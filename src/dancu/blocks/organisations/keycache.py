"""API keys remembered per process for the hot paths (``identity`` verification, ADR 0014).

``authenticate_api_key`` costs a query (and a write of ``last_used_at`` once a minute). A process
answering thousands of calls a second from a handful of keys remembers each key it has accepted
for :data:`TTL_SECONDS`: the prefix, the SHA-256 of the secret and the ``ApiClient``. A presented
secret is still compared with the remembered digest in constant time on every call.

Revocation: a key revoked (or whose organisation is deactivated) is refused by this cache at the
latest :data:`TTL_SECONDS` after the change, in every process — the next look-up goes to the
database. Paths that read or write personal data re-check the key in the same statement that
does the work (``identity.pg_verify``), so for them a revocation takes effect at once and the
cache entry is dropped (:func:`forget`). Only keys that were accepted are remembered: an unknown,
malformed or revoked key always goes to the database and is refused there.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from dancu.blocks.organisations.services import KEY_TAG, ApiClient, ApiKeyRejected, authenticate_api_key
from dancu.blocks.organisations.tokens import digest, parse_token, secret_matches

TTL_SECONDS = 2.0


@dataclass(frozen=True)
class _Entry:
    client: ApiClient
    secret_sha256: str
    until: float  # time.monotonic() after which the key is looked up again


_KEYS: dict[str, _Entry] = {}
_LOCK = threading.Lock()


def authenticate(token: str) -> ApiClient:
    """The client presenting ``token``, as ``services.authenticate_api_key`` decides it (raising
    ``ApiKeyRejected`` with the same rule and message), from memory when the key was accepted in
    the last :data:`TTL_SECONDS`."""
    parsed = parse_token(KEY_TAG, token)
    if parsed is None:
        raise ApiKeyRejected("invalid", "The API key is malformed: expected dk_<prefix>_<secret>.")
    prefix, secret = parsed
    entry = _KEYS.get(prefix)
    now = time.monotonic()
    if entry is not None and now < entry.until:
        if not secret_matches(entry.secret_sha256, secret):
            raise ApiKeyRejected("invalid", "The API key is not valid.")
        return entry.client
    client = authenticate_api_key(token)  # the database decides; raises on a refused key
    with _LOCK:
        _KEYS[prefix] = _Entry(client, digest(secret), now + TTL_SECONDS)
    return client


def forget(prefix: str) -> None:
    """Drop a key from memory (it was found revoked): its next use goes to the database."""
    with _LOCK:
        _KEYS.pop(prefix, None)


def clear() -> None:
    """Forget every key (tests)."""
    with _LOCK:
        _KEYS.clear()
