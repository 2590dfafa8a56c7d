"""Children's accounts managed by a parent or a guardian, their access history, and the hand-over
at 14 (domain-vn §4; Civil Code 2015 Art. 46–62; Marriage and Family Law 2014 Art. 85–87;
ADR 0017).

Actors: Nguyễn Văn An (level 2), father of Khôi (4) and Hà (10); Huỳnh Thị Mai (level 2), Hà's
mother and — after a court restricts An's rights over Khôi — Khôi's appointed guardian; the Tây
Hồ ward officer (records the guardianship, decides Hà's claim at 14 in person); a hotel clerk (checks the
QR). Dates are fixed: registration on 01/12/2026; Hà is 14 on 14/02/2030."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import factors, family, login, services
from dancu.blocks.eid.models import Account, GuardianPeriod
from dancu.blocks.identity.chip import ChipData, issue_chip
from dancu.blocks.registry import guardianship
from dancu.errors import Conflict, DomainValidationError, NotFound
from tests.blocks.eid.conftest import (
    AN_PHONE,
    FAMILY_DAY,
    HA_BORN,
    HA_CARD,
    HA_ID,
    HA_NAME,
    KHOI_BORN,
    KHOI_CARD,
    KHOI_ID,
    KHOI_NAME,
    PASSWORD,
    Outbox,
    face,
    portrait,
)
from tests.blocks.identity.conftest import AN_ID, MAI_ID, Pki, an_holder
from tests.conftest import Person

pytestmark = pytest.mark.django_db
HA_14 = date(2030, 2, 14)
HA_NEW_CARD = date(2030, 2, 20)  # the card is renewed at 14 (Law on Identification 2023 Art. 21)
HA_PHONE = "0934567890"
RESTRICTED_FROM = date(2026, 12, 1)


def khoi() -> family.ChildInput:
    return family.ChildInput(KHOI_ID, KHOI_NAME, KHOI_BORN, KHOI_CARD, face(7))


def ha() -> family.ChildInput:
    return family.ChildInput(HA_ID, HA_NAME, HA_BORN, HA_CARD, face(8))


def rules(err: pytest.ExceptionInfo[DomainValidationError]) -> dict[str, str]:
    return {p.field: p.rule for p in err.value.problems}


def restrict_an_over_khoi(officer: Person) -> None:
    guardianship.record_parental_restriction(
        officer.ctx("registry.administration"),
        KHOI_ID,
        AN_ID,
        decision="QĐ 45/2026/QĐ-TA",
        restricted_from=RESTRICTED_FROM,
        restricted_until=date(2029, 12, 1),
        reason="Tòa án hạn chế quyền của cha đối với con chưa thành niên",
        legal_basis="Luật Hôn nhân và gia đình 2014 Điều 85",
    )


def appoint_mai_for_khoi(officer: Person) -> None:
    guardianship.record_guardianship(
        officer.ctx("registry.administration"),
        KHOI_ID,
        MAI_ID,
        kind="appointed",
        started_on=RESTRICTED_FROM,
        record_number="GH-12/2026 UBND phường Tây Hồ",
        reason="Cha bị hạn chế quyền, mẹ không rõ",
        legal_basis="Bộ luật Dân sự 2015 Điều 47, 54; Luật Hộ tịch 2014 Điều 20",
    )


# --------------------------------------------------------------------------- guardians
def test_an_appointed_guardian_registers_and_presents_the_childs_account(
    an_children: dict[str, Any], mai_level2: int, ward_police: Person, hotel_clerk: Person
) -> None:
    restrict_an_over_khoi(ward_police)
    appoint_mai_for_khoi(ward_police)
    child = family.register_child(mai_level2, khoi(), on=FAMILY_DAY)
    assert (child.relationship, child.level, child.managed_until) == ("guardian", 1, date(2036, 5, 10))
    period = GuardianPeriod.objects.get(account_id=child.account_id)
    assert (period.manager.user_id, period.relationship, period.ended_at) == (mai_level2, "guardian", None)
    token = family.presentation_token(mai_level2, child.account_id, on=FAMILY_DAY)
    shown = family.verify_presentation(hotel_clerk.ctx("identity.verification"), token, on=FAMILY_DAY)
    assert (shown.id_number, shown.presented_by) == (KHOI_ID, "guardian")


def test_a_father_whose_rights_are_restricted_gets_the_refusal_of_wrong_data(
    an_level2: int, an_children: dict[str, Any], ward_police: Person
) -> None:
    restrict_an_over_khoi(ward_police)
    with pytest.raises(DomainValidationError) as restricted:
        family.register_child(an_level2, khoi(), on=FAMILY_DAY)
    with pytest.raises(DomainValidationError) as wrong:
        family.register_child(
            an_level2, family.ChildInput(HA_ID, "Nguyễn Thu Khác", HA_BORN, HA_CARD, face(8)), on=FAMILY_DAY
        )
    assert rules(restricted) == rules(wrong) == {"id_number": "not_your_child"}
    assert restricted.value.problems[0].message == wrong.value.problems[0].message
    assert not Account.objects.filter(id_number=KHOI_ID).exists()
    # His daughter, over whom his rights are whole: registered.
    assert family.register_child(an_level2, ha(), on=FAMILY_DAY).relationship == "father"


def test_a_restriction_ends_the_fathers_management_and_the_guardian_takes_over(
    an_level2: int, an_children: dict[str, Any], mai_level2: int, ward_police: Person, hotel_clerk: Person
) -> None:
    child = family.register_child(an_level2, khoi(), on=date(2026, 11, 30))
    token = family.presentation_token(an_level2, child.account_id, on=date(2026, 11, 30))
    restrict_an_over_khoi(ward_police)
    # The QR made before the court's decision is refused after it.
    with pytest.raises(DomainValidationError) as err:
        family.verify_presentation(hotel_clerk.ctx("identity.verification"), token, on=FAMILY_DAY)
    assert rules(err) == {"token": "guardian"}
    # His next use ends his management: the account is no longer his to present.
    with pytest.raises(NotFound):
        family.presentation_token(an_level2, child.account_id, on=FAMILY_DAY)
    period = GuardianPeriod.objects.get(account_id=child.account_id)
    assert (period.end_reason, period.presentations) == ("authority_ended", 1)
    assert family.children_of(an_level2, on=FAMILY_DAY) == []
    # Mai, appointed guardian, takes the account over by registering Khôi.
    appoint_mai_for_khoi(ward_police)
    taken = family.register_child(mai_level2, khoi(), on=FAMILY_DAY)
    assert (taken.account_id, taken.relationship) == (child.account_id, "guardian")
    assert [c.id_number for c in family.children_of(mai_level2, on=FAMILY_DAY)] == [KHOI_ID]
    assert AuditEvent.objects.filter(action="eid.child.take_over", result="ok").exists()


def test_the_other_parent_does_not_take_over_a_managed_account(
    an_level2: int, an_children: dict[str, Any], mai_level2: int
) -> None:
    family.register_child(an_level2, ha(), on=FAMILY_DAY)
    with pytest.raises(Conflict):
        family.register_child(mai_level2, ha(), on=FAMILY_DAY)
    assert family.children_of(mai_level2, on=FAMILY_DAY) == []


def test_an_ended_guardianship_ends_the_guardians_management(
    an_children: dict[str, Any], mai_level2: int, ward_police: Person
) -> None:
    restrict_an_over_khoi(ward_police)
    appoint_mai_for_khoi(ward_police)
    child = family.register_child(mai_level2, khoi(), on=FAMILY_DAY)
    guardianship.end_guardianship(
        ward_police.ctx("registry.administration"),
        KHOI_ID,
        ended_on=FAMILY_DAY,
        end_reason="Người giám hộ xin thôi",
        legal_basis="Bộ luật Dân sự 2015 Điều 62",
    )
    with pytest.raises(NotFound):
        family.child_access_history(mai_level2, child.account_id, on=FAMILY_DAY)
    assert GuardianPeriod.objects.get(account_id=child.account_id).end_reason == "authority_ended"


# --------------------------------------------------------------------------- access history
def test_the_father_sees_his_sons_access_history_and_that_reading_is_recorded(
    an_level2: int, an_children: dict[str, Any]
) -> None:
    child = family.register_child(an_level2, khoi(), on=FAMILY_DAY)
    history = family.child_access_history(an_level2, child.account_id, on=FAMILY_DAY)
    assert "eid.registration.guardian" in {e.action for e in history}
    again = family.child_access_history(an_level2, child.account_id, on=FAMILY_DAY)
    assert again[0].action == "citizen.access_log.representative"
    assert again[0].purpose_code == "citizen.self_access"


def test_nobody_reads_another_childs_history(
    an_level2: int, an_children: dict[str, Any], mai_level2: int
) -> None:
    khoi_account = family.register_child(an_level2, khoi(), on=FAMILY_DAY)
    # Mai is Hà's mother, not Khôi's; An manages Khôi, not an account registered by Mai for Hà.
    with pytest.raises(NotFound):
        family.child_access_history(mai_level2, khoi_account.account_id, on=FAMILY_DAY)
    ha_account = family.register_child(mai_level2, ha(), on=FAMILY_DAY)
    with pytest.raises(NotFound):
        family.child_access_history(an_level2, ha_account.account_id, on=FAMILY_DAY)
    denied = AuditEvent.objects.filter(action="citizen.access_log.representative", result="denied")
    assert denied.count() == 2
    assert not AuditEvent.objects.filter(action="citizen.access_log.representative", result="ok").exists()


# --------------------------------------------------------------------------- hand-over at 14
def test_the_daily_command_hands_has_account_over_on_her_14th_birthday_not_before(
    an_level2: int, an_children: dict[str, Any], hotel_clerk: Person
) -> None:
    child = family.register_child(an_level2, ha(), on=FAMILY_DAY)
    family.presentation_token(an_level2, child.account_id, on=FAMILY_DAY)
    family.child_access_history(an_level2, child.account_id, on=FAMILY_DAY)
    call_command("eid_hand_over", on="2030-02-13")
    assert Account.objects.get(pk=child.account_id).guardian is not None
    call_command("eid_hand_over", on=HA_14.isoformat())
    account = Account.objects.get(pk=child.account_id)
    assert account.guardian is None and account.handed_over_at is not None
    period = GuardianPeriod.objects.get(account=account)
    assert (period.end_reason, period.relationship, period.presentations, period.history_views) == (
        "age_14",
        "father",
        1,
        1,
    )
    event = AuditEvent.objects.get(action="eid.child.management_end", subject_citizen_id=account.citizen_id)
    assert event.detail["reason"] == "age_14"
    # The father no longer sees her, presents her or reads her history.
    assert family.children_of(an_level2, on=HA_14) == []
    with pytest.raises(NotFound):
        family.child_access_history(an_level2, child.account_id, on=HA_14)
    with pytest.raises(NotFound):
        family.presentation_token(an_level2, child.account_id, on=HA_14)


def test_the_hand_over_also_happens_when_the_parent_opens_his_page(
    an_level2: int, an_children: dict[str, Any]
) -> None:
    child = family.register_child(an_level2, ha(), on=FAMILY_DAY)
    assert [c.id_number for c in family.children_of(an_level2, on=date(2030, 2, 13))] == [HA_ID]
    assert family.children_of(an_level2, on=HA_14) == []
    assert Account.objects.get(pk=child.account_id).handed_over_at is not None


def renew_has_card() -> None:
    """Hà's card renewed at 14 (issued 20/02/2030, valid to her 25th birthday)."""
    from dancu.blocks.registry.models import Citizen, IdentityCard

    citizen = Citizen.objects.get(id_number=HA_ID)
    IdentityCard.objects.filter(citizen=citizen).update(status="replaced")
    IdentityCard.objects.create(
        citizen=citizen,
        kind="can_cuoc",
        card_number=HA_ID,
        issued_on=HA_NEW_CARD,
        expires_on=date(2041, 2, 14),
    )


