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
from dancu.errors import DomainValidationError

CODE_TTL = timedelta(minutes=5)
CODE_MAX_ATTEMPTS = 5
CODE_PURPOSES = ("phone", "login", "recovery", "step_up", "kiosk")
ISSUER = "dancu"

_KINDS_VI = {
    "phone": "xác minh số điện thoại",
    "login": "đăng nhập",
    "recovery": "khôi phục tài khoản",
    "step_up": "xác thực bổ sung",
    "kiosk": "xác thực tại ki-ốt",
}


def _code_hash(code_id: int, code: str, bind: str = "") -> str:
    key = hashlib.sha256(b"dancu.eid.otp:" + settings.SECRET_KEY.encode()).digest()
    message = f"{code_id}:{code}" if not bind else f"{code_id}:{bind}:{code}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def issue_code(user_id: int, purpose: str, *, channels: tuple[str, ...] = ("sms",), bind: str = "") -> bool:
    """Send a new code for ``purpose`` to the account's phone (``sms``) and/or e-mail (the same
    code on each); False when the account has none of these addresses. Earlier live codes of the
    purpose stop working. ``bind``: the code works only when checked with the same value (the
    one-stop office kiosk binds it to one kiosk session, ``eid.possession``)."""
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
        row.code_hash = _code_hash(row.pk, code, bind)
        row.save(update_fields=["code_hash"])
    body = (
        f"dancu: ma {_KINDS_VI.get(purpose, purpose)} cua ban la {code}, hieu luc 5 phut. "
        f"Khong chia se ma nay. / Your {purpose} code is {code} (5 minutes)."
    )
    for channel, to in addresses:
        messaging.send(channel, to, f"eid.code.{purpose}", body)
    return True


def issue_decoy_code(to: str, purpose: str) -> str:
    """Send a code to a phone with no registration behind it (a registration that did not match,
    or of a number that has an account): the applicant sees the same step as on a real one.
    Returns a token (a random nonce and the code's HMAC) to keep in their session."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    nonce = secrets.token_hex(16)
    body = (
        f"dancu: ma {_KINDS_VI.get(purpose, purpose)} cua ban la {code}, hieu luc 5 phut. "
        f"Khong chia se ma nay. / Your {purpose} code is {code} (5 minutes)."
    )
    messaging.send("sms", to, f"eid.code.{purpose}", body)
    expires = int((timezone.now() + CODE_TTL).timestamp())
    return f"{nonce}:{expires}:{_decoy_hash(nonce, expires, code)}"


def _decoy_hash(nonce: str, expires: int, code: str) -> str:
    key = hashlib.sha256(b"dancu.eid.decoy:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{nonce}:{expires}:{code}".encode(), hashlib.sha256).hexdigest()


def check_decoy_code(token: str, code: str) -> bool:
    """Whether ``code`` is the unexpired code of a :func:`issue_decoy_code` token (the caller
    counts attempts, at most :data:`CODE_MAX_ATTEMPTS`)."""
    try:
        nonce, expires_s, digest = token.split(":")
        expires = int(expires_s)
    except ValueError:
        return False
    if timezone.now().timestamp() > expires:
        return False
    return hmac.compare_digest(digest, _decoy_hash(nonce, expires, code.strip()))


def check_code(user_id: int, purpose: str, code: str, *, bind: str = "") -> bool:
    """Whether ``code`` is the live code of ``purpose`` (then it is used up). Every call counts as
    an attempt; after :data:`CODE_MAX_ATTEMPTS` the code is dead. ``bind``: the value the code
    was issued with (another value never matches)."""
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
            row.code_hash, _code_hash(row.pk, code.strip(), bind)
        )
        if ok or row.attempts >= CODE_MAX_ATTEMPTS:
            row.used_at = now
        row.save(update_fields=["attempts", "used_at"])
        return ok


def void_codes(user_id: int, purpose: str) -> int:
    """End every live code of ``purpose`` (e.g. a kiosk session locked after wrong codes)."""
    return OneTimeCode.objects.filter(user_id=user_id, purpose=purpose, used_at__isnull=True).update(
        used_at=timezone.now()
    )


# --------------------------------------------------------------------------- TOTP (RFC 6238)
def _aad(user_id: int) -> str:
    return f"totp:{user_id}"


def totp_new_secret() -> str:
    """A new secret (160 bits, RFC 4226 §4) for an enrolment. Nothing is stored: the caller keeps
    it (sealed with :func:`seal_pending`) until the first code confirms it — so that showing the
    enrolment page never changes the confirmed authenticator (ADR 0008 §6)."""
    return pyotp.random_base32(32)


def totp_uri(secret: str, label: str) -> str:
    """The ``otpauth://`` URI of ``secret`` for the QR."""
    return pyotp.TOTP(secret).provisioning_uri(name=label, issuer_name=ISSUER)


def _pending_aad(user_id: int) -> str:
    return f"totp-pending:{user_id}"


def seal_pending(user_id: int, secret: str) -> str:
    """A pending secret sealed for keeping in the holder's session until confirmed."""
    return crypto.seal(secret, _pending_aad(user_id))


def unseal_pending(user_id: int, sealed: str) -> str | None:
    try:
        return crypto.unseal(sealed, _pending_aad(user_id))
    except (DomainValidationError, ValueError):  # tampered, another user's, or an older key
        return None


def _secret(device: TotpDevice) -> str:
    return crypto.unseal(device.secret_sealed, _aad(device.user_id))


def _match(secret: str, code: str, after: int) -> int | None:
    """The time step (±1 of now, RFC 6238 §5.2) whose code is ``code`` and which is later than
    ``after``, or None."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(timezone.now())
    for counter in (current - 1, current, current + 1):
        if counter > after and hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def _accept(device: TotpDevice, code: str) -> bool:
    """RFC 6238 §5.2: one step of drift either side; §5.2 also: a step is accepted once."""
    counter = _match(_secret(device), code, device.last_counter)
    if counter is None:
        return False
    updated = TotpDevice.objects.filter(pk=device.pk, last_counter__lt=counter).update(last_counter=counter)
    return updated == 1


def totp_enrol(user_id: int, secret: str, code: str) -> bool:
    """Confirm a new secret with a first code from the app: only then is it stored (sealed),
    replacing any earlier authenticator. A wrong code changes nothing."""
    counter = _match(secret, code, -1)
    if counter is None:
        return False
    TotpDevice.objects.update_or_create(
        user_id=user_id,
        defaults={
            "secret_sealed": crypto.seal(secret, _aad(user_id)),
            "confirmed_at": timezone.now(),
            "last_counter": counter,
        },
    )
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
