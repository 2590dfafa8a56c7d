"""Fixtures of the browser tests; the browser itself is in ``helpers``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _allow_orm_calls_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    still synchronous, so Django's async-safety guard is lifted for the browser tests only."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: ``$DANCU_SCREENSHOT_DIR`` when set, else pytest's ``tmp_path``."""
    target = Path(os.environ.get("DANCU_SCREENSHOT_DIR") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture(autouse=True)
def _staff_sign_in_through_sso(request: pytest.FixtureRequest, settings: Any) -> None:
    """Staff pages require the platform's SSO sign-in in the browser tests, as in production
    (ADR 0011): the provider's issuer is the live server, whose plain-HTTP cookies must not be
    Secure-only. ``helpers.log_in`` goes through ``/login/`` and the provider's log-in page."""
    settings.DANCU_STAFF_SSO_REQUIRED = True
    if "live_server" in request.fixturenames:
        live = request.getfixturevalue("live_server")
        settings.DANCU_OIDC_ISSUER = live.url
        settings.DANCU_SSO_DEMO_PROVIDER_URL = live.url
        # django-oauth-toolkit's issuer (the RFC 9207 ``iss`` of authorisation responses).
        settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": live.url}
        settings.CSRF_COOKIE_SECURE = False
        settings.SESSION_COOKIE_SECURE = False
