"""The ward desk's queue of level-2 requests (Decree 69/2024/NĐ-CP Art. 13, 16): requests filed
through public services wait at the commune police of the holder's ward with the appointment
the holder chose; the officer opens one to activate it (the card read must be the requester's);
closed requests stay listed 30 days.

Actors: An (level 1, asks), the Tây Hồ officer (his ward), the Hoàn Kiếm officer (another ward),
a hotel clerk and the city police (no desk)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import services
from dancu.blocks.eid.models import Account, Level2Request
from dancu.blocks.identity.chip import ChipData, TrustStore
from dancu.errors import AccessDenied, DomainValidationError
from tests.blocks.eid.conftest import AN_ID, portrait
from tests.conftest import TAY_HO_WARD, Person

pytestmark = pytest.mark.django_db
REF = "DVC-20261201-0042"
VISIT = date(2026, 12, 3)


@pytest.fixture
def an_asked(an_registered: int) -> str:
    assert (
        services.request_level2(an_registered, ward_code=TAY_HO_WARD, appointment=VISIT, reference=REF)
        == "pending"
    )
    return REF


def _as(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def _jpeg(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("live.jpg", data, content_type="image/jpeg")


def test_the_ward_officer_sees_the_request_with_its_appointment_and_a_link_to_activate(
    an_asked: str, ward_police: Person
) -> None:
    page = _as(ward_police).get("/eid-desk/").content.decode()
    assert f'data-testid="level2-request" data-reference="{REF}" data-id-number="{AN_ID}"' in page
    assert "03/12/2026" in page and f"/eid-desk/activate/?request={REF}" in page
    assert "Yêu cầu nâng mức độ 2 chờ công dân đến quầy" in page  # Vietnamese first
    waiting, closed = services.level2_queue(ward_police.ctx("eid.activation"))
    assert [(r.reference, r.appointment, r.status) for r in waiting] == [
        (REF, VISIT, "pending")
    ] and closed == []
    assert AuditEvent.objects.filter(action="eid.level2.list", subject_citizen_id__isnull=False).exists()


def test_the_activation_page_is_prefilled_and_closes_the_request(
    an_asked: str, an_chip: ChipData, trusted: TrustStore, ward_police: Person
) -> None:
    officer = _as(ward_police)
    page = officer.get(f"/eid-desk/activate/?request={REF}").content.decode()
    assert f'data-testid="opened-request" data-reference="{REF}"' in page and AN_ID in page
    assert f'name="request" value="{REF}"' in page
    response = officer.post(
        "/eid-desk/activate/",
        {"request": REF, "chip_json": json.dumps(an_chip.to_dict()), "live_photo": _jpeg(portrait(an_chip))},
    )
    assert response.status_code == 200 and 'data-testid="activated"' in response.content.decode()
    assert Level2Request.objects.get(reference=REF).status == "activated"
    page = officer.get("/eid-desk/").content.decode()
    assert f'data-testid="level2-closed" data-reference="{REF}"' in page and "Công an phường Tây Hồ" in page
    assert 'data-testid="level2-request"' not in page


def test_another_holders_card_is_refused_on_a_request(
    an_asked: str, mai_chip: ChipData, trusted: TrustStore, ward_police: Person, mai_level2: int
) -> None:
    with pytest.raises(DomainValidationError) as err:
        services.activate_level2(
            ward_police.ctx("eid.activation"),
            chip_files=mai_chip.to_dict(),
            live_photo=portrait(mai_chip),
            request_reference=REF,
        )
    assert [(p.field, p.rule) for p in err.value.problems] == [("chip", "request_mismatch")]
    assert Level2Request.objects.get(reference=REF).status == "pending"
    assert Account.objects.get(id_number=AN_ID).level == 1


def test_an_officer_of_another_ward_neither_sees_nor_opens_it(
    an_asked: str, other_ward_police: Person
) -> None:
    officer = _as(other_ward_police)
    assert f'data-reference="{REF}"' not in officer.get("/eid-desk/").content.decode()
    response = officer.get(f"/eid-desk/activate/?request={REF}")
    assert response.status_code == 403 and "jurisdiction" in response.content.decode()
    with pytest.raises(AccessDenied):
        services.level2_request_for_desk(other_ward_police.ctx("eid.activation"), REF)
    assert AuditEvent.objects.filter(action="eid.level2.open", result="denied").exists()


def test_a_unknown_reference_is_not_found(ward_police: Person) -> None:
    assert _as(ward_police).get("/eid-desk/activate/?request=DVC-NONE").status_code == 404


def test_no_desk_for_a_hotel_clerk_or_the_city_police(
    an_asked: str, hotel_clerk: Person, city_police: Person
) -> None:
    assert _as(hotel_clerk).get("/eid-desk/").status_code == 403
    assert _as(hotel_clerk).get(f"/eid-desk/activate/?request={REF}").status_code == 403
    assert _as(city_police).get("/eid-desk/").status_code == 403
    with pytest.raises(AccessDenied):
        services.level2_queue(hotel_clerk.ctx("eid.activation"))
    with pytest.raises(AccessDenied):  # the desk's purpose only
        services.level2_queue(city_police.ctx("registry.lookup"))


def test_the_desk_checks_a_childs_account_qr(
    an_level2: int, an_children: dict[str, object], ward_police: Person, hotel_clerk: Person
) -> None:
    from dancu.blocks.eid import family
    from tests.blocks.eid.conftest import KHOI_ID
    from tests.blocks.eid.test_family import khoi

    child = family.register_child(an_level2, khoi())
    token = family.presentation_token(an_level2, child.account_id)
    officer = _as(ward_police)
    page = officer.post("/eid-desk/present/", {"token": token})
    assert (
        page.status_code == 200
        and f'data-testid="verified-child" data-id-number="{KHOI_ID}"' in page.content.decode()
    )
    forged = officer.post("/eid-desk/present/", {"token": token[:-3] + "abc"})
    assert forged.status_code == 400 and "signature" in forged.content.decode()
    assert _as(hotel_clerk).post("/eid-desk/present/", {"token": token}).status_code == 403
