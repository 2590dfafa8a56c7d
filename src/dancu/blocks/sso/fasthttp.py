"""The provider's machine-called endpoints served ahead of Django's middleware stack (ADR 0009 §12).

``dancu.wsgi`` wraps the application in :class:`TokenRoutes` on PostgreSQL. It answers four
requests itself, and only when they succeed:

* ``POST /oidc/token`` with ``grant_type=client_credentials`` — ``fast.client_credentials``;
* ``POST /oidc/token`` with ``grant_type=refresh_token`` — ``fast.refresh`` (rotation);
* ``POST /oidc/token`` with ``grant_type=authorization_code`` — ``fast.authorization_code`` (the
  code exchange with PKCE, the ID token signed here);
* ``GET /oidc/userinfo`` with ``Authorization: Bearer <token>`` — one prepared statement reads the
  token with its relying party, account e-mail, organisation and the citizen's ID number, and
  ``services.release_claims_of`` releases the claims exactly as the validator does (the registry
  read with the relying party's purpose, audited there, and the release event the citizen sees).

and one request that people's browsers make on every sign-in (ADR 0009 §15):

* ``GET /oidc/authorize`` from a browser without a session cookie (nobody is logged in), with
  the ordinary parameters of a code flow only (``response_type=code``, ``client_id``,
  ``redirect_uri``, ``scope``, ``state``, ``nonce``, ``code_challenge``,
  ``code_challenge_method=S256``), each once — the redirect to the log-in page that
  ``views.AuthorizeView`` gives an anonymous visitor, after the same checks: a registered relying
  party of the code grant, the redirect URI registered exactly (RFC 6749 §3.1.2.3), scopes it is
  registered for, PKCE S256 with a well-formed challenge (RFC 7636 §4.2), a nonce not used before
  (OpenID Connect Core 1.0 §3.1.2.1). Any other request — a cookie, ``prompt``, ``max_age``,
  ``acr_values``, ``resource``, any parameter outside that list, a query that is not plainly
  URL-encoded, a check that fails — goes to Django, whose answer (an error page, an error
  redirect, a log-in, step-up, consent) is the one the request gets.

These are what relying parties and machines call in loops; Django's middleware, URL resolver and
DOT/oauthlib's machinery cost more than the work itself (``bench/oidc_steps.py``). Everything
else — another path, method or grant, a query string, a CORS request (``Origin``), a body that is
not a plain form, an unknown, expired, revoked or audience-restricted (RFC 8707) token, a token
without ``openid`` or without a person, a client whose copy is stale, a host outside
``ALLOWED_HOSTS``, plain HTTP under ``SECURE_SSL_REDIRECT``, a configured citizen resolver other
than the account block's — is passed to Django untouched (the body handed back) before anything
is written, so every error stays DOT's. The answers given here carry the bytes and headers the
Django path gives (``tests/blocks/sso/test_fasthttp.py`` compares them): the view's own
(``Content-Type``, ``Cache-Control``, ``Pragma``) and the middleware stack's
(``dancu.fastwsgi.middleware_headers``). The endpoints' documentation (discovery) is unchanged.

Switch: ``DANCU_OIDC_TOKEN_FAST_PATH = False`` (it also switches ``fast.py`` off) mounts nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.handlers.wsgi import WSGIRequest
from django.db import DEFAULT_DB_ALIAS, connections
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from oauth2_provider.models import get_access_token_model

from dancu import fastwsgi
from dancu.blocks.sso import fast
from dancu.blocks.sso.claims import claims_for
from dancu.blocks.sso.models import RelyingParty
from dancu.blocks.sso.services import actor_for_relying_party, release_claims_of
from dancu.blocks.sso.subjects import account_contacts, pairwise_sub
from dancu.blocks.sso.validator import nonce_used

TOKEN_PATH = "/oidc/token"  # noqa: S105 (a path, not a secret)
AUTHORIZE_PATH = "/oidc/authorize"
USERINFO_PATH = "/oidc/userinfo"
MAX_BODY = 8 * 1024  # a machine grant's form is under 300 bytes; larger ones go to Django
_FORM = "application/x-www-form-urlencoded"
_BEARER = re.compile(r"Bearer ([A-Za-z0-9\-._~+/]{1,512}=*)")  # RFC 6750 §2.1 b64token
_DEFAULT_RESOLVER = "dancu.blocks.sso.subjects.id_number_via_eid"
_SERVER_ERROR = fastwsgi.json_error({"error": "server_error"})  # RFC 6749 §5.2's vocabulary

AccessToken = get_access_token_model()


class TokenRoutes:
    """WSGI middleware: the four answers above, anything else to ``app``."""

    def __init__(self, app: fastwsgi.WsgiApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        if path == TOKEN_PATH and method == "POST":
            route: Callable[[], fastwsgi.Answer] = lambda: _token(environ)  # noqa: E731
        elif path == USERINFO_PATH and method == "GET":
            route = lambda: _userinfo(environ)  # noqa: E731
        elif path == AUTHORIZE_PATH and method == "GET":
            if (
                "HTTP_ORIGIN" in environ
                or settings.DISALLOWED_USER_AGENTS
                or not fast.enabled()
                or settings.SESSION_COOKIE_NAME in environ.get("HTTP_COOKIE", "")
            ):
                return self.app(environ, start_response)
            route = lambda: _authorize_anonymous(environ)  # noqa: E731
            return fastwsgi.serve(self.__class__, self.app, environ, start_response, route, _SERVER_ERROR)
        else:
            return self.app(environ, start_response)
        if (
            environ.get("QUERY_STRING")
            or "HTTP_ORIGIN" in environ
            or settings.DISALLOWED_USER_AGENTS
            or not fast.enabled()
        ):
            return self.app(environ, start_response)
        return fastwsgi.serve(self.__class__, self.app, environ, start_response, route, _SERVER_ERROR)


# --------------------------------------------------------------------------- token endpoint
def _token(environ: dict[str, Any]) -> fastwsgi.Answer:
    """RFC 6749 §4.4 and §6 through ``fast.py``'s statements; anything they do not answer is
    Django's (``views.Token`` would try the same statements first, then DOT)."""
    if environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower() != _FORM:
        raise fastwsgi.PassOn
    request = fastwsgi.django_request(environ, MAX_BODY)
    fastwsgi.keep_body(environ, request)
    grant = request.POST.get("grant_type")
    if grant == "client_credentials":
        answer = fast.client_credentials(request)
    elif grant == "refresh_token":
        answer = fast.refresh(request)
    elif grant == "authorization_code":
        answer = fast.authorization_code(request)
    else:
        answer = None
    if answer is None:
        raise fastwsgi.PassOn
    return _answer(request, answer.status_code, list(answer.items()), answer.content)


