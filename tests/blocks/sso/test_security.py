"""Security checks of the provider: each attack is refused (issue 4, "Checks")."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from dancu.blocks.eid import assurance

from .conftest import authorize_url, browser, id_token, jwks_of, pkce_pair, query, run_flow, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portal(register_rp: Any) -> Any:
    return register_rp()


@pytest.fixture
def b(oidc: str, citizen_user: Any) -> requests.Session:
    return browser(oidc, session_cookie(citizen_user, level=2, amr=("pwd",)))


def _token(oidc: str, c: Any, **data: str) -> requests.Response:
    return requests.post(oidc + "/oidc/token", data=data, auth=(c.client_id, c.client_secret), timeout=10)


def _code(b: requests.Session, url: str) -> tuple[str, dict[str, str]]:
    r = b.get(url, allow_redirects=False)
    if r.status_code == 200:
        from .conftest import consent

        r = consent(b, r)
    assert r.status_code == 302, r.text[:300]
    return r.headers["Location"], query(r.headers["Location"])


# ----------------------------------------------------------------------------- PKCE
def test_missing_pkce_is_refused(oidc: str, portal: Any, b: requests.Session) -> None:
    _loc, q = _code(b, authorize_url(oidc, portal, code_challenge=None, code_challenge_method=None))
    assert q["error"] == "invalid_request" and "code" not in q


def test_plain_pkce_is_refused(oidc: str, portal: Any, b: requests.Session) -> None:
    _loc, q = _code(b, authorize_url(oidc, portal, code_challenge="a" * 50, code_challenge_method="plain"))
    assert q["error"] == "invalid_request" and "code" not in q


@pytest.mark.parametrize("verifier", ["", "wrong-verifier-" + "x" * 40])
def test_missing_or_wrong_verifier_is_refused(
    oidc: str, portal: Any, b: requests.Session, verifier: str
) -> None:
    _loc, q = _code(b, authorize_url(oidc, portal))
    data = {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": portal.redirect_uri}
    if verifier:
        data["code_verifier"] = verifier
    r = _token(oidc, portal, **data)
    assert r.status_code == 400 and r.json()["error"] in ("invalid_grant", "invalid_request")
    assert "access_token" not in r.json()


# ----------------------------------------------------------------------------- codes
def test_code_reuse_is_refused(oidc: str, portal: Any, b: requests.Session) -> None:
    flow = run_flow(oidc, portal, b)
    r = _token(
        oidc,
        portal,
        grant_type="authorization_code",
        code=flow.code,
        redirect_uri=portal.redirect_uri,
        code_verifier=flow.verifier,
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_a_replayed_code_revokes_the_tokens_issued_from_it(
    oidc: str, portal: Any, b: requests.Session
) -> None:
    """RFC 6749 §4.1.2: a code used twice has leaked; the tokens issued for it — the access
    token, the refresh token and every rotation of it — stop working. Tokens of another log-in of
    the same citizen and client are untouched."""
    flow = run_flow(oidc, portal, b)
    other = run_flow(oidc, portal, b)
    assert flow.session.get(oidc + "/oidc/userinfo").status_code == 200
    rotated = _token(oidc, portal, grant_type="refresh_token", refresh_token=flow.token["refresh_token"])
    assert rotated.status_code == 200
    rotated_bearer = {"Authorization": "Bearer " + rotated.json()["access_token"]}
    assert requests.get(oidc + "/oidc/userinfo", headers=rotated_bearer, timeout=10).status_code == 200

    replay = _token(
        oidc,
        portal,
        grant_type="authorization_code",
        code=flow.code,
        redirect_uri=portal.redirect_uri,
        code_verifier=flow.verifier,
    )

    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    again = _token(oidc, portal, grant_type="refresh_token", refresh_token=rotated.json()["refresh_token"])
    assert again.status_code == 400
    assert requests.get(oidc + "/oidc/userinfo", headers=rotated_bearer, timeout=10).status_code == 401
    assert other.session.get(oidc + "/oidc/userinfo").status_code == 200


def test_an_unknown_code_revokes_nothing(oidc: str, portal: Any, b: requests.Session) -> None:
    flow = run_flow(oidc, portal, b)
    r = _token(
        oidc,
        portal,
        grant_type="authorization_code",
        code="not-a-code-we-issued",
        redirect_uri=portal.redirect_uri,
        code_verifier=flow.verifier,
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert flow.session.get(oidc + "/oidc/userinfo").status_code == 200


def test_code_of_another_client_is_refused(
    oidc: str, register_rp: Any, portal: Any, b: requests.Session
) -> None:
    other = register_rp("Ứng dụng khác", host="other.example")
    verifier, challenge = pkce_pair()
    _loc, q = _code(b, authorize_url(oidc, portal, code_challenge=challenge))
    r = _token(
        oidc,
        other,
        grant_type="authorization_code",
        code=q["code"],
        redirect_uri=portal.redirect_uri,
        code_verifier=verifier,
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # Still usable by its own client (the attempt did not consume it).
    ok = _token(
        oidc,
        portal,
        grant_type="authorization_code",
        code=q["code"],
        redirect_uri=portal.redirect_uri,
        code_verifier=verifier,
    )
    assert ok.status_code == 200


# ----------------------------------------------------------------------------- redirect URIs
@pytest.mark.parametrize(
    "variant",
    [
        "https://portal.example/callback/extra",
        "https://portal.example/callback?x=1",
        "https://portal.example/callback#frag",
        "https://PORTAL.example/callback",
        "https://portal.example/Callback",
        "https://portal.example:8443/callback",
        "http://portal.example/callback",
        "https://evil.example/callback",
    ],
)
def test_redirect_uri_must_match_exactly(oidc: str, portal: Any, b: requests.Session, variant: str) -> None:
    r = b.get(authorize_url(oidc, portal, redirect_uri=variant), allow_redirects=False)
    assert r.status_code == 400  # an error page, never a redirect to the unregistered URI
    assert "Location" not in r.headers


def test_loopback_port_is_not_relaxed(oidc: str, register_rp: Any, b: requests.Session) -> None:
    c = register_rp(
        "Ứng dụng máy tính", redirect_uri="http://127.0.0.1:8765/cb", logout_uri="http://127.0.0.1:8765/bye"
    )
    r = b.get(authorize_url(oidc, c, redirect_uri="http://127.0.0.1:9999/cb"), allow_redirects=False)
    assert r.status_code == 400 and "Location" not in r.headers


# ----------------------------------------------------------------------------- nonce
def test_missing_nonce_is_refused(oidc: str, portal: Any, b: requests.Session) -> None:
    _loc, q = _code(b, authorize_url(oidc, portal, nonce=None))
    assert q["error"] == "invalid_request" and "code" not in q


def test_replayed_nonce_is_refused(oidc: str, portal: Any, b: requests.Session) -> None:
    _loc, q = _code(b, authorize_url(oidc, portal, nonce="same-nonce-123456"))
    assert "code" in q
    _loc, q2 = _code(b, authorize_url(oidc, portal, nonce="same-nonce-123456"))
    assert q2["error"] == "invalid_request" and "code" not in q2


# ----------------------------------------------------------------------------- ID tokens
def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_id_tokens_are_rs256_with_a_published_kid(oidc: str, portal: Any, b: requests.Session) -> None:
    flow = run_flow(oidc, portal, b)
    header = json.loads(base64.urlsafe_b64decode(flow.token["id_token"].split(".")[0] + "=="))
    assert header["alg"] == "RS256"
    kids = {k["kid"] for k in requests.get(oidc + "/oidc/jwks", timeout=10).json()["keys"]}
    assert header["kid"] in kids


def test_alg_none_and_unknown_key_fail_validation(oidc: str, portal: Any, b: requests.Session) -> None:
    flow = run_flow(oidc, portal, b)
    real = id_token(oidc, flow.token["id_token"])
    forged_none = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(dict(real.claims)) + "."
    with pytest.raises((JoseError, ValueError)):
        id_token(oidc, forged_none)  # a relying party accepting only the provider's RS256
    with pytest.raises((JoseError, ValueError)):
        jwt.decode(forged_none, jwks_of(oidc))  # joserfc's default algorithms exclude "none" too
    attacker = RSAKey.generate_key(2048)
    forged = jwt.encode({"alg": "RS256", "kid": real.header["kid"]}, dict(real.claims), attacker)
    with pytest.raises(JoseError):
        jwt.decode(forged, jwks_of(oidc), algorithms=["RS256"])
    # The provider itself refuses both as id_token_hint at logout.
    for token in (forged_none, forged):
        r = b.get(oidc + "/oidc/logout", params={"id_token_hint": token}, allow_redirects=False)
        assert r.status_code == 400


# ----------------------------------------------------------------------------- tokens
def test_revoked_and_expired_access_tokens_are_refused(oidc: str, portal: Any, b: requests.Session) -> None:
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    flow = run_flow(oidc, portal, b)
    assert flow.session.get(oidc + "/oidc/userinfo").status_code == 200
    r = requests.post(
        oidc + "/oidc/revoke",
        data={"token": flow.token["access_token"]},
        auth=(portal.client_id, portal.client_secret),
        timeout=10,
    )
    assert r.status_code == 200
    assert flow.session.get(oidc + "/oidc/userinfo").status_code == 401
    second = run_flow(oidc, portal, b)
    AccessToken.objects.all().update(expires=timezone.now() - timedelta(seconds=1))
    assert second.session.get(oidc + "/oidc/userinfo").status_code == 401
    intro = requests.post(
        oidc + "/oidc/introspect",
        data={"token": second.token["access_token"]},
        auth=(portal.client_id, portal.client_secret),
        timeout=10,
    )
    assert intro.json() == {"active": False}


def test_refresh_rotation_and_reuse_detection(oidc: str, portal: Any, b: requests.Session) -> None:
    flow = run_flow(oidc, portal, b)
    first = flow.token["refresh_token"]
    rotated = _token(oidc, portal, grant_type="refresh_token", refresh_token=first)
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first
    reuse = _token(oidc, portal, grant_type="refresh_token", refresh_token=first)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    # Reuse revokes the whole family: the legitimate successor is dead too (RFC 9700 §4.14.2).
    after = _token(oidc, portal, grant_type="refresh_token", refresh_token=second)
    assert after.status_code == 400


def test_client_credentials_for_machine_clients(oidc: str, register_rp: Any) -> None:
    from dancu.blocks.sso.services import register_client

    m = register_client(name_vi="Hệ thống một cửa", machine=True, scopes=[])
    r = requests.post(
        oidc + "/oidc/token",
        data={"grant_type": "client_credentials"},
        auth=(m.client_id, m.client_secret),
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["access_token"]
    bad = requests.post(
        oidc + "/oidc/token",
        data={"grant_type": "client_credentials"},
        auth=(m.client_id, "wrong"),
        timeout=10,
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"


# ----------------------------------------------------------------------------- scopes, consent
def test_scopes_beyond_registration_are_refused(oidc: str, portal: Any, b: requests.Session) -> None:
    _loc, q = _code(b, authorize_url(oidc, portal, scope="openid profile address"))
    assert q["error"] == "invalid_scope" and "code" not in q


def test_consent_form_requires_csrf(oidc: str, portal: Any, b: requests.Session) -> None:
    import re

    page = b.get(authorize_url(oidc, portal), allow_redirects=False)
    assert page.status_code == 200
    pending = re.search(r'name="pending" value="([^"]+)"', page.text)
    assert pending
    r = b.post(page.url, data={"pending": pending.group(1), "allow": "yes"}, allow_redirects=False)
    assert r.status_code == 403


def test_consent_can_be_denied(oidc: str, portal: Any, b: requests.Session) -> None:
    from .conftest import consent

    page = b.get(authorize_url(oidc, portal), allow_redirects=False)
    r = consent(b, page, allow=False)
    assert query(r.headers["Location"])["error"] == "access_denied"


# ----------------------------------------------------------------------------- logout
def test_post_logout_redirect_must_be_registered(oidc: str, portal: Any, b: requests.Session) -> None:
    flow = run_flow(oidc, portal, b)
    hint = flow.token["id_token"]
    for evil in (
        "https://evil.example/",
        "https://portal.example/bye/../evil",
        "https://portal.example/bye?next=https://evil.example",
    ):
        r = b.get(
            oidc + "/oidc/logout",
            params={"id_token_hint": hint, "client_id": portal.client_id, "post_logout_redirect_uri": evil},
            allow_redirects=False,
        )
        assert r.status_code == 400 and "Location" not in r.headers
    ok = b.get(
        oidc + "/oidc/logout",
        params={"id_token_hint": hint, "post_logout_redirect_uri": portal.logout_uri, "state": "s1"},
        allow_redirects=False,
    )
    assert ok.status_code == 302 and ok.headers["Location"] == portal.logout_uri + "?state=s1"
    # The session is over: the next authorisation asks to log in again.
    again = b.get(authorize_url(oidc, portal), allow_redirects=False)
    assert again.status_code == 302 and "/login" in again.headers["Location"]


# ----------------------------------------------------------------------------- enumeration
def test_errors_do_not_reveal_accounts(oidc: str, portal: Any, b: requests.Session, register_rp: Any) -> None:
    _verifier, challenge = pkce_pair()
    _loc, q = _code(b, authorize_url(oidc, portal, code_challenge=challenge))
    real_code_wrong_verifier = _token(
        oidc,
        portal,
        grant_type="authorization_code",
        code=q["code"],
        redirect_uri=portal.redirect_uri,
        code_verifier="x" * 50,
    )
    unknown_code = _token(
        oidc,
        portal,
        grant_type="authorization_code",
        code="no-such-code",
        redirect_uri=portal.redirect_uri,
        code_verifier="x" * 50,
    )
    assert real_code_wrong_verifier.status_code == unknown_code.status_code == 400
    assert real_code_wrong_verifier.json()["error"] == unknown_code.json()["error"] == "invalid_grant"
    # Introspection: another client's live token and an unknown token get the same answer.
    flow = run_flow(oidc, portal, b)
    other = register_rp("Ứng dụng khác", host="other.example")
    answers = [
        requests.post(
            oidc + "/oidc/introspect",
            data={"token": t},
            auth=(other.client_id, other.client_secret),
            timeout=10,
        )
        for t in (flow.token["access_token"], "unknown-token")
    ]
    assert [a.json() for a in answers] == [{"active": False}, {"active": False}]
    own = requests.post(
        oidc + "/oidc/introspect",
        data={"token": flow.token["access_token"]},
        auth=(portal.client_id, portal.client_secret),
        timeout=10,
    ).json()
    assert (
        own["active"] is True
        and "username" not in own
        and own["sub"] == id_token(oidc, flow.token["id_token"]).claims["sub"]
    )


# ----------------------------------------------------------------------------- acr and step-up
def test_step_up_when_acr_is_not_met(oidc: str, register_rp: Any, citizen_user: Any) -> None:
    from .conftest import set_assurance

    c = register_rp()
    key = session_cookie(citizen_user, level=2, amr=("pwd",))
    b = browser(oidc, key)
    url = authorize_url(oidc, c, acr_values=assurance.ACR_L2_MFA)
    r = b.get(url, allow_redirects=False)
    assert r.status_code == 302
    step = r.headers["Location"]
    assert f"acr={assurance.ACR_L2_MFA.replace(':', '%3A')}" in step
    assert "/oidc/authorize" in query(step)["next"]
    # Coming back without stepping up does not loop, it fails.
    back = b.get(url, allow_redirects=False)
    assert query(back.headers["Location"])["error"] == "unmet_authentication_requirements"
    # After the step-up the same kind of request succeeds and the ID token says so.
    set_assurance(key, citizen_user, level=2, amr=("pwd", "otp"))
    flow = run_flow(oidc, c, b, acr_values=assurance.ACR_L2_MFA)
    assert id_token(oidc, flow.token["id_token"]).claims["acr"] == assurance.ACR_L2_MFA


def test_level1_account_cannot_reach_level2(oidc: str, register_rp: Any, citizen_user: Any) -> None:
    c = register_rp(min_acr=assurance.ACR_L2)
    b = browser(oidc, session_cookie(citizen_user, level=1, amr=("pwd", "otp")))
    _loc, q = _code(b, authorize_url(oidc, c))
    assert q["error"] == "unmet_authentication_requirements"


def test_unknown_acr_value_is_refused(oidc: str, portal: Any, b: requests.Session) -> None:
    _loc, q = _code(b, authorize_url(oidc, portal, acr_values="urn:example:loa:4"))
    assert q["error"] == "unmet_authentication_requirements"


def test_max_age_and_prompt_login_ask_for_a_new_log_in(oidc: str, portal: Any, citizen_user: Any) -> None:
    old = browser(oidc, session_cookie(citizen_user, level=2, amr=("pwd",), auth_time=assurance.now() - 3600))
    r = old.get(authorize_url(oidc, portal, max_age="600"), allow_redirects=False)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    fresh = browser(oidc, session_cookie(citizen_user, level=2, amr=("pwd",)))
    r = fresh.get(authorize_url(oidc, portal, prompt="login"), allow_redirects=False)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = fresh.get(authorize_url(oidc, portal, prompt="none"), allow_redirects=False)
    assert query(r.headers["Location"])["error"] == "consent_required"
