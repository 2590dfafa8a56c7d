"""In a real browser (issue 7): Nguyễn Văn An logs in with his eID account, gets the confirmation of
his old CMND number at once (prefilled from the population registry, signed, with a QR), submits
a temporary residence registration in Hoàn Kiếm with his data prefilled; the officer of Công an
phường Hoàn Kiếm approves it from the work queue, and An sees the result. Debian's Chromium via
Playwright (never downloaded); screenshots in ``tmp_path`` or ``$DANCU_SCREENSHOT_DIR``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from dancu.apps.desks import services as desks
from dancu.blocks.registry.models import Citizen
from tests.apps.public_services.conftest import portal_on_gateway  # noqa: F401 — autouse: prefill via the gateway
from tests.blocks.eid.conftest import (  # noqa: F401 — fixtures
    AN_ID,
    PASSWORD,
    an_phone_on_record,
    an_registered,
    other_ward_police,
    outbox,
    pki,
    residents,
    trusted,
)
from tests.browser.helpers import headless_chromium, log_in, new_page
from tests.conftest import Person

pytestmark = pytest.mark.browser
HOAN_KIEM_ADDRESS = "Số 10 phố Hàng Bạc, Phường Hàng Bạc, Quận Hoàn Kiếm, Hà Nội"


@pytest.fixture
def receipt_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "receipt-key.pem"
    desks.write_signing_key(path)
    monkeypatch.setenv(desks.RECEIPT_KEY_ENV, str(path))
    yield path
    desks._keys.pop(path, None)


def test_citizen_submits_two_prefilled_services_and_an_official_approves(
    live_server: Any,
    transactional_db: None,
    an_registered: int,  # noqa: F811
    other_ward_police: Person,  # noqa: F811
    receipt_key: Path,
    screenshots: Path,
) -> None:
    base = live_server.url
    with headless_chromium() as chromium:
        citizen = new_page(chromium)
        citizen.goto(f"{base}/eid/login/?next=/dich-vu-cong/nop/cmnd-confirmation/")
        citizen.fill("#id_username", AN_ID)
        citizen.fill("#id_password", PASSWORD)
        citizen.click("main form button[type=submit]")
        citizen.wait_for_url(f"{base}/dich-vu-cong/nop/cmnd-confirmation/")
        prefilled = citizen.locator("[data-testid=prefilled]")
        assert AN_ID in prefilled.inner_text() and "Nguyễn Văn An" in prefilled.inner_text()
        assert "CSDL quốc gia về dân cư" in prefilled.locator("[data-item=id_number]").inner_text()
        citizen.fill("#id_old_number", "012345678")
        citizen.screenshot(path=str(screenshots / "dvc-cmnd-form.png"), full_page=True)
        citizen.click("[data-testid=submit]")
        citizen.wait_for_url("**/dich-vu-cong/ho-so/DVC-*/")
        assert citizen.get_attribute("[data-testid=status]", "data-status") == "done"
        citizen.click("[data-testid=result-link]")
        result = citizen.inner_text("[data-testid=result]")
        assert "012345678" in result and AN_ID in result
        assert citizen.locator("[data-testid=qr]").count() == 1
        citizen.screenshot(path=str(screenshots / "dvc-cmnd-result.png"), full_page=True)

        citizen.goto(f"{base}/dich-vu-cong/nop/temporary-residence/")
        assert "Nguyễn Văn An" in citizen.inner_text("[data-testid=prefilled]")
        citizen.fill("#id_temporary_address", HOAN_KIEM_ADDRESS)
        until = timezone.localdate() + timedelta(days=180)
        citizen.fill("#id_stay_until", until.strftime("%d/%m/%Y"))
        citizen.fill("#id_lodging_basis", "Hợp đồng thuê nhà số 15/2026")
        citizen.click("[data-testid=submit]")
        citizen.wait_for_url("**/dich-vu-cong/ho-so/DVC-*/")
        code = citizen.inner_text("[data-testid=tracking-code]")
        assert citizen.get_attribute("[data-testid=status]", "data-status") == "submitted"

        officer = chromium.new_context(locale="vi-VN").new_page()
        officer.set_default_timeout(15_000)
        log_in(officer, base, other_ward_police, "/dich-vu-cong/can-bo/")
        row = officer.locator(f"[data-tracking='{code}']")
        assert row.locator("[data-sla=on_time]").count() == 1
        officer.screenshot(path=str(screenshots / "dvc-queue.png"), full_page=True)
        row.locator("a").click()
        officer.click("[data-testid=receive]")
        officer.click("[data-testid=approve]")
        officer.wait_for_selector("[data-testid=status][data-status=done]")

        citizen.goto(f"{base}/dich-vu-cong/ho-so/{code}/")
        assert citizen.get_attribute("[data-testid=status]", "data-status") == "done"
        citizen.click("[data-testid=result-link]")
        assert "Hàng Bạc" in citizen.inner_text("[data-testid=result]")
        citizen.goto(f"{base}/dich-vu-cong/hop-thu/")
        assert code in citizen.inner_text("[data-testid=inbox]")
        citizen.screenshot(path=str(screenshots / "dvc-inbox.png"), full_page=True)
    assert Citizen.objects.get(id_number=AN_ID).temporary_ward_code == "00070"
