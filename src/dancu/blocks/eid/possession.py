"""Proof that the person at a shared device holds an eID account: a one-time code sent by SMS to
the account's verified phone and typed back on that device (NIST SP 800-63B §5.1.3.3,
out-of-band through the phone network; the eID block's own one-time codes, ``factors``).

Used by the one-stop office kiosk (``apps/kiosk``, ADR 0013 decision 3) after a card QR code: the
QR proves that the printed data match the registry, not that the person holds the card — a photo
of someone's card is enough to produce it. The code goes to the phone the holder confirmed for
their account (Decree 69/2024/NĐ-CP: the eID account is the holder's own means of electronic
identification), so only the holder can type it back.

* **Bound to one session.** Each code is issued with a ``bind`` value (the kiosk's session
  challenge): the same code typed in another session or at another kiosk does not match.
* **Limits.** The code lives :data:`factors.CODE_TTL` (5 minutes), a new one replaces the old;
  at most one code per :data:`RESEND_AFTER` and :data:`login.SMS_CODES_PER_WINDOW` codes (log-in,
  step-up and kiosk together) per :data:`login.SMS_WINDOW` (no SMS bombing of the holder, no
  endless fresh codes to guess). The caller counts wrong codes per session and ends the session
  after its limit (:func:`void`).
* **Audit.** Sending and checking are account events the holder sees on their page
  (``eid.possession.sent`` / ``eid.possession``, detail: the factor ``sms``, where, and the
  identity verification's receipt) — no phone number or code in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import factors
from dancu.blocks.eid.login import SMS_CODES_PER_WINDOW, SMS_WINDOW
from dancu.blocks.eid.models import Account, OneTimeCode
from dancu.blocks.eid.services import record_account_event

PURPOSE = "kiosk"  # the one-time code's purpose (``factors.CODE_PURPOSES``)
FACTOR = "sms"  # RFC 8176: a code sent by SMS
RESEND_AFTER = timedelta(seconds=30)
SHOWN_DIGITS = 3


@dataclass(frozen=True)
class CodeSent:
    """``sent``: a code is on its way to ``phone_masked`` (``******789``). Else ``reason``:
    ``no_phone`` (no active account with a verified phone) or ``throttled`` (wait
    ``retry_after`` seconds)."""

    sent: bool
    phone_masked: str = ""
    reason: str = ""
    retry_after: int = 0


def _verified_phone(user_id: int) -> str:
    """The phone of the active account, once confirmed: by a code (``phone_verified_at``) or at
    the police desk that raised the account to level 2 (the rule of ``services.contacts_of_user``)."""
    account = Account.objects.filter(user_id=user_id, status=Account.Status.ACTIVE).first()
    if account is None or not account.phone:
        return ""
    if account.phone_verified_at is None and account.level < 2:
        return ""
    return str(account.phone)


def mask_phone(phone: str) -> str:
    """Only the last :data:`SHOWN_DIGITS` digits: ``******789`` (enough for the holder to know
    their phone, nothing for the person behind them)."""
    if len(phone) <= SHOWN_DIGITS:
        return "*" * len(phone)
    return "*" * (len(phone) - SHOWN_DIGITS) + phone[-SHOWN_DIGITS:]


def has_verified_phone(user_id: int) -> bool:
    return bool(_verified_phone(user_id))


def send(user_id: int, *, bind: str, where: str, verification: str) -> CodeSent:
    """Send a code for this session (``bind``) to the account's verified phone. ``where``: the
    device (``kiosk:<prefix>``); ``verification``: the receipt of the card verification that
    found the account. Refused without a verified phone, or when throttled."""
    phone = _verified_phone(user_id)
    if not phone:
        return CodeSent(False, reason="no_phone")
    masked = mask_phone(phone)
    now = timezone.now()
    last = (
        OneTimeCode.objects.filter(user_id=user_id, purpose=PURPOSE)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is not None and now - last < RESEND_AFTER:
        wait = int((RESEND_AFTER - (now - last)).total_seconds()) + 1
        return CodeSent(False, masked, "throttled", wait)
    recent = OneTimeCode.objects.filter(
        user_id=user_id, purpose__in=("login", "step_up", PURPOSE), created_at__gt=now - SMS_WINDOW
    )
    if recent.count() >= SMS_CODES_PER_WINDOW:
        oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
        wait = int((SMS_WINDOW - (now - oldest)).total_seconds()) + 1 if oldest else 60
        return CodeSent(False, masked, "throttled", max(wait, 1))
    if not factors.issue_code(user_id, PURPOSE, bind=bind):
        return CodeSent(False, reason="no_phone")
    record_account_event(
        user_id,
        "eid.possession.sent",
        detail={"factor": FACTOR, "where": where, "verification": verification},
    )
    return CodeSent(True, masked)


def check(user_id: int, code: str, *, bind: str, where: str, verification: str) -> bool:
    """Whether ``code`` is the live code sent for this session (then used up); audited either
    way with the factor. Wrong, expired, of another session or kiosk: False."""
    ok = factors.check_code(user_id, PURPOSE, code, bind=bind)
    record_account_event(
        user_id,
        "eid.possession",
        result=AuditEvent.Result.OK if ok else AuditEvent.Result.DENIED,
        detail={"factor": FACTOR, "where": where, "verification": verification},
    )
    return ok


def void(user_id: int, *, where: str, verification: str) -> None:
    """End the live code (the session was locked after too many wrong codes); audited."""
    factors.void_codes(user_id, PURPOSE)
    record_account_event(
        user_id,
        "eid.possession.locked",
        result=AuditEvent.Result.DENIED,
        detail={"factor": FACTOR, "where": where, "verification": verification},
    )
