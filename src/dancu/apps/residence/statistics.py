"""Anonymised statistics of residence notifications for Tourism, Health and the industrial-zone
authority (purpose ``statistics.aggregate``; statistics officers of a department only).

What is computed, for a sector (tourism accommodation, hospitals, industrial-zone dormitories,
rented housing), a date range, a period (day, ISO week, month) and optionally one ward:

* per period: arrivals (guests), guest-nights, and occupancy = guest-nights ÷ (beds × nights);
* arrivals by nationality, by province of origin (the current province of a citizen's permanent
  address; foreigners and children: unknown), by ward of the establishment;
* length of stay (nights, from the arrival to the departure or the expected departure) in bands.

**Anonymisation rule (small-cell suppression).** Only counts leave this module — never a name, an
ID number or a stay. A count from 1 to 4 (``SUPPRESS_BELOW`` = 5) is *suppressed*: shown as "<5"
and left empty in the CSV and XLSX files. When a breakdown would have exactly one suppressed cell,
the smallest other non-zero cell is suppressed too (complementary suppression), so that no
suppressed count can be recovered from the total. Occupancy is shown only for a period whose
guest-nights are not suppressed. Zeros are shown.

**Sector of the viewer.** A department sees only the sectors assigned to it (``StatisticsSector``,
``dancu residence_sector``): Sở Du lịch tourism accommodation, Sở Y tế hospitals, the industrial-zone
authority IZ dormitories; any other sector is denied (audited).

**Computed by the database.** Each figure is a ``GROUP BY`` or a filtered ``count(*)`` (guest-nights:
one ``FILTER`` per night, 62 nights a statement); no stay is read into Python.

Every request is recorded in the access log (with its filters).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Case, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, NullIf, TruncDate, TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from dancu.apps.residence import rules, services
from dancu.apps.residence.models import Establishment, StatisticsSector, Stay
from dancu.blocks.adminunits import services as adminunits
from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.organisations.models import Organisation
from dancu.errors import DomainValidationError, FieldProblem, NotFound

PURPOSE = "statistics.aggregate"
SUPPRESS_BELOW = 5
MAX_DAYS = 800
K = Establishment.Kind
S = StatisticsSector.Sector
SECTORS: dict[str, tuple[str, tuple[str, ...]]] = {
    S.TOURISM: ("Du lịch / Tourism", (K.HOTEL, K.GUEST_HOUSE, K.HOMESTAY, K.APARTMENT, K.TOURIST_BOAT)),
    S.HEALTH: ("Y tế / Health", (K.HOSPITAL,)),
    S.INDUSTRIAL: ("Khu công nghiệp / Industrial zones", (K.IZ_DORMITORY,)),
    S.HOUSING: ("Nhà trọ, phòng cho thuê / Rented housing", (K.BOARDING_HOUSE, K.RENTAL_ROOM)),
}
PERIODS = ("day", "week", "month")
CHUNK = 62  # nights counted per statement (``_guest_nights``)
LENGTH_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0–1", 0, 1),
    ("2–3", 2, 3),
    ("4–7", 4, 7),
    ("8–14", 8, 14),
    ("15–30", 15, 30),
    ("31+", 31, 10**9),
)

Cell = int | None  # None: suppressed


def suppress(counts: Mapping[str, int]) -> dict[str, Cell]:
    """Small-cell suppression of one breakdown: 1–4 → None; with exactly one cell suppressed, the
    smallest other non-zero cell is suppressed too. Order of keys kept."""
    out: dict[str, Cell] = {k: (None if 0 < v < SUPPRESS_BELOW else v) for k, v in counts.items()}
    hidden = [k for k, v in out.items() if v is None]
    if len(hidden) == 1:
        shown = [(v, k) for k, v in out.items() if v]
        if shown:
            out[min(shown)[1]] = None
    return out


def total(counts: Mapping[str, int]) -> Cell:
    """A total is a cell too: suppressed when small."""
    n = sum(counts.values())
    return None if 0 < n < SUPPRESS_BELOW else n


@dataclass(frozen=True)
class PeriodRow:
    period: str  # "2026-03-01", "2026-W09" or "2026-03"
    arrivals: Cell
    guest_nights: Cell
    occupancy: float | None  # percent, None when unknown or suppressed


@dataclass(frozen=True)
class Report:
    sector: str
    sector_label: str
    period: str
    start: date
    end: date
    ward_code: str
    beds: int
    establishments: int
    rows: tuple[PeriodRow, ...]
    arrivals_total: Cell
    by_nationality: dict[str, Cell]
    by_province: dict[str, Cell]
    by_ward: dict[str, Cell]
    length_of_stay: dict[str, Cell]


def _period_key(day: date, period: str) -> str:
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def _days(start: date, end: date) -> Iterable[date]:
    for i in range((end - start).days + 1):
        yield start + timedelta(days=i)


def _check(ctx: AccessContext, action: str) -> None:
    services._check_purpose(ctx, action, PURPOSE)


def _label(code: str, fn: object) -> str:
    try:
        return str(fn(code))  # type: ignore[operator]
    except NotFound:
        return code


def sectors_of_organisation(organisation_id: int) -> list[str]:
    """The sectors whose statistics a department sees (``StatisticsSector``), in ``SECTORS`` order."""
    found = set(
        StatisticsSector.objects.filter(organisation_id=organisation_id).values_list("sector", flat=True)
    )
    return [str(k) for k in SECTORS if k in found]


def sectors_of(actor: Actor) -> list[str]:
    """The sectors the actor's department sees; none for an actor without an organisation."""
    return sectors_of_organisation(actor.organisation_id) if actor.organisation_id is not None else []


