"""The log-in page as a visitor not logged in sees it, rendered once per language (ADR 0009 §15,
``apps/citizen/login_page.py``).

Specification: for an anonymous GET the page is the bytes the template gives — in Vietnamese and
in English, for any ``next`` — but for the CSRF token, which works as the template's does; a
``next`` that tries to break out of its attribute, or that carries the page's own marker, is
escaped as the template escapes it; a logged-in visitor, a POST with errors and the QR log-in
take the template's path. Actors: a visitor who is not logged in; Nguyễn Văn An, registered.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from dancu.apps.citizen import login_page
from tests.blocks.eid.conftest import AN_ID, PASSWORD

pytestmark = pytest.mark.django_db

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NEXTS = [
    "/oidc/authorize?response_type=code&client_id=portal&scope=openid+profile&state=a%20b",
    '/eid/me/"><script>alert(1)</script>',
    "/eid/me/?q=Nguyễn Văn An&x=1",
    f"/eid/me/?v={login_page._MARK}Csrf",  # the marker itself: escaped and left, not filled in
]


def _page(client: Client, next_url: str, language: str) -> str:
    response = client.get("/eid/login/", {"next": next_url}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("next_url", NEXTS)
def test_the_visitors_page_is_the_templates_page(settings: Any, language: str, next_url: str) -> None:
    visitor = Client()
    cached = _page(visitor, next_url, language)
    settings.DEBUG = True  # the template's path
    rendered = _page(Client(), next_url, language)
    assert len(_TOKEN.findall(cached)) == 2 and len(set(_TOKEN.findall(cached))) == 1
    assert _TOKEN.sub("TOKEN", cached) == _TOKEN.sub("TOKEN", rendered)
    assert login_page._MARK not in cached.replace(f"{login_page._MARK}Csrf", "")  # only the test's own
    assert "<script>alert" not in cached


def test_the_cached_pages_token_logs_the_visitor_in(an_registered: int) -> None:
    visitor = Client(enforce_csrf_checks=True)
    page = _page(visitor, "/eid/me/", "vi")
    token = _TOKEN.search(page)
    assert token is not None
    refused = visitor.post("/eid/login/", {"username": AN_ID, "password": PASSWORD, "next": "/eid/me/"})
    assert refused.status_code == 403  # without the token: CSRF refusal
    ok = visitor.post(
        "/eid/login/",
        {"username": AN_ID, "password": PASSWORD, "next": "/eid/me/", "csrfmiddlewaretoken": token.group(1)},
    )
    assert ok.status_code == 302 and ok["Location"] == "/eid/me/"


def test_a_logged_in_visitor_a_refused_log_in_and_the_qr_page_take_the_template(
    client: Client, an_registered: int, monkeypatch: Any
) -> None:
    used: list[str] = []
    original = login_page.anonymous_page
    monkeypatch.setattr(
        login_page,
        "anonymous_page",
        lambda request, next_url: used.append(next_url) or original(request, next_url),
    )
    wrong = client.post(
        "/eid/login/", {"username": AN_ID, "password": "wrong-password-1", "next": "/eid/me/"}
    )
    assert wrong.status_code == 200 and 'data-testid="login-error"' in wrong.content.decode()
    assert 'data-testid="qr-link"' in client.get("/eid/login/?next=/eid/me/&qr=1").content.decode()
    assert used == []
    client.post("/eid/login/", {"username": AN_ID, "password": PASSWORD, "next": "/eid/me/"})
    page = client.get("/eid/login/?next=/eid/me/").content.decode()
    assert 'data-testid="username"' in page and used == []
    Client().get("/eid/login/?next=/eid/me/")
    assert used == ["/eid/me/"]
