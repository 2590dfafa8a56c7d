"""Two demo relying parties, real OpenID Connect clients built on authlib: log in through the
provider with code + PKCE + nonce, validate the ID token against the JWKS, read userinfo, show
the claims. They call the provider back over HTTP at ``DANCU_SSO_DEMO_PROVIDER_URL``."""

from __future__ import annotations

from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from dancu.apps.sso_demo.demo import RELYING_PARTIES, base_url
from dancu.apps.sso_demo.models import DemoClient

TIMEOUT = 10


def _rp(slug: str) -> tuple[tuple[Any, ...], DemoClient]:
    meta = next((r for r in RELYING_PARTIES if r[0] == slug), None)
    client = DemoClient.objects.filter(slug=slug).first()
    if meta is None or client is None:
        raise Http404("demo relying party not registered (run `dancu demo`)")
    return meta, client


def _provider() -> str:
    return str(settings.DANCU_SSO_DEMO_PROVIDER_URL).rstrip("/")


def _metadata() -> dict[str, Any]:
    data: dict[str, Any] = requests.get(
        _provider() + "/.well-known/openid-configuration", timeout=TIMEOUT
    ).json()
    return data


def _session(slug: str, client: DemoClient, scope: str) -> OAuth2Session:
    return OAuth2Session(
        client.client_id,
        client.client_secret,
        scope=scope,
        redirect_uri=f"{base_url()}/demo/{slug}/callback",
        code_challenge_method="S256",
    )


def _key(slug: str) -> str:
    return f"sso_demo.{slug}"


@require_GET
def home(request: HttpRequest, slug: str) -> HttpResponse:
    meta, _client = _rp(slug)
    state = request.session.get(_key(slug), {})
    return render(
        request,
        "sso_demo/home.html",
        {
            "slug": slug,
            "name_vi": meta[1],
            "name_en": meta[2],
            "acr": meta[5],
            "signed_in": state.get("claims"),
            "id_claims": state.get("id_claims"),
            "error": request.GET.get("error"),
        },
    )


@require_GET
def login(request: HttpRequest, slug: str) -> HttpResponse:
    """Send the browser to the provider's authorisation endpoint (code + S256 PKCE + nonce)."""
    meta, client = _rp(slug)
    endpoint = _metadata()["authorization_endpoint"]
    oauth = _session(slug, client, " ".join(meta[3]))
    verifier, nonce = generate_token(48), generate_token(24)
    url, state = oauth.create_authorization_url(
        endpoint, code_verifier=verifier, nonce=nonce, acr_values=meta[5]
    )
    request.session[_key(slug) + ".pending"] = {"state": state, "verifier": verifier, "nonce": nonce}
    return HttpResponseRedirect(url)


@require_GET
def callback(request: HttpRequest, slug: str) -> HttpResponse:
    """Exchange the code, validate the ID token (signature against the JWKS, iss, aud, exp,
    nonce), read userinfo."""
    meta, client = _rp(slug)
    pending = request.session.pop(_key(slug) + ".pending", None)
    if request.GET.get("error") or pending is None or request.GET.get("state") != pending["state"]:
        return HttpResponseRedirect(f"/demo/{slug}/?error=" + (request.GET.get("error") or "state"))
    md = _metadata()
    oauth = _session(slug, client, " ".join(meta[3]))
    token = oauth.fetch_token(
        md["token_endpoint"],
        authorization_response=f"{base_url()}{request.get_full_path()}",
        code_verifier=pending["verifier"],
        state=pending["state"],
    )
    jwks = KeySet.import_key_set(requests.get(md["jwks_uri"], timeout=TIMEOUT).json())
    try:
        # Only RS256 (the provider's algorithm): "none" and HMAC tokens are refused by joserfc.
        decoded = jwt.decode(token["id_token"], jwks, algorithms=["RS256"])
        jwt.JWTClaimsRegistry(
            leeway=30,
            iss={"essential": True, "value": md["issuer"]},
            aud={"essential": True, "value": client.client_id},
            nonce={"essential": True, "value": pending["nonce"]},
            exp={"essential": True},
            sub={"essential": True},
        ).validate(decoded.claims)
        id_claims = dict(decoded.claims)
    except (JoseError, ValueError):
        return HttpResponseRedirect(f"/demo/{slug}/?error=invalid_id_token")
    claims = oauth.get(md["userinfo_endpoint"], timeout=TIMEOUT).json()
    request.session[_key(slug)] = {
        "claims": claims,
        "id_claims": dict(id_claims),
        "id_token": token["id_token"],
    }
    return HttpResponseRedirect(f"/demo/{slug}/")


@require_GET
def logout(request: HttpRequest, slug: str) -> HttpResponse:
    """RP-initiated logout: forget the RP session and end the provider's."""
    _rp(slug)
    state = request.session.pop(_key(slug), {}) or {}
    md = _metadata()
    from urllib.parse import urlencode

    params = {"post_logout_redirect_uri": f"{base_url()}/demo/{slug}/"}
    if state.get("id_token"):
        params["id_token_hint"] = state["id_token"]
    return HttpResponseRedirect(md["end_session_endpoint"] + "?" + urlencode(params))