def assign_sector(organisation_id: int, sector: str, *, by: str) -> None:
    """Let a department's statistics officers see ``sector`` (administration: ``dancu
    residence_sector``). Only a department (``Organisation.Kind.DEPARTMENT``) may receive one."""
    org = Organisation.objects.filter(pk=organisation_id).first()
    if org is None:
        raise NotFound("no organisation with that id", field="organisation")
    problems: list[FieldProblem] = []
    if sector not in SECTORS:
        problems.append(FieldProblem("sector", "choice", f"must be one of {', '.join(SECTORS)}"))
    if org.kind != Organisation.Kind.DEPARTMENT:
        problems.append(FieldProblem("organisation", "kind", "only a department sees sector statistics"))
    if problems:
        raise DomainValidationError(problems)
    StatisticsSector.objects.get_or_create(organisation=org, sector=sector, defaults={"created_by": by[:150]})


_TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


def _local_day(value: date | datetime) -> date:
    return value.astimezone(rules.VN).date() if isinstance(value, datetime) else value


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=rules.VN)


def _grouped(stays: QuerySet[Stay], expression: Any) -> Counter[Any]:
    """``SELECT key, count(*) … GROUP BY key``: one statement, the counting done by the database."""
    rows = stays.annotate(k=expression).order_by().values_list("k").annotate(n=Count("id"))
    return Counter(dict(rows))


def _guest_nights(stays: QuerySet[Stay], days: list[date]) -> dict[date, int]:
    """Per night ``d``, the guests present that night (arrived before the next midnight, not left
    before it): one conditional ``count(*) FILTER (…)`` per night, ``CHUNK`` nights a statement."""
    out: dict[date, int] = {}
    for i in range(0, len(days), CHUNK):
        part = days[i : i + CHUNK]
        counts = stays.order_by().aggregate(
            **{
                f"n{j}": Count(
                    "id",
                    filter=Q(arrival__lt=_midnight(d + timedelta(days=1)))
                    & (Q(departed_at__isnull=True) | Q(departed_at__gte=_midnight(d + timedelta(days=1)))),
                )
                for j, d in enumerate(part)
            }
        )
        out.update({d: int(counts[f"n{j}"] or 0) for j, d in enumerate(part)})
    return out


