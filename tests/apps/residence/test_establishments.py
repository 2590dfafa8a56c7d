"""Establishments: each kind, address in its current ward, capacity, owner, staff and the police
unit responsible (the ward police of the address)."""

from __future__ import annotations

from typing import Any

import pytest

from dancu.apps.residence import services
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.apps.residence.conftest import HOAN_KIEM_ADDRESS, TAY_HO_HOTEL_ADDRESS
from tests.conftest import TAY_HO_WARD, Person


def test_a_hotel_lies_in_its_current_ward_and_the_ward_police_are_responsible(
    hotel: services.EstablishmentView, ward_police: Person, hotel_clerk: Person
) -> None:
    assert hotel.ward_code == TAY_HO_WARD and hotel.province_code == "01"
    assert hotel.ward_label == "Phường Tây Hồ, Thành phố Hà Nội"
    assert hotel.police_organisation_id == ward_police.actor.organisation_id
    assert hotel.police_organisation_name == "Công an phường Tây Hồ"
    assert (hotel.rooms, hotel.beds, hotel.capacity) == (10, 20, 20)
    mine = services.establishment_for(hotel_clerk.actor)
    assert mine.staff == (("clerk.hotel", "clerk"),)


@pytest.mark.parametrize(
    ("kind", "org_kind", "capacity"),
    [
        ("hotel", "hotel", {"rooms": 5, "beds": 10}),
        ("guest_house", "hotel", {"rooms": 5, "beds": 10}),
        ("homestay", "hotel", {"rooms": 2, "beds": 4}),
        ("apartment", "hotel", {"rooms": 1, "beds": 2}),
        ("tourist_boat", "hotel", {"rooms": 8, "beds": 16}),
        ("boarding_house", "hotel", {"rooms": 6, "beds": 12}),
        ("rental_room", "hotel", {"rooms": 1, "beds": 2}),
        ("iz_dormitory", "hotel", {"rooms": 50, "beds": 400}),
        ("hospital", "clinic", {"beds": 300}),
        ("coach_operator", "transport", {"seats": 45}),
    ],
)
def test_every_kind_of_establishment_registers_with_its_capacity(
    adminunits_ready: None, make_person: Any, kind: str, org_kind: str, capacity: dict[str, int]
) -> None:
    owner = make_person(f"staff.{kind}", org_code=f"EST-{kind}", kind=org_kind, role="clerk", province="01")
    view = services.register_establishment(
        owner.actor.organisation_id,
        kind=kind,
        name=f"Cơ sở {kind}",
        address=HOAN_KIEM_ADDRESS,
        owner_name="Chủ cơ sở",
        **capacity,
    )
    assert view.kind == kind and view.ward_code == "00070"
    assert view.police_organisation_id is None  # no ward police unit registered in this test


def test_registration_errors_name_the_field_and_rule(adminunits_ready: None, hotel_clerk: Person) -> None:
    with pytest.raises(DomainValidationError) as exc:
        services.register_establishment(
            hotel_clerk.actor.organisation_id or 0,
            kind="hospital",
            name="",
            address="nowhere at all",
            owner_name="X",
            rooms=1,
            beds=0,
        )
    rules = {(p.field, p.rule) for p in exc.value.problems}
    assert ("kind", "organisation_kind") in rules  # a hotel's organisation cannot run a hospital
    assert ("name", "required") in rules
    assert ("address", "unresolved") in rules


def test_a_second_establishment_for_one_organisation_is_refused(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    with pytest.raises(DomainValidationError) as exc:
        services.register_establishment(
            hotel_clerk.actor.organisation_id or 0,
            kind="hotel",
            name="Chi nhánh",
            address=TAY_HO_HOTEL_ADDRESS,
            owner_name="X",
            rooms=1,
            beds=1,
        )
    assert exc.value.problems[0].rule == "unique"


def test_staff_without_an_establishment_see_none(outsider: Person, ward_police: Person) -> None:
    with pytest.raises(NotFound):
        services.establishment_for(outsider.actor)
    with pytest.raises(AccessDenied) as exc:
        services.live_guests(ward_police.ctx("residence.notification"))
    assert exc.value.rule == "policy"
