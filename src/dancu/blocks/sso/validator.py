"""django-oauth-toolkit's request validator, made strict for this provider.

* redirect URIs match a registered one exactly, character for character (RFC 6749 §3.1.2.3,
  RFC 9700 §4.1.3) — DOT's relaxation of loopback ports (RFC 8252 §7.3) is not applied;
* PKCE is required (settings) and only ``S256`` is accepted (RFC 7636 §4.2, RFC 9700 §2.1.1);
* a ``nonce`` is bound to one authorisation code of a client, never two (OpenID Connect Core 1.0
  §3.1.2.1, §15.5.2);
* scopes are limited to those the relying party is registered for (RFC 6749 §3.3);
* ``sub`` is pairwise (OpenID Connect Core 1.0 §8.1) and the ID token carries ``acr``, ``amr`` and
  ``auth_time`` of the log-in that authorised the code (§2), signed RS256 (or ES256 for the
  relying parties registered for it) with the provider's rotating keys (``keys.py``);
* userinfo releases only the claims the relying party is registered for, through the audited
  registry read (``services.release_claims``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from jwcrypto import jws
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_refresh_token_model,
)
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import UNICODE_ASCII_CHARACTER_SET
from oauthlib.oauth2.rfc6749 import errors

from dancu.blocks.sso import keys
from dancu.blocks.sso.claims import claims_for
from dancu.blocks.sso.hashers import ClientSecretHasher
from dancu.blocks.sso.models import RedeemedCode, RelyingParty, UsedNonce
from dancu.blocks.sso.subjects import pairwise_sub
from dancu.precompiled import Insert, Select, column_list, instance, model_columns, quote

Application = get_application_model()
Grant = get_grant_model()
log = logging.getLogger(__name__)
AUTH_KEY = "dancu_auth"  # the log-in context travels with the grant under this key
# The ID token this thread signed last (the validator is shared by the threads of a process).
_just_issued = threading.local()


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def revoke_tokens_of_replayed_code(code: str) -> bool:
    """A code presented again after it was exchanged: revoke the access token issued for it and
    every refresh token of the family issued with it (each with its access token), and mark the
    code replayed. True when ``code`` was a redeemed code (RFC 6749 §4.1.2: the server "SHOULD
    revoke (when possible) all tokens previously issued based on that authorization code")."""
    with transaction.atomic():
        row = RedeemedCode.objects.select_for_update().filter(digest=code_digest(code)).first()
        if row is None:
            return False
        get_refresh_token_model().revoke_family(row.token_family)
        if row.access_token_id is not None:
            get_access_token_model().objects.filter(pk=row.access_token_id).delete()
        if row.replayed_at is None:
            row.replayed_at = timezone.now()
            row.save(update_fields=["replayed_at"])
    log.warning("sso.code_replayed client_id=%s tokens_revoked", row.client_id)
    return True


def nonce_digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def nonce_used(client_id: str, nonce: str) -> bool:
    table = UsedNonce._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE client_id = %s AND digest = %s LIMIT 1",  # noqa: S608
            [client_id, nonce_digest(nonce)],
        )
        return cursor.fetchone() is not None


