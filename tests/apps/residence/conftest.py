"""Residence fixtures. Named actors:

* ``hotel_clerk`` — front desk of Khách sạn Hòa Bình (Tây Hồ ward, 10 rooms, 20 beds);
* ``hotel_integrator`` — administrator of Khách sạn Hòa Bình's organisation (manages webhooks);
* ``other_clerk`` — front desk of Nhà nghỉ Hàng Bạc (Hoàn Kiếm ward), another establishment;
* ``ward_police`` — Công an phường Tây Hồ, responsible for Khách sạn Hòa Bình;
* ``other_ward_police`` — Công an phường Hoàn Kiếm, not responsible for it;
* ``city_police`` — Công an thành phố Hà Nội (the whole city);
* ``outsider`` — a user with no organisation;
* ``conductor`` — Nhà xe Tây Hồ Express, a coach operator (45 seats) in Tây Hồ;
* ``nurse`` — admissions desk of Bệnh viện Tây Hồ (a hospital, 100 beds);
* ``tourism_statistician`` — statistics officer of Sở Du lịch (statistics only, sector tourism);
* ``health_statistician`` — statistics officer of Sở Y tế (sector health: hospitals);
* ``iz_statistician`` — statistics officer of the industrial-zone authority (IZ dormitories);
* ``tourism_officer`` — an ordinary officer of Sở Du lịch (no statistics purpose).

Guests: Nguyễn Văn An and Huỳnh Thị Mai of the identity block's fixtures (``residents``), with
their cards.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from dancu.apps.residence import rules, services
from dancu.blocks.identity.mrz import MrzTD3
from dancu.blocks.identity.services import QrEvidence
from tests.blocks.identity.conftest import (  # noqa: F401  (fixtures)
    AN_ID,
    AN_QR,
    MAI_ID,
    MAI_NAME,
    residents,
)
from tests.conftest import HANOI, Person

TAY_HO_HOTEL_ADDRESS = "Số 1 Đặng Thai Mai, Phường Quảng An, Quận Tây Hồ, Hà Nội"
HOAN_KIEM_ADDRESS = "Số 10 phố Hàng Bạc, Phường Hàng Bạc, Quận Hoàn Kiếm, Hà Nội"
HOAN_KIEM_WARD = "00070"
MAI_QR = f"{MAI_ID}||{MAI_NAME}|12081992|Nữ|Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội|10092024"
CLAIRE_PASSPORT = "\n".join(
    MrzTD3(
        document_code="P",
        issuing_state="FRA",
        document_number="18AB12345",
        date_of_birth=date(1990, 5, 17),
        sex="F",
        date_of_expiry=date(2031, 5, 16),
        nationality="FRA",
        primary_identifier="MARTIN",
        secondary_identifier="CLAIRE",
    ).lines
)


@pytest.fixture
def other_ward_police(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "officer.hoankiem",
        org_code="CA-P-HOANKIEM",
        org_name="Công an phường Hoàn Kiếm",
        kind="police_commune",
        role="officer",
        province=HANOI,
        ward=HOAN_KIEM_WARD,
    )


@pytest.fixture
def other_clerk(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "clerk.hangbac",
        org_code="NN-HANGBAC",
        org_name="Nhà nghỉ Hàng Bạc",
        kind="hotel",
        role="clerk",
        province=HANOI,
    )


@pytest.fixture
def hotel_integrator(make_person: Callable[..., Person]) -> Person:
    """The administrator of Khách sạn Hòa Bình's organisation: connects its property-management system."""
    return make_person(
        "admin.hotel",
        org_code="KS-HOABINH",
        org_name="Khách sạn Hòa Bình",
        kind="hotel",
        role="admin",
        province=HANOI,
    )


@pytest.fixture
def hotel(adminunits_ready: None, hotel_clerk: Person, ward_police: Person) -> services.EstablishmentView:
    """Khách sạn Hòa Bình in Phường Tây Hồ: 10 rooms, 20 beds (the ward police exist first)."""
    assert hotel_clerk.actor.organisation_id is not None
    return services.register_establishment(
        hotel_clerk.actor.organisation_id,
        kind="hotel",
        name="Khách sạn Hòa Bình",
        address=TAY_HO_HOTEL_ADDRESS,
        owner_name="Công ty TNHH Hòa Bình",
        rooms=10,
        beds=20,
    )


@pytest.fixture
def guest_house(adminunits_ready: None, other_clerk: Person) -> services.EstablishmentView:
    assert other_clerk.actor.organisation_id is not None
    return services.register_establishment(
        other_clerk.actor.organisation_id,
        kind="guest_house",
        name="Nhà nghỉ Hàng Bạc",
        address=HOAN_KIEM_ADDRESS,
        owner_name="Bà Lê Thị Hạnh",
        rooms=2,
        beds=3,
    )


