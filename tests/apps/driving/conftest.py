"""Driving-school fixtures: the synthetic chip PKI and residents of the identity tests, and the
named actors of model 17:

* ``school_clerk`` — clerk of Trung tâm đào tạo lái xe Tây Hồ (a driving school)
* ``other_school_clerk`` — clerk of Trường dạy lái xe Đống Đa (another school)
* ``examiner`` — examiner of Trung tâm sát hạch lái xe Sóc Sơn (designated a test centre)
* ``hotel_clerk``, ``city_police``, ``outsider`` — may not use the pages (root conftest)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from dancu.apps.driving.models import DrivingSite
from dancu.apps.driving.services import designate_site
from dancu.blocks.identity.chip import ChipData, issue_chip
from dancu.blocks.identity.services import ChipEvidence
from tests.blocks.identity.conftest import (  # noqa: F401 — fixtures used by the tests
    AN_CARD_ISSUED,
    AN_ID,
    AN_QR,
    MAI_ID,
    TAY_HO_ADDRESS,
    Pki,
    an_holder,
    pki,
    residents,
    trusted,
)
from tests.conftest import HANOI, Person

MAI_QR = f"{MAI_ID}||Huỳnh Thị Mai|12081992|Nữ|{TAY_HO_ADDRESS}|10092024"
AN_NEW_CARD_ISSUED = date(2024, 10, 4)
AN_NEW_QR = f"{AN_ID}|012345678|Nguyễn Văn An|02031985|Nam|{TAY_HO_ADDRESS}|04102024"
COURSE: dict[str, Any] = {
    "licence_class": "B",
    "course_start": date(2025, 9, 1),
    "course_end": date(2025, 12, 31),
}


def _clerk(make_person: Callable[..., Person], username: str, code: str, name: str) -> Person:
    return make_person(
        username, org_code=code, org_name=name, kind="driving_school", role="clerk", province=HANOI
    )


@pytest.fixture
def school_clerk(make_person: Callable[..., Person]) -> Person:
    return _clerk(make_person, "clerk.laixe.tayho", "DT-TAYHO", "Trung tâm đào tạo lái xe Tây Hồ")


@pytest.fixture
def other_school_clerk(make_person: Callable[..., Person]) -> Person:
    return _clerk(make_person, "clerk.laixe.dongda", "DT-DONGDA", "Trường dạy lái xe Đống Đa")


@pytest.fixture
def examiner(make_person: Callable[..., Person]) -> Person:
    person = _clerk(make_person, "examiner.socson", "SH-SOCSON", "Trung tâm sát hạch lái xe Sóc Sơn")
    assert person.actor.organisation_id is not None
    designate_site(person.actor.organisation_id, DrivingSite.Role.TEST_CENTRE)
    return person


@pytest.fixture
def chip_of(pki: Pki) -> Callable[..., ChipData]:  # noqa: F811 — the imported fixture
    """A chip of Nguyễn Văn An's card signed by the trusted DS; ``face_seed`` picks the portrait."""

    def make(**changes: Any) -> ChipData:
        ds = pki.document_signer
        return issue_chip(an_holder(**changes), ds.private_key, ds.certificate)

    return make


def chip_evidence(chip: ChipData) -> ChipEvidence:
    return ChipEvidence(chip.to_dict())


def chip_json(chip: ChipData) -> str:
    return json.dumps(chip.to_dict())


@pytest.fixture
def replace_an_card(residents: dict[str, Any]) -> Callable[[], None]:  # noqa: F811
    """Call to replace Nguyễn Văn An's chip CCCD of 2021 by a căn cước card issued 04/10/2024
    (the registry records cards; the test sets them up directly, as the identity tests do)."""
    from dancu.blocks.registry.models import Citizen, IdentityCard

    def replace() -> None:
        citizen = Citizen.objects.get(pk=residents["an"].citizen_id)
        IdentityCard.objects.filter(citizen=citizen).update(status="replaced")
        IdentityCard.objects.create(
            citizen=citizen,
            kind="can_cuoc",
            card_number=AN_ID,
            issued_on=AN_NEW_CARD_ISSUED,
            expires_on=date(2045, 3, 2),
        )

    return replace
