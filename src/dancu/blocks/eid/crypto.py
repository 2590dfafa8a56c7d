"""Secrets at rest: the TOTP secrets are sealed with AES-256-GCM (NIST SP 800-38D).

The key is derived from Django's ``SECRET_KEY`` with HKDF-SHA256 (RFC 5869), salt
``dancu.eid.v1`` and info ``totp-secret``: a database dump alone does not reveal the secrets, and
rotating ``SECRET_KEY`` makes them unreadable (the holders enrol again). Each value has a random
96-bit nonce and is bound to its row by the associated data (``aad``), so a sealed secret copied
to another account does not open. Stored form: ``v1:`` + base64url(nonce ‖ ciphertext ‖ tag).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from dancu.errors import DomainValidationError

_PREFIX = "v1:"


def _key(info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"dancu.eid.v1", info=info).derive(
        settings.SECRET_KEY.encode()
    )


def seal(plain: str, aad: str, *, info: bytes = b"totp-secret") -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_key(info)).encrypt(nonce, plain.encode(), aad.encode())
    return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(value: str, aad: str, *, info: bytes = b"totp-secret") -> str:
    if not value.startswith(_PREFIX):
        raise DomainValidationError.single("secret", "format", "not a sealed value")
    raw = base64.urlsafe_b64decode(value[len(_PREFIX) :])
    try:
        return AESGCM(_key(info)).decrypt(raw[:12], raw[12:], aad.encode()).decode()
    except InvalidTag:
        raise DomainValidationError.single("secret", "integrity", "the sealed value does not open") from None
