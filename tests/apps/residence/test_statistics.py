"""Statistics for Tourism, Health and the industrial-zone authority: the statistics officer of Sở
Du lịch sees anonymised counts — occupancy, arrivals by nationality, province of origin, ward and
length of stay — with small cells suppressed, as charts and CSV / XLSX; nobody else may, and no
name or ID number ever appears."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from dancu.apps.residence import services
from dancu.apps.residence import statistics as stats
from dancu.apps.residence.models import Stay
from dancu.blocks.audit.models import AuditEvent
from dancu.errors import AccessDenied, DomainValidationError
from tests.apps.residence.conftest import AN_ID, CLAIRE_PASSPORT, MAI_QR, an_by_qr, stay_of
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("residents")
NOTIFY = "residence.notification"
STATS = "statistics.aggregate"


@given(st.dictionaries(st.text(min_size=1, max_size=3), st.integers(min_value=0, max_value=40), max_size=8))
def test_no_small_count_is_shown_nor_recoverable_from_the_total(counts: dict[str, int]) -> None:
    out = stats.suppress(counts)
    assert list(out) == list(counts)
    assert all(v is None or v == 0 or v >= stats.SUPPRESS_BELOW for v in out.values())
    hidden = [k for k, v in out.items() if v is None]
    assert len(hidden) != 1 or sum(1 for v in counts.values() if v) == 1
    assert all(out[k] == counts[k] for k in counts if out[k] is not None)


def _guests(hotel_clerk: Person, n_foreign: int) -> None:
    services.check_in(
        hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr(), services.CitizenGuest(services.QrEvidence(MAI_QR)))
    )
    for i in range(n_foreign):
        # The same foreign guest staying again and again (a test shortcut for many guests).
        data = stay_of(services.ForeignGuest(CLAIRE_PASSPORT), room=str(400 + i), hours=1)
        services.check_in(hotel_clerk.ctx(NOTIFY), data)


def test_the_tourism_statistician_sees_counts_with_small_cells_suppressed(
    hotel: services.EstablishmentView, hotel_clerk: Person, tourism_statistician: Person
) -> None:
    _guests(hotel_clerk, 6)
    today = timezone.localdate()
    report = stats.report(
        tourism_statistician.ctx(STATS), sector="tourism", start=today - timedelta(days=2), end=today
    )
    assert report.arrivals_total == 8 and report.beds == 20 and report.establishments == 1
    # 2 Vietnamese guests are hidden; so are the 6 French, or the total would reveal the 2.
    assert report.by_nationality == {"FRA": None, "VNM": None}
    assert report.rows[-1].arrivals == 8 and [r.arrivals for r in report.rows[:-1]] == [0, 0]
    assert report.by_ward == {hotel.ward_label: 8}
    assert sum(v or 0 for v in report.length_of_stay.values()) in (0, 6, 8)
    text = stats.to_csv(report)
    assert "FRA,," in text and "VNM,," in text and "total,arrivals,8" in text
    assert AN_ID not in text and "Nguyễn" not in text
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(stats.to_xlsx(report)))
    assert {"report", "period", "nationality", "province", "ward"} <= set(book.sheetnames)
    rows = {r[0]: r[1] for r in book["nationality"].iter_rows(min_row=2, values_only=True)}
    assert rows == {"FRA": None, "VNM": None}
    assert [r[1] for r in book["period"].iter_rows(min_row=2, values_only=True)] == [0, 0, 8]
    event = AuditEvent.objects.filter(action="residence.statistics").latest("id")
    assert event.detail["sector"] == "tourism"


def test_occupancy_counts_guest_nights_over_beds(
    hotel: services.EstablishmentView, hotel_clerk: Person, tourism_statistician: Person
) -> None:
    now = timezone.now()
    for i in range(5):
        arrival = now - timedelta(days=3)
        services.check_in(
            hotel_clerk.ctx(NOTIFY),
            services.CheckIn(
                guests=(services.ForeignGuest(CLAIRE_PASSPORT),),
                room=str(500 + i),
                arrival=arrival,
                expected_departure=arrival + timedelta(days=2),
            ),
        )
    Stay.objects.update(departed_at=now - timedelta(days=1))
    day = timezone.localdate(now - timedelta(days=3))
    report = stats.report(
        tourism_statistician.ctx(STATS), sector="tourism", start=day, end=day + timedelta(days=1)
    )
    assert [r.guest_nights for r in report.rows] == [5, 5]
    assert [r.occupancy for r in report.rows] == [25.0, 25.0]  # 5 of 20 beds
    assert report.length_of_stay["2–3"] == 5


def test_nobody_else_sees_statistics_and_bad_filters_name_the_field(
    hotel: services.EstablishmentView, hotel_clerk: Person, tourism_officer: Person, ward_police: Person
) -> None:
    today = timezone.localdate()
    for person in (tourism_officer, hotel_clerk, ward_police):
        with pytest.raises(AccessDenied):
            stats.report(person.ctx(STATS), sector="tourism", start=today, end=today)
    assert AuditEvent.objects.filter(action="residence.statistics", result="denied").count() == 3


def test_bad_filters_name_the_field(tourism_statistician: Person) -> None:
    today = timezone.localdate()
    with pytest.raises(DomainValidationError) as exc:
        stats.report(
            tourism_statistician.ctx(STATS),
            sector="casinos",
            start=today,
            end=today - timedelta(days=1),
            period="year",
        )
    assert {p.field for p in exc.value.problems} == {"sector", "period", "end"}


def test_the_page_draws_charts_and_downloads_csv_and_xlsx(
    client: Client, hotel: services.EstablishmentView, hotel_clerk: Person, tourism_statistician: Person
) -> None:
    _guests(hotel_clerk, 5)
    client.force_login(tourism_statistician.user)
    page = client.get("/residence/statistics/?period=week")
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="chart-arrivals"' in html and "<rect" in html
    assert "Nguyễn Văn An" not in html and AN_ID not in html
    csv = client.get("/residence/statistics/?period=week&format=csv")
    assert csv["Content-Type"].startswith("text/csv") and "attachment" in csv["Content-Disposition"]
    assert "total,arrivals,7" in csv.content.decode("utf-8-sig")
    xlsx = client.get("/residence/statistics/?format=xlsx")
    assert xlsx.content[:2] == b"PK"
    client.force_login(hotel_clerk.user)
    assert client.get("/residence/statistics/").status_code == 403
    api = client.get("/api/v1/residence/statistics?sector=tourism&start=2026-01-01&end=2026-01-02")
    assert api.status_code == 403


# --------------------------------------------------------------------------- sector of the viewer
def test_each_department_sees_its_own_sector_only(
    hotel: services.EstablishmentView,
    hospital: services.EstablishmentView,
    tourism_statistician: Person,
    health_statistician: Person,
    iz_statistician: Person,
) -> None:
    today = timezone.localdate()
    allowed = [
        (tourism_statistician, "tourism"),
        (health_statistician, "health"),
        (iz_statistician, "industrial"),
    ]
    for person, sector in allowed:
        assert stats.sectors_of(person.actor) == [sector]
        assert stats.report(person.ctx(STATS), sector=sector, start=today, end=today).sector == sector
        for other in {"tourism", "health", "industrial", "housing"} - {sector}:
            with pytest.raises(AccessDenied) as exc:
                stats.report(person.ctx(STATS), sector=other, start=today, end=today)
            assert exc.value.rule == "sector"
    denied = AuditEvent.objects.filter(action="residence.statistics", result="denied")
    assert denied.count() == 9 and {e.detail["reason"] for e in denied} == {"sector"}


def test_a_department_without_a_sector_sees_none(make_person: Any) -> None:
    clerk = make_person("thongke.xaydung", org_code="SO-XD", kind="department", role="statistics")
    today = timezone.localdate()
    with pytest.raises(AccessDenied):
        stats.report(clerk.ctx(STATS), sector="housing", start=today, end=today)


def test_only_a_department_receives_a_sector(hotel: services.EstablishmentView, hotel_clerk: Person) -> None:
    assert hotel_clerk.actor.organisation_id is not None
    with pytest.raises(DomainValidationError) as exc:
        stats.assign_sector(hotel_clerk.actor.organisation_id, "tourism", by="test")
    assert exc.value.problems[0].field == "organisation"


def test_the_page_offers_the_departments_own_sector(client: Client, health_statistician: Person) -> None:
    client.force_login(health_statistician.user)
    html = client.get("/residence/statistics/").content.decode()
    assert 'value="health"' in html and 'value="tourism"' not in html
    assert client.get("/residence/statistics/?sector=tourism").status_code == 400  # not a choice here
    api = client.get("/api/v1/residence/statistics?sector=tourism&start=2026-01-01&end=2026-01-02")
    assert api.status_code == 403


def test_the_report_is_aggregated_by_the_database(
    hotel: services.EstablishmentView,
    hotel_clerk: Person,
    tourism_statistician: Person,
    django_assert_max_num_queries: Any,
) -> None:
    """The number of statements does not grow with the stays (no stay is read into Python)."""
    _guests(hotel_clerk, 8)
    today = timezone.localdate()
    with django_assert_max_num_queries(14):
        report = stats.report(
            tourism_statistician.ctx(STATS), sector="tourism", start=today - timedelta(days=30), end=today
        )
    assert report.arrivals_total == 10 and report.rows[-1].guest_nights == 10


# --------------------------------------------------------------------------- province of origin
def _origin_of_an(hotel_clerk: Person) -> str:
    services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr()))
    return Stay.objects.get(id_number=AN_ID).origin_province_code


def test_the_province_of_origin_is_the_registrys_current_ward_not_the_address_text(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    # Anh An's registry row has moved him to a ward of Hồ Chí Minh City while his address text
    # still names Tây Hồ, Hà Nội (an old text): the verified ward decides (ADR 0018, fourth step).
    from dancu.blocks.adminunits import services as adminunits
    from dancu.blocks.registry.models import Citizen

    saigon = adminunits.wards_of_province("79")[0].code
    Citizen.objects.filter(id_number=AN_ID).update(permanent_ward_code=saigon)
    assert _origin_of_an(hotel_clerk) == "79"
    stay = Stay.objects.get(id_number=AN_ID)
    assert "Hà Nội" in stay.permanent_address  # the address stored is the registry's text
    # The ward code is a release the citizen sees in the verification's audit event.
    event = AuditEvent.objects.filter(action="identity.verify", subject_citizen_id__isnull=False).latest("id")
    assert "permanent_ward_code" in event.detail["fields"]
    from dancu.apps.web.labels import FIELD, label

    assert label(FIELD, "permanent_ward_code") != "permanent_ward_code"  # named on the citizen's page


def test_without_a_registry_ward_the_address_text_gives_the_province(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    from dancu.blocks.registry.models import Citizen

    Citizen.objects.filter(id_number=AN_ID).update(permanent_ward_code="")
    assert _origin_of_an(hotel_clerk) == "01"  # Tây Hồ, Hà Nội, resolved from the text


def test_a_ward_code_the_catalogue_does_not_know_falls_back_to_the_text(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    from dancu.blocks.registry.models import Citizen

    Citizen.objects.filter(id_number=AN_ID).update(permanent_ward_code="99999")
    assert _origin_of_an(hotel_clerk) == "01"
