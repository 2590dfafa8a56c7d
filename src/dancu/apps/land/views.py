"""Pages of the land office (``/dat-dai/``): import a cleaned register, work the queue (unmatched,
uncertain, deceased, moved owners; proposed corrections with their provenance, accepted or
rejected one by one) and export the register with ID numbers. Thin views over ``services``."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dancu.apps.land import services
from dancu.apps.land.models import LandOffice
from dancu.apps.web.staff import form_problems, problems_of, shown, staff_view
from dancu.blocks.audit.context import Actor
from dancu.errors import AccessDenied, Conflict, DomainValidationError, FieldProblem, NotFound

_ERRORS = (DomainValidationError, AccessDenied, NotFound)

land_actor = staff_view(
    may_act=lambda a: (
        a.organisation_id is not None
        and LandOffice.objects.filter(organisation_id=a.organisation_id).exists()
    ),
    no_organisation=lambda request: render(request, "land/not_authorised.html", status=403),
    not_authorised="land/not_authorised.html",
    membership_ended=lambda request: request.get_full_path(),
)


class ImportForm(forms.Form):
    job = forms.ChoiceField(label=_("Finished cleaning job"))
    title = forms.CharField(label=_("Title"), max_length=255)
    certificate_column = forms.CharField(label=_("Column holding the certificate number"), max_length=200)
    parcel_column = forms.CharField(label=_("Column holding the parcel"), max_length=200)


def _error(request: HttpRequest, problems: list[FieldProblem], status: int) -> HttpResponse:
    return render(request, "land/error.html", {"problems": shown(problems)}, status=status)


@land_actor
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = ImportForm(request.POST or None)
    jobs = [(str(j.job_id), f"{j.reference} — {j.file_name}") for j in services.finished_jobs(actor)]
    form.fields["job"].choices = jobs  # type: ignore[attr-defined]
    problems: list[FieldProblem] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                view = services.import_register(
                    actor,
                    int(d["job"]),
                    title=d["title"],
                    certificate_column=d["certificate_column"],
                    parcel_column=d["parcel_column"],
                )
                return HttpResponseRedirect(reverse("land:register", args=[view.register_id]))
            except _ERRORS as exc:
                problems, status = problems_of(exc)
        else:
            problems, status = form_problems(form, non_field="job"), 400
    context = {"form": form, "registers": services.registers(actor), "problems": shown(problems)}
    return render(request, "land/index.html", context, status=status)


@land_actor
@require_GET
def register(request: HttpRequest, actor: Actor, register_id: int) -> HttpResponse:
    try:
        view, records, queue = services.get_register(actor, register_id)
    except _ERRORS as exc:
        return _error(request, *problems_of(exc))
    return render(request, "land/register.html", {"register": view, "records": records, "queue": queue})


@land_actor
@require_POST
def correction(request: HttpRequest, actor: Actor, register_id: int, correction_id: int) -> HttpResponse:
    decision = request.POST.get("decision")
    if decision not in ("accept", "reject"):
        return _error(request, [FieldProblem("decision", "choice", "accept or reject")], 400)
    try:
        services.decide_correction(actor, correction_id, accept=decision == "accept")
    except Conflict as exc:
        return _error(request, [FieldProblem("correction", "state", str(exc))], 409)
    except _ERRORS as exc:
        return _error(request, *problems_of(exc))
    return HttpResponseRedirect(reverse("land:register", args=[register_id]) + f"#c{correction_id}")


@land_actor
@require_GET
def export(request: HttpRequest, actor: Actor, register_id: int, fmt: str) -> HttpResponse:
    try:
        name, content = services.export_register(actor, register_id, fmt=fmt)
    except _ERRORS as exc:
        return _error(request, *problems_of(exc))
    kind = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(content, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@never_cache
@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """The citizen's own certificates (``services.my_certificates``)."""
    try:
        rows = services.my_certificates(int(request.user.pk or 0))
    except NotFound as exc:
        return render(request, "land/mine.html", {"problems": shown(problems_of(exc)[0])}, status=404)
    return render(request, "land/mine.html", {"rows": rows})
