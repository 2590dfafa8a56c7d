"""The verification API's hot route, served ahead of Django's middleware and URL resolver (ADR 0014).

``dancu.wsgi`` wraps the Django application in :class:`FastRoutes` on PostgreSQL. It answers
exactly two requests itself, the common ones of ``api.py``:

* ``POST /api/v1/identity/ping`` with an API key (the empty endpoint of the benchmark);
* ``POST /api/v1/identity/verify`` with an API key, purpose ``identity.verification``, mode
  ``yes_no`` and a card QR.

Everything else — another path or method, a staff session instead of a key, a body that is not
valid JSON or not a valid ``VerifyIn``, another mode or evidence kind, a host not in
``ALLOWED_HOSTS``, plain HTTP when ``SECURE_SSL_REDIRECT`` is on — is passed to Django untouched
(the body is handed back), before anything is written or any rate-limit token taken. So every
refusal Django gives stays Django's, and the answers this layer gives itself are built to be the
same bytes and headers (``tests/blocks/identity/test_fasthttp.py`` compares them):

1. ``django.core.signals.request_started``/``request_finished`` are sent as Django's handler sends
   them (database connections are recycled the same way); the request is a ``WSGIRequest``
   (host validation, ``is_secure``, cookies as Django reads them).
2. The body is validated with the same ``VerifyIn`` schema django-ninja uses.
3. The API key: ``organisations.keycache`` (the key remembered per process for two seconds; the
   verification statement re-checks it, so a revoked key is refused at once) — 401 with the body
   and ``WWW-Authenticate`` header of ``dancu.api``.
4. The rate limit: the same token bucket as the ninja throttle (``dancu.ratelimit``, client
   ``apikey:<id>``) — 429 with ``Retry-After``.
5. Verify: the QR is parsed and cross-checked (``qr.parse_card_qr``), then ``pg_verify``'s
   statement decides and records an exact match — the statement it shares with the concurrent
   verifications of the process (``pg_verify.submit``, ADR 0020), or, inside a transaction or
   with ``DANCU_VERIFY_LANES = 0``, one of its own on this thread's connection. Any other case (a
   mismatch, an invalid QR, an earlier receipt for the request id, a policy refusal) is decided
   by the reference service ``services.verify`` in this process, and its errors are answered as
   ``dancu.api`` answers them (403, 409, 422).
6. The headers the middleware stack adds to these answers: ``SecurityMiddleware``
   (``X-Content-Type-Options``, ``Referrer-Policy``, ``Cross-Origin-Opener-Policy``, HSTS on
   HTTPS), ``LocaleMiddleware`` (``Vary: Accept-Language``, ``Content-Language``),
   ``XFrameOptionsMiddleware`` and ``CommonMiddleware`` (``Content-Length``).

The OpenAPI document is unchanged: the operations stay declared in ``api.py`` (django-ninja),
which also serves every request this layer passes on.
"""

from __future__ import annotations

import datetime
import json
import math
import re
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from json.encoder import encode_basestring_ascii as _json_str
from typing import Any, NamedTuple

from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from ninja.responses import NinjaJSONEncoder
from pydantic import ValidationError

from dancu import fastwsgi
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.identity import pg_verify, services
from dancu.blocks.identity.api import QrEvidenceIn, VerifyIn
from dancu.blocks.identity.qr import parse_card_qr
from dancu.blocks.organisations import keycache
from dancu.blocks.organisations.services import ApiClient, ApiKeyRejected, authenticate_api_key
from dancu.blocks.registry.api import _CONTROL_RE
from dancu.blocks.registry.matching import MATCH
from dancu.blocks.registry.names import SCORE_EXACT
from dancu.errors import AccessDenied, Conflict, DomainValidationError
from dancu.ratelimit import Rate, RateLimited, take
from dancu.validation import JsonInputError, loads_json

PING = "/api/v1/identity/ping"
VERIFY = "/api/v1/identity/verify"
MAX_BODY = 64 * 1024  # a yes/no QR request is a few hundred bytes; larger ones go to Django

WsgiApp = fastwsgi.WsgiApp
Headers = fastwsgi.Headers
_PassOn = fastwsgi.PassOn