def claim(**changes: Any) -> family.ClaimInput:
    values: dict[str, Any] = {
        "id_number": HA_ID,
        "full_name": HA_NAME,
        "date_of_birth": HA_BORN,
        "card_issued_on": HA_NEW_CARD,
        "phone": HA_PHONE,
        "password": PASSWORD,
        "photo": face(9),
    }
    values.update(changes)
    return family.ClaimInput(**values)


def ha_chip(pki: Pki) -> ChipData:
    """The chip of Hà's card renewed at 14."""
    ds = pki.document_signer
    holder = an_holder(
        id_number=HA_ID,
        full_name=HA_NAME,
        date_of_birth=HA_BORN,
        sex="F",
        issue_date=HA_NEW_CARD,
        expiry_date=date(2041, 2, 14),
        old_id_number="",
    )
    return issue_chip(holder, ds.private_key, ds.certificate)


DESK_DAY = datetime(2030, 3, 5, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def test_ha_takes_her_account_at_14_in_person_at_the_ward_desk(
    an_level2: int, an_children: dict[str, Any], outbox: Outbox, ward_police: Person, pki: Pki, trusted: Any
) -> None:
    """Her claim online waits; the ward police decide it in person, with her card, at level 2
    (ADR 0017, amendment): the desk sets her phone and she sets her password with a code sent to
    it."""
    child = family.register_child(an_level2, ha(), on=FAMILY_DAY)
    renew_has_card()
    receipt = family.claim_own_account(claim(), on=date(2030, 3, 1))  # the management ends on access
    assert receipt.matched and receipt.handle
    account = Account.objects.get(pk=child.account_id)
    assert (account.status, account.guardian_id, account.phone) == ("pending", None, HA_PHONE)
    with pytest.raises(login.LoginRefused) as refused:  # not before the ward police decide
        login.check_password(HA_ID, PASSWORD, ip="127.0.0.1")
    assert refused.value.code == "pending"
    assert services.verify_phone(receipt.handle, outbox.last_code(HA_PHONE))
    with pytest.raises(DomainValidationError) as online:  # not from the online queue
        services.decide_registration(ward_police.ctx("eid.registration"), receipt.handle, approve=True)
    assert rules(online) == {"registration": "in_person"}
    chip = ha_chip(pki)
    services.activate_level2(
        ward_police.ctx("eid.activation"),
        chip_files=chip.to_dict(),
        live_photo=portrait(chip),
        phone=HA_PHONE,
        at=DESK_DAY,
    )
    assert login.finish_recovery(HA_ID, outbox.last_code(HA_PHONE), PASSWORD, ip="127.0.0.1")
    account.refresh_from_db()
    assert (account.status, account.level, account.max_level) == ("active", 2, 2)
    assert login.check_password(HA_ID, PASSWORD, ip="127.0.0.1").user_id == account.user_id
    # Her page tells who managed her account, until when, and what they did with it.
    [record] = family.management_record(account.user_id)
    assert (record.relationship, record.end_reason) == ("father", "age_14")
    # The same account, same history: the father's registration is on her own access history.
    assert "eid.registration.guardian" in {e.action for e in services.access_history(account.user_id)}


def test_a_claim_before_14_is_refused_naming_the_rule(
    an_level2: int, an_children: dict[str, Any], outbox: Outbox
) -> None:
    family.register_child(an_level2, ha(), on=FAMILY_DAY)
    with pytest.raises(DomainValidationError) as err:
        family.claim_own_account(claim(card_issued_on=HA_CARD), on=date(2030, 2, 13))
    assert rules(err) == {"date_of_birth": "eligibility_age"}


def test_the_fathers_phone_is_refused_for_her_own_account_like_a_mismatch(
    an_level2: int, an_children: dict[str, Any], outbox: Outbox
) -> None:
    """The holder uses her own phone; the father's gets the answer of wrong data (a field error
    would tell that the data matched a child's account)."""
    family.register_child(an_level2, ha(), on=FAMILY_DAY)
    renew_has_card()
    receipt = family.claim_own_account(claim(phone=AN_PHONE), on=date(2030, 3, 1))
    assert (receipt.matched, receipt.handle) == (False, 0)
    assert factors.check_decoy_code(receipt.decoy, outbox.last_code(AN_PHONE))
    assert not Account.objects.get(id_number=HA_ID).user.has_usable_password()
    assert AuditEvent.objects.filter(
        action="eid.child.claim", result="denied", detail__reason="former_manager_phone"
    ).exists()


def test_wrong_data_or_an_account_not_managed_learn_nothing(
    an_level2: int, an_children: dict[str, Any], outbox: Outbox
) -> None:
    """The same answer as a match (a code to the typed phone); nothing changes."""
    family.register_child(an_level2, ha(), on=FAMILY_DAY)
    renew_has_card()
    wrong = family.claim_own_account(claim(card_issued_on=date(2030, 2, 21)), on=date(2030, 3, 1))
    assert (wrong.matched, wrong.handle) == (False, 0)
    assert factors.check_decoy_code(wrong.decoy, outbox.last_code(HA_PHONE))
    # An adult's own account (An's) cannot be "claimed" with his data.
    from dancu.blocks.registry.models import Citizen, IdentityCard

    an_card = IdentityCard.objects.get(citizen=Citizen.objects.get(id_number=AN_ID))
    from tests.blocks.identity.conftest import AN_BORN, AN_NAME

    not_managed = family.claim_own_account(
        claim(id_number=AN_ID, full_name=AN_NAME, date_of_birth=AN_BORN, card_issued_on=an_card.issued_on),
        on=date(2030, 3, 1),
    )
    assert (not_managed.matched, not_managed.handle) == (False, 0)
    assert Account.objects.get(id_number=HA_ID).status == "active"
    assert AuditEvent.objects.filter(action="eid.child.claim", result="denied").count() == 2
    # A second claim while the first waits: the same decoy answer.
    first = family.claim_own_account(claim(), on=date(2030, 3, 1))
    assert first.handle
    second = family.claim_own_account(claim(phone="0931111111"), on=date(2030, 3, 1))
    assert (second.matched, second.handle) == (False, 0)


def test_a_rejected_claim_takes_back_the_password_and_she_may_claim_again(
    an_level2: int, an_children: dict[str, Any], outbox: Outbox, ward_police: Person
) -> None:
    family.register_child(an_level2, ha(), on=FAMILY_DAY)
    renew_has_card()
    receipt = family.claim_own_account(claim(), on=date(2030, 3, 1))
    services.decide_registration(
        ward_police.ctx("eid.registration"), receipt.handle, approve=False, reason="Ảnh không khớp"
    )
    account = Account.objects.get(id_number=HA_ID)
    assert not account.user.has_usable_password() and account.phone == "" and account.status == "pending"
    assert family.claim_own_account(claim(), on=date(2030, 3, 2)).handle


# --------------------------------------------------------------------------- under 6
def test_under_6_level_1_only_from_6_the_manager_may_ask_for_level_2(
    an_level2: int, an_children: dict[str, Any]
) -> None:
    """domain-vn §4: under 6, level 1 only; from 6 to 14, level 2 on request."""
    family.register_child(an_level2, khoi(), on=FAMILY_DAY)
    [at_4] = family.children_of(an_level2, on=FAMILY_DAY)
    [at_6] = family.children_of(an_level2, on=date(2028, 5, 10))
    assert (at_4.max_level, at_6.max_level) == (1, 2)
