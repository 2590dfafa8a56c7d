"""City-wide and office figures of dossiers (``services.aggregate_dossiers``): counted by the
database, for whoever may count them — an official their own office, the city police and the
departments' statistics officers every office — and never over a column that names a person.

Named actors: ``ward_police`` (Công an phường Tây Hồ), ``other_ward_police`` (Công an phường Hoàn
Kiếm), ``city_police`` (every office), ``statistician`` (a department's statistics officer: every
office), ``hotel_clerk`` (denied)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db.models import Count, Max, Q
from django.utils import timezone

from dancu.apps.public_services import catalogue, services
from dancu.apps.public_services.models import Dossier
from dancu.errors import AccessDenied, DomainValidationError
from tests.conftest import HANOI, TAY_HO_WARD, Person

pytestmark = pytest.mark.django_db
HOAN_KIEM_WARD = "00070"
SUBMITTED = datetime(2026, 11, 2, 9, tzinfo=timezone.get_fixed_timezone(420))
PERIOD = {"submitted_from": SUBMITTED - timedelta(days=1), "submitted_before": SUBMITTED + timedelta(days=30)}
COUNT = {"total": Count("pk"), "kiosk": Count("pk", filter=Q(channel="kiosk"))}
TAY_HO = (catalogue.POLICE, TAY_HO_WARD, "")
HOAN_KIEM = (catalogue.POLICE, HOAN_KIEM_WARD, "")


def _dossier(n: int, ward: str, *, channel: str = "online", days: int = 0) -> None:
    Dossier.objects.create(
        tracking_code=f"DVC-2611-A{n:07d}",
        service_code="temporary-residence",
        applicant_user_id=n,
        applicant_id_number="001085012345",
        applicant_name="Nguyễn Văn An",
        idempotency_key=f"agg-{n:016d}",
        authority_kind=catalogue.POLICE,
        authority_ward_code=ward,
        submitted_at=SUBMITTED + timedelta(days=days),
        due_on=(SUBMITTED + timedelta(days=5)).date(),
        channel=channel,
    )


@pytest.fixture
def offices(ward_police: Person, other_ward_police: Person) -> None:
    """Tây Hồ: 2 dossiers (1 at a kiosk) and one submitted after the period; Hoàn Kiếm: 1."""
    _dossier(1, TAY_HO_WARD, channel="kiosk")
    _dossier(2, TAY_HO_WARD, days=1)
    _dossier(3, TAY_HO_WARD, days=45)
    _dossier(4, HOAN_KIEM_WARD)


@pytest.fixture
def statistician(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "thongke.sovhtt",
        org_code="SO-VHTT",
        org_name="Sở Văn hóa và Thể thao",
        kind="department",
        role="statistics",
        province=HANOI,
    )


def _by_office(person: Person, **kwargs: Any) -> dict[tuple[str, str], int]:
    rows = services.aggregate_dossiers(
        person.actor, measures=COUNT, group_by=("authority_kind", "authority_ward_code"), **PERIOD, **kwargs
    )
    return {(r["authority_kind"], r["authority_ward_code"]): r["total"] for r in rows}


@pytest.mark.parametrize("reader", ["city_police", "statistician"])
def test_city_wide_readers_count_every_office_in_the_database(
    offices: None, reader: str, request: pytest.FixtureRequest
) -> None:
    person: Person = request.getfixturevalue(reader)
    assert _by_office(person) == {(catalogue.POLICE, TAY_HO_WARD): 2, (catalogue.POLICE, HOAN_KIEM_WARD): 1}
    assert services.aggregate_dossiers(person.actor, measures=COUNT, office=HOAN_KIEM, **PERIOD) == [
        {"total": 1, "kiosk": 0}
    ]


def test_an_official_counts_their_own_office_only(offices: None, ward_police: Person) -> None:
    assert _by_office(ward_police) == {(catalogue.POLICE, TAY_HO_WARD): 2}
    assert services.aggregate_dossiers(ward_police.actor, measures=COUNT, office=TAY_HO, **PERIOD) == [
        {"total": 2, "kiosk": 1}
    ]
    with pytest.raises(AccessDenied) as denied:
        services.aggregate_dossiers(ward_police.actor, measures=COUNT, office=HOAN_KIEM, **PERIOD)
    assert denied.value.rule == "jurisdiction"


def test_others_are_denied(offices: None, hotel_clerk: Person, outsider: Person) -> None:
    for person in (hotel_clerk, outsider):
        with pytest.raises(AccessDenied):
            services.aggregate_dossiers(person.actor, measures=COUNT, **PERIOD)


def test_figures_by_day(offices: None, city_police: Person) -> None:
    rows = services.aggregate_dossiers(city_police.actor, measures=COUNT, period="day", **PERIOD)
    assert [(r["total"], r["kiosk"]) for r in rows] == [(2, 1), (1, 0)]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"group_by": ("applicant_id_number",)}, "group_by"),
        ({"measures": {"who": Max("applicant_name")}}, "measures"),
        ({"measures": {"n": Count("pk", filter=Q(applicant_id_number__startswith="001"))}}, "measures"),
        ({"measures": {"n": "COUNT(*)"}}, "measures"),
        ({"period": "week"}, "period"),
    ],
)
def test_no_figure_reads_a_column_that_names_a_person(
    offices: None, city_police: Person, kwargs: dict[str, Any], field: str
) -> None:
    args: dict[str, Any] = {"measures": COUNT, **PERIOD, **kwargs}
    with pytest.raises(DomainValidationError) as err:
        services.aggregate_dossiers(city_police.actor, **args)
    assert err.value.problems[0].field == field