class _BadBody(Exception):
    """A body this layer refuses itself (400) once the API key is checked: one Django would not
    answer in the API's problem format (JSON nested past ``validation.MAX_JSON_DEPTH``)."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(problem["detail"][0]["rule"])
        self.problem = problem


class FastRoutes:
    """WSGI middleware: the two routes above, anything else to ``app`` (Django)."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "POST" or path not in (PING, VERIFY):
            return self.app(environ, start_response)
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if not auth.startswith("Bearer dk_") or settings.DISALLOWED_USER_AGENTS:
            return self.app(environ, start_response)
        return fastwsgi.serve(
            self.__class__,
            self.app,
            environ,
            start_response,
            lambda: _serve(environ, path, auth[len("Bearer ") :]),
            _INTERNAL_ERROR,
        )


# --------------------------------------------------------------------------- one request
def _serve(environ: dict[str, Any], path: str, token: str) -> tuple[str, Headers, bytes]:
    request = _request(environ)
    body: _Body | None = None
    refused: dict[str, Any] | None = None
    if path == VERIFY:
        try:
            body = _verify_body(environ, request)
        except _BadBody as exc:
            refused = exc.problem
    extra: Headers = []
    data: dict[str, Any] | bytes
    try:
        client = keycache.authenticate(token)
    except ApiKeyRejected as exc:
        status, data = 401, _problem("authorization", exc.rule, str(exc))
        extra = [("WWW-Authenticate", 'Bearer realm="dancu"')]
        return _respond(request, status, data, extra)
    try:
        take(f"apikey:{client.key_id}", Rate(settings.DANCU_API_RATE_PER_MINUTE, settings.DANCU_API_BURST))
    except RateLimited as exc:
        data = _problem("request", "rate_limit", f"Too many requests. Retry after {exc.retry_after} s.")
        return _respond(request, 429, data, [("Retry-After", str(exc.retry_after))])
    if refused is not None:
        return _respond(request, 400, refused, [])
    if body is None:
        return _respond(request, 200, {"ok": True}, [])
    try:
        status, data = _verify(client, body, token)
    except ApiKeyRejected as exc:
        data = _problem("authorization", exc.rule, str(exc))
        return _respond(request, 401, data, [("WWW-Authenticate", 'Bearer realm="dancu"')])
    except DomainValidationError as exc:
        status, data = 422, {"detail": exc.as_details()}
    except AccessDenied as exc:
        status, data = 403, _problem(exc.field, exc.rule, str(exc))
    except Conflict as exc:
        status, data = 409, _problem(exc.field, exc.rule, str(exc))
    return _respond(request, status, data, [])


def _request(environ: dict[str, Any]) -> WSGIRequest:
    return fastwsgi.django_request(environ, MAX_BODY)


class _Body(NamedTuple):
    """What the route needs of a ``VerifyIn`` with purpose ``identity.verification``, mode
    ``yes_no`` and a QR (``QrEvidenceIn``)."""

    request_id: str
    purpose: str
    case_reference: str
    text: str


_BODY_KEYS = frozenset({"request_id", "purpose", "mode", "case_reference", "evidence"})
_EVIDENCE_KEYS = frozenset({"kind", "text"})
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # VerifyIn.request_id (fullmatch: no "$\n")


def _plain_body(data: object) -> _Body | None:
    """The body, when it has the plain shape of this route's requests and breaks none of
    ``VerifyIn``'s constraints (checked here without pydantic's machinery, ~40 µs a request);
    None for anything else — another key, another type, an optional key with an unusual value —
    which ``VerifyIn`` then validates as django-ninja does. Accepts only bodies ``VerifyIn``
    accepts, with the same values (``tests/blocks/identity/test_fasthttp.py`` checks both on
    generated bodies)."""
    if type(data) is not dict or not _BODY_KEYS.issuperset(data):
        return None
    evidence = data.get("evidence")
    request_id = data.get("request_id")
    purpose = data.get("purpose")
    case_reference = data.get("case_reference", "")
    if (
        type(evidence) is not dict
        or evidence.keys() != _EVIDENCE_KEYS
        or evidence["kind"] != "qr"
        or type(request_id) is not str
        or not _REQUEST_ID.fullmatch(request_id)
        or purpose != services.VERIFY_PURPOSE
        or data.get("mode", "yes_no") != "yes_no"
        or type(case_reference) is not str
        or len(case_reference) > 100
        or _CONTROL_RE.search(case_reference)
    ):
        return None
    text = evidence["text"]
    if type(text) is not str or not 1 <= len(text) <= 4000:
        return None
    return _Body(request_id, services.VERIFY_PURPOSE, case_reference, text)


