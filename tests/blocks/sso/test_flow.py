"""The authorisation code flow end to end, driven by authlib's client against the live provider."""

from __future__ import annotations

from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt

from dancu.blocks.eid import assurance

from .conftest import browser, consent, id_token, query, session_cookie


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
