"""Notary (model 8): a notary clerk opens an act and verifies each of its parties (data mode: the
notary receives the permanent address); each verification gets a receipt signed by the platform's
Ed25519 key, which verifies — and fails when one byte changes. No photocopy of ID anywhere."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from dancu.apps.desks import services
from dancu.apps.desks.models import NotarisedParty, SignedReceipt
from dancu.blocks.identity.services import QrEvidence, TypedEvidence
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.blocks.identity.conftest import AN_ID, AN_NAME, AN_QR, MAI_BORN, MAI_ID, MAI_NAME, TAY_HO_ADDRESS
from tests.conftest import Person

pytestmark = pytest.mark.django_db


def test_notary_verifies_two_parties_with_signed_receipts(residents: Any, notary_clerk: Person) -> None:
    actor = notary_clerk.actor
    act = services.create_act(actor, "CC-2026/001", "sale")
    ctx = services.desk_context(actor)
    seller = services.verify_party(ctx, act.act_id, "Bên bán", QrEvidence(AN_QR))
    buyer = services.verify_party(ctx, act.act_id, "Bên mua", TypedEvidence(MAI_ID, MAI_NAME, MAI_BORN))
    assert seller.result.decision == buyer.result.decision == "match"
    assert seller.result.data is not None and seller.result.data["permanent_address"] == TAY_HO_ADDRESS
    view = services.act_of(actor, act.act_id)
    assert view.complete
    assert [(p.role, p.id_number) for p in view.parties] == [("Bên bán", AN_ID), ("Bên mua", MAI_ID)]

    content = json.loads(seller.receipt.document)
    assert content["receipt_id"] == seller.result.receipt_id
    assert content["organisation"]["name"] == "Văn phòng công chứng Tây Hồ"
    assert content["decision"] == "match"
    assert content["released"]["full_name"] == AN_NAME
    assert content["act"] == {"reference": "CC-2026/001", "type": "sale"}
    assert services.verify_receipt(actor, seller.result.receipt_id).valid
    assert services.verify_signature(seller.receipt.document, seller.receipt.signature)


def test_a_receipt_changed_by_one_byte_fails_verification(residents: Any, notary_clerk: Person) -> None:
    act = services.create_act(notary_clerk.actor, "CC-2026/002", "mortgage")
    outcome = services.verify_party(
        services.desk_context(notary_clerk.actor), act.act_id, "Bên thế chấp", QrEvidence(AN_QR)
    )
    document = outcome.receipt.document.encode("utf-8")
    for i in (0, len(document) // 2, len(document) - 1):
        changed = document[:i] + bytes([document[i] ^ 0x01]) + document[i + 1 :]
        assert not services.verify_signature(changed, outcome.receipt.signature)
    signature = bytearray(__import__("base64").b64decode(outcome.receipt.signature))
    signature[0] ^= 0x01
    assert not services.verify_signature(document, __import__("base64").b64encode(bytes(signature)).decode())
    stored = SignedReceipt.objects.get(receipt_id=outcome.result.receipt_id)
    stored.document = stored.document.replace("Nguyễn", "Nguyên")
    stored.save()
    check = services.verify_receipt(notary_clerk.actor, outcome.result.receipt_id)
    assert (check.valid, check.rule) == (False, "signature")


def test_a_refused_party_is_not_added_but_its_receipt_is_signed(residents: Any, notary_clerk: Person) -> None:
    act = services.create_act(notary_clerk.actor, "CC-2026/003", "gift")
    outcome = services.verify_party(
        services.desk_context(notary_clerk.actor),
        act.act_id,
        "Bên tặng",
        TypedEvidence(AN_ID, "Trần Văn Bình", residents["an"].date_of_birth),
    )
    assert outcome.result.decision == "no_match" and outcome.party is None
    assert json.loads(outcome.receipt.document)["released"] == {}
    assert not NotarisedParty.objects.exists()
    assert not services.act_of(notary_clerk.actor, act.act_id).complete


def test_the_same_person_is_not_a_party_twice(residents: Any, notary_clerk: Person) -> None:
    act = services.create_act(notary_clerk.actor, "CC-2026/004", "sale")
    ctx = services.desk_context(notary_clerk.actor)
    services.verify_party(ctx, act.act_id, "Bên bán", QrEvidence(AN_QR))
    with pytest.raises(DomainValidationError):
        services.verify_party(ctx, act.act_id, "Bên mua", QrEvidence(AN_QR))
    with pytest.raises(DomainValidationError):
        services.create_act(notary_clerk.actor, "CC-2026/004", "sale")  # reference already used


def test_another_organisation_cannot_open_the_act_or_its_receipts(
    residents: Any, notary_clerk: Person, make_person: Callable[..., Person], pawn_clerk: Person
) -> None:
    act = services.create_act(notary_clerk.actor, "CC-2026/005", "lease")
    outcome = services.verify_party(
        services.desk_context(notary_clerk.actor), act.act_id, "Bên thuê", QrEvidence(AN_QR)
    )
    other = make_person(
        "clerk.notary2", org_code="CC-BADINH", org_name="VPCC Ba Đình", kind="notary", role="clerk"
    )
    with pytest.raises(NotFound):
        services.act_of(other.actor, act.act_id)
    with pytest.raises(NotFound):
        services.receipt_of(other.actor, outcome.result.receipt_id)
    with pytest.raises(AccessDenied):
        services.create_act(pawn_clerk.actor, "X-1", "other")


def test_notary_pages_act_parties_receipt_and_verify_link(
    logged_in: Callable[[Person], Client], residents: Any, notary_clerk: Person
) -> None:
    client = logged_in(notary_clerk)
    assert client.get("/desks/notary/").status_code == 200
    created = client.post("/desks/notary/", {"reference": "CC-2026/010", "act_type": "sale"})
    assert created.status_code == 302
    act_url = created["Location"]
    first = client.post(act_url, {"method": "qr_text", "role": "Bên bán", "qr_text": AN_QR})
    html = first.content.decode()
    assert 'data-decision="match"' in html and TAY_HO_ADDRESS in html
    assert 'data-testid="act-complete"' not in html
    second = client.post(
        act_url,
        {
            "method": "typed",
            "role": "Bên mua",
            "id_number": MAI_ID,
            "full_name": MAI_NAME,
            "date_of_birth": "12/08/1992",
        },
    )
    html = second.content.decode()
    assert 'data-testid="act-complete"' in html
    receipt_id = str(NotarisedParty.objects.get(id_number=MAI_ID).receipt.receipt_id)
    page = client.get(f"/desks/receipts/{receipt_id}/").content.decode()
    assert receipt_id in page and "Văn phòng công chứng Tây Hồ" in page and MAI_NAME in page
    assert SignedReceipt.objects.get(receipt_id=receipt_id).signature in page
    assert 'data-testid="verify-link"' in page
    # No image of the card, ever: the one image is the receipt's own QR code (its public check).
    assert page.count("<img") == 1 and 'data-testid="receipt-qr"' in page and "data:image/svg+xml" in page
    assert (
        'data-testid="signature-valid"'
        in client.get(f"/desks/receipts/{receipt_id}/verify/").content.decode()
    )
    stored = SignedReceipt.objects.get(receipt_id=receipt_id)
    stored.document = stored.document.replace('"match"', '"matci"')
    stored.save()
    assert (
        'data-testid="signature-invalid"'
        in client.get(f"/desks/receipts/{receipt_id}/verify/").content.decode()
    )
    assert client.get("/desks/receipts/not-a-uuid/").status_code == 404


def test_a_party_needs_a_role(
    logged_in: Callable[[Person], Client], residents: Any, notary_clerk: Person
) -> None:
    act = services.create_act(notary_clerk.actor, "CC-2026/011", "sale")
    response = logged_in(notary_clerk).post(
        f"/desks/notary/acts/{act.act_id}/", {"method": "qr_text", "qr_text": AN_QR}
    )
    assert response.status_code == 400
    assert not SignedReceipt.objects.exists()


@pytest.mark.parametrize("who", ["clinic_clerk", "hotel_clerk", "city_police", "pawn_clerk"])
def test_others_are_refused_the_notary_desk(
    logged_in: Callable[[Person], Client], who: str, request: pytest.FixtureRequest
) -> None:
    client = logged_in(request.getfixturevalue(who))
    assert client.get("/desks/notary/").status_code == 403
    assert client.post("/desks/notary/", {"reference": "X-1", "act_type": "sale"}).status_code == 403
    assert client.get("/desks/receipts/00000000-0000-0000-0000-000000000000/").status_code == 403
