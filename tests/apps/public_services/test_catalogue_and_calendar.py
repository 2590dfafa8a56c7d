"""The catalogue of the 25 essential services, ``dancu services list``, and the working-day
calendar of statutory deadlines (weekends and Vietnamese public holidays)."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from dancu.apps.public_services import catalogue, workdays
from dancu.apps.public_services.handlers import HANDLERS

CAL = workdays.calendar()
days_in_range = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31))


def test_the_catalogue_holds_the_25_essential_services_with_where_each_item_comes_from() -> None:
    # The 25 of Decision 06/QĐ-TTg first, then the services of this city's extended list.
    assert [s.number for s in catalogue.SERVICES] == list(range(1, 30))
    assert len(catalogue.BY_CODE) == 29
    for s in catalogue.SERVICES:
        assert s.name_vi and s.name_en and s.legal_basis and s.authority_vi
        assert s.days >= 0 and s.fee_vnd >= 0 and s.level in (1, 2)
        assert {i.source for i in s.items} <= set(catalogue.SOURCES)
        assert any(i.source == catalogue.REGISTRY for i in s.items), s.code  # once-only: never retype


def test_every_implemented_service_has_a_handler_and_asks_the_citizen_only_what_no_registry_holds() -> None:
    done = {s.code for s in catalogue.implemented()}
    assert done == set(HANDLERS)
    for code in done:
        typed = {i.key for i in catalogue.BY_CODE[code].citizen_items()}
        assert not typed & {"full_name", "id_number", "date_of_birth", "sex", "permanent_address"}


def test_services_list_prints_one_service_per_line_and_filters_the_paperless_ones() -> None:
    out = StringIO()
    call_command("services", "list", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 29
    assert "cmnd-confirmation" in lines[0] and "paperless" in lines[0]
    out = StringIO()
    call_command("services", "list", "--paperless", stdout=out)
    paperless = out.getvalue().splitlines()
    assert len(paperless) == len(catalogue.implemented()) == 20  # model 3: at least 20 without paper
    assert all("\tpaperless\t" in line for line in paperless)


def test_weekends_and_the_public_holidays_are_not_working_days() -> None:
    assert not CAL.is_working_day(date(2026, 4, 30))  # Reunification Day (Thursday)
    assert not CAL.is_working_day(date(2026, 5, 1))  # Labour Day (Friday)
    assert not CAL.is_working_day(date(2026, 9, 2)) and not CAL.is_working_day(date(2026, 9, 1))
    assert not CAL.is_working_day(date(2026, 2, 17))  # Tết Nguyên đán
    assert not CAL.is_working_day(date(2026, 4, 27))  # Hùng Kings, compensatory Monday
    assert not CAL.is_working_day(date(2026, 12, 5))  # a Saturday
    assert not CAL.is_working_day(date(2027, 1, 1))  # fixed-date holidays apply to every year
    assert CAL.is_working_day(date(2026, 12, 7))


def test_a_deadline_skips_tet_and_the_weekends() -> None:
    # Submitted Friday 13/02/2026; Tết runs 14–22/02: 3 working days end on Wednesday 25/02.
    assert workdays.deadline(date(2026, 2, 13), 3) == date(2026, 2, 25)
    # Submitted on Wednesday 29/04/2026: 30/04, 01/05 and the weekend are skipped.
    assert workdays.deadline(date(2026, 4, 29), 1) == date(2026, 5, 4)
    assert workdays.deadline(date(2026, 12, 5), 0) == date(2026, 12, 5)


def test_holidays_are_data_a_year_can_be_configured() -> None:
    cal = workdays.from_data({"2030": {"holidays": ["2030-02-04"], "working_saturdays": ["2030-02-09"]}})
    assert not cal.is_working_day(date(2030, 2, 4))
    assert cal.is_working_day(date(2030, 2, 9))


@settings(max_examples=200, deadline=None)
@given(start=days_in_range, n=st.integers(min_value=0, max_value=40))
def test_property_the_deadline_is_a_working_day_exactly_n_working_days_later(start: date, n: int) -> None:
    due = CAL.add_working_days(start, n)
    assert due >= start
    assert CAL.working_days_between(start, due) == n
    if n:
        assert CAL.is_working_day(due)
        assert due - start >= timedelta(days=n)  # never fewer calendar days than working days


@settings(max_examples=200, deadline=None)
@given(start=days_in_range, a=st.integers(0, 20), b=st.integers(0, 20))
def test_property_deadlines_add_up_and_are_monotonic(start: date, a: int, b: int) -> None:
    assert CAL.add_working_days(CAL.add_working_days(start, a), b) == CAL.add_working_days(start, a + b)
    assert CAL.add_working_days(start, a) <= CAL.add_working_days(start, a + b)


@settings(max_examples=100, deadline=None)
@given(day=days_in_range)
def test_property_no_weekend_day_is_a_working_day_without_a_swap(day: date) -> None:
    if day.weekday() >= 5:
        assert not CAL.is_working_day(day)
