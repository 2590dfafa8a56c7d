"""In a real browser: a driving-school clerk logs in, enrols a learner by uploading a photo of
the card's QR code, then at an on-road session another person's card is presented and the page
shows the impersonation flag. Debian's Chromium via Playwright (never downloaded); screenshots in
``tmp_path`` or ``$DANCU_SCREENSHOT_DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dancu.apps.driving.models import Enrolment, SessionCheck
from dancu.blocks.identity.qr import qr_png
from tests.apps.driving.conftest import (  # noqa: F401 — fixtures
    AN_QR,
    MAI_QR,
    pki,
    residents,
    school_clerk,
    trusted,
)
from tests.browser.helpers import headless_chromium, log_in, new_page
from tests.conftest import Person

pytestmark = pytest.mark.browser


def test_clerk_enrols_by_qr_photo_and_another_persons_card_is_flagged(
    live_server: Any,
    transactional_db: None,
    residents: dict[str, Any],  # noqa: F811
    trusted: Any,  # noqa: F811
    school_clerk: Person,  # noqa: F811
    screenshots: Path,
    tmp_path: Path,
) -> None:
    an_photo = tmp_path / "an-qr.png"
    an_photo.write_bytes(qr_png(AN_QR, scale=6))
    mai_photo = tmp_path / "mai-qr.png"
    mai_photo.write_bytes(qr_png(MAI_QR, scale=6))
    base = live_server.url
    with headless_chromium() as chromium:
        page = new_page(chromium)
        log_in(page, base, school_clerk, "/driving/enrol/")

        page.check("input[name=method][value=qr_photo]")
        page.set_input_files("#id_qr_photo", str(an_photo))
        page.select_option("#id_licence_class", "B")
        page.fill("#id_course_start", "01/09/2025")
        page.fill("#id_course_end", "31/12/2025")
        page.screenshot(path=str(screenshots / "driving-enrol.png"), full_page=True)
        page.click("main form button[type=submit]")
        page.wait_for_url("**/driving/enrolments/*/")
        assert page.inner_text("[data-testid=full-name]") == "Nguyễn Văn An"
        # The enrolment's id from the page's address: an ORM call here, inside Playwright's event
        # loop, would open a second connection that outlives the test.
        enrolment_pk = int(page.url.rstrip("/").rsplit("/", 1)[1])

        page.goto(f"{base}/driving/enrolments/{enrolment_pk}/check/")
        page.select_option("#id_kind", "on_road")
        page.fill("#id_instructor", "Lê Văn Hùng")
        page.check("input[name=method][value=qr_photo]")
        page.set_input_files("#id_qr_photo", str(mai_photo))
        page.click("main form button[type=submit]")
        result = page.locator("[data-testid=check-result]")
        assert result.locator("[data-outcome=flagged]").count() == 1
        assert "nghi vấn học thay, thi hộ" in result.inner_text()
        page.screenshot(path=str(screenshots / "driving-flagged.png"), full_page=True)
        assert (screenshots / "driving-flagged.png").stat().st_size > 0

    assert Enrolment.objects.get().pk == enrolment_pk
    check = SessionCheck.objects.get()
    assert check.outcome == "flagged" and [f["code"] for f in check.findings] == ["different_person"]
