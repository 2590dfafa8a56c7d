"""``/api/v1/alerts``: the police keep the list and read the hits over JSON, with a staff session;
everyone else is refused (401 without a session, 403 for other organisations — audited)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from dancu.blocks.alerts.models import AlertEntry
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity.services import QrEvidence, verify
from tests.blocks.alerts.conftest import AN_ID, AN_QR
from tests.conftest import Person

pytestmark = pytest.mark.django_db

API = "/api/v1/alerts"
NEW = {
    "id_number": AN_ID,
    "kind": "wanted",
    "reference": "QĐ-TN-123/2026",
    "legal_basis": "Bộ luật Tố tụng hình sự 2015 Điều 231",
    "valid_until": "2099-12-31T00:00:00+07:00",
}


@pytest.fixture
def as_(client: Client) -> Callable[[Person], Client]:
    def log_in(person: Person) -> Client:
        client.force_login(person.user)
        return client

    return log_in


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_a_ward_unit_adds_an_entry_sees_the_hit_and_closes_the_entry(
    as_: Callable[[Person], Client], residents: dict[str, Any], ward_police: Person, pawn_clerk: Person
) -> None:
    client = as_(ward_police)
    created = post(client, f"{API}/entries", NEW)
    assert created.status_code == 201, created.content
    entry = created.json()
    assert (entry["subject_id_number"], entry["kind"], entry["active"]) == (AN_ID, "wanted", True)
    assert entry["valid_until"] == "2099-12-31T00:00:00+07:00"

    verify(pawn_clerk.ctx("identity.verification"), QrEvidence(AN_QR), mode="yes_no")
    hits = client.get(f"{API}/hits", {"purpose": "security.investigation"})
    assert hits.status_code == 200, hits.content
    [hit] = hits.json()
    assert (hit["entry_id"], hit["where_organisation_name"], hit["event"]) == (
        entry["entry_id"],
        "Cửa hàng cầm đồ Phát Đạt",
        "identity.verify",
    )
    seen = client.post(f"{API}/hits/{hit['hit_id']}/seen")
    assert seen.status_code == 200 and seen.json()["seen_by"].startswith("officer.tayho")

    listed = client.get(f"{API}/entries")
    assert [e["entry_id"] for e in listed.json()] == [entry["entry_id"]]
    closed = post(client, f"{API}/entries/{entry['entry_id']}/close", {"reason": "Đã bắt được đối tượng"})
    assert closed.status_code == 200 and closed.json()["active"] is False
    assert client.get(f"{API}/entries").json() == []


def test_errors_have_the_shared_shape(
    as_: Callable[[Person], Client], residents: dict[str, Any], city_police: Person
) -> None:
    client = as_(city_police)
    invalid = post(client, f"{API}/entries", {**NEW, "kind": "suspicious"})
    assert invalid.status_code == 422
    assert [(d["field"], d["rule"]) for d in invalid.json()["detail"]] == [("kind", "choice")]
    missing = post(client, f"{API}/entries/999999/close", {"reason": "x"})
    assert missing.status_code == 404
    wrong_purpose = client.get(f"{API}/hits", {"purpose": "registry.lookup"})
    assert wrong_purpose.status_code == 403
    assert wrong_purpose.json()["detail"][0]["rule"] == "purpose"


@pytest.mark.parametrize("who", ["hotel_clerk", "pawn_clerk", "committee_officer", "outsider"])
def test_others_are_refused_and_recorded(
    who: str, as_: Callable[[Person], Client], residents: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    person: Person = request.getfixturevalue(who)
    client = as_(person)
    assert post(client, f"{API}/entries", NEW).status_code == 403
    assert client.get(f"{API}/hits").status_code == 403
    assert client.get(f"{API}/entries").status_code == 403
    assert not AlertEntry.objects.exists()
    denied = AuditEvent.objects.filter(actor_label=person.user.username, result="denied")
    assert {e.action for e in denied} == {"alerts.add", "alerts.hits", "alerts.list"}


def test_anonymous_callers_get_401(client: Client) -> None:
    assert client.get(f"{API}/hits").status_code == 401
    assert post(client, f"{API}/entries", NEW).status_code == 401


def test_the_openapi_document_describes_the_endpoints(client: Client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/entries", "/entries/{entry_id}/close", "/hits", "/hits/{hit_id}/seen"):
        assert f"{API}{path}" in paths
