"""Clinic check-in (models 6, 7): a clinic clerk verifies the patient's card — by a photo of its QR
code, the text a USB scanner types, a chip read, or typed details — sees only the fields a clinic
receives, and an encounter opens in the day's list. A refusal opens no encounter; other
organisations are refused the desk."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from dancu.apps.desks import services
from dancu.apps.desks.models import Encounter
from dancu.blocks.identity.chip import ChipData
from dancu.blocks.identity.models import VerificationRecord
from dancu.blocks.identity.qr import qr_png
from dancu.blocks.identity.services import QrEvidence, TypedEvidence
from dancu.errors import AccessDenied
from tests.blocks.identity.conftest import AN_BORN, AN_ID, AN_NAME, AN_QR
from tests.conftest import Person

pytestmark = pytest.mark.django_db
CLINIC_FIELDS = {"full_name", "date_of_birth", "sex", "health_insurance_number"}


def _photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("card.png", qr_png(AN_QR, scale=6), content_type="image/png")


# --------------------------------------------------------------------------- services
def test_clinic_clerk_checks_in_a_patient_by_card_qr(residents: Any, clinic_clerk: Person) -> None:
    ctx = services.desk_context(clinic_clerk.actor)
    check_in = services.check_in_patient(ctx, QrEvidence(AN_QR))
    assert check_in.result.decision == "match"
    assert set(check_in.result.data or {}) == CLINIC_FIELDS  # least data: no address, no ID number
    assert check_in.result.data["health_insurance_number"] is None  # type: ignore[index]
    encounter = check_in.encounter
    assert encounter is not None
    assert (encounter.queue_number, encounter.id_number, encounter.full_name) == (1, AN_ID, AN_NAME)
    assert encounter.receipt_id == check_in.result.receipt_id
    assert VerificationRecord.objects.filter(receipt_id=encounter.receipt_id, decision="match").exists()
    second = services.check_in_patient(ctx, TypedEvidence(AN_ID, AN_NAME, AN_BORN))
    assert second.encounter is not None and second.encounter.queue_number == 2
    assert [e.queue_number for e in services.encounters_on(clinic_clerk.actor, timezone.localdate())] == [
        1,
        2,
    ]


def test_clinic_clerk_checks_in_a_patient_by_chip(
    residents: Any, clinic_clerk: Person, an_chip: ChipData, trusted: Any
) -> None:
    check_in = services.check_in_patient(
        services.desk_context(clinic_clerk.actor),
        services.evidence_from_chip_json(json.dumps(an_chip.to_dict())),
    )
    assert check_in.result.decision == "match"
    assert check_in.encounter is not None and check_in.encounter.id_number == AN_ID
    assert check_in.encounter.evidence_kind == "chip"


def test_a_mismatch_creates_no_encounter(residents: Any, clinic_clerk: Person) -> None:
    check_in = services.check_in_patient(
        services.desk_context(clinic_clerk.actor), TypedEvidence(AN_ID, "Trần Văn Bình", AN_BORN)
    )
    assert check_in.result.decision == "no_match"
    assert check_in.result.data is None
    assert check_in.encounter is None
    assert not Encounter.objects.exists()


def test_a_hotel_clerk_may_not_check_patients_in(residents: Any, hotel_clerk: Person) -> None:
    with pytest.raises(AccessDenied):
        services.check_in_patient(services.desk_context(hotel_clerk.actor), QrEvidence(AN_QR))
    with pytest.raises(AccessDenied):
        services.encounters_on(hotel_clerk.actor, timezone.localdate())
    assert not Encounter.objects.exists()


def test_csv_neutralises_formulas() -> None:
    assert services._csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert services._csv_cell("Nguyễn Văn An") == "Nguyễn Văn An"


# --------------------------------------------------------------------------- pages
def test_clinic_clerk_checks_in_by_qr_photo_and_sees_the_encounter(
    logged_in: Callable[[Person], Client], residents: Any, clinic_clerk: Person
) -> None:
    client = logged_in(clinic_clerk)
    assert client.get("/desks/clinic/").status_code == 200
    response = client.post("/desks/clinic/", {"method": "qr_photo", "photo": _photo()})
    html = response.content.decode()
    assert response.status_code == 200, html
    assert 'data-decision="match"' in html
    assert AN_NAME in html and "02/03/1985" in html
    assert "Chưa kết nối" in html  # health insurance: not connected
    assert 'data-testid="queue-number">1<' in html
    assert Encounter.objects.get().id_number == AN_ID
    assert "Số 5 ngõ 12" not in html  # a clinic does not receive the address


def test_clinic_clerk_checks_in_by_typed_data_in_english(
    logged_in: Callable[[Person], Client], residents: Any, clinic_clerk: Person
) -> None:
    client = logged_in(clinic_clerk)
    client.cookies["django_language"] = "en"
    response = client.post(
        "/desks/clinic/",
        {
            "method": "typed",
            "id_number": "0010 8501 2345",
            "full_name": "nguyen van an",
            "date_of_birth": "02/03/1985",
        },
    )
    html = response.content.decode()
    assert "Verified: the card matches the population registry" in html
    assert "Not connected" in html
    assert Encounter.objects.count() == 1


def test_clinic_clerk_checks_in_by_scanner_text_and_by_chip(
    logged_in: Callable[[Person], Client],
    residents: Any,
    clinic_clerk: Person,
    an_chip: ChipData,
    trusted: Any,
) -> None:
    client = logged_in(clinic_clerk)
    assert (
        'data-decision="match"'
        in client.post("/desks/clinic/", {"method": "qr_text", "qr_text": AN_QR}).content.decode()
    )
    chip = json.dumps(an_chip.to_dict())
    assert (
        'data-decision="match"'
        in client.post("/desks/clinic/", {"method": "chip", "chip": chip}).content.decode()
    )
    assert sorted(Encounter.objects.values_list("evidence_kind", flat=True)) == ["chip", "qr"]


def test_a_refusal_shows_the_reasons_and_opens_no_encounter(
    logged_in: Callable[[Person], Client], residents: Any, clinic_clerk: Person
) -> None:
    client = logged_in(clinic_clerk)
    response = client.post(
        "/desks/clinic/",
        {"method": "typed", "id_number": AN_ID, "full_name": "Trần Văn Bình", "date_of_birth": "02/03/1985"},
    )
    html = response.content.decode()
    assert 'data-decision="no_match"' in html
    assert 'data-testid="reasons"' in html
    assert 'data-testid="encounter"' not in html
    assert not Encounter.objects.exists()


def test_a_photo_without_a_qr_code_is_bad_input(
    logged_in: Callable[[Person], Client], residents: Any, clinic_clerk: Person
) -> None:
    blank = SimpleUploadedFile("blank.png", qr_png("x", scale=1)[:40], content_type="image/png")
    response = logged_in(clinic_clerk).post("/desks/clinic/", {"method": "qr_photo", "photo": blank})
    assert response.status_code == 400
    assert 'data-testid="problems"' in response.content.decode()
    assert not VerificationRecord.objects.exists()


def test_typed_data_needs_every_field(logged_in: Callable[[Person], Client], clinic_clerk: Person) -> None:
    response = logged_in(clinic_clerk).post("/desks/clinic/", {"method": "typed", "id_number": AN_ID})
    assert response.status_code == 400


@pytest.mark.parametrize("who", ["hotel_clerk", "city_police", "outsider", "notary_clerk"])
def test_others_are_refused_the_clinic_desk(
    logged_in: Callable[[Person], Client], who: str, request: pytest.FixtureRequest
) -> None:
    client = logged_in(request.getfixturevalue(who))
    for url in ("/desks/clinic/", "/desks/clinic/encounters/"):
        response = client.get(url)
        assert response.status_code == 403
        assert 'data-testid="not-authorised"' in response.content.decode()
    assert client.post("/desks/clinic/", {"method": "qr_text", "qr_text": AN_QR}).status_code == 403
    assert not VerificationRecord.objects.exists()


def test_the_clinic_desk_requires_log_in(client: Client) -> None:
    response = client.get("/desks/clinic/")
    assert response.status_code == 302
    assert response["Location"].startswith("/eid/login/")


def test_encounter_list_by_date_and_csv_export(
    logged_in: Callable[[Person], Client], residents: Any, clinic_clerk: Person
) -> None:
    services.check_in_patient(services.desk_context(clinic_clerk.actor), QrEvidence(AN_QR))
    client = logged_in(clinic_clerk)
    today = timezone.localdate()
    html = client.get("/desks/clinic/encounters/").content.decode()
    assert AN_NAME in html and AN_ID in html
    empty = client.get("/desks/clinic/encounters/", {"date": "01/01/2020"}).content.decode()
    assert 'data-testid="no-encounters"' in empty
    assert client.get("/desks/clinic/encounters/", {"date": "31/02/2020"}).status_code == 400
    response = client.get("/desks/clinic/encounters/", {"date": today.isoformat(), "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert f"encounters-{today.isoformat()}.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == list(services.CSV_HEADER)
    assert rows[1][0] == "1" and rows[1][2] == AN_ID and rows[1][3] == AN_NAME and rows[1][4] == "waiting"


def test_a_clinic_sees_only_its_own_encounters(
    logged_in: Callable[[Person], Client],
    residents: Any,
    clinic_clerk: Person,
    make_person: Callable[..., Person],
) -> None:
    services.check_in_patient(services.desk_context(clinic_clerk.actor), QrEvidence(AN_QR))
    other = make_person(
        "clerk.other", org_code="BV-KHAC", org_name="Bệnh viện Khác", kind="clinic", role="clerk"
    )
    assert services.encounters_on(other.actor, timezone.localdate()) == []
    assert AN_NAME not in logged_in(other).get("/desks/clinic/encounters/").content.decode()
