"""In a real browser: the hotel clerk checks a family in by scanning the father's card (the QR
text of ``dancu card_qr``, as a USB scanner types it) with a child without a card; the police
officer of the hotel's ward sees them in the live view. Debian's Chromium through Playwright."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dancu.apps.residence import services
from dancu.blocks.identity.management.commands.card_qr import card_qr_of
from tests.browser.helpers import headless_chromium, log_in, new_page, register_an
from tests.conftest import Person

pytestmark = pytest.mark.browser


@pytest.fixture
def an_with_card(transactional_db: None, registrar: Person) -> str:
    from dancu.blocks.registry.models import Citizen, IdentityCard

    citizen_id = register_an(registrar, old_id_numbers=("012345678",))
    IdentityCard.objects.create(
        citizen=Citizen.objects.get(pk=citizen_id),
        kind="cccd_chip",
        card_number="001085012345",
        issued_on=date(2021, 4, 1),
        expires_on=date(2045, 3, 2),
    )
    return card_qr_of("001085012345").text


@pytest.fixture
def hotel(transactional_db: None, hotel_clerk: Person, ward_police: Person) -> services.EstablishmentView:
    return services.register_establishment(
        hotel_clerk.actor.organisation_id or 0,
        kind="hotel",
        name="Khách sạn Hòa Bình",
        address="Số 1 Đặng Thai Mai, Phường Quảng An, Quận Tây Hồ, Hà Nội",
        owner_name="Công ty TNHH Hòa Bình",
        rooms=10,
        beds=20,
    )


def test_the_clerk_checks_in_a_family_by_scanning_a_card_and_the_ward_police_see_them(
    live_server: Any,
    an_with_card: str,
    hotel: services.EstablishmentView,
    hotel_clerk: Person,
    ward_police: Person,
    screenshots: Path,
) -> None:
    base = live_server.url
    with headless_chromium() as chromium:
        page = new_page(chromium)
        log_in(page, base, hotel_clerk, "/residence/")
        assert "Tiếp nhận khách lưu trú" in page.inner_text("h1")
        page.fill("#id_qr_text", an_with_card)
        page.click("[data-testid=verify-card]")
        page.wait_for_selector("[data-testid=preview]")
        assert page.inner_text("[data-testid=preview-name]") == "Nguyễn Văn An"
        assert page.inner_text("[data-testid=preview-dob]") == "02/03/1985"
        page.fill("#id_children", "Nguyễn Minh Khôi; 01/06/2019")
        page.fill("#id_room", "301")
        page.fill("#id_reason", "Du lịch")
        page.click("[data-testid=submit-check-in]")
        page.wait_for_selector("[data-testid=checked-in]")
        guests = page.inner_text("[data-testid=checked-in]")
        assert "Nguyễn Văn An" in guests and "001085012345" in guests and "Nguyễn Minh Khôi" in guests
        assert "Nguyễn Minh Khôi" in page.inner_text("[data-testid=guests]")
        page.screenshot(path=str(screenshots / "residence-check-in.png"), full_page=True)

        police = new_page(chromium)
        log_in(police, base, ward_police, "/residence/police/")
        live = police.inner_text("[data-testid=live]")
        assert "Nguyễn Văn An" in live and "Nguyễn Minh Khôi" in live and "Khách sạn Hòa Bình" in live
        police.screenshot(path=str(screenshots / "residence-police.png"), full_page=True)
