"""The citizen pages of ADR 0017: a parent with a level-2 account registers and presents their
child's account from /eid/me/; a foreign resident registers with the passport MRZ and the
residence card at /eid/register/foreigner/.

Actors: An (father, level 2), Khôi (his son, 4), Mai (level 2, not Khôi's mother), An before his
level 2, Anna Schmidt (German resident)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dancu.blocks.eid import foreigners
from dancu.blocks.eid.models import Account
from dancu.blocks.identity.chip import synthetic_face_jpeg
from tests.blocks.eid.conftest import KHOI_ID, PASSWORD, Outbox
from tests.blocks.eid.test_foreigners import ANNA_PHONE, anna_record, mrz

pytestmark = pytest.mark.django_db


def _as(user_id: int, *, mfa: bool = True) -> Client:
    """A browser logged in as ``user_id``; with ``mfa``, at level 2 with a second factor (what
    registering a child asks of the parent's log-in)."""
    from django.contrib.auth import get_user_model

    from dancu.blocks.eid import assurance

    client = Client()
    client.force_login(get_user_model().objects.get(pk=user_id))
    if mfa:
        session = client.session
        assurance.store(
            session, assurance.Assurance(user_id, 2, ("pwd", "sms"), assurance.now(), assurance.EVIDENCE_CHIP)
        )
        session.save()
    return client


def test_registering_a_child_with_a_password_only_log_in_asks_for_a_second_factor(
    an_level2: int, an_children: dict[str, Any]
) -> None:
    response = _as(an_level2, mfa=False).post("/eid/me/children/register/", _khoi_form())
    assert response.status_code == 302
    assert response["Location"].startswith("/eid/step-up/?next=%2Feid%2Fme%2Fchildren%2Fregister%2F")
    assert "acr=urn%3Adancu%3Aacr%3Alevel2%3Amfa" in response["Location"]
    assert not Account.objects.filter(id_number=KHOI_ID).exists()


def _photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("child.jpg", synthetic_face_jpeg(5), content_type="image/jpeg")


def _khoi_form(**changes: Any) -> dict[str, Any]:
    values = {
        "id_number": KHOI_ID,
        "full_name": "Nguyễn Minh Khôi",
        "date_of_birth": "10/05/2022",
        "card_issued_on": "20/09/2024",
        "photo": _photo(),
    }
    values.update(changes)
    return values


def test_father_registers_his_son_from_his_page_and_presents_the_account(
    an_level2: int, an_children: dict[str, Any]
) -> None:
    father = _as(an_level2)
    page = father.get("/eid/me/").content.decode()
    assert 'data-testid="register-child"' in page
    response = father.post("/eid/me/children/register/", _khoi_form())
    assert response.status_code == 302 and response["Location"] == "/eid/me/?done=child#children"
    page = father.get(response["Location"]).content.decode()
    assert (
        f'data-testid="child" data-id-number="{KHOI_ID}"' in page and 'data-testid="child-registered"' in page
    )
    child = Account.objects.get(id_number=KHOI_ID)
    shown = father.get(f"/eid/me/children/{child.pk}/")
    body = shown.content.decode()
    assert shown.status_code == 200 and 'data-testid="child-presentation"' in body
    assert "data:image/svg+xml" in body


def test_someone_else_cannot_present_the_child(
    an_level2: int, an_children: dict[str, Any], mai_level2: int
) -> None:
    _as(an_level2).post("/eid/me/children/register/", _khoi_form())
    child = Account.objects.get(id_number=KHOI_ID)
    assert _as(mai_level2).get(f"/eid/me/children/{child.pk}/").status_code == 404
    assert Client().get(f"/eid/me/children/{child.pk}/")["Location"].startswith("/eid/login/")


def test_a_parent_who_is_not_the_parent_in_the_registry_is_refused_on_the_page(
    mai_level2: int, an_children: dict[str, Any]
) -> None:
    response = _as(mai_level2).post("/eid/me/children/register/", _khoi_form())
    assert response.status_code == 400 and "not_your_child" in response.content.decode()
    assert not Account.objects.filter(id_number=KHOI_ID).exists()


def test_a_level_1_holder_sees_no_child_registration_and_is_refused(
    an_registered: int, an_children: dict[str, Any]
) -> None:
    client = _as(an_registered)
    assert 'data-testid="register-child"' not in client.get("/eid/me/").content.decode()
    response = client.post("/eid/me/children/register/", _khoi_form())
    assert response.status_code == 400 and "level2_required" in response.content.decode()


def test_anna_registers_on_the_foreigners_page_and_confirms_her_phone(db: None, outbox: Outbox) -> None:
    foreigners.record_foreign_resident(anna_record())
    client = Client()
    assert client.get("/eid/register/foreigner/").status_code == 200
    response = client.post(
        "/eid/register/foreigner/",
        {
            "passport_mrz": mrz(),
            "card_number": "TT2025-00123",
            "phone": ANNA_PHONE,
            "password": PASSWORD,
            "password2": PASSWORD,
            "photo": _photo(),
        },
    )
    assert response.status_code == 302 and response["Location"] == "/eid/register/phone/"
    done = client.post("/eid/register/phone/", {"code": outbox.last_code(ANNA_PHONE)})
    assert done.status_code == 200
    assert Account.objects.get(id_number="DEUC01X00T47").phone_verified_at is not None


def test_a_wrong_card_number_gets_the_same_phone_step_and_then_a_refusal_naming_no_field(
    db: None, outbox: Outbox
) -> None:
    foreigners.record_foreign_resident(anna_record())
    client = Client()
    response = client.post(
        "/eid/register/foreigner/",
        {
            "passport_mrz": mrz(),
            "card_number": "TT2025-00999",
            "phone": ANNA_PHONE,
            "password": PASSWORD,
            "password2": PASSWORD,
            "photo": _photo(),
        },
    )
    assert response.status_code == 302 and response["Location"] == "/eid/register/phone/"
    assert not Account.objects.exists()
    told = client.post("/eid/register/phone/", {"code": outbox.last_code(ANNA_PHONE)})
    assert told.status_code == 200
    assert told.templates[0].name == "citizen/register_no_match.html"
