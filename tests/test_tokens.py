"""Random strings (``dancu.tokens``): the alphabet and length asked for, every character reachable
and equally likely (rejection sampling, no modulo bias), alphabets that cannot work refused."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.contrib.sessions.backends.base import VALID_KEY_CHARS

from dancu import tokens
from dancu.blocks.eid.session_store import SessionStore


def test_session_keys_are_django_keys() -> None:
    keys = {SessionStore()._get_new_session_key() for _ in range(500)}
    assert len(keys) == 500
    assert all(len(k) == 32 and set(k) <= set(VALID_KEY_CHARS) for k in keys)
    assert all(SessionStore()._validate_session_key(k) for k in keys)


def test_characters_are_equally_likely() -> None:
    counts = Counter(tokens.random_string("abcdefghij", 200_000))
    assert set(counts) == set("abcdefghij")
    # 20,000 expected each; a modulo-biased draw (256 % 10 = 6) would give the first six ~2.3 % more.
    assert all(abs(c - 20_000) < 600 for c in counts.values()), counts


def test_bytes_past_the_last_full_multiple_are_drawn_again(monkeypatch: Any) -> None:
    draws = iter([bytes([255, 252, 251, 0, 35]), bytes([36, 71] * 20)])
    monkeypatch.setattr(tokens.os, "urandom", lambda n: next(draws))
    # 36 characters: 252 = 7 × 36 is where a full round ends, so 252–255 are dropped (a modulo
    # would map them onto "a"–"d" once more); 251 is "9", 36 is "a" again.
    assert tokens.random_string(VALID_KEY_CHARS, 4) == "9a9a"


@pytest.mark.parametrize("alphabet", ["", "a", "aab", "é" * 3, "".join(chr(i) for i in range(300))])
def test_unusable_alphabets_are_refused(alphabet: str) -> None:
    with pytest.raises(ValueError, match="alphabet"):
        tokens.random_string(alphabet, 8)
