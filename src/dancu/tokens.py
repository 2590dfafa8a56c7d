"""Random strings from the operating system's CSPRNG, fast.

``django.utils.crypto.get_random_string`` and ``oauthlib.common.generate_token`` draw each
character through ``secrets.choice`` / ``SystemRandom.choice`` — a Python call and a ``urandom``
read per character, a measurable part of a log-in (session key, CSRF secret) and of a token
request. :func:`random_string` maps the bytes of one ``os.urandom`` call onto the alphabet by
rejection sampling in one ``bytes.translate``: a byte at or above the largest multiple of the
alphabet's size is dropped, so every character is equally likely (no modulo bias), and each
character carries log2(len(alphabet)) bits as with the library functions.
"""

from __future__ import annotations

import os
from functools import lru_cache


@lru_cache(maxsize=16)
def _tables(alphabet: str) -> tuple[bytes, bytes]:
    size = len(alphabet)
    if not 2 <= size <= 256 or len(set(alphabet)) != size or not alphabet.isascii():
        raise ValueError("the alphabet must be 2 to 256 distinct ASCII characters")
    unbiased = 256 - 256 % size
    to_char = bytes(ord(alphabet[b % size]) if b < unbiased else 0 for b in range(256))
    return to_char, bytes(range(unbiased, 256))


def random_string(alphabet: str, length: int) -> str:
    """``length`` characters of ``alphabet``, each uniformly and independently drawn."""
    to_char, rejected = _tables(alphabet)
    drawn = b""
    while len(drawn) < length:
        drawn += os.urandom(length + 16).translate(to_char, rejected)
    return drawn[:length].decode("ascii")
