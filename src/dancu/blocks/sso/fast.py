"""The token endpoint's hot path: client credentials and refresh in one statement on PostgreSQL.

django-oauth-toolkit runs every token request through oauthlib and the ORM: a refresh is 18 SQL
statements and ~9 ms of a core, client credentials ~3 ms. The two grants that machines call in a
loop have a fast path here that handles **only the successful case** and leaves everything else
to DOT, unchanged:

* the client is authenticated against a per-process copy of its row (id, secret hash, type, grant
  type, registered scopes) — HTTP Basic (RFC 6749 §2.3.1, form-encoded id and secret) or
  ``client_id``/``client_secret`` in the body, never both;
* the statement that issues the token repeats the copy's secret hash, grant type and scopes as
  conditions on the client's row, so a rotated secret, a changed registration or a deleted client
  is refused by the database at once in every process, however old the copy is (the copy is only
  there to avoid a query and an ORM object per request; a post-save signal drops it locally);
* **client credentials** (RFC 6749 §4.4): one ``INSERT … SELECT … WHERE`` the client is unchanged;
* **refresh** (RFC 6749 §6 with rotation; RFC 9700 §4.14.2): one statement revokes the presented
  refresh token (the row is locked by its ``UPDATE … WHERE revoked IS NULL``, so two concurrent
  uses cannot both succeed), deletes its access token, and inserts the new access and refresh
  tokens of the same family — the same rows DOT writes;
* anything else — a wrong secret, an unknown, revoked, reused, expired or foreign token, a public
  client, a ``scope`` or ``resource`` parameter on refresh, a scope outside the registration,
  duplicate parameters, a CORS request, SQLite — goes to DOT's validator. Errors (``invalid_client``,
  ``unauthorized_client``, ``invalid_scope``, ``invalid_grant``) and reuse detection (revoking the
  whole family) are therefore exactly DOT's; a refresh token consumed by a concurrent request fails
  the fast statement and then meets DOT's reuse detection.

Each statement is prepared once per connection (server-side, psycopg ``prepare=True``; ADR 0006)
and is its own transaction, committed with ``synchronous_commit`` off (ADR 0009 §9):
a crash of the database server may lose the last fraction of a second of issued tokens, which the
client then simply asks for again; revocations (RFC 7009, logout, consent withdrawal, reuse
detection) stay synchronous on DOT's path.

``DANCU_OIDC_TOKEN_FAST_PATH`` (default on) switches it off, e.g. to compare both paths in tests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_refresh_token_model,
    refresh_token_expire_timedelta,
)
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.signals import app_authorized
from oauthlib.common import UNICODE_ASCII_CHARACTER_SET

from dancu.blocks.sso.hashers import ClientSecretHasher
from dancu.blocks.sso.models import RelyingParty
from dancu.blocks.sso.validator import AUTH_KEY
from dancu.tokens import random_string

Application = get_application_model()
AccessToken = get_access_token_model()
RefreshToken = get_refresh_token_model()

_SCOPE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*")  # RFC 6749 §3.3
_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}
_CACHE_MAX = 4096


@dataclass(frozen=True)
class CachedClient:
    pk: int
    client_id: str
    secret_hash: str
    client_type: str
    grant_type: str
    scopes: str  # the relying party's registered scopes, as stored
    redirect_uris: str = ""  # the application's registered redirect URIs, space-separated


_clients: dict[str, CachedClient] = {}
_lock = threading.Lock()
_hasher = ClientSecretHasher()


def clear_cache(client_id: str | None = None) -> None:
    with _lock:
        if client_id is None:
            _clients.clear()
        else:
            _clients.pop(client_id, None)


def _on_application_change(sender: Any, instance: Any, **kwargs: Any) -> None:
    clear_cache(getattr(instance, "client_id", None))


def _on_relying_party_change(sender: Any, instance: Any, **kwargs: Any) -> None:
    clear_cache()  # rare (administration): forget every copy rather than look the client up


post_save.connect(_on_application_change, sender=Application, dispatch_uid="dancu.sso.fast.app.save")
post_delete.connect(_on_application_change, sender=Application, dispatch_uid="dancu.sso.fast.app.del")
post_save.connect(_on_relying_party_change, sender=RelyingParty, dispatch_uid="dancu.sso.fast.rp.save")
post_delete.connect(_on_relying_party_change, sender=RelyingParty, dispatch_uid="dancu.sso.fast.rp.del")


def _client(client_id: str) -> CachedClient | None:
    cached = _clients.get(client_id)
    if cached is not None:
        return cached
    if not client_id or "\x00" in client_id or len(client_id) > 100:
        return None
    row = (
        Application.objects.filter(client_id=client_id, relying_party__isnull=False)
        .values_list(
            "pk",
            "client_secret",
            "client_type",
            "authorization_grant_type",
            "relying_party__allowed_scopes",
            "redirect_uris",
        )
        .first()
    )
    if row is None:
        return None  # not remembered: it may be registered by another process a moment later
    entry = CachedClient(row[0], client_id, row[1], row[2], row[3], row[4], row[5])
    with _lock:
        if len(_clients) >= _CACHE_MAX:
            _clients.clear()
        _clients[client_id] = entry
    return entry


def _credentials(request: HttpRequest) -> tuple[str, str] | None:
    """(client_id, client_secret) from HTTP Basic or from the body, never both (RFC 6749 §2.3.1);
    None when the request should take DOT's path."""
    header = request.META.get("HTTP_AUTHORIZATION")
    body_id, body_secret = request.POST.get("client_id"), request.POST.get("client_secret")
    if header:
        if body_id is not None or body_secret is not None:
            return None
        scheme, _, value = header.partition(" ")
        if scheme != "Basic" or not value:
            return None
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            return None
        return unquote_plus(client_id), unquote_plus(secret)
    if body_id and body_secret:
        return body_id, body_secret
    return None


