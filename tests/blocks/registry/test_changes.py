"""Changing a record: corrections, moves, deaths and new ID numbers bump the version and store a
revision with old and new values; a change that breaks a rule changes nothing (Law on
Identification 2023 Art. 9–10: data are updated, never silently overwritten)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry.models import Citizen, CitizenRevision, Household, IdentityCard, IdNumberChange
from dancu.blocks.registry.services import (
    change_id_number,
    correct_citizen,
    get_by_id_number,
    history,
    move_residence,
    record_death,
)
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.blocks.registry.conftest import (
    HCM_ADDRESS,
    HOAN_KIEM_ADDRESS,
    LEGAL_BASIS,
    UNRESOLVABLE_ADDRESS,
    id_number,
)
from tests.conftest import HANOI, TAY_HO_WARD, Person

pytestmark = pytest.mark.usefixtures("adminunits")

WHY = {"reason": "Theo trích lục khai sinh số 12/2026", "legal_basis": LEGAL_BASIS}


def rules(exc: pytest.ExceptionInfo[DomainValidationError]) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in exc.value.problems}


def state(view: Any) -> tuple[Any, ...]:
    """Everything that a refused change must leave as it was."""
    c = Citizen.objects.get(pk=view.citizen_id)
    return (
        c.version,
        c.id_number,
        c.full_name,
        c.date_of_birth,
        c.sex,
        c.religion,
        c.life_status,
        c.permanent_ward_code,
        c.household_id,
        CitizenRevision.objects.filter(citizen=c).count(),
        AuditEvent.objects.filter(subject_citizen_id=c.pk, result="ok").count(),
    )


@pytest.fixture
def admin(registrar: Person) -> AccessContext:
    return registrar.ctx("registry.administration")


# --------------------------------------------------------------------------- correct_citizen
def test_a_correction_bumps_the_version_and_keeps_old_and_new_values(
    admin: AccessContext, an_tay_ho: Any
) -> None:
    view = correct_citizen(admin, an_tay_ho.id_number, {"full_name": "Nguyễn Văn Ân", "religion": ""}, **WHY)
    assert view.version == 2
    assert view.full_name == "Nguyễn Văn Ân"
    assert view.given_name == "Ân"
    revision = CitizenRevision.objects.get(citizen_id=view.citizen_id, version=2)
    assert revision.action == "correct"
    assert revision.actor_label == "registrar"
    assert revision.changes["full_name"] == ["Nguyễn Văn An", "Nguyễn Văn Ân"]
    assert revision.changes["given_name"] == ["An", "Ân"]
    assert revision.changes["religion"] == ["Phật giáo", ""]
    assert "name_folded" not in revision.changes  # "nguyen van an" either way
    event = AuditEvent.objects.get(action="registry.correct")
    assert event.detail == {"fields": ["full_name", "given_name", "religion"]}


def test_a_correction_keeps_the_household_role(admin: AccessContext, an_tay_ho: Any) -> None:
    correct_citizen(admin, an_tay_ho.id_number, {"religion": "Không"}, **WHY)
    citizen = Citizen.objects.get(pk=an_tay_ho.citizen_id)
    assert citizen.relationship_to_head == "head"
    assert "relationship_to_head" not in CitizenRevision.objects.get(citizen=citizen, version=2).changes


def test_a_correction_keeps_a_recorded_compound_surname(
    admin: AccessContext, register: Callable[..., Any]
) -> None:
    ninh = register(
        full_name="Tôn Nữ Thị Ninh", family_name="Tôn Nữ", sex="F", id_number=id_number(1985, "F")
    )
    view = correct_citizen(admin, ninh.id_number, {"full_name": "tôn nữ thị ninh hoà"}, **WHY)
    assert (view.family_name, view.middle_name, view.given_name) == ("Tôn Nữ", "Thị Ninh", "Hòa")
    view = correct_citizen(admin, ninh.id_number, {"religion": "Công giáo"}, **WHY)
    assert view.family_name == "Tôn Nữ"


def test_a_field_that_cannot_be_corrected_is_rejected(admin: AccessContext, an_tay_ho: Any) -> None:
    before = state(an_tay_ho)
    with pytest.raises(DomainValidationError) as exc:
        correct_citizen(
            admin,
            an_tay_ho.id_number,
            {"id_number": "001085099999", "permanent_address_text": HCM_ADDRESS, "religion": "Không"},
            **WHY,
        )
    assert rules(exc) == {("id_number", "not_correctable"), ("permanent_address_text", "not_correctable")}
    assert state(an_tay_ho) == before


def test_a_correction_that_breaks_id_number_consistency_is_rejected_and_nothing_changes(
    admin: AccessContext, an_tay_ho: Any
) -> None:
    before = state(an_tay_ho)
    with pytest.raises(DomainValidationError) as exc:
        correct_citizen(admin, an_tay_ho.id_number, {"date_of_birth": date(1990, 3, 2)}, **WHY)
    assert rules(exc) == {("id_number", "birth_year")}
    with pytest.raises(DomainValidationError) as exc:
        correct_citizen(admin, an_tay_ho.id_number, {"sex": "F"}, **WHY)
    assert rules(exc) == {("id_number", "sex")}
    assert state(an_tay_ho) == before


def test_a_correction_within_the_birth_year_is_accepted(admin: AccessContext, an_tay_ho: Any) -> None:
    view = correct_citizen(admin, an_tay_ho.id_number, {"date_of_birth": date(1985, 12, 1)}, **WHY)
    assert view.date_of_birth == date(1985, 12, 1)
    assert CitizenRevision.objects.get(citizen_id=view.citizen_id, version=2).changes == {
        "date_of_birth": ["1985-03-02", "1985-12-01"]
    }


def test_a_correction_that_changes_nothing_is_rejected(admin: AccessContext, an_tay_ho: Any) -> None:
    before = state(an_tay_ho)
    with pytest.raises(DomainValidationError) as exc:
        correct_citizen(admin, an_tay_ho.id_number, {"full_name": "  nguyễn văn an "}, **WHY)
    assert rules(exc) == {("changes", "no_change")}
    assert state(an_tay_ho) == before


def test_a_correction_with_invalid_values_names_each_field(admin: AccessContext, an_tay_ho: Any) -> None:
    with pytest.raises(DomainValidationError) as exc:
        correct_citizen(admin, an_tay_ho.id_number, {"full_name": "", "nationality": "V", "sex": "?"}, **WHY)
    assert rules(exc) == {("full_name", "required"), ("nationality", "iso3166"), ("sex", "choice")}


def test_a_correction_needs_a_reason(admin: AccessContext, an_tay_ho: Any) -> None:
    with pytest.raises(DomainValidationError) as exc:
        correct_citizen(admin, an_tay_ho.id_number, {"religion": "Không"}, reason="", legal_basis=LEGAL_BASIS)
    assert rules(exc) == {("reason", "required")}


def test_correcting_an_unknown_number_is_not_found(admin: AccessContext, an_tay_ho: Any) -> None:
    with pytest.raises(NotFound):
        correct_citizen(admin, "001085999999", {"religion": "Không"}, **WHY)


def test_ward_police_may_not_correct_a_resident_of_another_ward(
    ward_police: Person, binh_hoan_kiem: Any
) -> None:
    before = state(binh_hoan_kiem)
    with pytest.raises(AccessDenied) as exc:
        correct_citizen(
            ward_police.ctx("registry.administration"), binh_hoan_kiem.id_number, {"religion": "Không"}, **WHY
        )
    assert exc.value.rule == "jurisdiction"
    assert state(binh_hoan_kiem) == before


def test_a_refused_write_is_still_recorded_in_the_citizens_access_log(
    ward_police: Person, binh_hoan_kiem: Any
) -> None:
    """The change is rolled back but the attempt is audited, so the citizen sees who tried."""
    with pytest.raises(AccessDenied):
        move_residence(
            ward_police.ctx("registry.administration"),
            binh_hoan_kiem.id_number,
            permanent_address_text=HOAN_KIEM_ADDRESS,
            **WHY,
        )
    event = AuditEvent.objects.get(subject_citizen_id=binh_hoan_kiem.citizen_id, result="denied")
    assert (event.action, event.actor_label, event.detail) == (
        "registry.move",
        ward_police.user.username,
        {"reason": "jurisdiction"},
    )


def test_a_write_to_an_unknown_number_is_recorded_as_not_found(admin: AccessContext) -> None:
    with pytest.raises(NotFound):
        record_death(admin, "001085999999", date_of_death=date(2020, 1, 1), **WHY)
    assert AuditEvent.objects.filter(action="registry.death", result="not_found").count() == 1


def test_a_correction_under_a_read_purpose_or_by_a_hotel_is_denied(
    city_police: Person, hotel_clerk: Person, an_tay_ho: Any
) -> None:
    before = state(an_tay_ho)
    with pytest.raises(AccessDenied):
        correct_citizen(city_police.ctx("registry.lookup"), an_tay_ho.id_number, {"religion": "Không"}, **WHY)
    with pytest.raises(AccessDenied):
        correct_citizen(
            hotel_clerk.ctx("registry.administration"), an_tay_ho.id_number, {"religion": "Không"}, **WHY
        )
    assert state(an_tay_ho) == before


# --------------------------------------------------------------------------- move_residence
def test_a_move_updates_both_unit_codes_and_the_household(admin: AccessContext, an_tay_ho: Any) -> None:
    view = move_residence(
        admin,
        an_tay_ho.id_number,
        permanent_address_text=HOAN_KIEM_ADDRESS,
        household_number="HK-HK-000009",
        relationship_to_head="head",
        **WHY,
    )
    assert view.version == 2
    assert view.permanent_address is not None
    assert (view.permanent_address.legacy_ward_code, view.permanent_address.ward_code) == ("00079", "00070")
    assert view.permanent_address.province_code == HANOI
    assert view.household_number == "HK-HK-000009"
    revision = CitizenRevision.objects.get(citizen_id=view.citizen_id, version=2)
    assert revision.action == "move"
    assert revision.changes["permanent_ward_code"] == [TAY_HO_WARD, "00070"]
    assert revision.changes["household"] == ["HK-TH-000001", "HK-HK-000009"]
    assert "permanent_province_code" not in revision.changes
    assert Household.objects.get(household_number="HK-HK-000009").ward_code == "00070"
    assert AuditEvent.objects.filter(action="registry.move", subject_citizen_id=view.citizen_id).count() == 1


def test_after_a_move_the_old_ward_police_no_longer_see_the_citizen(
    admin: AccessContext, ward_police: Person, an_tay_ho: Any
) -> None:
    move_residence(admin, an_tay_ho.id_number, permanent_address_text=HOAN_KIEM_ADDRESS, **WHY)
    with pytest.raises(AccessDenied):
        get_by_id_number(ward_police.ctx("registry.lookup"), an_tay_ho.id_number)


def test_a_move_to_an_unresolvable_address_changes_nothing(admin: AccessContext, an_tay_ho: Any) -> None:
    before = state(an_tay_ho)
    with pytest.raises(DomainValidationError) as exc:
        move_residence(admin, an_tay_ho.id_number, permanent_address_text=UNRESOLVABLE_ADDRESS, **WHY)
    assert rules(exc) == {("permanent_address_text", "unresolved")}
    assert state(an_tay_ho) == before


def test_a_move_with_an_unknown_household_role_is_rejected(admin: AccessContext, an_tay_ho: Any) -> None:
    with pytest.raises(DomainValidationError) as exc:
        move_residence(
            admin,
            an_tay_ho.id_number,
            permanent_address_text=HOAN_KIEM_ADDRESS,
            relationship_to_head="lodger",
            **WHY,
        )
    assert rules(exc) == {("relationship_to_head", "choice")}


def test_a_move_with_a_household_number_longer_than_its_column_is_rejected(
    admin: AccessContext, an_tay_ho: Any
) -> None:
    before = state(an_tay_ho)
    with pytest.raises(DomainValidationError) as exc:
        move_residence(
            admin,
            an_tay_ho.id_number,
            permanent_address_text=HOAN_KIEM_ADDRESS,
            household_number="HK" * 11,
            **WHY,
        )
    assert rules(exc) == {("household_number", "length")}
    assert state(an_tay_ho) == before


def test_a_correction_to_a_missing_value_is_rejected_not_stored(admin: AccessContext, an_tay_ho: Any) -> None:
    with pytest.raises(DomainValidationError) as exc:
        correct_citizen(admin, an_tay_ho.id_number, {"religion": None}, **WHY)
    assert rules(exc) == {("religion", "type")}


def test_ward_police_may_not_move_a_resident_of_another_ward(
    ward_police: Person, binh_hoan_kiem: Any
) -> None:
    before = state(binh_hoan_kiem)
    with pytest.raises(AccessDenied):
        move_residence(
            ward_police.ctx("registry.administration"),
            binh_hoan_kiem.id_number,
            permanent_address_text=HCM_ADDRESS,
            **WHY,
        )
    assert state(binh_hoan_kiem) == before


# --------------------------------------------------------------------------- record_death
def test_recording_a_death_marks_the_citizen_deceased(admin: AccessContext, an_tay_ho: Any) -> None:
    view = record_death(admin, an_tay_ho.id_number, date_of_death=date(2025, 1, 10), **WHY)
    assert (view.life_status, view.date_of_death, view.version) == ("deceased", date(2025, 1, 10), 2)
    revision = CitizenRevision.objects.get(citizen_id=view.citizen_id, version=2)
    assert revision.action == "death"
    assert revision.changes == {"life_status": ["alive", "deceased"], "date_of_death": [None, "2025-01-10"]}


def test_after_death_only_corrections_are_accepted(admin: AccessContext, an_tay_ho: Any) -> None:
    record_death(admin, an_tay_ho.id_number, date_of_death=date(2025, 1, 10), **WHY)
    before = state(an_tay_ho)
    with pytest.raises(DomainValidationError) as exc:
        move_residence(admin, an_tay_ho.id_number, permanent_address_text=HOAN_KIEM_ADDRESS, **WHY)
    assert rules(exc) == {("id_number", "deceased")}
    with pytest.raises(DomainValidationError) as exc:
        record_death(admin, an_tay_ho.id_number, date_of_death=date(2025, 1, 11), **WHY)
    assert rules(exc) == {("id_number", "deceased")}
    with pytest.raises(DomainValidationError) as exc:
        change_id_number(admin, an_tay_ho.id_number, new_id_number=id_number(1985, "M", serial=777), **WHY)
    assert rules(exc) == {("id_number", "deceased")}
    assert state(an_tay_ho) == before
    assert correct_citizen(admin, an_tay_ho.id_number, {"religion": "Không"}, **WHY).version == 3


def test_a_death_before_birth_is_rejected_and_nothing_changes(admin: AccessContext, an_tay_ho: Any) -> None:
    before = state(an_tay_ho)
    with pytest.raises(DomainValidationError) as exc:
        record_death(admin, an_tay_ho.id_number, date_of_death=date(1985, 3, 1), **WHY)
    assert rules(exc) == {("date_of_death", "before_birth")}
    assert state(an_tay_ho) == before


def test_a_death_in_the_future_is_rejected(admin: AccessContext, an_tay_ho: Any) -> None:
    with pytest.raises(DomainValidationError) as exc:
        record_death(
            admin, an_tay_ho.id_number, date_of_death=timezone.localdate() + timedelta(days=1), **WHY
        )
    assert rules(exc) == {("date_of_death", "future")}


def test_a_hotel_clerk_may_not_record_a_death(hotel_clerk: Person, an_tay_ho: Any) -> None:
    with pytest.raises(AccessDenied):
        record_death(
            hotel_clerk.ctx("registry.administration"),
            an_tay_ho.id_number,
            date_of_death=date(2025, 1, 10),
            **WHY,
        )
    assert Citizen.objects.get(pk=an_tay_ho.citizen_id).life_status == "alive"


# --------------------------------------------------------------------------- change_id_number
def test_a_new_id_number_after_a_change_of_sex_keeps_the_old_one_findable(
    admin: AccessContext, city_police: Person, an_tay_ho: Any
) -> None:
    citizen = Citizen.objects.get(pk=an_tay_ho.citizen_id)
    card = IdentityCard.objects.create(
        citizen=citizen,
        kind="cccd_chip",
        card_number=citizen.id_number,
        issued_on=date(2021, 5, 1),
        expires_on=date(2025, 3, 2),
    )
    old, new = an_tay_ho.id_number, id_number(1985, "F", serial=555555)

    view = change_id_number(admin, old, new_id_number=new, new_sex="F", **WHY)

    assert (view.id_number, view.sex, view.version) == (new, "F", 2)
    assert view.previous_id_numbers == [old]
    card.refresh_from_db()
    assert card.status == IdentityCard.Status.REPLACED
    found = get_by_id_number(city_police.ctx("registry.lookup"), old)
    assert (found.citizen_id, found.id_number) == (an_tay_ho.citizen_id, new)
    assert get_by_id_number(city_police.ctx("registry.lookup"), new).citizen_id == an_tay_ho.citizen_id
    revision = CitizenRevision.objects.get(citizen=citizen, version=2)
    assert (revision.action, revision.changes) == ("id_change", {"id_number": [old, new], "sex": ["M", "F"]})
    assert IdNumberChange.objects.get(citizen=citizen).old_number == old
    assert history(city_police.ctx("registry.lookup"), old)[0].action == "id_change"


def test_a_new_number_inconsistent_with_the_record_is_rejected(admin: AccessContext, an_tay_ho: Any) -> None:
    before = state(an_tay_ho)
    with pytest.raises(DomainValidationError) as exc:
        change_id_number(admin, an_tay_ho.id_number, new_id_number=id_number(1985, "F", serial=9), **WHY)
    assert rules(exc) == {("new_id_number", "sex")}
    with pytest.raises(DomainValidationError) as exc:
        change_id_number(admin, an_tay_ho.id_number, new_id_number="12", **WHY)
    assert {f for f, _ in rules(exc)} == {"new_id_number"}
    with pytest.raises(DomainValidationError) as exc:
        change_id_number(
            admin, an_tay_ho.id_number, new_id_number=id_number(1985, "M", serial=9), new_sex="X", **WHY
        )
    assert rules(exc) == {("new_sex", "choice")}
    assert state(an_tay_ho) == before


def test_a_number_in_use_or_used_before_cannot_be_given_again(
    admin: AccessContext, an_tay_ho: Any, register: Callable[..., Any]
) -> None:
    other = register(id_number=id_number(1985, "M", serial=424242), household_number="HK-TH-000002")
    with pytest.raises(DomainValidationError) as exc:
        change_id_number(admin, an_tay_ho.id_number, new_id_number=other.id_number, **WHY)
    assert rules(exc) == {("new_id_number", "unique")}
    old = an_tay_ho.id_number
    new = id_number(1985, "M", serial=111111)
    change_id_number(admin, old, new_id_number=new, **WHY)
    with pytest.raises(DomainValidationError) as exc:
        change_id_number(admin, other.id_number, new_id_number=old, **WHY)
    assert rules(exc) == {("new_id_number", "unique")}


def test_a_new_number_with_another_place_code_updates_the_birth_registration_code_in_the_same_revision(
    admin: AccessContext, an_tay_ho: Any
) -> None:
    """The birth-registration code is read from the number; it must not change silently in a
    later, unrelated correction."""
    new = id_number(1985, "M", place="079", serial=777777)
    view = change_id_number(admin, an_tay_ho.id_number, new_id_number=new, **WHY)
    assert view.birth_registration_code == "079"
    revision = CitizenRevision.objects.get(citizen_id=view.citizen_id, version=2)
    assert revision.changes["birth_registration_code"] == ["001", "079"]
    correct_citizen(admin, new, {"religion": "Không"}, **WHY)
    assert CitizenRevision.objects.get(citizen_id=view.citizen_id, version=3).changes == {
        "religion": ["Phật giáo", "Không"]
    }
