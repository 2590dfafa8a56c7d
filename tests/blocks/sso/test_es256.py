"""ES256 ID tokens (RFC 7518 §3.4) for the relying parties registered for them, RS256 for the
others: each receives its own algorithm only, both kinds of key are in the JWKS and rotate."""

from __future__ import annotations

import base64
import json
from io import StringIO
from typing import Any

import pytest
import requests
from django.core.management import call_command
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from dancu.blocks.sso import keys

from .conftest import browser, jwks_of, run_flow, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def _header(token: str) -> dict[str, Any]:
    head = token.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))))


@pytest.fixture
def b(oidc: str, citizen_user: Any) -> requests.Session:
    return browser(oidc, session_cookie(citizen_user, level=2, amr=("pwd",)))


def test_discovery_and_jwks_offer_both_algorithms(oidc: str) -> None:
    meta = requests.get(oidc + "/.well-known/openid-configuration", timeout=10).json()
    assert meta["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    published = requests.get(meta["jwks_uri"], timeout=10).json()["keys"]
    kinds = {(k["kty"], k["alg"], k.get("crv")) for k in published}
    assert kinds == {("RSA", "RS256", None), ("EC", "ES256", "P-256")}
    assert all("d" not in k and k["use"] == "sig" and k["kid"] for k in published)  # public keys only


def test_es256_relying_party_receives_es256_only(oidc: str, register_rp: Any, b: requests.Session) -> None:
    es = register_rp("Ứng dụng công dân", host="app.example", id_token_alg="ES256")
    rs = register_rp()
    es_token = run_flow(oidc, es, b).token["id_token"]
    rs_token = run_flow(oidc, rs, b).token["id_token"]
    assert _header(es_token)["alg"] == "ES256" and _header(rs_token)["alg"] == "RS256"
    # Validated by joserfc against the JWKS, as the relying party does, with its one algorithm.
    decoded = jwt.decode(es_token, jwks_of(oidc), algorithms=["ES256"])
    assert decoded.claims["aud"] == es.client_id and decoded.claims["acr"]
    jwt.JWTClaimsRegistry(leeway=5, exp={"essential": True}).validate(decoded.claims)
    with pytest.raises(JoseError):
        jwt.decode(es_token, jwks_of(oidc), algorithms=["RS256"])
    with pytest.raises(JoseError):
        jwt.decode(rs_token, jwks_of(oidc), algorithms=["ES256"])
    assert jwt.decode(rs_token, jwks_of(oidc), algorithms=["RS256"]).claims["aud"] == rs.client_id


def test_authlib_client_validates_an_es256_token(oidc: str, register_rp: Any, b: requests.Session) -> None:
    from authlib.oidc.core import CodeIDToken

    es = register_rp("Ứng dụng công dân", host="app.example", id_token_alg="ES256")
    flow = run_flow(oidc, es, b)
    claims = jwt.decode(flow.token["id_token"], jwks_of(oidc), algorithms=["ES256"]).claims
    checked = CodeIDToken(
        claims, {"alg": "ES256"}, options={"iss": {"value": oidc}, "aud": {"value": es.client_id}},
        params={"nonce": flow.nonce},
    )  # fmt: skip
    checked.validate(leeway=5)


def test_forged_es256_tokens_are_refused(oidc: str, register_rp: Any, b: requests.Session) -> None:
    es = register_rp("Ứng dụng công dân", host="app.example", id_token_alg="ES256")
    real = jwt.decode(run_flow(oidc, es, b).token["id_token"], jwks_of(oidc), algorithms=["ES256"])
    attacker = ECKey.generate_key("P-256")
    forged = jwt.encode({"alg": "ES256", "kid": real.header["kid"]}, dict(real.claims), attacker)
    with pytest.raises(JoseError):
        jwt.decode(forged, jwks_of(oidc), algorithms=["ES256"])
    # An RS256 header naming the EC key (or the reverse) selects no key at the provider.
    rsa_kid = next(
        k["kid"] for k in requests.get(oidc + "/oidc/jwks", timeout=10).json()["keys"] if k["kty"] == "RSA"
    )
    assert keys.verification_key(real.header["kid"], "RS256") is None
    assert keys.verification_key(rsa_kid, "ES256") is None
    assert keys.verification_key(real.header["kid"], "ES256") is not None
    for token in (forged, jwt.encode({"alg": "ES256", "kid": rsa_kid}, dict(real.claims), attacker)):
        r = b.get(oidc + "/oidc/logout", params={"id_token_hint": token}, allow_redirects=False)
        assert r.status_code == 400


def test_es256_hint_accepted_at_logout(oidc: str, register_rp: Any, b: requests.Session) -> None:
    es = register_rp("Ứng dụng công dân", host="app.example", id_token_alg="ES256")
    hint = run_flow(oidc, es, b).token["id_token"]
    r = b.get(
        oidc + "/oidc/logout",
        params={"id_token_hint": hint, "post_logout_redirect_uri": es.logout_uri},
        allow_redirects=False,
    )
    assert r.status_code == 302 and r.headers["Location"] == es.logout_uri


def test_both_kinds_rotate(oidc: str, register_rp: Any, b: requests.Session) -> None:
    es = register_rp("Ứng dụng công dân", host="app.example", id_token_alg="ES256")
    before = run_flow(oidc, es, b).token["id_token"]
    old_kid = _header(before)["kid"]
    out = StringIO()
    call_command("oidc_keys", "rotate", stdout=out)
    assert "alg=ES256" in out.getvalue() and "alg=RS256" in out.getvalue()
    keys.clear_cache()
    after = run_flow(oidc, es, b).token["id_token"]
    assert _header(after)["kid"] != old_kid and _header(after)["alg"] == "ES256"
    published = requests.get(oidc + "/oidc/jwks", timeout=10).json()["keys"]
    assert len(published) == 4 and old_kid in {k["kid"] for k in published}  # grace period
    jwt.decode(before, jwks_of(oidc), algorithms=["ES256"])  # still verifies


def test_registration_refuses_other_algorithms(db: None) -> None:
    from dancu.blocks.sso.services import register_client
    from dancu.errors import DomainValidationError

    for alg in ("none", "HS256", "PS256"):
        with pytest.raises(DomainValidationError):
            register_client(name_vi="X", redirect_uris=["https://x.example/cb"], id_token_alg=alg)
