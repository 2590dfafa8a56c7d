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

A level-2 account is one of two **evidence classes** (ADR 0017 §11): ``chip`` — the identity
document's chip passed passive authentication at the desk (a citizen's chip card, or a foreign
passport whose chip verified against its state's CSCA with a fresh CRL, ICAO Doc 9303 part 11
§5.1) — or ``mrz`` — a foreign resident raised on the passport's optical MRZ, the residence card
and the officer's face check only (no chip, an unreadable chip, a state without a trusted CSCA, or
a Document Signer whose revocation status is unknown). ``ACR_L2``/``ACR_L2_MFA`` mean the ``chip``
class, as they always documented ("activated … with the chip card"); the ``mrz`` class has its own
values :data:`ACR_L2_MRZ` and :data:`ACR_L2_MRZ_MFA`, so a relying party can tell them apart and
one asking for ``ACR_L2`` is never satisfied by an ``mrz`` account.

The order is partial (:func:`satisfies`): an acr is a (level, chip, second factor) triple and
satisfies another when it is at least as high in each. ``ACR_L2`` (chip, one factor) and
``ACR_L2_MRZ_MFA`` (MRZ, two factors) do not satisfy each other; ``ACR_L2_MFA`` satisfies all.

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
ACR_L2_MRZ = "urn:dancu:acr:level2:mrz"  # level 2 on the passport's optical MRZ (ADR 0017 §11)
ACR_L2_MRZ_MFA = "urn:dancu:acr:level2:mrz:mfa"
# Every value this provider issues, low to high in a linear extension of the partial order (for
# choosing the lowest of several; which satisfies which is :func:`satisfies`).
ACR_ORDER: tuple[str, ...] = (ACR_L1, ACR_L2_MRZ, ACR_L2_MRZ_MFA, ACR_L2, ACR_L2_MFA)
# acr → (level, chip evidence, second factor).
_CLASS: dict[str, tuple[int, bool, bool]] = {
    ACR_L1: (1, False, False),
    ACR_L2_MRZ: (2, False, False),
    ACR_L2_MRZ_MFA: (2, False, True),
    ACR_L2: (2, True, False),
    ACR_L2_MFA: (2, True, True),
}
_BY_CLASS = {v: k for k, v in _CLASS.items()}

# Evidence classes of a level-2 account (``Assurance.evidence``).
EVIDENCE_CHIP = "chip"
EVIDENCE_MRZ = "mrz"
# ``Account.level2_evidence`` values that are a chip verified by passive authentication.
CHIP_EVIDENCE = frozenset({"card_chip", "passport_chip"})

# RFC 8176 §2 method references that count as a second factor beside a password.
SECOND_FACTORS = frozenset({"otp", "sms", "mfa", "hwk", "swk", "face"})

SESSION_KEY = "dancu.eid.assurance"


def evidence_class(level: int, level2_evidence: str, *, foreign: bool) -> str:
    """The evidence class of an account (module docstring): ``""`` below level 2; ``chip`` when
    ``Account.level2_evidence`` is a verified chip (:data:`CHIP_EVIDENCE`) or is empty on a
    citizen's account (activated before the evidence was recorded, always with the chip card —
    ADR 0008); ``mrz`` otherwise — ``passport_mrz_optical``, an empty value on a foreign
    resident's account (raised on the MRZ before ADR 0017 §10), or any value not known here."""
    if level < 2:
        return ""
    if level2_evidence in CHIP_EVIDENCE or (not level2_evidence and not foreign):
        return EVIDENCE_CHIP
    return EVIDENCE_MRZ


