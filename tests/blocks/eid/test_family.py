"""Children's accounts registered by a parent (Decree 69/2024/NĐ-CP Art. 7; ADR 0017).

Actors: An (father, level 2), his son Khôi (4) and daughter Hà (10), Mai (level 1, Hà's mother
but not Khôi's), the Tây Hồ ward officer. The registry's parent links decide; the child's
account has no password and is presented by the parent with a signed QR."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core import signing

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import family, login, services
from dancu.blocks.eid.models import Account, Registration
from dancu.blocks.identity.chip import ChipData, TrustStore
from dancu.errors import AccessDenied, Conflict, DomainValidationError
from tests.blocks.eid.conftest import (
    FAMILY_DAY,
    HA_BORN,
    HA_CARD,
    HA_ID,
    HA_NAME,
    KHOI_BORN,
    KHOI_CARD,
    KHOI_ID,
    KHOI_NAME,
    Outbox,
    face,
)

pytestmark = pytest.mark.django_db


def khoi(**changes: Any) -> family.ChildInput:
    values: dict[str, Any] = {
        "id_number": KHOI_ID,
        "full_name": KHOI_NAME,
        "date_of_birth": KHOI_BORN,
        "card_issued_on": KHOI_CARD,
        "photo": face(7),
    }
    values.update(changes)
    return family.ChildInput(**values)


def rules(err: pytest.ExceptionInfo[DomainValidationError]) -> dict[str, str]:
    return {p.field: p.rule for p in err.value.problems}


def test_father_registers_his_son_under_6_at_level_1(an_level2: int, an_children: dict[str, Any]) -> None:
    child = family.register_child(an_level2, khoi(), on=FAMILY_DAY)
    assert (child.id_number, child.relationship, child.level, child.max_level) == (KHOI_ID, "father", 1, 1)
    account = Account.objects.get(id_number=KHOI_ID)
    assert (
        account.status == "active" and account.guardian is not None and account.guardian.user_id == an_level2
    )
    assert account.citizen_id == an_children["khoi"].citizen_id and account.ward_code
    registration = Registration.objects.get(account=account)
    assert registration.status == "approved" and registration.auto_approved and registration.thumbnail is None
    # The child's record shows who registered it, with which relationship; the father's shows the step.
    event = AuditEvent.objects.get(action="eid.registration.guardian", result="ok")
    assert event.subject_citizen_id == account.citizen_id and event.detail["relationship"] == "father"
    assert AuditEvent.objects.filter(
        action="registry.parental_authority", subject_citizen_id=account.citizen_id
    ).exists()
    assert [c.id_number for c in family.children_of(an_level2)] == [KHOI_ID]


def test_a_child_6_to_14_gets_level_1_and_may_ask_for_level_2(
    an_level2: int, an_children: dict[str, Any]
) -> None:
    child = family.register_child(
        an_level2,
        khoi(id_number=HA_ID, full_name=HA_NAME, date_of_birth=HA_BORN, card_issued_on=HA_CARD),
        on=FAMILY_DAY,
    )
    assert (child.relationship, child.level, child.max_level) == ("father", 1, 2)


def test_the_childs_account_has_no_password_and_no_recovery_of_its_own(
    an_level2: int, an_children: dict[str, Any], outbox: Outbox
) -> None:
    family.register_child(an_level2, khoi(), on=FAMILY_DAY)
    user = Account.objects.get(id_number=KHOI_ID).user
    assert not user.has_usable_password()
    assert authenticate(username=KHOI_ID, password="") is None
    sent = len(outbox.messages)
    login.begin_recovery(KHOI_ID)  # no phone, no e-mail: no code to anyone
    assert len(outbox.messages) == sent


def test_a_parent_below_level_2_is_refused(an_registered: int, an_children: dict[str, Any]) -> None:
    with pytest.raises(DomainValidationError) as err:
        family.register_child(an_registered, khoi(), on=FAMILY_DAY)
    assert rules(err) == {"account": "level2_required"}
    assert not Account.objects.filter(id_number=KHOI_ID).exists()


def test_another_citizen_who_is_not_the_parent_is_refused_like_a_mismatch(
    mai_level2: int, an_children: dict[str, Any]
) -> None:
    # Mai holds level 2 and is Hà's mother, not Khôi's: the same refusal as for wrong data.
    with pytest.raises(DomainValidationError) as not_hers:
        family.register_child(mai_level2, khoi(), on=FAMILY_DAY)
    with pytest.raises(DomainValidationError) as wrong_name:
        family.register_child(mai_level2, khoi(id_number=HA_ID, full_name="Nguyễn Thu Khác"), on=FAMILY_DAY)
    assert rules(not_hers) == rules(wrong_name) == {"id_number": "not_your_child"}
    assert not_hers.value.problems[0].message == wrong_name.value.problems[0].message
    assert AuditEvent.objects.filter(action="eid.registration.guardian", result="denied").count() == 2
    assert not Account.objects.filter(id_number__in=[HA_ID, KHOI_ID]).exists()
    # Her own daughter: registered, as her mother.
    child = family.register_child(
        mai_level2,
        khoi(id_number=HA_ID, full_name=HA_NAME, date_of_birth=HA_BORN, card_issued_on=HA_CARD),
        on=FAMILY_DAY,
    )
    assert child.relationship == "mother"


def test_a_wrong_card_issue_date_is_refused(an_level2: int, an_children: dict[str, Any]) -> None:
    with pytest.raises(DomainValidationError) as err:
        family.register_child(an_level2, khoi(card_issued_on=date(2024, 1, 2)), on=FAMILY_DAY)
    assert rules(err) == {"id_number": "not_your_child"}


def test_under_6_the_photo_is_optional_from_6_it_is_required(
    an_level2: int, an_children: dict[str, Any]
) -> None:
    family.register_child(an_level2, khoi(photo=b""), on=FAMILY_DAY)
    assert Registration.objects.get(account__id_number=KHOI_ID).face_sha256 == ""
    with pytest.raises(DomainValidationError) as err:
        family.register_child(
            an_level2,
            khoi(
                id_number=HA_ID, full_name=HA_NAME, date_of_birth=HA_BORN, card_issued_on=HA_CARD, photo=b""
            ),
            on=FAMILY_DAY,
        )
    assert rules(err) == {"photo": "required"}


def test_from_14_the_holder_registers_themselves(an_level2: int, an_children: dict[str, Any]) -> None:
    with pytest.raises(DomainValidationError) as err:
        family.register_child(an_level2, khoi(date_of_birth=date(2010, 1, 1)), on=FAMILY_DAY)
    assert rules(err) == {"date_of_birth": "eligibility_age"}


def test_bad_input_names_each_field(an_level2: int) -> None:
    with pytest.raises(DomainValidationError) as err:
        family.register_child(
            an_level2,
            khoi(
                id_number="12",
                full_name=" ",
                date_of_birth=date(2030, 1, 1),
                card_issued_on=date(2030, 1, 1),
                photo=b"not an image",
            ),
            on=FAMILY_DAY,
        )
    assert set(rules(err)) >= {"id_number", "full_name", "date_of_birth", "card_issued_on", "photo"}


def test_a_child_is_registered_once(an_level2: int, an_children: dict[str, Any]) -> None:
    family.register_child(an_level2, khoi(), on=FAMILY_DAY)
    with pytest.raises(Conflict):
        family.register_child(an_level2, khoi(), on=FAMILY_DAY)
    assert Account.objects.filter(id_number=KHOI_ID).count() == 1


def test_the_parent_presents_the_childs_account_with_a_signed_qr(
    an_level2: int, an_children: dict[str, Any], hotel_clerk: Any, registrar: Any
) -> None:
    child = family.register_child(an_level2, khoi(), on=FAMILY_DAY)
    token = family.presentation_token(an_level2, child.account_id)
    hotel = hotel_clerk.ctx("identity.verification")  # a hotel checks in the family
    shown = family.verify_presentation(hotel, token)
    assert (shown.id_number, shown.level, shown.presented_by) == (KHOI_ID, 1, "father")
    assert AuditEvent.objects.filter(
        action="eid.child.present", subject_citizen_id=an_children["khoi"].citizen_id
    ).exists()
    forged = signing.dumps({"a": child.account_id, "g": 1, "n": "x"}, salt="another")
    with pytest.raises(DomainValidationError) as err:
        family.verify_presentation(hotel, forged)
    assert rules(err) == {"token": "signature"}
    with pytest.raises(DomainValidationError) as err:
        family.verify_presentation(hotel, token, max_age=-1)
    assert rules(err) == {"token": "expired"}
    verified = AuditEvent.objects.filter(action="eid.child.verify", result="ok")
    assert [e.subject_citizen_id for e in verified] == [an_children["khoi"].citizen_id]
    # An official whose role has no verification purpose is refused, and that is recorded.
    with pytest.raises(AccessDenied):
        family.verify_presentation(registrar.ctx("registry.administration"), token)
    assert AuditEvent.objects.filter(action="eid.child.verify", result="denied").exists()


def test_a_presentation_qr_is_single_use(
    an_level2: int, an_children: dict[str, Any], hotel_clerk: Any
) -> None:
    """A photo of the parent's screen cannot be presented a second time within its five minutes."""
    child = family.register_child(an_level2, khoi(), on=FAMILY_DAY)
    token = family.presentation_token(an_level2, child.account_id)
    hotel = hotel_clerk.ctx("identity.verification")
    assert family.verify_presentation(hotel, token).id_number == KHOI_ID
    with pytest.raises(DomainValidationError) as err:
        family.verify_presentation(hotel, token)
    assert rules(err) == {"token": "used"}
    again = family.presentation_token(an_level2, child.account_id)  # a new QR works
    assert family.verify_presentation(hotel, again).id_number == KHOI_ID


