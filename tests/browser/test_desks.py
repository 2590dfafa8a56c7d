"""In a real browser: a clinic clerk logs in, uploads a photo of a patient's card QR code, sees the
verified identity (clinic fields only, health insurance "not connected") and the encounter in
today's list. Debian's Chromium through Playwright, headless; a browser is never downloaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dancu.apps.desks.models import Encounter
from dancu.blocks.identity.qr import qr_png
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import actor_for, add_member
from tests.browser.helpers import AN_ADDRESS, headless_chromium, log_in, new_page, register_an
from tests.conftest import Person

pytestmark = pytest.mark.browser

AN_QR = f"001085012345|012345678|Nguyễn Văn An|02031985|Nam|{AN_ADDRESS}|01042021"


@pytest.fixture
def patient(transactional_db: None, registrar: Person) -> int:
    """Nguyễn Văn An of Tây Hồ and his chip card issued 01/04/2021 (as in the identity tests)."""
    from datetime import date

    from dancu.blocks.registry.models import Citizen, IdentityCard

    citizen_id = register_an(registrar, old_id_numbers=("012345678",))
    IdentityCard.objects.create(
        citizen=Citizen.objects.get(pk=citizen_id),
        kind="cccd_chip",
        card_number="001085012345",
        issued_on=date(2021, 4, 1),
        expires_on=date(2045, 3, 2),
    )
    return citizen_id


@pytest.fixture
def clinic_clerk(transactional_db: None, django_user_model: Any) -> Person:
    user = django_user_model.objects.create_user(username="clerk.clinic", password="correct-horse-battery-9")
    org = Organisation.objects.create(
        code="PK-HONGNGOC",
        name="Phòng khám Đa khoa Hồng Ngọc",
        kind="clinic",
        jurisdiction_province_code="01",
    )
    add_member(user, org, "clerk")
    return Person(user=user, actor=actor_for(user), password="correct-horse-battery-9")


def test_clinic_clerk_uploads_a_qr_photo_and_sees_the_patient_and_the_encounter(
    live_server: Any, clinic_clerk: Person, patient: int, screenshots: Path, tmp_path: Path
) -> None:
    photo = tmp_path / "card-qr.png"
    photo.write_bytes(qr_png(AN_QR, scale=6))
    base = live_server.url
    with headless_chromium() as chromium:
        page = new_page(chromium)
        log_in(page, base, clinic_clerk, "/desks/clinic/")
        assert "Tiếp đón người bệnh" in page.inner_text("h1")

        page.set_input_files("[data-testid=form-qr-photo] input[type=file]", str(photo))
        page.click("[data-testid=submit-photo]")
        page.wait_for_selector("[data-testid=result]")
        assert page.get_attribute("[data-testid=result]", "data-decision") == "match"
        assert page.inner_text("[data-testid=field-full_name]") == "Nguyễn Văn An"
        assert page.inner_text("[data-testid=field-date_of_birth]") == "02/03/1985"
        assert "Chưa kết nối" in page.inner_text("[data-testid=insurance]")
        assert page.inner_text("[data-testid=queue-number]") == "1"
        encounters = page.inner_text("[data-testid=encounters]")
        assert "Nguyễn Văn An" in encounters and "001085012345" in encounters
        page.screenshot(path=str(screenshots / "clinic-check-in.png"), full_page=True)
        assert (screenshots / "clinic-check-in.png").stat().st_size > 0

        page.goto(f"{base}/desks/clinic/encounters/")
        assert "Nguyễn Văn An" in page.inner_text("[data-testid=encounters]")

    assert Encounter.objects.get().id_number == "001085012345"
