"""Security fixes to children's accounts and the claim at 14 (ADR 0017, amendment of
01/12/2026): a claim is decided in person and the desk, not the claimant, sets the holder's
password and phone; phones and e-mails of the child's parents and guardians are refused; an
account whose management ended before 14 is handed over at 14 too; accounts registered before
``managed_until`` existed are handed over; registering a child does the same work whether the
data match or not; the representative does not see police reads of the child.

Actors: Nguyễn Văn An (level 2), Hà's father, who tries to take her account at 14 with a second
SIM; Huỳnh Thị Mai (level 2), Hà's mother, who never managed it; Nguyễn Thu Hà, 14 on
14/02/2030, who goes to the Tây Hồ desk with her renewed card; the Tây Hồ ward officer; a city
police investigator."""

from __future__ import annotations

import importlib
from datetime import date
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dancu.blocks.audit import services as audit
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import family, login, possession, services
from dancu.blocks.eid.models import Account, Registration
from dancu.blocks.registry import guardianship
from dancu.errors import DomainValidationError
from tests.blocks.eid.conftest import (
    AN_PHONE,
    FAMILY_DAY,
    HA_ID,
    KHOI_BORN,
    KHOI_CARD,
    KHOI_ID,
    KHOI_NAME,
    MAI_PHONE,
    Outbox,
    face,
    portrait,
)
from tests.blocks.eid.test_guardians_and_hand_over import (
    DESK_DAY,
    HA_14,
    HA_PHONE,
    RESTRICTED_FROM,
    claim,
    ha,
    ha_chip,
    renew_has_card,
    restrict_an_over_khoi,
)
from tests.blocks.identity.conftest import AN_ID, Pki
from tests.conftest import Person

pytestmark = pytest.mark.django_db
AN_SECOND_SIM = "0939999999"
AN_PASSWORD = "mat-khau-cua-bo-an-2030"


def rules(err: pytest.ExceptionInfo[Any]) -> dict[str, str]:
    return {p.field: p.rule for p in err.value.problems}


# --------------------------------------------------------------------------- 1. claim in person
def test_the_fathers_claim_with_a_second_sim_never_gives_him_has_account(
    an_level2: int,
    an_children: dict[str, Any],
    outbox: Outbox,
    ward_police: Person,
    pki: Pki,
    trusted: Any,
) -> None:
    """An knows everything the claim asks (her ID number, name, date of birth, card issue date)
    and uses a SIM the platform has never seen. His claim waits; it is not approved online, and
    when Hà is raised to level 2 at the desk his password and phone are gone: the desk sets hers."""
    family.register_child(an_level2, ha(), on=FAMILY_DAY)
    renew_has_card()
    receipt = family.claim_own_account(claim(phone=AN_SECOND_SIM, password=AN_PASSWORD), on=date(2030, 3, 1))
    assert receipt.matched and receipt.handle
    assert services.verify_phone(receipt.handle, outbox.last_code(AN_SECOND_SIM))
    # Denied: a claim is not approved from the online queue (the thumbnail may be anyone's).
    with pytest.raises(DomainValidationError) as online:
        services.decide_registration(ward_police.ctx("eid.registration"), receipt.handle, approve=True)
    assert rules(online) == {"registration": "in_person"}
    assert Account.objects.get(id_number=HA_ID).status == "pending"
    chip = ha_chip(pki)
    # Denied: at the desk the holder gives her own phone; without one the desk cannot finish.
    with pytest.raises(DomainValidationError) as no_phone:
        services.activate_level2(
            ward_police.ctx("eid.activation"),
            chip_files=chip.to_dict(),
            live_photo=portrait(chip),
            at=DESK_DAY,
        )
    assert rules(no_phone) == {"phone": "required"}
    services.activate_level2(
        ward_police.ctx("eid.activation"),
        chip_files=chip.to_dict(),
        live_photo=portrait(chip),
        phone=HA_PHONE,
        at=DESK_DAY,
    )
    account = Account.objects.select_related("user").get(id_number=HA_ID)
    assert (account.status, account.level, account.phone, account.email) == ("active", 2, HA_PHONE, "")
    assert not account.user.has_usable_password()
    with pytest.raises(login.LoginRefused):
        login.check_password(HA_ID, AN_PASSWORD, ip="127.0.0.1")
    # The phone "confirmed at the desk" is Hà's, not the claimant's; her code to set a password
    # went to it.
    assert possession.has_verified_phone(account.user_id)
    assert possession._verified_phone(account.user_id) == HA_PHONE
    assert outbox.last_code(HA_PHONE)
    assert Registration.objects.get(pk=receipt.handle).status == "approved"


