"""Level-1 accounts (Decree 69/2024/NĐ-CP Art. 12, 14): self-registration matched against the
registry, eligibility by age, approval by the ward's commune police or by the automated rule,
and no user enumeration."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import factors, services
from dancu.blocks.eid.models import Account, Registration
from dancu.errors import AccessDenied, DomainValidationError
from tests.blocks.eid.conftest import (
    AN_ID,
    AN_PHONE,
    MAI_BORN,
    MAI_ID,
    MAI_NAME,
    MAI_PHONE,
    Outbox,
    application,
)
from tests.conftest import Person

pytestmark = pytest.mark.django_db


def _fields(exc: DomainValidationError) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in exc.problems}


def test_an_registers_confirms_his_phone_and_the_rule_approves_the_exact_match(
    residents: dict[str, Any], outbox: Outbox, an_phone_on_record: str
) -> None:
    receipt = services.register(application())
    assert receipt.matched and receipt.handle
    account = Account.objects.get(id_number=AN_ID)
    assert account.status == "pending" and account.level == 0
    assert account.ward_code == "00103" and account.citizen_id == residents["an"].citizen_id
    assert account.user.password != application().password  # hashed

    assert services.verify_phone(receipt.handle, outbox.last_code(AN_PHONE))
    account.refresh_from_db()
    assert account.status == "active" and account.level == 1 and account.phone_verified_at is not None
    registration = Registration.objects.get(account=account)
    assert (
        registration.auto_approved and registration.thumbnail is None
    )  # the thumbnail went with the decision
    actions = set(
        AuditEvent.objects.filter(subject_citizen_id=account.citizen_id).values_list("action", "purpose")
    )
    assert ("identity.verify", "eid.registration") in actions  # the registry match, audited to An
    assert ("eid.registration.approve", "eid.registration") in actions


def test_a_wrong_phone_code_does_not_approve(residents: dict[str, Any], outbox: Outbox) -> None:
    receipt = services.register(application())
    assert not services.verify_phone(
        receipt.handle, "000000" if outbox.last_code(AN_PHONE) != "000000" else "111111"
    )
    assert Account.objects.get(id_number=AN_ID).status == "pending"


def test_a_name_variant_waits_for_the_ward_police_who_approve(
    residents: dict[str, Any], outbox: Outbox, ward_police: Person
) -> None:
    receipt = services.register(application(full_name="Văn An Nguyễn"))  # matched in another order
    assert not Registration.objects.get(pk=receipt.handle).exact_match
    assert services.verify_phone(receipt.handle, outbox.last_code(AN_PHONE))
    assert Account.objects.get(id_number=AN_ID).status == "pending"

    waiting = services.pending_registrations(ward_police.ctx("eid.registration"))
    assert [w.id_number for w in waiting] == [AN_ID] and waiting[0].thumbnail
    services.decide_registration(ward_police.ctx("eid.registration"), receipt.handle, approve=True)
    account = Account.objects.get(id_number=AN_ID)
    assert account.status == "active" and account.level == 1
    assert Registration.objects.get(pk=receipt.handle).decided_by_label == ward_police.actor.label


def test_police_of_another_ward_may_not_decide(
    residents: dict[str, Any], outbox: Outbox, other_ward_police: Person
) -> None:
    receipt = services.register(application())
    assert services.pending_registrations(other_ward_police.ctx("eid.registration")) == []
    with pytest.raises(AccessDenied) as denied:
        services.decide_registration(other_ward_police.ctx("eid.registration"), receipt.handle, approve=True)
    assert denied.value.rule == "jurisdiction"
    assert AuditEvent.objects.filter(action="eid.registration.decide", result="denied").exists()


def test_city_police_and_a_hotel_clerk_may_not_decide(
    residents: dict[str, Any], outbox: Outbox, city_police: Person, hotel_clerk: Person
) -> None:
    receipt = services.register(application())
    for person in (city_police, hotel_clerk):
        with pytest.raises(AccessDenied):
            services.decide_registration(person.ctx("eid.registration"), receipt.handle, approve=True)


def test_a_rejection_names_its_reason(residents: dict[str, Any], outbox: Outbox, ward_police: Person) -> None:
    receipt = services.register(application())
    with pytest.raises(DomainValidationError) as missing:
        services.decide_registration(ward_police.ctx("eid.registration"), receipt.handle, approve=False)
    assert _fields(missing.value) == {("reason", "required")}
    services.decide_registration(
        ward_police.ctx("eid.registration"), receipt.handle, approve=False, reason="Ảnh không rõ mặt"
    )
    assert Account.objects.get(id_number=AN_ID).status == "rejected"


def test_data_that_do_not_match_are_not_registered(residents: dict[str, Any], outbox: Outbox) -> None:
    receipt = services.register(application(full_name="Trần Văn Bình"))
    assert not receipt.matched and receipt.handle == 0
    assert not Account.objects.exists()
    # The same step as a match: a code to the typed phone, which checks only against the token.
    assert [(m["to"], m["kind"]) for m in outbox.messages] == [(AN_PHONE, "eid.code.phone")]
    assert factors.check_decoy_code(receipt.decoy, outbox.last_code(AN_PHONE))
    assert not factors.check_decoy_code(
        receipt.decoy, "000000" if outbox.last_code(AN_PHONE) != "000000" else "1"
    )


def test_a_second_registration_of_a_number_reveals_nothing_and_warns_the_holder(
    an_registered: int, outbox: Outbox
) -> None:
    before = len(outbox.messages)
    receipt = services.register(application(phone="0900000001"))
    assert receipt.matched and receipt.handle == 0 and receipt.decoy  # the same answer as a new one
    sent = outbox.messages[before:]
    # The holder is warned; the stranger gets a code as on a new registration (no oracle), which
    # confirms nothing.
    assert [(m["to"], m["kind"]) for m in sent] == [
        (AN_PHONE, "eid.registration.duplicate"),
        ("0900000001", "eid.code.phone"),
    ]
    assert Account.objects.filter(id_number=AN_ID).count() == 1


def test_binh_registering_ans_exact_data_with_his_own_phone_is_not_approved_by_the_rule(
    residents: dict[str, Any], outbox: Outbox, an_phone_on_record: str, ward_police: Person
) -> None:
    """Bình knows An's ID number, name and date of birth (an exact match) and confirms a code sent
    to his own phone: the automated rule does not approve; the application waits for the ward police."""
    receipt = services.register(application(phone="0900000002"))
    assert services.verify_phone(receipt.handle, outbox.last_code("0900000002"))
    account = Account.objects.get(id_number=AN_ID)
    assert account.status == "pending" and account.level == 0
    assert [
        p.registration_id for p in services.pending_registrations(ward_police.ctx("eid.registration"))
    ] == [receipt.handle]


def test_without_a_phone_on_record_an_exact_match_waits_for_the_ward_police(
    residents: dict[str, Any], outbox: Outbox
) -> None:
    receipt = services.register(application())
    assert services.verify_phone(receipt.handle, outbox.last_code(AN_PHONE))
    assert Account.objects.get(id_number=AN_ID).status == "pending"


def test_fields_are_validated_naming_field_and_rule(residents: dict[str, Any], outbox: Outbox) -> None:
    with pytest.raises(DomainValidationError) as bad:
        services.register(
            application(
                id_number="12345", phone="12345", email="not-an-email", photo=b"nope", password="short"
            )
        )
    fields = {f for f, _ in _fields(bad.value)}
    assert {"id_number", "phone", "email", "photo", "password"} <= fields


def test_a_child_under_6_cannot_self_register(residents: dict[str, Any], outbox: Outbox) -> None:
    with pytest.raises(DomainValidationError) as refused:
        services.register(application(date_of_birth=date(2023, 1, 1)), on=date(2026, 11, 30))
    assert ("date_of_birth", "eligibility_age") in _fields(refused.value)


def test_a_deceased_holder_is_refused_without_saying_why(
    residents: dict[str, Any], outbox: Outbox, registrar: Person
) -> None:
    from dancu.blocks.registry.services import record_death

    record_death(
        registrar.ctx("registry.administration"),
        MAI_ID,
        date_of_death=date(2025, 1, 2),
        reason="Khai tử",
        legal_basis="Luật Hộ tịch 2014",
    )
    receipt = services.register(
        application(id_number=MAI_ID, full_name=MAI_NAME, date_of_birth=MAI_BORN, phone=MAI_PHONE)
    )
    assert not receipt.matched
    assert not Account.objects.filter(id_number=MAI_ID).exists()


def test_age_rules() -> None:
    assert services.age_on(date(2012, 12, 1), date(2026, 11, 30)) == 13
    assert services.max_level_for_age(5) == 1
    assert services.max_level_for_age(6) == 2
