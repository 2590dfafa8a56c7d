"""The step-up page and the level-2 evidence (ADR 0017 §11).

Actors: Anna Schmidt, a German resident raised to level 2 at the Tây Hồ desk on her passport's MRZ
(her state has no CSCA here, so no chip could be verified); a relying party that asks for the
chip-verified level 2, and one that accepts the MRZ with a second factor."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client

from dancu.blocks.eid import assurance, foreigners, services
from dancu.blocks.eid.models import Account
from tests.apps.eiddesk.test_foreigner_level2 import anna_level1  # noqa: F401 — the fixture
from tests.blocks.eid.test_foreigners import mrz
from tests.conftest import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna_on_the_mrz(anna_level1: int, ward_police: Person) -> Client:  # noqa: F811
    foreigners.activate_level2_foreigner(
        ward_police.ctx(services.ACTIVATION),
        passport_mrz=mrz(),
        card_number="TT2025-00123",
        face_confirmed=True,
    )
    account = Account.objects.get(pk=anna_level1)
    assert (account.level, account.level2_evidence) == (2, "passport_mrz_optical")
    client = Client()
    client.force_login(account.user)
    session = client.session
    level, evidence = services.level_and_evidence(account.user_id)
    assurance.store(session, assurance.Assurance(account.user_id, level, ("pwd",), assurance.now(), evidence))
    session.save()
    return client


def _step_up(client: Client, acr: str) -> str:
    return "/eid/step-up/?" + urlencode({"next": "/eid/me/", "acr": acr})


def test_asked_for_the_chip_anna_is_told_to_bring_her_passport_and_no_code_is_offered(
    anna_on_the_mrz: Client,
) -> None:
    response = anna_on_the_mrz.get(_step_up(anna_on_the_mrz, assurance.ACR_L2_MFA))
    body = response.content.decode()
    assert response.status_code == 403 and 'data-testid="needs-chip"' in body
    assert 'name="code"' not in body
    # A code posted anyway changes nothing.
    posted = anna_on_the_mrz.post(
        "/eid/step-up/", {"next": "/eid/me/", "acr": assurance.ACR_L2, "code": "123456", "method": "sms"}
    )
    assert posted.status_code == 403


def test_asked_for_the_mrz_with_a_second_factor_anna_gets_the_code_form(anna_on_the_mrz: Client) -> None:
    response = anna_on_the_mrz.get(_step_up(anna_on_the_mrz, assurance.ACR_L2_MRZ_MFA))
    body = response.content.decode()
    assert response.status_code == 200 and 'name="code"' in body and "needs-chip" not in body
