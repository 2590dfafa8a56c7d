"""Log-in: password, second factor, brute-force protection, recovery, sessions, QR log-in.

* **One log-in name field**: a citizen types their 12-digit ID number (their user name), staff
  their user name. Wrong name and wrong password get the same answer after the same work
  (Django's backend hashes the password for unknown users too).
* **Throttling** (NIST SP 800-63B §5.2.2 — at most 100 consecutive failures; we are stricter):
  failures are counted per log-in name and per client address (keys are SHA-256 digests). From
  :data:`DELAY_AFTER` failures of a name, each try waits an increasing delay (30 s, 60 s, …,
  capped at 15 min); at :data:`LOCK_AFTER` an eID account is locked until recovery (a one-time
  code to its phone or e-mail, then a new password). A client address is slowed down from
  :data:`IP_DELAY_AFTER` failures. Failures, locks and recoveries are audited to the holder.
* **Second factor**: asked when the account has a confirmed authenticator app (TOTP) — or when a
  relying party asks for it (step-up, ``/eid/step-up/``); an SMS code is the alternative.
* **QR log-in** (VNeID style): the log-in page shows a QR with a one-time challenge (2 minutes,
  single use, bound to that browser's session); the holder's logged-in device approves or denies;
  the browser's poll then logs it in with ``amr = ["swk"]`` (RFC 8176: a software-secured key —
  the approving device's session).
* **Sessions**: every log-in session is recorded (created, last seen, browser label, acr) and may
  be revoked by its owner, which deletes the Django session.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BooleanField, F
from django.utils import timezone

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import assurance, factors
from dancu.blocks.eid.models import Account, LoginSession, OneTimeCode, QrChallenge, Throttle, TotpDevice
from dancu.blocks.eid.services import level_and_evidence, record_account_event
from dancu.blocks.messaging import services as messaging
from dancu.errors import DomainValidationError, FieldProblem
from dancu.precompiled import Select, column_list, instance, model_columns, quote

DELAY_AFTER = 5
LOCK_AFTER = 10
IP_DELAY_AFTER = 20
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
IP_WINDOW = timedelta(hours=1)
QR_TTL = timedelta(minutes=2)


class LoginRefused(Exception):
    """``code``: ``invalid`` (name or password), ``blocked`` (throttled or locked: wait or
    recover), ``pending`` / ``rejected`` (a registration not approved; told only after the right
    password)."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _delay(failures: int, threshold: int) -> timedelta:
    steps = failures - threshold
    if steps < 0:
        return timedelta(0)
    return min(BASE_DELAY * (2 ** min(steps, 10)), MAX_DELAY)


def _blocked(key: str, now: datetime) -> bool:
    row = Throttle.objects.filter(key=key).first()
    return row is not None and row.blocked_until is not None and row.blocked_until > now


_THROTTLES = Select(
    lambda: (
        f"SELECT t.{quote('key')}, t.{quote('blocked_until')} FROM {quote(Throttle._meta.db_table)} t"  # noqa: S608
        f" WHERE t.{quote('key')} IN (%s, %s)"
    ),
    [("t", Throttle._meta.get_field("key")), ("t", Throttle._meta.get_field("blocked_until"))],
)


def _throttles(keys: tuple[str, str], now: datetime) -> tuple[bool, set[str]]:
    """Whether either of ``keys`` is blocked now, and which of them have a row at all — one query
    for the log-in's name and address throttles (a key without a row has nothing to clear)."""
    rows = _THROTTLES.rows(keys)
    blocked = any(until is not None and until > now for _key, until in rows)
    return blocked, {key for key, _until in rows}


_ACCOUNT_COLUMNS = model_columns("a", Account)
_ACCOUNT_WITH_TOTP = Select(
    lambda: (
        f"SELECT {column_list(_ACCOUNT_COLUMNS)}, EXISTS(SELECT 1 FROM {quote(TotpDevice._meta.db_table)} d"  # noqa: S608
        f" WHERE d.{quote('user_id')} = a.{quote('user_id')} AND d.{quote('confirmed_at')} IS NOT NULL)"
        f" FROM {quote(Account._meta.db_table)} a WHERE a.{quote('user_id')} = %s"
        f" ORDER BY a.{quote('id')} LIMIT 1"
    ),
    [*_ACCOUNT_COLUMNS, ("d", BooleanField())],
)


