"""The integration API for property-management systems: single and batch notifications with an
organisation API key, idempotency keys, errors per row naming the field and the rule."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings

from dancu.apps.residence import services
from dancu.apps.residence.models import Establishment, Stay
from dancu.blocks.organisations.models import Membership, Organisation
from dancu.blocks.organisations.services import issue_api_key, revoke_api_key
from tests.apps.residence.conftest import AN_ID, AN_QR, CLAIRE_PASSPORT, MAI_QR, recent_arrival
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("residents")
URL = "/api/v1/residence/notifications"


@pytest.fixture
def token(hotel: services.EstablishmentView) -> str:
    return issue_api_key(Organisation.objects.get(pk=hotel.organisation_id), "PMS Hòa Bình").token


@pytest.fixture
def other_token(guest_house: services.EstablishmentView) -> str:
    return issue_api_key(Organisation.objects.get(pk=guest_house.organisation_id), "PMS Hàng Bạc").token


def notification(
    *guests: dict[str, Any], room: str = "301", hours: int = 1, **changes: Any
) -> dict[str, Any]:
    arrival = recent_arrival(hours)
    return {
        "room": room,
        "arrival": arrival.isoformat(),
        "expected_departure": (arrival + timedelta(days=2)).isoformat(),
        "reason": "Công tác",
        "guests": list(guests) or [{"kind": "qr", "text": AN_QR}],
        **changes,
    }


def post(client: Client, url: str, payload: dict[str, Any], token: str) -> Any:
    return client.post(
        url, data=json.dumps(payload), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_a_pms_notifies_a_family_with_its_api_key(client: Client, token: str) -> None:
    payload = notification(
        {"kind": "qr", "text": AN_QR},
        {"kind": "child", "full_name": "Nguyễn Minh Khôi", "date_of_birth": "2019-06-01", "guardian": 0},
        idempotency_key="pms-0001",
    )
    response = post(client, URL, payload, token)
    assert response.status_code == 200, response.content
    body = response.json()
    assert [s["guest_kind"] for s in body["stays"]] == ["citizen", "child"]
    assert body["stays"][0]["id_number"] == AN_ID and body["stays"][0]["status"] == "on_time"
    again = post(client, URL, payload, token)
    assert again.json()["replayed"] is True and again.json()["stays"] == body["stays"]
    conflict = post(client, URL, {**payload, "room": "999"}, token)
    assert conflict.status_code == 409
    assert conflict.json()["detail"][0]["rule"] == "idempotency_conflict"
    assert Stay.objects.count() == 2


def test_errors_name_the_field_and_rule(client: Client, token: str) -> None:
    payload = notification({"kind": "passport", "mrz": CLAIRE_PASSPORT})
    payload["expected_departure"] = payload["arrival"]
    response = post(client, URL, payload, token)
    assert response.status_code == 422
    assert {(d["field"], d["rule"]) for d in response.json()["detail"]} == {
        ("expected_departure", "after_arrival")
    }
    naive = post(client, URL, notification(arrival="2026-03-01T10:00:00"), token)
    assert naive.status_code == 422 and naive.json()["detail"][0]["field"] == "arrival"


def test_without_a_key_or_with_a_police_session_the_call_is_refused(
    client: Client, hotel: services.EstablishmentView, ward_police: Person
) -> None:
    assert (
        client.post(URL, data=json.dumps(notification()), content_type="application/json").status_code == 401
    )
    client.force_login(ward_police.user)
    response = client.post(URL, data=json.dumps(notification()), content_type="application/json")
    assert response.status_code in (403,)  # CSRF or policy: never stored
    assert not Stay.objects.exists()


def test_a_revoked_key_or_deactivated_organisation_is_refused_on_the_very_next_request(
    client: Client, token: str, hotel: services.EstablishmentView
) -> None:
    """Khách sạn Hòa Bình's PMS key is read from the database on every request (no cache on this
    API): revoked, the next single and batch are refused (401, rule ``revoked``)."""
    assert post(client, URL, notification(), token).status_code == 200
    assert revoke_api_key(token.split("_")[1])
    for url, payload in (
        (URL, notification(room="302")),
        (URL + "/batch", {"notifications": [notification()]}),
    ):
        refused = post(client, url, payload, token)
        assert refused.status_code == 401, refused.content
    assert Stay.objects.count() == 1


def test_a_key_of_a_deactivated_organisation_is_refused_at_once(
    client: Client, token: str, hotel: services.EstablishmentView
) -> None:
    assert post(client, URL, notification(), token).status_code == 200
    Organisation.objects.filter(pk=hotel.organisation_id).update(active=False)
    assert post(client, URL, notification(room="302"), token).status_code == 401
    assert Stay.objects.count() == 1


def test_a_clerk_whose_membership_is_removed_is_refused_on_the_next_request(
    client: Client, hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    """The front-desk clerk of Khách sạn Hòa Bình notifies with the session; once the membership is
    deactivated the next notification is refused and nothing is stored."""
    client.force_login(hotel_clerk.user)
    assert (
        client.post(URL, data=json.dumps(notification()), content_type="application/json").status_code == 200
    )
    Membership.objects.filter(user=hotel_clerk.user).update(active=False)
    refused = client.post(URL, data=json.dumps(notification(room="302")), content_type="application/json")
    assert refused.status_code == 403, refused.content
    assert Stay.objects.count() == 1


def test_the_desk_establishment_read_answers_what_the_orm_answers(
    hotel: services.EstablishmentView, guest_house: services.EstablishmentView
) -> None:
    """``_establishment_of`` (a statement compiled once) gives the row ``filter().first()`` gives,
    every field with the same value and type; an organisation without one gets None."""
    for view in (hotel, guest_house):
        fast = services._establishment_of(view.organisation_id)
        orm = Establishment.objects.filter(organisation_id=view.organisation_id).first()
        assert fast is not None and orm is not None
        for f in Establishment._meta.concrete_fields:
            assert getattr(fast, f.attname) == getattr(orm, f.attname), f.name
            assert type(getattr(fast, f.attname)) is type(getattr(orm, f.attname)), f.name
        assert fast._state.adding is False and fast._state.db == orm._state.db
    assert services._establishment_of(0) is None


def test_a_batch_stores_the_good_rows_and_reports_each_bad_row(client: Client, token: str) -> None:
    bad_departure = notification(room="302")
    bad_departure["expected_departure"] = bad_departure["arrival"]
    payload = {
        "idempotency_key": "pms-batch-01",
        "notifications": [
            notification(),
            bad_departure,
            {"room": "303", "guests": [{"kind": "qr"}]},
            notification({"kind": "qr", "text": "not|a|card"}, room="304"),
            notification(
                {"kind": "qr", "text": MAI_QR}, {"kind": "passport", "mrz": CLAIRE_PASSPORT}, room="305"
            ),
        ],
    }
    response = post(client, URL + "/batch", payload, token)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["stored"], body["failed"]) == (2, 3)
    rows = body["rows"]
    assert [r["status"] for r in rows] == ["stored", "error", "error", "error", "stored"]
    assert rows[1]["errors"][0]["field"] == "notifications[1].expected_departure"
    assert rows[1]["errors"][0]["rule"] == "after_arrival"
    assert {e["field"] for e in rows[2]["errors"]} >= {
        "notifications[2].arrival",
        "notifications[2].guests.0.qr.text",
    }
    assert rows[3]["errors"][0]["field"].startswith("notifications[3].guests[0].evidence")
    assert Stay.objects.count() == 3
    again = post(client, URL + "/batch", payload, token)
    assert again.json()["replayed"] is True and again.json()["rows"] == rows
    assert Stay.objects.count() == 3
    changed = post(client, URL + "/batch", {**payload, "notifications": payload["notifications"][:1]}, token)
    assert changed.status_code == 409


def test_check_out_by_api_only_for_the_own_establishment(
    client: Client, token: str, other_token: str
) -> None:
    stay_id = post(client, URL, notification(), token).json()["stays"][0]["stay_id"]
    assert post(client, f"/api/v1/residence/stays/{stay_id}/check-out", {}, other_token).status_code == 404
    response = post(client, f"/api/v1/residence/stays/{stay_id}/check-out", {}, token)
    assert response.status_code == 200 and response.json()["departed_at"] is not None


def test_the_openapi_document_has_the_examples(client: Client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    body = doc["paths"]["/api/v1/residence/notifications"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    assert "card_qr" in body["examples"] and "foreign_guest" in body["examples"]
    assert "/api/v1/residence/notifications/batch" in doc["paths"]


@override_settings(DANCU_FAST_RESIDENCE_BATCH=False)  # row by row; the set-based path: test_batch_fast
def test_a_batch_interrupted_in_the_middle_keeps_nothing_and_its_retry_stores_every_row_once(
    client: Client, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database fails at the third row (the server dies): nothing of the batch was
    acknowledged, so nothing of it is kept; the retry with the same key stores each row once."""
    from django.db import DatabaseError

    body = {
        "idempotency_key": "pms-batch-crash-1",
        "notifications": [
            notification(room="301"),
            notification({"kind": "qr", "text": MAI_QR}, room="302"),
            notification({"kind": "passport", "mrz": CLAIRE_PASSPORT}, room="303"),
        ],
    }
    real = services._store
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise DatabaseError("connection lost")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "_store", failing)
    with pytest.raises(DatabaseError):
        post(client, URL + "/batch", body, token)
    assert Stay.objects.count() == 0
    monkeypatch.setattr(services, "_store", real)
    answer = post(client, URL + "/batch", body, token)
    assert answer.status_code == 200 and answer.json()["stored"] == 3
    again = post(client, URL + "/batch", body, token)
    assert again.json()["replayed"] and Stay.objects.count() == 3


def test_a_row_echoing_a_nul_or_a_lone_surrogate_is_reported_and_the_batch_replays(
    client: Client, token: str
) -> None:
    """A parser's message may quote the input; the answer is stored for replays, and PostgreSQL
    refuses U+0000 and unpaired surrogates: they are replaced, the good row is stored."""
    body = {
        "idempotency_key": "pms-batch-nul-1",
        "notifications": [notification({"kind": "\x00"}), notification({"kind": "\ud800"}), notification()],
    }
    data = json.dumps(body)  # ASCII escapes, as a client sends them
    first = client.post(
        URL + "/batch", data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert first.status_code == 200, first.content
    answer = first.json()
    assert [r["status"] for r in answer["rows"]] == ["error", "error", "stored"]
    assert "\x00" not in json.dumps(answer, ensure_ascii=False)
    again = client.post(
        URL + "/batch", data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert again.json()["replayed"] and again.json()["rows"] == answer["rows"]
