"""What a route answered ahead of Django's middleware stack must do as Django would (ADR 0014 §5).

Two blocks serve their hottest requests in a WSGI layer in front of Django: the identity
verification (``blocks/identity/fasthttp.py``, ADR 0014) and the OpenID provider's token and
userinfo endpoints (``blocks/sso/fasthttp.py``, ADR 0009 §12). Each answers only the requests it
recognises and hands every other one to Django untouched. What they share lives here, so that
both give the bytes and headers the middleware stack would have given:

* :func:`django_request` — Django's ``WSGIRequest`` over the environ, passed on (:class:`PassOn`)
  when the body is too long for the route, the host is not in ``ALLOWED_HOSTS`` or the request
  is plain HTTP under ``SECURE_SSL_REDIRECT``: ``CommonMiddleware`` and ``SecurityMiddleware``
  answer those as always;
* :func:`serve` — Django's request lifecycle (``request_started`` / ``request_finished``, so that
  database connections are recycled alike) around a route, with the pass-on and the
  unexpected-error answer (:func:`internal_error`, as ``response_for_exception`` handles one);
* :func:`middleware_headers` — the headers ``XFrameOptionsMiddleware``, ``CommonMiddleware``
  (``Content-Length``), ``LocaleMiddleware`` (``Vary``, ``Content-Language``) and
  ``SecurityMiddleware`` add, in the order the stack adds them (responses run bottom-up).
"""

from __future__ import annotations

import functools
import io
import json
import logging
import traceback
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import setting_changed
from django.utils import translation

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Headers = list[tuple[str, str]]
Answer = tuple[str, Headers, bytes]
_request_log = logging.getLogger("django.request")


class PassOn(Exception):
    """Not for the fast layer: Django answers the request (nothing was written)."""


def django_request(environ: dict[str, Any], max_body: int) -> WSGIRequest:
    """Django's request object over the environ: the host is validated and the redirect to HTTPS
    left to Django exactly as ``CommonMiddleware`` and ``SecurityMiddleware`` would. A body over
    ``max_body`` (or of no stated length but chunked) is left to Django too."""
    length = environ.get("CONTENT_LENGTH") or "0"  # none: an empty body, as Django reads it
    if not length.isdigit() or int(length) > max_body:
        raise PassOn
    request = WSGIRequest(environ)
    try:
        request.get_host()
    except DisallowedHost:
        raise PassOn from None
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        raise PassOn
    return request


def keep_body(environ: dict[str, Any], request: WSGIRequest) -> bytes:
    """The body, read once and handed back to the environ so that Django can read it again if the
    request is passed on."""
    raw = request.body
    environ["wsgi.input"] = io.BytesIO(raw)
    return raw


def serve(
    sender: type,
    app: WsgiApp,
    environ: dict[str, Any],
    start_response: Callable[..., Any],
    route: Callable[[], Answer],
    error_body: bytes,
) -> Iterable[bytes]:
    """``route()`` inside Django's request lifecycle; Django's answer when it raises
    :class:`PassOn`; a 500 with ``error_body`` (JSON) for an unexpected error."""
    signals.request_started.send(sender=sender, environ=environ)
    try:
        try:
            status, headers, content = route()
        except PassOn:
            signals.request_finished.send(sender=sender)
            return app(environ, start_response)
        except Exception as exc:  # answered as Django answers an unhandled error
            status, headers, content = internal_error(sender, environ, exc, error_body)
    except BaseException:
        signals.request_finished.send(sender=sender)
        raise
    signals.request_finished.send(sender=sender)
    start_response(status, headers)
    return [content]


def internal_error(sender: type, environ: dict[str, Any], exc: Exception, content: bytes) -> Answer:
    """An unexpected error, handled as Django's handler handles one
    (``django.core.handlers.exception.response_for_exception``): ``got_request_exception`` is
    sent (error trackers listen to it), the error is logged on ``django.request`` and the client
    gets a 500 with ``content``. The log names the path, the exception class and the stack frames,
    never the exception's message, the request body or its headers: a database error's message
    may quote personal data (Law 91/2025 on personal data protection), a token request carries
    secrets."""
    request = WSGIRequest(environ)
    signals.got_request_exception.send(sender=sender, request=request)
    frames = "".join(traceback.format_tb(exc.__traceback__))
    path = environ.get("PATH_INFO", "")
    _request_log.error(
        "Internal Server Error: %s (%s)\n%s", path, type(exc).__name__, frames, extra={"status_code": 500}
    )
    headers: Headers = [("Content-Type", "application/json; charset=utf-8")]
    try:
        headers += middleware_headers(request, len(content))
    except Exception:  # e.g. a host Django would refuse: the bare headers
        headers += [("Content-Length", str(len(content))), ("X-Content-Type-Options", "nosniff")]
    return "500 Internal Server Error", headers, content


def json_error(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


@functools.lru_cache(maxsize=256)
def language(accept_language: str, cookie: str) -> str:
    """``LocaleMiddleware``'s choice for these two headers (the fast paths carry no language
    prefix); remembered, as browsers and integrators send few distinct values."""
    shim = WSGIRequest(
        {
            "REQUEST_METHOD": "GET",
            "HTTP_ACCEPT_LANGUAGE": accept_language,
            "HTTP_COOKIE": cookie,
            "wsgi.input": io.BytesIO(),
        }
    )
    return translation.get_language_from_request(shim, check_path=True)


class _Fixed(NamedTuple):
    """The headers of :func:`middleware_headers` that depend on the settings only."""

    frame: tuple[str, str]
    hsts: tuple[str, str] | None  # sent on HTTPS only
    tail: Headers


_FIXED: list[_Fixed] = []  # built on first use, emptied when a setting changes (tests)


def _settings_changed(**kwargs: Any) -> None:
    _FIXED.clear()
    language.cache_clear()


setting_changed.connect(_settings_changed, dispatch_uid="dancu.fastwsgi")


def middleware_headers(request: WSGIRequest, length: int) -> Headers:
    """What the middleware stack adds to an answer whose view did not touch the session or the
    CSRF cookie, in the order it adds them (the stack runs responses bottom-up: X-Frame-Options,
    Content-Length, Vary, Content-Language, security). The settings' part is built once."""
    fixed = _FIXED[0] if _FIXED else _fixed_headers()
    lang = language(request.META.get("HTTP_ACCEPT_LANGUAGE", ""), request.META.get("HTTP_COOKIE", ""))
    headers: Headers = [
        fixed.frame,
        ("Content-Length", str(length)),
        ("Vary", "Accept-Language"),
        ("Content-Language", lang),
    ]
    if fixed.hsts is not None and request.is_secure():
        headers.append(fixed.hsts)
    headers += fixed.tail
    return headers


def _fixed_headers() -> _Fixed:
    """``SecurityMiddleware``'s and ``XFrameOptionsMiddleware``'s headers as the settings make them."""
    hsts = None
    if settings.SECURE_HSTS_SECONDS:
        sts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            sts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            sts += "; preload"
        hsts = ("Strict-Transport-Security", sts)
    headers: Headers = []
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    policy = settings.SECURE_REFERRER_POLICY
    if policy:
        value = (
            ",".join(v.strip() for v in policy.split(",")) if isinstance(policy, str) else ",".join(policy)
        )
        headers.append(("Referrer-Policy", value))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    fixed = _Fixed(("X-Frame-Options", settings.X_FRAME_OPTIONS.upper()), hsts, headers)
    _FIXED[:] = [fixed]
    return fixed
