"""In a real browser: a citizen signed in at level 2 opens the city public-service portal, clicks
"sign in with your e-identification account", reads the consent screen (the claims asked for),
allows, and sees the claims the portal received; the city app then signs in without another
log-in. Debian's Chromium through Playwright, headless; a browser is never downloaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.blocks.sso.conftest import _sso_settings, citizen_user, oidc, session_cookie
from tests.browser.helpers import headless_chromium, new_page

pytestmark = pytest.mark.browser
__all__ = ["_sso_settings", "citizen_user", "oidc"]


def test_citizen_signs_in_to_both_demo_services(
    oidc: str, transactional_db: None, citizen_user: Any, screenshots: Path
) -> None:
    from urllib.parse import urlsplit

    from django.conf import settings

    from dancu.apps.sso_demo.demo import seed_demo

    seed_demo()
    cookie = session_cookie(citizen_user, level=2, amr=("pwd", "otp"))
    with headless_chromium() as chromium:
        page = new_page(chromium)
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": cookie,
                    "domain": urlsplit(oidc).hostname,
                    "path": "/",
                }
            ]
        )
        page.goto(f"{oidc}/demo/portal/")
        page.click("[data-testid=demo-login]")
        page.wait_for_selector("[data-testid=claims] [data-claim=birthdate]")
        assert "Cổng dịch vụ công thành phố" in page.inner_text("[data-testid=rp-name]")
        assert "Số định danh cá nhân" in page.inner_text("[data-testid=claims]")
        page.screenshot(path=str(screenshots / "sso-consent.png"), full_page=True)
        page.click("[data-testid=allow]")
        page.wait_for_url(f"{oidc}/demo/portal/")
        assert page.inner_text("[data-testid=claims] [data-claim=name]") == "Nguyễn Văn An"
        assert page.inner_text("[data-testid=claims] [data-claim=id_number]") == "001085012345"
        assert page.inner_text("[data-testid=id-token] [data-claim=acr]") == "urn:dancu:acr:level2:mfa"
        page.screenshot(path=str(screenshots / "sso-portal.png"), full_page=True)
        page.goto(f"{oidc}/demo/app/")
        page.click("[data-testid=demo-login]")
        page.click("[data-testid=allow]")
        page.wait_for_url(f"{oidc}/demo/app/")
        assert page.inner_text("[data-testid=claims] [data-claim=name]") == "Nguyễn Văn An"
        page.close()
