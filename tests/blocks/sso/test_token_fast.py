"""The token endpoint's fast path (``blocks/sso/fast.py``): client credentials, refresh and the
authorisation-code exchange give the same answers and the same errors with it (PostgreSQL) and
without it (DOT's path), and a client copy cached in the process never outlives a secret rotation
or a change of registration."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from django.db import connection

from dancu.blocks.sso import fast

from .conftest import browser, run_flow, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["fast", "dot"])
def path(request: Any, settings: Any) -> str:
    """Each test runs with the fast path on and off; on SQLite both are DOT's path."""
    settings.DANCU_OIDC_TOKEN_FAST_PATH = request.param == "fast"
    fast.clear_cache()
    return str(request.param)


@pytest.fixture
def used(monkeypatch: Any) -> list[str]:
    """The grants the fast path answered (it answers only successes)."""
    seen: list[str] = []
    for name in ("client_credentials", "refresh", "authorization_code"):
        original = getattr(fast, name)

        def spy(request: Any, _original: Any = original, _name: str = name) -> Any:
            answer = _original(request)
            if answer is not None:
                seen.append(_name)
            return answer

        monkeypatch.setattr(fast, name, spy)
    return seen


def _expect_fast(path: str) -> bool:
    return path == "fast" and connection.vendor == "postgresql"


@pytest.fixture
def machine(transactional_db: None) -> Any:
    from dancu.blocks.sso.services import register_client

    return register_client(name_vi="Hệ thống một cửa", machine=True, scopes=["id_number"])


def _cc(oidc: str, client_id: str, secret: str, **data: str) -> requests.Response:
    return requests.post(
        oidc + "/oidc/token",
        data={"grant_type": "client_credentials", **data},
        auth=(client_id, secret),
        timeout=10,
    )


def test_client_credentials_answer(oidc: str, machine: Any, path: str, used: list[str]) -> None:
    from oauth2_provider.models import AccessToken

    for _ in range(2):  # the second is served from the cached client
        r = _cc(oidc, machine.client_id, machine.client_secret)
        assert r.status_code == 200, r.text
        assert r.headers["Cache-Control"] == "no-store" and r.headers["Content-Type"] == "application/json"
        body = r.json()
        assert set(body) == {"access_token", "expires_in", "token_type", "scope"}
        assert body["token_type"] == "Bearer" and body["expires_in"] == 600 and body["scope"] == ""
    scoped = _cc(oidc, machine.client_id, machine.client_secret, scope="id_number")
    assert scoped.status_code == 200 and scoped.json()["scope"] == "id_number"
    at = AccessToken.objects.get(
        token_checksum=fast.hashlib.sha256(scoped.json()["access_token"].encode()).hexdigest()
    )
    assert at.user_id is None and at.scope == "id_number" and at.application.client_id == machine.client_id
    assert at.token == ""  # hashed at rest, as DOT stores it (RFC 9700 token storage)
    # In the body instead of HTTP Basic (client_secret_post).
    post = requests.post(
        oidc + "/oidc/token",
        data={
            "grant_type": "client_credentials",
            "client_id": machine.client_id,
            "client_secret": machine.client_secret,
        },
        timeout=10,
    )
    assert post.status_code == 200
    assert used == (["client_credentials"] * 4 if _expect_fast(path) else [])


def test_client_credentials_errors(oidc: str, machine: Any, register_rp: Any, path: str) -> None:
    portal = register_rp()
    _cc(oidc, machine.client_id, machine.client_secret)  # warm the cache
    wrong = _cc(oidc, machine.client_id, "wrong")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    unknown = _cc(oidc, "no-such-client", machine.client_secret)
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
    # A relying party registered for the code flow may not use client credentials (RFC 6749 §5.2).
    rp = _cc(oidc, portal.client_id, portal.client_secret)
    assert rp.status_code == 400 and rp.json()["error"] == "unauthorized_client"
    beyond = _cc(oidc, machine.client_id, machine.client_secret, scope="id_number profile")
    assert beyond.status_code == 400 and beyond.json()["error"] == "invalid_scope"
    odd = _cc(oidc, machine.client_id, machine.client_secret, scope="id_number  id_number")
    assert odd.status_code == 400 and odd.json()["error"] == "invalid_scope"


