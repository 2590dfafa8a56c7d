"""The desk page that raises a foreign resident to level 2 from the passport's MRZ and the residence
card (domain-vn §4; ADR 0017).

Actors: Anna Schmidt (German resident, level 1), the Tây Hồ officer, a hotel clerk (no desk)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dancu.blocks.eid import foreigners, services
from dancu.blocks.eid.models import Account
from tests.blocks.eid.conftest import Outbox
from tests.blocks.eid.test_foreigners import ANNA_PHONE, TODAY, anna_record, application, mrz
from tests.conftest import Person

pytestmark = pytest.mark.django_db


def _as(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


@pytest.fixture
def anna_level1(outbox: Outbox, ward_police: Person) -> int:
    # The page activates on the real day: her card is valid a year from it (the block's tests fix
    # the dates, tests/blocks/eid/test_foreigners_level2.py).
    foreigners.record_foreign_resident(
        anna_record(card_valid_until=timezone.localdate() + timedelta(days=365))
    )
    handle = foreigners.register_foreigner(application(), on=TODAY).handle
    assert services.verify_phone(handle, outbox.last_code(ANNA_PHONE))
    services.decide_registration(ward_police.ctx("eid.registration"), handle, approve=True)
    return int(Account.objects.get(id_number="DEUC01X00T47").pk)


def test_the_ward_officer_raises_anna_to_level_2_from_the_page(anna_level1: int, ward_police: Person) -> None:
    officer = _as(ward_police)
    page = officer.get("/eid-desk/activate/foreigner/").content.decode()
    assert "Mức 2 cho người nước ngoài cư trú" in page  # Vietnamese first
    response = officer.post(
        "/eid-desk/activate/foreigner/",
        {"passport_mrz": mrz(), "card_number": "TT2025-00123", "face_confirmed": "on"},
    )
    assert response.status_code == 200
    assert 'data-testid="foreigner-activated" data-login="DEUC01X00T47"' in response.content.decode()
    assert Account.objects.get(pk=anna_level1).level == 2


def test_without_the_face_check_or_with_another_card_the_page_refuses(
    anna_level1: int, ward_police: Person
) -> None:
    officer = _as(ward_police)
    no_face = officer.post(
        "/eid-desk/activate/foreigner/", {"passport_mrz": mrz(), "card_number": "TT2025-00123"}
    )
    assert no_face.status_code == 400 and "<code>required</code>" in no_face.content.decode()
    other = officer.post(
        "/eid-desk/activate/foreigner/",
        {"passport_mrz": mrz(), "card_number": "TT2025-99999", "face_confirmed": "on"},
    )
    assert other.status_code == 400 and "<code>no_match</code>" in other.content.decode()
    assert Account.objects.get(pk=anna_level1).level == 1


def test_a_hotel_clerk_has_no_desk(anna_level1: int, hotel_clerk: Person) -> None:
    response = _as(hotel_clerk).post(
        "/eid-desk/activate/foreigner/",
        {"passport_mrz": mrz(), "card_number": "TT2025-00123", "face_confirmed": "on"},
    )
    assert response.status_code == 403
    assert Account.objects.get(pk=anna_level1).level == 1
