"""Staff log-in through the platform's own OpenID Connect provider (issue 4, "dogfood it"; ADR 0011).

The staff applications (console, desks, driving, residence, eID desk, exchange administration)
are one first-party relying party of the provider, ``dancu-platform``:

* ``/login/`` starts an authorisation-code flow with S256 PKCE, ``state`` and ``nonce``;
* the provider logs the person in (``/eid/login/``), steps up if asked, and sends a code back to
  ``/login/callback``;
* the callback exchanges the code *in this process* through django-oauth-toolkit's server object
  (no HTTP request to ourselves, so a single-worker server cannot deadlock), validates the ID token
  (signature against the published keys, ``iss``, ``aud``, ``nonce``, ``exp``, ``acr``, and that its
  pairwise ``sub`` is the session's user), and only then marks the session as signed in through
  SSO with the ``acr`` of the log-in;
* ``/logout/`` ends both: the application's mark and the provider's session (RP-initiated logout
  with the ID token as hint).

Staff views require the mark with :func:`sso_staff` (used by ``web.staff.staff_view``), optionally
with a minimum ``acr``. ``DANCU_STAFF_SSO_REQUIRED = False`` (the test settings only) lets a
session without the mark through, so that tests may log in with ``client.force_login``; a minimum
``acr`` is still enforced against a mark when there is one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_backends import get_oauthlib_core

from dancu.blocks.eid import assurance
from dancu.blocks.eid import login as eid_login
from dancu.blocks.sso import keys
from dancu.blocks.sso.hashers import ClientSecretHasher
from dancu.blocks.sso.services import register_client, relying_party_of
from dancu.blocks.sso.subjects import pairwise_sub

CLIENT_ID = "dancu-platform"
SECTOR = "platform.dancu"
NAME_VI = "Ứng dụng nghiệp vụ dancu (cán bộ)"
NAME_EN = "dancu staff applications"
MIN_ACR = assurance.ACR_L1
SESSION_KEY = "dancu.staff.sso"  # the mark: signed in through SSO, with the acr
PENDING_KEY = "dancu.staff.sso.pending"
# The platform client is registered for RS256 ID tokens and accepts nothing else: not ES256 (the
# provider's other algorithm, for other relying parties), never "none" or HMAC (RFC 8725 §3.1).
ID_TOKEN_ALG = "RS256"  # noqa: S105 (an algorithm name)
ID_TOKEN_ALGORITHMS = [ID_TOKEN_ALG]


# --------------------------------------------------------------------------- registration
def _issuer() -> str:
    return str(settings.DANCU_OIDC_ISSUER).rstrip("/")


def redirect_uri() -> str:
    return _issuer() + reverse("web:login_callback")


def post_logout_uri() -> str:
    return _issuer() + reverse("web:home")


def client_secret() -> str:
    """The client's secret, derived from ``SECRET_KEY`` (HMAC-SHA-256 over a fixed label): the
    provider and this relying party run in one process, so the secret is never written down; the
    provider stores only its keyed hash, as for every client."""
    digest = hmac.new(
        str(settings.SECRET_KEY).encode(), b"dancu.platform-client.secret.v1", hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def ensure_platform_client() -> bool:
    """Register the first-party client ``dancu-platform`` or bring it up to date (redirect URIs
    after a change of ``DANCU_OIDC_ISSUER``, the secret after a change of ``SECRET_KEY``).
    Idempotent: one query when nothing changed. True when something was written."""
    Application = get_application_model()
    secret = client_secret()
    with transaction.atomic():
        rp = relying_party_of(CLIENT_ID)
        if rp is None:
            Application.objects.filter(client_id=CLIENT_ID).delete()
            reg = register_client(
                name_vi=NAME_VI,
                name_en=NAME_EN,
                redirect_uris=[redirect_uri()],
                post_logout_redirect_uris=[post_logout_uri()],
                scopes=["openid"],
                claims=[],
                min_acr=MIN_ACR,
                sector_identifier=SECTOR,
                first_party=True,
                client_id=CLIENT_ID,
                id_token_alg=ID_TOKEN_ALG,
            )
            app = Application.objects.get(client_id=reg.client_id)
            app.client_secret = secret
            app.save(update_fields=["client_secret"])
            return True
        app = Application.objects.select_for_update().get(pk=rp.application_id)
        changed = []
        if app.redirect_uris != redirect_uri():
            app.redirect_uris = redirect_uri()
            changed.append("redirect_uris")
        if app.post_logout_redirect_uris != post_logout_uri():
            app.post_logout_redirect_uris = post_logout_uri()
            changed.append("post_logout_redirect_uris")
        stored = str(app.client_secret)
        hasher = ClientSecretHasher()
        if not (stored.startswith(hasher.algorithm + "$") and hasher.verify(secret, stored)):
            app.client_secret = secret
            changed.append("client_secret")
        if changed:
            app.save(update_fields=changed)
        return bool(changed)


# --------------------------------------------------------------------------- the mark
def signed_in_acr(request: HttpRequest) -> str | None:
    """The ``acr`` of the session's SSO sign-in for the logged-in user, or None."""
    mark = request.session.get(SESSION_KEY)
    user_id = getattr(request.user, "pk", None)
    if not isinstance(mark, dict) or user_id is None or mark.get("user_id") != user_id:
        return None
    acr = mark.get("acr")
    return acr if isinstance(acr, str) else None


