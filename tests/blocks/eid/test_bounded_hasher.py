"""The production password hasher (ADR 0009 §16): Django's Argon2 unchanged — a hash stored by
Django's ``Argon2PasswordHasher`` verifies, and the bounded one's hashes are Django's format — with
at most ``DANCU_PASSWORD_HASH_SLOTS`` hashes at once per process; 0 lifts the bound. Actors: the
log-in threads of one server process."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher

from dancu.blocks.eid.hashers import BoundedArgon2PasswordHasher


def test_the_bounded_hasher_is_djangos_argon2(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["dancu.blocks.eid.hashers.BoundedArgon2PasswordHasher"]
    stored = Argon2PasswordHasher().encode("mat-khau-rat-manh-2026", Argon2PasswordHasher().salt())
    bounded = BoundedArgon2PasswordHasher()
    assert bounded.algorithm == "argon2" and bounded.verify("mat-khau-rat-manh-2026", stored)
    assert not bounded.verify("mat-khau-sai-2026", stored)
    mine = bounded.encode("mat-khau-rat-manh-2026", bounded.salt())
    assert mine.startswith("argon2$argon2id$") and Argon2PasswordHasher().verify(
        "mat-khau-rat-manh-2026", mine
    )


@pytest.mark.parametrize(("slots", "most"), [(1, 1), (2, 2), (0, 4)])
def test_at_most_the_configured_hashes_run_at_once(
    settings: Any, monkeypatch: pytest.MonkeyPatch, slots: int, most: int
) -> None:
    settings.DANCU_PASSWORD_HASH_SLOTS = slots
    running, seen, lock = [0], [0], threading.Lock()

    def slow_verify(self: Any, password: str, encoded: str) -> bool:
        with lock:
            running[0] += 1
            seen[0] = max(seen[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return True

    monkeypatch.setattr(Argon2PasswordHasher, "verify", slow_verify)
    threads = [
        threading.Thread(target=BoundedArgon2PasswordHasher().verify, args=("x", "argon2$x"))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen[0] == most
