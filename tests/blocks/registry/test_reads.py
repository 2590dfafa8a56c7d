"""Reading the registry: a purpose is required and must fit the operation and the actor's
organisation; results are limited to the actor's jurisdiction and to the fields the purpose
allows (least data); every read, miss and denial is audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry.models import Citizen, IdentityCard
from dancu.blocks.registry.services import get_by_id_number, get_by_old_id_number, search
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.blocks.registry.conftest import HOAN_KIEM_ADDRESS, id_number
from tests.conftest import TAY_HO_WARD, Person

pytestmark = pytest.mark.usefixtures("adminunits")

UNKNOWN_NUMBER = "001099999999"


def events(**filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).exclude(action="registry.register").order_by("id"))


# --------------------------------------------------------------------------- get_by_id_number
def test_city_police_look_up_a_hanoi_resident_and_the_read_is_audited(
    city_police: Person, an_tay_ho: Any
) -> None:
    view = get_by_id_number(city_police.ctx("registry.lookup", case_reference="HS-1"), an_tay_ho.id_number)
    assert view.citizen_id == an_tay_ho.citizen_id
    assert view.full_name == "Nguyễn Văn An"
    assert view.religion == "Phật giáo"
    assert view.fields_withheld == []
    [event] = events()
    assert (event.action, event.result, event.purpose) == ("registry.read", "ok", "registry.lookup")
    assert (event.subject_citizen_id, event.case_reference) == (an_tay_ho.citizen_id, "HS-1")
    assert event.actor_user_id == city_police.user.pk
    assert event.detail == {"by": "id_number"}


def test_ward_police_see_a_resident_of_their_ward(ward_police: Person, an_tay_ho: Any) -> None:
    view = get_by_id_number(ward_police.ctx("registry.lookup"), an_tay_ho.id_number)
    assert view.permanent_address is not None
    assert view.permanent_address.ward_code == TAY_HO_WARD


def test_ward_police_are_denied_a_resident_of_another_ward_and_the_denial_is_audited(
    ward_police: Person, binh_hoan_kiem: Any
) -> None:
    with pytest.raises(AccessDenied) as exc:
        get_by_id_number(ward_police.ctx("registry.lookup"), binh_hoan_kiem.id_number)
    assert (exc.value.field, exc.value.rule) == ("id_number", "jurisdiction")
    [event] = events()
    assert (event.action, event.result, event.subject_citizen_id) == (
        "registry.read",
        "denied",
        binh_hoan_kiem.citizen_id,
    )
    assert event.detail == {"reason": "jurisdiction"}


def test_city_police_are_denied_a_resident_of_another_province(city_police: Person, cuong_hcm: Any) -> None:
    with pytest.raises(AccessDenied):
        get_by_id_number(city_police.ctx("registry.lookup"), cuong_hcm.id_number)
    assert [e.result for e in events()] == ["denied"]


def test_a_hotel_clerk_may_not_look_up_the_registry(hotel_clerk: Person, an_tay_ho: Any) -> None:
    with pytest.raises(AccessDenied) as exc:
        get_by_id_number(hotel_clerk.ctx("registry.lookup"), an_tay_ho.id_number)
    assert (exc.value.field, exc.value.rule) == ("purpose", "not_allowed")
    assert "may not use purpose 'registry.lookup'" in str(exc.value)
    [event] = events()
    assert (event.actor_label, event.result, event.subject_citizen_id) == ("clerk.hotel", "denied", None)


def test_a_hotel_clerk_gets_nothing_with_their_own_purpose_either(
    hotel_clerk: Person, an_tay_ho: Any
) -> None:
    with pytest.raises(AccessDenied, match=r"does not allow registry\.read"):
        get_by_id_number(hotel_clerk.ctx("identity.verification"), an_tay_ho.id_number)


def test_an_outsider_is_denied(outsider: Person, an_tay_ho: Any) -> None:
    with pytest.raises(AccessDenied):
        get_by_id_number(outsider.ctx("registry.lookup"), an_tay_ho.id_number)
    assert [(e.actor_label, e.result) for e in events()] == [("outsider", "denied")]


def test_an_unknown_purpose_is_a_validation_error_on_field_purpose(
    city_police: Person, an_tay_ho: Any
) -> None:
    with pytest.raises(DomainValidationError) as exc:
        get_by_id_number(city_police.ctx("curiosity"), an_tay_ho.id_number)
    assert [(p.field, p.rule) for p in exc.value.problems] == [("purpose", "unknown_purpose")]


def test_a_purpose_that_does_not_fit_the_operation_is_denied_even_to_police(
    city_police: Person, system_ctx: Callable[[str], AccessContext], an_tay_ho: Any
) -> None:
    with pytest.raises(AccessDenied, match=r"'residence\.notification' does not allow registry\.read"):
        get_by_id_number(city_police.ctx("residence.notification"), an_tay_ho.id_number)
    with pytest.raises(AccessDenied):
        get_by_id_number(system_ctx("residence.notification"), an_tay_ho.id_number)
    assert [e.result for e in events()] == ["denied", "denied"]


def test_an_unknown_number_is_not_found_and_the_miss_is_audited(city_police: Person, an_tay_ho: Any) -> None:
    with pytest.raises(NotFound) as exc:
        get_by_id_number(city_police.ctx("registry.lookup"), UNKNOWN_NUMBER)
    assert exc.value.field == "id_number"
    assert UNKNOWN_NUMBER not in str(exc.value)  # never echoes the number back
    [event] = events()
    assert (event.action, event.result, event.subject_citizen_id) == ("registry.read", "not_found", None)


def test_a_malformed_number_is_a_validation_error(city_police: Person) -> None:
    with pytest.raises(DomainValidationError) as exc:
        get_by_id_number(city_police.ctx("registry.lookup"), "12345")
    assert [p.field for p in exc.value.problems] == ["id_number"]


# --------------------------------------------------------------------------- least data per purpose
def test_data_cleaning_withholds_religion_ethnicity_cards_and_household(
    city_police: Person, an_tay_ho: Any
) -> None:
    citizen = Citizen.objects.get(pk=an_tay_ho.citizen_id)
    IdentityCard.objects.create(
        citizen=citizen,
        kind="cccd_chip",
        card_number=citizen.id_number,
        issued_on=date(2021, 5, 1),
        expires_on=date(2025, 3, 2),
    )
    view = get_by_id_number(city_police.ctx("data.cleaning"), an_tay_ho.id_number)
    assert view.religion is None
    assert view.ethnicity is None
    assert view.cards is None
    assert view.household_number is None
    assert view.relationship_to_head is None
    assert {"religion", "ethnicity", "cards", "household_number"} <= set(view.fields_withheld)
    # what data cleaning needs is there
    assert view.date_of_birth == date(1985, 3, 2)
    assert view.sex == "M"
    assert view.permanent_address is not None
    assert view.old_id_numbers == ["012345678"]
    assert view.life_status == "alive"


def test_public_service_processing_withholds_religion_only(city_police: Person, an_tay_ho: Any) -> None:
    view = get_by_id_number(city_police.ctx("public_service.processing"), an_tay_ho.id_number)
    assert view.religion is None
    assert view.fields_withheld == ["religion"]
    assert view.ethnicity == "Kinh"
    assert view.household_number == "HK-TH-000001"


def test_registry_lookup_sees_cards(city_police: Person, an_tay_ho: Any) -> None:
    citizen = Citizen.objects.get(pk=an_tay_ho.citizen_id)
    IdentityCard.objects.create(
        citizen=citizen,
        kind="cccd_chip",
        card_number=citizen.id_number,
        issued_on=date(2021, 5, 1),
        expires_on=date(2025, 3, 2),
    )
    view = get_by_id_number(city_police.ctx("registry.lookup"), an_tay_ho.id_number)
    assert view.cards is not None
    assert [(c.kind, c.status) for c in view.cards] == [("cccd_chip", "valid")]


# --------------------------------------------------------------------------- get_by_old_id_number
def test_an_old_cmnd_number_finds_the_citizen(city_police: Person, an_tay_ho: Any) -> None:
    view = get_by_old_id_number(city_police.ctx("registry.lookup"), "012345678")
    assert view.id_number == an_tay_ho.id_number
    [event] = events()
    assert event.detail == {"by": "old_id_number"}


def test_an_unknown_old_number_is_not_found_naming_old_id_number(city_police: Person, an_tay_ho: Any) -> None:
    with pytest.raises(NotFound) as exc:
        get_by_old_id_number(city_police.ctx("registry.lookup"), "999999999")
    assert exc.value.field == "old_id_number"
    assert [e.result for e in events()] == ["not_found"]


def test_a_malformed_old_number_names_old_id_number(city_police: Person) -> None:
    with pytest.raises(DomainValidationError) as exc:
        get_by_old_id_number(city_police.ctx("registry.lookup"), "12345")
    assert [(p.field, p.rule) for p in exc.value.problems] == [("old_id_number", "length")]


def test_old_number_lookup_is_jurisdiction_scoped_and_denied_to_hotels(
    ward_police: Person, hotel_clerk: Person, register: Callable[..., Any]
) -> None:
    register(permanent_address_text=HOAN_KIEM_ADDRESS, old_id_numbers=("087654321",))
    with pytest.raises(AccessDenied):
        get_by_old_id_number(ward_police.ctx("registry.lookup"), "087654321")
    with pytest.raises(AccessDenied):
        get_by_old_id_number(hotel_clerk.ctx("registry.lookup"), "087654321")


# --------------------------------------------------------------------------- search
@pytest.fixture
def three_ans(register: Callable[..., Any]) -> list[Any]:
    """Three people called Nguyễn Văn An: two in Tây Hồ, one in Hoàn Kiếm; and one Nguyễn Văn Anh."""
    return [
        register(),
        register(
            id_number=id_number(1992, "M", serial=2),
            date_of_birth=date(1992, 6, 1),
            household_number="HK-TH-000002",
        ),
        register(
            id_number=id_number(1978, "M", serial=3),
            date_of_birth=date(1978, 9, 9),
            permanent_address_text=HOAN_KIEM_ADDRESS,
            household_number="HK-HK-000003",
        ),
        register(
            id_number=id_number(1985, "M", serial=4),
            full_name="Nguyễn Văn Anh",
            household_number="HK-TH-000004",
        ),
    ]


@pytest.mark.parametrize("query", ["nguyen van an", "NGUYỄN VĂN AN", "Nguyen  Van An", "nguyễn văn an"])
def test_search_is_accent_and_case_insensitive(city_police: Person, three_ans: list[Any], query: str) -> None:
    found = search(city_police.ctx("registry.lookup"), query)
    assert {s.full_name for s in found} == {"Nguyễn Văn An"}
    assert len(found) == 3


def test_without_a_date_of_birth_the_whole_name_must_match(city_police: Person, three_ans: list[Any]) -> None:
    assert search(city_police.ctx("registry.lookup"), "nguyen van") == []


def test_with_a_date_of_birth_a_name_prefix_is_enough(city_police: Person, three_ans: list[Any]) -> None:
    found = search(city_police.ctx("registry.lookup"), "nguyen van", date(1985, 3, 2))
    assert sorted(s.full_name for s in found) == ["Nguyễn Văn An", "Nguyễn Văn Anh"]
    assert search(city_police.ctx("registry.lookup"), "nguyen van", date(1985, 3, 3)) == []


def test_search_is_scoped_to_the_jurisdiction(
    ward_police: Person, city_police: Person, three_ans: list[Any], cuong_hcm: Any
) -> None:
    in_ward = search(ward_police.ctx("registry.lookup"), "nguyen van an")
    assert {s.permanent_ward_code for s in in_ward} == {TAY_HO_WARD}
    assert len(in_ward) == 2
    assert search(city_police.ctx("registry.lookup"), "le van cuong") == []


def test_every_citizen_shown_by_a_search_is_audited(city_police: Person, three_ans: list[Any]) -> None:
    found = search(city_police.ctx("registry.lookup"), "nguyen van an")
    hits = events(action="registry.search_hit")
    assert sorted(e.subject_citizen_id for e in hits) == sorted(s.citizen_id for s in found)
    assert all(e.detail == {"results": 3} and e.purpose == "registry.lookup" for e in hits)


def test_a_search_that_finds_nobody_records_no_subject(city_police: Person, three_ans: list[Any]) -> None:
    assert search(city_police.ctx("registry.lookup"), "tran van zzz") == []
    assert events(action="registry.search_hit") == []


def test_search_results_are_limited_oldest_first(city_police: Person, three_ans: list[Any]) -> None:
    found = search(city_police.ctx("registry.lookup"), "nguyen van an", limit=2)
    assert [s.date_of_birth for s in found] == [date(1978, 9, 9), date(1985, 3, 2)]
    assert len(events(action="registry.search_hit")) == 2
    assert len(search(city_police.ctx("registry.lookup"), "nguyen van an", limit=0)) == 1  # at least one


def test_search_by_a_hotel_clerk_or_outsider_is_denied(
    hotel_clerk: Person, outsider: Person, three_ans: list[Any]
) -> None:
    for person in (hotel_clerk, outsider):
        with pytest.raises(AccessDenied):
            search(person.ctx("registry.lookup"), "nguyen van an")
    assert [e.result for e in events()] == ["denied", "denied"]


def test_search_rejects_a_bad_name_naming_the_name_field(city_police: Person) -> None:
    with pytest.raises(DomainValidationError) as exc:
        search(city_police.ctx("registry.lookup"), "An 2")
    assert [(p.field, p.rule) for p in exc.value.problems] == [("name", "characters")]


def test_search_rejects_a_date_of_birth_in_the_future(city_police: Person) -> None:
    with pytest.raises(DomainValidationError) as exc:
        search(city_police.ctx("registry.lookup"), "nguyen van an", timezone.localdate() + timedelta(days=1))
    assert [(p.field, p.rule) for p in exc.value.problems] == [("date_of_birth", "future")]


def test_a_search_summary_carries_no_sensitive_fields(city_police: Person, three_ans: list[Any]) -> None:
    [summary, *_] = search(city_police.ctx("registry.lookup"), "nguyen van an")
    assert not hasattr(summary, "religion")
    assert not hasattr(summary, "ethnicity")