def take_nonce(client_id: str, nonce: str) -> bool:
    """Record ``nonce`` as used by ``client_id``; False when it already was (the unique
    constraint on (client, digest) refuses the second row, even under concurrency)."""
    table = UsedNonce._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (client_id, digest, used_at) VALUES (%s, %s, %s)"  # noqa: S608
            " ON CONFLICT DO NOTHING RETURNING id",
            [client_id, nonce_digest(nonce), connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        return cursor.fetchone() is not None


_APP_COLUMNS = model_columns("a", Application)
_RP_COLUMNS = model_columns("r", RelyingParty)
_APPLICATION = Select(
    lambda: (
        f"SELECT {column_list(_APP_COLUMNS + _RP_COLUMNS)} FROM {quote(Application._meta.db_table)} a"  # noqa: S608
        f" LEFT JOIN {quote(RelyingParty._meta.db_table)} r"
        f" ON r.{quote(RelyingParty._meta.get_field('application').column)} = a.{quote('id')}"
        f" WHERE a.{quote('client_id')} = %s"
    ),
    _APP_COLUMNS + _RP_COLUMNS,
)


def load_application(client_id: str) -> Any:
    """``Application.objects.select_related("relying_party").get(client_id=…)`` in a statement
    compiled once (``dancu.precompiled``: the ORM's compilation was a millisecond and a half of the
    authorisation request's CPU); None for an unknown client, or an id the database cannot even
    compare (a NUL byte)."""
    if not client_id or "\x00" in client_id:
        return None
    values = _APPLICATION.first([client_id])
    if values is None:
        return None
    n = len(_APP_COLUMNS)
    app = instance(Application, values[:n])
    related = Application._meta.get_field("relying_party")
    if values[n] is None:
        related.set_cached_value(app, None)
    else:
        rp = instance(RelyingParty, values[n:])
        related.set_cached_value(app, rp)
        RelyingParty._meta.get_field("application").set_cached_value(rp, app)
    return app


# The grant's row as DOT's ``_create_authorization_code`` writes it (``dancu.precompiled``).
_NEW_GRANT = Insert(
    Grant,
    [
        "application_id",
        "user_id",
        "code",
        "expires",
        "redirect_uri",
        "scope",
        "code_challenge",
        "code_challenge_method",
        "nonce",
        "claims",
        "resource",
        "created",
        "updated",
    ],
)


def store_authorization_code(
    *,
    client_pk: int,
    client_id: str,
    user_id: int,
    redirect_uri: str,
    scopes: list[str],
    code_challenge: str,
    code_challenge_method: str,
    nonce: str,
    auth: dict[str, Any] | None,
    resource: list[str],
) -> str | None:
    """A new authorisation code (RFC 6749 §4.1.2: 30 characters from the CSPRNG, valid
    ``AUTHORIZATION_CODE_EXPIRE_SECONDS``) stored as DOT's ``_create_authorization_code`` stores
    it, with the log-in context (``AUTH_KEY``) and the resource indicators; the nonce is taken
    first, and None is returned when this client used it before (OpenID Connect Core 1.0
    §15.5.2). The caller has validated the request (client, redirect URI, S256 PKCE, scopes)."""
    from dancu.tokens import random_string

    if nonce and not take_nonce(client_id, nonce):
        return None
    code = random_string(UNICODE_ASCII_CHARACTER_SET, 30)
    now = timezone.now()
    _NEW_GRANT.run(
        [
            client_pk,
            user_id,
            code,
            now + timedelta(seconds=oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS),
            redirect_uri,
            " ".join(scopes),
            code_challenge,
            code_challenge_method,
            nonce,
            json.dumps({AUTH_KEY: auth} if auth else {}),
            resource,
            now,
            now,
        ]
    )
    return code


def relying_party(client: Any) -> RelyingParty | None:
    """The profile of ``client`` (loaded with it by :meth:`Validator._load_application`)."""
    if client is None:
        return None
    try:
        rp: RelyingParty = client.relying_party
    except RelyingParty.DoesNotExist:
        return None
    return rp


class Validator(OAuth2Validator):
    # ---------------------------------------------------------------- clients and requests
    def _check_secret(self, provided_secret: str, stored_secret: str) -> bool:
        """Client secrets stored with the fast keyed hasher (``hashers.py``, ADR 0009)."""
        hasher = ClientSecretHasher()
        if stored_secret.startswith(hasher.algorithm + "$"):
            return bool(provided_secret) and hasher.verify(provided_secret, stored_secret)
        return bool(super()._check_secret(provided_secret, stored_secret))

    def _load_application(self, client_id: str, request: Any) -> Any:
        """The client and its relying-party profile in one query (:func:`load_application`);
        dynamic registration and client metadata documents are off in this provider."""
        client = request.client
        if client is not None and getattr(client, "client_id", None) == client_id:
            return client
        client = load_application(client_id)
        request.client = client
        return client

    def validate_client_id(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        """Only clients registered with a relying-party profile exist for this provider."""
        return super().validate_client_id(client_id, request) and relying_party(request.client) is not None

    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """Exact string comparison with a registered URI (RFC 6749 §3.1.2.3; RFC 9700 §4.1.3)."""
        return bool(redirect_uri) and redirect_uri in request.client.redirect_uris.split()

    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        """Only scopes the relying party is registered for (RFC 6749 §3.3)."""
        rp = relying_party(client)
        return rp is not None and set(scopes) <= rp.scopes

    def validate_silent_login(self, request: Any) -> bool:
        """``prompt=none``: the authorisation view answers ``login_required`` itself when there is
        no log-in (OpenID Connect Core 1.0 §3.1.2.6)."""
        return True

    def validate_silent_authorization(self, request: Any) -> bool:
        """``prompt=none``: the view answers ``consent_required`` itself when consent is missing."""
        return True

    def get_default_scopes(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> list[str]:
        return []

    def save_authorization_code(
        self, client_id: str, code: dict[str, str], request: Any, *args: Any, **kwargs: Any
    ) -> None:
        """Store the grant with the log-in context; refuse ``plain`` PKCE (RFC 7636 §4.2) and a
        nonce this client used before (OpenID Connect Core 1.0 §15.5.2)."""
        if request.code_challenge_method != "S256" or not request.code_challenge:
            raise errors.InvalidRequestError(description="PKCE with S256 is required.", request=request)
        auth = getattr(request, AUTH_KEY, None)
        request.claims = {AUTH_KEY: auth} if auth else {}
        # The nonce is taken first, by one ``INSERT … ON CONFLICT DO NOTHING`` (the unique
        # constraint decides between concurrent requests; no transaction or savepoint needed):
        # a grant that then fails to be stored leaves the nonce spent, which only refuses more.
        if request.nonce and not take_nonce(client_id, request.nonce):
            raise errors.InvalidRequestError(description="nonce already used.", request=request)
        self._create_authorization_code(request, code)

    # ---------------------------------------------------------------- the code at the token endpoint
    # DOT reads the grant row up to six times per token request (validate_code, confirm_redirect_uri,
    # the PKCE challenge and method, scopes, nonce); it is read once per request here, with its user.
    def _grant(self, code: str, request: Any, client: Any = None) -> Any:
        cached = getattr(request, "_dancu_grant", None)
        if cached is None or cached[0] != code:
            grant = Grant.objects.select_related("user").filter(code=code).first() if code else None
            cached = (code, grant)
            request._dancu_grant = cached
        grant = cached[1]
        if client is not None and (grant is None or grant.application_id != client.pk):
            return None
        return grant

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        grant = self._grant(code, request, client)
        if grant is None:
            if code:
                revoke_tokens_of_replayed_code(code)
            return False
        if grant.is_expired():
            return False
        request.scopes = grant.scope.split(" ")
        request.user = grant.user
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            request.claims = json.loads(grant.claims)
        return True

    def _check_and_set_request_resource(self, request: Any) -> None:
        """DOT's RFC 8707 handling, without reading the grant again for the common code exchange
        that names no ``resource`` (the grant read once by :meth:`_grant` gives the resources it
        was issued for, validated as DOT does); every other case is DOT's."""
        if request.grant_type == "authorization_code" and not getattr(request, "resource", None):
            grant = self._grant(request.code, request, request.client)
            inherited = (grant.resource or []) if grant is not None else []
            request.resource = []
            if inherited:
                self._validate_resource_uris(request, inherited)
                request.resource = inherited
            return
        super()._check_and_set_request_resource(request)

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        """Delete the grant as DOT does, and remember the code's digest with the tokens just issued
        for it, so that a replay revokes them (RFC 6749 §4.1.2). oauthlib calls this after
        ``save_bearer_token``, in the token request's transaction (``views.Token``).

        The grant's ``DELETE`` decides between concurrent requests presenting the same code (RFC
        6749 §4.1.2: a code is used once): the one that deletes no row gets ``invalid_grant``, and
        its transaction is rolled back, so the ID token and the token pair it had stored are not
        kept either."""
        deleted, _ = Grant.objects.filter(code=code, application=request.client).delete()
        if not deleted:
            if connection.in_atomic_block:
                transaction.set_rollback(True)
            raise errors.InvalidGrantError(request=request)
        access = getattr(request, "_dancu_issued_access", None)
        refresh = getattr(request, "_dancu_issued_refresh", None)
        RedeemedCode.objects.create(
            digest=code_digest(code),
            client_id=client_id,
            access_token_id=access.pk if access is not None else None,
            token_family=getattr(refresh, "token_family", None),
        )

    def save_bearer_token(self, token: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        """DOT's, without its own transaction inside the code exchange's (``views.Token``): a
        savepoint would cost two statements and add nothing — the pair is
        two inserts, and the outer transaction commits or rolls it back with the rest. Every
        other grant (refresh on DOT's path: a row lock, reuse detection) keeps DOT's."""
        if request.grant_type == "authorization_code" and connection.in_atomic_block:
            return self._save_bearer_token(token, request, *args, **kwargs)
        return super().save_bearer_token(token, request, *args, **kwargs)

    def _create_access_token(
        self, expires: Any, request: Any, token: Any, source_refresh_token: Any = None
    ) -> Any:
        access = super()._create_access_token(expires, request, token, source_refresh_token)
        request._dancu_issued_access = access
        return access

    def _create_refresh_token(
        self, request: Any, refresh_token_code: Any, access_token: Any, previous_refresh_token: Any
    ) -> Any:
        refresh = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous_refresh_token
        )
        request._dancu_issued_refresh = refresh
        return refresh

    def confirm_redirect_uri(
        self, client_id: str, code: str, redirect_uri: str, client: Any, *args: Any, **kwargs: Any
    ) -> bool:
        request = kwargs.get("request") or (args[0] if args else None)
        grant = self._grant(code, request, client) if request is not None else None
        if grant is None:
            grant = Grant.objects.filter(code=code, application=client).first()
        return grant is not None and bool(grant.redirect_uri_allowed(redirect_uri))

    def get_code_challenge(self, code: str, request: Any) -> str | None:
        grant = self._grant(code, request, request.client)
        if grant is None:
            raise Grant.DoesNotExist
        return grant.code_challenge or None

    def get_code_challenge_method(self, code: str, request: Any) -> str | None:
        grant = self._grant(code, request, request.client)
        if grant is None:
            raise Grant.DoesNotExist
        return grant.code_challenge_method or None

    def get_authorization_code_scopes(
        self, client_id: str, code: str, redirect_uri: str, request: Any
    ) -> list[str]:
        grant = self._grant(code, request)
        return grant.scope.strip().split(" ") if grant is not None and grant.scope else []

    def get_authorization_code_nonce(
        self, client_id: str, code: str, redirect_uri: str, request: Any
    ) -> str | None:
        grant = self._grant(code, request)
        return (grant.nonce or None) if grant is not None else None

    # ---------------------------------------------------------------- tokens
    def get_oidc_issuer_endpoint(self, request: Any) -> str:
        """The issuer is the configured site root (``DANCU_OIDC_ISSUER``), never taken from the
        request's Host header (OpenID Connect Discovery 1.0 §3, §4.3)."""
        from django.conf import settings

        return str(settings.DANCU_OIDC_ISSUER).rstrip("/")

    def refresh_id_token(self, request: Any) -> bool:
        """A refreshed token response carries no new ID token (OpenID Connect Core 1.0 §12.2)."""
        return False

    def get_claim_dict(self, request: Any) -> dict[str, Any]:
        rp = relying_party(request.client)
        return {"sub": pairwise_sub(rp.sector_identifier if rp else "", request.user.pk)}

    def get_discovery_claims(self, request: Any) -> list[str]:
        from dancu.blocks.sso.claims import CLAIMS

        return ["sub", "acr", "amr", "auth_time", *CLAIMS]

    def get_id_token_dictionary(
        self, token: Any, token_handler: Any, request: Any
    ) -> tuple[dict[str, Any], Any]:
        """``iss``, ``sub``, ``exp``, ``auth_time``, ``acr``, ``amr`` (OpenID Connect Core 1.0 §2);
        the claims of the scopes are released by userinfo only (§5.4, least data)."""
        claims: dict[str, Any] = self.get_claim_dict(request)
        expires = timezone.now() + timedelta(seconds=oauth2_settings.ID_TOKEN_EXPIRE_SECONDS)
        auth = (request.claims or {}).get(AUTH_KEY) if isinstance(request.claims, dict) else None
        if auth:
            claims["auth_time"] = int(auth["auth_time"])
            claims["acr"] = auth["acr"]
            claims["amr"] = list(auth["amr"])
        claims.update(
            iss=self.get_oidc_issuer_endpoint(request),
            exp=int(expires.timestamp()),
            jti=str(uuid.uuid4()),
        )
        return claims, expires

    def finalize_id_token(
        self, id_token: dict[str, Any], token: Any, token_handler: Any, request: Any
    ) -> str:
        """Sign with the active key of the algorithm the relying party is registered for (RS256 by
        default, or ES256), ``kid`` in the header; never ``alg: none``, never another algorithm."""
        claims, expires = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:
            id_token["nonce"] = request.nonce
        rp = relying_party(request.client)
        alg = rp.id_token_alg if rp is not None and rp.id_token_alg in keys.ALGS else keys.ALG
        serialized = keys.sign(id_token, alg)
        request.id_token = self._save_id_token(id_token["jti"], request, expires)
        request.access_token = request.id_token
        _just_issued.value = (serialized, request.id_token, time.monotonic())
        return serialized

    def _load_id_token(self, token: str) -> Any:
        """The ID token row of ``token``: the one this thread has just signed and stored is taken
        as it is (DOT would verify our own signature and read the row back); any other token is
        verified and looked up by DOT."""
        issued = getattr(_just_issued, "value", None)
        _just_issued.value = None
        if issued is not None and issued[0] == token and time.monotonic() - issued[2] < 5:
            return issued[1]
        return super()._load_id_token(token)

    def _get_key_for_token(self, token: str) -> Any:
        """The published key named by the token's ``kid`` (ID tokens presented back to us, e.g. as
        ``id_token_hint``); a token with an algorithm we do not sign with, an unknown key, or a key
        of the other kind than its ``alg`` has none."""
        unverified = jws.JWS()
        unverified.deserialize(token)
        header = unverified.jose_header
        if not isinstance(header, dict) or header.get("alg") not in keys.ALGS:
            return None
        return keys.verification_key(header.get("kid"), header["alg"])

    def _load_access_token(self, token: str) -> Any:
        """DOT's look-up by checksum, with the relying-party profile joined (userinfo needs it)."""
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        return (
            get_access_token_model()
            .objects.select_related("application", "application__relying_party", "user")
            .filter(token_checksum=checksum)
            .first()
        )

    # ---------------------------------------------------------------- userinfo
    def get_userinfo_claims(self, request: Any) -> dict[str, Any]:
        """``sub`` and the claims of the token's scopes the relying party is registered for, read
        with its purpose (OpenID Connect Core 1.0 §5.3, §5.4)."""
        from dancu.blocks.sso.services import release_claims

        token = request.access_token
        rp = relying_party(token.application)
        out: dict[str, Any] = {"sub": pairwise_sub(rp.sector_identifier if rp else "", token.user_id)}
        if rp is None or token.user is None:
            return out
        wanted = claims_for(token.scope.split(), rp.claims)
        out.update(release_claims(rp, token.user, wanted))
        return out