# --------------------------------------------------------------------------- userinfo
_RP_FIELDS = list(RelyingParty._meta.concrete_fields)


def _sql_userinfo() -> str:
    from dancu.blocks.eid.models import Account
    from dancu.blocks.organisations.models import Organisation

    at, rp, user = AccessToken._meta.db_table, RelyingParty._meta.db_table, get_user_model()._meta.db_table
    acc, org = Account._meta.db_table, Organisation._meta.db_table
    rp_cols = ", ".join(f"r.{f.column}" for f in _RP_FIELDS)
    return f"""
        SELECT a.expires, a.scope, a.user_id, a.resource, u.email, o.name, o.kind,
               (SELECT c.id_number FROM {acc} c
                 WHERE c.user_id = a.user_id AND c.status = %(active)s AND c.citizen_id IS NOT NULL
                 ORDER BY c.id LIMIT 1),
               {rp_cols}
        FROM {at} a
        JOIN {rp} r ON r.application_id = a.application_id
        JOIN {user} u ON u.id = a.user_id
        LEFT JOIN {org} o ON o.id = r.organisation_id
        WHERE a.token_checksum = %(checksum)s
    """  # noqa: S608 (table and column names from the models; values are parameters)


def _userinfo(environ: dict[str, Any]) -> fastwsgi.Answer:
    """OpenID Connect Core 1.0 §5.3 for a live bearer token of a person with scope ``openid``,
    issued to a registered relying party and restricted to no resource (RFC 8707): the claims of
    ``validator.get_userinfo_claims``; None of the refusals (RFC 6750 §3) — those are DOT's."""
    match = _BEARER.fullmatch(environ.get("HTTP_AUTHORIZATION", ""))
    resolver = getattr(settings, "DANCU_OIDC_CITIZEN_RESOLVER", "") or _DEFAULT_RESOLVER
    if match is None or resolver != _DEFAULT_RESOLVER or environ.get("CONTENT_LENGTH") not in (None, "", "0"):
        raise fastwsgi.PassOn
    request = fastwsgi.django_request(environ, 0)
    from dancu.blocks.eid.models import Account

    checksum = hashlib.sha256(match.group(1).encode("utf-8")).hexdigest()
    row = fast._execute(_sql_userinfo(), {"checksum": checksum, "active": Account.Status.ACTIVE})
    if row is None:
        raise fastwsgi.PassOn
    expires, scope, user_id, resource, email, org_name, org_kind, id_number = row[:8]
    if isinstance(resource, str):  # Django's connection loads jsonb as text (JSONField decodes it)
        resource = json.loads(resource)
    if expires <= timezone.now() or "openid" not in scope.split() or resource or user_id is None:
        raise fastwsgi.PassOn  # expired, not an OpenID token, audience-restricted: DOT refuses
    rp = RelyingParty.from_db(DEFAULT_DB_ALIAS, [f.attname for f in _RP_FIELDS], list(row[8:]))
    out: dict[str, Any] = {"sub": pairwise_sub(rp.sector_identifier, user_id)}
    user = SimpleNamespace(pk=user_id, email=email)
    organisation = (org_name, org_kind) if org_name is not None else None
    out.update(
        release_claims_of(
            rp,
            claims_for(scope.split(), rp.claims),
            contacts=lambda: account_contacts(user),
            id_number=lambda: id_number,
            actor=lambda: actor_for_relying_party(rp, organisation),
        )
    )
    return _answer(request, 200, [("Content-Type", "application/json")], json.dumps(out).encode())


