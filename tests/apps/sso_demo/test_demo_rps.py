"""The demo relying parties log in through the provider (authlib client inside the app, calling
the provider back over HTTP) and show the claims they received."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.blocks.sso.conftest import _sso_settings, browser, citizen_user, consent, oidc, session_cookie

# The provider's fixtures, shared with its block tests.
__all__ = ["_sso_settings", "citizen_user", "oidc"]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_rps(oidc: str) -> None:
    from dancu.apps.sso_demo.demo import seed_demo

    assert [p for p, _ in seed_demo()] == ["/demo/portal/", "/demo/app/"]
    seed_demo()  # idempotent


def _sign_in(b: requests.Session, oidc: str, slug: str) -> requests.Response:
    r = b.get(f"{oidc}/demo/{slug}/login", allow_redirects=True)
    if "pending" in r.text:
        r = consent(b, r)
        r = b.get(r.headers["Location"], allow_redirects=True)
    return r


def test_portal_and_app_with_one_sign_in(oidc: str, demo_rps: None, citizen_user: Any) -> None:
    b = browser(oidc, session_cookie(citizen_user, level=2, amr=("pwd", "otp")))
    portal = _sign_in(b, oidc, "portal")
    assert portal.url == f"{oidc}/demo/portal/"
    assert "Nguyễn Văn An" in portal.text and "001085012345" in portal.text and "1985-03-02" in portal.text
    assert "urn:dancu:acr:level2:mfa" in portal.text
    app = _sign_in(b, oidc, "app")
    assert app.url == f"{oidc}/demo/app/" and "Nguyễn Văn An" in app.text
    assert "001085012345" not in app.text  # the city app is not registered for the ID number


def test_portal_refuses_a_level1_account(oidc: str, demo_rps: None, citizen_user: Any) -> None:
    b = browser(oidc, session_cookie(citizen_user, level=1, amr=("pwd",)))
    r = b.get(f"{oidc}/demo/portal/login", allow_redirects=True)
    assert r.url.startswith(f"{oidc}/demo/portal/?error=unmet_authentication_requirements")


def test_logout_through_the_provider(oidc: str, demo_rps: None, citizen_user: Any) -> None:
    b = browser(oidc, session_cookie(citizen_user, level=2, amr=("pwd",)))
    _sign_in(b, oidc, "app")
    r = b.get(f"{oidc}/demo/app/logout", allow_redirects=True)
    assert r.url == f"{oidc}/demo/app/" and "demo-login" in r.text
