"""Stays of 30 days or more: a stay (lưu trú) is under 30 days (Law on Residence 2020 Art. 2
cl. 9, domain-vn.md §5); a citizen living 30 days or more outside the commune of their permanent
residence registers temporary residence (Art. 27 cl. 1). Nguyễn Văn An (permanent residence in
Tây Hồ) stays at Nhà nghỉ Hàng Bạc in Hoàn Kiếm: the guest house and the Hoàn Kiếm police are
told; the Tây Hồ police (not responsible) and anyone but the police are not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dancu.apps.residence import rules, services
from dancu.errors import AccessDenied
from tests.apps.residence.conftest import CLAIRE_PASSPORT, MAI_QR, an_by_qr, at, stay_of
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("residents")
NOTIFY = "residence.notification"
POLICE = "security.investigation"
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def _rule(arrival_ago: timedelta, planned: timedelta, *, left: bool = False, foreigner: bool = False) -> str:
    now = at(2026, 3, 31, 10)
    arrival = now - arrival_ago
    return rules.temporary_residence(
        arrival=arrival,
        expected_departure=arrival + planned,
        departed_at=now if left else None,
        now=now,
        foreigner=foreigner,
    )


def test_thirty_days_reached_is_due_one_second_before_is_not() -> None:
    assert _rule(30 * DAY - SECOND, 30 * DAY - SECOND) == ""
    assert _rule(30 * DAY, 30 * DAY - SECOND) == "due"
    assert _rule(45 * DAY, 2 * DAY) == "due"  # stayed on past the expected departure


def test_thirty_days_planned_is_flagged_at_check_in() -> None:
    assert _rule(DAY, 30 * DAY - SECOND) == ""
    assert _rule(DAY, 30 * DAY) == "planned"


def test_a_guest_who_left_or_a_foreigner_is_not_flagged() -> None:
    assert _rule(40 * DAY, 40 * DAY, left=True) == ""
    assert _rule(40 * DAY, 40 * DAY, foreigner=True) == ""


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(Exception, match="timezone"):
        rules.temporary_residence(
            arrival=at(2026, 3, 1, 10).replace(tzinfo=None),
            expected_departure=at(2026, 4, 1, 10),
            departed_at=None,
            now=at(2026, 4, 1, 10),
        )


def _check_in(clerk: Person, *, days_ago: float, nights: int, guest: object = None) -> services.StayView:
    data = stay_of(guest or an_by_qr(), hours=int(days_ago * 24), nights=nights, room="1")
    return services.check_in(clerk.ctx(NOTIFY), data).stays[0]


def test_the_guest_house_and_its_police_see_a_guest_staying_thirty_days(
    guest_house: services.EstablishmentView,
    other_clerk: Person,
    other_ward_police: Person,
    ward_police: Person,
) -> None:
    stay = _check_in(other_clerk, days_ago=31, nights=40)
    assert stay.temporary_residence == "due"
    assert [s.stay_id for s in services.establishment_temporary_residence(other_clerk.ctx(NOTIFY))] == [
        stay.stay_id
    ]
    assert [s.stay_id for s in services.police_temporary_residence(other_ward_police.ctx(POLICE))] == [
        stay.stay_id
    ]
    assert services.police_temporary_residence(ward_police.ctx(POLICE)) == []  # another ward's unit
    services.check_out(other_clerk.ctx(NOTIFY), stay.stay_id)
    assert services.police_temporary_residence(other_ward_police.ctx(POLICE)) == []


def test_a_planned_month_is_flagged_at_check_in_and_a_shorter_stay_is_not(
    guest_house: services.EstablishmentView, other_clerk: Person
) -> None:
    assert _check_in(other_clerk, days_ago=0.05, nights=30).temporary_residence == "planned"
    assert _check_in(other_clerk, days_ago=0.05, nights=29, guest=an_by_qr()).temporary_residence == ""


def test_a_guest_in_the_commune_of_their_permanent_residence_is_not_flagged(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    # An lives in Tây Hồ; Khách sạn Hòa Bình is in Tây Hồ: Art. 27 concerns living elsewhere.
    assert _check_in(hotel_clerk, days_ago=31, nights=40).temporary_residence == ""
    assert services.establishment_temporary_residence(hotel_clerk.ctx(NOTIFY)) == []


def test_a_foreign_guest_is_not_flagged(guest_house: services.EstablishmentView, other_clerk: Person) -> None:
    stay = _check_in(other_clerk, days_ago=31, nights=40, guest=services.ForeignGuest(CLAIRE_PASSPORT))
    assert stay.temporary_residence == ""
    assert services.establishment_temporary_residence(other_clerk.ctx(NOTIFY)) == []


def test_only_the_police_see_the_police_list(
    guest_house: services.EstablishmentView, other_clerk: Person, tourism_officer: Person, outsider: Person
) -> None:
    for ctx in (
        other_clerk.ctx(POLICE),
        other_clerk.ctx(NOTIFY),
        tourism_officer.ctx(POLICE),
        outsider.ctx(POLICE),
    ):
        with pytest.raises(AccessDenied):
            services.police_temporary_residence(ctx)
    with pytest.raises(AccessDenied):
        services.establishment_temporary_residence(outsider.ctx(NOTIFY))


def test_the_police_page_lists_the_stay_and_the_api_returns_the_flag(
    client: Client, guest_house: services.EstablishmentView, other_clerk: Person, other_ward_police: Person
) -> None:
    stay = _check_in(other_clerk, days_ago=31, nights=40)
    client.force_login(other_ward_police.user)
    page = client.get(reverse("residence:police")).content.decode()
    section = page[page.index('data-testid="temporary-residence"') :]
    assert f'data-testid="stay-{stay.stay_id}"' in section and "temporary-residence-due" in section
    assert "Lưu trú từ 30 ngày trở lên: phải đăng ký tạm trú" in page  # Vietnamese first
    assert "1 khách đang lưu trú" in page
    client.force_login(other_clerk.user)
    arrival = timezone.now() - timedelta(minutes=5)
    answer = client.post(
        "/api/v1/residence/notifications",
        {
            "room": "2",
            "arrival": arrival.isoformat(),
            "expected_departure": (arrival + 31 * DAY).isoformat(),
            "guests": [{"kind": "qr", "text": MAI_QR}],
        },
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["stays"][0]["temporary_residence"] == "planned"


def test_the_lists_hold_reached_and_planned_stays_once_each_in_order_of_arrival(
    guest_house: services.EstablishmentView, other_clerk: Person, other_ward_police: Person
) -> None:
    """The list is read as two queries — 30 days reached, 30 days or more planned — merged by
    arrival (``services._temporary_residence_stays``): a stay that is both appears once."""
    both = _check_in(other_clerk, days_ago=40, nights=45)
    planned = _check_in(other_clerk, days_ago=0.05, nights=31)
    reached = _check_in(other_clerk, days_ago=31, nights=2)
    assert (both.temporary_residence, planned.temporary_residence, reached.temporary_residence) == (
        "due",
        "planned",
        "due",
    )
    order = [both.stay_id, reached.stay_id, planned.stay_id]
    assert [s.stay_id for s in services.establishment_temporary_residence(other_clerk.ctx(NOTIFY))] == order
    assert [s.stay_id for s in services.police_temporary_residence(other_ward_police.ctx(POLICE))] == order
