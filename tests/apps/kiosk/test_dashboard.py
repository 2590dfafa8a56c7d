"""The evaluation dashboard (models 2 and 3): figures counted in the database for a period and an
office, charts, CSV/XLSX export with formula escaping, and who may see which office.

Named actors: ``ward_police`` (Công an phường Tây Hồ: its own office only), ``other_ward_police``
(Công an phường Hoàn Kiếm), ``city_police`` (every office), ``hotel_clerk`` and ``outsider`` (denied).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from dancu.apps.kiosk import dashboard
from dancu.apps.public_services import catalogue
from dancu.apps.public_services.models import Dossier
from dancu.blocks.audit.models import AuditEvent
from dancu.errors import AccessDenied, DomainValidationError
from tests.conftest import TAY_HO_WARD, Person

HOAN_KIEM_WARD = "00070"
TODAY = date(2026, 11, 30)
_n = 0


def _at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone())


def _dossier(
    service: str,
    *,
    ward: str = TAY_HO_WARD,
    kind: str = catalogue.POLICE,
    on: date,
    due: date,
    decided: datetime | None = None,
    status: str = Dossier.Status.SUBMITTED,
    channel: str = Dossier.Channel.ONLINE,
) -> Dossier:
    global _n
    _n += 1
    return Dossier.objects.create(
        tracking_code=f"DVC-2611-T{_n:07d}",
        service_code=service,
        applicant_user_id=_n,
        applicant_id_number="001085012345",
        applicant_name="Nguyễn Văn An",
        idempotency_key=f"key-{_n:016d}",
        status=status,
        authority_kind=kind,
        authority_ward_code=ward,
        submitted_at=_at(on),
        due_on=due,
        decided_at=decided,
        channel=channel,
    )


@pytest.fixture
def dossiers(ward_police: Person, other_ward_police: Person) -> None:
    """Tây Hồ police: 4 dossiers in November (1 late result, 1 on-time result after 24 h, 1 open
    and overdue, 1 open and due later; 2 at a kiosk); Hoàn Kiếm police: 1; one in October."""
    nov = date(2026, 11, 2)
    _dossier(
        "cmnd-confirmation",
        on=nov,
        due=nov,
        decided=_at(nov + timedelta(days=3)),
        status="done",
        channel=Dossier.Channel.KIOSK,
    )
    _dossier(
        "temporary-residence",
        on=nov,
        due=nov + timedelta(days=3),
        decided=_at(nov + timedelta(days=1)),
        status="refused",
    )
    _dossier("temporary-residence", on=nov, due=date(2026, 11, 20), channel=Dossier.Channel.KIOSK)
    _dossier("temporary-absence", on=date(2026, 11, 27), due=date(2026, 12, 3))
    _dossier("temporary-residence", ward=HOAN_KIEM_WARD, on=nov, due=date(2026, 12, 9))
    _dossier("temporary-absence", on=date(2026, 10, 5), due=date(2026, 10, 8))


NOVEMBER = {"start": "01/11/2026", "end": "30/11/2026"}


def _evaluate(person: Person, office: str = "") -> dashboard.Evaluation:
    f = dashboard.filters(person.actor, date(2026, 11, 1), date(2026, 11, 30), office)
    return dashboard.evaluate(person.actor, f, today=TODAY)


def test_the_figures_of_an_office_for_a_period(dossiers: None, ward_police: Person) -> None:
    e = _evaluate(ward_police)
    t = e.totals
    assert (t.total, t.closed, t.late, t.on_time, t.kiosk, t.online) == (4, 2, 2, 2, 2, 2)
    assert t.kiosk_pct == 50.0 and t.paperless == 4 and t.paperless_pct == 100.0
    assert t.handling_hours == 48.0  # (72 h + 24 h) / 2
    by = {s.code: g for s, g in e.by_service}
    assert by["temporary-residence"].total == 2 and by["temporary-residence"].late == 1
    assert by["cmnd-confirmation"].late == 1 and by["cmnd-confirmation"].kiosk == 1
    assert [n for _, n, _ in e.series] == [3, 1] and [k for _, _, k in e.series] == [2, 0]


def test_the_city_police_see_every_office_and_may_filter_one(
    dossiers: None, city_police: Person, ward_police: Person
) -> None:
    everything = _evaluate(city_police)
    assert everything.totals.total == 5 and len(everything.by_office) == 2
    hoan_kiem = _evaluate(city_police, f"{catalogue.POLICE}:{HOAN_KIEM_WARD}:")
    assert hoan_kiem.totals.total == 1 and hoan_kiem.totals.late == 0


def test_a_departments_statistics_officer_sees_every_office(
    dossiers: None, make_person: Callable[..., Person]
) -> None:
    statistician = make_person(
        "thongke.so",
        org_code="SO-VHTT",
        org_name="Sở Văn hoá và Thể thao",
        kind="department",
        role="statistics",
        province="01",
    )
    assert dashboard.scope(statistician.actor) is None
    assert _evaluate(statistician).totals.total == 5
    assert AuditEvent.objects.filter(action=dashboard.ACTION, purpose="statistics.aggregate").exists()


def test_an_official_sees_their_own_office_only(
    dossiers: None, ward_police: Person, other_ward_police: Person
) -> None:
    assert _evaluate(other_ward_police).totals.total == 1
    with pytest.raises(AccessDenied):
        _evaluate(ward_police, f"{catalogue.POLICE}:{HOAN_KIEM_WARD}:")
    with pytest.raises(AccessDenied):  # filters made for someone else are refused too
        dashboard.evaluate(ward_police.actor, dashboard.Filters(date(2026, 11, 1), TODAY, None))
    assert dashboard.offices(ward_police.actor) == [
        (f"{catalogue.POLICE}:{TAY_HO_WARD}:", "Công an phường Tây Hồ")
    ]


def test_a_bad_period_or_office_names_the_field(city_police: Person) -> None:
    with pytest.raises(DomainValidationError) as exc:
        dashboard.filters(city_police.actor, date(2026, 11, 30), date(2026, 11, 1))
    assert exc.value.problems[0].field == "start"
    with pytest.raises(DomainValidationError) as exc:
        dashboard.filters(city_police.actor, date(2020, 1, 1), date(2026, 11, 1))
    assert exc.value.problems[0].rule == "max_range"
    with pytest.raises(DomainValidationError) as exc:
        dashboard.filters(city_police.actor, None, None, "hotel:00103:")
    assert exc.value.problems[0].field == "office"


def test_each_view_of_the_dashboard_is_audited(dossiers: None, city_police: Person) -> None:
    _evaluate(city_police)
    event = AuditEvent.objects.get(action=dashboard.ACTION)
    assert event.detail["start"] == "2026-11-01" and event.subject_citizen_id is None


def test_the_page_shows_figures_and_charts(
    dossiers: None, ward_police: Person, staff_client: Callable[[Person], Client]
) -> None:
    response = staff_client(ward_police).get("/danh-gia-dvc/", NOVEMBER)
    page = response.content.decode()
    assert response.status_code == 200
    for testid in ("chart-dossiers", "chart-kiosk", "chart-late", "by-service", "by-office"):
        assert f'data-testid="{testid}"' in page
    assert 'data-testid="total">4<' in page


def test_a_bad_filter_is_a_422_naming_the_field(
    ward_police: Person, staff_client: Callable[[Person], Client]
) -> None:
    response = staff_client(ward_police).get("/danh-gia-dvc/", {"start": "30/11/2026", "end": "01/11/2026"})
    assert response.status_code == 422 and "start:" in response.content.decode()


@pytest.mark.parametrize("who", ["hotel_clerk", "outsider"])
def test_others_are_denied(
    who: str, request: pytest.FixtureRequest, staff_client: Callable[[Person], Client]
) -> None:
    person = request.getfixturevalue(who)
    response = staff_client(person).get("/danh-gia-dvc/")
    assert response.status_code == 403 and 'data-testid="denied"' in response.content.decode()
    with pytest.raises(AccessDenied):
        dashboard.scope(person.actor)


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    assert client.get("/danh-gia-dvc/").status_code == 302


def test_another_office_in_the_url_is_denied_to_an_official(
    dossiers: None, ward_police: Person, staff_client: Callable[[Person], Client]
) -> None:
    query = {**NOVEMBER, "office": f"{catalogue.POLICE}:{HOAN_KIEM_WARD}:"}
    assert staff_client(ward_police).get("/danh-gia-dvc/", query).status_code == 403


def test_csv_and_xlsx_exports_escape_formulas(
    dossiers: None,
    city_police: Person,
    staff_client: Callable[[Person], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evil = dataclasses.replace(catalogue.BY_CODE["temporary-absence"], name_vi='=HYPERLINK("http://x")')
    monkeypatch.setitem(catalogue.BY_CODE, "temporary-absence", evil)
    c = staff_client(city_police)
    response = c.get("/danh-gia-dvc/", {**NOVEMBER, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0][0].startswith("Mã thủ tục") and table[-1][2] == "5"
    row = next(r for r in table if r[0] == "temporary-absence")
    assert row[1] == '\'=HYPERLINK("http://x")'
    xlsx = c.get("/danh-gia-dvc/", {**NOVEMBER, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    values: list[Any] = [[cell.value for cell in r] for r in sheet.iter_rows()]
    assert any(r[1] == '\'=HYPERLINK("http://x")' for r in values)
    assert all(not str(v).startswith("=") for r in values for v in r if v is not None)