def test_a_parent_no_longer_at_level_2_cannot_present(
    an_level2: int, an_children: dict[str, Any], hotel_clerk: Any
) -> None:
    child = family.register_child(an_level2, khoi(), on=FAMILY_DAY)
    token = family.presentation_token(an_level2, child.account_id)
    Account.objects.filter(user_id=an_level2).update(level=1)  # e.g. the card was reported lost
    with pytest.raises(DomainValidationError) as err:
        family.verify_presentation(hotel_clerk.ctx("identity.verification"), token)
    assert rules(err) == {"token": "guardian"}
    Account.objects.filter(user_id=an_level2).update(level=2, status=Account.Status.REJECTED)
    with pytest.raises(DomainValidationError) as err:
        family.verify_presentation(hotel_clerk.ctx("identity.verification"), token)
    assert rules(err) == {"token": "guardian"}
    assert not AuditEvent.objects.filter(action="eid.child.verify", result="ok").exists()


def test_a_child_who_turned_14_is_no_longer_presented_by_the_parent(
    an_level2: int, an_children: dict[str, Any], hotel_clerk: Any
) -> None:
    """Decree 69/2024 Art. 7: from 14 the holder has their own account; the registry's date of
    birth decides (here corrected by the registry after the QR was made)."""
    from dancu.blocks.registry.models import Citizen

    child = family.register_child(an_level2, khoi(), on=FAMILY_DAY)
    token = family.presentation_token(an_level2, child.account_id)
    Citizen.objects.filter(pk=an_children["khoi"].citizen_id).update(date_of_birth=date(2000, 1, 1))
    with pytest.raises(DomainValidationError) as err:
        family.verify_presentation(hotel_clerk.ctx("identity.verification"), token)
    assert rules(err) == {"token": "age"}


