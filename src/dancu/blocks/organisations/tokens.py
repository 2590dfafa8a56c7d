"""Secret tokens of machine clients (organisation API keys, clinic kiosks):
``<tag>_<prefix>_<secret>`` with an 8-hex-digit public ``prefix`` that names the row and a 256-bit
``secret`` (43 base64url characters) of which only the SHA-256 digest is stored. The token is
shown once; a presented token is compared with the stored digest in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse


class TokenRejected(Exception):
    """A presented token was refused; ``rule`` names the check it failed (``invalid``,
    ``revoked``…), the message says it to the client."""

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(message)


@dataclass(frozen=True)
class NewToken:
    """A freshly drawn token: store ``prefix`` and ``secret_sha256``, show ``token`` once."""

    prefix: str
    secret_sha256: str
    token: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def new_token(tag: str, prefix_taken: Callable[[str], bool]) -> NewToken:
    """A token ``<tag>_<8 hex>_<43 base64url>`` whose prefix ``prefix_taken`` says is free."""
    while True:
        prefix = secrets.token_hex(4)
        if not prefix_taken(prefix):
            break
    secret = secrets.token_urlsafe(32)
    return NewToken(prefix=prefix, secret_sha256=digest(secret), token=f"{tag}_{prefix}_{secret}")


@cache
def _pattern(tag: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(tag)}_([0-9a-f]{{8}})_([A-Za-z0-9_-]{{43}})$")


def parse_token(tag: str, token: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed ``<tag>_<prefix>_<secret>``, else None."""
    match = _pattern(tag).match(token)
    if match is None:
        return None
    prefix, secret = match.groups()
    return prefix, secret


def secret_matches(secret_sha256: str, secret: str) -> bool:
    """Whether ``secret`` hashes to the stored ``secret_sha256`` (constant-time comparison)."""
    return hmac.compare_digest(secret_sha256, digest(secret))


def presented_row(
    queryset: QuerySet[Any],
    tag: str,
    token: str,
    rejected: type[TokenRejected],
    *,
    noun: str,
    revoked_noun: str = "",
    malformed: str = "",
) -> Any:
    """The row of ``queryset`` (fields ``prefix``, ``secret_sha256``, ``revoked_at``) whose
    token ``token`` is; else ``rejected`` with rule ``invalid`` (malformed, unknown prefix or wrong
    secret — one answer, so a prefix cannot be probed) or ``revoked``."""
    parsed = parse_token(tag, token)
    if parsed is None:
        raise rejected("invalid", malformed or f"The {noun} is malformed.")
    prefix, secret = parsed
    row = queryset.filter(prefix=prefix).first()
    if row is None or not secret_matches(row.secret_sha256, secret):
        raise rejected("invalid", f"The {noun} is not valid.")
    if row.revoked_at is not None:
        raise rejected("revoked", f"The {revoked_noun or noun} has been revoked.")
    return row


def mark_seen(queryset: QuerySet[Any], field: str, moment: datetime, resolution: timedelta) -> None:
    """Set ``field`` to ``moment`` on the rows of ``queryset`` where it is empty or older than
    ``resolution`` (one conditional UPDATE: concurrent requests write at most once a period)."""
    stale = moment - resolution
    queryset.filter(Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": stale})).update(**{field: moment})


# --------------------------------------------------------------------------- device enrolment
# A kiosk's browser is enrolled once with its device token: the token travels in the body of a
# CSRF-protected POST (or a header), never in a URL — proxies, the browser's history and the next
# page's ``Referer`` keep URLs — and is then kept in an HttpOnly, SameSite=Strict cookie scoped to
# the kiosk's pages (OWASP ASVS 4.0 V3.4, V8.3.1: sensitive data not in URL parameters).
def posted_token(request: HttpRequest, *, header: str = "") -> str:
    """The token a device enrolment sent: the POST field ``key`` or, for scripts, ``header``
    (a ``request.META`` name such as ``HTTP_X_KIOSK_KEY``); never a query parameter."""
    return str(request.POST.get("key") or (request.META.get(header) if header else "") or "").strip()


def remember_device(
    response: HttpResponse, request: HttpRequest, *, cookie: str, token: str, max_age: int, path: str
) -> HttpResponse:
    """Keep an accepted device token in the enrolled browser (HttpOnly, SameSite=Strict, Secure
    over HTTPS, sent only to ``path``)."""
    response.set_cookie(
        cookie,
        token,
        max_age=max_age,
        httponly=True,
        samesite="Strict",
        secure=request.is_secure(),
        path=path,
    )
    return response
