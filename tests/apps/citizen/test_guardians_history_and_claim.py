"""Citizen pages of ADR 0017's amendment: a guardian manages a child's account from /eid/me/, the
manager reads the child's access history, and the holder takes the account at 14
(/eid/register/at-14/).

Actors: An (father, level 2) of Khôi (4) and Hà (10); Mai (level 2), Hà's mother and Khôi's
appointed guardian after a court restricts An's rights over Khôi; the Tây Hồ ward officer."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from dancu.blocks.eid import assurance, family
from dancu.blocks.eid.models import Account
from dancu.blocks.identity.chip import synthetic_face_jpeg
from dancu.blocks.registry import guardianship
from tests.blocks.eid.conftest import (
    AN_PHONE,
    FAMILY_DAY,
    HA_BORN,
    HA_CARD,
    HA_ID,
    HA_NAME,
    KHOI_BORN,
    KHOI_CARD,
    KHOI_ID,
    KHOI_NAME,
    PASSWORD,
    face,
)
from tests.blocks.identity.conftest import AN_ID, MAI_ID
from tests.conftest import Person

pytestmark = pytest.mark.django_db


def _as(user_id: int) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(pk=user_id))
    session = client.session
    assurance.store(
        session, assurance.Assurance(user_id, 2, ("pwd", "sms"), assurance.now(), assurance.EVIDENCE_CHIP)
    )
    session.save()
    return client


def _mai_guards_khoi(officer: Person) -> None:
    ctx = officer.ctx("registry.administration")
    guardianship.record_parental_restriction(
        ctx,
        KHOI_ID,
        AN_ID,
        decision="QĐ 45/2026/QĐ-TA",
        restricted_from=date(2026, 11, 1),
        restricted_until=None,
        reason="Tòa án hạn chế quyền của cha",
        legal_basis="Luật Hôn nhân và gia đình 2014 Điều 85",
    )
    guardianship.record_guardianship(
        ctx,
        KHOI_ID,
        MAI_ID,
        kind="appointed",
        started_on=date(2026, 11, 1),
        record_number="GH-12/2026",
        reason="Cha bị hạn chế quyền",
        legal_basis="Bộ luật Dân sự 2015 Điều 54",
    )


def test_the_guardian_registers_khoi_and_reads_his_access_history(
    an_level2: int, mai_level2: int, an_children: dict[str, Any], ward_police: Person
) -> None:
    _mai_guards_khoi(ward_police)
    mai = _as(mai_level2)
    response = mai.post(
        "/eid/me/children/register/",
        {
            "id_number": KHOI_ID,
            "full_name": KHOI_NAME,
            "date_of_birth": KHOI_BORN.strftime("%d/%m/%Y"),
            "card_issued_on": KHOI_CARD.strftime("%d/%m/%Y"),
            "photo": SimpleUploadedFile("k.jpg", synthetic_face_jpeg(5), content_type="image/jpeg"),
        },
    )
    assert response.status_code == 302
    page = mai.get("/eid/me/").content.decode()
    assert f'data-testid="child" data-id-number="{KHOI_ID}"' in page and "người giám hộ" in page
    child = Account.objects.get(id_number=KHOI_ID)
    history = mai.get(f"/eid/me/children/{child.pk}/history/")
    body = history.content.decode()
    assert history.status_code == 200 and 'data-testid="history"' in body
    assert "eid.registration.guardian" in body and "Ai đã truy cập dữ liệu của con tôi" in body
    # The restricted father: not his to read (the same page as for a stranger).
    refused = _as(an_level2).get(f"/eid/me/children/{child.pk}/history/")
    assert refused.status_code == 404 and 'data-testid="child-history-missing"' in refused.content.decode()


def test_the_restricted_father_is_refused_like_wrong_data(
    an_level2: int, an_children: dict[str, Any], ward_police: Person
) -> None:
    _mai_guards_khoi(ward_police)
    response = _as(an_level2).post(
        "/eid/me/children/register/",
        {
            "id_number": KHOI_ID,
            "full_name": KHOI_NAME,
            "date_of_birth": KHOI_BORN.strftime("%d/%m/%Y"),
            "card_issued_on": KHOI_CARD.strftime("%d/%m/%Y"),
            "photo": SimpleUploadedFile("k.jpg", synthetic_face_jpeg(5), content_type="image/jpeg"),
        },
    )
    assert response.status_code == 400 and "not_your_child" in response.content.decode()


@pytest.fixture
def at_ha_14(monkeypatch: pytest.MonkeyPatch) -> date:
    """The eID block's day is 01/03/2030 (Hà is 14 since 14/02/2030); everything else runs now."""
    day = date(2030, 3, 1)
    monkeypatch.setattr(family, "timezone", SimpleNamespace(localdate=lambda: day, now=timezone.now))
    return day


def _claim_form(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id_number": HA_ID,
        "full_name": HA_NAME,
        "date_of_birth": HA_BORN.strftime("%d/%m/%Y"),
        "card_issued_on": "20/02/2030",
        "phone": "0934567890",
        "email": "",
        "password": PASSWORD,
        "password2": PASSWORD,
        "photo": SimpleUploadedFile("h.jpg", synthetic_face_jpeg(9), content_type="image/jpeg"),
    }
    values.update(changes)
    return values


def test_ha_takes_over_her_account_at_14_from_the_page(
    an_level2: int, an_children: dict[str, Any], outbox: Any, at_ha_14: date
) -> None:
    from dancu.blocks.registry.models import Citizen, IdentityCard

    family.register_child(
        an_level2, family.ChildInput(HA_ID, HA_NAME, HA_BORN, HA_CARD, face(8)), on=FAMILY_DAY
    )
    citizen = Citizen.objects.get(id_number=HA_ID)
    IdentityCard.objects.create(
        citizen=citizen,
        kind="can_cuoc",
        card_number=HA_ID,
        issued_on=date(2030, 2, 20),
        expires_on=date(2041, 2, 14),
    )
    client = Client()
    assert 'data-testid="claim-link"' in client.get("/eid/register/").content.decode()
    page = client.get("/eid/register/at-14/").content.decode()
    assert "Nhận lại tài khoản định danh điện tử của tôi khi đủ 14 tuổi" in page  # Vietnamese first
    # The father's phone: the answer of a mismatch (the phone step, then "cannot be registered").
    fathers_phone = client.post("/eid/register/at-14/", _claim_form(phone=AN_PHONE))
    assert fathers_phone.status_code == 302 and not Account.objects.get(id_number=HA_ID).phone
    response = client.post("/eid/register/at-14/", _claim_form())
    assert response.status_code == 302 and response["Location"] == "/eid/register/phone/"
    account = Account.objects.get(id_number=HA_ID)
    assert account.status == "pending" and account.guardian_id is None and account.handed_over_at is not None


def test_a_child_under_14_cannot_take_the_account(
    an_level2: int, an_children: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    eve = date(2030, 2, 13)  # the day before Hà's 14th birthday
    monkeypatch.setattr(family, "timezone", SimpleNamespace(localdate=lambda: eve, now=timezone.now))
    family.register_child(
        an_level2, family.ChildInput(HA_ID, HA_NAME, HA_BORN, HA_CARD, face(8)), on=FAMILY_DAY
    )
    response = Client().post("/eid/register/at-14/", _claim_form(card_issued_on=HA_CARD.strftime("%d/%m/%Y")))
    assert response.status_code == 400 and "eligibility_age" in response.content.decode()
    assert Account.objects.get(id_number=HA_ID).guardian_id is not None
