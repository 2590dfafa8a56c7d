"""The desk and a claim at 14 (ADR 0017, amendment of 01/12/2026): the claim is shown as one to
decide in person, its online approval is refused naming the rule, and the activation form asks
for the holder's own phone.

Actors: Nguyễn Văn An, Hà's father, who claims her account at 14 with a second SIM; the Tây Hồ
ward officer at the desk."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from dancu.blocks.eid import family
from dancu.blocks.eid.models import Account
from tests.blocks.eid.conftest import FAMILY_DAY, HA_ID, Outbox
from tests.blocks.eid.test_guardians_and_hand_over import claim, ha, renew_has_card
from tests.conftest import Person

pytestmark = pytest.mark.django_db


def test_the_desk_cannot_approve_a_claim_at_14_online(
    an_level2: int, an_children: dict[str, Any], outbox: Outbox, ward_police: Person
) -> None:
    family.register_child(an_level2, ha(), on=FAMILY_DAY)
    renew_has_card()
    receipt = family.claim_own_account(claim(phone="0939999999"), on=date(2030, 3, 1))
    client = Client()
    client.force_login(ward_police.user)
    page = client.get("/eid-desk/").content.decode()
    assert f'data-id-number="{HA_ID}"' in page and 'data-testid="claim-in-person"' in page
    response = client.post(f"/eid-desk/registrations/{receipt.handle}/decide/", {"decision": "approve"})
    assert response.status_code == 400 and "in_person" in response.content.decode()
    assert Account.objects.get(id_number=HA_ID).status == "pending"
    # Rejecting online stays possible (the claimant's password and phone go).
    response = client.post(
        f"/eid-desk/registrations/{receipt.handle}/decide/", {"decision": "reject", "reason": "Không đến"}
    )
    assert response.status_code == 302
    account = Account.objects.select_related("user").get(id_number=HA_ID)
    assert account.phone == "" and not account.user.has_usable_password()
    # The activation form asks for the phone of an account taken over at 14.
    assert 'name="phone"' in client.get("/eid-desk/activate/").content.decode()
