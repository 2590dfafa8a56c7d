"""The acr tells a chip-verified level 2 from one raised on the passport's MRZ (ADR 0017 §11).

Actors: Anna Schmidt (German resident) raised to level 2 at the Tây Hồ desk — once with her
passport chip verified, once on the MRZ only because the officer recorded the chip as unreadable;
Nguyễn Văn An, a citizen whose account reached level 2 with his chip card before the evidence was
recorded (empty ``level2_evidence``)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest
from django.conf import settings

from dancu.blocks.eid import assurance, login
from dancu.blocks.eid.models import Account
from dancu.blocks.eid.services import level_and_evidence
from tests.blocks.eid.conftest import PASSWORD
from tests.blocks.eid.test_foreigners import anna  # noqa: F401 — the fixture
from tests.blocks.eid.test_foreigners_level2 import ANNA_LOGIN, activate, anna_level1  # noqa: F401
from tests.blocks.eid.test_foreigners_passport_chip import annas_chip_files, master_list
from tests.conftest import Person

pytestmark = pytest.mark.django_db
L1, L2, L2_MFA = assurance.ACR_L1, assurance.ACR_L2, assurance.ACR_L2_MFA
MRZ, MRZ_MFA = assurance.ACR_L2_MRZ, assurance.ACR_L2_MRZ_MFA


# ----------------------------------------------------------------------------- the order
@pytest.mark.parametrize(
    ("have", "wanted", "ok"),
    [
        (L2_MFA, MRZ_MFA, True),  # a chip-verified level 2 with two factors satisfies everything
        (L2_MFA, L2, True),
        (L2, MRZ, True),  # the chip satisfies a request that accepts the MRZ
        (L2, MRZ_MFA, False),  # …but not a second factor it has not shown
        (MRZ_MFA, L2, False),  # two factors never make up for the missing chip
        (MRZ_MFA, L2_MFA, False),
        (MRZ, L2, False),
        (MRZ, MRZ, True),
        (MRZ, L1, True),
        (L1, MRZ, False),
        (L2_MFA, "urn:example:loa:4", False),  # unknown values are never satisfied
    ],
)
def test_satisfaction_is_level_chip_and_factor_each_at_least(have: str, wanted: str, ok: bool) -> None:
    assert assurance.satisfies(have, [wanted]) is ok


def test_a_request_is_raised_to_the_relying_partys_minimum_by_the_join() -> None:
    assert assurance.join(L2, MRZ_MFA) == L2_MFA
    assert assurance.join(MRZ, L1) == MRZ
    assert assurance.join(L1, L1) == L1


def test_the_evidence_class_never_takes_an_unknown_or_missing_foreign_evidence_for_a_chip() -> None:
    cls = assurance.evidence_class
    assert cls(2, "card_chip", foreign=False) == cls(2, "passport_chip", foreign=True) == "chip"
    assert cls(2, "passport_mrz_optical", foreign=True) == "mrz"
    assert cls(2, "", foreign=True) == "mrz"  # a foreigner raised before ADR 0017 §10: the MRZ
    assert cls(2, "", foreign=False) == "chip"  # a citizen before 0009: always the chip card
    assert cls(2, "something_new", foreign=False) == "mrz"
    assert cls(1, "passport_chip", foreign=True) == ""
    assert assurance.acr_for(2, ("pwd",), "") == MRZ  # no class given: never the chip's acr


# ----------------------------------------------------------------------------- the log-in
def _log_in(login_name: str, amr: tuple[str, ...] = ("pwd",)) -> Any:
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    checked = login.check_password(login_name, PASSWORD, ip="127.0.0.1")
    return login.record_login(session, checked.user_id, amr, "test browser", checked=checked), session


def test_anna_with_a_verified_chip_logs_in_at_the_chip_acr(
    anna_level1: int,  # noqa: F811
    ward_police: Person,
) -> None:
    master_list("DE")
    activate(ward_police, chip_files=annas_chip_files())
    signed_in, session = _log_in(ANNA_LOGIN)
    assert (signed_in.acr, signed_in.evidence) == (L2, "chip")
    stepped = login.step_up(session, signed_in.user_id, "otp")
    assert stepped.acr == L2_MFA


def test_anna_raised_on_the_mrz_because_the_chip_was_unreadable_logs_in_at_the_mrz_acr(
    anna_level1: int,  # noqa: F811
    ward_police: Person,
) -> None:
    master_list("DE")
    activate(ward_police, chip_reason="chip_unreadable")
    account = Account.objects.get(pk=anna_level1)
    assert (account.level, account.level2_evidence) == (2, "passport_mrz_optical")
    signed_in, session = _log_in(ANNA_LOGIN)
    assert (signed_in.acr, signed_in.best) == (MRZ, MRZ_MFA)
    assert not assurance.satisfies(signed_in.acr, [L2])  # the denial: a relying party asking the chip
    stepped = login.step_up(session, signed_in.user_id, "sms")
    assert stepped.acr == MRZ_MFA and not assurance.satisfies(stepped.acr, [L2])
    # What the session recorded is what the provider reads back.
    loaded = assurance.load(session, signed_in.user_id)
    assert loaded is not None and loaded.acr == MRZ_MFA
    assert level_and_evidence(account.user_id) == (2, "mrz")


def test_a_session_recorded_before_the_evidence_class_logs_in_again(
    anna_level1: int,  # noqa: F811
) -> None:
    user_id = Account.objects.get(pk=anna_level1).user_id
    session: dict[str, Any] = {
        assurance.SESSION_KEY: {"user_id": user_id, "level": 2, "amr": ["pwd"], "auth_time": 1}
    }
    assert assurance.load(session, user_id) is None