def test_rotated_secret_and_changed_registration_apply_at_once(
    oidc: str, machine: Any, path: str, used: list[str]
) -> None:
    """The cached copy is checked by the statement: a change made behind this process's back (no
    signal, as in another process) is refused by the database all the same."""
    from oauth2_provider.models import Application

    from dancu.blocks.sso.hashers import ClientSecretHasher
    from dancu.blocks.sso.models import RelyingParty

    assert _cc(oidc, machine.client_id, machine.client_secret).status_code == 200  # cached now
    hasher = ClientSecretHasher()
    Application.objects.filter(client_id=machine.client_id).update(
        client_secret=hasher.encode("the-new-secret", hasher.salt())
    )
    old = _cc(oidc, machine.client_id, machine.client_secret)
    assert old.status_code == 401 and old.json()["error"] == "invalid_client"
    assert _cc(oidc, machine.client_id, "the-new-secret").status_code == 200
    RelyingParty.objects.filter(application__client_id=machine.client_id).update(allowed_scopes="")
    narrowed = _cc(oidc, machine.client_id, "the-new-secret", scope="id_number")
    assert narrowed.status_code == 400 and narrowed.json()["error"] == "invalid_scope"
    Application.objects.filter(client_id=machine.client_id).delete()
    gone = _cc(oidc, machine.client_id, "the-new-secret")
    assert gone.status_code == 401 and gone.json()["error"] == "invalid_client"


def _refresh(oidc: str, c: Any, token: str, secret: str | None = None, **extra: str) -> requests.Response:
    return requests.post(
        oidc + "/oidc/token",
        data={"grant_type": "refresh_token", "refresh_token": token, **extra},
        auth=(c.client_id, secret or c.client_secret),
        timeout=10,
    )


def test_refresh_rotates_and_detects_reuse(
    oidc: str, register_rp: Any, citizen_user: Any, path: str, used: list[str]
) -> None:
    from oauth2_provider.models import AccessToken, RefreshToken

    portal = register_rp()
    flow = run_flow(oidc, portal, browser(oidc, session_cookie(citizen_user)))
    first = flow.token["refresh_token"]
    r = _refresh(oidc, portal, first)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope", "refresh_token"}
    assert body["scope"] == "openid profile" and body["refresh_token"] != first
    assert r.headers["Cache-Control"] == "no-store"
    # The first access token is gone, the new one works at userinfo.
    assert flow.session.get(oidc + "/oidc/userinfo").status_code == 401
    info = requests.get(
        oidc + "/oidc/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10
    )
    assert info.status_code == 200 and info.json()["sub"]
    # The same rows DOT writes: same family, the old one revoked and detached.
    rows = list(RefreshToken.objects.order_by("id"))
    assert len(rows) == 2 and rows[0].revoked and rows[0].access_token_id is None
    assert rows[1].revoked is None and rows[1].token_family == rows[0].token_family
    assert AccessToken.objects.get(pk=rows[1].access_token_id).source_refresh_token_id == rows[0].pk
    second = body["refresh_token"]
    third = _refresh(oidc, portal, second)
    assert third.status_code == 200
    # Reuse of a rotated token: refused, and the whole family is revoked (RFC 9700 §4.14.2).
    reuse = _refresh(oidc, portal, first)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    after = _refresh(oidc, portal, third.json()["refresh_token"])
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant"
    assert used == (["authorization_code", "refresh", "refresh"] if _expect_fast(path) else [])


def test_refresh_errors(oidc: str, register_rp: Any, citizen_user: Any, path: str) -> None:
    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    portal, other = register_rp(), register_rp("Ứng dụng công dân", host="app.example")
    flow = run_flow(oidc, portal, browser(oidc, session_cookie(citizen_user)))
    token = flow.token["refresh_token"]
    assert _refresh(oidc, portal, token, secret="wrong").json()["error"] == "invalid_client"
    stolen = _refresh(oidc, other, token)  # another client's refresh token
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    wider = _refresh(oidc, portal, token, scope="openid profile address")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    narrower = _refresh(oidc, portal, token, scope="openid")  # DOT's path: a narrower scope is fine
    assert narrower.status_code == 200 and narrower.json()["scope"] == "openid"
    fresh = narrower.json()["refresh_token"]
    # Dead REFRESH_TOKEN_EXPIRE_SECONDS after its access token expired (DOT's rule, #746).
    AccessToken.objects.update(expires=timezone.now() - timezone.timedelta(days=31))
    expired = _refresh(oidc, portal, fresh)
    assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"


