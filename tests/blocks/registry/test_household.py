"""Household members (Law on Residence 2020 Art. 24): an official who may see a citizen's
household sees its members, head first; every member shown is recorded in their own access log;
a purpose that may not see households (data cleaning) is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry.services import household_members
from dancu.errors import AccessDenied
from tests.blocks.registry.conftest import id_number
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("adminunits")


@pytest.fixture
def family(register: Callable[..., Any]) -> dict[str, Any]:
    """Nguyễn Văn An (head), his wife Trần Thị Bình and their son, one household in Tây Hồ."""
    head = register()
    wife = register(
        id_number=id_number(1987, "F", serial=424242),
        full_name="Trần Thị Bình",
        date_of_birth=date(1987, 5, 1),
        sex="F",
        relationship_to_head="spouse",
    )
    son = register(
        id_number=id_number(2012, "M", serial=515151),
        full_name="Nguyễn Văn Cường",
        date_of_birth=date(2012, 9, 9),
        sex="M",
        relationship_to_head="child",
    )
    return {"head": head, "wife": wife, "son": son}


def test_an_officer_sees_the_household_head_first_and_each_member_shown_is_audited(
    city_police: Person, family: dict[str, Any]
) -> None:
    members = household_members(city_police.ctx("registry.lookup"), family["son"].id_number)

    assert [(m.full_name, m.relationship_to_head) for m in members] == [
        ("Nguyễn Văn An", "head"),
        ("Trần Thị Bình", "spouse"),
        ("Nguyễn Văn Cường", "child"),
    ]
    for person in family.values():
        assert AuditEvent.objects.filter(
            subject_citizen_id=person.citizen_id, action="registry.household_member", result="ok"
        ).exists()


def test_data_cleaning_may_not_list_a_household_and_the_refusal_is_audited(
    city_police: Person, family: dict[str, Any]
) -> None:
    with pytest.raises(AccessDenied) as exc:
        household_members(city_police.ctx("data.cleaning"), family["head"].id_number)
    assert exc.value.rule == "fields"
    assert AuditEvent.objects.filter(action="registry.household", result="denied").count() == 1


def test_a_hotel_clerk_may_not_list_a_household(hotel_clerk: Person, family: dict[str, Any]) -> None:
    with pytest.raises(AccessDenied):
        household_members(hotel_clerk.ctx("registry.lookup"), family["head"].id_number)
