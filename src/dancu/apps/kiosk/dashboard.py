"""The evaluation dashboard of online public services (models 2 and 3 of Decision 06/QĐ-TTg):
dossiers by service, on time vs late, average handling time, the share submitted online vs at a
kiosk, the share handled with no paper — for a period and an office.

Definitions (docs/public-services.md, "Evaluation dashboard"):

* **late** — a closed dossier (result or refusal) decided after its due date, or an open dossier
  whose due date has passed (Decree 61/2018/NĐ-CP Art. 19: the time limit of the procedure);
  **on time** — every other dossier of the period;
* **handling time** — from submission to the decision, closed dossiers only;
* **kiosk** — submitted at a one-stop office kiosk (the dossier's channel), otherwise **online**;
* **paperless** — a dossier of a service the catalogue marks paperless (all data from registries
  or typed, no paper) that carries no uploaded document (``Dossier.has_upload``).

Counted in the database (conditional aggregates) by the public services' own
``aggregate_dossiers``, which checks who may count which office; never row by row. Only counts
and durations reach this module — no name or number — and each view of the dashboard is recorded
in the audit log with its filters.

**Who sees what.** Officials of a ward police station or people's committee (purpose
``public_service.processing``): their own office only. The city police (``police_city`` with
that purpose) and the departments' statistics officers (``statistics.aggregate``): every office.
Everyone else: ``AccessDenied``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.utils import timezone

from dancu.apps.public_services import catalogue
from dancu.apps.public_services import services as dossiers
from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.organisations.models import Organisation
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem

ACTION = "public_service.evaluation"
STATISTICS = dossiers.STATISTICS
MAX_DAYS = 800
DAILY_UP_TO = 62  # longer periods are charted by month
CLOSED = ("done", "refused")  # ``Dossier.Status`` of the public services
KIOSK = "kiosk"  # ``Dossier.Channel.KIOSK``

Office = dossiers.Office  # (authority kind, ward or province code, department code)
WARD_KINDS = dossiers.WARD_KINDS
CITY_KINDS = dossiers.CITY_KINDS


# --------------------------------------------------------------------------- access
def _office_of_organisation(kind: str, ward: str, province: str, code: str) -> Office:
    """The authority an organisation is, as dossiers name it (``Dossier.authority_*``)."""
    if kind in WARD_KINDS:
        return kind, ward, ""
    return kind, province, code if kind == catalogue.DEPARTMENT else ""


def _city_wide(actor: Actor) -> bool:
    return dossiers.reads_city_wide(actor)


def scope(actor: Actor, *, raise_denied: bool = True) -> Office | None:
    """The one office an official may evaluate (a ward's police or committee, a department);
    None for city-wide viewers (the city police, statistics officers). ``AccessDenied`` for anyone
    else (or None with ``raise_denied=False``)."""
    if _city_wide(actor):
        return None
    if dossiers.is_official(actor):
        code = ""
        if actor.organisation_kind == catalogue.DEPARTMENT and actor.organisation_id is not None:
            code = (
                Organisation.objects.filter(pk=actor.organisation_id).values_list("code", flat=True).first()
                or ""
            )
        return _office_of_organisation(
            actor.organisation_kind,
            actor.jurisdiction_ward_code or "",
            actor.jurisdiction_province_code or "",
            code,
        )
    if not raise_denied:
        return None
    raise AccessDenied("the evaluation dashboard is for public service officials and statisticians")


def may_view(actor: Actor) -> bool:
    return _city_wide(actor) or dossiers.is_official(actor)


def purpose_of(actor: Actor) -> str:
    return dossiers.PURPOSE if actor.may(dossiers.PURPOSE) else STATISTICS


# --------------------------------------------------------------------------- filters
@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    office: Office | None = None


_OFFICE_RE = re.compile(r"^([a-z_]{1,32}):([0-9]{2}|[0-9]{5}):([A-Z0-9-]{0,40})\Z")


def office_key(office: Office) -> str:
    return ":".join(office)


def parse_office(value: str) -> Office | None:
    """``kind:ward-or-province:department-code`` (empty: every office)."""
    text = (value or "").strip()
    if not text:
        return None
    match = _OFFICE_RE.match(text)
    if match is None or match.group(1) not in (*WARD_KINDS, *CITY_KINDS):
        raise DomainValidationError.single("office", "format", "Cơ quan không hợp lệ")
    kind, code, org = match.groups()
    return kind, code, org


def filters(actor: Actor, start: date | None, end: date | None, office: str = "") -> Filters:
    """Validated filters: the last 30 days by default; an official's office is imposed."""
    today = timezone.localdate()
    end = end or today
    start = start or end - timedelta(days=29)
    problems = []
    if start > end:
        problems.append(FieldProblem("start", "order", "Ngày bắt đầu phải trước ngày kết thúc"))
    elif (end - start).days > MAX_DAYS:
        problems.append(FieldProblem("start", "max_range", f"Tối đa {MAX_DAYS} ngày"))
    if problems:
        raise DomainValidationError(problems)
    chosen = parse_office(office)
    own = scope(actor)
    if own is not None:
        if chosen is not None and chosen != own:
            raise AccessDenied(
                "officials evaluate their own office only", field="office", rule="jurisdiction"
            )
        chosen = own
    return Filters(start, end, chosen)


def _organisations() -> list[tuple[Office, str]]:
    rows = (
        Organisation.objects.filter(kind__in=(*WARD_KINDS, *CITY_KINDS), active=True)
        .order_by("name")
        .values_list("kind", "jurisdiction_ward_code", "jurisdiction_province_code", "code", "name")
    )
    return [(_office_of_organisation(k, w, p, c), n) for k, w, p, c, n in rows]


def offices(actor: Actor) -> list[tuple[str, str]]:
    """The offices the actor may choose: (``office_key``, name)."""
    own = scope(actor)
    return [(office_key(o), n) for o, n in _organisations() if own is None or o == own]


# --------------------------------------------------------------------------- figures
@dataclass(frozen=True)
class Figures:
    total: int = 0
    closed: int = 0
    late: int = 0
    kiosk: int = 0
    paperless: int = 0
    handling: timedelta | None = None

    @property
    def on_time(self) -> int:
        return self.total - self.late

    @property
    def online(self) -> int:
        return self.total - self.kiosk

    def share(self, part: int) -> float | None:
        return round(100 * part / self.total, 1) if self.total else None

    @property
    def on_time_pct(self) -> float | None:
        return self.share(self.on_time)

    @property
    def kiosk_pct(self) -> float | None:
        return self.share(self.kiosk)

    @property
    def online_pct(self) -> float | None:
        return self.share(self.online)

    @property
    def paperless_pct(self) -> float | None:
        return self.share(self.paperless)

    @property
    def handling_hours(self) -> float | None:
        return round(self.handling.total_seconds() / 3600, 1) if self.handling is not None else None


@dataclass(frozen=True)
class Evaluation:
    filters: Filters
    totals: Figures
    by_service: list[tuple[catalogue.Service, Figures]]
    by_office: list[tuple[Office, Figures]]
    series: list[tuple[date, int, int]]  # (period start, dossiers, of which at a kiosk)
    monthly: bool = False
    office_names: dict[Office, str] = field(default_factory=dict)


def _period(f: Filters) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(f.start, time.min, tzinfo=tz), datetime.combine(
        f.end + timedelta(days=1), time.min, tzinfo=tz
    )


def _measures(today: date, open_statuses: tuple[str, ...]) -> dict[str, Any]:
    closed = Q(status__in=CLOSED)
    late = (closed & Q(decided_at__date__gt=F("due_on"))) | (
        Q(status__in=open_statuses) & Q(due_on__lt=today)
    )
    paperless = [s.code for s in catalogue.SERVICES if s.paperless]
    return {
        "total": Count("pk"),
        "closed": Count("pk", filter=closed),
        "late": Count("pk", filter=late),
        "kiosk": Count("pk", filter=Q(channel=KIOSK)),
        # A dossier with an attached document (an ``upload`` item) is not paperless.
        "paperless": Count("pk", filter=Q(service_code__in=paperless, has_upload=False)),
        "handling": Avg(
            ExpressionWrapper(F("decided_at") - F("submitted_at"), output_field=DurationField()),
            filter=closed & Q(decided_at__isnull=False),
        ),
    }


def _figures(row: dict[str, Any]) -> Figures:
    handling = row.get("handling")
    if handling is not None and not isinstance(handling, timedelta):  # SQLite: microseconds
        handling = timedelta(microseconds=float(handling))
    return Figures(row["total"], row["closed"], row["late"], row["kiosk"], row["paperless"], handling)


def evaluate(actor: Actor, f: Filters, *, today: date | None = None) -> Evaluation:
    """The dashboard's figures for ``f`` (already checked by :func:`filters` for this actor)."""
    own = scope(actor)
    if own is not None and f.office != own:
        raise AccessDenied("officials evaluate their own office only", field="office", rule="jurisdiction")
    today = today or timezone.localdate()
    lo, hi = _period(f)
    m = _measures(today, dossiers.OPEN_STATUSES)

    def figures(**by: Any) -> list[dict[str, Any]]:
        return dossiers.aggregate_dossiers(
            actor, submitted_from=lo, submitted_before=hi, office=f.office, **by
        )

    totals = _figures(figures(measures=m)[0])
    by_service = [
        (catalogue.BY_CODE[r["service_code"]], _figures(r))
        for r in figures(measures=m, group_by=("service_code",))
        if r["service_code"] in catalogue.BY_CODE
    ]
    by_service.sort(key=lambda pair: pair[0].number)
    by_office = [
        ((r["authority_kind"], r["authority_ward_code"], r["authority_org_code"]), _figures(r))
        for r in figures(measures=m, group_by=("authority_kind", "authority_ward_code", "authority_org_code"))
    ]
    monthly = (f.end - f.start).days >= DAILY_UP_TO
    series_rows = figures(
        measures={"total": Count("pk"), "kiosk": Count("pk", filter=Q(channel=KIOSK))},
        period="month" if monthly else "day",
    )
    series = [(_as_date(r["period"]), r["total"], r["kiosk"]) for r in series_rows]
    wanted = {o for o, _ in by_office}
    names = {o: n for o, n in _organisations() if o in wanted}
    audit.record(
        AccessContext(actor, purpose_of(actor)),
        ACTION,
        detail={
            "start": f.start.isoformat(),
            "end": f.end.isoformat(),
            "office": office_key(f.office) if f.office else "",
        },
    )
    return Evaluation(f, totals, by_service, by_office, series, monthly, names)


def _as_date(value: date | datetime) -> date:
    return timezone.localtime(value).date() if isinstance(value, datetime) else value


# --------------------------------------------------------------------------- export
HEADER = [
    "Mã thủ tục / Code",
    "Thủ tục / Procedure",
    "Tổng số hồ sơ / Dossiers",
    "Đúng hạn / On time",
    "Trễ hạn / Late",
    "Đã giải quyết / Closed",
    "Thời gian xử lý TB (giờ) / Average handling (hours)",
    "Trực tuyến / Online",
    "Tại ki-ốt / At a kiosk",
    "Không giấy / Paperless",
]


def rows(e: Evaluation) -> list[list[object]]:
    def line(code: str, name: str, g: Figures) -> list[object]:
        hours = g.handling_hours
        return [
            code,
            name,
            g.total,
            g.on_time,
            g.late,
            g.closed,
            "" if hours is None else hours,
            g.online,
            g.kiosk,
            g.paperless,
        ]

    out = [line(s.code, s.name_vi, g) for s, g in e.by_service]
    out.append(line("", "Tổng cộng / Total", e.totals))
    return out