@pytest.fixture
def conductor(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "conductor.tayho",
        org_code="NX-TAYHO",
        org_name="Nhà xe Tây Hồ Express",
        kind="transport",
        role="clerk",
        province=HANOI,
    )


@pytest.fixture
def coach(adminunits_ready: None, conductor: Person, ward_police: Person) -> services.EstablishmentView:
    assert conductor.actor.organisation_id is not None
    return services.register_establishment(
        conductor.actor.organisation_id,
        kind="coach_operator",
        name="Nhà xe Tây Hồ Express",
        address=TAY_HO_HOTEL_ADDRESS,
        owner_name="Công ty CP Tây Hồ Express",
        seats=45,
    )


@pytest.fixture
def nurse(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "nurse.tayho",
        org_code="BV-TAYHO",
        org_name="Bệnh viện Tây Hồ",
        kind="clinic",
        role="clerk",
        province=HANOI,
    )


@pytest.fixture
def hospital(adminunits_ready: None, nurse: Person, ward_police: Person) -> services.EstablishmentView:
    assert nurse.actor.organisation_id is not None
    return services.register_establishment(
        nurse.actor.organisation_id,
        kind="hospital",
        name="Bệnh viện Tây Hồ",
        address=TAY_HO_HOTEL_ADDRESS,
        owner_name="Sở Y tế Hà Nội",
        beds=100,
    )


def _statistician(
    make_person: Callable[..., Person], username: str, code: str, name: str, sector: str
) -> Person:
    from dancu.apps.residence import statistics

    person = make_person(username, org_code=code, org_name=name, kind="department", role="statistics")
    assert person.actor.organisation_id is not None
    statistics.assign_sector(person.actor.organisation_id, sector, by="test")
    return person


@pytest.fixture
def tourism_statistician(make_person: Callable[..., Person]) -> Person:
    return _statistician(make_person, "thongke.dulich", "SO-DULICH", "Sở Du lịch Hà Nội", "tourism")


@pytest.fixture
def health_statistician(make_person: Callable[..., Person]) -> Person:
    return _statistician(make_person, "thongke.yte", "SO-YTE", "Sở Y tế Hà Nội", "health")


@pytest.fixture
def iz_statistician(make_person: Callable[..., Person]) -> Person:
    return _statistician(
        make_person,
        "thongke.kcn",
        "BQL-KCN",
        "Ban quản lý các khu công nghiệp và chế xuất Hà Nội",
        "industrial",
    )


@pytest.fixture
def tourism_officer(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "canbo.dulich", org_code="SO-DULICH", org_name="Sở Du lịch Hà Nội", kind="department", role="officer"
    )


def recent_arrival(hours: float = 1) -> datetime:
    """``hours`` ago — except for a fresh arrival (at most an hour ago) near midnight, Vietnam
    time, whose hour would change what the tests assert:

    * between 23:00 and midnight, one that fell earlier the same evening is past its deadline
      (23:00, Circular 55/2021 Art. 15) and a check-in notified now is late: 23:00 today is taken
      (deadline 08:00 tomorrow);
    * between midnight and 01:00, one that fell yesterday counts in yesterday's statistics:
      midnight today is taken.

    So an on-time, arrived-today stay stays so whatever the hour the suite runs (it failed from
    16:00 to 18:00 UTC). Older arrivals are the tests of late and missing notifications: left as
    asked."""
    now = timezone.now()
    arrival = now - timedelta(hours=hours)
    if not 0 <= hours <= 1:
        return arrival
    local_now, local_arrival = now.astimezone(rules.VN), arrival.astimezone(rules.VN)
    if local_arrival.date() < local_now.date():
        return datetime.combine(local_now.date(), datetime.min.time(), tzinfo=rules.VN)
    if local_now.time() >= rules.EVENING_CUTOFF and local_arrival.time() < rules.EVENING_CUTOFF:
        return datetime.combine(local_now.date(), rules.EVENING_CUTOFF, tzinfo=rules.VN)
    return arrival


def stay_of(
    *guests: Any, room: str = "301", hours: int = 1, nights: int = 2, **extra: Any
) -> services.CheckIn:
    """A check-in that started ``hours`` ago (:func:`recent_arrival`) for ``nights`` nights."""
    arrival = recent_arrival(hours)
    return services.CheckIn(
        guests=tuple(guests),
        room=room,
        arrival=arrival,
        expected_departure=arrival + timedelta(days=nights),
        reason="Du lịch",
        **extra,
    )


def an_by_qr() -> services.CitizenGuest:
    return services.CitizenGuest(QrEvidence(AN_QR))


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    from dancu.apps.residence.rules import VN

    return datetime(y, mo, d, h, mi, tzinfo=VN)


__all__ = ["AN_ID", "AN_QR"]
