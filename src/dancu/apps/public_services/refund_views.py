"""The officials' page of payments to refund (``/dich-vu-cong/can-bo/hoan-tien/``): the list of
their authority's payments due for refund, CSV/XLSX export, and recording a refund (``refunds``)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dancu.apps.public_services import catalogue, refunds
from dancu.apps.public_services.views import official_view
from dancu.blocks.audit.context import Actor
from dancu.blocks.linkage.files import write_csv, write_xlsx
from dancu.errors import AccessDenied, DomainValidationError, NotFound

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(
    request: HttpRequest, actor: Actor, problems: list[dict[str, str]] | None = None, status: int = 200
) -> HttpResponse:
    include = request.GET.get("refunded") == "1"
    rows = [
        {
            "p": p,
            "service": (
                s.name_vi if (s := catalogue.BY_CODE.get(p.dossier.service_code)) else p.dossier.service_code
            ),
            "amount": f"{p.amount_vnd:,}".replace(",", "."),
        }
        for p in refunds.refunds(actor, include_refunded=include)[:500]
    ]
    context = {"rows": rows, "actor": actor, "include": include, "problems": problems or []}
    return render(request, "public_services/refunds.html", context, status=status)


@official_view
@require_GET
def refunds_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    fmt = request.GET.get("format", "")
    if fmt not in ("", "csv", "xlsx"):
        problem = {
            "field": "format",
            "rule": "choice",
            "message": "csv hoặc xlsx / csv or xlsx",
            "label": "format",
        }
        return _page(request, actor, [problem], 422)
    if not fmt:
        return _page(request, actor)
    payments = refunds.refunds(actor, include_refunded=request.GET.get("refunded") == "1")
    table = refunds.export_rows(actor, payments)
    name = f"hoan-tien-{timezone.localdate():%Y%m%d}"
    if fmt == "csv":
        response = HttpResponse(
            write_csv(refunds.EXPORT_HEADER, table), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(write_xlsx({"Hoàn tiền": (refunds.EXPORT_HEADER, table)}), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@official_view
@require_POST
def refund_mark(request: HttpRequest, actor: Actor, reference: str) -> HttpResponse:
    try:
        refunds.mark_refunded(actor, reference[:40], request.POST.get("refund_reference", ""))
    except NotFound:
        raise Http404 from None
    except AccessDenied:
        return render(request, "public_services/not_authorised.html", {"other_ward": True}, status=403)
    except DomainValidationError as exc:
        problems = [
            {"field": p.field, "rule": p.rule, "message": p.message, "label": p.field} for p in exc.problems
        ]
        return _page(request, actor, problems, 422)
    return HttpResponseRedirect(reverse("public_services:refunds"))
