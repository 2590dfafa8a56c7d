"""The pages: log-in required, only driving-school staff (others 403 in the console's style);
a clerk enrols through the form in each way a card is read, checks a learner at a session, and
sees the learner's history and the flagged checks — in Vietnamese by default, in English too."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dancu.apps.driving.models import Enrolment, SessionCheck
from dancu.blocks.identity.chip import ChipData
from dancu.blocks.identity.qr import qr_png
from tests.apps.driving.conftest import AN_CARD_ISSUED, AN_ID, AN_QR, MAI_QR, chip_json
from tests.conftest import Person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("residents", "trusted")]

COURSE_FORM = {"licence_class": "B", "course_start": "01/09/2025", "course_end": "31/12/2025"}


def _enrol(client: Client, **fields: object) -> Enrolment:
    response = client.post("/driving/enrol/", {**COURSE_FORM, **fields})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Enrolment.objects.get()


def test_pages_require_login(client: Client) -> None:
    for url in ("/driving/", "/driving/enrol/", "/driving/flagged/", "/driving/enrolments/1/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/eid/login/")


@pytest.mark.parametrize("who", ["hotel_clerk", "city_police"])
def test_staff_of_other_organisations_are_not_authorised(
    who: str, request: pytest.FixtureRequest, logged_in: Callable[[Person], Client]
) -> None:
    person: Person = request.getfixturevalue(who)
    client = logged_in(person)
    for url in ("/driving/", "/driving/enrol/", "/driving/flagged/"):
        response = client.get(url)
        assert response.status_code == 403
        assert "Không có quyền" in response.content.decode() or "Not authorised" in response.content.decode()
    assert (
        client.post("/driving/enrol/", {**COURSE_FORM, "method": "qr_text", "qr_text": AN_QR}).status_code
        == 403
    )
    assert Enrolment.objects.count() == 0


def test_user_without_organisation_is_refused(
    logged_in: Callable[[Person], Client], outsider: Person
) -> None:
    assert logged_in(outsider).get("/driving/").status_code == 403


def test_clerk_enrols_by_uploading_a_qr_photo(
    logged_in: Callable[[Person], Client], school_clerk: Person
) -> None:
    photo = SimpleUploadedFile("qr.png", qr_png(AN_QR, scale=6), content_type="image/png")
    enrolment = _enrol(logged_in(school_clerk), method="qr_photo", qr_photo=photo)
    assert (enrolment.id_number, enrolment.evidence_kind, enrolment.card_issued_on) == (
        AN_ID,
        "qr",
        AN_CARD_ISSUED,
    )


def test_clerk_enrols_with_scanner_text(logged_in: Callable[[Person], Client], school_clerk: Person) -> None:
    assert _enrol(logged_in(school_clerk), method="qr_text", qr_text=AN_QR).full_name == "Nguyễn Văn An"


def test_clerk_enrols_with_a_chip_read(
    logged_in: Callable[[Person], Client], school_clerk: Person, chip_of: Callable[..., ChipData]
) -> None:
    enrolment = _enrol(logged_in(school_clerk), method="chip", chip_json=chip_json(chip_of(face_seed=5)))
    assert enrolment.evidence_kind == "chip" and len(enrolment.face_dhash) == 64


def test_clerk_enrols_with_typed_data(logged_in: Callable[[Person], Client], school_clerk: Person) -> None:
    enrolment = _enrol(
        logged_in(school_clerk),
        method="typed",
        id_number="0010 8501 2345",
        full_name="Nguyễn Văn An",
        date_of_birth="02/03/1985",
        sex="M",
        card_issued_on="01/04/2021",
    )
    assert enrolment.evidence_kind == "typed" and enrolment.card_issued_on == AN_CARD_ISSUED


def test_bad_input_names_the_field(logged_in: Callable[[Person], Client], school_clerk: Person) -> None:
    client = logged_in(school_clerk)
    photo = SimpleUploadedFile("qr.png", b"not an image", content_type="image/png")
    response = client.post("/driving/enrol/", {**COURSE_FORM, "method": "qr_photo", "qr_photo": photo})
    assert response.status_code == 400 and "qr_photo" in response.content.decode()
    response = client.post("/driving/enrol/", {**COURSE_FORM, "method": "chip", "chip_json": "[1, 2]"})
    assert response.status_code == 400 and "chip_json" in response.content.decode()
    assert Enrolment.objects.count() == 0


def test_double_enrolment_page_shows_the_refusal(
    logged_in: Callable[[Person], Client], school_clerk: Person, other_school_clerk: Person
) -> None:
    _enrol(logged_in(school_clerk), method="qr_text", qr_text=AN_QR)
    client = Client()
    client.force_login(other_school_clerk.user)
    response = client.post("/driving/enrol/", {**COURSE_FORM, "method": "qr_text", "qr_text": AN_QR})
    assert response.status_code == 409
    html = response.content.decode()
    assert "double_enrolment" in html and "cơ sở đào tạo khác" in html
    assert Enrolment.objects.count() == 1


def test_session_check_with_another_persons_card_shows_the_flag_and_the_history(
    logged_in: Callable[[Person], Client], school_clerk: Person
) -> None:
    client = logged_in(school_clerk)
    enrolment = _enrol(client, method="qr_text", qr_text=AN_QR)
    ok = client.post(
        f"/driving/enrolments/{enrolment.pk}/check/",
        {"kind": "theory", "instructor": "Lê Văn Hùng", "method": "qr_text", "qr_text": AN_QR},
    )
    assert ok.status_code == 200 and 'data-outcome="passed"' in ok.content.decode()
    flagged = client.post(
        f"/driving/enrolments/{enrolment.pk}/check/",
        {"kind": "on_road", "method": "qr_text", "qr_text": MAI_QR},
    )
    html = flagged.content.decode()
    assert 'data-outcome="flagged"' in html and 'data-code="different_person"' in html
    assert "nghi vấn học thay, thi hộ" in html
    assert SessionCheck.objects.count() == 2

    history = client.get(f"/driving/enrolments/{enrolment.pk}/").content.decode()
    assert "Nguyễn Văn An" in history and "Lê Văn Hùng" in history
    assert history.count("data-outcome=") == 2 and 'data-code="different_person"' in history
    listing = client.get("/driving/flagged/").content.decode()
    assert listing.count('data-outcome="flagged"') == 1

    client.post("/i18n/setlang/", {"language": "en", "next": "/driving/flagged/"})
    english = client.get("/driving/flagged/").content.decode()
    assert "Flagged checks" in english and "impersonation suspected" in english


def test_history_of_another_schools_learner_is_not_found(
    logged_in: Callable[[Person], Client], school_clerk: Person, other_school_clerk: Person
) -> None:
    enrolment = _enrol(logged_in(school_clerk), method="qr_text", qr_text=AN_QR)
    other = Client()
    other.force_login(other_school_clerk.user)
    assert other.get(f"/driving/enrolments/{enrolment.pk}/").status_code == 404
    assert (
        other.post(
            f"/driving/enrolments/{enrolment.pk}/check/",
            {"kind": "theory", "method": "qr_text", "qr_text": AN_QR},
        ).status_code
        == 404
    )
    assert SessionCheck.objects.count() == 0


def test_test_centre_finds_the_learner_by_roster_and_checks_at_the_test(
    logged_in: Callable[[Person], Client], school_clerk: Person, examiner: Person
) -> None:
    enrolment = _enrol(logged_in(school_clerk), method="qr_text", qr_text=AN_QR)
    centre = Client()
    centre.force_login(examiner.user)
    found = centre.post("/driving/", {"id_number": AN_ID, "licence_class": "B"})
    assert found.status_code == 302 and found["Location"] == f"/driving/enrolments/{enrolment.pk}/check/"
    page = centre.post(found["Location"], {"kind": "test", "method": "qr_text", "qr_text": AN_QR})
    assert 'data-outcome="passed"' in page.content.decode()
    assert centre.post("/driving/", {"id_number": AN_ID, "licence_class": "C"}).status_code == 404


def test_clerk_enrols_by_the_cards_mrz_and_a_bad_mrz_names_the_field(
    logged_in: Callable[[Person], Client], school_clerk: Person
) -> None:
    from dancu.blocks.identity.mrz import vietnamese_td1
    from tests.blocks.identity.conftest import AN_BORN, AN_CARD_EXPIRES, AN_NAME

    mrz = vietnamese_td1(
        id_number=AN_ID, full_name=AN_NAME, date_of_birth=AN_BORN, sex="M", date_of_expiry=AN_CARD_EXPIRES
    ).text
    client = logged_in(school_clerk)
    assert "MRZ" in client.get("/driving/enrol/").content.decode()
    misread = mrz.replace("IDVNM085012345", "IDVNM085012346", 1)  # a document number digit misread
    response = client.post("/driving/enrol/", {**COURSE_FORM, "method": "mrz", "mrz": misread})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Số thẻ (dòng 1)" in html and "sai số kiểm tra" in html
    assert Enrolment.objects.count() == 0
    enrolment = _enrol(client, method="mrz", mrz=mrz)
    assert (enrolment.id_number, enrolment.evidence_kind) == (AN_ID, "mrz")
