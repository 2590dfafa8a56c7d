"""Sector digitisation (model 35): Sở Nội vụ's administrator defines the workers' registry (its
schema is data), its officers and systems create, read, check, update, list and delete records
through the GovStack Digital Registries data API; every record's person is verified against the
population registry through the data-exchange gateway before it is stored. Another organisation
may not touch the registry; an officer may not define one; a person the registry does not confirm
is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from dancu.apps.sector import services
from dancu.apps.sector.demo import LABOUR_SCHEMA
from dancu.apps.sector.models import SectorEntry
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.exchange.models import Message
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import actor_for, issue_api_key
from dancu.blocks.registry.dto import CitizenView
from dancu.errors import AccessDenied, DomainValidationError
from tests.conftest import HANOI, Person

BASE = "/api/v1/sector/data/LAODONG/1.0"
AN = {"ID": "001085012345", "FullName": "Nguyễn Văn An", "BirthDate": "1985-03-02"}
JOB = {"Employer": "Công ty TNHH Sông Hồng", "Occupation": "Kỹ sư", "ContractType": "indefinite"}


def _h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Information-Mediator-Client": "VN-HN/GOV/SO-NV/HRM"}


def _call(client: Client, method: str, path: str, key: str, body: dict[str, Any] | None = None) -> Any:
    """One API call with the organisation's key, the body as JSON."""
    send = getattr(client, method)
    if body is None:
        return send(path, headers=_h(key))
    return send(path, body, content_type="application/json", headers=_h(key))


def _query(id_number: str) -> dict[str, Any]:
    return {"query": {"content": {"ID": id_number}}}


def test_create_read_exists_update_list_delete_through_the_api(
    sonv: dict[str, Person], api_key: str, nguyen_van_an: CitizenView, client: Client
) -> None:
    created = client.post(
        f"{BASE}/create",
        {"write": {"content": {**AN, **JOB}}},
        content_type="application/json",
        headers=_h(api_key),
    )
    assert created.status_code == 200, created.content
    body = created.json()
    assert body["content"]["ID"] == "001085012345" and body["content"]["Employer"] == "Công ty TNHH Sông Hồng"
    verified = Message.objects.get(pk=body["verified_by_message"])
    assert verified.status == 200 and verified.request["client"].endswith("/SO-NV/SOHOA")
    read = client.post(
        f"{BASE}/read",
        _query("001085012345"),
        content_type="application/json",
        headers=_h(api_key),
    )
    assert read.status_code == 200 and read.json()["uuid"] == body["uuid"]
    yes = client.post(
        f"{BASE}/exists",
        _query("001085012345"),
        content_type="application/json",
        headers=_h(api_key),
    )
    no = client.post(
        f"{BASE}/exists",
        _query("001190012346"),
        content_type="application/json",
        headers=_h(api_key),
    )
    assert yes.json()["answer"]["status"] is True and no.json()["answer"]["status"] is False
    upd = _call(
        client,
        "put",
        f"{BASE}/update",
        api_key,
        {"query": {"content": {"ID": "001085012345"}}, "write": {"content": {"Occupation": "Trưởng nhóm"}}},
    )
    assert upd.status_code == 200 and upd.json()["content"]["Occupation"] == "Trưởng nhóm"
    ev = AuditEvent.objects.get(action="sector.update")
    assert ev.detail["fields"] == ["Occupation"] and "old" not in ev.detail  # names, never values
    listed = _call(client, "get", f"{BASE}?search=Nguyễn", api_key)
    assert listed.status_code == 200 and listed.json()["count"] == 1 and listed.json()["next"] is None
    assert _call(client, "delete", f"{BASE}/001085012345/delete", api_key).status_code == 204
    assert not SectorEntry.objects.exists()
    assert _call(client, "post", f"{BASE}/read", api_key, _query("001085012345")).status_code == 404


def test_a_person_the_registry_does_not_confirm_is_refused_and_nothing_is_stored(
    sonv: dict[str, Person], api_key: str, nguyen_van_an: CitizenView, client: Client
) -> None:
    wrong = {**AN, "BirthDate": "1986-03-02", **JOB}
    r = client.post(
        f"{BASE}/create", {"write": {"content": wrong}}, content_type="application/json", headers=_h(api_key)
    )
    assert r.status_code == 422
    assert (
        r.json()["detail"][0]["field"] == "content.ID"
        and r.json()["detail"][0]["rule"] == "identity_not_verified"
    )
    assert not SectorEntry.objects.exists()