def _authenticated(request: HttpRequest, grant_type: str) -> CachedClient | None:
    creds = _credentials(request)
    if creds is None:
        return None
    client = _client(creds[0])
    if (
        client is None
        or client.client_type != Application.CLIENT_CONFIDENTIAL
        or client.grant_type != grant_type
        or not client.secret_hash.startswith(_hasher.algorithm + "$")
        or not _hasher.verify(creds[1], client.secret_hash)
    ):
        return None
    return client


def _response(data: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(json.dumps(data), status=200)
    for k, v in _HEADERS.items():
        response[k] = v
    return response


def _plain_form(request: HttpRequest, allowed: frozenset[str]) -> bool:
    """A form-encoded POST without query, duplicates, CORS or parameters we do not handle."""
    if request.GET or "HTTP_ORIGIN" in request.META:
        return False
    if request.content_type != "application/x-www-form-urlencoded":
        return False
    post = request.POST
    return all(k in allowed and len(post.getlist(k)) == 1 for k in post)


def _execute(sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """One row of ``sql``, run as a server-side prepared statement (psycopg ``prepare=True``: the
    plan, a third of the statement's PostgreSQL time, is made once per connection, as ADR 0006
    does for the registry look-up). Django's own cursors bind on the client and cannot prepare, so
    a psycopg cursor is opened on Django's connection, in its transaction state."""
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchone()


def _run(sql: str, params: dict[str, Any], commit_mode: str = "off") -> tuple[Any, ...] | None:
    """The statement's row, or None (no row, or refused by a constraint). On its own it is one
    transaction committed with ``commit_mode`` (asynchronously by default); inside a caller's
    transaction it runs in a savepoint with that transaction's commit mode."""
    try:
        if connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('synchronous_commit')")
                mode = cursor.fetchone()[0]
            with transaction.atomic():
                return _execute(sql, {**params, "commit_mode": mode})
        return _execute(sql, {**params, "commit_mode": commit_mode})
    except psycopg.Error as exc:
        if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
            connection.errors_occurred = True  # let Django drop a broken connection
        return None
    except DatabaseError:
        return None


_TOKEN_CHARS = UNICODE_ASCII_CHARACTER_SET  # oauthlib's alphabet: a-z, A-Z, 0-9 (62 characters)
_TOKEN_LENGTH = 30


def generate_token() -> str:
    """A token of oauthlib's form (``oauthlib.common.generate_token``: 30 characters of its
    62-character alphabet, ~178 bits, from the operating system's CSPRNG) at a fraction of its
    cost (``dancu.tokens.random_string``: one ``urandom`` call, rejection sampling, no modulo
    bias)."""
    return random_string(_TOKEN_CHARS, _TOKEN_LENGTH)


def enabled() -> bool:
    return bool(getattr(settings, "DANCU_OIDC_TOKEN_FAST_PATH", True)) and connection.vendor == "postgresql"


# --------------------------------------------------------------------------- client credentials
_CC_FIELDS = frozenset({"grant_type", "scope", "client_id", "client_secret"})


def _sql_client_credentials() -> str:
    at, app, rp = AccessToken._meta.db_table, Application._meta.db_table, RelyingParty._meta.db_table
    return f"""
        INSERT INTO {at} (token, expires, scope, application_id, user_id, created, updated,
                          source_refresh_token_id, id_token_id, token_checksum, resource)
        SELECT '', %(expires)s::timestamptz, %(scope)s::text, p.id, NULL, %(now)s::timestamptz,
               %(now)s::timestamptz, NULL, NULL, %(checksum)s::varchar, '[]'::jsonb
        FROM {app} p JOIN {rp} r ON r.application_id = p.id,
             (SELECT set_config('synchronous_commit', %(commit_mode)s, true)) AS cfg
        WHERE p.id = %(app_id)s::bigint AND p.client_secret = %(secret_hash)s
          AND p.client_type = %(client_type)s AND p.authorization_grant_type = %(grant_type)s
          AND r.allowed_scopes = %(allowed)s
        RETURNING id
    """  # noqa: S608 (table names from the models; values are parameters)


def client_credentials(request: HttpRequest) -> HttpResponse | None:
    """RFC 6749 §4.4.2–4.4.3 for an authenticated confidential machine client asking for scopes
    it is registered for; None for everything else (DOT answers)."""
    if not _plain_form(request, _CC_FIELDS):
        return None
    client = _authenticated(request, Application.GRANT_CLIENT_CREDENTIALS)
    if client is None:
        return None
    scope = request.POST.get("scope")
    if scope is None or scope == "":
        scopes: list[str] = []  # the validator's default scopes: none
    elif _SCOPE.fullmatch(scope) and set(scope.split(" ")) <= set(client.scopes.split()):
        scopes = scope.split(" ")
    else:
        return None
    token = generate_token()
    now = timezone.now()
    expires_in = int(oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)
    params = {
        "expires": now + timedelta(seconds=expires_in),
        "scope": " ".join(scopes),
        "now": now,
        "checksum": hashlib.sha256(token.encode()).hexdigest(),
        "app_id": client.pk,
        "secret_hash": client.secret_hash,
        "client_type": client.client_type,
        "grant_type": client.grant_type,
        "allowed": client.scopes,
    }
    row = _run(_sql_client_credentials(), params)
    if row is None:
        clear_cache(client.client_id)
        return None
    _signal(request, row[0])
    return _response(
        {"access_token": token, "expires_in": expires_in, "token_type": "Bearer", "scope": params["scope"]}
    )


# --------------------------------------------------------------------------- refresh
_RF_FIELDS = frozenset({"grant_type", "refresh_token", "client_id", "client_secret"})


def _sql_refresh() -> str:
    at, rt, app = AccessToken._meta.db_table, RefreshToken._meta.db_table, Application._meta.db_table
    return f"""
        WITH old AS (
            UPDATE {rt} r SET revoked = %(now)s, access_token_id = NULL, updated = %(now)s
            FROM {at} a, {app} p, (SELECT set_config('synchronous_commit', %(commit_mode)s, true)) AS cfg
            WHERE r.token_checksum = %(old)s AND r.revoked IS NULL AND r.application_id = %(app_id)s::bigint
              AND a.id = r.access_token_id AND a.expires > %(not_before)s
              AND p.id = r.application_id AND p.client_secret = %(secret_hash)s
              AND p.client_type = %(client_type)s AND p.authorization_grant_type = %(grant_type)s
            RETURNING r.id, r.user_id, r.token_family, r.resource, a.id AS at_id, a.scope
        ), gone AS (
            DELETE FROM {at} WHERE id IN (SELECT at_id FROM old)
        ), new_at AS (
            INSERT INTO {at} (token, expires, scope, application_id, user_id, created, updated,
                              source_refresh_token_id, id_token_id, token_checksum, resource)
            SELECT '', %(expires)s::timestamptz, old.scope, %(app_id)s::bigint, old.user_id,
                   %(now)s::timestamptz, %(now)s::timestamptz, old.id, NULL, %(at_checksum)s::varchar,
                   old.resource
            FROM old
            RETURNING id, scope
        ), new_rt AS (
            INSERT INTO {rt} (token, access_token_id, application_id, user_id, created, updated, revoked,
                              token_family, token_checksum, resource)
            SELECT '', new_at.id, %(app_id)s::bigint, old.user_id, %(now)s::timestamptz,
                   %(now)s::timestamptz, NULL::timestamptz, old.token_family, %(rt_checksum)s::varchar,
                   old.resource
            FROM old, new_at
            RETURNING id
        )
        SELECT new_at.id, new_at.scope FROM new_at, new_rt
    """  # noqa: S608 (table names from the models; values are parameters)


def refresh(request: HttpRequest) -> HttpResponse | None:
    """RFC 6749 §6 with rotation for an authenticated confidential client presenting its own live,
    unexpired refresh token without ``scope``/``resource``; None for everything else (DOT answers,
    including reuse detection)."""
    if not _plain_form(request, _RF_FIELDS) or not oauth2_settings.ROTATE_REFRESH_TOKEN:
        return None
    presented = request.POST.get("refresh_token", "")
    if not presented:
        return None
    client = _authenticated(request, Application.GRANT_AUTHORIZATION_CODE)
    if client is None:
        return None
    access, new_refresh = generate_token(), generate_token()
    now = timezone.now()
    expires_in = int(oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)
    lifetime = refresh_token_expire_timedelta()
    params = {
        "now": now,
        "old": hashlib.sha256(presented.encode()).hexdigest(),
        "app_id": client.pk,
        # DOT: a live refresh token dies REFRESH_TOKEN_EXPIRE_SECONDS after its access token expires.
        "not_before": now - lifetime if lifetime else now - timedelta(days=365 * 1000),
        "secret_hash": client.secret_hash,
        "client_type": client.client_type,
        "grant_type": client.grant_type,
        "expires": now + timedelta(seconds=expires_in),
        "at_checksum": hashlib.sha256(access.encode()).hexdigest(),
        "rt_checksum": hashlib.sha256(new_refresh.encode()).hexdigest(),
    }
    row = _run(_sql_refresh(), params)
    if row is None:
        clear_cache(client.client_id)
        return None
    _signal(request, row[0])
    return _response(
        {
            "access_token": access,
            "expires_in": expires_in,
            "token_type": "Bearer",
            "scope": row[1],
            "refresh_token": new_refresh,
        }
    )


# --------------------------------------------------------------------------- authorisation code
_AC_FIELDS = frozenset({"grant_type", "code", "redirect_uri", "code_verifier", "client_id", "client_secret"})
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")  # RFC 7636 §4.1
_CODE = re.compile(r"[\x21-\x7e]{1,255}")


def _sql_authorization_code() -> str:
    from oauth2_provider.models import get_grant_model, get_id_token_model

    from dancu.blocks.sso.models import RedeemedCode

    grant, idt = get_grant_model()._meta.db_table, get_id_token_model()._meta.db_table
    at, rt, app = AccessToken._meta.db_table, RefreshToken._meta.db_table, Application._meta.db_table
    rp, redeemed = RelyingParty._meta.db_table, RedeemedCode._meta.db_table
    return f"""
        WITH g AS (
            DELETE FROM {grant} g
            USING {app} p, {rp} r, (SELECT set_config('synchronous_commit', %(commit_mode)s, true)) AS cfg
            WHERE g.code = %(code)s AND g.application_id = %(app_id)s::bigint
              AND g.expires > %(now)s AND g.redirect_uri = %(redirect_uri)s
              AND g.code_challenge_method = 'S256' AND g.code_challenge = %(challenge)s
              AND (g.resource IS NULL OR g.resource = '[]'::jsonb)
              AND p.id = g.application_id AND p.client_secret = %(secret_hash)s
              AND p.client_type = %(client_type)s AND p.authorization_grant_type = %(grant_type)s
              AND r.application_id = p.id
            RETURNING g.user_id, g.scope, g.nonce, g.claims, r.sector_identifier, r.id_token_alg
        ), new_id AS (
            INSERT INTO {idt} (user_id, jti, application_id, expires, scope, created, updated)
            SELECT g.user_id, %(jti)s::uuid, %(app_id)s::bigint, %(id_expires)s::timestamptz, g.scope,
                   %(now)s::timestamptz, %(now)s::timestamptz
            FROM g WHERE 'openid' = ANY(string_to_array(g.scope, ' '))
            RETURNING id
        ), new_at AS (
            INSERT INTO {at} (token, expires, scope, application_id, user_id, created, updated,
                              source_refresh_token_id, id_token_id, token_checksum, resource)
            SELECT '', %(expires)s::timestamptz, g.scope, %(app_id)s::bigint, g.user_id,
                   %(now)s::timestamptz, %(now)s::timestamptz, NULL, (SELECT id FROM new_id),
                   %(at_checksum)s::varchar, '[]'::jsonb
            FROM g
            RETURNING id
        ), new_rt AS (
            INSERT INTO {rt} (token, access_token_id, application_id, user_id, created, updated, revoked,
                              token_family, token_checksum, resource)
            SELECT '', new_at.id, %(app_id)s::bigint, g.user_id, %(now)s::timestamptz,
                   %(now)s::timestamptz, NULL::timestamptz, %(family)s::uuid, %(rt_checksum)s::varchar,
                   '[]'::jsonb
            FROM g, new_at
            RETURNING id
        ), spent AS (
            INSERT INTO {redeemed} (digest, client_id, access_token_id, token_family, redeemed_at,
                                    replayed_at)
            SELECT %(digest)s::varchar, %(client_id)s::varchar, new_at.id, %(family)s::uuid,
                   %(now)s::timestamptz, NULL::timestamptz
            FROM new_at
            RETURNING id
        )
        SELECT new_at.id, g.user_id, g.scope, g.nonce, g.claims, g.sector_identifier, g.id_token_alg
        FROM g, new_at, new_rt, spent
    """  # noqa: S608 (table names from the models; values are parameters)


def authorization_code(request: HttpRequest) -> HttpResponse | None:
    """The code exchange (RFC 6749 §4.1.3–4.1.4; OpenID Connect Core 1.0 §3.1.3) for an
    authenticated confidential client presenting a live code it was issued, with the exact
    ``redirect_uri`` of the authorisation request and the PKCE verifier of its S256 challenge
    (RFC 7636 §4.5–4.6), for a grant bound to no resource (RFC 8707); None for everything else.

    One statement deletes the grant — only when every condition above holds, so a request that
    fails any of them changes nothing and meets DOT's validator, which gives its error (and, for a
    code already exchanged, revokes the tokens issued for it: ``validator.validate_code``) — and
    in the same transaction stores the ID token's row, the access and refresh tokens (a new token
    family) and the redeemed code's digest, exactly the rows of DOT's path
    (``validator.invalidate_authorization_code``). The ``DELETE`` locks the grant: of two requests
    presenting one code, the second finds no row and goes to DOT, where it is a replay. The
    transaction commits synchronously (a code cannot be asked for twice; ADR 0009 §14). The ID
    token carries the claims of ``Validator.finalize_id_token`` (with oauthlib's ``aud``,
    ``iat``, ``nonce`` and ``at_hash``), signed after the statement with the relying party's
    algorithm."""
    if not _plain_form(request, _AC_FIELDS):
        return None
    post = request.POST
    code, redirect_uri, verifier = (
        post.get("code", ""),
        post.get("redirect_uri", ""),
        post.get("code_verifier", ""),
    )
    if not _CODE.fullmatch(code) or not redirect_uri or not _VERIFIER.fullmatch(verifier):
        return None
    client = _authenticated(request, Application.GRANT_AUTHORIZATION_CODE)
    if client is None:
        return None
    from dancu.blocks.sso import keys
    from dancu.blocks.sso.subjects import pairwise_sub

    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=")
    access, new_refresh = generate_token(), generate_token()
    now = timezone.now()
    expires_in = int(oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)
    id_expires = now + timedelta(seconds=int(oauth2_settings.ID_TOKEN_EXPIRE_SECONDS))
    jti = str(uuid.uuid4())
    params = {
        "code": code,
        "app_id": client.pk,
        "now": now,
        "redirect_uri": redirect_uri,
        "challenge": challenge.decode("ascii"),
        "secret_hash": client.secret_hash,
        "client_type": client.client_type,
        "grant_type": client.grant_type,
        "jti": jti,
        "id_expires": id_expires,
        "expires": now + timedelta(seconds=expires_in),
        "at_checksum": hashlib.sha256(access.encode()).hexdigest(),
        "rt_checksum": hashlib.sha256(new_refresh.encode()).hexdigest(),
        "family": str(uuid.uuid4()),
        "digest": hashlib.sha256(code.encode()).hexdigest(),
        "client_id": client.client_id,
    }
    row = _run(_sql_authorization_code(), params, commit_mode="on")
    if row is None:
        return None
    at_id, user_id, scope, nonce, claims, sector, alg = row
    body: dict[str, Any] = {
        "access_token": access,
        "expires_in": expires_in,
        "token_type": "Bearer",
        "scope": scope,
        "refresh_token": new_refresh,
    }
    if "openid" in scope.split(" "):
        id_token: dict[str, Any] = {"aud": client.client_id, "iat": int(time.time())}
        if nonce:
            id_token["nonce"] = nonce
        digest = hashlib.sha256(access.encode()).digest()
        id_token["at_hash"] = base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")
        id_token["sub"] = pairwise_sub(sector, user_id)
        if isinstance(claims, str):
            claims = json.loads(claims) if claims else {}
        auth = claims.get(AUTH_KEY) if isinstance(claims, dict) else None
        if auth:
            id_token["auth_time"] = int(auth["auth_time"])
            id_token["acr"] = auth["acr"]
            id_token["amr"] = list(auth["amr"])
        id_token.update(
            iss=str(settings.DANCU_OIDC_ISSUER).rstrip("/"), exp=int(id_expires.timestamp()), jti=jti
        )
        body["id_token"] = keys.sign(id_token, alg if alg in keys.ALGS else keys.ALG)
    _signal(request, at_id)
    return _response(body)


def _signal(request: HttpRequest, access_token_id: int) -> None:
    """DOT's ``app_authorized`` after a token is issued, when anyone listens (nobody does here)."""
    if app_authorized.has_listeners():
        app_authorized.send(sender=None, request=request, token=AccessToken.objects.get(pk=access_token_id))