def _login_url(path: str, acr: str | None = None) -> str:
    params = {"next": path}
    if acr:
        params["acr"] = acr
    return reverse("web:login") + "?" + urlencode(params)


View = Callable[..., HttpResponse]


def sso_staff(min_acr: str | None = None) -> Callable[[View], View]:
    """Decorator of staff views: logged in, signed in to the staff applications through SSO, and
    with at least ``min_acr`` (e.g. ``assurance.ACR_L1``; ``ACR_L2_MFA`` for pages that need a
    level-2 account and a second factor). A missing or lower sign-in starts the SSO flow again
    (asking the provider for ``min_acr``, which steps the log-in up when the account can)."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            acr = signed_in_acr(request)
            if acr is None:
                if getattr(settings, "DANCU_STAFF_SSO_REQUIRED", True):
                    return HttpResponseRedirect(_login_url(request.get_full_path(), min_acr))
            elif min_acr and not assurance.satisfies(acr, [min_acr]):
                return HttpResponseRedirect(_login_url(request.get_full_path(), min_acr))
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


# --------------------------------------------------------------------------- the flow
def _safe_next(value: str | None) -> str:
    if (
        value
        and value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(value, allowed_hosts=None)
    ):
        return value
    return reverse("web:home")


def _failed(request: HttpRequest, reason: str, status: int = 403) -> HttpResponse:
    return render(request, "web/sso_failed.html", {"reason": reason}, status=status)


@never_cache
@require_GET
def login(request: HttpRequest) -> HttpResponse:
    """Start the authorisation-code flow for the staff applications (PKCE S256, state, nonce);
    ``acr`` asks the provider for a minimum assurance."""
    ensure_platform_client()
    next_url = _safe_next(request.GET.get("next"))
    wanted = request.GET.get("acr", "")
    acr = wanted if assurance.rank(wanted) >= 0 else ""
    verifier, state, nonce = generate_token(48), generate_token(24), generate_token(24)
    pending = request.session.get(PENDING_KEY, {})
    if not isinstance(pending, dict) or len(pending) > 5:
        pending = {}
    pending[state] = {"verifier": verifier, "nonce": nonce, "next": next_url, "acr": acr}
    request.session[PENDING_KEY] = pending
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": redirect_uri(),
        "scope": "openid",
        "state": state,
        "nonce": nonce,
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    if acr:
        params["acr_values"] = acr
    return HttpResponseRedirect(reverse("sso:authorize") + "?" + urlencode(params))


def _provider_post(path_name: str, data: dict[str, str], call: str) -> tuple[int, dict[str, Any]]:
    """A POST to one of the provider's endpoints answered in this process by django-oauth-toolkit's
    server object (the same code its views run), with client authentication in the body
    (``client_secret_post``). ``call`` is the ``OAuthLibCore`` method."""
    from urllib.parse import urlsplit

    issuer = urlsplit(_issuer())
    req = HttpRequest()
    req.method = "POST"
    req.path = req.path_info = reverse(path_name)
    req.META = {
        "REQUEST_METHOD": "POST",
        "SERVER_NAME": issuer.hostname or "localhost",
        "SERVER_PORT": str(issuer.port or (443 if issuer.scheme == "https" else 80)),
        "wsgi.url_scheme": issuer.scheme,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
    }
    body = QueryDict(mutable=True)
    body.update({**data, "client_id": CLIENT_ID, "client_secret": client_secret()})
    req.POST = body
    core = get_oauthlib_core()
    result = getattr(core, call)(req)
    _uri, _headers, raw, status = result
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        parsed = {}
    return int(status), parsed if isinstance(parsed, dict) else {}


def _validate_id_token(value: str, nonce: str) -> dict[str, Any]:
    """The ID token's claims after checking its signature against the provider's published keys
    and ``iss``, ``aud``, ``exp``, ``nonce``, ``sub`` and a known ``acr`` (OpenID Connect Core 1.0
    §3.1.3.7); raises ``JoseError``/``ValueError``."""
    key_set = KeySet.import_key_set({"keys": keys.published()})
    decoded = jwt.decode(value, key_set, algorithms=ID_TOKEN_ALGORITHMS)
    jwt.JWTClaimsRegistry(
        leeway=30,
        iss={"essential": True, "value": _issuer()},
        aud={"essential": True, "value": CLIENT_ID},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        sub={"essential": True},
        acr={"essential": True, "values": list(assurance.ACR_ORDER)},
    ).validate(decoded.claims)
    return dict(decoded.claims)


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """The provider's answer: exchange the code, validate the ID token, mark the session."""
    pending_all = request.session.get(PENDING_KEY, {})
    state = request.GET.get("state", "")
    pending = pending_all.pop(state, None) if isinstance(pending_all, dict) and state else None
    request.session[PENDING_KEY] = pending_all if isinstance(pending_all, dict) else {}
    if pending is None:
        return _failed(request, "state", status=400)
    if request.GET.get("error"):
        return _failed(request, request.GET["error"])
    if request.GET.get("iss") and request.GET["iss"] != _issuer():  # RFC 9207
        return _failed(request, "iss", status=400)
    code = request.GET.get("code", "")
    if not code or not request.user.is_authenticated:
        return _failed(request, "invalid_request", status=400)
    status, token = _provider_post(
        "sso:token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri(),
            "code_verifier": pending["verifier"],
        },
        "create_token_response",
    )
    if status != 200 or not token.get("id_token"):
        return _failed(request, str(token.get("error") or "token"), status=400)
    # The platform needs the sign-in, not API access: give the tokens back at once.
    for kind in ("refresh_token", "access_token"):
        if token.get(kind):
            _provider_post(
                "sso:revoke",
                {"token": str(token[kind]), "token_type_hint": kind},
                "create_revocation_response",
            )
    try:
        claims = _validate_id_token(str(token["id_token"]), pending["nonce"])
    except (JoseError, ValueError, KeyError):
        return _failed(request, "invalid_id_token", status=400)
    if not hmac.compare_digest(str(claims["sub"]), pairwise_sub(SECTOR, int(request.user.pk or 0))):
        return _failed(request, "sub", status=400)
    acr = str(claims["acr"])
    if pending["acr"] and not assurance.satisfies(acr, [pending["acr"]]):
        return _failed(request, "unmet_authentication_requirements")
    request.session[SESSION_KEY] = {
        "user_id": request.user.pk,
        "acr": acr,
        "amr": list(claims.get("amr") or []),
        "auth_time": int(claims.get("auth_time") or 0),
        "id_token": str(token["id_token"]),
    }
    return HttpResponseRedirect(pending["next"])


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """End the staff applications' sign-in and the provider's session (RP-Initiated Logout 1.0:
    the ID token as ``id_token_hint``, back to the registered home page). A session signed in
    without SSO (tests) is simply logged out."""
    mark = request.session.pop(SESSION_KEY, None)
    if isinstance(mark, dict) and mark.get("id_token") and request.user.is_authenticated:
        eid_login.forget(request.session.session_key)
        params = {
            "id_token_hint": mark["id_token"],
            "client_id": CLIENT_ID,
            "post_logout_redirect_uri": post_logout_uri(),
        }
        return HttpResponseRedirect(reverse("sso:logout") + "?" + urlencode(params))
    eid_login.forget(request.session.session_key)
    auth_logout(request)
    return HttpResponseRedirect(reverse("web:home"))


