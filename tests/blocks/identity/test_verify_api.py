"""The verification API for integrators (issue 3, item 5): ``POST /api/v1/identity/verify``.

A hospital's or a hotel's information system authenticates with its organisation's API key, names
the purpose and a request id, and is rate-limited; retries are idempotent; every answer and every
refusal has the documented shape, and the OpenAPI document carries examples."""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.organisations.models import ApiKey, Organisation
from dancu.blocks.organisations.services import issue_api_key, revoke_api_key
from tests.blocks.identity.conftest import AN_ID, AN_NAME, AN_QR
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("trusted", "fresh_rate_limits")

URL = "/api/v1/identity/verify"
PURPOSE = "identity.verification"


def body(request_id: str = "his-0001", **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "request_id": request_id,
        "purpose": PURPOSE,
        "mode": "yes_no",
        "evidence": {"kind": "qr", "text": AN_QR},
    }
    values.update(changes)
    return values


@pytest.fixture
def hospital(db: None) -> Organisation:
    """Bệnh viện Bạch Mai's information system: a medical facility (kind ``clinic``)."""
    return Organisation.objects.create(code="BV-BACHMAI", name="Bệnh viện Bạch Mai", kind="clinic")


@pytest.fixture
def hospital_token(hospital: Organisation) -> str:
    return issue_api_key(hospital, "HIS Bạch Mai").token


@pytest.fixture
def post(client: Client) -> Callable[..., Any]:
    def send(payload: dict[str, Any], token: str | None = None, **headers: str) -> Any:
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client.post(URL, data=json.dumps(payload), content_type="application/json", **headers)

    return send


def problems(response: Any) -> list[tuple[str, str]]:
    payload = response.json()
    assert set(payload) == {"detail"}, payload
    return [(d["field"], d["rule"]) for d in payload["detail"]]


def verify_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="identity.verify").order_by("id"))


# --------------------------------------------------------------------------- authentication
def test_the_hospital_system_verifies_a_patients_card_with_its_api_key(
    post: Callable[..., Any], hospital_token: str, residents: dict[str, Any]
) -> None:
    response = post(body(), hospital_token)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["decision"] == "match"
    assert answer["reasons"] == []
    assert answer["name_score"] == 1.0
    assert answer["data"] is None
    assert answer["replayed"] is False
    [event] = verify_events()
    assert event.organisation_name == "Bệnh viện Bạch Mai"
    assert event.actor_label.startswith("api-key ")
    assert event.actor_user_id is None
    assert event.subject_citizen_id == residents["an"].citizen_id
    assert ApiKey.objects.get().last_used_at is not None


def test_data_mode_gives_the_hospital_the_clinics_fields(
    post: Callable[..., Any], hospital_token: str, residents: dict[str, Any]
) -> None:
    answer = post(body(mode="data"), hospital_token).json()
    assert answer["data"] == {
        "full_name": AN_NAME,
        "date_of_birth": "1985-03-02",
        "sex": "M",
        "health_insurance_number": None,
    }


def test_without_a_key_or_a_session_the_call_is_unauthorised(
    post: Callable[..., Any], residents: dict[str, Any]
) -> None:
    response = post(body())
    assert response.status_code == 401
    assert problems(response) == [("authorization", "required")]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not verify_events()


@pytest.mark.parametrize(
    "token",
    [
        "dk_00000000_" + "A" * 43,  # well-formed, unknown
        "dk_short",  # malformed
        "not-a-dancu-key",
    ],
)
def test_an_invalid_key_is_refused(post: Callable[..., Any], residents: dict[str, Any], token: str) -> None:
    response = post(body(), token)
    assert response.status_code == 401
    assert problems(response) == [("authorization", "invalid")]


def test_a_key_with_the_right_prefix_but_a_wrong_secret_is_refused(
    post: Callable[..., Any], hospital_token: str, residents: dict[str, Any]
) -> None:
    forged = hospital_token[:-4] + ("AAAA" if not hospital_token.endswith("AAAA") else "BBBB")
    assert problems(post(body(), forged)) == [("authorization", "invalid")]


def test_a_revoked_key_is_refused(
    post: Callable[..., Any], hospital_token: str, residents: dict[str, Any]
) -> None:
    assert revoke_api_key(hospital_token.split("_")[1])
    response = post(body(), hospital_token)
    assert response.status_code == 401
    assert problems(response) == [("authorization", "revoked")]


def test_a_key_of_an_inactive_organisation_is_refused(
    post: Callable[..., Any], hospital: Organisation, hospital_token: str, residents: dict[str, Any]
) -> None:
    Organisation.objects.filter(pk=hospital.pk).update(active=False)
    assert problems(post(body(), hospital_token)) == [("authorization", "organisation_inactive")]


