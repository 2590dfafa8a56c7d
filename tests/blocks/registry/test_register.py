"""Registering a citizen: every field is checked and every problem is reported at once; a
registration is revision 1 of the record, is audited, and places the citizen in a household."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry.models import Citizen, CitizenRevision, Household, OldIdNumber
from dancu.blocks.registry.services import register_citizen
from dancu.errors import AccessDenied, DomainValidationError
from tests.blocks.registry.conftest import (
    HOAN_KIEM_ADDRESS,
    LEGAL_BASIS,
    REASON,
    TAY_HO_ADDRESS,
    UNRESOLVABLE_ADDRESS,
    id_number,
)
from tests.conftest import HANOI, TAY_HO_WARD, Person

pytestmark = pytest.mark.usefixtures("adminunits")


def snapshot() -> dict[str, int]:
    return {
        "citizens": Citizen.objects.count(),
        "revisions": CitizenRevision.objects.count(),
        "households": Household.objects.count(),
        "old_ids": OldIdNumber.objects.count(),
        "events": AuditEvent.objects.exclude(result=AuditEvent.Result.DENIED).count(),
    }


def problems(exc: pytest.ExceptionInfo[DomainValidationError]) -> set[tuple[str, str]]:
    return {(p.field, p.rule) for p in exc.value.problems}


def test_registering_creates_revision_1_an_audit_event_and_the_household(
    registrar: Person, new_citizen: Callable[..., Any]
) -> None:
    view = register_citizen(
        registrar.ctx("registry.administration"),
        new_citizen(old_id_numbers=("012345678",)),
        reason=REASON,
        legal_basis=LEGAL_BASIS,
    )

    assert view.version == 1
    assert (view.full_name, view.family_name, view.middle_name, view.given_name) == (
        "Nguyễn Văn An",
        "Nguyễn",
        "Văn",
        "An",
    )
    assert view.birth_registration_code == "001"
    assert view.permanent_address is not None
    assert view.permanent_address.legacy_ward_code == "00100"
    assert view.permanent_address.ward_code == TAY_HO_WARD
    assert view.permanent_address.province_code == HANOI
    assert view.household_number == "HK-TH-000001"
    assert view.old_id_numbers == ["012345678"]

    citizen = Citizen.objects.get(pk=view.citizen_id)
    assert citizen.name_folded == "nguyen van an"
    [revision] = CitizenRevision.objects.filter(citizen=citizen)
    assert (revision.version, revision.action) == (1, "register")
    assert (revision.actor_label, revision.organisation_name) == ("registrar", "Công an thành phố Hà Nội")
    assert (revision.reason, revision.legal_basis) == (REASON, LEGAL_BASIS)
    assert revision.changes["full_name"] == [None, "Nguyễn Văn An"]
    assert revision.changes["date_of_birth"] == [None, "1985-03-02"]
    [event] = AuditEvent.objects.filter(subject_citizen_id=citizen.pk)
    assert (event.action, event.purpose, event.result) == (
        "registry.register",
        "registry.administration",
        "ok",
    )
    assert event.actor_user_id == registrar.user.pk
    household = Household.objects.get(household_number="HK-TH-000001")
    assert (household.ward_code, household.legacy_ward_code) == (TAY_HO_WARD, "00100")
    assert citizen.household == household
    assert citizen.relationship_to_head == "head"


def test_a_second_member_joins_the_existing_household(register: Callable[..., Any]) -> None:
    register()
    wife = register(
        id_number=id_number(1987, "F", serial=1),
        full_name="Phạm Thị Lan",
        date_of_birth=date(1987, 5, 5),
        sex="F",
        relationship_to_head="spouse",
    )
    assert wife.household_number == "HK-TH-000001"
    assert Household.objects.count() == 1
    assert Household.objects.get().members.count() == 2


def test_the_name_is_stored_normalised(register: Callable[..., Any]) -> None:
    view = register(full_name="  nguyễn   thị hoà ", sex="F", id_number=id_number(1985, "F"))
    assert view.full_name == "Nguyễn Thị Hòa"
    assert Citizen.objects.get(pk=view.citizen_id).name_folded == "nguyen thi hoa"


def test_a_compound_surname_is_recorded_when_given(register: Callable[..., Any]) -> None:
    view = register(
        full_name="Tôn Nữ Thị Ninh", family_name="Tôn Nữ", sex="F", id_number=id_number(1985, "F")
    )
    assert (view.family_name, view.middle_name, view.given_name) == ("Tôn Nữ", "Thị", "Ninh")


def test_a_surname_that_does_not_begin_the_full_name_is_rejected(register: Callable[..., Any]) -> None:
    with pytest.raises(DomainValidationError) as exc:
        register(full_name="Nguyễn Văn An", family_name="Trần")
    assert problems(exc) == {("family_name", "prefix")}
    assert not Citizen.objects.exists()


def test_a_citizen_without_an_address_has_no_household_unless_given(register: Callable[..., Any]) -> None:
    view = register(permanent_address_text="", household_number="", relationship_to_head="")
    assert view.permanent_address is None
    assert view.household_number is None
    assert Household.objects.count() == 0


def test_a_duplicate_id_number_is_rejected_and_nothing_changes(
    register: Callable[..., Any], system_ctx: Callable[[str], AccessContext], new_citizen: Callable[..., Any]
) -> None:
    first = register()
    before = snapshot()
    with pytest.raises(DomainValidationError) as exc:
        register_citizen(
            system_ctx("registry.administration"),
            new_citizen(
                full_name="Người Khác", permanent_address_text=HOAN_KIEM_ADDRESS, household_number="HK-2"
            ),
            reason=REASON,
            legal_basis=LEGAL_BASIS,
        )
    assert problems(exc) == {("id_number", "unique")}
    assert snapshot() == before
    assert Citizen.objects.get(pk=first.citizen_id).full_name == "Nguyễn Văn An"
    assert not Household.objects.filter(household_number="HK-2").exists()


def test_a_date_of_birth_in_the_future_is_rejected(register: Callable[..., Any]) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(DomainValidationError) as exc:
        register(date_of_birth=tomorrow, id_number=id_number(tomorrow.year, "M"))
    assert problems(exc) == {("date_of_birth", "future")}
    assert not Citizen.objects.exists()


def test_a_date_of_birth_before_1900_is_rejected(register: Callable[..., Any]) -> None:
    with pytest.raises(DomainValidationError) as exc:
        register(date_of_birth=date(1899, 12, 31), id_number="001099012345")
    assert problems(exc) == {("date_of_birth", "too_early")}


def test_precision_month_requires_the_first_day_of_the_month(register: Callable[..., Any]) -> None:
    with pytest.raises(DomainValidationError) as exc:
        register(date_of_birth=date(1985, 3, 2), dob_precision="month")
    assert problems(exc) == {("date_of_birth", "precision")}
    view = register(date_of_birth=date(1985, 3, 1), dob_precision="month")
    assert (view.date_of_birth, view.dob_precision) == (date(1985, 3, 1), "month")


def test_precision_year_requires_the_first_of_january(register: Callable[..., Any]) -> None:
    with pytest.raises(DomainValidationError) as exc:
        register(date_of_birth=date(1985, 3, 1), dob_precision="year")
    assert problems(exc) == {("date_of_birth", "precision")}
    assert register(date_of_birth=date(1985, 1, 1), dob_precision="year").dob_precision == "year"


def test_an_id_number_that_contradicts_the_date_of_birth_is_rejected(register: Callable[..., Any]) -> None:
    with pytest.raises(DomainValidationError) as exc:
        register(id_number="001200123456")
    assert problems(exc) == {("id_number", "century")}
    assert str(exc.value) == (
        "id_number: 001200123456: century/sex digit 2 means born 2000–2099, but date of birth is 1985-03-02"
    )


def test_every_bad_field_is_reported_in_one_error_and_nothing_is_stored(register: Callable[..., Any]) -> None:
    before = snapshot()
    with pytest.raises(DomainValidationError) as exc:
        register(
            id_number="00108501234x",
            full_name="An 2",
            sex="X",
            dob_precision="week",
            nationality="Vietnam",
            old_id_numbers=("012345678", "123"),
            relationship_to_head="boss",
            permanent_address_text=UNRESOLVABLE_ADDRESS,
        )
    assert problems(exc) == {
        ("id_number", "digits"),
        ("full_name", "characters"),
        ("sex", "choice"),
        ("dob_precision", "choice"),
        ("nationality", "iso3166"),
        ("old_id_numbers[1]", "length"),
        ("relationship_to_head", "choice"),
        ("permanent_address_text", "unresolved"),
    }
    assert snapshot() == before


def test_an_address_that_resolves_to_no_unit_is_rejected_and_nothing_stored(
    register: Callable[..., Any],
) -> None:
    before = snapshot()
    with pytest.raises(DomainValidationError) as exc:
        register(permanent_address_text=UNRESOLVABLE_ADDRESS)
    assert problems(exc) == {("permanent_address_text", "unresolved")}
    assert snapshot() == before


def test_a_temporary_address_is_resolved_too(register: Callable[..., Any]) -> None:
    view = register(temporary_address_text=HOAN_KIEM_ADDRESS)
    assert view.temporary_address is not None
    assert view.temporary_address.ward_code == "00070"
    with pytest.raises(DomainValidationError) as exc:
        register(id_number=id_number(1985, "M", serial=2), temporary_address_text=UNRESOLVABLE_ADDRESS)
    assert problems(exc) == {("temporary_address_text", "unresolved")}


def test_a_registration_needs_a_reason_and_a_legal_basis(
    system_ctx: Callable[[str], AccessContext], new_citizen: Callable[..., Any]
) -> None:
    with pytest.raises(DomainValidationError) as exc:
        register_citizen(system_ctx("registry.administration"), new_citizen(), reason=" ", legal_basis="")
    assert problems(exc) == {("reason", "required"), ("legal_basis", "required")}
    assert not Citizen.objects.exists()


def test_a_hotel_clerk_may_not_register_and_the_attempt_is_audited(
    hotel_clerk: Person, new_citizen: Callable[..., Any]
) -> None:
    with pytest.raises(AccessDenied):
        register_citizen(
            hotel_clerk.ctx("registry.administration"), new_citizen(), reason=REASON, legal_basis=LEGAL_BASIS
        )
    assert not Citizen.objects.exists()
    [event] = AuditEvent.objects.all()
    assert (event.action, event.result, event.actor_label) == ("registry.register", "denied", "clerk.hotel")


def test_registering_under_a_read_purpose_is_denied(
    city_police: Person, new_citizen: Callable[..., Any]
) -> None:
    with pytest.raises(AccessDenied, match=r"does not allow registry\.register"):
        register_citizen(
            city_police.ctx("registry.lookup"), new_citizen(), reason=REASON, legal_basis=LEGAL_BASIS
        )
    assert not Citizen.objects.exists()


def test_an_outsider_may_not_register(outsider: Person, new_citizen: Callable[..., Any]) -> None:
    with pytest.raises(AccessDenied):
        register_citizen(
            outsider.ctx("registry.administration"), new_citizen(), reason=REASON, legal_basis=LEGAL_BASIS
        )
    assert not Citizen.objects.exists()


def test_the_permanent_address_text_is_kept_as_given(register: Callable[..., Any]) -> None:
    view = register()
    assert view.permanent_address is not None
    assert "Quảng An" in view.permanent_address.text
    assert TAY_HO_ADDRESS.split(",")[0] in view.permanent_address.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("religion", "Đạo " * 11),
        ("ethnicity", "Kinh" * 11),
        ("origin_text", "Xã Yên Sở, Huyện Hoài Đức, Hà Nội " * 8),
        ("household_number", "HK-" + "9" * 18),
        ("permanent_address_text", "Số 5 " + "ngõ 12 " * 40 + ", Phường Quảng An, Quận Tây Hồ, Hà Nội"),
    ],
)
def test_text_longer_than_its_column_is_rejected_naming_the_field(
    register: Callable[..., Any], field: str, value: str
) -> None:
    """The same rule on SQLite (which would store it) and PostgreSQL (which would fail with a 500)."""
    before = snapshot()
    with pytest.raises(DomainValidationError) as exc:
        register(**{field: value})
    assert problems(exc) == {(field, "length")}
    assert snapshot() == before