def test_the_mothers_phone_and_e_mail_are_refused_though_she_never_managed_the_account(
    an_level2: int, an_children: dict[str, Any], mai_level2: int, outbox: Outbox
) -> None:
    """Any registered parent's or guardian's contact is refused, answered like a mismatch."""
    Account.objects.filter(user_id=mai_level2).update(email="mai@example.vn")
    family.register_child(an_level2, ha(), on=FAMILY_DAY)
    renew_has_card()
    by_phone = family.claim_own_account(claim(phone=MAI_PHONE), on=date(2030, 3, 1))
    by_mail = family.claim_own_account(claim(email="MAI@example.vn"), on=date(2030, 3, 1))
    assert (by_phone.matched, by_phone.handle, by_mail.matched, by_mail.handle) == (False, 0, False, 0)
    assert not Account.objects.get(id_number=HA_ID).user.has_usable_password()
    assert (
        AuditEvent.objects.filter(
            action="eid.child.claim", result="denied", detail__reason="family_contact"
        ).count()
        == 2
    )
    # Her own phone: accepted.
    assert family.claim_own_account(claim(), on=date(2030, 3, 1)).handle


# --------------------------------------------------------------------------- 2. ended before 14
def restrict_an_over_ha(officer: Person) -> None:
    guardianship.record_parental_restriction(
        officer.ctx("registry.administration"),
        HA_ID,
        AN_ID,
        decision="QĐ 46/2026/QĐ-TA",
        restricted_from=RESTRICTED_FROM,
        restricted_until=date(2029, 12, 1),
        reason="Tòa án hạn chế quyền của cha đối với con chưa thành niên",
        legal_basis="Luật Hôn nhân và gia đình 2014 Điều 85",
    )


def test_has_account_whose_management_ended_before_14_is_handed_over_and_a_rejected_claim_resets(
    an_level2: int, an_children: dict[str, Any], outbox: Outbox, ward_police: Person
) -> None:
    child = family.register_child(an_level2, ha(), on=date(2026, 11, 30))
    restrict_an_over_ha(ward_police)
    assert family.children_of(an_level2, on=FAMILY_DAY) == []  # his management ends
    assert Account.objects.get(pk=child.account_id).handed_over_at is None
    assert family.hand_over_due(on=date(2030, 2, 13)) == 0  # not before her birthday
    assert family.hand_over_due(on=HA_14) == 1
    assert Account.objects.get(pk=child.account_id).handed_over_at is not None
    renew_has_card()
    receipt = family.claim_own_account(claim(), on=date(2030, 3, 1))
    services.decide_registration(
        ward_police.ctx("eid.registration"), receipt.handle, approve=False, reason="Không đến trụ sở"
    )
    account = Account.objects.select_related("user").get(pk=child.account_id)
    assert not account.user.has_usable_password() and account.phone == ""
    # She may claim again (the claim is no longer refused forever).
    assert family.claim_own_account(claim(), on=date(2030, 3, 2)).handle


def test_a_claim_on_an_account_never_marked_handed_over_marks_it(
    an_level2: int, an_children: dict[str, Any], outbox: Outbox, ward_police: Person
) -> None:
    child = family.register_child(an_level2, ha(), on=date(2026, 11, 30))
    restrict_an_over_ha(ward_police)
    family.children_of(an_level2, on=FAMILY_DAY)
    renew_has_card()
    receipt = family.claim_own_account(claim(), on=date(2030, 3, 1))
    assert Account.objects.get(pk=child.account_id).handed_over_at is not None
    assert Registration.objects.get(pk=receipt.handle).is_claim


# --------------------------------------------------------------------------- 3. before 0006
def test_the_migration_fills_managed_until_from_the_registrys_date_of_birth(
    an_level2: int, an_children: dict[str, Any], mai_level2: int
) -> None:
    child = family.register_child(an_level2, ha(), on=FAMILY_DAY)
    Account.objects.filter(pk=child.account_id).update(managed_until=None)
    # Mai's own (adult) account has no manager: left alone.
    migration = importlib.import_module("dancu.blocks.eid.migrations.0008_fill_managed_until")
    migration.fill_managed_until(django_apps, None)
    assert Account.objects.get(pk=child.account_id).managed_until == HA_14
    assert Account.objects.get(user_id=mai_level2).managed_until is None


def test_the_daily_command_hands_over_an_account_registered_before_managed_until_existed(
    an_level2: int, an_children: dict[str, Any]
) -> None:
    child = family.register_child(an_level2, ha(), on=FAMILY_DAY)
    Account.objects.filter(pk=child.account_id).update(managed_until=None)
    assert family.hand_over_due(on=date(2030, 2, 13)) == 0
    assert Account.objects.get(pk=child.account_id).managed_until == HA_14
    assert family.hand_over_due(on=HA_14) == 1
    account = Account.objects.get(pk=child.account_id)
    assert account.guardian_id is None and account.handed_over_at is not None


