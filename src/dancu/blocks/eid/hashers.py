"""Argon2 password hashing with a bounded number of hashes in flight per process.

Django's ``Argon2PasswordHasher`` (Argon2id, 100 MiB, 2 passes, 8 lanes; RFC 9106) is used
unchanged — same algorithm name, parameters and encoded form, so every stored hash verifies as
before — but each process lets only ``DANCU_PASSWORD_HASH_SLOTS`` hashes (default 1; 0 = no
bound) run at the same time; another thread that needs one waits for a slot. Why (ADR 0009 §16):

* memory: every hash holds its 100 MiB while it runs; a burst of log-ins on a server of 2 × 4
  threads would otherwise hold 800 MiB at once, and more threads more;
* CPU: Argon2 is bound by memory bandwidth, and each hash already runs its lanes on more than
  one core, so hashes side by side slow each other down. On this project's 2-core machines a
  verification took ~176 ms of CPU alone and ~190 ms two at a time; the server's CPU per sign-in
  was 182 / 186 / 206 ms with 1 / 2 / 4 sign-ins at once (2026-12-03). The bound's effect on the
  sign-in rate was within the host's noise (five alternated pairs: 0.880 → 0.892 of the hash
  rate on average); it is kept for the memory bound, which holds by construction.

The wait reveals nothing: a right and a wrong password wait for the same slot, and the dummy hash
made for an unknown user name (``make_password``) takes one too.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

_lock = threading.Lock()
_slots: dict[int, Any] = {}


def slot() -> Any:
    """A context manager holding one of this process's hash slots (nothing when unbounded)."""
    n = int(getattr(settings, "DANCU_PASSWORD_HASH_SLOTS", 1))
    held = _slots.get(n)
    if held is None:
        with _lock:
            held = _slots.setdefault(n, threading.BoundedSemaphore(n) if n > 0 else contextlib.nullcontext())
    return held


class BoundedArgon2PasswordHasher(Argon2PasswordHasher):
    """Django's Argon2 hasher; at most ``DANCU_PASSWORD_HASH_SLOTS`` hashes at once per process."""

    def encode(self, password: str, salt: str) -> str:
        with slot():
            return super().encode(password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        with slot():
            return super().verify(password, encoded)
