"""Residence pages of the second increment: coach trips and manifests (model 12), hospital
admissions and discharges (model 11), the police's manifests, and the anonymised statistics with
their charts and CSV / XLSX exports. Thin views: parse, call one service, render."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from dancu.apps.residence import charts, coaches, hospitals, services, webhook_admin
from dancu.apps.residence import statistics as stats
from dancu.apps.residence.forms import AdmitForm, BoardForm, CarerForm, StatisticsForm, TripForm
from dancu.apps.residence.views import _ctx, _refused
from dancu.apps.web.staff import form_problems, problems_of, shown
from dancu.errors import AccessDenied, Conflict, DomainValidationError, FieldProblem, NotFound

_ERRORS = (DomainValidationError, AccessDenied, NotFound)


def _key() -> dict[str, Any]:
    return {"method": "qr_text", "idempotency_key": uuid.uuid4().hex}


# --------------------------------------------------------------------------- coaches
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def coach(request: HttpRequest) -> HttpResponse:
    """The coach operator's trips; plan a new one."""
    ctx = _ctx(request, services.PURPOSE)
    now = timezone.localtime()
    form = TripForm(
        initial={
            "departure_at": (now + timedelta(hours=2)).strftime("%d/%m/%Y %H:%M"),
            "arrival_at": (now + timedelta(hours=8)).strftime("%d/%m/%Y %H:%M"),
        }
    )
    problems: list[FieldProblem] = []
    status = 200
    if request.method == "POST":
        form = TripForm(request.POST)
        if form.is_valid():
            try:
                trip = coaches.create_trip(ctx, **form.cleaned_data)
                return HttpResponseRedirect(reverse("residence:trip", args=[trip.trip_id]))
            except _ERRORS as exc:
                problems, status = problems_of(exc)
        else:
            problems, status = form_problems(form, non_field="trip"), 400
    try:
        establishment = services.establishment_for(ctx.actor)
        rows = coaches.trips(ctx)
    except _ERRORS as exc:
        return _refused(request, exc)
    return render(
        request,
        "residence/coach.html",
        {"establishment": establishment, "trips": rows, "form": form, "problems": shown(problems)},
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def trip(request: HttpRequest, trip_id: int) -> HttpResponse:
    """One trip's manifest: board passengers by scanning their cards; notify the manifest."""
    ctx = _ctx(request, services.PURPOSE)
    form = BoardForm(initial=_key())
    problems: list[FieldProblem] = []
    status = 200
    boarded: services.CheckInResult | None = None
    try:
        if request.method == "POST" and request.POST.get("action") == "notify":
            coaches.notify_manifest(ctx, trip_id)
            return HttpResponseRedirect(reverse("residence:trip", args=[trip_id]))
        if request.method == "POST":
            form = BoardForm(request.POST)
            if form.is_valid() and form.guest is not None:
                try:
                    boarded = coaches.board(
                        ctx,
                        trip_id,
                        [form.guest],
                        seat=form.cleaned_data["seat"],
                        idempotency_key=form.cleaned_data.get("idempotency_key") or "",
                    )
                    form = BoardForm(initial=_key())
                except Conflict as exc:
                    problems, status = [FieldProblem(exc.field, exc.rule, str(exc))], 409
                except DomainValidationError as exc:
                    problems, status = problems_of(exc)
            else:
                problems, status = form_problems(form, non_field="board"), 400
        manifest = coaches.manifest(ctx, trip_id)
    except _ERRORS as exc:
        return _refused(request, exc)
    return render(
        request,
        "residence/trip.html",
        {"manifest": manifest, "form": form, "boarded": boarded, "problems": shown(problems)},
        status=status,
    )


@never_cache
@login_required
def police_trips(request: HttpRequest) -> HttpResponse:
    """The police's manifests of trips leaving their area (2 days), one opened with ``?trip=``."""
    ctx = _ctx(request, services.POLICE_PURPOSE)
    opened: coaches.Manifest | None = None
    try:
        rows = coaches.police_trips(ctx)
        raw = request.GET.get("trip", "")
        if raw.isdigit():
            opened = coaches.police_manifest(ctx, int(raw))
    except _ERRORS as exc:
        return _refused(request, exc)
    return render(request, "residence/police_trips.html", {"trips": rows, "opened": opened})


# --------------------------------------------------------------------------- hospitals
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def hospital(request: HttpRequest) -> HttpResponse:
    """Admission of in-patients, their carers, discharge."""
    ctx = _ctx(request, services.PURPOSE)
    now = timezone.localtime()
    initial = {
        **_key(),
        "admitted_at": now.strftime("%d/%m/%Y %H:%M"),
        "expected_discharge": (now + timedelta(days=3)).replace(hour=10, minute=0).strftime("%d/%m/%Y %H:%M"),
    }
    form = AdmitForm(initial=initial)
    problems: list[FieldProblem] = []
    status = 200
    if request.method == "POST":
        form = AdmitForm(request.POST)
        if form.is_valid() and form.guest is not None:
            try:
                hospitals.admit_patient(
                    ctx,
                    form.guest,
                    bed=form.cleaned_data["bed"],
                    admitted_at=form.cleaned_data["admitted_at"],
                    expected_discharge=form.cleaned_data["expected_discharge"],
                    idempotency_key=form.cleaned_data.get("idempotency_key") or "",
                )
                return HttpResponseRedirect(reverse("residence:hospital"))
            except Conflict as exc:
                problems, status = [FieldProblem(exc.field, exc.rule, str(exc))], 409
            except (DomainValidationError, AccessDenied) as exc:
                problems, status = problems_of(exc)
        else:
            problems, status = form_problems(form, non_field="admission"), 400
    try:
        establishment = services.establishment_for(ctx.actor)
        patients = hospitals.in_patients(ctx)
    except _ERRORS as exc:
        return _refused(request, exc)
    return render(
        request,
        "residence/hospital.html",
        {
            "establishment": establishment,
            "patients": patients,
            "form": form,
            "carer_form": CarerForm(initial=_key()),
            "problems": shown(problems),
        },
        status=status,
    )


@never_cache
@login_required
@require_POST
def hospital_action(request: HttpRequest, stay_id: int, action: str) -> HttpResponse:
    """A carer for the in-patient ``stay_id``, or the patient's discharge."""
    ctx = _ctx(request, services.PURPOSE)
    try:
        if action == "carer":
            form = CarerForm(request.POST)
            if not form.is_valid() or form.guest is None:
                raise DomainValidationError(form_problems(form, non_field="carer"))
            hospitals.admit_carer(
                ctx, stay_id, form.guest, idempotency_key=form.cleaned_data.get("idempotency_key") or ""
            )
        elif action == "discharge":
            hospitals.discharge(ctx, stay_id)
        else:
            raise NotFound("no such action", field="action")
    except Conflict as exc:
        return _refused(request, DomainValidationError([FieldProblem(exc.field, exc.rule, str(exc))]))
    except _ERRORS as exc:
        return _refused(request, exc)
    return HttpResponseRedirect(reverse("residence:hospital"))


# --------------------------------------------------------------------------- statistics
@never_cache
@login_required
def statistics(request: HttpRequest) -> HttpResponse:
    """Anonymised statistics (purpose ``statistics.aggregate``) with charts; ``?format=csv`` or
    ``xlsx`` downloads the same figures."""
    ctx = _ctx(request, stats.PURPOSE)
    today = timezone.localdate()
    data = request.GET.copy()
    # The department's own sectors (Tourism: accommodation; Health: hospitals; IZ authority: dormitories).
    sectors = stats.sectors_of(ctx.actor)
    data.setdefault("sector", sectors[0] if sectors else "tourism")
    data.setdefault("period", "day")
    data.setdefault("start", (today - timedelta(days=13)).strftime("%d/%m/%Y"))
    data.setdefault("end", today.strftime("%d/%m/%Y"))
    form = StatisticsForm(data)
    if sectors:
        field = form.fields["sector"]
        field.choices = [c for c in field.choices if c[0] in sectors]  # type: ignore[attr-defined]
    problems: list[FieldProblem] = []
    report: stats.Report | None = None
    status = 200
    if form.is_valid():
        d = form.cleaned_data
        try:
            report = stats.report(
                ctx,
                sector=d["sector"],
                start=d["start"],
                end=d["end"],
                period=d["period"],
                ward_code=d["ward"],
            )
        except AccessDenied as exc:
            return _refused(request, exc)
        except DomainValidationError as exc:
            problems, status = problems_of(exc)
    else:
        problems, status = form_problems(form, non_field="statistics"), 400
    fmt = request.GET.get("format", "")
    if report is not None and fmt in ("csv", "xlsx"):
        name = f"luu-tru-{report.sector}-{report.period}-{report.start.isoformat()}-{report.end.isoformat()}"
        if fmt == "csv":
            response = HttpResponse(stats.to_csv(report), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(
                stats.to_xlsx(report),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
        return response
    context: dict[str, Any] = {"form": form, "report": report, "problems": shown(problems)}
    if report is not None:
        labels = [r.period for r in report.rows]
        context["arrivals_chart"] = charts.bars(
            "Arrivals / Lượt khách đến", labels, [r.arrivals for r in report.rows], testid="chart-arrivals"
        )
        context["occupancy_chart"] = charts.line(
            "Occupancy % / Công suất sử dụng giường",
            labels,
            [r.occupancy for r in report.rows],
            testid="chart-occupancy",
        )
        context["nationality_chart"] = charts.bars(
            "By nationality / Theo quốc tịch",
            list(report.by_nationality)[:15],
            list(report.by_nationality.values())[:15],
            testid="chart-nationality",
        )
        context["length_chart"] = charts.bars(
            "Length of stay (nights) / Số đêm lưu trú",
            list(report.length_of_stay),
            list(report.length_of_stay.values()),
            testid="chart-length",
        )
        query = request.GET.copy()
        query.update({k: str(v) for k, v in data.items() if k not in query})
        query.pop("format", None)
        context["export_query"] = query.urlencode()
        context["suppress_below"] = stats.SUPPRESS_BELOW
    return render(request, "residence/statistics.html", context, status=status)


# --------------------------------------------------------------------------- webhooks
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def webhooks_page(request: HttpRequest) -> HttpResponse:
    """The integrator's webhooks: register, rotate the secret (shown once), disable or enable,
    the latest deliveries and a retry of an undelivered one (``webhook_admin``; all audited)."""
    ctx = _ctx(request, services.PURPOSE)
    problems: list[FieldProblem] = []
    secret: services.WebhookView | None = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            target = int(request.POST.get("id") or 0)
            if action == "register":
                secret = webhook_admin.register(ctx, request.POST.get("url", ""))
            elif action == "rotate":
                secret = webhook_admin.rotate_secret(ctx, target)
            elif action in ("disable", "enable"):
                webhook_admin.set_active(ctx, target, action == "enable")
            elif action == "retry":
                webhook_admin.retry(ctx, target)
            else:
                raise NotFound("no such action", field="action")
        except ValueError:
            problems, status = [FieldProblem("id", "integer", "must be a whole number")], 400
        except AccessDenied as exc:
            return _refused(request, exc)
        except (DomainValidationError, NotFound) as exc:
            problems, status = problems_of(exc)
    try:
        hooks = webhook_admin.overview(ctx)
    except (AccessDenied, NotFound) as exc:
        return _refused(request, exc)
    return render(
        request,
        "residence/webhooks.html",
        {"hooks": hooks, "secret": secret, "problems": shown(problems)},
        status=status,
    )
