"""ISO/IEC 9796-2 Digital Signature Scheme 1 with partial message recovery: the RSA form of
Active Authentication (ICAO Doc 9303 part 11 §6.1.2: "the eMRTD chip SHALL use ISO/IEC 9796-2
Digital Signature scheme 1"; the terminal's challenge is the non-recoverable part M2, a random
nonce of the chip the recoverable part M1).

The message representative F, as wide as the modulus (in whole bytes)::

    F = 0x6A ‖ M1 ‖ H(M1 ‖ M2) ‖ trailer

``0x6A`` is the header byte of a representative with partial recovery (an M2 follows). The
trailer names the hash: the one byte ``0xBC`` is SHA-1 (implicit), or two bytes
``<hash identifier> 0xCC`` with the identifiers ISO/IEC 9796-2 gives the ISO/IEC 10118 hashes
(0x33 SHA-1, 0x34 SHA-256, 0x35 SHA-512, 0x36 SHA-384, 0x38 SHA-224). The chip returns
S = F^d mod n; the verifier computes F = S^e mod n (and n − F when F does not end in the nibble
0xC, as the standard lets the signer send the smaller of the two) and checks header, trailer and
H(M1 ‖ M2).

No well-kept Python library verifies this scheme (the ``cryptography`` package offers PKCS #1
and PSS only), so it is written here over the RSA numbers ``cryptography`` gives.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives.asymmetric import rsa

from dancu.errors import DomainValidationError

HEADER_PARTIAL = 0x6A
IMPLICIT_SHA1 = 0xBC
TRAILER_HASHES = {0x33: "sha1", 0x34: "sha256", 0x35: "sha512", 0x36: "sha384", 0x38: "sha224"}
HASH_IDS = {name: ident for ident, name in TRAILER_HASHES.items()}


def _refuse(rule: str, message: str) -> DomainValidationError:
    return DomainValidationError.single("aa_answer", rule, message)


def sign(key: rsa.RSAPrivateKey, m2: bytes, *, hash_name: str = "sha1", m1: bytes | None = None) -> bytes:
    """What a chip returns to INTERNAL AUTHENTICATE with challenge ``m2`` (the development
    chip's side). ``m1``: the recoverable nonce; random by default, its length fixed by the key."""
    numbers = key.private_numbers()
    n, d = numbers.public_numbers.n, numbers.d
    size = (n.bit_length() + 7) // 8
    trailer = bytes([IMPLICIT_SHA1]) if hash_name == "sha1" else bytes([HASH_IDS[hash_name], 0xCC])
    digest_size = hashlib.new(hash_name).digest_size
    m1_size = size - 1 - digest_size - len(trailer)
    if m1 is None:
        m1 = secrets.token_bytes(m1_size)
    if len(m1) != m1_size:
        raise ValueError(f"M1 has {m1_size} bytes for this key and hash")
    f = int.from_bytes(
        bytes([HEADER_PARTIAL]) + m1 + hashlib.new(hash_name, m1 + m2).digest() + trailer, "big"
    )
    if f >= n:
        raise ValueError("the modulus is too small for the representative")
    return pow(f, d, n).to_bytes(size, "big")


def verify(key: rsa.RSAPublicKey, signature: bytes, m2: bytes) -> str:
    """Check a chip's answer ``signature`` to the challenge ``m2``; the hash used (``"sha1"``…).
    Refused (``DomainValidationError`` on ``aa_answer``) with the rule that failed: ``length``,
    ``range``, ``header``, ``trailer``, ``hash`` (unknown identifier) or ``digest``."""
    numbers = key.public_numbers()
    n, e = numbers.n, numbers.e
    size = (n.bit_length() + 7) // 8
    if len(signature) != size:
        raise _refuse("length", f"an answer of this {n.bit_length()}-bit key has {size} bytes")
    s = int.from_bytes(signature, "big")
    if not 0 < s < n:
        raise _refuse("range", "the answer is not a number below the modulus")
    f = pow(s, e, n)
    if f & 0xF != 0xC:
        f = n - f
    block = f.to_bytes(size, "big")
    if block[0] != HEADER_PARTIAL:
        raise _refuse("header", "not an ISO/IEC 9796-2 scheme 1 representative with partial recovery")
    if block[-1] == IMPLICIT_SHA1:
        hash_name, trailer_size = "sha1", 1
    elif block[-1] == 0xCC:
        hash_name = TRAILER_HASHES.get(block[-2], "")
        if not hash_name:
            raise _refuse("hash", f"unknown hash identifier 0x{block[-2]:02X} in the trailer")
        trailer_size = 2
    else:
        raise _refuse("trailer", "the representative ends in neither 0xBC nor 0x..CC")
    digest_size = hashlib.new(hash_name).digest_size
    if size < 1 + digest_size + trailer_size + 1:
        raise _refuse("length", "the key is too small for the hash")
    m1 = block[1 : size - trailer_size - digest_size]
    digest = block[size - trailer_size - digest_size : size - trailer_size]
    if not hmac.compare_digest(hashlib.new(hash_name, m1 + m2).digest(), digest):
        raise _refuse("digest", "H(M1 ‖ challenge) differs: not an answer to this challenge with this key")
    return hash_name
