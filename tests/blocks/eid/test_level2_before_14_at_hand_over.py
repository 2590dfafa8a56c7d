"""A level 2 given before 14 at the hand-over (ADR 0017 §3a, amendment of 01/12/2026 §9).

Actors: Nguyễn Văn An (level 2), father of Hà (10 on 01/12/2026, 14 on 14/02/2030); the Tây Hồ
ward police (raise Hà's account to level 2 with her child's card at 10, and approve her claim at
14 in person). The rule: the level 2 is not carried over to the claim (the claim's password and
phone come from an online claim a parent could make); it comes back at the one desk visit that
approves the claim, with the card she holds at 14 — the child's card of the first activation is
no longer valid then (Law on Identification 2023 Art. 21: renewed at 14) and is refused."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import family, services
from dancu.blocks.eid.models import Account
from dancu.blocks.identity.chip import issue_chip
from dancu.errors import DomainValidationError
from tests.blocks.eid.conftest import FAMILY_DAY, HA_BORN, HA_CARD, HA_ID, HA_NAME, Outbox, portrait
from tests.blocks.eid.test_guardians_and_hand_over import (
    DESK_DAY,
    HA_PHONE,
    claim,
    ha,
    ha_chip,
    renew_has_card,
)
from tests.blocks.identity.conftest import Pki, an_holder
from tests.conftest import Person

pytestmark = pytest.mark.django_db


def has_child_chip(pki: Pki) -> Any:
    """The chip of the card Hà was issued at 8 (valid to her 14th birthday)."""
    ds = pki.document_signer
    holder = an_holder(
        id_number=HA_ID,
        full_name=HA_NAME,
        date_of_birth=HA_BORN,
        sex="F",
        issue_date=HA_CARD,
        expiry_date=date(2030, 2, 14),
        old_id_number="",
    )
    return issue_chip(holder, ds.private_key, ds.certificate)


def test_a_level_2_given_at_10_comes_back_at_the_one_desk_visit_that_approves_her_claim(
    an_level2: int, an_children: dict[str, Any], outbox: Outbox, ward_police: Person, pki: Pki, trusted: Any
) -> None:
    child = family.register_child(an_level2, ha(), on=FAMILY_DAY)
    old_chip = has_child_chip(pki)
    services.activate_level2(
        ward_police.ctx("eid.activation"), chip_files=old_chip.to_dict(), live_photo=portrait(old_chip)
    )  # today, 01/12/2026: Hà is 10
    account = Account.objects.get(pk=child.account_id)
    assert (account.level, account.guardian_id is not None) == (2, True)  # still managed by An

    renew_has_card()
    receipt = family.claim_own_account(claim(), on=date(2030, 3, 1))
    assert receipt.matched
    account.refresh_from_db()
    # Not carried over to the online claim: whoever typed it has level 1, pending, nothing more.
    assert (account.status, account.level) == ("pending", 1)

    # The child's card of the first activation is no longer valid at 14: refused at the desk.
    with pytest.raises(DomainValidationError):
        services.activate_level2(
            ward_police.ctx("eid.activation"),
            chip_files=old_chip.to_dict(),
            live_photo=portrait(old_chip),
            phone=HA_PHONE,
            at=DESK_DAY,
        )
    account.refresh_from_db()
    assert (account.status, account.level) == ("pending", 1)

    # One visit with the card she holds at 14: the claim is approved and level 2 is back.
    new_chip = ha_chip(pki)
    services.activate_level2(
        ward_police.ctx("eid.activation"),
        chip_files=new_chip.to_dict(),
        live_photo=portrait(new_chip),
        phone=HA_PHONE,
        at=DESK_DAY,
    )
    account.refresh_from_db()
    assert (account.status, account.level, account.phone) == ("active", 2, HA_PHONE)
    # Both in-person activations stay on her record: at 10 and at 14 (and the refusal between).
    events = AuditEvent.objects.filter(action="eid.activate", subject_citizen_id=account.citizen_id)
    assert events.filter(result="ok").count() == 2