def report(
    ctx: AccessContext,
    *,
    sector: str,
    start: date,
    end: date,
    period: str = "day",
    ward_code: str = "",
    now: datetime | None = None,
) -> Report:
    """The anonymised report (see the module docstring), aggregated by the database: a handful of
    ``GROUP BY`` statements whatever the number of stays, never a stay read into Python.
    ``DomainValidationError`` for a bad filter; ``AccessDenied`` (audited) for anyone without
    ``statistics.aggregate`` or whose department does not cover ``sector`` (``sectors_of``)."""
    action = "residence.statistics"
    _check(ctx, action)
    problems: list[FieldProblem] = []
    if sector not in SECTORS:
        problems.append(FieldProblem("sector", "choice", f"must be one of {', '.join(SECTORS)}"))
    if period not in PERIODS:
        problems.append(FieldProblem("period", "choice", f"must be one of {', '.join(PERIODS)}"))
    if not isinstance(start, date) or not isinstance(end, date) or end < start:
        problems.append(FieldProblem("end", "after_start", "the end date must not be before the start"))
    elif (end - start).days >= MAX_DAYS:
        problems.append(FieldProblem("end", "range", f"at most {MAX_DAYS} days"))
    if ward_code and not (ward_code.isdigit() and len(ward_code) == 5):
        problems.append(FieldProblem("ward", "format", "a ward code has 5 digits"))
    if problems:
        raise DomainValidationError(problems)
    if sector not in sectors_of(ctx.actor):
        raise services._deny(
            ctx,
            action,
            "sector",
            f"your department does not see the {sector!r} sector's statistics",
            "sector",
        )
    moment = now or timezone.now()
    label, kinds = SECTORS[sector]
    ests = Establishment.objects.filter(kind__in=kinds)
    if ward_code:
        ests = ests.filter(ward_code=ward_code)
    beds = int(ests.aggregate(b=Sum("beds"))["b"] or 0)
    lo, hi = _midnight(start), _midnight(end + timedelta(days=1))
    today = timezone.localdate(moment)
    counted = Stay.objects.filter(establishment__in=ests).exclude(role=Stay.Role.PASSENGER)
    arrived = counted.filter(arrival__gte=lo, arrival__lt=hi)
    foreigner = Q(guest_kind=Stay.GuestKind.FOREIGNER)
    arrivals_by: Counter[str] = Counter()
    for when, n in _grouped(arrived, _TRUNC[period]("arrival", tzinfo=rules.VN)).items():
        arrivals_by[_period_key(_local_day(when), period)] += n
    nationality = _grouped(
        arrived,
        Case(
            When(foreigner, then=Coalesce(NullIf(F("nationality"), Value("")), Value("?"))),
            default=Value("VNM"),
        ),
    )
    province = _grouped(
        arrived,
        Case(
            When(
                Q(guest_kind=Stay.GuestKind.CITIZEN) & ~Q(origin_province_code=""),
                then=F("origin_province_code"),
            ),
            default=Value("?"),
        ),
    )
    ward = _grouped(arrived, F("establishment__ward_code"))
    nights_expr = ExpressionWrapper(
        TruncDate(Coalesce("departed_at", "expected_departure"), tzinfo=rules.VN)
        - TruncDate("arrival", tzinfo=rules.VN),
        output_field=DurationField(),
    )
    bands = _grouped(
        arrived.annotate(nights=nights_expr),
        Case(
            *[When(nights__lte=timedelta(days=b[2]), then=Value(b[0])) for b in LENGTH_BANDS[:-1]],
            default=Value(LENGTH_BANDS[-1][0]),
        ),
    )
    length: Counter[str] = Counter({b[0]: bands.get(b[0], 0) for b in LENGTH_BANDS})
    # Guest-nights of the nights of the range up to tonight (a guest still staying counts tonight).
    nightly = _guest_nights(
        counted.filter(arrival__lt=hi).filter(Q(departed_at__isnull=True) | Q(departed_at__gte=lo)),
        [d for d in _days(start, end) if d <= today],
    )
    nights: Counter[str] = Counter()
    for day, n in nightly.items():
        nights[_period_key(day, period)] += n
    keys: list[str] = []
    for day in _days(start, end):
        k = _period_key(day, period)
        if not keys or keys[-1] != k:
            keys.append(k)
    days_in: Counter[str] = Counter(_period_key(d, period) for d in _days(start, end))
    a = suppress({k: arrivals_by[k] for k in keys})
    g = suppress({k: nights[k] for k in keys})
    rows = tuple(
        PeriodRow(
            k,
            a[k],
            g[k],
            round(100 * nights[k] / (beds * days_in[k]), 1) if beds and g[k] is not None else None,
        )
        for k in keys
    )
    unknown = "Không rõ / Unknown"
    by_province = {
        (unknown if k == "?" else _label(k, lambda c: adminunits.province(c).full_name)): v
        for k, v in suppress(dict(province.most_common())).items()
    }
    by_ward = {_label(k, adminunits.ward_label): v for k, v in suppress(dict(ward.most_common())).items()}
    result = Report(
        sector=sector,
        sector_label=label,
        period=period,
        start=start,
        end=end,
        ward_code=ward_code,
        beds=beds,
        establishments=ests.count(),
        rows=rows,
        arrivals_total=total(arrivals_by),
        by_nationality=suppress(dict(nationality.most_common())),
        by_province=by_province,
        by_ward=by_ward,
        length_of_stay=suppress(dict(length)),
    )
    audit.record(
        ctx,
        action,
        detail={
            "sector": sector,
            "period": period,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "ward": ward_code,
        },
    )
    return result