def _account_with_totp(user_id: int) -> Account | None:
    """The account of ``user_id`` (its first, as ``.first()`` orders) with ``totp``: whether it
    has a confirmed authenticator app — one statement, compiled once (``dancu.precompiled``)."""
    row = _ACCOUNT_WITH_TOTP.first([user_id])
    if row is None:
        return None
    account: Account = instance(Account, row[:-1])
    account.totp = bool(row[-1])  # type: ignore[attr-defined]
    return account


def _fail(key: str, threshold: int, now: datetime, window: timedelta | None = None) -> int:
    with transaction.atomic():
        row, _ = Throttle.objects.select_for_update().get_or_create(key=key)
        if window is not None and row.last_failure is not None and now - row.last_failure > window:
            row.failures = 0
        row.failures += 1
        row.last_failure = now
        if row.failures >= threshold:
            row.blocked_until = now + _delay(row.failures, threshold)
        row.save()
        return row.failures


def _clear(key: str) -> None:
    Throttle.objects.filter(key=key).delete()


@dataclass(frozen=True)
class PasswordOk:
    """The password was right; ``second_factor``: the factors the account must still show.
    ``user`` and ``citizen_id`` are what the check already read (the user row, the account's
    citizen), handed on so that finishing the log-in does not read them again."""

    user_id: int
    level: int
    second_factor: tuple[str, ...]
    user: Any = field(default=None, compare=False, repr=False)
    citizen_id: int | None = None
    evidence: str = ""  # ``assurance.evidence_class`` of the account (ADR 0017 §11)


def check_password(login: str, password: str, *, ip: str, request: Any = None) -> PasswordOk:
    """First step of a log-in. Raises :class:`LoginRefused`."""
    now = timezone.now()
    name = login.strip()
    name_key, ip_key = _digest("name", name.lower()), _digest("ip", ip)
    blocked, throttled = _throttles((name_key, ip_key), now)
    if blocked:
        make_password(password)  # the same hashing work as a real try
        raise LoginRefused("blocked")
    user = authenticate(request, username=name, password=password)
    account = None
    if user is None:
        failures = _fail(name_key, DELAY_AFTER, now)
        _fail(ip_key, IP_DELAY_AFTER, now, IP_WINDOW)
        target = get_user_model().objects.filter(username=name).only("pk").first()
        if target is not None:
            record_account_event(
                target.pk, "eid.login", result=AuditEvent.Result.DENIED, detail={"reason": "password"}
            )
            if failures >= LOCK_AFTER:
                locked = Account.objects.filter(user_id=target.pk, locked_at__isnull=True).update(
                    locked_at=now
                )
                if locked:
                    record_account_event(target.pk, "eid.account.locked", detail={"failures": failures})
                    _tell_locked(target.pk)
        raise LoginRefused("invalid")
    # The account and whether it has a confirmed authenticator app, in one query.
    account = _account_with_totp(user.pk)
    if account is not None:
        if account.locked_at is not None:
            raise LoginRefused("blocked")
        if account.status == Account.Status.PENDING:
            raise LoginRefused("pending")
        if account.status == Account.Status.REJECTED:
            raise LoginRefused("rejected")
    if name_key in throttled:  # earlier failures of this name are forgiven by a right password
        _clear(name_key)
    has_totp = bool(getattr(account, "totp", False)) if account is not None else factors.has_totp(user.pk)
    second: tuple[str, ...] = ()
    if has_totp:
        second = ("otp", "sms") if account is not None and account.phone else ("otp",)
    # The level a log-in earns (``services.level_of``: an active account's level, else 1).
    level = int(account.level or 1) if account is not None and account.status == Account.Status.ACTIVE else 1
    citizen_id = account.citizen_id if account is not None else None
    evidence = (
        assurance.evidence_class(
            level, account.level2_evidence, foreign=account.foreign_resident_id is not None
        )
        if account is not None
        else ""
    )
    return PasswordOk(user.pk, level, second, user=user, citizen_id=citizen_id, evidence=evidence)


