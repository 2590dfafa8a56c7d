"""In a real browser: a city police officer logs in, finds a citizen by a name typed without
diacritics, opens the record and sees that opening in the record's access log.

Drives Debian's Chromium through Playwright (``helpers``); a browser is never downloaded.
Screenshots go to pytest's ``tmp_path``, or to ``$DANCU_SCREENSHOT_DIR`` when that is set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dancu.blocks.audit.models import AuditEvent
from tests.browser.helpers import headless_chromium, log_in, new_page, register_an
from tests.conftest import Person

pytestmark = pytest.mark.browser


@pytest.fixture
def citizen(transactional_db: None, registrar: Person) -> int:
    """Nguyễn Văn An of Phường Tây Hồ, registered through the registry service."""
    return register_an(registrar)


def test_city_police_logs_in_searches_without_diacritics_and_sees_the_access_log(
    live_server: Any, city_police: Person, citizen: int, screenshots: Path
) -> None:
    base = live_server.url
    with headless_chromium() as chromium:
        page = new_page(chromium, height=900)

        page.goto(f"{base}/")
        assert "Nền tảng dân cư Đề án 06" in page.inner_text("header")
        page.screenshot(path=str(screenshots / "home.png"), full_page=True)

        log_in(page, base, city_police, "/console/")
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
