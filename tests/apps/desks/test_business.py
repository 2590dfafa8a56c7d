"""Conditional businesses (model 16): a pawn shop's or security firm's clerk verifies a customer
and sees only name and date of birth; a card reported lost is shown clearly. Others are refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from dancu.apps.desks import services
from dancu.blocks.identity.services import QrEvidence
from dancu.blocks.registry.models import IdentityCard
from dancu.errors import AccessDenied
from tests.blocks.identity.conftest import AN_ID, AN_NAME, AN_QR, TAY_HO_ADDRESS
from tests.conftest import Person

pytestmark = pytest.mark.django_db


def test_pawn_shop_sees_only_name_and_date_of_birth(
    logged_in: Callable[[Person], Client], residents: Any, pawn_clerk: Person
) -> None:
    check = services.check_customer(services.desk_context(pawn_clerk.actor), QrEvidence(AN_QR))
    assert check.result.data == {"full_name": AN_NAME, "date_of_birth": "1985-03-02"}
    assert not check.card_reported_lost
    html = (
        logged_in(pawn_clerk)
        .post("/desks/business/", {"method": "qr_text", "qr_text": AN_QR})
        .content.decode()
    )
    assert 'data-decision="match"' in html and AN_NAME in html and "02/03/1985" in html
    result = html.split('data-testid="result"')[1].split("</section>")[0]
    assert TAY_HO_ADDRESS not in result and AN_ID not in result and 'data-testid="field-sex"' not in result
    assert 'data-testid="lost-card"' not in html


def test_a_card_reported_lost_is_shown_clearly(
    logged_in: Callable[[Person], Client], residents: Any, pawn_clerk: Person, security_clerk: Person
) -> None:
    IdentityCard.objects.filter(card_number=AN_ID).update(status="lost")
    check = services.check_customer(services.desk_context(security_clerk.actor), QrEvidence(AN_QR))
    assert check.result.decision == "card_not_valid" and check.card_reported_lost
    assert check.result.data is None
    html = (
        logged_in(pawn_clerk)
        .post("/desks/business/", {"method": "qr_text", "qr_text": AN_QR})
        .content.decode()
    )
    assert 'data-testid="lost-card"' in html
    assert "Thẻ này đã được báo mất." in html
    assert 'data-code="card_reported_lost"' in html
    assert AN_NAME not in html


def test_clinic_staff_may_not_use_the_business_desk(residents: Any, clinic_clerk: Person) -> None:
    with pytest.raises(AccessDenied):
        services.check_customer(services.desk_context(clinic_clerk.actor), QrEvidence(AN_QR))


@pytest.mark.parametrize("who", ["clinic_clerk", "hotel_clerk", "city_police", "notary_clerk", "outsider"])
def test_others_are_refused_the_business_desk(
    logged_in: Callable[[Person], Client], who: str, request: pytest.FixtureRequest
) -> None:
    client = logged_in(request.getfixturevalue(who))
    assert client.get("/desks/business/").status_code == 403
    assert client.post("/desks/business/", {"method": "qr_text", "qr_text": AN_QR}).status_code == 403
