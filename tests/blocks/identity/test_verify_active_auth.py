"""Active Authentication through the verification API (ICAO Doc 9303 part 11 §6.1; ADR 0017 §14,
its amendment for ``/api/v1/identity``): the hospital's system asks for a one-time challenge, its
reader has the card's chip sign it, and the verification names the challenge and sends the answer.

Actors: the information system of Bệnh viện Bạch Mai with its API key; the hotel Hoa Sen's with
its own; Nguyễn Văn An's card issued with an AA key (ECDSA or RSA); a forger's clone of it — every
signed file copied onto a chip with his own key."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dancu.blocks.identity.chip import ChipData, issue_chip
from dancu.blocks.identity.models import ChipChallenge
from dancu.blocks.identity.reader import AccessKey, SimulatedReader
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import issue_api_key
from tests.blocks.identity.conftest import AN_ID, Pki, an_holder

pytestmark = pytest.mark.usefixtures("trusted", "fresh_rate_limits")
FILES = ("com", "dg1", "dg2", "dg13", "dg14", "dg15", "sod")


@pytest.fixture
def hospital_token(db: None) -> str:
    hospital = Organisation.objects.create(code="BV-BACHMAI", name="Bệnh viện Bạch Mai", kind="clinic")
    return issue_api_key(hospital, "HIS Bạch Mai").token


@pytest.fixture
def hotel_token(db: None) -> str:
    hotel = Organisation.objects.create(code="KS-HOASEN", name="Khách sạn Hoa Sen", kind="hotel")
    return issue_api_key(hotel, "PMS Hoa Sen").token


@pytest.fixture(params=["ecdsa", "rsa"])
def an_card(request: pytest.FixtureRequest, pki: Pki) -> ChipData:
    ds = pki.document_signer
    return issue_chip(an_holder(), ds.private_key, ds.certificate, with_active_auth=request.param)


@pytest.fixture
def call(client: Client) -> Callable[..., Any]:
    def send(path: str, token: str, payload: dict[str, Any] | None = None) -> Any:
        return client.post(
            f"/api/v1/identity/{path}",
            data=json.dumps(payload or {}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    return send


def read(chip: ChipData, challenge_hex: str) -> tuple[dict[str, str], str]:
    """The reader opens the card with its CAN and has the chip sign the challenge."""
    device = SimulatedReader()
    device.place(chip)
    got = device.read(AccessKey.from_can(AN_ID[-6:]), FILES, bytes.fromhex(challenge_hex))
    return got.files, got.active_auth


def verify_body(files: dict[str, str], challenge_id: str, answer: str, request_id: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "purpose": "identity.verification",
        "mode": "yes_no",
        "evidence": {"kind": "chip", "files": files, "challenge_id": challenge_id, "active_auth": answer},
    }


def clone(chip: ChipData, pki: Pki) -> ChipData:
    ds = pki.document_signer
    own = issue_chip(an_holder(), ds.private_key, ds.certificate, with_active_auth="ecdsa")
    return ChipData(
        sod=chip.sod, data_groups=dict(chip.data_groups), com=chip.com, aa_private_key=own.aa_private_key
    )


def test_the_hospital_verifies_ans_card_by_its_answer_to_a_one_time_challenge(
    call: Callable[..., Any], hospital_token: str, an_card: ChipData, residents: dict[str, Any]
) -> None:
    issued = call("chip-challenges", hospital_token)
    assert issued.status_code == 201, issued.content
    challenge = issued.json()
    assert len(challenge["challenge"]) == 16 and challenge["challenge_id"]
    files, answer = read(an_card, challenge["challenge"])
    body = verify_body(files, challenge["challenge_id"], answer, "his-aa-1")
    response = call("verify", hospital_token, body)
    assert response.status_code == 200 and response.json()["decision"] == "match", response.content
    assert not ChipChallenge.objects.exists()  # used up
    again = call("verify", hospital_token, body)
    assert again.json()["replayed"] is True  # a retry of the same request is answered, not re-checked


def test_a_clone_of_ans_card_is_refused_as_a_failed_active_authentication(
    call: Callable[..., Any], hospital_token: str, an_card: ChipData, residents: dict[str, Any], pki: Pki
) -> None:
    challenge = call("chip-challenges", hospital_token).json()
    files, answer = read(clone(an_card, pki), challenge["challenge"])
    response = call(
        "verify", hospital_token, verify_body(files, challenge["challenge_id"], answer, "his-aa-2")
    )
    result = response.json()
    assert result["decision"] != "match"
    assert [(r["code"], r["field"]) for r in result["reasons"]] == [
        ("chip_active_authentication_failed", "aa.signature")
    ]


@pytest.mark.parametrize(
    "how", ["answer_without_challenge", "reused", "other_organisation", "expired", "dg15_left_out"]
)
def test_a_chip_that_offers_aa_without_a_valid_answer_is_refused(
    call: Callable[..., Any],
    hospital_token: str,
    hotel_token: str,
    an_card: ChipData,
    residents: dict[str, Any],
    how: str,
) -> None:
    challenge = call("chip-challenges", hotel_token if how == "other_organisation" else hospital_token).json()
    files, answer = read(an_card, challenge["challenge"])
    challenge_id = "" if how == "answer_without_challenge" else challenge["challenge_id"]
    if how == "reused":
        first = call("verify", hospital_token, verify_body(files, challenge_id, answer, "his-aa-3a"))
        assert first.json()["decision"] == "match"
    if how == "expired":
        ChipChallenge.objects.update(created_at=timezone.now() - timedelta(minutes=6))
    if how == "dg15_left_out":
        del files["dg15"]
    result = call("verify", hospital_token, verify_body(files, challenge_id, answer, "his-aa-3")).json()
    assert result["decision"] != "match"
    expected_field = {
        "answer_without_challenge": "aa.response",
        "reused": "challenge_id",
        "other_organisation": "challenge_id",
        "expired": "challenge_id",
        "dg15_left_out": "dg15.read",
    }[how]
    assert [(r["code"], r["field"]) for r in result["reasons"]] == [
        ("chip_active_authentication_failed", expected_field)
    ]


def test_without_asking_for_aa_a_card_that_offers_it_gets_passive_authentication_only(
    call: Callable[..., Any], hospital_token: str, an_card: ChipData, residents: dict[str, Any]
) -> None:
    """Optional, as issue 3 has it: a system whose reader cannot do INTERNAL AUTHENTICATE sends
    the files alone (the desks and kiosks today, ADR 0017 §14)."""
    body = verify_body(an_card.to_dict(), "", "", "his-aa-6")
    assert call("verify", hospital_token, body).json()["decision"] == "match"


def test_a_card_without_aa_is_verified_by_passive_authentication_alone(
    call: Callable[..., Any], hospital_token: str, an_chip: ChipData, residents: dict[str, Any]
) -> None:
    body = verify_body(an_chip.to_dict(), "", "", "his-aa-4")
    assert call("verify", hospital_token, body).json()["decision"] == "match"


def test_an_answer_that_is_not_base64_names_the_field(
    call: Callable[..., Any], hospital_token: str, an_card: ChipData, residents: dict[str, Any]
) -> None:
    challenge = call("chip-challenges", hospital_token).json()
    files, _answer = read(an_card, challenge["challenge"])
    result = call(
        "verify", hospital_token, verify_body(files, challenge["challenge_id"], "#!", "his-aa-5")
    ).json()
    assert [(r["code"], r["field"]) for r in result["reasons"]] == [
        ("evidence_malformed", "chip.active_auth")
    ]


def test_a_challenge_needs_an_api_key_or_a_session(client: Client, db: None) -> None:
    assert client.post("/api/v1/identity/chip-challenges").status_code == 401


def test_the_openapi_document_describes_the_challenge(client: Client, db: None) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/identity/chip-challenges" in schema["paths"]
    chip = schema["components"]["schemas"]["ChipEvidenceIn"]["properties"]
    assert {"challenge_id", "active_auth"} <= set(chip)
