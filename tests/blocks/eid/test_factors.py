"""Factors: TOTP (RFC 6238) with its secret sealed at rest (AES-GCM, key from SECRET_KEY by
HKDF), one-time codes (hashed, single use, expiring, limited attempts)."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from django.utils import timezone

from dancu.blocks.eid import crypto, factors
from dancu.blocks.eid.models import OneTimeCode, TotpDevice
from dancu.errors import DomainValidationError
from tests.blocks.eid.conftest import AN_PHONE, Outbox

pytestmark = pytest.mark.django_db


def test_totp_enrolment_needs_a_first_code_and_the_secret_is_sealed(an_registered: int) -> None:
    secret = factors.totp_new_secret()
    assert pyotp.parse_uri(factors.totp_uri(secret, "001085012345")).secret == secret
    assert not TotpDevice.objects.filter(user_id=an_registered).exists()  # nothing stored yet
    assert not factors.totp_enrol(
        an_registered, secret, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    )
    assert not factors.has_totp(an_registered)
    assert factors.totp_enrol(an_registered, secret, pyotp.TOTP(secret).now())
    device = TotpDevice.objects.get(user_id=an_registered)
    assert secret not in device.secret_sealed and device.secret_sealed.startswith("v1:")
    assert factors.has_totp(an_registered)


def test_a_new_secret_replaces_the_confirmed_one_only_when_confirmed(an_registered: int) -> None:
    old = pyotp.TOTP(factors.totp_new_secret())
    assert factors.totp_enrol(an_registered, old.secret, old.now())
    TotpDevice.objects.filter(user_id=an_registered).update(last_counter=-1)
    new = factors.totp_new_secret()
    sealed = factors.seal_pending(an_registered, new)
    assert factors.unseal_pending(an_registered, sealed) == new
    assert factors.unseal_pending(an_registered + 1, sealed) is None  # bound to its holder
    assert factors.totp_verify(an_registered, old.now())  # the old app still works


def test_a_totp_code_is_accepted_once(an_registered: int) -> None:
    totp = pyotp.TOTP(factors.totp_new_secret())
    assert factors.totp_enrol(an_registered, totp.secret, totp.now())
    assert not factors.totp_verify(an_registered, totp.now())  # the same step again: refused (replay)
    assert factors.totp_verify(an_registered, totp.at(timezone.now() + timedelta(seconds=30)))


def test_a_sealed_secret_does_not_open_for_another_account() -> None:
    sealed = crypto.seal("JBSWY3DPEHPK3PXP", "totp:1")
    assert crypto.unseal(sealed, "totp:1") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(DomainValidationError):
        crypto.unseal(sealed, "totp:2")


def test_codes_are_hashed_single_use_and_expire(an_registered: int, outbox: Outbox) -> None:
    assert factors.issue_code(an_registered, "login")
    code = outbox.last_code(AN_PHONE)
    row = OneTimeCode.objects.get(user_id=an_registered, purpose="login")
    assert code not in row.code_hash
    assert factors.check_code(an_registered, "login", code)
    assert not factors.check_code(an_registered, "login", code)  # used

    factors.issue_code(an_registered, "login")
    code = outbox.last_code(AN_PHONE)
    OneTimeCode.objects.filter(user_id=an_registered, used_at__isnull=True).update(expires_at=timezone.now())
    assert not factors.check_code(an_registered, "login", code)


def test_a_code_dies_after_five_wrong_guesses(an_registered: int, outbox: Outbox) -> None:
    factors.issue_code(an_registered, "login")
    code = outbox.last_code(AN_PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(factors.CODE_MAX_ATTEMPTS):
        assert not factors.check_code(an_registered, "login", wrong)
    assert not factors.check_code(an_registered, "login", code)


def test_a_new_code_replaces_the_old(an_registered: int, outbox: Outbox) -> None:
    factors.issue_code(an_registered, "recovery")
    first = outbox.last_code(AN_PHONE)
    factors.issue_code(an_registered, "recovery")
    second = outbox.last_code(AN_PHONE)
    if first != second:
        assert not factors.check_code(an_registered, "recovery", first)
    assert factors.check_code(an_registered, "recovery", second)
