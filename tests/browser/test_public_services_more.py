"""In a real browser (issue 7, second increment): Nguyễn Văn An pays a camera traffic fine online
— the decision found in the penalty register from its number, the development payment gateway's
page, the signed notice back, the result — and notifies his stay with a host family in Hoàn Kiếm,
which the police of Phường Hoàn Kiếm then see in their queue. Debian's Chromium via Playwright;
screenshots in ``tmp_path`` or ``$DANCU_SCREENSHOT_DIR``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from dancu.apps.public_services.models import Dossier, TrafficFine
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
from tests.browser.test_public_services import HOAN_KIEM_ADDRESS, receipt_key  # noqa: F401 — fixture
from tests.conftest import Person

pytestmark = pytest.mark.browser


def test_citizen_pays_a_fine_and_notifies_a_stay_online(
    live_server: Any,
    transactional_db: None,
    an_registered: int,  # noqa: F811
    other_ward_police: Person,  # noqa: F811
    receipt_key: Path,  # noqa: F811
    screenshots: Path,
) -> None:
    today = timezone.localdate()
    TrafficFine.objects.create(
        decision_number="QD-501/2026",
        id_number=AN_ID,
        plate="30A-123.45",
        violation="Không chấp hành hiệu lệnh của đèn tín hiệu giao thông",
        legal_basis="Nghị định 168/2024/NĐ-CP Điều 6",
        amount_vnd=4_000_000,
        decided_on=today - timedelta(days=2),
    )
    base = live_server.url
    with headless_chromium() as chromium:
        citizen = new_page(chromium)
        citizen.goto(f"{base}/eid/login/?next=/dich-vu-cong/nop/traffic-fine/")
        citizen.fill("#id_username", AN_ID)
        citizen.fill("#id_password", PASSWORD)
        citizen.click("main form button[type=submit]")
        citizen.wait_for_url(f"{base}/dich-vu-cong/nop/traffic-fine/")
        citizen.fill("#id_decision_number", "QD-000/2026")  # not his: refused, naming the field
        citizen.click("[data-testid=submit]")
        assert "Số quyết định xử phạt" in citizen.inner_text("[data-testid=problems]")
        citizen.fill("#id_decision_number", "QD-501/2026")
        citizen.click("[data-testid=submit]")
        citizen.wait_for_url("**/dich-vu-cong/ho-so/DVC-*/")
        assert citizen.get_attribute("[data-testid=status]", "data-status") == "payment"
        assert "30A-123.45" in citizen.inner_text("[data-testid=items]")
        citizen.click("[data-testid=pay]")
        citizen.wait_for_url("**/dich-vu-cong/thanh-toan-thu/**")
        assert "4.000.000" in citizen.inner_text("[data-testid=amount]")
        citizen.screenshot(path=str(screenshots / "dvc-payment-gateway.png"), full_page=True)
        citizen.click("[data-testid=gateway-pay]")
        citizen.wait_for_url("**/dich-vu-cong/ho-so/DVC-*/")
        assert citizen.get_attribute("[data-testid=status]", "data-status") == "done"
        citizen.click("[data-testid=result-link]")
        assert "QD-501/2026" in citizen.inner_text("[data-testid=result]")
        citizen.screenshot(path=str(screenshots / "dvc-fine-result.png"), full_page=True)

        citizen.goto(f"{base}/dich-vu-cong/nop/residence-notification/")
        citizen.fill("#id_stay_address", HOAN_KIEM_ADDRESS)
        citizen.fill("#id_host_name", "Trần Văn Bình")
        citizen.fill("#id_arrival", today.strftime("%d/%m/%Y"))
        citizen.fill("#id_departure", (today + timedelta(days=3)).strftime("%d/%m/%Y"))
        citizen.fill("#id_reason", "Thăm người thân")
        citizen.click("[data-testid=submit]")
        citizen.wait_for_url("**/dich-vu-cong/ho-so/DVC-*/")
        code = citizen.inner_text("[data-testid=tracking-code]")
        assert citizen.get_attribute("[data-testid=status]", "data-status") == "done"

        officer = chromium.new_context(locale="vi-VN").new_page()
        officer.set_default_timeout(15_000)
        log_in(officer, base, other_ward_police, "/dich-vu-cong/can-bo/?closed=1")
        assert officer.locator(f"[data-tracking='{code}']").count() == 1
        officer.screenshot(path=str(screenshots / "dvc-notification-queue.png"), full_page=True)
    assert TrafficFine.objects.get().status == "paid"
    assert Dossier.objects.get(tracking_code=code).authority_ward_code == "00070"
