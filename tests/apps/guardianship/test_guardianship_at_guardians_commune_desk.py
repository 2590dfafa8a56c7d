"""The guardianship desk (``/giam-ho/``) at the guardian's commune: a guardianship is registered at
the commune of the ward's or of the guardian's place of residence (Law on Civil Status 2014 Art. 20
cl. 1, Art. 21) and ended where it was registered (Art. 22 cl. 1); ADR 0017 §15.

Actors: the judicial and civil-status officer of UBND phường Hoàn Kiếm, where Huỳnh Thị Mai has
moved (registers her as guardian of Khôi, 4, of Tây Hồ; sees only that guardianship; ends it); the
same officer of UBND phường Ba Đình (a third commune: one refusal); the officer of UBND phường Tây
Hồ, Khôi's commune (sees where each guardianship was registered). Nguyễn Văn An is Khôi's father."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry import guardianship
from dancu.blocks.registry.models import Citizen, Guardianship
from tests.blocks.eid.conftest import KHOI_ID, KHOI_NAME
from tests.blocks.identity.conftest import AN_ID, AN_NAME, MAI_ID, MAI_NAME
from tests.conftest import Person
from tests.guardianship_support import HOAN_KIEM_WARD

pytestmark = pytest.mark.django_db
API = "/api/v1/registry/citizens"
PAGE = "/giam-ho/"
FORM = 'data-testid="record-guardianship-at-guardians-commune"'


def as_(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def appointment(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "child_id_number": KHOI_ID,
        "guardian_id_number": MAI_ID,
        "kind": "appointed",
        "record_number": "GH-31/2026 UBND phường Hoàn Kiếm",
        "started_on": "2026-11-05",
        "reason": "Cha bị hạn chế quyền, mẹ không rõ",
        "legal_basis": "Bộ luật Dân sự 2015 Điều 54; Luật Hộ tịch 2014 Điều 20",
    }
    body.update(changes)
    return body


@pytest.fixture
def mai_in_hoan_kiem(an_children: dict[str, Any]) -> None:
    """Mai's permanent residence is now in Hoàn Kiếm; Khôi still lives in Tây Hồ."""
    Citizen.objects.filter(id_number=MAI_ID).update(permanent_ward_code=HOAN_KIEM_WARD)


def test_the_hoan_kiem_officer_registers_opens_and_ends_mais_guardianship_of_khoi(
    mai_in_hoan_kiem: None, civil_status_hoankiem: Person
) -> None:
    page = as_(civil_status_hoankiem)
    # Khôi lives elsewhere: his record is refused, and the page offers the registration here.
    looked_up = page.post(PAGE, {"child_id_number": KHOI_ID})
    assert looked_up.status_code == 403
    shown = looked_up.content.decode()
    assert FORM in shown and KHOI_NAME not in shown and "<code>jurisdiction</code>" in shown
    done = page.post(f"{PAGE}guardianships/", appointment())
    assert done.status_code == 302 and done["Location"].endswith("?done=guardianship")
    assert Guardianship.objects.get().registered_ward_code == HOAN_KIEM_WARD
    # Now the record opens with that guardianship alone: no parents, no restrictions.
    record = page.get(done["Location"])
    assert record.status_code == 200
    shown = record.content.decode()
    assert KHOI_NAME in shown and MAI_NAME in shown and 'data-testid="registered-here"' in shown
    assert "Phường Hoàn Kiếm, Thành phố Hà Nội" in shown
    assert AN_ID not in shown and AN_NAME not in shown
    assert 'data-testid="record-restriction"' not in shown and 'data-testid="restrictions"' not in shown
    assert 'data-testid="end-guardianship"' in shown and FORM not in shown
    # The API says the same.
    api = page.get(f"{API}/{KHOI_ID}/guardianship").json()
    assert api["scope"] == "registered_here" and api["father_id_number"] == ""
    assert [g["registered_ward_code"] for g in api["guardianships"]] == [HOAN_KIEM_WARD]
    # Ended where it was registered (Art. 22 cl. 1).
    ended = page.post(
        f"{PAGE}guardianships/end/",
        {
            "child_id_number": KHOI_ID,
            "ended_on": "2026-11-30",
            "reason": "Người giám hộ xin thôi",
            "legal_basis": "Bộ luật Dân sự 2015 Điều 62; Luật Hộ tịch 2014 Điều 22",
        },
    )
    assert ended.status_code == 302 and ended["Location"].endswith("?done=guardianship_end")
    assert Guardianship.objects.get().ended_on is not None


def test_the_ba_dinh_officer_gets_one_refusal_and_nothing_is_written(
    mai_in_hoan_kiem: None, an_children: dict[str, Any], civil_status_badinh: Person
) -> None:
    page = as_(civil_status_badinh)
    for guardian in (MAI_ID, "001090000777", AN_ID):  # of Hoàn Kiếm, nobody, of Tây Hồ
        refused = page.post(f"{PAGE}guardianships/", appointment(guardian_id_number=guardian))
        assert refused.status_code == 403
        shown = refused.content.decode()
        assert guardianship.NEITHER_RESIDES_HERE.replace("'", "&#x27;") in shown
        assert "<code>jurisdiction</code>" in shown and KHOI_NAME not in shown
    api = page.post(
        f"{API}/{KHOI_ID}/guardianships",
        {k: v for k, v in appointment().items() if k != "child_id_number"},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert [(p["field"], p["rule"]) for p in api.json()["detail"]] == [("ward_id_number", "jurisdiction")]
    assert not Guardianship.objects.exists()
    denied = AuditEvent.objects.filter(action="registry.guardianship.record", result="denied")
    assert {e.subject_citizen_id for e in denied} == {an_children["khoi"].citizen_id}


def test_khois_commune_sees_where_each_guardianship_was_registered(
    mai_in_hoan_kiem: None, civil_status_hoankiem: Person, civil_status_tayho: Person
) -> None:
    assert as_(civil_status_hoankiem).post(f"{PAGE}guardianships/", appointment()).status_code == 302
    page = as_(civil_status_tayho)
    shown = page.post(PAGE, {"child_id_number": KHOI_ID}).content.decode()
    assert "Nơi đăng ký" in shown and "Phường Hoàn Kiếm, Thành phố Hà Nội" in shown
    assert AN_NAME in shown and 'data-testid="registered-here"' not in shown  # the whole record
    assert FORM not in shown
