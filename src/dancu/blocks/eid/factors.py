"""Authentication factors besides the password: an authenticator app (TOTP, RFC 6238) and
one-time codes sent by SMS or e-mail through the messaging block.

One-time codes (NIST SP 800-63B §5.1.3 out-of-band, §5.1.4 look-up secrets): 6 digits, stored as
an HMAC-SHA256 keyed from ``SECRET_KEY`` (never the code), single use, valid
:data:`CODE_TTL`, at most :data:`CODE_MAX_ATTEMPTS` guesses, one live code per purpose (a new
code replaces the old). TOTP: 30-second steps, SHA-1, 6 digits (RFC 6238 defaults, what every
authenticator app reads), one step of clock drift either side, a step never accepted twice.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

import pyotp
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from dancu.blocks.eid import crypto
from dancu.blocks.eid.models import Account, OneTimeCode, TotpDevice
from dancu.blocks.messaging import services as messaging

CODE_TTL = timedelta(minutes=5)
CODE_MAX_ATTEMPTS = 5
CODE_PURPOSES = ("phone", "login", "recovery", "step_up")
ISSUER = "dancu"

_KINDS_VI = {
    "phone": "xác minh số điện thoại",
    "login": "đăng nhập",
    "recovery": "khôi phục tài khoản",
    "step_up": "xác thực bổ sung",
}


def _code_hash(code_id: int, code: str) -> str:
    key = hashlib.sha256(b"dancu.eid.otp:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def issue_code(user_id: int, purpose: str, *, channels: tuple[str, ...] = ("sms",)) -> bool:
    """Send a new code for ``purpose`` to the account's phone (``sms``) and/or e-mail (the same
    code on each); False when the account has none of these addresses. Earlier live codes of the
    purpose stop working."""
    account = Account.objects.filter(user_id=user_id).first()
    if account is None:
        return False
    addresses = [(c, account.phone if c == "sms" else account.email) for c in channels]
    addresses = [(c, to) for c, to in addresses if to]
    if not addresses:
        return False
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = timezone.now()
    with transaction.atomic():
        OneTimeCode.objects.filter(user_id=user_id, purpose=purpose, used_at__isnull=True).update(used_at=now)
        row = OneTimeCode.objects.create(
            user_id=user_id,
            purpose=purpose,
            channel=addresses[0][0],
            code_hash="-",
            expires_at=now + CODE_TTL,
        )
        row.code_hash = _code_hash(row.pk, code)
        row.save(update_fields=["code_hash"])
    body = (
        f"dancu: ma {_KINDS_VI.get(purpose, purpose)} cua ban la {code}, hieu luc 5 phut. "
        f"Khong chia se ma nay. / Your {purpose} code is {code} (5 minutes)."
    )
    for channel, to in addresses:
        messaging.send(channel, to, f"eid.code.{purpose}", body)
    return True


def check_code(user_id: int, purpose: str, code: str) -> bool:
    """Whether ``code`` is the live code of ``purpose`` (then it is used up). Every call counts as
    an attempt; after :data:`CODE_MAX_ATTEMPTS` the code is dead."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            OneTimeCode.objects.select_for_update()
            .filter(user_id=user_id, purpose=purpose, used_at__isnull=True, expires_at__gt=now)
            .order_by("-id")
            .first()
        )
        if row is None:
            return False
        row.attempts += 1
        ok = row.attempts <= CODE_MAX_ATTEMPTS and hmac.compare_digest(
            row.code_hash, _code_hash(row.pk, code.strip())
        )
        if ok or row.attempts >= CODE_MAX_ATTEMPTS:
            row.used_at = now
        row.save(update_fields=["attempts", "used_at"])
        return ok


# --------------------------------------------------------------------------- TOTP (RFC 6238)
def _aad(user_id: int) -> str:
    return f"totp:{user_id}"


def totp_begin(user_id: int, label: str) -> str:
    """Start enrolment: a new secret (160 bits, RFC 4226 §4), sealed at rest; returns the
    ``otpauth://`` URI for the QR. Until confirmed, log-ins do not ask for it."""
    secret = pyotp.random_base32(32)
    TotpDevice.objects.update_or_create(
        user_id=user_id,
        defaults={
            "secret_sealed": crypto.seal(secret, _aad(user_id)),
            "confirmed_at": None,
            "last_counter": -1,
        },
    )
    return pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=ISSUER)


def _secret(device: TotpDevice) -> str:
    return crypto.unseal(device.secret_sealed, _aad(device.user_id))


def _accept(device: TotpDevice, code: str) -> bool:
    """RFC 6238 §5.2: one step of drift either side; §5.2 also: a step is accepted once."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(_secret(device))
    now = timezone.now()
    current = totp.timecode(now)
    for counter in (current - 1, current, current + 1):
        if counter > device.last_counter and hmac.compare_digest(totp.generate_otp(counter), code):
            updated = TotpDevice.objects.filter(pk=device.pk, last_counter__lt=counter).update(
                last_counter=counter
            )
            return updated == 1
    return False


def totp_confirm(user_id: int, code: str) -> bool:
    """Finish enrolment with a first code from the app."""
    device = TotpDevice.objects.filter(user_id=user_id).first()
    if device is None or not _accept(device, code):
        return False
    TotpDevice.objects.filter(pk=device.pk).update(confirmed_at=timezone.now())
    return True


def totp_verify(user_id: int, code: str) -> bool:
    """A code of the confirmed authenticator app."""
    device = TotpDevice.objects.filter(user_id=user_id, confirmed_at__isnull=False).first()
    return device is not None and _accept(device, code)


def has_totp(user_id: int) -> bool:
    return TotpDevice.objects.filter(user_id=user_id, confirmed_at__isnull=False).exists()


def totp_remove(user_id: int) -> None:
    TotpDevice.objects.filter(user_id=user_id).delete()


def current_totp(user_id: int) -> str:
    """The current code of the user's app (demo command and tests only)."""
    device = TotpDevice.objects.get(user_id=user_id)
    return pyotp.TOTP(_secret(device)).now()


def totp_secret(user_id: int) -> str:
    """The plain secret (printed by the demo command for its demo account only)."""
    return _secret(TotpDevice.objects.get(user_id=user_id))
