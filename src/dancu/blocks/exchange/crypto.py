"""Keys, signatures and canonical JSON of the data exchange gateway (ADR 0010).

* Canonical JSON: keys sorted, no insignificant whitespace, UTF-8 (the RFC 8785 subset that our
  messages use: strings, integers, booleans, null, lists, objects). Everything that is hashed or
  signed is canonical JSON, so that a verifier rebuilds the exact bytes.
* Subsystem signing keys are Ed25519 (RFC 8032). Their private halves are stored encrypted with
  AES-256-GCM under a key derived from ``SECRET_KEY`` by HKDF-SHA256 (RFC 5869) with a fixed
  ``info`` label; the subsystem's identifier is the associated data, so a ciphertext moved to
  another row does not decrypt.
* The gateway's own key (which signs the message-log checkpoints) is derived from ``SECRET_KEY``
  by HKDF with another label: nothing to store, and it changes with ``SECRET_KEY`` (rotation of
  the secret is a rotation of the gateway key; old checkpoints name the key id they were signed
  with and evidence bundles carry the public key).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_WRAP_INFO = b"dancu exchange subsystem-key wrap v1"
_GATEWAY_INFO = b"dancu exchange gateway signing key v1"


def canonical(value: Any) -> bytes:
    """The canonical JSON bytes of ``value`` (sorted keys, compact separators, UTF-8)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _hkdf(info: bytes, secret: str | None = None) -> bytes:
    material = (secret if secret is not None else settings.SECRET_KEY).encode("utf-8")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)


def public_raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key_raw: bytes) -> str:
    """A short, stable name of a public key: the first 16 hex digits of its SHA-256."""
    return sha256_hex(public_key_raw)[:16]


def new_wrapped_key(aad: str) -> tuple[str, str]:
    """A fresh Ed25519 key pair: ``(public key base64, wrapped private key base64)``.

    The private key's 32 raw bytes are sealed with AES-256-GCM (random 96-bit nonce) under the
    HKDF-derived wrapping key, with ``aad`` (the subsystem identifier) as associated data.
    """
    key = Ed25519PrivateKey.generate()
    return b64(public_raw(key)), _wrap(key, aad)


def _wrap(key: Ed25519PrivateKey, aad: str) -> str:
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    nonce = os.urandom(12)  # fresh for every wrapping (AES-GCM: a nonce is never reused under a key)
    sealed = AESGCM(_hkdf(_WRAP_INFO)).encrypt(nonce, raw, aad.encode("utf-8"))
    return b64(nonce + sealed)


def rewrap(wrapped: str, aad: str, public_b64: str, *, old_secret: str) -> str | None:
    """``wrapped`` sealed again under the current ``SECRET_KEY`` when it was sealed under
    ``old_secret`` (``SECRET_KEY`` rotation); None when it already opens under the current one
    (idempotent). :class:`KeyUnavailable` when it opens under neither, or the private key it holds
    is not the one of ``public_b64`` (a row altered or moved)."""
    try:
        key = _unwrap_cached(wrapped, aad, settings.SECRET_KEY)
    except KeyUnavailable:
        key = _unwrap_cached(wrapped, aad, old_secret)  # KeyUnavailable again: neither secret opens it
        fresh: str | None = _wrap(key, aad)
    else:
        fresh = None
    if b64(public_raw(key)) != public_b64:
        raise KeyUnavailable(f"the signing key of {aad} does not match its public key")
    return fresh


class KeyUnavailable(Exception):
    """A wrapped private key does not decrypt (``SECRET_KEY`` changed, or the row was altered)."""


@lru_cache(maxsize=1024)
def _unwrap_cached(wrapped: str, aad: str, secret: str) -> Ed25519PrivateKey:
    blob = unb64(wrapped)
    try:
        raw = AESGCM(_hkdf(_WRAP_INFO, secret)).decrypt(blob[:12], blob[12:], aad.encode("utf-8"))
    except InvalidTag:
        raise KeyUnavailable(f"the signing key of {aad} does not decrypt with this SECRET_KEY") from None
    return Ed25519PrivateKey.from_private_bytes(raw)


def unwrap(wrapped: str, aad: str) -> Ed25519PrivateKey:
    """The private key sealed by :func:`new_wrapped_key` (cached per process: the hot path)."""
    return _unwrap_cached(wrapped, aad, settings.SECRET_KEY)


@lru_cache(maxsize=4)
def _gateway_key(secret: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_hkdf(_GATEWAY_INFO, secret))


def gateway_key() -> Ed25519PrivateKey:
    """The gateway's (security server's) signing key, derived from ``SECRET_KEY``."""
    return _gateway_key(settings.SECRET_KEY)


def gateway_public_b64() -> str:
    return b64(public_raw(gateway_key()))


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    return b64(key.sign(data))


def verify(public_b64: str, signature_b64: str, data: bytes) -> bool:
    """Whether ``signature_b64`` is a valid Ed25519 signature of ``data`` by ``public_b64``."""
    try:
        Ed25519PublicKey.from_public_bytes(unb64(public_b64)).verify(unb64(signature_b64), data)
    except (InvalidSignature, ValueError):
        return False
    return True