# --------------------------------------------------------------------------- exports
def _cell(v: Cell) -> str:
    return "" if v is None else str(v)


def table_rows(r: Report) -> list[tuple[str, str, str, str, str]]:
    """Every figure of the report as (table, key, arrivals/count, guest-nights, occupancy %)."""
    out: list[tuple[str, str, str, str, str]] = []
    for p in r.rows:
        out.append(
            (
                "period",
                p.period,
                _cell(p.arrivals),
                _cell(p.guest_nights),
                "" if p.occupancy is None else str(p.occupancy),
            )
        )
    for table, data in (
        ("nationality", r.by_nationality),
        ("province", r.by_province),
        ("ward", r.by_ward),
        ("length_of_stay_nights", r.length_of_stay),
    ):
        out += [(table, k, _cell(v), "", "") for k, v in data.items()]
    out.append(("total", "arrivals", _cell(r.arrivals_total), "", ""))
    return out


HEADER = ("table", "key", "count", "guest_nights", "occupancy_percent")


def to_csv(r: Report) -> str:
    """CSV (UTF-8 with a BOM, for spreadsheet programs); suppressed cells are empty."""
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["# sector", r.sector, "period", r.period, f"{r.start.isoformat()}..{r.end.isoformat()}"])
    w.writerow(["# suppressed", f"counts below {SUPPRESS_BELOW} are left empty", "", "", ""])
    w.writerow(HEADER)
    w.writerows(table_rows(r))
    return buf.getvalue()


def to_xlsx(r: Report) -> bytes:
    """An XLSX workbook (openpyxl): one sheet per table; suppressed cells are empty."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    info = wb.create_sheet("report")
    info.append(["sector", r.sector_label])
    info.append(["period", r.period])
    info.append(["from", r.start.isoformat()])
    info.append(["to", r.end.isoformat()])
    info.append(["ward", r.ward_code or "all"])
    info.append(["suppression", f"counts below {SUPPRESS_BELOW} are left empty"])
    sheets: dict[str, object] = {}
    for table, key, count, nights, occ in table_rows(r):
        sheet = sheets.get(table)
        if sheet is None:
            sheet = wb.create_sheet(table[:31])
            sheet.append(
                ["key", "count", "guest_nights", "occupancy_percent"]
                if table == "period"
                else ["key", "count"]
            )
            sheets[table] = sheet
        values: list[object] = [key, int(count) if count else None]
        if table == "period":
            values += [int(nights) if nights else None, float(occ) if occ else None]
        sheet.append(values)  # type: ignore[attr-defined]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
