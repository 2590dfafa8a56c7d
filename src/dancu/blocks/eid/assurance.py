"""How sure we are of who is logged in: the assurance of a log-in, kept in the session.

This is the contract between the account block (``blocks/eid``), which authenticates people and
records *how* (:func:`store`), and the OpenID Connect provider (``blocks/sso``), which reads it
(:func:`load`) to put ``acr``, ``amr`` and ``auth_time`` in ID tokens and to decide on step-up.

Authentication context class references (OpenID Connect Core 1.0 §2, ``acr``), from low to high:

* :data:`ACR_L1` — a level-1 account (registered online, matched against the population
  database; Decree 69/2024/NĐ-CP Art. 12) with one factor;
* :data:`ACR_L2` — a level-2 account (activated in person at a police desk with the chip card,
  Decree 69/2024 Art. 13) with one factor;
* :data:`ACR_L2_MFA` — a level-2 account and a second factor (a one-time code, or approval on the
  citizen's logged-in device).

The account's level caps the acr: a level-1 account with two factors is still ``ACR_L1``.
Authentication method references use RFC 8176 values (``pwd``, ``otp``, ``sms``, ``mfa``, ...).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

ACR_L1 = "urn:dancu:acr:level1"
ACR_L2 = "urn:dancu:acr:level2"
ACR_L2_MFA = "urn:dancu:acr:level2:mfa"
# Low to high; an acr satisfies every value at or below it.
ACR_ORDER: tuple[str, ...] = (ACR_L1, ACR_L2, ACR_L2_MFA)

# RFC 8176 §2 method references that count as a second factor beside a password.
SECOND_FACTORS = frozenset({"otp", "sms", "mfa", "hwk", "swk", "face"})

SESSION_KEY = "dancu.eid.assurance"


def acr_for(level: int, amr: Iterable[str]) -> str:
    """The acr earned by a log-in of an account of ``level`` (1 or 2) with methods ``amr``.

    Two factors are a knowledge factor (``pwd``) and a possession factor (``otp``/``sms``/``swk``),
    or ``mfa`` itself; a level-2 account with only one is :data:`ACR_L2`.
    """
    methods = set(amr)
    if level >= 2:
        two = "mfa" in methods or (len(methods) >= 2 and bool(methods & SECOND_FACTORS))
        return ACR_L2_MFA if two else ACR_L2
    return ACR_L1


def rank(acr: str) -> int:
    """Position of ``acr`` in :data:`ACR_ORDER`; -1 for a value this provider does not issue."""
    try:
        return ACR_ORDER.index(acr)
    except ValueError:
        return -1


def satisfies(have: str, wanted: Iterable[str]) -> bool:
    """Whether a session at ``have`` satisfies a request for any of ``wanted`` (``acr_values`` is a
    list in order of preference; one satisfied value is enough). Unknown values are never
    satisfied; an empty request is."""
    values = [w for w in wanted if w]
    if not values:
        return True
    mine = rank(have)
    return any(0 <= rank(w) <= mine for w in values)


@dataclass(frozen=True)
class Assurance:
    """One log-in: which account, at which level, by which methods, when."""

    user_id: int
    level: int
    amr: tuple[str, ...]
    auth_time: int  # seconds since the epoch (OpenID Connect Core §2 ``auth_time``)

    @property
    def acr(self) -> str:
        return acr_for(self.level, self.amr)

    def as_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "level": self.level,
            "amr": list(self.amr),
            "auth_time": self.auth_time,
        }


def store(session: MutableMapping[str, Any], assurance: Assurance) -> None:
    """Record a completed log-in (or step-up) in the session."""
    session[SESSION_KEY] = assurance.as_dict()


def load(session: MutableMapping[str, Any], user_id: int | None) -> Assurance | None:
    """The session's assurance for ``user_id``, or None (no log-in recorded, or for another user)."""
    raw = session.get(SESSION_KEY)
    if not isinstance(raw, dict) or user_id is None or raw.get("user_id") != user_id:
        return None
    try:
        return Assurance(
            user_id=int(raw["user_id"]),
            level=int(raw["level"]),
            amr=tuple(str(m) for m in raw["amr"]),
            auth_time=int(raw["auth_time"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


FRESH_SECONDS = 600


def fresh_second_factor(a: Assurance | None, *, max_age: int = FRESH_SECONDS) -> bool:
    """Whether the session showed a possession factor (``otp``/``sms``/``swk``/…) within
    ``max_age`` seconds: asked before changing the factors themselves (re-enrolling or removing an
    authenticator app), whatever the account's level."""
    return a is not None and bool(set(a.amr) & (SECOND_FACTORS - {"mfa"})) and now() - a.auth_time <= max_age


def now() -> int:
    return int(time.time())
