"""Shared by the guardianship tests of the registry block (``tests/blocks/registry``), of the desk
(``tests/apps/guardianship``) and of its browser test: the family and the commune officers who
record guardianships and restrictions of a parent's rights (ADR 0017).

The family (the eID fixtures, all of Phường Tây Hồ, ward 00103): Nguyễn Văn An (``AN_ID``), father
of Khôi, 4 (``KHOI_ID``) and Hà, 10 (``HA_ID``); Huỳnh Thị Mai (``MAI_ID``), Hà's mother —
``residents`` registers An and Mai, ``an_children`` the two children with their parent links.

The officers (ADR 0017 §9: the commune People's Committee registers a guardianship, Law on Civil
Status 2014 Art. 20–23, through its judicial and civil-status officer):

* ``civil_status_tayho`` — the judicial and civil-status officer of UBND phường Tây Hồ (the
  family's ward): records guardianships and restrictions
* ``civil_status_hoankiem`` — the same officer of UBND phường Hoàn Kiếm (ward 00070): another ward
  (and the guardian's commune when a test moves the guardian there: a guardianship is registered
  at the ward's or the guardian's place of residence, Law on Civil Status 2014 Art. 19)
* ``civil_status_badinh`` — the same officer of UBND phường Ba Đình (ward 00004): a third commune,
  neither the child's nor the guardian's
* ``civil_status_city`` — the civil-status officer of UBND thành phố Hà Nội (no ward)
* ``committee_officer`` — an ordinary officer of UBND phường Tây Hồ (no civil-status role)
* ``other_ward_police`` — Công an phường Hoàn Kiếm (the eID fixtures); ``ward_police``,
  ``hotel_clerk``, ``outsider`` are in the root conftest

A test module imports the fixtures it uses by name (``# noqa: F401``), as from the eID conftest.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dancu.blocks.audit.context import AccessContext, Actor
from dancu.errors import DomainValidationError
from tests.blocks.eid.conftest import HA_ID, KHOI_ID, an_children, other_ward_police, residents
from tests.blocks.identity.conftest import AN_ID, MAI_ID
from tests.conftest import HANOI, TAY_HO_WARD, Person

HOAN_KIEM_WARD = "00070"
BA_DINH_WARD = "00004"

__all__ = [
    "AN_ID",
    "BA_DINH_WARD",
    "HA_ID",
    "HOAN_KIEM_WARD",
    "KHOI_ID",
    "MAI_ID",
    "an_children",
    "civil_status_badinh",
    "civil_status_city",
    "civil_status_hoankiem",
    "civil_status_tayho",
    "committee_officer",
    "eid_reader",
    "other_ward_police",
    "residents",
    "rules",
]


def _committee(
    make_person: Callable[..., Person], username: str, org: str, name: str, role: str, ward: str
) -> Person:
    """A member of a people's committee of Hà Nội (``ward`` empty: the city's own committee)."""
    return make_person(
        username, org_code=org, org_name=name, kind="committee", role=role, province=HANOI, ward=ward
    )


@pytest.fixture
def civil_status_tayho(make_person: Callable[..., Person]) -> Person:
    return _committee(
        make_person, "hotich.tayho", "UBND-P-TAYHO", "UBND phường Tây Hồ", "civil_status", TAY_HO_WARD
    )


@pytest.fixture
def civil_status_hoankiem(make_person: Callable[..., Person]) -> Person:
    return _committee(
        make_person,
        "hotich.hoankiem",
        "UBND-P-HOANKIEM",
        "UBND phường Hoàn Kiếm",
        "civil_status",
        HOAN_KIEM_WARD,
    )


@pytest.fixture
def civil_status_badinh(make_person: Callable[..., Person]) -> Person:
    return _committee(
        make_person, "hotich.badinh", "UBND-P-BADINH", "UBND phường Ba Đình", "civil_status", BA_DINH_WARD
    )


@pytest.fixture
def civil_status_city(make_person: Callable[..., Person]) -> Person:
    return _committee(make_person, "hotich.hanoi", "UBND-TP-HN", "UBND thành phố Hà Nội", "civil_status", "")


@pytest.fixture
def committee_officer(make_person: Callable[..., Person]) -> Person:
    return _committee(
        make_person, "canbo.ubnd.tayho", "UBND-P-TAYHO", "UBND phường Tây Hồ", "officer", TAY_HO_WARD
    )


def eid_reader() -> AccessContext:
    """The eID system reading who may act for a child (``guardianship.parental_authority``)."""
    return AccessContext(
        Actor(user_id=None, label="eID", allowed_purposes=frozenset({"eid.registration"}), is_system=True),
        "eid.registration",
    )


def rules(err: pytest.ExceptionInfo[DomainValidationError]) -> dict[str, str]:
    """The refusal's rule for each field it names."""
    return {p.field: p.rule for p in err.value.problems}