# --------------------------------------------------------------------------- authorisation, anonymous
_PLAIN_QUERY = re.compile(r"(?:[A-Za-z0-9\-._~+=&]|%[0-9A-Fa-f]{2})*")  # a subset of what oauthlib decodes
_CODE_CHALLENGE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")  # RFC 7636 §4.2
_AUTHORIZE_PARAMS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
    }
)
_MAX_VALUE = 512  # a longer state or nonce is Django's to judge


def _authorize_anonymous(environ: dict[str, Any]) -> fastwsgi.Answer:
    """``views.AuthorizeView``'s answer to a visitor who is not logged in and whose request is an
    ordinary, valid code-flow request: the redirect to the log-in page with the request as
    ``next`` (never-cache headers; no session is written). Anything else: :class:`PassOn`."""
    query = environ.get("QUERY_STRING", "")
    if not query or len(query) > 4096 or _PLAIN_QUERY.fullmatch(query) is None:
        raise fastwsgi.PassOn
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in _AUTHORIZE_PARAMS or name in params or not value or len(value) > _MAX_VALUE:
            raise fastwsgi.PassOn
        params[name] = value
    if (
        len(params) != len(_AUTHORIZE_PARAMS)
        or params["response_type"] != "code"
        or params["code_challenge_method"] != "S256"
        or _CODE_CHALLENGE.fullmatch(params["code_challenge"]) is None
    ):
        raise fastwsgi.PassOn
    from oauth2_provider.models import get_application_model

    client = fast._client(params["client_id"])
    scopes = params["scope"].split(" ")
    if (
        client is None
        or client.grant_type != get_application_model().GRANT_AUTHORIZATION_CODE
        or params["redirect_uri"] not in client.redirect_uris.split()
        or "openid" not in scopes
        or not set(scopes) <= set(client.scopes.split())
    ):
        raise fastwsgi.PassOn
    request = fastwsgi.django_request(environ, 0)
    if nonce_used(params["client_id"], params["nonce"]):
        raise fastwsgi.PassOn  # Django redirects the error to the relying party
    response = redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))
    add_never_cache_headers(response)
    headers = [
        (name, "Accept-Language, Cookie" if name == "Vary" else value)  # the view read request.user
        for name, value in fastwsgi.middleware_headers(request, 0)
    ]
    return "302 Found", [*response.items(), *headers], b""


def _answer(request: WSGIRequest, status: int, own: fastwsgi.Headers, content: bytes) -> fastwsgi.Answer:
    headers = [*own, *fastwsgi.middleware_headers(request, len(content))]
    return f"{status} {HTTPStatus(status).phrase}", headers, content


def mount(app: fastwsgi.WsgiApp) -> fastwsgi.WsgiApp:
    """``app`` behind :class:`TokenRoutes` on PostgreSQL (``fast.py``'s statements need it);
    ``app`` itself on SQLite or with ``DANCU_OIDC_TOKEN_FAST_PATH = False``."""
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql" or not getattr(
        settings, "DANCU_OIDC_TOKEN_FAST_PATH", True
    ):
        return app
    return TokenRoutes(app)
