"""In a real browser: BHXH Hà Nội's administrator sends a call through the data exchange gateway
to the population registry (the demo members of ``apps/exchange_admin/demo.py``) and sees only
the granted fields, signed; the registry's administrator (Công an thành phố Hà Nội) finds the
exchange in the message log. Debian's Chromium through Playwright, headless."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from dancu.blocks.organisations.services import actor_for
from tests.browser.helpers import headless_chromium, log_in, new_page, register_an
from tests.conftest import Person

pytestmark = pytest.mark.browser


def test_bhxh_calls_the_registry_through_the_gateway_and_the_provider_sees_the_log(
    live_server: Any, transactional_db: None, registrar: Person, screenshots: Path
) -> None:
    from dancu.apps.exchange_admin.demo import DEMO_PASSWORD, seed_demo

    register_an(registrar)
    accounts = dict(seed_demo())
    token = accounts["quantri.bhxh"].rsplit("credential ", 1)[1]
    user = get_user_model().objects.get(username="quantri.bhxh")
    bhxh = Person(user=user, actor=actor_for(user), password=DEMO_PASSWORD)
    base = live_server.url
    with headless_chromium() as chromium:
        page = new_page(chromium)
        log_in(page, base, bhxh, "/exchange-admin/try/")
        page.select_option("#id_client", "VN-HN/GOV/BHXH-HN/TIEPNHAN")
        page.fill("#id_credential", token)
        page.select_option("#id_service", "VN-HN/GOV/CA-HN/DANCU-REGISTRY/citizen")
        page.fill("#id_id_number", "001085012345")
        page.select_option("#id_purpose", "public_service.processing")
        page.fill("#id_case_reference", "HS-BHXH-2026-0042")
        page.click("[data-testid=send]")
        page.wait_for_selector("[data-testid=exchange-result]")
        assert page.inner_text("[data-testid=status]") == "200"
        body = page.inner_text("[data-testid=body]")
        assert "Nguyễn Văn An" in body and "1985-03-02" in body
        assert "permanent_address" not in body.split('"fields_withheld"')[0]  # not granted to BHXH
        message_id = page.inner_text("[data-testid=message-id]")
        page.screenshot(path=str(screenshots / "exchange-try.png"), full_page=True)

        provider = new_page(chromium)
        log_in(provider, base, registrar, "/exchange-admin/log/")
        row = provider.locator(f"[data-testid=message-{message_id}]")
        assert "Bảo hiểm xã hội thành phố Hà Nội" in row.inner_text()
        assert "quantri.bhxh" in row.inner_text()
        assert "200 ok" in row.locator("[data-testid=result]").inner_text()
        provider.screenshot(path=str(screenshots / "exchange-log.png"), full_page=True)

        provider.goto(f"{base}/exchange-admin/")
        assert provider.locator("[data-testid=traffic-chart] rect").count() == 2  # answered, refused
        assert "citizen" in provider.inner_text("[data-testid=traffic-table]")
        provider.screenshot(path=str(screenshots / "exchange-traffic.png"), full_page=True)
