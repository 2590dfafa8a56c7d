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


@pytest.fixture
def conductor(make_person: Any) -> Person:
    return make_person(
        "conductor.tayho",
        org_code="NX-TAYHO",
        org_name="Nhà xe Tây Hồ Express",
        kind="transport",
        role="clerk",
    )


@pytest.fixture
def statistician(make_person: Any) -> Person:
    """A statistics officer of Sở Du lịch, whose department sees the tourism sector."""
    from dancu.apps.residence import statistics

    person = make_person(
        "thongke.dulich",
        org_code="SO-DULICH",
        org_name="Sở Du lịch Hà Nội",
        kind="department",
        role="statistics",
    )
    statistics.assign_sector(person.actor.organisation_id or 0, "tourism", by="test")
    return person


def test_the_conductor_boards_a_passenger_and_the_ward_police_see_the_manifest(
    live_server: Any, an_with_card: str, conductor: Person, ward_police: Person, screenshots: Path
) -> None:
    services.register_establishment(
        conductor.actor.organisation_id or 0,
        kind="coach_operator",
        name="Nhà xe Tây Hồ Express",
        address="Số 1 Đặng Thai Mai, Phường Quảng An, Quận Tây Hồ, Hà Nội",
        owner_name="Công ty CP Tây Hồ Express",
        seats=45,
    )
    base = live_server.url
    with headless_chromium() as chromium:
        page = new_page(chromium)
        log_in(page, base, conductor, "/residence/coach/")
        page.fill("#id_route", "Hà Nội – Hải Phòng")
        page.fill("#id_vehicle_plate", "29B-123.45")
        page.fill("#id_departure_address", "Số 1 Đặng Thai Mai, Phường Quảng An, Quận Tây Hồ, Hà Nội")
        page.fill("#id_seats", "30")
        page.click("[data-testid=create-trip]")
        page.wait_for_selector("[data-testid=board-form]")
        page.fill("#id_qr_text", an_with_card)
        page.fill("#id_seat", "A1")
        page.click("[data-testid=board]")
        page.wait_for_selector("[data-testid=boarded]")
        assert "Nguyễn Văn An" in page.inner_text("[data-testid=passengers]")
        page.click("[data-testid=notify-manifest]")
        page.wait_for_selector("[data-testid=notified-at]")
        assert page.inner_text("[data-testid=seat-count]") == "1 / 30"
        page.screenshot(path=str(screenshots / "residence-manifest.png"), full_page=True)

        police = new_page(chromium)
        log_in(police, base, ward_police, "/residence/police/trips/")
        police.click("text=Hà Nội – Hải Phòng")
        police.wait_for_selector("[data-testid=opened-manifest]")
        assert "Nguyễn Văn An" in police.inner_text("[data-testid=police-passengers]")


def test_the_tourism_statistician_sees_a_chart_and_downloads_the_csv(
    live_server: Any,
    an_with_card: str,
    hotel: services.EstablishmentView,
    hotel_clerk: Person,
    statistician: Person,
    screenshots: Path,
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from tests.apps.residence.conftest import CLAIRE_PASSPORT

    ctx = hotel_clerk.ctx(services.PURPOSE)
    now = timezone.now()
    for i in range(6):
        services.check_in(
            ctx,
            services.CheckIn(
                guests=(services.ForeignGuest(CLAIRE_PASSPORT),),
                room=str(300 + i),
                arrival=now - timedelta(hours=2),
                expected_departure=now + timedelta(days=1),
            ),
        )
    base = live_server.url
    with headless_chromium() as chromium:
        page = new_page(chromium)
        log_in(page, base, statistician, "/residence/statistics/")
        chart = page.locator("[data-testid=chart-arrivals]")
        assert chart.is_visible() and chart.locator("rect").count() >= 1
        assert page.inner_text("[data-testid=arrivals-total]") == "6"
        with page.expect_download() as info:
            page.click("[data-testid=download-csv]")
        text = Path(info.value.path()).read_text(encoding="utf-8-sig")
        assert "total,arrivals,6" in text and "FRA,6" in text and "MARTIN" not in text
        page.screenshot(path=str(screenshots / "residence-statistics.png"), full_page=True)
