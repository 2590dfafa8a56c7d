"""In a real browser: Nguyễn Văn An, holding a level-2 account, registers a level-1 account for
his son Khôi (4) from his own page — the population registry records him as the father — sees
it listed on his page and presents it with its QR (ADR 0017, Decree 69/2024/NĐ-CP Art. 7).
Debian's Chromium via Playwright; screenshots in ``tmp_path`` or ``$DANCU_SCREENSHOT_DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dancu.blocks.eid.models import Account
from dancu.blocks.identity.chip import synthetic_face_jpeg
from tests.blocks.eid.conftest import (  # noqa: F401 — fixtures
    AN_ID,
    AN_PHONE,
    KHOI_ID,
    PASSWORD,
    Outbox,
    an_children,
    an_chip,
    an_level2,
    an_phone_on_record,
    an_registered,
    outbox,
    pki,
    residents,
    trusted,
)
from tests.browser.helpers import headless_chromium, new_page

pytestmark = pytest.mark.browser


def test_a_father_registers_and_presents_his_sons_account(
    live_server: Any,
    transactional_db: None,
    an_level2: int,  # noqa: F811
    an_children: dict[str, Any],  # noqa: F811
    outbox: Outbox,  # noqa: F811
    screenshots: Path,
    tmp_path: Path,
) -> None:
    photo = tmp_path / "khoi.jpg"
    photo.write_bytes(synthetic_face_jpeg(5))
    base = live_server.url
    with headless_chromium() as chromium:
        page = new_page(chromium)
        page.goto(f"{base}/eid/login/?next=/eid/me/")
        page.fill("#id_username", AN_ID)
        page.fill("#id_password", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(f"{base}/eid/me/")
        page.click("[data-testid=register-child]")
        # Registering a child is a legally significant act: the password log-in is stepped up
        # with a second factor (an SMS code to his phone) first.
        page.wait_for_url("**/eid/step-up/**")
        page.click("button:has-text('SMS')")
        page.wait_for_selector("#id_code")
        page.fill("#id_code", outbox.last_code(AN_PHONE))
        page.click("main form button[type=submit]")
        page.wait_for_url(f"{base}/eid/me/children/register/")
        page.fill("#id_id_number", KHOI_ID)
        page.fill("#id_full_name", "Nguyễn Minh Khôi")
        page.fill("#id_date_of_birth", "10/05/2022")
        page.fill("#id_card_issued_on", "20/09/2024")
        page.set_input_files("#id_photo", str(photo))
        page.screenshot(path=str(screenshots / "eid-child-register.png"), full_page=True)
        page.click("main form button[type=submit]")
        page.wait_for_selector("[data-testid=child-registered]")
        row = page.locator(f"[data-testid=child][data-id-number='{KHOI_ID}']")
        assert row.count() == 1
        row.locator("[data-testid=child-present]").click()
        page.wait_for_selector("[data-testid=child-presentation] img")
        page.screenshot(path=str(screenshots / "eid-child-present.png"), full_page=True)
        # While he manages the account he sees who accessed his son's data (ADR 0017 §3).
        page.goto(f"{base}/eid/me/#children")
        page.locator(f"[data-testid=child][data-id-number='{KHOI_ID}'] [data-testid=child-history]").click()
        page.wait_for_selector("[data-testid=history]")
        assert "eid.registration.guardian" in page.inner_text("[data-testid=history]")
        page.screenshot(path=str(screenshots / "eid-child-history.png"), full_page=True)
    account = Account.objects.get(id_number=KHOI_ID)
    assert account.guardian is not None and account.guardian.user_id == an_level2 and account.level == 1