# --------------------------------------------------------------------------- Django's admin site
def admin_min_acr() -> str:
    """The assurance the administration site asks for (``DANCU_ADMIN_MIN_ACR``; by default the
    staff applications' own minimum)."""
    wanted = str(getattr(settings, "DANCU_ADMIN_MIN_ACR", "") or MIN_ACR)
    return wanted if assurance.rank(wanted) >= 0 else MIN_ACR


def protect_admin_site(site: Any) -> None:
    """Put Django's admin behind the same single sign-on as the staff applications (ADR 0011):
    its own password form is never shown; ``/admin/login/`` starts the OpenID Connect flow with
    the admin's minimum ``acr``, a staff user is let in only with an SSO sign-in of at least that
    ``acr``, and ``/admin/logout/`` ends both sessions like ``/logout/``. A person signed in
    through SSO who is not staff gets a refusal page, not a log-in loop."""
    plain_has_permission = site.has_permission

    def has_permission(request: HttpRequest) -> bool:
        if not plain_has_permission(request):
            return False
        acr = signed_in_acr(request)
        if acr is None:
            return not getattr(settings, "DANCU_STAFF_SSO_REQUIRED", True)
        return assurance.satisfies(acr, [admin_min_acr()])

    @never_cache
    def login_view(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        next_url = _safe_next(request.GET.get("next") or reverse("admin:index"))
        if has_permission(request):
            return HttpResponseRedirect(next_url)
        acr = signed_in_acr(request)
        if request.user.is_authenticated and acr and assurance.satisfies(acr, [admin_min_acr()]):
            return _failed(request, "not_staff")
        return HttpResponseRedirect(_login_url(next_url, admin_min_acr()))

    site.has_permission = has_permission
    site.login = login_view
    site.logout = lambda request, extra_context=None: logout(request)