def _verify_body(environ: dict[str, Any], request: WSGIRequest) -> _Body:
    """The body as django-ninja reads it, or pass on (handing the body back to Django)."""
    raw = fastwsgi.keep_body(environ, request)  # Django reads it again if the request is passed on
    try:
        data = loads_json(raw)
    except JsonInputError as exc:
        if exc.rule == "depth":  # answered here (after the key check, in ``_serve``), never a 500
            raise _BadBody(_problem("body", "depth", f"the body must be a JSON object: {exc}")) from None
        raise _PassOn from None  # not JSON: Django answers as it always has
    try:
        plain = _plain_body(data)
        if plain is not None:
            return plain
        body = VerifyIn.model_validate(data)
    except (ValueError, ValidationError):
        raise _PassOn from None
    if (
        body.purpose != services.VERIFY_PURPOSE
        or body.mode != "yes_no"
        or not isinstance(body.evidence, QrEvidenceIn)
    ):
        raise _PassOn
    return _Body(body.request_id, body.purpose, body.case_reference, body.evidence.text)


def _verify(client: ApiClient, body: _Body, token: str) -> tuple[int, dict[str, Any] | bytes]:
    ctx = AccessContext(actor=client.actor, purpose=body.purpose, case_reference=body.case_reference)
    evidence = services.QrEvidence(body.text)
    moment = timezone.now()
    today = timezone.localdate(moment)
    claim = _exact_claim(evidence.text, today) if ctx.actor.may(ctx.purpose) else None
    if claim is not None:
        receipt_id = uuid.uuid4()
        result = services.VerificationResult(
            str(receipt_id), moment, ctx.purpose, "yes_no", "qr", MATCH, (), SCORE_EXACT, None
        )
        fingerprint = services._fingerprint(ctx, evidence, "qr", "yes_no")
        actor = ctx.actor
        requester = pg_verify.Requester(
            key_id=client.key_id,
            label=actor.label,
            organisation_id=actor.organisation_id or 0,
            organisation_name=actor.organisation_name,
            organisation_kind=actor.organisation_kind,
            ward_code=actor.jurisdiction_ward_code or "",
            province_code=actor.jurisdiction_province_code or "",
        )
        item = pg_verify.Item(
            requester,
            claim,
            ctx.purpose,
            ctx.case_reference,
            body.request_id,
            fingerprint,
            receipt_id,
            services._to_json(result),
            moment,
            today,
        )
        db = connections[DEFAULT_DB_ALIAS]  # once: each access through the proxy is a lookup
        if db.in_atomic_block or not pg_verify.lanes():
            db.ensure_connection()  # alone, on this thread's connection (in its transaction)
            outcome = pg_verify.verify_batch(db.connection, [item], async_commit=not db.in_atomic_block)[0]
        else:  # with the concurrent verifications of this process, one statement (ADR 0020)
            outcome = pg_verify.submit(item)
        if not outcome.key_ok:  # revoked since it was remembered: the database says why
            keycache.forget(client.prefix)
            client = authenticate_api_key(token)
        elif outcome.written:
            return 200, _out(result)
        elif (
            outcome.earlier is not None and outcome.earlier.created_at >= moment - services.IDEMPOTENCY_WINDOW
        ):
            earlier = outcome.earlier
            if earlier.request_sha256 != fingerprint:
                raise Conflict(
                    f"request_id {body.request_id!r} was used for another request in the last 24 hours "
                    f"(receipt {earlier.receipt_id}); send a new request_id",
                    field="request_id",
                    rule="idempotency_conflict",
                )
            return 200, _out(services._from_json(earlier.response, replayed=True))
    else:
        client = authenticate_api_key(token)  # the reference path runs only for a key valid now
    # Not an exact match, or a case the statement leaves to the reference path.
    result = services.verify(
        ctx, evidence, mode="yes_no", request_id=body.request_id, api_key_id=client.key_id
    )
    return 200, _out(result)


