"""Level 2 in person (Decree 69/2024/NĐ-CP Art. 13, 16): the chip passes passive authentication,
the holder matches the registry with a valid card, the live photo is the chip's portrait; then the
account is upgraded — or created at level 2 — recording who, where and when."""

from __future__ import annotations

from typing import Any

import pytest

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import services
from dancu.blocks.eid.models import Account
from dancu.blocks.identity.chip import ChipData, TrustStore
from dancu.errors import AccessDenied, Conflict, DomainValidationError, NotFound
from tests.blocks.eid.conftest import AN_ID, AN_PHONE, Outbox, face, portrait
from tests.conftest import Person

pytestmark = pytest.mark.django_db


def test_ward_officer_upgrades_an_to_level_2(
    an_registered: int, an_chip: ChipData, trusted: TrustStore, ward_police: Person
) -> None:
    done = services.activate_level2(
        ward_police.ctx("eid.activation"), chip_files=an_chip.to_dict(), live_photo=portrait(an_chip)
    )
    assert not done.created and done.face_distance == 0
    account = Account.objects.get(id_number=AN_ID)
    assert account.level == 2 and account.level2_by_label == ward_police.actor.label
    assert account.level2_organisation_name == "Công an phường Tây Hồ" and account.level2_at is not None
    event = AuditEvent.objects.get(action="eid.activate", result="ok")
    assert event.subject_citizen_id == account.citizen_id and event.purpose == "eid.activation"


def test_officer_of_another_ward_may_activate_too(
    an_registered: int, an_chip: ChipData, trusted: TrustStore, other_ward_police: Person
) -> None:
    services.activate_level2(
        other_ward_police.ctx("eid.activation"), chip_files=an_chip.to_dict(), live_photo=portrait(an_chip)
    )
    assert Account.objects.get(id_number=AN_ID).level == 2


def test_another_face_is_refused(
    an_registered: int, an_chip: ChipData, trusted: TrustStore, ward_police: Person
) -> None:
    with pytest.raises(DomainValidationError) as refused:
        services.activate_level2(
            ward_police.ctx("eid.activation"), chip_files=an_chip.to_dict(), live_photo=face(42)
        )
    assert (
        refused.value.problems[0].field == "live_photo" and refused.value.problems[0].rule == "face_mismatch"
    )
    assert Account.objects.get(id_number=AN_ID).level == 1
    assert AuditEvent.objects.filter(action="eid.activate", result="denied").exists()


def test_a_chip_not_signed_by_a_trusted_csca_is_refused(
    an_registered: int, an_chip: ChipData, ward_police: Person
) -> None:
    from dancu.blocks.identity.chip import create_csca
    from dancu.blocks.identity.trust import override_trust_store

    with (
        override_trust_store(TrustStore([create_csca().certificate])),
        pytest.raises(DomainValidationError) as refused,
    ):
        services.activate_level2(
            ward_police.ctx("eid.activation"), chip_files=an_chip.to_dict(), live_photo=portrait(an_chip)
        )
    assert refused.value.problems[0].field == "chip"
    assert refused.value.problems[0].rule.startswith("passive_authentication.")


def test_an_altered_chip_is_refused(
    an_registered: int, an_chip: ChipData, trusted: TrustStore, ward_police: Person
) -> None:
    files = dict(an_chip.to_dict())
    files["dg13"] = files["dg13"][:-8] + "AAAAAAA="
    with pytest.raises(DomainValidationError):
        services.activate_level2(
            ward_police.ctx("eid.activation"), chip_files=files, live_photo=portrait(an_chip)
        )


def test_city_police_and_a_hotel_clerk_may_not_activate(
    an_registered: int, an_chip: ChipData, trusted: TrustStore, city_police: Person, hotel_clerk: Person
) -> None:
    for person in (city_police, hotel_clerk):
        with pytest.raises(AccessDenied):
            services.activate_level2(
                person.ctx("eid.activation"), chip_files=an_chip.to_dict(), live_photo=portrait(an_chip)
            )
    assert Account.objects.get(id_number=AN_ID).level == 1


def test_without_an_account_the_officer_creates_one_at_level_2(
    residents: dict[str, Any], an_chip: ChipData, trusted: TrustStore, ward_police: Person, outbox: Outbox
) -> None:
    ctx = ward_police.ctx("eid.activation")
    with pytest.raises(NotFound):
        services.activate_level2(ctx, chip_files=an_chip.to_dict(), live_photo=portrait(an_chip))
    done = services.activate_level2(
        ctx, chip_files=an_chip.to_dict(), live_photo=portrait(an_chip), create=True, phone=AN_PHONE
    )
    assert done.created
    account = Account.objects.get(id_number=AN_ID)
    assert account.level == 2 and account.status == "active" and not account.user.has_usable_password()
    assert outbox.last_code(AN_PHONE)  # to set a password through recovery
    with pytest.raises(Conflict):
        services.activate_level2(
            ctx, chip_files=an_chip.to_dict(), live_photo=portrait(an_chip), create=True, phone=AN_PHONE
        )
