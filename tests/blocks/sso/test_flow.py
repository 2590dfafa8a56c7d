"""The authorisation code flow end to end, driven by authlib's client against the live provider."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt

from dancu.blocks.eid import assurance

from .conftest import authorize_url, browser, consent, id_token, query, run_flow, session_cookie


def _client(oidc: str, c: Any, scope: str = "openid profile id_number") -> OAuth2Session:
    return OAuth2Session(
        c.client_id, c.client_secret, scope=scope, redirect_uri=c.redirect_uri, code_challenge_method="S256"
    )


def test_discovery_and_jwks(oidc: str, register_rp: Any) -> None:
    meta = requests.get(oidc + "/.well-known/openid-configuration", timeout=10).json()
    assert meta["issuer"] == oidc
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["subject_types_supported"] == ["pairwise"]
    assert assurance.ACR_L2 in meta["acr_values_supported"]
    keys = requests.get(meta["jwks_uri"], timeout=10).json()["keys"]
    assert keys and all(k["kty"] in ("RSA", "EC") and "d" not in k for k in keys)
    assert {k["alg"] for k in keys} == {"RS256", "ES256"}


def test_full_flow_with_authlib(oidc: str, register_rp: Any, citizen_user: Any) -> None:
    c = register_rp()
    rp = _client(oidc, c)
    verifier = generate_token(48)
    nonce = generate_token(20)
    url, state = rp.create_authorization_url(oidc + "/oidc/authorize", code_verifier=verifier, nonce=nonce)
    b = browser(oidc, session_cookie(citizen_user, level=2, amr=("pwd", "otp")))
    page = b.get(url, allow_redirects=False)
    assert page.status_code == 200, page.headers.get("Location")
    assert page.status_code == 200 and "Ngày sinh" in page.text and "Cổng dịch vụ công" in page.text
    done = consent(b, page)
    assert done.status_code == 302 and done.headers["Location"].startswith(c.redirect_uri)
    assert query(done.headers["Location"])["state"] == state
    token = rp.fetch_token(
        oidc + "/oidc/token", authorization_response=done.headers["Location"], code_verifier=verifier
    )
    token_ = id_token(oidc, token["id_token"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": oidc},
        aud={"essential": True, "value": c.client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
    ).validate(token_.claims)
    claims = token_.claims
    assert claims["acr"] == assurance.ACR_L2_MFA and set(claims["amr"]) == {"pwd", "otp"}
    assert isinstance(claims["auth_time"], int)
    assert claims["sub"] != str(citizen_user.pk) and len(claims["sub"]) >= 40
    info = rp.get(oidc + "/oidc/userinfo").json()
    assert info["sub"] == claims["sub"]
    assert (
        info["name"] == "Nguyễn Văn An"
        and info["birthdate"] == "1985-03-02"
        and info["id_number"] == "001085012345"
    )
    assert info["gender"] == "male"
    assert "address" not in info  # not asked for, not registered

    # Consent is remembered: a second flow goes straight back with a code.
    url2, _ = rp.create_authorization_url(
        oidc + "/oidc/authorize", code_verifier=verifier, nonce=generate_token(20)
    )
    again = b.get(url2, allow_redirects=False)
    assert again.status_code == 302 and "code=" in again.headers["Location"]


def test_a_portal_asks_for_a_token_bound_to_the_exchange_gateway(
    oidc: str, register_rp: Any, citizen_user: Any, settings: Any
) -> None:
    """RFC 8707: a portal that will call the data-exchange gateway for the citizen asks for
    ``resource=<issuer>/exchange/`` with the authorisation request; the token it gets is bound to
    that resource (``sso.services.token_holder``: what the gateway checks, ADR 0010 §23), and a
    token asked for without one is bound to nothing — which the gateway refuses."""
    from dancu.blocks.sso.services import token_holder

    gateway = settings.DANCU_EXCHANGE_END_USER_RESOURCE = f"{oidc}/exchange/"
    c = register_rp()
    b = browser(oidc, session_cookie(citizen_user, level=2, amr=("pwd", "otp")))

    bound = run_flow(oidc, c, b, resource=gateway)
    unbound = run_flow(oidc, c, b)

    holder = token_holder(bound.token["access_token"])
    assert holder is not None and holder.resource == (gateway,)
    other = token_holder(unbound.token["access_token"])
    assert other is not None and other.resource == ()
    # Bound to the gateway, the token is not one for the provider's own userinfo (RFC 8707: a
    # relying party that needs both asks for both resources).
    userinfo = oidc + "/oidc/userinfo"
    refused = requests.get(
        userinfo, headers={"Authorization": f"Bearer {bound.token['access_token']}"}, timeout=10
    )
    answered = requests.get(
        userinfo, headers={"Authorization": f"Bearer {unbound.token['access_token']}"}, timeout=10
    )
    assert refused.status_code in (401, 403) and answered.status_code == 200


@pytest.mark.parametrize(
    "resources",
    [
        pytest.param(["exchange"], id="a relative reference"),
        pytest.param(["https://id.example/exchange/#frag"], id="with a fragment"),
        pytest.param(["urn:dancu:exchange"], id="not a URL with a host"),
        pytest.param([f"https://rs{i}.example/" for i in range(5)], id="five of them"),
    ],
)
def test_a_malformed_resource_indicator_is_refused_with_invalid_target(
    resources: list[str], oidc: str, register_rp: Any, citizen_user: Any
) -> None:
    """RFC 8707 §2: the provider answers ``invalid_target`` to the relying party's redirect URI
    (with its state) and issues no code."""
    c = register_rp()
    b = browser(oidc, session_cookie(citizen_user, level=2, amr=("pwd", "otp")))

    r = b.get(
        authorize_url(oidc, c, state="s-8707") + "".join(f"&resource={quote(x, safe='')}" for x in resources),
        allow_redirects=False,
    )

    assert r.status_code == 302
    answer = query(r.headers["Location"])
    assert r.headers["Location"].startswith(c.redirect_uri)
    assert (answer["error"], answer["state"]) == ("invalid_target", "s-8707") and "code" not in answer
