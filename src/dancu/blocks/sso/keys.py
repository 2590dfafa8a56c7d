"""ID-token signing keys: create, rotate, publish (JWKS), load for signing and verifying.

Keys live in the database (``SigningKey``) so that every process of the provider signs with the
same active key and publishes the same set. The private key is stored as PKCS#8 PEM encrypted with a
password derived from ``SECRET_KEY`` (HMAC-SHA-256 over a fixed label): a copy of the database alone
does not yield a key that can forge ID tokens. Rotation (RFC 7517 §4.5 ``kid``; OpenID Connect Core
1.0 §10.1.1) makes a new active key while the previous ones stay in the JWKS for a grace period, so
tokens signed before the rotation still verify at the relying parties.

Two kinds of key are kept, each with its own active key and rotation: RSA-2048 for ``RS256`` (the
default, what every relying-party library accepts) and P-256 for ``ES256`` (RFC 7518 §3.4), used
for the relying parties registered with ``id_token_alg = ES256``. A key signs with its own
algorithm only; the JWKS carries both kinds, each with its ``alg``.

Loaded keys are kept in process memory for :data:`CACHE_SECONDS`: a rotation reaches every process
within that time; meanwhile the old key (still published) keeps signing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from jwcrypto import jwk

from dancu.blocks.sso.models import SigningKey

ALG = "RS256"  # the default
ES256 = "ES256"
ALGS = (ALG, ES256)
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
    active: dict[str, str] = field(default_factory=dict)  # alg -> kid of the key signing now
    published: tuple[dict[str, Any], ...] = ()


_cache = _Cache()
_private: dict[str, jwk.JWK] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget what this process loaded (after a rotation, and in tests)."""
    with _lock:
        _cache.loaded_at = 0.0
        _cache.active = {}
        _cache.published = ()
        _private.clear()


def _generate(alg: str) -> jwk.JWK:
    if alg == ALG:
        return jwk.JWK.generate(kty="RSA", size=RSA_BITS)
    if alg == ES256:
        return jwk.JWK.generate(kty="EC", crv="P-256")
    raise ValueError(f"unsupported signing algorithm {alg!r}")


def create_key(*, alg: str = ALG, now: datetime | None = None) -> SigningKey:
    """A new key for ``alg``, stored encrypted; it becomes that algorithm's active key (the newest
    of its kind not superseded)."""
    now = now or timezone.now()
    key = _generate(alg)
    kid = key.thumbprint()
    public = json.loads(key.export_public())
    public.update({"kid": kid, "alg": alg, "use": "sig"})
    pem = key.export_to_pem(private_key=True, password=_password()).decode()
    return SigningKey.objects.create(kid=kid, alg=alg, private_pem=pem, public_jwk=public, created_at=now)


def rotate(
    *, grace: timedelta | None = None, now: datetime | None = None, algs: tuple[str, ...] = ALGS
) -> list[SigningKey]:
    """New active keys for ``algs`` (default: both kinds); the keys they supersede stay published
    for ``grace`` (default: the ``DANCU_OIDC_KEY_GRACE_SECONDS`` setting, at least the ID-token
    lifetime)."""
    now = now or timezone.now()
    grace = grace if grace is not None else timedelta(seconds=settings.DANCU_OIDC_KEY_GRACE_SECONDS)
    new = []
    with transaction.atomic():
        for alg in algs:
            SigningKey.objects.filter(superseded_at__isnull=True, alg=alg).update(
                superseded_at=now, retire_at=now + grace
            )
            new.append(create_key(alg=alg, now=now))
    clear_cache()
    return new


def ensure_key(algs: tuple[str, ...] = ALGS) -> None:
    """Create an active key of each kind that has none (the demo, tests, and the first ES256 key of
    an installation that had only RSA; production runs ``oidc_keys rotate``)."""
    created = False
    for alg in algs:
        if not SigningKey.objects.filter(superseded_at__isnull=True, alg=alg).exists():
            create_key(alg=alg)
            created = True
    if created:
        clear_cache()


def _refresh(force: bool = False) -> None:
    if not force and time.monotonic() - _cache.loaded_at < CACHE_SECONDS and _cache.active:
        return
    now = timezone.now()
    rows = list(
        SigningKey.objects.filter(created_at__lte=now)
        .exclude(retire_at__lte=now)
        .order_by("-created_at", "-id")
        .values("kid", "alg", "public_jwk", "superseded_at")
    )
    active: dict[str, str] = {}
    for r in rows:
        if r["superseded_at"] is None and r["alg"] not in active:
            active[r["alg"]] = r["kid"]
    if any(alg not in active for alg in ALGS) and not force:
        ensure_key(tuple(alg for alg in ALGS if alg not in active))
        return _refresh(force=True)
    for r in rows:  # no active key of a kind (not reached after ensure_key): the newest signs
        active.setdefault(r["alg"], r["kid"])
    with _lock:
        _cache.active = active
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


def active_key(alg: str = ALG) -> tuple[str, jwk.JWK]:
    """The kid and private key that sign new ID tokens with ``alg``."""
    if alg not in ALGS:
        raise ValueError(f"unsupported signing algorithm {alg!r}")
    _refresh()
    kid = _cache.active.get(alg)
    if kid is None:
        _refresh(force=True)
        kid = _cache.active[alg]
    return kid, _load_private(kid)


def sign(claims: dict[str, Any], alg: str = ALG) -> str:
    """A compact JWS of ``claims`` (RFC 7515 §7.1) with the active key of ``alg``: header
    ``{"typ": "JWT", "alg": alg, "kid": kid}`` (RFC 7519 §5; OpenID Connect Core 1.0 §2, §10.1)."""
    from jwcrypto import jwt

    kid, key = active_key(alg)
    header = {"typ": "JWT", "alg": alg, "kid": kid}
    signed = jwt.JWT(header=json.dumps(header), claims=json.dumps(claims, default=str))
    signed.make_signed_token(key)
    return str(signed.serialize())


def published() -> list[dict[str, Any]]:
    """The public keys of the JWKS (RFC 7517 §5): the active key of each kind and those in their
    grace period."""
    _refresh()
    return list(_cache.published)


_PUBLIC_MEMBERS = {"RSA": ("kty", "n", "e", "kid"), "EC": ("kty", "crv", "x", "y", "kid")}


def verification_key(kid: str | None, alg: str | None = None) -> jwk.JWK | None:
    """The public key with this kid if it is still published (and is a key for ``alg`` when one is
    given: an RS256 header never selects an EC key, nor ES256 an RSA key), else None."""
    if not kid:
        return None
    for data in published():
        if data.get("kid") == kid:
            if alg is not None and data.get("alg", ALG) != alg:
                return None
            members = _PUBLIC_MEMBERS.get(str(data.get("kty")), ())
            return jwk.JWK(**{k: v for k, v in data.items() if k in members})
    return None
