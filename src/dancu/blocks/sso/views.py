"""The provider's endpoints: discovery, JWKS, authorisation (log-in, step-up, consent), token,
userinfo, revocation, introspection and RP-initiated logout.

Thin views over django-oauth-toolkit (which runs oauthlib with :class:`validator.Validator`) and
the block's service functions.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render, resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider.exceptions import (
    FatalClientError,
    InvalidOIDCClientError,
    InvalidOIDCRedirectURIError,
    OAuthToolkitError,
)
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import is_valid_resource_uri
from oauth2_provider.signals import app_authorized
from oauth2_provider.views import RevokeTokenView, TokenView, UserInfoView
from oauth2_provider.views.mixins import OAuthLibMixin
from oauth2_provider.views.oidc import RPInitiatedLogoutView
from oauthlib.common import Request as OAuthRequest
from oauthlib.common import add_params_to_uri

from dancu.blocks.eid import assurance
from dancu.blocks.sso import fast, keys
from dancu.blocks.sso.claims import CLAIMS, SCOPES, claims_for
from dancu.blocks.sso.models import RelyingParty
from dancu.blocks.sso.services import consent_covers, grant_consent
from dancu.blocks.sso.subjects import pairwise_sub
from dancu.blocks.sso.validator import AUTH_KEY, nonce_used, relying_party, store_authorization_code

PENDING_KEY = "dancu.sso.pending"
REAUTH_KEY = "dancu.sso.reauth"
MAX_RESOURCES = 4  # resource indicators per authorisation request (RFC 8707 §2)


def issuer() -> str:
    return str(settings.DANCU_OIDC_ISSUER).rstrip("/")


def _url(name: str) -> str:
    return issuer() + reverse(name)


# --------------------------------------------------------------------------- discovery
@never_cache
def discovery(request: HttpRequest) -> JsonResponse:
    """OpenID Connect Discovery 1.0 §3 provider metadata."""
    data = {
        "issuer": issuer(),
        "authorization_endpoint": _url("sso:authorize"),
        "token_endpoint": _url("sso:token"),
        "userinfo_endpoint": _url("sso:userinfo"),
        "jwks_uri": _url("sso:jwks"),
        "revocation_endpoint": _url("sso:revoke"),
        "introspection_endpoint": _url("sso:introspect"),
        "end_session_endpoint": _url("sso:logout"),
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": list(keys.ALGS),
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", *CLAIMS],
        "acr_values_supported": list(assurance.ACR_ORDER),
        "prompt_values_supported": ["none", "login"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "ui_locales_supported": ["vi", "en"],
    }
    response = JsonResponse(data)
    response["Access-Control-Allow-Origin"] = "*"
    return response


def jwks(request: HttpRequest) -> JsonResponse:
    """The public signing keys (RFC 7517 §5): the active one and those in their grace period."""
    response = JsonResponse({"keys": keys.published()})
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={int(keys.CACHE_SECONDS)}"
    return response


# --------------------------------------------------------------------------- authorisation
def _error_redirect(
    redirect_uri: str, error: str, description: str, state: str | None
) -> HttpResponseRedirect:
    """An error back to the relying party (RFC 6749 §4.1.2.1), with ``iss`` (RFC 9207)."""
    params = {"error": error, "error_description": description, "iss": issuer()}
    if state:
        params["state"] = state
    sep = "&" if "?" in redirect_uri else "?"
    response = HttpResponseRedirect(redirect_uri + sep + urlencode(params))
    return response


def _error_page(request: HttpRequest, error: str, description: str, status: int = 400) -> HttpResponse:
    return render(request, "sso/error.html", {"error": error, "description": description}, status=status)


def _required_acr(requested: list[str], rp: RelyingParty) -> tuple[list[str], bool]:
    """The acr values to satisfy (any one of them) and whether the request is satisfiable at all
    (OpenID Connect Core 1.0 §3.1.2.1 ``acr_values``; the RP's registered minimum always applies:
    each requested value is raised to the lowest value satisfying both it and the minimum —
    ``assurance.join``, the order being partial since ADR 0017 §11)."""
    floor = rp.min_acr if assurance.rank(rp.min_acr) >= 0 else ""
    known = [v for v in requested if assurance.rank(v) >= 0]
    if requested and not known:
        return [], False
    wanted = list(dict.fromkeys(assurance.join(v, floor) if floor else v for v in known))
    if not wanted and floor:
        wanted = [floor]
    return wanted, True


def _request_key(request: HttpRequest) -> str:
    return hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]


@method_decorator(never_cache, name="dispatch")
class AuthorizeView(OAuthLibMixin, View):
    """The authorisation endpoint (RFC 6749 §4.1.1; OpenID Connect Core 1.0 §3.1.2): validate the
    request, then log-in, step-up and consent as needed, then issue the code."""

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as exc:
            return self._toolkit_error(request, exc)
        redirect_uri = credentials["redirect_uri"]
        state = credentials.get("state")
        request_obj = credentials.get("request")
        rp = relying_party(getattr(request_obj, "client", None))
        if rp is None:
            return _error_page(request, "unauthorized_client", "unknown client")

        def fail(error: str, description: str) -> HttpResponse:
            return _error_redirect(redirect_uri, error, description, state)

        if credentials.get("code_challenge_method") != "S256" or not credentials.get("code_challenge"):
            return fail("invalid_request", "PKCE with code_challenge_method=S256 is required (RFC 7636)")
        nonce = credentials.get("nonce") or ""
        if "openid" in scopes and not nonce:
            return fail("invalid_request", "nonce is required")
        if nonce and nonce_used(credentials["client_id"], nonce):
            return fail("invalid_request", "nonce already used")
        # RFC 8707 §2: resource indicators, each an absolute URI without a fragment, at most a few;
        # oauthlib keeps only the last one and as a string, so the list is taken from the query
        # (the grant, and every token of it, is bound to these: the gateway checks, ADR 0010 §23).
        resources = request.GET.getlist("resource")
        credentials.pop("resource", None)
        if resources:
            if len(resources) > MAX_RESOURCES or not all(
                len(r) <= 255 and is_valid_resource_uri(r) for r in resources
            ):
                return fail(
                    "invalid_target",
                    f"resource: at most {MAX_RESOURCES} absolute URIs with a scheme and host, "
                    "without a fragment (RFC 8707 §2)",
                )
            credentials["resource"] = resources
        wanted, satisfiable = _required_acr(request.GET.get("acr_values", "").split(), rp)
        if not satisfiable:
            return fail("unmet_authentication_requirements", "requested acr values are not supported")
        prompt = set(request.GET.get("prompt", "").split())
        if "none" in prompt and len(prompt) > 1:
            return fail("invalid_request", "prompt=none cannot be combined")

        # Log-in (and re-authentication for prompt=login / max_age, OpenID Connect Core §3.1.2.1).
        user = request.user
        have = assurance.load(request.session, user.pk) if user.is_authenticated else None
        reauth = request.session.get(REAUTH_KEY, {}).get(_request_key(request))
        needs_login = have is None
        if have is not None and ("login" in prompt or request.GET.get("max_age", "").isdigit()):
            fresh_since = reauth if reauth is not None else None
            if "login" in prompt:
                needs_login = fresh_since is None or have.auth_time < fresh_since
            if not needs_login and request.GET.get("max_age", "").isdigit():
                max_age = int(request.GET["max_age"])
                if assurance.now() - have.auth_time > max_age:
                    needs_login = fresh_since is None or have.auth_time < fresh_since
        if needs_login:
            if "none" in prompt:
                return fail("login_required", "the end-user is not logged in")
            if reauth is not None and have is not None:
                # Back from the log-in page without a new log-in: do not loop.
                return fail("login_required", "re-authentication did not happen")
            if have is not None or "login" in prompt or request.GET.get("max_age", "").isdigit():
                # Only a re-authentication needs the mark (the log-in must be newer than it); an
                # anonymous visitor's plain request is sent to log in without writing a session.
                self._mark_reauth(request)
            return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))

        if have is None:  # not reached: no assurance means a log-in was asked for above
            return fail("login_required", "no log-in")
        user_id = int(have.user_id)

        # Step-up (RFC 9470 §3, OpenID Connect Core 1.0 §3.1.2.1 acr_values).
        if wanted and not assurance.satisfies(have.acr, wanted):
            # What a second factor can give this account; an acr it cannot reach online (level 2
            # for a level-1 account, a chip-verified level 2 for one raised on the passport's MRZ,
            # ADR 0017 §11) is refused, never stepped up.
            best = have.best
            if not assurance.satisfies(best, wanted):
                return fail(
                    "unmet_authentication_requirements", "this account cannot reach the requested acr"
                )
            if "none" in prompt:
                return fail("interaction_required", "step-up authentication is required")
            key = _request_key(request)
            if request.session.get(REAUTH_KEY, {}).get("step:" + key):
                return fail("unmet_authentication_requirements", "step-up was not completed")
            self._mark_reauth(request, "step:" + key)
            target = min((w for w in wanted if assurance.satisfies(best, [w])), key=assurance.rank)
            try:
                step_up = reverse("citizen:step_up")
            except NoReverseMatch:
                step_up = resolve_url(settings.LOGIN_URL)
            return HttpResponseRedirect(
                step_up + "?" + urlencode({"next": request.get_full_path(), "acr": target})
            )

        # Consent (OpenID Connect Core 1.0 §3.1.2.4).
        claims = claims_for(scopes, rp.claims)
        auth = {"acr": have.acr, "amr": list(have.amr), "auth_time": have.auth_time}
        if rp.first_party or consent_covers(user_id, rp, scopes, claims):
            return self._issue(request, scopes, credentials, auth, client=request_obj.client)
        if "none" in prompt:
            return fail("consent_required", "consent is required")
        pending_id = secrets.token_urlsafe(16)
        pending = request.session.get(PENDING_KEY, {})
        if len(pending) > 10:
            pending = dict(list(pending.items())[-10:])
        pending[pending_id] = {
            "user_id": user_id,
            "scopes": scopes,
            "credentials": {
                k: v for k, v in credentials.items() if k != "request" and isinstance(v, (str, list))
            },
            "auth": auth,
            "claims": claims,
            "at": int(time.time()),
        }
        request.session[PENDING_KEY] = pending
        return render(
            request,
            "sso/consent.html",
            {
                "rp": rp,
                "pending_id": pending_id,
                "claims": [CLAIMS[c] for c in claims],
                "scopes": scopes,
            },
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        """The consent form (CSRF-protected by the middleware; the request itself is the one
        validated on GET, kept in the session, never taken from the form)."""
        pending = request.session.get(PENDING_KEY, {})
        item = pending.pop(request.POST.get("pending", ""), None)
        request.session[PENDING_KEY] = pending
        if item is None or not request.user.is_authenticated or item["user_id"] != request.user.pk:
            return _error_page(request, "invalid_request", "this consent request has expired")
        if time.time() - item["at"] > 600:
            return _error_page(request, "invalid_request", "this consent request has expired")
        credentials = dict(item["credentials"])
        if request.POST.get("allow") != "yes":
            return _error_redirect(
                credentials["redirect_uri"], "access_denied", "the end-user refused", credentials.get("state")
            )
        rp = RelyingParty.objects.get(application__client_id=credentials["client_id"])
        grant_consent(request.user.pk, rp, item["scopes"], item["claims"])
        return self._issue(request, item["scopes"], credentials, item["auth"])

    # ------------------------------------------------------------------
    def _mark_reauth(self, request: HttpRequest, key: str | None = None) -> None:
        marks = request.session.get(REAUTH_KEY, {})
        if len(marks) > 20:
            marks = {}
        marks[key or _request_key(request)] = assurance.now()
        request.session[REAUTH_KEY] = marks

    def _issue(
        self,
        request: HttpRequest,
        scopes: list[str],
        credentials: dict[str, Any],
        auth: dict[str, Any],
        client: Any = None,
    ) -> HttpResponse:
        """The code (oauthlib validates the request once more). ``client``: the application this
        same request loaded and validated, handed to the validator so that it is not read again
        (``Validator._load_application`` takes it only for the same ``client_id``)."""
        creds = {k: v for k, v in credentials.items() if k != "request"}
        creds[AUTH_KEY] = auth
        if client is not None:
            creds["client"] = client
        key = _request_key(request)
        marks = request.session.get(REAUTH_KEY)
        if marks and (key in marks or "step:" + key in marks):
            marks.pop(key, None)
            marks.pop("step:" + key, None)
            request.session[REAUTH_KEY] = marks
        if (
            client is not None
            and credentials.get("response_type") == "code"
            and not request.GET.get("response_mode")
        ):
            return _issue_code(request, scopes, credentials, auth, client)
        try:
            uri, _headers, _body, _status = self.create_authorization_response(
                request=request, scopes=" ".join(scopes), credentials=creds, allow=True
            )
        except OAuthToolkitError as exc:
            return self._toolkit_error(request, exc)
        return HttpResponseRedirect(uri)

    def _toolkit_error(self, request: HttpRequest, exc: OAuthToolkitError) -> HttpResponse:
        redirect, _data = self.error_response(exc)
        if redirect and not isinstance(exc, FatalClientError) and exc.oauthlib_error.redirect_uri:
            err = exc.oauthlib_error
            return _error_redirect(
                err.redirect_uri, err.error, err.description or "", getattr(err, "state", None)
            )
        err = exc.oauthlib_error
        return _error_page(request, err.error, err.description or "", status=err.status_code)


def _issue_code(
    request: HttpRequest, scopes: list[str], credentials: dict[str, Any], auth: dict[str, Any], client: Any
) -> HttpResponse:
    """The authorisation response (RFC 6749 §4.1.2) for a request oauthlib validated earlier in
    this same HTTP request (``AuthorizeView.get``: client, redirect URI, response type, scopes,
    PKCE, OpenID Connect's prompt and max_age): what oauthlib's ``create_authorization_response``
    would do after validating it all a second time — the grant stored
    (``validator.store_authorization_code``) and ``code`` and ``state`` added to the query of the
    redirect URI. The consent form's POST, whose request comes back from the session, keeps
    oauthlib's path."""
    redirect_uri, state = credentials["redirect_uri"], credentials.get("state")
    code = store_authorization_code(
        client_pk=client.pk,
        client_id=client.client_id,
        user_id=cast(int, request.user.pk),  # logged in: AuthorizeView.get checked
        redirect_uri=redirect_uri,
        scopes=scopes,
        code_challenge=credentials["code_challenge"],
        code_challenge_method=credentials["code_challenge_method"],
        nonce=credentials.get("nonce") or "",
        auth=auth,
        resource=credentials.get("resource") or [],
    )
    if code is None:
        return _error_redirect(redirect_uri, "invalid_request", "nonce already used.", state)
    params = [("code", code)] + ([("state", state)] if state else [])
    return HttpResponseRedirect(add_params_to_uri(redirect_uri, params))


# --------------------------------------------------------------------------- token endpoints
class Token(TokenView):
    """The token endpoint (RFC 6749 §3.2): client credentials, refresh and the code exchange take
    the one-statement path of ``fast.py`` when they succeed there; everything else, and every
    error, is DOT's."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if fast.enabled():
            grant = request.POST.get("grant_type")
            answer = None
            if grant == "client_credentials":
                answer = fast.client_credentials(request)
            elif grant == "refresh_token":
                answer = fast.refresh(request)
            elif grant == "authorization_code":
                answer = fast.authorization_code(request)
            if answer is not None:
                return answer
        return super().post(request, *args, **kwargs)

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def authorization_flow_token_response(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        """DOT's, without reading the new access token back when nobody listens to its
        ``app_authorized`` signal (nobody does in this project)."""
        if app_authorized.has_listeners():
            return super().authorization_flow_token_response(request, *args, **kwargs)
        if request.POST.get("grant_type") == "authorization_code":
            # The code exchange in one transaction (ADR 0009 §11): the ID token, the token pair,
            # the grant's deletion and the redeemed-code row commit together or not at all — a
            # request that loses the race for a code leaves no token behind
            # (``Validator.invalidate_authorization_code``) — and DOT's own transactions inside
            # it cost no statement.
            with transaction.atomic():
                _url, headers, body, status = self.create_token_response(request)
        else:
            _url, headers, body, status = self.create_token_response(request)
        response = HttpResponse(content=body, status=status)
        for k, v in headers.items():
            response[k] = v
        return response


Revoke = RevokeTokenView
UserInfo = UserInfoView


@method_decorator(csrf_exempt, name="dispatch")
class IntrospectView(OAuthLibMixin, View):
    """Token introspection (RFC 7662). The caller authenticates as a client and learns about its
    own tokens only; anything else — unknown, expired, revoked, another client's — is
    ``{"active": false}``, the same answer (§2.2), so nothing about other accounts leaks."""

    def post(self, request: HttpRequest) -> JsonResponse:
        client = self._client(request)
        if client is None:
            response = JsonResponse({"error": "invalid_client"}, status=401)
            response["WWW-Authenticate"] = 'Basic realm="oidc"'
            return response
        token = request.POST.get("token", "")
        if not token:
            return JsonResponse({"error": "invalid_request"}, status=400)
        checksum = hashlib.sha256(token.encode()).hexdigest()
        at = (
            get_access_token_model()
            .objects.select_related("application")
            .filter(token_checksum=checksum)
            .first()
        )
        if at is not None and at.is_valid() and at.application_id == client.pk:
            data: dict[str, Any] = {
                "active": True,
                "scope": at.scope,
                "client_id": at.application.client_id,
                "token_type": "Bearer",
                "exp": int(at.expires.timestamp()),
                "iss": issuer(),
            }
            rp = relying_party(at.application)
            if at.user_id and rp is not None:
                data["sub"] = pairwise_sub(rp.sector_identifier, at.user_id)
            return JsonResponse(data)
        rt = get_refresh_token_model().objects.filter(token_checksum=checksum, revoked__isnull=True).first()
        if rt is not None and rt.application_id == client.pk:
            return JsonResponse(
                {
                    "active": True,
                    "client_id": client.client_id,
                    "token_type": "refresh_token",
                    "iss": issuer(),
                }
            )
        return JsonResponse({"active": False})

    def _client(self, request: HttpRequest) -> Any:
        """The client authenticated by HTTP Basic or the body (RFC 6749 §2.3.1), or None."""
        core = self.get_oauthlib_core()
        uri, method, body, headers = core._extract_params(request)
        oauth_request = OAuthRequest(uri, method, body, headers)
        if core.server.request_validator.authenticate_client(oauth_request):
            return oauth_request.client
        return None


# --------------------------------------------------------------------------- logout
class LogoutView(RPInitiatedLogoutView):
    """RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2–3): the
    ``post_logout_redirect_uri`` must equal a registered one exactly, else no redirect at all."""

    template_name = "sso/logout_confirm.html"

    def validate_post_logout_redirect_uri(
        self, application: Any, post_logout_redirect_uri: str | None
    ) -> None:
        if not post_logout_redirect_uri:
            return
        if application is None:
            raise InvalidOIDCRedirectURIError("a client is needed for a post_logout_redirect_uri")
        if post_logout_redirect_uri not in application.post_logout_redirect_uris.split():
            raise InvalidOIDCRedirectURIError("this post_logout_redirect_uri is not registered")

    def get_request_application(self, id_token: Any, client_id: str | None) -> Any:
        from oauth2_provider.models import get_application_model

        if client_id:
            app = get_application_model().objects.filter(client_id=client_id).first()
            if app is None:
                raise InvalidOIDCClientError()
            return app
        return id_token.application if id_token else None

    def do_logout(
        self,
        application: Any = None,
        post_logout_redirect_uri: str | None = None,
        state: str | None = None,
        token_user: Any = None,
    ) -> HttpResponse:
        """Revoke the account's tokens and end the session, then redirect to the URI that was
        matched exactly against the registration above (its scheme was checked at registration)."""
        user = token_user or self.request.user
        if getattr(user, "is_authenticated", False):
            for rt in get_refresh_token_model().objects.filter(user=user, revoked__isnull=True):
                rt.revoke()
            for at in get_access_token_model().objects.filter(user=user):
                at.revoke()
        logout(self.request)
        if not post_logout_redirect_uri:
            return HttpResponseRedirect("/")
        target = post_logout_redirect_uri
        if state:
            target += ("&" if "?" in target else "?") + urlencode({"state": state})
        return HttpResponseRedirect(target)


__all__ = [
    "AuthorizeView",
    "IntrospectView",
    "LogoutView",
    "Revoke",
    "Token",
    "UserInfo",
    "discovery",
    "jwks",
]
