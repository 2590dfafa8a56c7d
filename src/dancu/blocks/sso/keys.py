"""ID-token signing keys: create, rotate, publish (JWKS), load for signing and verifying.

Keys live in the database (``SigningKey``) so that every process of the provider signs with the
same active key and publishes the same set. The private key is stored as PKCS#8 PEM encrypted with a
password derived from ``SECRET_KEY`` (HMAC-SHA-256 over a fixed label): a copy of the database alone
does not yield a key that can forge ID tokens. Rotation (RFC 7517 §4.5 ``kid``; OpenID Connect Core
1.0 §10.1.1) makes a new active key while the previous ones stay in the JWKS for a grace period, so
tokens signed before the rotation still verify at the relying parties.

Loaded keys are kept in process memory for :data:`CACHE_SECONDS`: a rotation reaches every process
within that time; meanwhile the old key (still published) keeps signing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from jwcrypto import jwk

from dancu.blocks.sso.models import SigningKey

ALG = "RS256"
RSA_BITS = 2048
CACHE_SECONDS = 30.0


def _password() -> bytes:
    return (
        hmac.new(settings.SECRET_KEY.encode(), b"dancu.sso.signing-key.v1", hashlib.sha256)
        .hexdigest()
        .encode()
    )


@dataclass
class _Cache:
    loaded_at: float = 0.0
    active_kid: str = ""
    published: tuple[dict[str, Any], ...] = ()


_cache = _Cache()
_private: dict[str, jwk.JWK] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget what this process loaded (after a rotation, and in tests)."""
    with _lock:
        _cache.loaded_at = 0.0
        _cache.active_kid = ""
        _cache.published = ()
        _private.clear()


def create_key(*, now: datetime | None = None) -> SigningKey:
    """A new RSA key, stored encrypted; it becomes the active key (the newest not superseded)."""
    now = now or timezone.now()
    key = jwk.JWK.generate(kty="RSA", size=RSA_BITS)
    kid = key.thumbprint()
    public = json.loads(key.export_public())
    public.update({"kid": kid, "alg": ALG, "use": "sig"})
    pem = key.export_to_pem(private_key=True, password=_password()).decode()
    return SigningKey.objects.create(kid=kid, alg=ALG, private_pem=pem, public_jwk=public, created_at=now)


def rotate(*, grace: timedelta | None = None, now: datetime | None = None) -> SigningKey:
    """Make a new active key; the keys it supersedes stay published for ``grace`` (default: the
    ``DANCU_OIDC_KEY_GRACE_SECONDS`` setting, at least the ID-token lifetime)."""
    now = now or timezone.now()
    grace = grace if grace is not None else timedelta(seconds=settings.DANCU_OIDC_KEY_GRACE_SECONDS)
    with transaction.atomic():
        SigningKey.objects.filter(superseded_at__isnull=True).update(superseded_at=now, retire_at=now + grace)
        new = create_key(now=now)
    clear_cache()
    return new


def ensure_key() -> None:
    """Create the first key if there is none (the demo and tests; production runs ``oidc_keys rotate``)."""
    if not SigningKey.objects.filter(superseded_at__isnull=True).exists():
        create_key()
        clear_cache()


def _refresh(force: bool = False) -> None:
    if not force and time.monotonic() - _cache.loaded_at < CACHE_SECONDS and _cache.active_kid:
        return
    now = timezone.now()
    rows = list(
        SigningKey.objects.filter(created_at__lte=now)
        .exclude(retire_at__lte=now)
        .order_by("-created_at", "-id")
        .values("kid", "public_jwk", "superseded_at")
    )
    if not rows:
        ensure_key()
        return _refresh(force=True)
    active = next((r for r in rows if r["superseded_at"] is None), rows[0])
    with _lock:
        _cache.active_kid = active["kid"]
        _cache.published = tuple(r["public_jwk"] for r in rows)
        _cache.loaded_at = time.monotonic()


def _load_private(kid: str) -> jwk.JWK:
    key = _private.get(kid)
    if key is None:
        row = SigningKey.objects.get(kid=kid)
        key = jwk.JWK.from_pem(row.private_pem.encode(), password=_password())
        with _lock:
            _private[kid] = key
    return key


def active_key() -> tuple[str, jwk.JWK]:
    """The kid and private key that sign new ID tokens."""
    _refresh()
    return _cache.active_kid, _load_private(_cache.active_kid)


def published() -> list[dict[str, Any]]:
    """The public keys of the JWKS (RFC 7517 §5): the active key and those in their grace period."""
    _refresh()
    return list(_cache.published)


def verification_key(kid: str | None) -> jwk.JWK | None:
    """The public key with this kid if it is still published, else None."""
    if not kid:
        return None
    for data in published():
        if data.get("kid") == kid:
            return jwk.JWK(**{k: v for k, v in data.items() if k in ("kty", "n", "e", "kid")})
    return None
