"""The pages: the hotel clerk checks a family in by scanning a card; the ward police see them;
another hotel's clerk and another ward's police do not; errors name the field."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dancu.apps.residence import services
from dancu.apps.residence.models import Stay
from tests.apps.residence.conftest import AN_ID, AN_QR
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("residents")


def form(**changes: Any) -> dict[str, Any]:
    now = timezone.localtime()
    data = {
        "method": "qr_text",
        "qr_text": AN_QR,
        "children": "Nguyễn Minh Khôi; 01/06/2019",
        "room": "301",
        "arrival": (now - timedelta(minutes=5)).strftime("%d/%m/%Y %H:%M"),
        "expected_departure": (now + timedelta(days=2)).strftime("%d/%m/%Y %H:%M"),
        "reason": "Du lịch",
        "idempotency_key": "form-1",
    }
    data.update(changes)
    return data


def test_the_clerk_checks_in_a_family_and_the_ward_police_see_them(
    client: Client,
    hotel: services.EstablishmentView,
    hotel_clerk: Person,
    ward_police: Person,
    other_ward_police: Person,
) -> None:
    client.force_login(hotel_clerk.user)
    page = client.get("/residence/")
    assert page.status_code == 200 and "Khách sạn Hòa Bình" in page.content.decode()
    response = client.post("/residence/", form())
    assert response.status_code == 200, response.content.decode()[:2000]
    text = response.content.decode()
    assert "Nguyễn Văn An" in text and "Nguyễn Minh Khôi" in text and AN_ID in text
    again = client.post("/residence/", form())  # a double click: answered once
    assert again.status_code == 200 and Stay.objects.count() == 2
    client.force_login(ward_police.user)
    police = client.get("/residence/police/").content.decode()
    assert "Nguyễn Văn An" in police and "Nguyễn Minh Khôi" in police
    client.force_login(other_ward_police.user)
    assert "Nguyễn Văn An" not in client.get("/residence/police/").content.decode()


def test_errors_name_the_field(
    client: Client, hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    client.force_login(hotel_clerk.user)
    now = timezone.localtime()
    response = client.post(
        "/residence/", form(expected_departure=(now - timedelta(days=1)).strftime("%d/%m/%Y %H:%M"))
    )
    assert response.status_code == 400
    assert "expected_departure" in response.content.decode() and "after_arrival" in response.content.decode()
    bad_qr = client.post("/residence/", form(qr_text="001|x", idempotency_key="form-2"))
    assert bad_qr.status_code == 400 and "guests[0].evidence" in bad_qr.content.decode()
    assert not Stay.objects.exists()


def test_check_out_from_the_desk_and_not_from_another_hotel(
    client: Client,
    hotel: services.EstablishmentView,
    guest_house: services.EstablishmentView,
    hotel_clerk: Person,
    other_clerk: Person,
) -> None:
    client.force_login(hotel_clerk.user)
    client.post("/residence/", form(children=""))
    stay = Stay.objects.get()
    client.force_login(other_clerk.user)
    assert client.post(f"/residence/stays/{stay.pk}/check-out/").status_code == 404
    client.force_login(hotel_clerk.user)
    assert client.post(f"/residence/stays/{stay.pk}/room/", {"room": "502"}).status_code == 302
    assert client.post(f"/residence/stays/{stay.pk}/check-out/").status_code == 302
    stay.refresh_from_db()
    assert stay.room == "502" and stay.departed_at is not None


def test_the_police_search_needs_a_case_reference(
    client: Client, hotel: services.EstablishmentView, hotel_clerk: Person, city_police: Person
) -> None:
    client.force_login(hotel_clerk.user)
    client.post("/residence/", form(children=""))
    client.force_login(city_police.user)
    page = client.get("/residence/police/", {"id_number": AN_ID, "case_reference": ""}).content.decode()
    assert "case_reference" in page
    found = client.get("/residence/police/", {"id_number": AN_ID, "case_reference": "VV-01"}).content.decode()
    assert re.search(r'data-testid="found".*Nguyễn Văn An', found, re.S)


def test_clerks_and_outsiders_are_refused_the_police_view(
    client: Client,
    hotel: services.EstablishmentView,
    hotel_clerk: Person,
    outsider: Person,
    ward_police: Person,
) -> None:
    client.force_login(hotel_clerk.user)
    assert client.get("/residence/police/").status_code == 403
    client.force_login(outsider.user)
    assert client.get("/residence/police/").status_code == 403
    assert client.get("/residence/").status_code == 404
    client.force_login(ward_police.user)
    assert client.get("/residence/").status_code == 404  # the police run no establishment


def test_a_photo_of_the_qr_is_verified_first_and_the_form_keeps_its_text(
    client: Client, hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from dancu.blocks.identity.qr import qr_png

    client.force_login(hotel_clerk.user)
    photo = SimpleUploadedFile("card.png", qr_png(AN_QR, scale=6), content_type="image/png")
    response = client.post(
        "/residence/", {"method": "qr_photo", "photo": photo, "action": "verify", "idempotency_key": "form-p"}
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-testid="preview"' in text and "Nguyễn Văn An" in text and "02/03/1985" in text
    assert (
        'value="form-p"' in text and "001085012345|012345678|" in text
    )  # the QR text kept for the next step
    assert not Stay.objects.exists()
    bad = client.post("/residence/", {"method": "qr_text", "qr_text": "", "action": "verify"})
    assert bad.status_code == 400 and "qr_text" in bad.content.decode()