def test_nobody_else_presents_the_childs_account(
    an_level2: int, an_children: dict[str, Any], make_person: Any
) -> None:
    from dancu.errors import NotFound

    child = family.register_child(an_level2, khoi(), on=FAMILY_DAY)
    other = make_person("someone.else")
    with pytest.raises(NotFound):
        family.presentation_token(other.user.pk, child.account_id)
    assert AuditEvent.objects.filter(action="eid.child.present", result="denied").exists()


def test_a_child_6_to_14_is_raised_to_level_2_at_the_desk_on_request(
    an_level2: int, an_children: dict[str, Any], pki: Any, trusted: TrustStore, ward_police: Any
) -> None:
    from dancu.blocks.identity.chip import issue_chip
    from tests.blocks.eid.conftest import portrait
    from tests.blocks.identity.conftest import an_holder

    family.register_child(
        an_level2,
        khoi(id_number=HA_ID, full_name=HA_NAME, date_of_birth=HA_BORN, card_issued_on=HA_CARD),
    )
    ds = pki.document_signer
    chip: ChipData = issue_chip(
        an_holder(
            id_number=HA_ID,
            full_name=HA_NAME,
            date_of_birth=HA_BORN,
            sex="F",
            issue_date=HA_CARD,
            expiry_date=HA_BORN.replace(year=HA_BORN.year + 14),
            old_id_number="",
        ),
        ds.private_key,
        ds.certificate,
    )
    services.activate_level2(
        ward_police.ctx("eid.activation"), chip_files=chip.to_dict(), live_photo=portrait(chip)
    )
    account = Account.objects.get(id_number=HA_ID)
    assert account.level == 2 and account.guardian is not None and not account.user.has_usable_password()
