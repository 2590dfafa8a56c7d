"""The notification rules (Circular 55/2021/TT-BCA Art. 15; Circular 53/2016/TT-BCA; Decree
282/2025/NĐ-CP Art. 10), as properties around 23:00, midnight and 08:00 in Vietnam's time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.apps.residence import rules
from dancu.apps.residence.rules import VN, notification_deadline, notification_status, suggested_fine
from dancu.errors import DomainValidationError
from tests.apps.residence.conftest import at

moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)).map(
    lambda d: d.replace(tzinfo=VN)
)


def test_an_evening_arrival_is_notified_before_23_00_the_same_day() -> None:
    assert notification_deadline(at(2026, 3, 1, 22, 59)) == at(2026, 3, 1, 23, 0)
    assert notification_deadline(at(2026, 3, 1, 0, 5)) == at(2026, 3, 1, 23, 0)


def test_an_arrival_at_or_after_23_00_is_notified_before_08_00_next_day() -> None:
    assert notification_deadline(at(2026, 3, 1, 23, 0)) == at(2026, 3, 2, 8, 0)
    assert notification_deadline(at(2026, 12, 31, 23, 59)) == at(2027, 1, 1, 8, 0)


def test_the_day_is_vietnams_day_not_utc() -> None:
    # 16:30 UTC is 23:30 in Hà Nội: after 23:00 there.
    utc = datetime(2026, 3, 1, 16, 30, tzinfo=UTC)
    assert notification_deadline(utc) == at(2026, 3, 2, 8, 0)


def test_a_foreigner_is_declared_within_12_hours() -> None:
    assert notification_deadline(at(2026, 3, 1, 22, 0), foreigner=True) == at(2026, 3, 2, 10, 0)
    assert notification_deadline(at(2026, 3, 1, 22, 0), foreigner=True, remote=True) == at(2026, 3, 2, 22, 0)


def test_a_naive_arrival_is_refused_naming_the_field() -> None:
    with pytest.raises(DomainValidationError) as exc:
        notification_deadline(datetime(2026, 3, 1, 10, 0))
    assert exc.value.problems[0].field == "arrival"


@given(moments)
def test_the_deadline_is_always_after_the_arrival_and_at_23_00_or_08_00(arrival: datetime) -> None:
    deadline = notification_deadline(arrival)
    assert deadline > arrival
    assert deadline.timetz().replace(tzinfo=None) in (time(23, 0), time(8, 0))
    assert deadline - arrival <= timedelta(hours=23)


@given(moments)
def test_before_23_00_the_deadline_is_the_same_day_after_it_the_next_morning(arrival: datetime) -> None:
    deadline = notification_deadline(arrival)
    if arrival.time() < time(23, 0):
        assert deadline.date() == arrival.date() and deadline.time() == time(23, 0)
    else:
        assert deadline.date() == arrival.date() + timedelta(days=1) and deadline.time() == time(8, 0)
        assert deadline - arrival <= timedelta(hours=9)


@given(moments, st.integers(min_value=0, max_value=59))
def test_around_midnight_the_deadline_is_08_00_of_the_day_after_the_arrival_evening(
    arrival: datetime, minute: int
) -> None:
    evening = arrival.replace(hour=23, minute=minute, second=0, microsecond=0)
    after_midnight = evening + timedelta(hours=1)  # 00:mm the next day: a new day's stay
    assert notification_deadline(evening) == datetime.combine(
        evening.date() + timedelta(days=1), time(8, 0), tzinfo=VN
    )
    assert notification_deadline(after_midnight) == datetime.combine(
        after_midnight.date(), time(23, 0), tzinfo=VN
    )


@given(moments)
def test_the_foreigner_deadline_is_exactly_12_hours(arrival: datetime) -> None:
    assert notification_deadline(arrival, foreigner=True) - arrival == timedelta(hours=12)


@given(moments, st.integers(min_value=-600, max_value=600))
def test_status_on_time_late_missing_pending(arrival: datetime, minutes: int) -> None:
    deadline = notification_deadline(arrival)
    moment = deadline + timedelta(minutes=minutes)
    notified = notification_status(deadline=deadline, notified_at=moment, now=moment)
    assert notified == ("on_time" if minutes <= 0 else "late")
    unnotified = notification_status(deadline=deadline, notified_at=None, now=moment)
    assert unnotified == ("pending" if minutes <= 0 else "missing")
    assert (
        notification_status(deadline=deadline, notified_at=None, now=moment, required=False) == "not_required"
    )


@pytest.mark.parametrize(
    ("people", "band"),
    [(0, None), (1, (2, 4)), (3, (2, 4)), (4, (4, 8)), (8, (4, 8)), (9, (8, 12)), (40, (8, 12))],
)
def test_fine_bands_of_decree_282_2025(people: int, band: tuple[int, int] | None) -> None:
    fine = suggested_fine(people)
    if band is None:
        assert fine is None
    else:
        assert fine is not None and (fine.minimum, fine.maximum) == (band[0] * 1_000_000, band[1] * 1_000_000)
        assert "282/2025" in fine.provision


def test_age_on() -> None:
    from datetime import date

    assert rules.age_on(date(2012, 3, 2), date(2026, 3, 1)) == 13
    assert rules.age_on(date(2012, 3, 2), date(2026, 3, 2)) == 14


def test_a_manifest_is_due_at_the_departure_and_needs_an_aware_time() -> None:
    departure = datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
    assert rules.manifest_deadline(departure) == departure and rules.manifest_deadline(departure).tzinfo == VN
    with pytest.raises(DomainValidationError):
        rules.manifest_deadline(datetime(2026, 3, 1, 7, 0))
