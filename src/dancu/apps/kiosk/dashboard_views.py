"""The evaluation dashboard page (``/danh-gia-dvc/``): filters, figures, charts, CSV/XLSX export.
Staff log-in through the platform's SSO; ``dashboard.may_view`` decides who may open it."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from dancu.apps.console.forms import VietnameseDateField
from dancu.apps.kiosk import dashboard
from dancu.apps.residence import charts
from dancu.apps.web.staff import staff_view
from dancu.blocks.audit.context import Actor
from dancu.blocks.linkage.files import write_csv, write_xlsx
from dancu.errors import AccessDenied, DomainValidationError

evaluation_view = staff_view(
    may_act=dashboard.may_view,
    no_organisation=lambda request: render(request, "kiosk/dashboard_denied.html", {}, status=403),
    not_authorised="kiosk/dashboard_denied.html",
    membership_ended=lambda request: request.get_full_path(),
)


class FilterForm(forms.Form):
    start = VietnameseDateField(required=False)
    end = VietnameseDateField(required=False)
    office = forms.CharField(required=False, max_length=40)
    format = forms.ChoiceField(choices=[("", ""), ("csv", "csv"), ("xlsx", "xlsx")], required=False)


def _en() -> bool:
    return (get_language() or "vi").startswith("en")


@require_GET
@evaluation_view
def dashboard_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = FilterForm(request.GET or None)
    problems: list[str] = []
    evaluation = None
    status = 200
    if request.GET and not form.is_valid():
        problems = [f"{k}: {m}" for k, errors in form.errors.items() for m in errors]
        status = 422
    else:
        data = form.cleaned_data if request.GET else {}
        try:
            f = dashboard.filters(actor, data.get("start"), data.get("end"), data.get("office") or "")
            evaluation = dashboard.evaluate(actor, f)
        except DomainValidationError as exc:
            problems = [f"{p.field}: {p.message}" for p in exc.problems]
            status = 422
        except AccessDenied as exc:
            return render(request, "kiosk/dashboard_denied.html", {"reason": str(exc)}, status=403)
    if evaluation is not None and data.get("format"):
        name = f"danh-gia-dvc-{evaluation.filters.start:%Y%m%d}-{evaluation.filters.end:%Y%m%d}"
        table = dashboard.rows(evaluation)
        if data["format"] == "csv":
            response = HttpResponse(
                write_csv(dashboard.HEADER, table), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        else:
            response = HttpResponse(
                write_xlsx({"Đánh giá DVC": (dashboard.HEADER, table)}),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    context = {
        "form": form,
        "problems": problems,
        "e": evaluation,
        "offices": dashboard.offices(actor),
        "actor": actor,
    }
    if evaluation is not None:
        en = _en()
        fmt = "%m/%Y" if evaluation.monthly else "%d/%m"
        labels = [d.strftime(fmt) for d, _, _ in evaluation.series]
        context["chart_total"] = charts.bars(
            "Dossiers per period" if en else "Số hồ sơ theo thời gian",
            labels,
            [t for _, t, _ in evaluation.series],
            testid="chart-dossiers",
        )
        context["chart_kiosk"] = charts.line(
            "Share submitted at a kiosk (%)" if en else "Tỷ lệ nộp tại ki-ốt (%)",
            labels,
            [round(100 * k / t, 1) if t else None for _, t, k in evaluation.series],
            testid="chart-kiosk",
        )
        context["chart_late"] = charts.bars(
            "Late dossiers by procedure" if en else "Hồ sơ trễ hạn theo thủ tục",
            [str(s.number) for s, _ in evaluation.by_service],
            [g.late for _, g in evaluation.by_service],
            testid="chart-late",
        )
        context["service_rows"] = [
            {"s": s, "name": s.name_en if en else s.name_vi, "g": g} for s, g in evaluation.by_service
        ]
        context["office_rows"] = [
            {"name": evaluation.office_names.get(o, " · ".join(x for x in o if x)), "g": g}
            for o, g in evaluation.by_office
        ]
        context["query"] = request.GET.urlencode()
    return render(request, "kiosk/dashboard.html", context, status=status)