def _tell_locked(user_id: int) -> None:
    phone = Account.objects.filter(user_id=user_id).values_list("phone", flat=True).first()
    if phone:
        messaging.send(
            "sms",
            phone,
            "eid.account.locked",
            "dancu: tai khoan dinh danh bi khoa tam thoi do nhap sai mat khau nhieu lan. Mo khoa tai "
            "/eid/recover/. / Your eID account was locked after failed log-ins; recover it at /eid/recover/.",
        )


REGISTRATIONS_PER_HOUR = 10


def registration_allowed(ip: str) -> bool:
    """At most :data:`REGISTRATIONS_PER_HOUR` registration attempts per client address an hour
    (each may send an SMS: no SMS bombing through the registration page)."""
    now = timezone.now()
    key = _digest("register", ip)
    if _blocked(key, now):
        return False
    _fail(key, REGISTRATIONS_PER_HOUR, now, timedelta(hours=1))
    return True


SMS_CODES_PER_WINDOW = 3
SMS_WINDOW = timedelta(minutes=15)


def _second_key(user_id: int) -> str:
    return _digest("second", str(user_id))


def check_second_factor(
    user_id: int, method: str, code: str, *, ip: str, purpose: str = "login"
) -> str | None:
    """The RFC 8176 method shown (``otp`` or ``sms``), or None — counted as a failure per account
    and per client address, with the thresholds of passwords (NIST SP 800-63B §5.2.2): from
    :data:`DELAY_AFTER` failures a growing delay, at :data:`LOCK_AFTER` the account is locked until
    recovery. Checked *before* the code: a blocked account or address raises
    :class:`LoginRefused` (``blocked``) even for a right code. ``purpose``: the SMS code's purpose
    (``login`` or ``step_up``)."""
    now = timezone.now()
    account_key, ip_key = _second_key(user_id), _digest("ip", ip)
    locked = Account.objects.filter(user_id=user_id, locked_at__isnull=False).exists()
    if locked or _blocked(account_key, now) or _blocked(ip_key, now):
        record_account_event(
            user_id, "eid.login", result=AuditEvent.Result.DENIED, detail={"reason": "blocked"}
        )
        raise LoginRefused("blocked")
    ok = factors.totp_verify(user_id, code) if method == "otp" else factors.check_code(user_id, purpose, code)
    if ok:
        _clear(account_key)
        return "otp" if method == "otp" else "sms"
    failures = _fail(account_key, DELAY_AFTER, now)
    _fail(ip_key, IP_DELAY_AFTER, now, IP_WINDOW)
    record_account_event(user_id, "eid.login", result=AuditEvent.Result.DENIED, detail={"reason": method})
    if failures >= LOCK_AFTER and Account.objects.filter(user_id=user_id, locked_at__isnull=True).update(
        locked_at=now
    ):
        record_account_event(user_id, "eid.account.locked", detail={"failures": failures, "factor": method})
        _tell_locked(user_id)
    return None


def send_second_factor_code(user_id: int, purpose: str) -> bool:
    """Send a log-in or step-up code by SMS: at most :data:`SMS_CODES_PER_WINDOW` codes per
    account in :data:`SMS_WINDOW` (no SMS bombing, no endless fresh codes to guess)."""
    since = timezone.now() - SMS_WINDOW
    sent = OneTimeCode.objects.filter(
        user_id=user_id, purpose__in=("login", "step_up"), created_at__gt=since
    ).count()
    if sent >= SMS_CODES_PER_WINDOW:
        return False
    return factors.issue_code(user_id, purpose)


def record_login(
    session: Any, user_id: int, amr: tuple[str, ...], browser: str, *, checked: PasswordOk | None = None
) -> assurance.Assurance:
    """After ``django.contrib.auth.login``: store the assurance (``blocks/eid/assurance``), record
    the session for the holder's list, audit the log-in. ``checked``: the password check of this
    same request, whose level and citizen are then not read again."""
    if checked is not None and checked.user_id != user_id:
        checked = None
    level, evidence = (
        (checked.level, checked.evidence) if checked is not None else level_and_evidence(user_id)
    )
    a = assurance.Assurance(
        user_id=user_id, level=level, amr=amr, auth_time=assurance.now(), evidence=evidence
    )
    assurance.store(session, a)
    if session.session_key is None:
        session.save()
    _record_session_row(session.session_key, user_id, browser[:120], a.acr, " ".join(amr))
    detail: dict[str, object] = {"acr": a.acr, "amr": list(amr)}
    if checked is not None:
        record_account_event(user_id, "eid.login", detail=detail, citizen_id=checked.citizen_id)
    else:
        record_account_event(user_id, "eid.login", detail=detail)
    return a


