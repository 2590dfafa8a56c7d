"""The guardianship desk (``/giam-ho/``) and its API (``/api/v1/registry/citizens/{id}/…``):
registering and ending a guardianship, recording a court's restriction of a parent's rights and its
lifting before the term (Civil Code 2015 Art. 46–62; Law on Civil Status 2014 Art. 20–23; Marriage
and Family Law 2014 Art. 85–87; ADR 0017 §2b).

Actors: the judicial and civil-status officer of UBND phường Tây Hồ (records: Khôi, An and Mai
live there); the same officer of UBND phường Hoàn Kiếm, an ordinary UBND officer, a hotel clerk and
the citizen An himself (all refused); Nguyễn Văn An (level 2), father of Khôi (4); Huỳnh Thị Mai
(level 2), appointed Khôi's guardian after a court restricts An's rights."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import translation

from dancu.apps.web.labels import AUDIT_ACTION, label
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import family, services
from dancu.blocks.registry.models import Citizen, Guardianship, ParentalRestriction
from dancu.errors import DomainValidationError
from tests.blocks.eid.conftest import FAMILY_DAY, KHOI_BORN, KHOI_CARD, KHOI_ID, KHOI_NAME, face
from tests.blocks.identity.conftest import AN_ID, MAI_ID
from tests.conftest import Person

pytestmark = pytest.mark.django_db
API = "/api/v1/registry/citizens"
PAGE = "/giam-ho/"
DECIDED = date(2026, 11, 2)
COURT = "Tòa án nhân dân khu vực 1 – Hà Nội"


def as_(person: Person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def khoi() -> family.ChildInput:
    return family.ChildInput(KHOI_ID, KHOI_NAME, KHOI_BORN, KHOI_CARD, face(7))


def restriction(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "parent_id_number": AN_ID,
        "decision": "45/2026/QĐ-TA",
        "decided_on": DECIDED.isoformat(),
        "court": COURT,
        "restricted_from": DECIDED.isoformat(),
        "restricted_until": "2029-11-02",
        "reason": "Tòa án hạn chế quyền của cha đối với con chưa thành niên",
        "legal_basis": "Luật Hôn nhân và gia đình 2014 Điều 85",
    }
    body.update(changes)
    return body


def appointment(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "guardian_id_number": MAI_ID,
        "kind": "appointed",
        "record_number": "GH-12/2026",
        "started_on": "2026-11-05",
        "reason": "Cha bị hạn chế quyền, mẹ không rõ",
        "legal_basis": "Bộ luật Dân sự 2015 Điều 47, 54; Luật Hộ tịch 2014 Điều 20",
    }
    body.update(changes)
    return body


def lifting(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "decision": "03/2026/QĐ-TA",
        "decided_on": "2026-11-20",
        "court": COURT,
        "lifted_on": "2026-11-20",
        "reason": "Tòa án hủy bỏ việc hạn chế quyền trước thời hạn",
        "legal_basis": "Luật Hôn nhân và gia đình 2014 Điều 85",
    }
    body.update(changes)
    return body


def problems(response: Any) -> dict[str, str]:
    return {p["field"]: p["rule"] for p in response.json()["detail"]}


# --------------------------------------------------------------------------- the page
def test_the_tay_ho_officer_records_the_courts_restriction_and_mais_guardianship_on_the_page(
    an_children: dict[str, Any], mai_level2: int, an_level2: int, civil_status_tayho: Person
) -> None:
    page = as_(civil_status_tayho)
    looked_up = page.post(PAGE, {"child_id_number": KHOI_ID})
    assert looked_up.status_code == 200
    assert KHOI_NAME in looked_up.content.decode() and KHOI_ID not in looked_up.request["PATH_INFO"]
    done = page.post(
        f"{PAGE}restrictions/",
        {"child_id_number": KHOI_ID, **restriction()},
    )
    assert done.status_code == 302 and done["Location"].endswith("?done=restriction")
    done = page.post(f"{PAGE}guardianships/", {"child_id_number": KHOI_ID, **appointment()})
    assert done.status_code == 302
    shown = page.get(done["Location"]).content.decode()
    assert "GH-12/2026" in shown and "45/2026/QĐ-TA" in shown and COURT in shown
    row = ParentalRestriction.objects.get()
    assert (row.decided_on, row.court, row.organisation_name) == (DECIDED, COURT, "UBND phường Tây Hồ")
    # Afterwards: the guardian manages the child's account; the restricted father is refused.
    assert family.register_child(mai_level2, khoi(), on=FAMILY_DAY).relationship == "guardian"
    with pytest.raises(DomainValidationError):
        family.register_child(an_level2, khoi(), on=FAMILY_DAY)
    # Recorded on the child's and on the guardian's access history, labelled in both languages.
    khoi_events = {
        e.action for e in AuditEvent.objects.filter(subject_citizen_id=an_children["khoi"].citizen_id)
    }
    assert {"registry.guardianship.record", "registry.parental_restriction.record"} <= khoi_events
    mai = Account_history(mai_level2)
    assert "registry.guardianship.record" in mai and "registry.guardianship.read" in mai
    with translation.override("vi"):
        assert label(AUDIT_ACTION, "registry.parental_restriction.lift").startswith("Ghi nhận quyết định")
    with translation.override("en"):
        assert label(AUDIT_ACTION, "registry.guardianship.read").startswith("Viewed the child")


def Account_history(user_id: int) -> set[str]:
    return {e.action for e in services.access_history(user_id)}


def test_the_hoan_kiem_officer_is_refused_naming_the_field_and_nothing_is_written(
    an_children: dict[str, Any], civil_status_hoankiem: Person
) -> None:
    page = as_(civil_status_hoankiem)
    refused = page.post(f"{PAGE}guardianships/", {"child_id_number": KHOI_ID, **appointment()})
    assert refused.status_code == 403
    assert "jurisdiction" in refused.content.decode()
    looked_up = page.post(PAGE, {"child_id_number": KHOI_ID})
    assert looked_up.status_code == 403 and KHOI_NAME not in looked_up.content.decode()
    api = as_(civil_status_hoankiem).post(
        f"{API}/{KHOI_ID}/parental-restrictions", restriction(), content_type="application/json"
    )
    assert api.status_code == 403 and problems(api) == {"child_id_number": "jurisdiction"}
    assert not Guardianship.objects.exists() and not ParentalRestriction.objects.exists()
    denied = AuditEvent.objects.filter(subject_citizen_id=an_children["khoi"].citizen_id, result="denied")
    assert {"registry.guardianship.record", "registry.parental_restriction.record"} <= {
        e.action for e in denied
    }


def test_a_hotel_clerk_an_ordinary_committee_officer_and_the_citizen_are_refused(
    an_children: dict[str, Any], an_level2: int, hotel_clerk: Person, committee_officer: Person
) -> None:
    citizen = Client()
    citizen.force_login(get_user_model().objects.get(pk=an_level2))
    for client in (as_(hotel_clerk), as_(committee_officer), citizen):
        assert client.post(PAGE, {"child_id_number": KHOI_ID}).status_code == 403
        assert (
            client.post(f"{PAGE}restrictions/", {"child_id_number": KHOI_ID, **restriction()}).status_code
            == 403
        )
        api = client.post(f"{API}/{KHOI_ID}/guardianships", appointment(), content_type="application/json")
        assert api.status_code == 403
    assert not Guardianship.objects.exists() and not ParentalRestriction.objects.exists()
    # The API names the rule: the purpose is not the clerk's.
    api = as_(hotel_clerk).get(f"{API}/{KHOI_ID}/guardianship")
    assert api.status_code == 403 and problems(api) == {"purpose": "not_allowed"}


def test_a_page_form_with_a_bad_date_names_the_field_and_writes_nothing(
    an_children: dict[str, Any], civil_status_tayho: Person
) -> None:
    page = as_(civil_status_tayho)
    bad = page.post(
        f"{PAGE}guardianships/", {"child_id_number": KHOI_ID, **appointment(started_on="31/02/2026")}
    )
    assert bad.status_code == 400 and "started_on" in bad.content.decode()
    adult = page.post(
        f"{PAGE}guardianships/", {"child_id_number": KHOI_ID, **appointment(guardian_id_number=KHOI_ID)}
    )
    assert adult.status_code == 400 and "<code>self</code>" in adult.content.decode()
    assert not Guardianship.objects.exists()


# --------------------------------------------------------------------------- the API
def test_a_restricted_father_regains_his_son_when_the_court_lifts_the_restriction_early(
    an_children: dict[str, Any], an_level2: int, civil_status_tayho: Person
) -> None:
    api = as_(civil_status_tayho)
    made = api.post(f"{API}/{KHOI_ID}/parental-restrictions", restriction(), content_type="application/json")
    assert made.status_code == 201
    rid = made.json()["id"]
    with pytest.raises(DomainValidationError):  # restricted: the refusal of wrong data
        family.register_child(an_level2, khoi(), on=FAMILY_DAY)
    lift = f"{API}/{KHOI_ID}/parental-restrictions/{rid}/lift"
    # Rules named: before the restriction started, before the lifting decision, no court.
    early = api.post(lift, lifting(lifted_on="2026-11-01"), content_type="application/json")
    assert early.status_code == 422 and problems(early) == {"lifted_on": "range"}
    no_court = api.post(lift, lifting(court=""), content_type="application/json")
    assert no_court.status_code == 422 and "court" in problems(no_court)
    assert ParentalRestriction.objects.get().lifted_on is None  # nothing half-written
    lifted = api.post(lift, lifting(), content_type="application/json")
    assert lifted.status_code == 200 and lifted.json() == {"id": rid}
    again = api.post(lift, lifting(), content_type="application/json")
    assert again.status_code == 422 and problems(again) == {"restriction_id": "lifted"}
    other = api.post(
        f"{API}/{KHOI_ID}/parental-restrictions/{rid + 99}/lift", lifting(), content_type="application/json"
    )
    assert other.status_code == 404 and problems(other) == {"restriction_id": "not_found"}
    # From the lifting the father acts for his son again.
    assert family.register_child(an_level2, khoi(), on=FAMILY_DAY).relationship == "father"
    record = api.get(f"{API}/{KHOI_ID}/guardianship").json()
    [shown] = record["restrictions"]
    assert (shown["state"], shown["lift_decision"], shown["relationship"]) == (
        "lifted",
        "03/2026/QĐ-TA",
        "father",
    )
    # The father sees the lifting on his own access history.
    an = Citizen.objects.get(id_number=AN_ID)
    assert AuditEvent.objects.filter(
        action="registry.parental_restriction.lift", subject_citizen_id=an.pk, result="ok"
    ).exists()


def test_the_api_names_the_field_and_rule_of_every_refusal_and_writes_nothing(
    an_children: dict[str, Any], civil_status_tayho: Person
) -> None:
    api = as_(civil_status_tayho)
    url = f"{API}/{KHOI_ID}"
    not_parent = api.post(
        f"{url}/parental-restrictions", restriction(parent_id_number=MAI_ID), content_type="application/json"
    )
    assert not_parent.status_code == 422 and problems(not_parent) == {"parent_id_number": "not_parent"}
    order = api.post(
        f"{url}/parental-restrictions",
        restriction(restricted_until="2026-01-01"),
        content_type="application/json",
    )
    assert problems(order) == {"restricted_until": "order"}
    future = api.post(
        f"{url}/parental-restrictions", restriction(decided_on="2999-01-01"), content_type="application/json"
    )
    assert problems(future) == {"decided_on": "past"}
    missing = api.post(
        f"{url}/parental-restrictions", restriction(court=None), content_type="application/json"
    )
    assert missing.status_code == 422 and "court" in problems(missing)
    child_guardian = api.post(
        f"{url}/guardianships",
        appointment(guardian_id_number="001316004455"),
        content_type="application/json",
    )
    # One rule whether the guardian is a minor, deceased or unknown (security review).
    assert problems(child_guardian) == {"guardian_id_number": "not_eligible"}
    nobody = api.post(
        f"{url}/guardianships/end",
        {"ended_on": "2026-11-30", "reason": "Thôi", "legal_basis": "BLDS 2015 Điều 62"},
        content_type="application/json",
    )
    assert nobody.status_code == 404 and problems(nobody) == {"ward_id_number": "not_found"}
    assert not Guardianship.objects.exists() and not ParentalRestriction.objects.exists()


def test_the_guardian_loses_the_account_when_the_officer_ends_the_guardianship(
    an_children: dict[str, Any], mai_level2: int, civil_status_tayho: Person
) -> None:
    api = as_(civil_status_tayho)
    assert (
        api.post(
            f"{API}/{KHOI_ID}/parental-restrictions", restriction(), content_type="application/json"
        ).status_code
        == 201
    )
    assert (
        api.post(f"{API}/{KHOI_ID}/guardianships", appointment(), content_type="application/json").status_code
        == 201
    )
    child = family.register_child(mai_level2, khoi(), on=FAMILY_DAY)
    ended = api.post(
        f"{API}/{KHOI_ID}/guardianships/end",
        {"ended_on": "2026-11-30", "reason": "Người giám hộ xin thôi", "legal_basis": "BLDS 2015 Điều 62"},
        content_type="application/json",
    )
    assert ended.status_code == 200
    assert family.children_of(mai_level2, on=FAMILY_DAY) == []
    record = api.get(f"{API}/{KHOI_ID}/guardianship").json()
    [past] = record["guardianships"]
    assert (past["guardian_id_number"], past["ended_on"]) == (MAI_ID, "2026-11-30")
    assert child.account_id


def test_the_openapi_document_lists_the_guardianship_operations_with_examples(client: Client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/registry/citizens/{id_number}/guardianship",
        "/api/v1/registry/citizens/{id_number}/guardianships",
        "/api/v1/registry/citizens/{id_number}/guardianships/end",
        "/api/v1/registry/citizens/{id_number}/parental-restrictions",
        "/api/v1/registry/citizens/{id_number}/parental-restrictions/{restriction_id}/lift",
    ):
        assert path in doc["paths"]
    schema = doc["components"]["schemas"]["RestrictionIn"]
    assert schema["properties"]["court"]["examples"] and "court" in schema["required"]
    assert "403" in doc["paths"]["/api/v1/registry/citizens/{id_number}/guardianships"]["post"]["responses"]