def test_concurrent_refreshes_of_one_token_rotate_it_once(
    oidc: str, register_rp: Any, citizen_user: Any, path: str
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks: DOT's path relies on SELECT … FOR UPDATE")
    portal = register_rp()
    flow = run_flow(oidc, portal, browser(oidc, session_cookie(citizen_user)))
    token = flow.token["refresh_token"]
    answers: list[int] = []
    issued: set[str] = set()
    barrier = threading.Barrier(4)

    def go() -> None:
        barrier.wait()
        r = _refresh(oidc, portal, token)
        answers.append(r.status_code)
        if r.status_code == 200:
            issued.add(r.json()["refresh_token"])

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # One rotation at most. DOT's path answers the requests that waited on its row lock with the
    # pair already issued — read back from the table, where tokens are stored hashed, so as empty
    # strings (a DOT quirk, kept off the fast path); the fast path's single UPDATE lets one win and
    # sends the others to DOT's reuse detection, which revokes the family (no grace period).
    assert len(answers) == 4 and len(issued - {""}) <= 1
    if _expect_fast(path):
        assert answers.count(200) <= 1


# --------------------------------------------------------------------------- the code exchange
def _code(oidc: str, c: Any, b: requests.Session, scope: str = "openid profile") -> tuple[str, str, str]:
    """(code, verifier, nonce) of an authorisation request the logged-in browser ``b`` makes."""
    from authlib.common.security import generate_token

    from .conftest import authorize_url, consent, pkce_pair, query

    verifier, challenge = pkce_pair()
    nonce = generate_token(16)
    r = b.get(
        authorize_url(oidc, c, scope=scope, nonce=nonce, code_challenge=challenge), allow_redirects=False
    )
    if r.status_code == 200:  # the consent screen, the first time
        r = consent(b, r)
    assert r.status_code == 302, r.text[:300]
    return query(r.headers["Location"])["code"], verifier, nonce


def _exchange(oidc: str, c: Any, code: str, verifier: str, secret: str | None = None, **extra: str) -> Any:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": c.redirect_uri}
    data["code_verifier"] = verifier
    data.update(extra)
    return requests.post(
        oidc + "/oidc/token", data=data, auth=(c.client_id, secret or c.client_secret), timeout=10
    )


def test_code_exchange_answer_is_dots(
    oidc: str, register_rp: Any, citizen_user: Any, path: str, used: list[str]
) -> None:
    """The answer, the ID token's claims and the rows stored are those of DOT's path."""
    from joserfc import jwt as jose_jwt
    from oauth2_provider.models import AccessToken, Grant, IDToken, RefreshToken

    from dancu.blocks.sso.models import RedeemedCode

    from .conftest import jwks_of

    portal = register_rp()
    b = browser(oidc, session_cookie(citizen_user))
    code, verifier, nonce = _code(oidc, portal, b)
    r = _exchange(oidc, portal, code, verifier)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Pragma"] == "no-cache"
    body = r.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope", "refresh_token", "id_token"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600 and body["scope"] == "openid profile"
    claims = jose_jwt.decode(body["id_token"], jwks_of(oidc)).claims
    assert set(claims) == {
        "aud",
        "iat",
        "nonce",
        "at_hash",
        "sub",
        "auth_time",
        "acr",
        "amr",
        "iss",
        "exp",
        "jti",
    }
    assert claims["aud"] == portal.client_id and claims["nonce"] == nonce and claims["iss"] == oidc
    digest = fast.hashlib.sha256(body["access_token"].encode()).digest()
    assert claims["at_hash"] == fast.base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")
    assert claims["acr"] == "urn:dancu:acr:level2" and claims["amr"] == ["pwd"]
    assert 590 <= claims["exp"] - claims["iat"] <= 610
    # The rows: the grant gone; ID token, access token (linked to it), refresh token, redeemed code.
    assert not Grant.objects.exists()
    idt = IDToken.objects.get()
    assert str(idt.jti) == claims["jti"] and idt.user_id == citizen_user.pk and idt.scope == "openid profile"
    at = AccessToken.objects.get()
    assert at.token_checksum == fast.hashlib.sha256(body["access_token"].encode()).hexdigest()
    assert at.id_token_id == idt.pk and at.user_id == citizen_user.pk and at.resource == []
    rt = RefreshToken.objects.get()
    assert rt.access_token_id == at.pk and rt.token_family is not None and rt.revoked is None
    spent = RedeemedCode.objects.get()
    assert spent.access_token_id == at.pk and spent.token_family == rt.token_family
    assert spent.client_id == portal.client_id and spent.replayed_at is None
    info = requests.get(
        oidc + "/oidc/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10
    )
    assert info.status_code == 200 and info.json()["sub"] == claims["sub"]
    # Without ``openid``: an OAuth token pair, no ID token and no ID-token row.
    code, verifier, _nonce = _code(oidc, portal, b, scope="profile")
    plain = _exchange(oidc, portal, code, verifier)
    assert plain.status_code == 200 and "id_token" not in plain.json() and plain.json()["scope"] == "profile"
    assert IDToken.objects.count() == 1
    assert AccessToken.objects.filter(id_token__isnull=True).count() == 1
    assert used == (["authorization_code"] * 2 if _expect_fast(path) else [])


def test_code_exchange_refusals_are_dots(
    oidc: str, register_rp: Any, citizen_user: Any, path: str, used: list[str]
) -> None:
    """Each refused exchange gets DOT's error; the ones that do not consume the code leave it
    usable, and a replay revokes what the code gave (RFC 6749 §4.1.2)."""
    from django.utils import timezone
    from oauth2_provider.models import AccessToken, Grant

    portal, other = register_rp(), register_rp("Ứng dụng công dân", host="app.example")
    b = browser(oidc, session_cookie(citizen_user))
    code, verifier, _nonce = _code(oidc, portal, b)
    refusals = {
        "wrong verifier": _exchange(oidc, portal, code, "x" * 43),
        "short verifier": _exchange(oidc, portal, code, verifier[:20]),
        "other client": _exchange(oidc, other, code, verifier),
        "wrong secret": _exchange(oidc, portal, code, verifier, secret="wrong"),
        "extra path": _exchange(oidc, portal, code, verifier, redirect_uri=portal.redirect_uri + "/x"),
    }
    errors = {k: (r.status_code, r.json().get("error")) for k, r in refusals.items()}
    assert errors["wrong secret"] == (401, "invalid_client")
    for name in ("wrong verifier", "short verifier", "other client"):
        assert errors[name] == (400, "invalid_grant"), (name, errors)
    assert errors["extra path"] == (400, "invalid_request"), errors  # redirect_uri mismatch
    assert not used  # nothing above was answered by the fast path
    assert Grant.objects.filter(code=code).exists()  # and none of them consumed the code
    good = _exchange(oidc, portal, code, verifier)
    assert good.status_code == 200, good.text
    access = good.json()["access_token"]
    replay = _exchange(oidc, portal, code, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    gone = requests.get(oidc + "/oidc/userinfo", headers={"Authorization": f"Bearer {access}"}, timeout=10)
    assert gone.status_code == 401  # the replay revoked the tokens the code gave
    # An expired code.
    code, verifier, _nonce = _code(oidc, portal, b)
    Grant.objects.filter(code=code).update(expires=timezone.now() - timezone.timedelta(seconds=1))
    late = _exchange(oidc, portal, code, verifier)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    assert AccessToken.objects.count() == 0
    # A ``resource`` on the token request (RFC 8707 §2.2) is DOT's: the pair is bound to it.
    code, verifier, _nonce = _code(oidc, portal, b)
    bound = _exchange(oidc, portal, code, verifier, resource="https://api.example/")
    assert bound.status_code == 200, bound.text
    assert AccessToken.objects.get().resource == ["https://api.example/"]
    assert used == (["authorization_code"] if _expect_fast(path) else [])


def test_concurrent_exchanges_of_one_code_issue_at_most_once(
    oidc: str, register_rp: Any, citizen_user: Any, path: str
) -> None:
    from oauth2_provider.models import AccessToken

    if connection.vendor != "postgresql":
        pytest.skip("the race needs concurrent writers (SQLite serialises the live server's requests)")
    portal = register_rp()
    code, verifier, _nonce = _code(oidc, portal, browser(oidc, session_cookie(citizen_user)))
    answers: list[int] = []
    barrier = threading.Barrier(4)

    def go() -> None:
        barrier.wait()
        answers.append(_exchange(oidc, portal, code, verifier).status_code)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) in ([200, 400, 400, 400], [400, 400, 400, 400]), answers
    # The winner's tokens survive only if no loser's replay came after its commit; never two pairs.
    assert AccessToken.objects.count() <= 1


def test_tokens_have_oauthlibs_form_and_no_modulo_bias(monkeypatch: Any) -> None:
    """30 characters of oauthlib's 62-character alphabet; a random byte ≥ 248 would favour the
    first eight characters if reduced modulo 62, so it is drawn again instead."""
    from oauthlib.common import UNICODE_ASCII_CHARACTER_SET

    tokens = {fast.generate_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(len(t) == 30 and set(t) <= set(UNICODE_ASCII_CHARACTER_SET) for t in tokens)
    assert set("".join(tokens)) == set(UNICODE_ASCII_CHARACTER_SET)
    draws = iter([bytes([255, 248, 0, 61, 62] + [1] * 35), bytes([2] * 40)])
    from dancu import tokens

    monkeypatch.setattr(tokens.os, "urandom", lambda n: next(draws))
    token = fast.generate_token()
    assert token == "a" + "9" + "a" + "b" * 27  # 255 and 248 dropped; 62 is "a" again
