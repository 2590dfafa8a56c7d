"""The JSON API (``/api/v1``): OpenAPI 3; a logged-in staff member's organisation and the purpose
they name decide what they get; every error has the shape
``{"detail": [{"field": ..., "rule": ..., "message": ...}]}``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry.models import Citizen, CitizenRevision
from dancu.blocks.registry.services import NewCitizen, register_citizen
from tests.conftest import TAY_HO_WARD, Person

pytestmark = pytest.mark.usefixtures("adminunits_ready")

API = "/api/v1"
AN_ID = "001085012345"
BINH_ID = "001190222222"
TAY_HO_ADDRESS = "Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội"
HOAN_KIEM_ADDRESS = "Số 1 Tràng Tiền, Phường Tràng Tiền, Quận Hoàn Kiếm, Hà Nội"
LOOKUP = {"purpose": "registry.lookup"}


@pytest.fixture
def residents(system_ctx: Callable[[str], AccessContext]) -> dict[str, Any]:
    """Nguyễn Văn An (Tây Hồ, old CMND 012345678) and Trần Thị Bình (Hoàn Kiếm)."""
    ctx = system_ctx("registry.administration")
    an = register_citizen(
        ctx,
        NewCitizen(
            id_number=AN_ID,
            full_name="Nguyễn Văn An",
            date_of_birth=date(1985, 3, 2),
            sex="M",
            permanent_address_text=TAY_HO_ADDRESS,
            religion="Phật giáo",
            old_id_numbers=("012345678",),
        ),
        reason="Đăng ký",
        legal_basis="Luật Cư trú 2020",
    )
    binh = register_citizen(
        ctx,
        NewCitizen(
            id_number=BINH_ID,
            full_name="Trần Thị Bình",
            date_of_birth=date(1990, 7, 15),
            sex="F",
            permanent_address_text=HOAN_KIEM_ADDRESS,
        ),
        reason="Đăng ký",
        legal_basis="Luật Cư trú 2020",
    )
    return {"an": an, "binh": binh}


@pytest.fixture
def as_(client: Client) -> Callable[[Person], Client]:
    def log_in(person: Person) -> Client:
        client.force_login(person.user)
        return client

    return log_in


def details(response: Any) -> list[dict[str, str]]:
    body = response.json()
    assert set(body) == {"detail"}, body
    for item in body["detail"]:
        assert set(item) == {"field", "rule", "message"}, item
    return body["detail"]


def fields_of(response: Any) -> set[str]:
    return {d["field"] for d in details(response)}


# --------------------------------------------------------------------------- OpenAPI
def test_the_openapi_document_is_openapi_3_and_lists_the_registry_paths(client: Client) -> None:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] == "dancu API"
    paths = set(doc["paths"])
    for path in [
        f"{API}/registry/citizens",
        f"{API}/registry/citizens/{{id_number}}",
        f"{API}/registry/citizens/{{id_number}}/history",
        f"{API}/registry/citizens/by-old-id/{{old_number}}",
        f"{API}/registry/citizens/{{id_number}}/corrections",
        f"{API}/registry/purposes",
        f"{API}/audit/citizens/{{id_number}}/events",
    ]:
        assert path in paths, path
    lookup = doc["paths"][f"{API}/registry/citizens/{{id_number}}"]["get"]
    assert "purpose" in {p["name"] for p in lookup["parameters"]}


def test_the_purpose_codes_are_public(client: Client) -> None:
    response = client.get(f"{API}/registry/purposes")
    assert response.status_code == 200
    codes = {p["code"] for p in response.json()}
    assert {"registry.lookup", "residence.notification", "data.cleaning"} <= codes


# --------------------------------------------------------------------------- look up by ID number
def test_city_police_look_up_a_citizen(
    as_: Callable[[Person], Client], city_police: Person, residents: dict[str, Any]
) -> None:
    response = as_(city_police).get(f"{API}/registry/citizens/{AN_ID}", LOOKUP)
    assert response.status_code == 200
    body = response.json()
    assert (body["id_number"], body["full_name"], body["religion"]) == (AN_ID, "Nguyễn Văn An", "Phật giáo")
    assert body["permanent_address"]["ward_code"] == TAY_HO_WARD
    assert body["fields_withheld"] == []
    assert (
        AuditEvent.objects.filter(action="registry.read", actor_label="officer.city", result="ok").count()
        == 1
    )


def test_the_purpose_decides_which_fields_are_returned(
    as_: Callable[[Person], Client], city_police: Person, residents: dict[str, Any]
) -> None:
    body = as_(city_police).get(f"{API}/registry/citizens/{AN_ID}", {"purpose": "data.cleaning"}).json()
    assert body["religion"] is None
    assert body["ethnicity"] is None
    assert "religion" in body["fields_withheld"]


def test_a_hotel_clerk_is_forbidden(
    as_: Callable[[Person], Client], hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    response = as_(hotel_clerk).get(f"{API}/registry/citizens/{AN_ID}", LOOKUP)
    assert response.status_code == 403
    [problem] = details(response)
    assert (problem["field"], problem["rule"]) == ("purpose", "not_allowed")
    assert "Nguyễn" not in response.content.decode()
    assert AuditEvent.objects.filter(actor_label="clerk.hotel", result="denied").count() == 1


def test_ward_police_are_forbidden_a_resident_of_another_ward(
    as_: Callable[[Person], Client], ward_police: Person, residents: dict[str, Any]
) -> None:
    response = as_(ward_police).get(f"{API}/registry/citizens/{BINH_ID}", LOOKUP)
    assert response.status_code == 403
    assert [(d["field"], d["rule"]) for d in details(response)] == [("id_number", "jurisdiction")]
    assert as_(ward_police).get(f"{API}/registry/citizens/{AN_ID}", LOOKUP).status_code == 200


def test_an_outsider_is_forbidden(
    as_: Callable[[Person], Client], outsider: Person, residents: dict[str, Any]
) -> None:
    assert as_(outsider).get(f"{API}/registry/citizens/{AN_ID}", LOOKUP).status_code == 403


def test_without_logging_in_the_answer_is_401(client: Client, residents: dict[str, Any]) -> None:
    response = client.get(f"{API}/registry/citizens/{AN_ID}", LOOKUP)
    assert response.status_code == 401
    assert [(d["field"], d["rule"]) for d in details(response)] == [("authorization", "required")]
    assert not AuditEvent.objects.filter(action="registry.read").exists()


def test_an_unknown_number_is_404_naming_id_number(
    as_: Callable[[Person], Client], city_police: Person, residents: dict[str, Any]
) -> None:
    response = as_(city_police).get(f"{API}/registry/citizens/001099999999", LOOKUP)
    assert response.status_code == 404
    assert [(d["field"], d["rule"]) for d in details(response)] == [("id_number", "not_found")]


@pytest.mark.parametrize("bad", ["12345", "00108501234x", "００１０８５０１２３４５", "003085012345"])
def test_a_malformed_number_is_422_naming_id_number(
    as_: Callable[[Person], Client], city_police: Person, bad: str
) -> None:
    response = as_(city_police).get(f"{API}/registry/citizens/{bad}", LOOKUP)
    assert response.status_code == 422
    assert fields_of(response) == {"id_number"}


def test_a_missing_purpose_is_422_naming_purpose(
    as_: Callable[[Person], Client], city_police: Person, residents: dict[str, Any]
) -> None:
    response = as_(city_police).get(f"{API}/registry/citizens/{AN_ID}")
    assert response.status_code == 422
    assert fields_of(response) == {"purpose"}


def test_an_unknown_purpose_is_422_and_a_misfitting_one_403(
    as_: Callable[[Person], Client], city_police: Person, residents: dict[str, Any]
) -> None:
    client = as_(city_police)
    response = client.get(f"{API}/registry/citizens/{AN_ID}", {"purpose": "curiosity"})
    assert response.status_code == 422
    assert [(d["field"], d["rule"]) for d in details(response)] == [("purpose", "unknown_purpose")]
    response = client.get(f"{API}/registry/citizens/{AN_ID}", {"purpose": "residence.notification"})
    assert response.status_code == 403


def test_x_organisation_chooses_one_of_the_members_organisations(
    as_: Callable[[Person], Client], city_police: Person, hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    client = as_(city_police)
    own = str(city_police.actor.organisation_id)
    foreign = str(hotel_clerk.actor.organisation_id)
    assert (
        client.get(f"{API}/registry/citizens/{AN_ID}", LOOKUP, headers={"X-Organisation": own}).status_code
        == 200
    )
    response = client.get(f"{API}/registry/citizens/{AN_ID}", LOOKUP, headers={"X-Organisation": foreign})
    assert response.status_code == 403
    assert [(d["field"], d["rule"]) for d in details(response)] == [("organisation", "membership")]
    response = client.get(f"{API}/registry/citizens/{AN_ID}", LOOKUP, headers={"X-Organisation": "CA-HN"})
    assert response.status_code == 422
    assert fields_of(response) == {"X-Organisation"}


def test_an_old_cmnd_number_finds_the_citizen(
    as_: Callable[[Person], Client], city_police: Person, residents: dict[str, Any]
) -> None:
    response = as_(city_police).get(f"{API}/registry/citizens/by-old-id/012345678", LOOKUP)
    assert response.status_code == 200
    assert response.json()["id_number"] == AN_ID


# --------------------------------------------------------------------------- register
def new_citizen_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id_number": "001187054321",
        "full_name": "Phạm Thị Lan",
        "date_of_birth": "1987-05-05",
        "sex": "F",
        "permanent_address_text": TAY_HO_ADDRESS,
        "household_number": "HK-TH-7",
        "relationship_to_head": "head",
        "reason": "Đăng ký thường trú",
        "legal_basis": "Luật Cư trú 2020 Điều 20",
    }
    body.update(overrides)
    return body


def test_a_registrar_registers_a_citizen(as_: Callable[[Person], Client], registrar: Person) -> None:
    response = as_(registrar).post(
        f"{API}/registry/citizens", new_citizen_body(), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["full_name"], body["version"], body["household_number"]) == ("Phạm Thị Lan", 1, "HK-TH-7")
    revision = CitizenRevision.objects.get(citizen_id=body["citizen_id"])
    assert (revision.actor_label, revision.reason) == ("registrar", "Đăng ký thường trú")


def test_registering_with_bad_fields_is_422_naming_each_field_and_stores_nothing(
    as_: Callable[[Person], Client], registrar: Person
) -> None:
    body = new_citizen_body(
        id_number="00118705432x",
        full_name="Lan 2",
        sex="X",
        nationality="Vietnam",
        permanent_address_text="Xyzzy Plugh",
        old_id_numbers=["12"],
    )
    response = as_(registrar).post(f"{API}/registry/citizens", body, content_type="application/json")
    assert response.status_code == 422
    assert fields_of(response) == {
        "id_number",
        "full_name",
        "sex",
        "nationality",
        "permanent_address_text",
        "old_id_numbers[0]",
    }
    assert not Citizen.objects.exists()
    assert not CitizenRevision.objects.exists()


def test_a_body_that_breaks_the_schema_is_422_naming_the_fields(
    as_: Callable[[Person], Client], registrar: Person
) -> None:
    body = new_citizen_body(date_of_birth="02/05/1987")
    del body["full_name"]
    response = as_(registrar).post(f"{API}/registry/citizens", body, content_type="application/json")
    assert response.status_code == 422
    assert fields_of(response) == {"date_of_birth", "full_name"}
    assert not Citizen.objects.exists()


def test_a_duplicate_registration_is_422_with_rule_unique(
    as_: Callable[[Person], Client], registrar: Person, residents: dict[str, Any]
) -> None:
    body = new_citizen_body(id_number=AN_ID, full_name="Nguyễn Văn An", date_of_birth="1985-03-02", sex="M")
    response = as_(registrar).post(f"{API}/registry/citizens", body, content_type="application/json")
    assert response.status_code == 422
    assert [(d["field"], d["rule"]) for d in details(response)] == [("id_number", "unique")]
    assert Citizen.objects.count() == 2


def test_a_hotel_clerk_may_not_register(as_: Callable[[Person], Client], hotel_clerk: Person) -> None:
    response = as_(hotel_clerk).post(
        f"{API}/registry/citizens", new_citizen_body(), content_type="application/json"
    )
    assert response.status_code == 403
    assert not Citizen.objects.exists()


def test_registering_without_logging_in_is_401(client: Client) -> None:
    response = client.post(f"{API}/registry/citizens", new_citizen_body(), content_type="application/json")
    assert response.status_code == 401
    assert not Citizen.objects.exists()


# --------------------------------------------------------------------------- changes
def test_a_correction_through_the_api(
    as_: Callable[[Person], Client], registrar: Person, residents: dict[str, Any]
) -> None:
    response = as_(registrar).post(
        f"{API}/registry/citizens/{AN_ID}/corrections",
        {
            "changes": {"date_of_birth": "1985-12-01"},
            "reason": "Đính chính",
            "legal_basis": "Luật Căn cước 2023",
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["date_of_birth"], response.json()["version"]) == ("1985-12-01", 2)


def test_a_correction_with_a_malformed_date_names_the_field(
    as_: Callable[[Person], Client], registrar: Person, residents: dict[str, Any]
) -> None:
    response = as_(registrar).post(
        f"{API}/registry/citizens/{AN_ID}/corrections",
        {
            "changes": {"date_of_birth": "01/12/1985"},
            "reason": "Đính chính",
            "legal_basis": "Luật Căn cước 2023",
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    assert fields_of(response) == {"changes.date_of_birth"}
    assert Citizen.objects.get(id_number=AN_ID).version == 1


def test_moves_and_deaths_through_the_api(
    as_: Callable[[Person], Client], registrar: Person, residents: dict[str, Any]
) -> None:
    client = as_(registrar)
    why = {"reason": "Chuyển hộ khẩu", "legal_basis": "Luật Cư trú 2020"}
    response = client.post(
        f"{API}/registry/citizens/{AN_ID}/moves",
        {"permanent_address_text": HOAN_KIEM_ADDRESS, **why},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["permanent_address"]["ward_code"] == "00070"
    response = client.post(
        f"{API}/registry/citizens/{AN_ID}/death",
        {"date_of_death": "2025-01-10", **why},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["life_status"] == "deceased"


# --------------------------------------------------------------------------- search, history, audit log
def test_search_finds_a_name_written_without_diacritics(
    as_: Callable[[Person], Client], city_police: Person, residents: dict[str, Any]
) -> None:
    response = as_(city_police).get(f"{API}/registry/citizens", {**LOOKUP, "name": "nguyen van an"})
    assert response.status_code == 200
    [hit] = response.json()
    assert (hit["id_number"], hit["full_name"]) == (AN_ID, "Nguyễn Văn An")
    assert set(hit) == {
        "citizen_id",
        "id_number",
        "full_name",
        "date_of_birth",
        "dob_precision",
        "sex",
        "permanent_ward_code",
        "life_status",
    }


def test_search_validates_its_parameters(as_: Callable[[Person], Client], city_police: Person) -> None:
    client = as_(city_police)
    response = client.get(f"{API}/registry/citizens", {**LOOKUP, "name": "nguyen", "limit": 1000})
    assert response.status_code == 422
    assert fields_of(response) == {"limit"}
    response = client.get(f"{API}/registry/citizens", {**LOOKUP, "name": "An 2"})
    assert response.status_code == 422
    assert fields_of(response) == {"name"}


def test_search_is_forbidden_to_a_hotel_clerk(
    as_: Callable[[Person], Client], hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    response = as_(hotel_clerk).get(f"{API}/registry/citizens", {**LOOKUP, "name": "nguyen van an"})
    assert response.status_code == 403


def test_the_history_endpoint_lists_revisions_newest_first(
    as_: Callable[[Person], Client], registrar: Person, city_police: Person, residents: dict[str, Any]
) -> None:
    as_(registrar).post(
        f"{API}/registry/citizens/{AN_ID}/corrections",
        {"changes": {"religion": "Không"}, "reason": "Đính chính", "legal_basis": "Luật Căn cước 2023"},
        content_type="application/json",
    )
    response = as_(city_police).get(f"{API}/registry/citizens/{AN_ID}/history", LOOKUP)
    assert response.status_code == 200
    revisions = response.json()
    assert [(r["version"], r["action"]) for r in revisions] == [(2, "correct"), (1, "register")]
    assert revisions[0]["changes"] == {"religion": ["Phật giáo", "Không"]}
    assert revisions[0]["actor"] == "registrar"


def test_the_history_endpoint_is_jurisdiction_scoped(
    as_: Callable[[Person], Client], ward_police: Person, residents: dict[str, Any]
) -> None:
    assert as_(ward_police).get(f"{API}/registry/citizens/{BINH_ID}/history", LOOKUP).status_code == 403


def test_the_audit_endpoint_shows_who_accessed_a_citizen(
    as_: Callable[[Person], Client], city_police: Person, ward_police: Person, residents: dict[str, Any]
) -> None:
    as_(ward_police).get(f"{API}/registry/citizens/{AN_ID}", {"purpose": "security.investigation"})
    response = as_(city_police).get(f"{API}/audit/citizens/{AN_ID}/events", LOOKUP)
    assert response.status_code == 200
    events = response.json()
    assert events[0]["who"] == "officer.city"  # the request for the log is itself recorded, newest first
    entries = {(e["who"], e["action"], e["purpose_code"]) for e in events}
    assert ("officer.tayho", "registry.read", "security.investigation") in entries
    assert ("test-system", "registry.register", "registry.administration") in entries
    tay_ho = next(e for e in events if e["who"] == "officer.tayho")
    assert tay_ho["purpose_vi"] == "Bảo đảm an ninh, trật tự"
    assert tay_ho["organisation"] == "Công an phường Tây Hồ"


def test_the_audit_endpoint_is_forbidden_to_a_hotel_clerk(
    as_: Callable[[Person], Client], hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    response = as_(hotel_clerk).get(f"{API}/audit/citizens/{AN_ID}/events", LOOKUP)
    assert response.status_code == 403


def test_the_audit_endpoint_requires_login(client: Client, residents: dict[str, Any]) -> None:
    assert client.get(f"{API}/audit/citizens/{AN_ID}/events", LOOKUP).status_code == 401