def _exact_claim(text: str, today: Any) -> pg_verify.Claim | None:
    """The claim of a QR that checks (``qr.parse_card_qr``) with a name in normal form; None for
    anything the reference path must judge (it records the invalid evidence)."""
    try:
        card = parse_card_qr(text, reference=today)  # the name comes out normalised
    except DomainValidationError:
        return None
    if card.sex not in ("M", "F"):
        return None
    return pg_verify.Claim(
        id_number=card.id_number,
        full_name=card.full_name,
        date_of_birth=card.date_of_birth,
        sex=card.sex,
        old_id_number=card.old_id_number or "",
        issued_on=card.issue_date,
    )


# --------------------------------------------------------------------------- the answer
_DATES = NinjaJSONEncoder()  # its ``default`` only: how django-ninja writes a datetime


def _out(result: services.VerificationResult) -> dict[str, Any] | bytes:
    """``api.VerifyOut`` as django-ninja dumps it (same keys, same order). An answer without
    reasons or data — every match of the hot route — comes out already encoded (``_plain_out``)."""
    plain = _plain_out(result)
    if plain is not None:
        return plain
    return {
        "receipt_id": result.receipt_id,
        "verified_at": result.verified_at,
        "purpose": result.purpose,
        "mode": result.mode,
        "evidence_kind": result.evidence_kind,
        "decision": result.decision,
        "reasons": [
            {
                "code": r.code,
                "message_vi": r.message_vi,
                "message_en": r.message_en,
                "field": r.field,
                "detail": r.detail,
            }
            for r in result.reasons
        ],
        "name_score": result.name_score,
        "data": result.data,
        "replayed": result.replayed,
    }


def _plain_out(result: services.VerificationResult) -> bytes | None:
    """The bytes ``json.dumps(_out(result), cls=NinjaJSONEncoder)`` gives, from a template, for an
    answer with no reasons and no data whose values are plain (str, a finite float or None, an
    aware or naive datetime); None otherwise. The strings are escaped by ``json.dumps``'s own
    function (``ensure_ascii``), the datetime written by the encoder's ``default``, the float by
    ``float.__repr__`` as ``json`` writes it (``tests/blocks/identity/test_fasthttp.py`` compares
    the two on generated values). Saves the encoder's set-up and its Python ``default`` call."""
    score = result.name_score
    strings = (result.receipt_id, result.purpose, result.mode, result.evidence_kind, result.decision)
    if (
        result.reasons
        or result.data is not None
        or type(result.verified_at) is not datetime.datetime
        or not (score is None or (type(score) is float and math.isfinite(score)))
        or type(result.replayed) is not bool
        or any(type(v) is not str for v in strings)
    ):
        return None
    receipt, purpose, mode, kind, decision = map(_json_str, strings)
    return (
        f'{{"receipt_id": {receipt}, "verified_at": {_json_str(_DATES.default(result.verified_at))}, '
        f'"purpose": {purpose}, "mode": {mode}, "evidence_kind": {kind}, "decision": {decision}, '
        f'"reasons": [], "name_score": {"null" if score is None else float.__repr__(score)}, '
        f'"data": null, "replayed": {"true" if result.replayed else "false"}}}'
    ).encode()


def _problem(field: str, rule: str, message: str) -> dict[str, Any]:
    return {"detail": [{"field": field, "rule": rule, "message": message}]}


_INTERNAL_ERROR = fastwsgi.json_error(
    _problem("request", "internal_error", "The server could not complete the request; try again later.")
)
_middleware_headers = fastwsgi.middleware_headers  # what the middleware stack adds (tests read it)


def _respond(
    request: WSGIRequest, status: int, data: dict[str, Any] | bytes, extra: Headers
) -> tuple[str, Headers, bytes]:
    """``data`` as django-ninja's JSON answer, or already encoded (``_plain_out``)."""
    content = data if type(data) is bytes else json.dumps(data, cls=NinjaJSONEncoder).encode()
    headers: Headers = [("Content-Type", "application/json; charset=utf-8"), *extra]
    headers += fastwsgi.middleware_headers(request, len(content))
    return f"{status} {HTTPStatus(status).phrase}", headers, content


def mount(app: WsgiApp) -> WsgiApp:
    """``app`` behind :class:`FastRoutes` on PostgreSQL (the statement needs it); ``app`` itself
    on SQLite or with ``DANCU_FAST_VERIFY = False``."""
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql" or not getattr(
        settings, "DANCU_FAST_VERIFY", True
    ):
        return app
    return FastRoutes(app)
