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


AN_MRZ = "IDVNM0850123452001085012345<<<\n8503024M4503026VNM<<<<<<<<<<<7\nNGUYEN<<VAN<AN<<<<<<<<<<<<<<<<"


def test_clinic_clerk_pastes_the_mrz_corrects_a_misread_and_calls_the_patient_in(
    live_server: Any, clinic_clerk: Person, patient: int, screenshots: Path
) -> None:
    base = live_server.url
    misread = AN_MRZ.replace("8503024M", "8503034M", 1)  # an OCR misread of the birth date
    with headless_chromium() as chromium:
        page = new_page(chromium)
        log_in(page, base, clinic_clerk, "/desks/clinic/")
        page.fill("[data-testid=form-mrz] textarea[name=mrz]", misread)
        page.click("[data-testid=submit-mrz]")
        errors = page.inner_text("[data-testid=form-mrz] .errorlist")
        assert "Ngày sinh (dòng 2): sai số kiểm tra" in errors
        assert page.query_selector("[data-testid=result]") is None  # nothing was verified

        page.fill("[data-testid=form-mrz] textarea[name=mrz]", AN_MRZ)
        page.click("[data-testid=submit-mrz]")
        page.wait_for_selector("[data-testid=result]")
        assert page.get_attribute("[data-testid=result]", "data-decision") == "match"
        assert page.inner_text("[data-testid=field-full_name]") == "Nguyễn Văn An"
        assert page.inner_text("[data-testid=queue-number]") == "1"

        page.click("[data-testid=encounter-1] [data-testid=to-in_consultation]")
        page.wait_for_selector("[data-testid=encounter-1][data-status=in_consultation]")
        assert "clerk.clinic" in page.inner_text("[data-testid=encounter-1] [data-testid=status-changed]")
        page.screenshot(path=str(screenshots / "clinic-mrz-status.png"), full_page=True)

    encounter = Encounter.objects.get()
    assert (encounter.evidence_kind, encounter.status) == ("mrz", "in_consultation")


@pytest.fixture
def notary_clerk(transactional_db: None, django_user_model: Any) -> Person:
    user = django_user_model.objects.create_user(username="clerk.notary", password="correct-horse-battery-9")
    org = Organisation.objects.create(
        code="CC-TAYHO", name="Văn phòng công chứng Tây Hồ", kind="notary", jurisdiction_province_code="01"
    )
    add_member(user, org, "clerk")
    return Person(user=user, actor=actor_for(user), password="correct-horse-battery-9")


@pytest.fixture
def receipt_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from dancu.apps.desks import services

    path = tmp_path / "receipt-key.pem"
    services.write_signing_key(path)
    monkeypatch.setenv(services.RECEIPT_KEY_ENV, str(path))
    return path


def test_anyone_checks_a_printed_receipt_without_logging_in(
    live_server: Any, notary_clerk: Person, patient: int, receipt_key: Path, screenshots: Path
) -> None:
    from dancu.apps.desks import services

    act = services.create_act(notary_clerk.actor, "CC-2026/777", "sale")
    base = live_server.url
    with headless_chromium() as chromium:
        clerk = new_page(chromium)
        log_in(clerk, base, notary_clerk, f"/desks/notary/acts/{act.act_id}/")
        clerk.fill("[data-testid=form-mrz] input[name=role]", "Bên bán")
        clerk.fill("[data-testid=form-mrz] textarea[name=mrz]", AN_MRZ)
        clerk.click("[data-testid=submit-mrz]")
        clerk.click("[data-testid=receipt-link]")
        clerk.wait_for_selector("[data-testid=receipt-qr] img")
        reference = clerk.inner_text("[data-testid=receipt] [data-testid=receipt-id]")
        signature = clerk.inner_text("[data-testid=signature]")
        check_link = clerk.get_attribute("[data-testid=check-link]", "href")
        clerk.screenshot(path=str(screenshots / "notary-receipt-with-qr.png"), full_page=True)

        visitor = chromium.new_context(locale="vi-VN").new_page()  # no session: a bank clerk
        visitor.set_default_timeout(15_000)
        visitor.goto(f"{base}/desks/receipt-check/")
        visitor.fill("input[name=r]", reference)
        visitor.fill("textarea[name=s]", signature)
        visitor.click("[data-testid=submit-check]")
        genuine = visitor.inner_text("[data-testid=receipt-genuine]")
        assert "do nền tảng cấp" in genuine and "Nguyễn Văn An" in genuine and "CC-2026/777" in genuine
        visitor.screenshot(path=str(screenshots / "receipt-check-genuine.png"), full_page=True)

        visitor.goto(str(check_link))  # what the receipt's QR code opens
        assert visitor.query_selector("[data-testid=receipt-genuine]") is not None

        visitor.goto(f"{base}/desks/receipt-check/")
        visitor.fill("input[name=r]", reference)
        visitor.fill("textarea[name=s]", ("B" if signature[0] != "B" else "C") + signature[1:])
        visitor.click("[data-testid=submit-check]")
        refused = visitor.inner_text("[data-testid=receipt-not-genuine]")
        assert "KHÔNG xác nhận được" in refused
        assert "Nguyễn Văn An" not in visitor.content()