def _record_session_row(session_key: str, user_id: int, browser: str, acr: str, amr: str) -> None:
    """The holder's list entry of this session: one ``INSERT … ON CONFLICT (session_key) DO
    UPDATE`` (PostgreSQL, SQLite ≥ 3.24) with the fields ``update_or_create`` would write — a new
    row, or the same key's row taken over with this log-in's user, browser, acr and amr. A single
    statement, atomic by itself: no ``BEGIN``/``COMMIT`` around it (``bulk_create`` opened one)."""
    table = LoginSession._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (session_key, user_id, browser, acr, amr, created_at, last_seen)"  # noqa: S608
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (session_key) DO UPDATE SET"
            " user_id = excluded.user_id, browser = excluded.browser, acr = excluded.acr,"
            " amr = excluded.amr",
            [session_key, user_id, browser, acr, amr, now, now],
        )


def step_up(session: Any, user_id: int, method: str) -> assurance.Assurance:
    """Add ``method`` to the session's assurance (a new ``auth_time``); audited."""
    have = assurance.load(session, user_id)
    amr = tuple(dict.fromkeys([*(have.amr if have else ()), method]))
    level, evidence = level_and_evidence(user_id)  # read again: the desk may have changed it
    a = assurance.Assurance(
        user_id=user_id, level=level, amr=amr, auth_time=assurance.now(), evidence=evidence
    )
    assurance.store(session, a)
    LoginSession.objects.filter(session_key=session.session_key).update(acr=a.acr, amr=" ".join(amr))
    record_account_event(user_id, "eid.step_up", detail={"acr": a.acr, "amr": list(amr)})
    return a


# --------------------------------------------------------------------------- recovery
def begin_recovery(login: str) -> None:
    """Send a recovery code to the account's phone (and e-mail). The caller says the same thing
    whether or not the account exists; at most one code a minute per account."""
    account = Account.objects.filter(id_number=login.strip()).first()
    if account is None or account.status == Account.Status.REJECTED:
        return
    recent = timezone.now() - timedelta(minutes=1)
    if OneTimeCode.objects.filter(
        user_id=account.user_id, purpose="recovery", created_at__gt=recent
    ).exists():
        return
    factors.issue_code(account.user_id, "recovery", channels=("sms", "email"))
    record_account_event(account.user_id, "eid.recovery.start")


def finish_recovery(login: str, code: str, new_password: str, *, ip: str) -> bool:
    """A right code sets the new password and unlocks the account (the throttles of the name are
    cleared); False for a wrong name or code. Password-policy errors name the field."""
    try:
        validate_password(new_password)
    except ValidationError as exc:
        raise DomainValidationError(
            [FieldProblem("password", "password_policy", m) for m in exc.messages]
        ) from None
    account = Account.objects.select_related("user").filter(id_number=login.strip()).first()
    if account is None or not factors.check_code(account.user_id, "recovery", code):
        _fail(_digest("ip", ip), IP_DELAY_AFTER, timezone.now(), IP_WINDOW)
        return False
    user = account.user
    user.set_password(new_password)
    user.save(update_fields=["password"])
    Account.objects.filter(pk=account.pk).update(locked_at=None)
    _clear(_digest("name", account.id_number))
    _clear(_second_key(account.user_id))
    revoke_all_sessions(user.pk)
    record_account_event(user.pk, "eid.recovery.done")
    return True


# --------------------------------------------------------------------------- sessions
@dataclass(frozen=True)
class SessionView:
    session_id: int
    created_at: datetime
    last_seen: datetime
    browser: str
    acr: str
    current: bool


def _session_store() -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore


def sessions_of(user_id: int, current_key: str | None) -> list[SessionView]:
    rows = LoginSession.objects.filter(user_id=user_id, revoked_at__isnull=True).order_by("-last_seen")
    return [
        SessionView(r.pk, r.created_at, r.last_seen, r.browser, r.acr, r.session_key == current_key)
        for r in rows
    ]