def acr_for(level: int, amr: Iterable[str], evidence: str = "") -> str:
    """The acr earned by a log-in of an account of ``level`` (1 or 2) and evidence class
    ``evidence`` (:func:`evidence_class`) with methods ``amr``.

    Two factors are a knowledge factor (``pwd``) and a possession factor (``otp``/``sms``/``swk``),
    or ``mfa`` itself. A level-2 account whose evidence is not ``chip`` earns the ``mrz`` values —
    an unknown or missing class is never taken for a chip.
    """
    methods = set(amr)
    if level >= 2:
        two = "mfa" in methods or (len(methods) >= 2 and bool(methods & SECOND_FACTORS))
        if evidence == EVIDENCE_CHIP:
            return ACR_L2_MFA if two else ACR_L2
        return ACR_L2_MRZ_MFA if two else ACR_L2_MRZ
    return ACR_L1


def best_for(level: int, evidence: str) -> str:
    """The highest acr an account of ``level`` and evidence class ``evidence`` can reach (with a
    second factor): what step-up can give it; anything it does not satisfy needs a desk visit."""
    return acr_for(level, ("pwd", "otp"), evidence)


def rank(acr: str) -> int:
    """Position of ``acr`` in :data:`ACR_ORDER` (a linear extension of the partial order: use it to
    choose the lowest of several values, never to decide satisfaction); -1 for a value this
    provider does not issue."""
    try:
        return ACR_ORDER.index(acr)
    except ValueError:
        return -1


def _at_least(have: str, want: str) -> bool:
    a, b = _CLASS.get(have), _CLASS.get(want)
    return a is not None and b is not None and a[0] >= b[0] and a[1] >= b[1] and a[2] >= b[2]


def satisfies(have: str, wanted: Iterable[str]) -> bool:
    """Whether a session at ``have`` satisfies a request for any of ``wanted`` (``acr_values`` is a
    list in order of preference; one satisfied value is enough). ``have`` satisfies ``w`` when it
    is at least as high in level, chip evidence and second factor (module docstring). Unknown
    values are never satisfied; an empty request is."""
    values = [w for w in wanted if w]
    if not values:
        return True
    return any(_at_least(have, w) for w in values)


def join(a: str, b: str) -> str:
    """The lowest acr that satisfies both ``a`` and ``b`` (both known): a request combined with a
    relying party's registered minimum (ADR 0009 §6)."""
    x, y = _CLASS[a], _CLASS[b]
    level = max(x[0], y[0])
    if level < 2:
        return ACR_L1
    return _BY_CLASS[(level, x[1] or y[1], x[2] or y[2])]


@dataclass(frozen=True)
class Assurance:
    """One log-in: which account, at which level, by which methods, when."""

    user_id: int
    level: int
    amr: tuple[str, ...]
    auth_time: int  # seconds since the epoch (OpenID Connect Core §2 ``auth_time``)
    # The account's evidence class at log-in (:func:`evidence_class`); "" is never a chip.
    evidence: str = ""

    @property
    def acr(self) -> str:
        return acr_for(self.level, self.amr, self.evidence)

    @property
    def best(self) -> str:
        """The most this account can reach by step-up (:func:`best_for`)."""
        return best_for(self.level, self.evidence)

    def as_dict(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "level": self.level,
            "amr": list(self.amr),
            "auth_time": self.auth_time,
            "evidence": self.evidence,
        }


def store(session: MutableMapping[str, Any], assurance: Assurance) -> None:
    """Record a completed log-in (or step-up) in the session."""
    session[SESSION_KEY] = assurance.as_dict()


def load(session: MutableMapping[str, Any], user_id: int | None) -> Assurance | None:
    """The session's assurance for ``user_id``, or None (no log-in recorded, or for another user,
    or recorded before the evidence class was: such a session logs in again)."""
    raw = session.get(SESSION_KEY)
    if not isinstance(raw, dict) or user_id is None or raw.get("user_id") != user_id:
        return None
    try:
        return Assurance(
            user_id=int(raw["user_id"]),
            level=int(raw["level"]),
            amr=tuple(str(m) for m in raw["amr"]),
            auth_time=int(raw["auth_time"]),
            evidence=str(raw["evidence"]),
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