def test_a_logged_in_hotel_clerk_may_call_it_with_the_session(
    client: Client, post: Callable[..., Any], hotel_clerk: Person, residents: dict[str, Any]
) -> None:
    client.force_login(hotel_clerk.user)
    response = post(body())
    assert response.status_code == 200
    [event] = verify_events()
    assert (event.actor_label, event.organisation_name) == ("clerk.hotel", "Khách sạn Hòa Bình")


# --------------------------------------------------------------------------- purpose
def test_a_request_without_a_purpose_is_refused_and_recorded(
    post: Callable[..., Any], hospital_token: str, residents: dict[str, Any]
) -> None:
    payload = body()
    del payload["purpose"]
    response = post(payload, hospital_token)
    assert response.status_code == 422
    assert problems(response) == [("purpose", "required")]
    [event] = verify_events()
    assert (event.result, event.purpose, event.organisation_name) == ("invalid", "", "Bệnh viện Bạch Mai")


def test_a_purpose_the_organisation_is_not_granted_is_refused_and_recorded(
    post: Callable[..., Any], residents: dict[str, Any]
) -> None:
    police = Organisation.objects.create(code="CA-HN-IT", name="Công an thành phố Hà Nội", kind="police_city")
    token = issue_api_key(police, "Hệ thống thử").token
    response = post(body(), token)
    assert response.status_code == 403
    assert problems(response) == [("purpose", "not_allowed")]
    [event] = verify_events()
    assert (event.result, event.purpose) == ("denied", PURPOSE)


# --------------------------------------------------------------------------- ping
def test_ping_authenticates_the_key_and_answers_ok_recording_nothing(
    client: Client, hospital_token: str
) -> None:
    events = AuditEvent.objects.count()
    ok = client.post("/api/v1/identity/ping", HTTP_AUTHORIZATION=f"Bearer {hospital_token}")
    assert ok.status_code == 200, ok.content
    assert ok.json() == {"ok": True}
    assert ApiKey.objects.get().last_used_at is not None
    assert AuditEvent.objects.count() == events
    unknown = client.post("/api/v1/identity/ping", HTTP_AUTHORIZATION="Bearer dk_00000000_" + "A" * 43)
    assert unknown.status_code == 401
    assert problems(unknown)[0][0] == "authorization"
    assert client.post("/api/v1/identity/ping").status_code == 401


# --------------------------------------------------------------------------- rate limit
def test_calls_beyond_the_burst_are_refused_with_retry_after(
    settings: Any, post: Callable[..., Any], hospital_token: str, residents: dict[str, Any]
) -> None:
    settings.DANCU_API_RATE_PER_MINUTE = 6  # one token every 10 s
    settings.DANCU_API_BURST = 2
    assert post(body("r-1"), hospital_token).status_code == 200
    assert post(body("r-2"), hospital_token).status_code == 200
    refused = post(body("r-3"), hospital_token)
    assert refused.status_code == 429
    assert problems(refused) == [("request", "rate_limit")]
    assert 1 <= int(refused["Retry-After"]) <= 10
    assert len(verify_events()) == 2  # the refused call never reached the registry


def test_each_key_has_its_own_bucket(
    settings: Any,
    post: Callable[..., Any],
    hospital: Organisation,
    hospital_token: str,
    residents: dict[str, Any],
) -> None:
    settings.DANCU_API_RATE_PER_MINUTE = 1
    settings.DANCU_API_BURST = 1
    other = issue_api_key(hospital, "HIS khoa cấp cứu").token
    assert post(body("k-1"), hospital_token).status_code == 200
    assert post(body("k-2"), hospital_token).status_code == 429
    assert post(body("k-3"), other).status_code == 200


# --------------------------------------------------------------------------- idempotency
def test_a_retry_returns_the_same_receipt_and_is_audited_once(
    post: Callable[..., Any], hospital_token: str, residents: dict[str, Any]
) -> None:
    first = post(body("his-0042"), hospital_token).json()
    again = post(body("his-0042"), hospital_token).json()
    assert again["receipt_id"] == first["receipt_id"]
    assert again["replayed"] is True
    assert {k: v for k, v in again.items() if k != "replayed"} == {
        k: v for k, v in first.items() if k != "replayed"
    }
    assert len(verify_events()) == 1