# --------------------------------------------------------------------------- 4. no oracle
def test_registering_a_child_does_the_same_work_whether_the_data_match_or_not(
    an_level2: int, an_children: dict[str, Any], ward_police: Person
) -> None:
    """An, restricted over Khôi, types Khôi's true data, then a wrong date of birth: the same
    refusal, the same number of database queries and the same number of audit events."""
    restrict_an_over_khoi(ward_police)

    def attempt(born: date) -> tuple[int, int]:
        before = AuditEvent.objects.count()
        with CaptureQueriesContext(connection) as queries, pytest.raises(DomainValidationError) as err:
            family.register_child(
                an_level2, family.ChildInput(KHOI_ID, KHOI_NAME, born, KHOI_CARD, face(7)), on=FAMILY_DAY
            )
        assert rules(err) == {"id_number": "not_your_child"}
        return len(queries.captured_queries), AuditEvent.objects.count() - before

    true_data = attempt(KHOI_BORN)
    wrong_data = attempt(date(2022, 5, 11))
    assert true_data == wrong_data


# --------------------------------------------------------------------------- 5. police reads
def test_the_father_does_not_see_police_reads_of_his_daughter_but_she_does_at_14(
    an_level2: int, an_children: dict[str, Any], city_police: Person
) -> None:
    child = family.register_child(an_level2, ha(), on=FAMILY_DAY)
    citizen_id = Account.objects.get(pk=child.account_id).citizen_id
    for purpose in ("security.investigation", "security.alert_screening"):
        audit.record(city_police.ctx(purpose), "registry.read", subject_citizen_id=citizen_id)
    seen = {e.purpose_code for e in family.child_access_history(an_level2, child.account_id, on=FAMILY_DAY)}
    assert "eid.registration" in seen
    assert not seen & {"security.investigation", "security.alert_screening"}
    # Hà's own view at 14: the police reads are there.
    family.hand_over_due(on=HA_14)
    own = {e.purpose_code for e in services.access_history(Account.objects.get(pk=child.account_id).user_id)}
    assert {"security.investigation", "security.alert_screening"} <= own


def test_the_desk_refuses_the_fathers_phone_for_has_account_taken_over_at_14(
    an_level2: int, an_children: dict[str, Any], outbox: Outbox, ward_police: Person, pki: Pki, trusted: Any
) -> None:
    """An comes to the desk with Hà and gives his own number: refused, naming the rule (in person,
    a field error tells nothing new); with her own phone the activation goes through."""
    family.register_child(an_level2, ha(), on=FAMILY_DAY)
    renew_has_card()
    family.claim_own_account(claim(), on=date(2030, 3, 1))
    chip = ha_chip(pki)
    desk = ward_police.ctx("eid.activation")
    with pytest.raises(DomainValidationError) as fathers:
        services.activate_level2(
            desk, chip_files=chip.to_dict(), live_photo=portrait(chip), phone=AN_PHONE, at=DESK_DAY
        )
    assert rules(fathers) == {"phone": "family_contact"}
    assert Account.objects.get(id_number=HA_ID).level == 1
    services.activate_level2(
        desk, chip_files=chip.to_dict(), live_photo=portrait(chip), phone=HA_PHONE, at=DESK_DAY
    )
    assert Account.objects.get(id_number=HA_ID).phone == HA_PHONE


def test_a_still_managed_account_raised_to_level_2_after_14_leaves_the_father_nothing(
    an_level2: int,
    an_children: dict[str, Any],
    outbox: Outbox,
    ward_police: Person,
    pki: Pki,
    trusted: Any,
) -> None:
    """Hà is 14 and goes to the desk before the daily hand-over ran: her father still manages the
    account. Raising it to level 2 ends his management there and then, and the desk — not he —
    sets her phone; the password he may have set is gone."""
    child = family.register_child(an_level2, ha(), on=FAMILY_DAY)
    renew_has_card()
    chip = ha_chip(pki)
    assert Account.objects.get(pk=child.account_id).guardian_id is not None  # not handed over yet
    # Denied: without the holder's own phone the desk cannot finish.
    with pytest.raises(DomainValidationError) as no_phone:
        services.activate_level2(
            ward_police.ctx("eid.activation"),
            chip_files=chip.to_dict(),
            live_photo=portrait(chip),
            at=DESK_DAY,
        )
    assert rules(no_phone) == {"phone": "required"}
    activation = services.activate_level2(
        ward_police.ctx("eid.activation"),
        chip_files=chip.to_dict(),
        live_photo=portrait(chip),
        phone=HA_PHONE,
        at=DESK_DAY,
    )
    account = Account.objects.select_related("user").get(pk=child.account_id)
    assert activation.claimed and account.guardian_id is None and account.handed_over_at is not None
    assert (account.level, account.phone) == (2, HA_PHONE) and not account.user.has_usable_password()
    assert outbox.last_code(HA_PHONE)  # her code to set a password
    assert family.children_of(an_level2, on=DESK_DAY.date()) == []
