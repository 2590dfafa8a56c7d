"""In a real browser: a city police officer logs in, finds a citizen by a name typed without
diacritics, opens the record and sees that opening in the record's access log.

Drives Debian's Chromium (``apt-get install chromium``) through Playwright; a browser is never
downloaded. Without Chromium the test fails — it must not pass silently by skipping.
Screenshots go to pytest's ``tmp_path``, or to ``$DANCU_SCREENSHOT_DIR`` when that is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry.services import NewCitizen, register_citizen
from tests.conftest import Person

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(autouse=True)
def _allow_orm_calls_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    still synchronous, so Django's async-safety guard is lifted for this module only."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("DANCU_SCREENSHOT_DIR") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


@contextmanager
def headless_chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright; fails the test (never skips) without it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install Debian's package with "
            "`apt-get install -y chromium` (browser tests never download a browser).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def citizen(transactional_db: None, registrar: Person) -> int:
    """Nguyễn Văn An of Phường Tây Hồ, registered through the registry service."""
    call_command("load_adminunits", verbosity=0)
    view = register_citizen(
        registrar.ctx("registry.administration"),
        NewCitizen(
            id_number="001085012345",
            full_name="Nguyễn Văn An",
            date_of_birth=date(1985, 3, 2),
            sex="M",
            permanent_address_text="Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội",
        ),
        reason="Đăng ký thử nghiệm",
        legal_basis="Luật Cư trú 2020",
    )
    return view.citizen_id


def test_city_police_logs_in_searches_without_diacritics_and_sees_the_access_log(
    live_server: Any, city_police: Person, citizen: int, screenshots: Path
) -> None:
    base = live_server.url
    with headless_chromium() as chromium:
        page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
        page.set_default_timeout(15_000)

        page.goto(f"{base}/")
        assert "Nền tảng dân cư Đề án 06" in page.inner_text("header")
        page.screenshot(path=str(screenshots / "home.png"), full_page=True)

        page.goto(f"{base}/login/?next=/console/")
        page.fill("#id_username", "officer.city")
        page.fill("#id_password", city_police.password)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/console/")
        assert "Công an thành phố Hà Nội" in page.inner_text("header")

        page.fill("#id_name", "nguyen van an")  # typed without diacritics
        page.select_option("#id_purpose", "registry.lookup")
        page.click("main form button[type=submit]")
        results = page.locator("[data-testid=results]")
        assert "Nguyễn Văn An" in results.inner_text()
        page.screenshot(path=str(screenshots / "search.png"), full_page=True)

        results.get_by_role("link", name="Nguyễn Văn An").click()
        page.wait_for_url("**/console/citizens/001085012345/**")
        assert page.inner_text("[data-testid=full-name]") == "Nguyễn Văn An"
        access_log = page.locator("[data-testid=access-log]").inner_text()
        assert "officer.city" in access_log
        assert "Đã mở hồ sơ" in access_log  # "opened the record": this very opening
        page.screenshot(path=str(screenshots / "record.png"), full_page=True)
        assert (screenshots / "record.png").stat().st_size > 0

    opened = AuditEvent.objects.filter(
        actor_user_id=city_police.user.pk, action="registry.read", subject_citizen_id=citizen
    )
    assert opened.count() == 1
