"""The commune police's eID desk at /eid-desk/: level-1 applications of the ward, level-2
activation with the chip read and a live photo, and level-2 accounts created in person."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dancu.blocks.eid import services
from dancu.blocks.eid.models import Account
from dancu.blocks.identity.chip import ChipData, TrustStore
from tests.blocks.eid.conftest import AN_ID, AN_PHONE, Outbox, application, face, portrait
from tests.conftest import Person

pytestmark = pytest.mark.django_db


def _as(client: Client, person: Person) -> Client:
    client.force_login(person.user)
    return client


def _jpeg(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("live.jpg", data, content_type="image/jpeg")


def test_ward_officer_sees_and_approves_an_application(
    client: Client, residents: dict[str, Any], outbox: Outbox, ward_police: Person
) -> None:
    receipt = services.register(application())
    page = _as(client, ward_police).get("/eid-desk/").content.decode()
    assert f'data-id-number="{AN_ID}"' in page and "data:image/png;base64," in page
    response = client.post(f"/eid-desk/registrations/{receipt.handle}/decide/", {"decision": "approve"})
    assert response.status_code == 302
    assert Account.objects.get(id_number=AN_ID).status == "active"


def test_officer_of_another_ward_is_refused_a_decision(
    client: Client, residents: dict[str, Any], outbox: Outbox, other_ward_police: Person
) -> None:
    receipt = services.register(application())
    assert (
        f'data-id-number="{AN_ID}"' not in _as(client, other_ward_police).get("/eid-desk/").content.decode()
    )
    response = client.post(f"/eid-desk/registrations/{receipt.handle}/decide/", {"decision": "approve"})
    assert response.status_code == 403 and "jurisdiction" in response.content.decode()


def test_the_desk_is_for_commune_police_only(
    client: Client, hotel_clerk: Person, city_police: Person
) -> None:
    assert Client().get("/eid-desk/")["Location"].startswith("/eid/login/")
    assert _as(client, hotel_clerk).get("/eid-desk/").status_code == 403
    assert _as(Client(), city_police).get("/eid-desk/").status_code == 403


def test_activation_with_the_chip_and_a_live_photo(
    client: Client, an_registered: int, an_chip: ChipData, trusted: TrustStore, ward_police: Person
) -> None:
    response = _as(client, ward_police).post(
        "/eid-desk/activate/",
        {"chip_json": json.dumps(an_chip.to_dict()), "live_photo": _jpeg(portrait(an_chip))},
    )
    assert response.status_code == 200 and 'data-testid="activated"' in response.content.decode()
    assert Account.objects.get(id_number=AN_ID).level == 2


def test_another_face_is_refused_naming_the_field(
    client: Client, an_registered: int, an_chip: ChipData, trusted: TrustStore, ward_police: Person
) -> None:
    response = _as(client, ward_police).post(
        "/eid-desk/activate/", {"chip_json": json.dumps(an_chip.to_dict()), "live_photo": _jpeg(face(42))}
    )
    assert response.status_code == 400 and "face_mismatch" in response.content.decode()
    assert Account.objects.get(id_number=AN_ID).level == 1


def test_unreadable_chip_json_is_refused(client: Client, ward_police: Person) -> None:
    response = _as(client, ward_police).post(
        "/eid-desk/activate/", {"chip_json": "{not json", "live_photo": _jpeg(face(0))}
    )
    assert response.status_code == 400


def test_a_chip_json_nested_past_its_shape_is_a_form_error_on_the_field(
    client: Client, ward_police: Person
) -> None:
    """The Tây Hồ officer pastes ``[[[[…`` 100,000 deep (security review): the decoder's recursion
    limit used to escape as a 500; the chip read is an object of strings, one level deep."""
    for pasted in ("[" * 100_000, '{"sod": {"nested": "x"}}'):
        response = _as(client, ward_police).post(
            "/eid-desk/activate/", {"chip_json": pasted, "live_photo": _jpeg(face(0))}
        )
        assert response.status_code == 400
        assert "chip_json" in response.context["form"].errors


def test_a_level_2_account_created_at_the_desk(
    client: Client,
    residents: dict[str, Any],
    an_chip: ChipData,
    trusted: TrustStore,
    ward_police: Person,
    outbox: Outbox,
) -> None:
    response = _as(client, ward_police).post(
        "/eid-desk/activate/?new=1",
        {
            "create": "1",
            "chip_json": json.dumps(an_chip.to_dict()),
            "live_photo": _jpeg(portrait(an_chip)),
            "phone": AN_PHONE,
        },
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    assert Account.objects.get(id_number=AN_ID).level == 2
    assert outbox.last_code(AN_PHONE)