def test_the_same_request_id_with_another_body_is_a_conflict(
    post: Callable[..., Any], hospital_token: str, residents: dict[str, Any]
) -> None:
    post(body("his-0043"), hospital_token)
    typed = {"kind": "typed", "id_number": AN_ID, "full_name": AN_NAME, "date_of_birth": "1985-03-02"}
    response = post(body("his-0043", evidence=typed), hospital_token)
    assert response.status_code == 409
    assert problems(response) == [("request_id", "idempotency_conflict")]
    assert len(verify_events()) == 1


# --------------------------------------------------------------------------- malformed requests
def test_malformed_evidence_is_a_422_naming_the_field(
    post: Callable[..., Any], hospital_token: str, residents: dict[str, Any]
) -> None:
    response = post(body(evidence={"kind": "qr"}), hospital_token)
    assert response.status_code == 422
    assert problems(response) == [("evidence.qr.text", "missing")]
    unknown = post(body(evidence={"kind": "passport", "text": "x"}), hospital_token)
    assert unknown.status_code == 422
    assert [field for field, _ in problems(unknown)] == ["evidence"]
    no_id = post({k: v for k, v in body().items() if k != "request_id"}, hospital_token)
    assert problems(no_id) == [("request_id", "missing")]
    assert not verify_events()


def test_evidence_that_parses_but_fails_its_checks_is_answered_with_a_decision(
    post: Callable[..., Any], hospital_token: str, residents: dict[str, Any]
) -> None:
    answer = post(body(evidence={"kind": "qr", "text": "001085012345|x"}), hospital_token).json()
    assert answer["decision"] == "invalid_evidence"
    assert [(r["code"], r["field"]) for r in answer["reasons"]] == [("evidence_malformed", "qr")]


# --------------------------------------------------------------------------- the documentation
def test_the_openapi_document_describes_the_endpoint_with_examples(client: Client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    operation = doc["paths"][URL]["post"]
    assert {"200", "401", "403", "409", "422", "429"} <= set(operation["responses"])
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert set(examples) == {"qr", "chip", "mrz", "typed"}
    assert examples["qr"]["value"]["evidence"]["text"] == AN_QR
    schemes = doc["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"]["scheme"] == "bearer"
    assert {"ApiKeyAuth": []} in operation["security"]
    request = doc["components"]["schemas"]["VerifyIn"]["properties"]
    assert request["request_id"]["examples"] == ["his-bachmai-2026-000123"]
    assert request["purpose"]["examples"] == [PURPOSE]


# --------------------------------------------------------------------------- issuing keys
def test_the_api_key_command_issues_a_key_shown_once_and_revokes_it(
    post: Callable[..., Any], hospital: Organisation, residents: dict[str, Any]
) -> None:
    out = StringIO()
    call_command("api_key", "create", "--organisation", "BV-BACHMAI", "--name", "HIS", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    assert token.startswith("dk_")
    key = ApiKey.objects.get()
    assert token.split("_", 2)[2] not in key.secret_sha256  # only a hash is stored
    assert post(body("cmd-1"), token).status_code == 200
    listing = StringIO()
    call_command("api_key", "list", "--organisation", "BV-BACHMAI", stdout=listing)
    assert key.prefix in listing.getvalue() and token not in listing.getvalue()
    call_command("api_key", "revoke", "--prefix", key.prefix, stdout=StringIO())
    assert problems(post(body("cmd-2"), token)) == [("authorization", "revoked")]


def test_a_token_bucket_refills_at_its_rate() -> None:
    from dancu.ratelimit import Rate, RateLimited, take

    rate = Rate(per_minute=60, burst=2)  # one token a second
    assert take("spec", rate, now=1000.0) == 1.0
    assert take("spec", rate, now=1000.0) == 0.0
    with pytest.raises(RateLimited) as exc:
        take("spec", rate, now=1000.5)
    assert exc.value.retry_after == 1
    assert take("spec", rate, now=1001.5) == 0.5  # a second later: 0.5 + 1 token, one taken


def test_clearing_the_process_cache_refills_the_buckets_kept_beside_it() -> None:
    """The per-process cache keeps the buckets unpickled (``ratelimit.ProcessCache``); clearing
    it refills them, as when they were cache entries — and a refused client stays refused
    until then."""
    from django.core.cache import cache, caches

    from dancu.ratelimit import ProcessCache, Rate, RateLimited, take

    assert isinstance(caches["default"], ProcessCache)
    rate = Rate(per_minute=60, burst=1)
    assert take("apikey:clinic-a", rate, now=2000.0) == 0.0
    with pytest.raises(RateLimited):
        take("apikey:clinic-a", rate, now=2000.2)
    assert take("apikey:clinic-b", rate, now=2000.2) == 0.0  # another client, its own bucket
    cache.clear()
    assert take("apikey:clinic-a", rate, now=2000.2) == 0.0
