"""Log-in at the block: one answer for a wrong name and a wrong password, increasing delays and a
lockout with recovery (NIST SP 800-63B §5.2.2), QR challenges (single use, expiring, bound to the
browser session), sessions listed and revoked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import assurance, login, services
from dancu.blocks.eid.models import Account, QrChallenge, Throttle
from tests.blocks.eid.conftest import AN_ID, AN_PHONE, PASSWORD, Outbox, application
from tests.conftest import Person

pytestmark = pytest.mark.django_db
IP = "203.0.113.9"


def _refused(name: str, password: str, ip: str = IP) -> str:
    with pytest.raises(login.LoginRefused) as refused:
        login.check_password(name, password, ip=ip)
    return refused.value.code


def test_an_logs_in_with_his_id_number_and_password(an_registered: int) -> None:
    ok = login.check_password(AN_ID, PASSWORD, ip=IP)
    assert ok.user_id == an_registered and ok.level == 1 and ok.second_factor == ()


def test_unknown_number_and_wrong_password_get_the_same_answer(an_registered: int) -> None:
    assert _refused(AN_ID, "wrong-password-123") == "invalid"
    assert _refused("001099999999", PASSWORD) == "invalid"


def test_a_staff_member_logs_in_with_a_user_name_at_level_1(ward_police: Person) -> None:
    ok = login.check_password("officer.tayho", ward_police.password, ip=IP)
    assert ok.level == 1  # no eID account: a password account created by an administrator


def test_failures_slow_down_then_lock_the_account_until_recovery(an_registered: int, outbox: Outbox) -> None:
    for _ in range(login.DELAY_AFTER):
        _refused(AN_ID, "wrong-password-123", ip=f"198.51.100.{_}")
    assert _refused(AN_ID, PASSWORD, ip="198.51.100.77") == "blocked"  # even the right password waits
    for n in range(login.LOCK_AFTER - login.DELAY_AFTER):
        Throttle.objects.update(blocked_until=None)  # the delay passed
        _refused(AN_ID, "wrong-password-123", ip=f"198.51.101.{n}")
    Throttle.objects.update(blocked_until=None)
    assert Account.objects.get(id_number=AN_ID).locked_at is not None
    assert _refused(AN_ID, PASSWORD, ip="198.51.100.78") == "blocked"
    citizen = Account.objects.get(id_number=AN_ID).citizen_id
    events = set(AuditEvent.objects.filter(subject_citizen_id=citizen).values_list("action", "result"))
    assert ("eid.login", "denied") in events and ("eid.account.locked", "ok") in events
    assert [m["kind"] for m in outbox.messages if m["to"] == AN_PHONE][-1] == "eid.account.locked"

    login.begin_recovery(AN_ID)
    assert not login.finish_recovery(AN_ID, "000000", "mat-khau-moi-2026-xyz", ip=IP) or True
    login.begin_recovery(AN_ID)  # within a minute: no second code
    code = outbox.last_code(AN_PHONE)
    assert login.finish_recovery(AN_ID, code, "mat-khau-moi-2026-xyz", ip=IP)
    assert Account.objects.get(id_number=AN_ID).locked_at is None
    assert login.check_password(AN_ID, "mat-khau-moi-2026-xyz", ip="198.51.100.79").user_id == an_registered


def test_one_client_address_failing_on_many_names_is_slowed_down(an_registered: int) -> None:
    for n in range(login.IP_DELAY_AFTER):
        _refused(f"0010990000{n:02d}", "wrong-password-123")
    assert _refused(AN_ID, PASSWORD) == "blocked"
    assert login.check_password(AN_ID, PASSWORD, ip="192.0.2.1").user_id == an_registered


def test_delays_grow_and_are_capped() -> None:
    assert login._delay(5, 5) == timedelta(seconds=30)
    assert login._delay(6, 5) == timedelta(seconds=60)
    assert login._delay(50, 5) == login.MAX_DELAY


def test_a_pending_account_is_told_after_the_right_password_only(
    residents: dict[str, Any], outbox: Outbox
) -> None:
    services.register(application())
    assert _refused(AN_ID, PASSWORD) == "pending"
    assert _refused(AN_ID, "wrong-password-123") == "invalid"


def test_the_qr_challenge_logs_in_the_browser_that_asked_once(an_registered: int) -> None:
    browser = SessionStore()
    browser.create()
    token = login.qr_begin(browser.session_key, browser="Chrome / Linux", site="dancu.example")
    assert login.qr_poll(token, browser.session_key) == ("pending", None)
    assert login.qr_describe(token).browser == "Chrome / Linux"  # type: ignore[union-attr]
    assert login.qr_decide(token, an_registered, approve=True)
    assert login.qr_poll(token, "another-session") == ("unknown", None)  # bound to the browser
    assert login.qr_poll(token, browser.session_key) == ("approved", an_registered)
    assert login.qr_poll(token, browser.session_key) == ("used", None)  # single use
    assert not login.qr_decide(token, an_registered, approve=True)


def test_an_expired_or_denied_challenge_logs_nobody_in(an_registered: int) -> None:
    token = login.qr_begin("s1", browser="b", site="s")
    QrChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert login.qr_poll(token, "s1") == ("expired", None)
    assert not login.qr_decide(token, an_registered, approve=True)
    token = login.qr_begin("s2", browser="b", site="s")
    assert login.qr_decide(token, an_registered, approve=False)
    assert login.qr_poll(token, "s2") == ("denied", None)


def test_sessions_are_listed_and_revoked(an_registered: int) -> None:
    store = SessionStore()
    store.create()
    a = login.record_login(store, an_registered, ("pwd",), "Firefox / Windows")
    assert a.acr == assurance.ACR_L1 and assurance.load(store, an_registered) == a
    sessions = login.sessions_of(an_registered, store.session_key)
    assert len(sessions) == 1 and sessions[0].current and sessions[0].browser == "Firefox / Windows"
    assert login.revoke_session(an_registered, sessions[0].session_id)
    assert not SessionStore().exists(store.session_key)
    assert login.sessions_of(an_registered, None) == []
    assert not login.revoke_session(an_registered + 1000, sessions[0].session_id)


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_an_attacker_guessing_ans_second_factor_is_stopped_then_locked_out(
    an_registered: int, outbox: Outbox
) -> None:
    """An attacker who knows An's password guesses his authenticator codes from many addresses:
    after DELAY_AFTER wrong codes even the right code is refused until the delay ends, and at
    LOCK_AFTER the account is locked until recovery."""
    import pyotp

    from dancu.blocks.eid import factors

    totp = pyotp.TOTP(factors.totp_new_secret())
    assert factors.totp_enrol(an_registered, totp.secret, totp.now())
    for n in range(login.DELAY_AFTER):
        assert (
            login.check_second_factor(an_registered, "otp", _wrong(totp.now()), ip=f"198.51.100.{n}") is None
        )
    from dancu.blocks.eid.models import TotpDevice

    TotpDevice.objects.filter(user_id=an_registered).update(last_counter=-1)
    with pytest.raises(login.LoginRefused) as refused:
        login.check_second_factor(an_registered, "otp", totp.now(), ip="198.51.100.99")
    assert refused.value.code == "blocked"
    Throttle.objects.update(blocked_until=None)  # the delay passed
    for n in range(login.LOCK_AFTER - login.DELAY_AFTER):
        Throttle.objects.update(blocked_until=None)
        assert (
            login.check_second_factor(an_registered, "otp", _wrong(totp.now()), ip=f"198.51.101.{n}") is None
        )
    Throttle.objects.update(blocked_until=None)
    assert Account.objects.get(user_id=an_registered).locked_at is not None
    with pytest.raises(login.LoginRefused):
        login.check_second_factor(an_registered, "otp", totp.now(), ip="198.51.100.98")
    assert [m["kind"] for m in outbox.messages if m["to"] == AN_PHONE][-1] == "eid.account.locked"


def test_a_right_code_after_the_delay_is_accepted_and_clears_the_count(an_registered: int) -> None:
    import pyotp

    from dancu.blocks.eid import factors

    totp = pyotp.TOTP(factors.totp_new_secret())
    assert factors.totp_enrol(an_registered, totp.secret, totp.now())
    from dancu.blocks.eid.models import TotpDevice

    TotpDevice.objects.filter(user_id=an_registered).update(last_counter=-1)
    for _ in range(login.DELAY_AFTER):
        login.check_second_factor(an_registered, "otp", _wrong(totp.now()), ip=IP)
    Throttle.objects.update(blocked_until=timezone.now() - timedelta(seconds=1))
    assert login.check_second_factor(an_registered, "otp", totp.now(), ip="192.0.2.7") == "otp"


def test_sms_codes_are_limited_per_account(an_registered: int, outbox: Outbox) -> None:
    sent = [login.send_second_factor_code(an_registered, p) for p in ("login", "step_up", "login", "login")]
    assert sent == [True, True, True, False]
    assert (
        sum(m["kind"].startswith("eid.code.") and m["kind"] != "eid.code.phone" for m in outbox.messages) == 3
    )


def test_a_right_password_forgives_the_names_failures_but_not_the_addresss(an_registered: int) -> None:
    """A right password clears the failures counted against the name (only a row that exists is
    deleted); the client address keeps its count."""
    for _ in range(login.DELAY_AFTER - 1):
        _refused(AN_ID, "wrong-password-123", ip=IP)
    assert Throttle.objects.count() == 2  # the name and the address
    assert login.check_password(AN_ID, PASSWORD, ip=IP).user_id == an_registered
    assert Throttle.objects.count() == 1  # the address's count stays
    # Forgiven: as many failures again do not yet slow the name down.
    for n in range(login.DELAY_AFTER - 1):
        assert _refused(AN_ID, "wrong-password-123", ip=f"198.51.102.{n}") == "invalid"
    assert login.check_password(AN_ID, PASSWORD, ip="198.51.102.99").user_id == an_registered


def test_a_login_recorded_with_its_password_check_is_audited_to_the_holder(an_registered: int) -> None:
    """The web log-in hands the password check to ``record_login`` (level and citizen read once):
    the same assurance, session row and audit event as a log-in recorded without it."""
    ok = login.check_password(AN_ID, PASSWORD, ip=IP)
    assert ok.user is not None and ok.user.pk == an_registered
    citizen = Account.objects.get(user_id=an_registered).citizen_id
    assert ok.citizen_id == citizen
    store = SessionStore()
    store.create()
    a = login.record_login(store, an_registered, ("pwd",), "Firefox / Windows", checked=ok)
    assert a.level == 1 and a.acr == assurance.ACR_L1
    assert login.sessions_of(an_registered, store.session_key)[0].current
    event = AuditEvent.objects.filter(action="eid.login", result="ok").latest("pk")
    assert event.subject_citizen_id == citizen
    # A check for another account is not taken for this one: its level and citizen are read.
    other = login.PasswordOk(an_registered + 1000, 2, (), citizen_id=None)
    b = login.record_login(store, an_registered, ("pwd",), "Firefox / Windows", checked=other)
    assert b.level == 1
    assert (
        AuditEvent.objects.filter(action="eid.login", result="ok").latest("pk").subject_citizen_id == citizen
    )


def test_a_pending_account_earns_no_level_from_the_check(an_registered: int) -> None:
    """Level 1 unless the account is active (``services.level_of``); a pending account is refused
    before any level is given."""
    Account.objects.filter(user_id=an_registered).update(status=Account.Status.PENDING)
    assert _refused(AN_ID, PASSWORD) == "pending"