def test_the_schema_is_enforced_naming_the_field(sonv: dict[str, Person], nguyen_van_an: CitizenView) -> None:
    officer = sonv["officer"].actor
    with pytest.raises(DomainValidationError) as missing:
        services.create(officer, "LAODONG", "1.0", {**AN, "Employer": "X"})
    assert missing.value.problems[0].field == "content.Occupation"
    with pytest.raises(DomainValidationError) as bad_choice:
        services.create(officer, "LAODONG", "1.0", {**AN, **JOB, "ContractType": "forever"})
    assert (bad_choice.value.problems[0].field, bad_choice.value.problems[0].rule) == (
        "content.ContractType",
        "choice",
    )
    with pytest.raises(DomainValidationError) as unknown:
        services.create(officer, "LAODONG", "1.0", {**AN, **JOB, "Salary": 1})
    assert unknown.value.problems[0].rule == "unknown_field"
    with pytest.raises(DomainValidationError) as bad_id:
        services.create(officer, "LAODONG", "1.0", {**AN, **JOB, "ID": "12345"})
    assert bad_id.value.problems[0].field == "content.ID"
    with pytest.raises(DomainValidationError) as bad_schema:
        services.validate_schema([{"name": "ID", "type": "money", "label_vi": ""}])
    assert {p.field for p in bad_schema.value.problems} == {
        "schema[0].name",
        "schema[0].type",
        "schema[0].label_vi",
    }


def test_another_organisation_may_not_touch_the_registry_and_an_officer_may_not_define_one(
    sonv: dict[str, Person], make_person: Callable[..., Person], nguyen_van_an: CitizenView, client: Client
) -> None:
    other = make_person(
        "officer.yte", org_code="SO-YT", org_name="Sở Y tế", kind="department", role="officer", province=HANOI
    )
    with pytest.raises(AccessDenied):
        services.create(other.actor, "LAODONG", "1.0", {**AN, **JOB})
    key = issue_api_key(Organisation.objects.get(code="SO-YT"), "x").token
    assert (
        client.post(f"{BASE}/read", _query("1"), content_type="application/json", headers=_h(key)).status_code
        == 403
    )
    assert client.get(BASE).status_code == 401
    with pytest.raises(AccessDenied):
        services.define_registry(
            sonv["officer"].actor, code="HOI", version="1.0", name_vi="Hội", name_en="x", schema=LABOUR_SCHEMA
        )
    assert (
        AuditEvent.objects.filter(action__startswith="sector.", result=AuditEvent.Result.DENIED).count() == 3
    )


def test_the_officer_enters_a_record_in_the_page(
    sonv: dict[str, Person], nguyen_van_an: CitizenView, logged_in: Callable[[Person], Client]
) -> None:
    c = logged_in(sonv["officer"])
    page = c.get("/so-hoa/LAODONG/1.0/")
    assert page.status_code == 200 and b'data-testid="entry"' in page.content
    form: dict[str, Any] = {
        "ID": "001085012345",
        "FullName": "Nguyễn Văn An",
        "BirthDate": "02/03/1985",
        **JOB,
    }
    assert c.post("/so-hoa/LAODONG/1.0/", form).status_code == 302
    assert c.get("/so-hoa/LAODONG/1.0/").content.count(b'data-testid="record"') == 1
    again = c.post("/so-hoa/LAODONG/1.0/", form)
    assert again.status_code == 409
    assert actor_for(sonv["officer"].user).role == "officer"
    assert b'data-testid="define"' not in c.get("/so-hoa/").content


def test_paging_out_of_range_is_refused_naming_the_parameter(
    sonv: dict[str, Person], api_key: str, client: Client
) -> None:
    for page, field in (("0", "page"), ("1000000000000", "page")):
        r = _call(client, "get", f"{BASE}?page={page}", api_key)
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == field
    r = _call(client, "get", f"{BASE}?page_size=1000", api_key)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "page_size"