def revoke_session(user_id: int, session_id: int) -> bool:
    """End one of my sessions: the Django session is deleted (that browser is logged out)."""
    row = LoginSession.objects.filter(pk=session_id, user_id=user_id, revoked_at__isnull=True).first()
    if row is None:
        return False
    _session_store()(session_key=row.session_key).delete()
    LoginSession.objects.filter(pk=row.pk).update(revoked_at=timezone.now())
    record_account_event(user_id, "eid.session.revoke", detail={"session": row.pk})
    return True


def revoke_all_sessions(user_id: int) -> int:
    n = 0
    for row in LoginSession.objects.filter(user_id=user_id, revoked_at__isnull=True):
        _session_store()(session_key=row.session_key).delete()
        n += 1
    LoginSession.objects.filter(user_id=user_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return n


def touch(session_key: str) -> None:
    """Mark the session seen now (at most once a minute)."""
    now = timezone.now()
    LoginSession.objects.filter(session_key=session_key, last_seen__lt=now - timedelta(minutes=1)).update(
        last_seen=now
    )


def forget(session_key: str | None) -> None:
    """At log-out: the session is no longer listed."""
    if session_key:
        LoginSession.objects.filter(session_key=session_key).update(revoked_at=timezone.now())


# --------------------------------------------------------------------------- QR log-in
def _token_hash(token: str) -> str:
    return hashlib.sha256(f"qr:{token}".encode()).hexdigest()


def qr_begin(session_key: str, *, browser: str, site: str) -> str:
    """A new challenge for the browser of ``session_key``; returns the token for the QR.
    Challenges expired for an hour are deleted on the way (they are worth nothing by then)."""
    QrChallenge.objects.filter(expires_at__lt=timezone.now() - timedelta(hours=1)).delete()
    token = secrets.token_urlsafe(24)
    QrChallenge.objects.create(
        token_hash=_token_hash(token),
        session_hash=_digest("session", session_key),
        browser=browser[:120],
        site=site[:120],
        expires_at=timezone.now() + QR_TTL,
    )
    return token


@dataclass(frozen=True)
class QrView:
    browser: str
    site: str
    created_at: datetime
    status: str  # pending, approved, denied, used, expired


def _qr(token: str) -> QrChallenge | None:
    return QrChallenge.objects.filter(token_hash=_token_hash(token)).first()


def _status(row: QrChallenge, now: datetime) -> str:
    if row.status == QrChallenge.Status.PENDING and row.expires_at <= now:
        return "expired"
    return row.status


def qr_describe(token: str) -> QrView | None:
    row = _qr(token)
    return (
        None if row is None else QrView(row.browser, row.site, row.created_at, _status(row, timezone.now()))
    )


def qr_decide(token: str, user_id: int, *, approve: bool) -> bool:
    """The holder's logged-in device approves (or denies) a pending, unexpired challenge; an
    account that is not active may not approve. Audited to the holder."""
    account = Account.objects.filter(
        user_id=user_id, status=Account.Status.ACTIVE, locked_at__isnull=True
    ).first()
    if account is None:
        return False
    now = timezone.now()
    updated = QrChallenge.objects.filter(
        token_hash=_token_hash(token), status=QrChallenge.Status.PENDING, expires_at__gt=now
    ).update(
        status=QrChallenge.Status.APPROVED if approve else QrChallenge.Status.DENIED,
        user_id=user_id,
        decided_at=now,
    )
    if updated:
        record_account_event(user_id, "eid.qr.approve" if approve else "eid.qr.deny")
    return updated == 1


def qr_poll(token: str, session_key: str | None) -> tuple[str, int | None]:
    """What the browser that asked learns: ``pending``, ``denied``, ``expired``, ``unknown`` (no
    such challenge, or asked from another session), or ``approved`` with the user to log in — once
    (the challenge is then used)."""
    row = _qr(token)
    if row is None or not session_key or row.session_hash != _digest("session", session_key):
        return "unknown", None
    status = _status(row, timezone.now())
    if status != QrChallenge.Status.APPROVED:
        return status, None
    used = QrChallenge.objects.filter(pk=row.pk, status=QrChallenge.Status.APPROVED).update(
        status=QrChallenge.Status.USED, decided_at=F("decided_at")
    )
    return ("approved", row.user_id) if used else ("used", None)
