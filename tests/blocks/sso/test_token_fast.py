"""The token endpoint's fast path (``blocks/sso/fast.py``): client credentials and refresh give the
same answers and the same errors with it (PostgreSQL) and without it (DOT's path), and a client
copy cached in the process never outlives a secret rotation or a change of registration."""

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
    for name in ("client_credentials", "refresh"):
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
    assert used == (["refresh", "refresh"] if _expect_fast(path) else [])


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


def test_tokens_have_oauthlibs_form_and_no_modulo_bias(monkeypatch: Any) -> None:
    """30 characters of oauthlib's 62-character alphabet; a random byte ≥ 248 would favour the
    first eight characters if reduced modulo 62, so it is drawn again instead."""
    from oauthlib.common import UNICODE_ASCII_CHARACTER_SET

    tokens = {fast.generate_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(len(t) == 30 and set(t) <= set(UNICODE_ASCII_CHARACTER_SET) for t in tokens)
    assert set("".join(tokens)) == set(UNICODE_ASCII_CHARACTER_SET)
    draws = iter([bytes([255, 248, 0, 61, 62] + [1] * 35), bytes([2] * 40)])
    monkeypatch.setattr(fast.os, "urandom", lambda n: next(draws))
    token = fast.generate_token()
    assert token == "a" + "9" + "a" + "b" * 27  # 255 and 248 dropped; 62 is "a" again
