"""In a real browser (issue 8, model 20): the credit officer of the Vietnam Bank for Social
Policies in Hà Nội opens the Tây Hồ list that Sở LĐTBXH cleaned against the registry, checks every
person for the poor-household programme (the registry's facts come through the data-exchange
gateway), sees the yes/no tally, opens a "no" and reads the reason of each rule, and downloads the
decisions as CSV. Debian's Chromium through Playwright, headless."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dancu.apps.social_loans import services
from tests.apps.conftest import adminunits, register  # noqa: F401 — fixtures
from tests.apps.social_loans.conftest import (  # noqa: F401 — fixtures
    bank_officer,
    households,
    list_owner,
    seeded,
    tay_ho_list,
)
from tests.browser.helpers import headless_chromium, log_in, new_page
from tests.conftest import Person

pytestmark = pytest.mark.browser


def test_the_bank_officer_checks_a_commune_list_and_reads_the_reasons(
    live_server: Any,
    transactional_db: None,
    bank_officer: Person,  # noqa: F811 — the fixture
    tay_ho_list: services.ListView,  # noqa: F811 — the fixture
    screenshots: Path,
) -> None:
    base = live_server.url
    with headless_chromium() as chromium:
        page = new_page(chromium)
        page.set_default_navigation_timeout(60_000)
        log_in(page, base, bank_officer, "/vay-von/")
        assert "Tín dụng chính sách xã hội" in page.inner_text("h1")
        assert page.locator("[data-testid=check]").count() == 1
        page.click(f"text={tay_ho_list.reference}")
        assert page.locator("[data-testid=entry]").count() == 6
        page.select_option("#id_programme", "HN")
        page.click("[data-testid=check-list-submit]")
        # ten gateway exchanges behind one click: on the shared 2-core machine allow a minute
        page.wait_for_selector("[data-testid=decisions]", timeout=60_000)
        assert page.locator("[data-testid=decision]").count() == 5
        summary = page.inner_text("[data-testid=summary]")
        assert "2" in summary and "3" in summary  # An and Bình yes; Hòa, Chi, Dung no
        assert page.locator("[data-testid=chart] rect").count() == 2
        page.screenshot(path=str(screenshots / "social-loans-decisions.png"), full_page=True)
        page.locator("[data-testid=decision]", has_text="001060012348").locator("a").click()
        page.wait_for_selector("[data-testid=verdict]")
        assert "Không đủ điều kiện" in page.inner_text("[data-testid=verdict]")
        assert "DECEASED" in page.inner_text("[data-testid=reason-alive]")
        assert "DECEASED" not in page.inner_text("[data-testid=reason-residence]")
        page.screenshot(path=str(screenshots / "social-loans-decision.png"), full_page=True)
        page.goto(f"{base}/vay-von/quyet-dinh/")
        with page.expect_download() as download:
            page.click("[data-testid=export-csv]")
        text = Path(download.value.path()).read_text("utf-8-sig")
        assert "001060012348" in text and "DECEASED" in text
