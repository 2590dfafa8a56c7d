"""Data-cleaning pages (``/cleaning/``): an official uploads a sector file, maps its columns, runs
the job (a worker thread; the page polls the progress), reviews the uncertain pairs side by side
(keyboard: ``j``/``k`` move, ``a`` accept, ``r`` reject) and downloads the cleaned file with its
quality report. Thin views over ``dancu.blocks.linkage.services`` (purpose ``data.cleaning``)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dancu.apps.cleaning.forms import FIELD_LABELS, REPORT_LABELS, DecisionForm, MappingForm, UploadForm
from dancu.apps.web import labels
from dancu.apps.web.staff import form_problems, problems_of, shown, staff_view
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.linkage import services
from dancu.errors import AccessDenied, Conflict, DomainValidationError, FieldProblem, NotFound

_ERRORS = (DomainValidationError, AccessDenied, NotFound)

cleaning_actor = staff_view(
    may_act=lambda actor: actor.may(services.PURPOSE),
    no_organisation=lambda request: render(
        request, "cleaning/not_authorised.html", {"no_organisation": True}, status=403
    ),
    not_authorised="cleaning/not_authorised.html",
    membership_ended=lambda request: request.get_full_path(),
)


def _ctx(actor: Actor) -> AccessContext:
    return AccessContext(actor, services.PURPOSE)


def _error(request: HttpRequest, problems: list[FieldProblem], status: int) -> HttpResponse:
    return render(request, "cleaning/error.html", {"problems": shown(problems)}, status=status)


@cleaning_actor
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    problems: list[FieldProblem] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            f = form.cleaned_data["file"]
            try:
                view = services.upload(_ctx(actor), f.name, f.file)  # streamed, never read whole
                return HttpResponseRedirect(reverse("cleaning:job", args=[view.job_id]))
            except _ERRORS as exc:
                problems, status = problems_of(exc)
        else:
            problems, status = form_problems(form, non_field="file"), 400
    jobs = services.list_jobs(_ctx(actor))
    context = {"form": form, "jobs": jobs, "problems": shown(problems), "actor": actor}
    return render(request, "cleaning/index.html", context, status=status)


@cleaning_actor
@require_http_methods(["GET", "POST"])
def job(request: HttpRequest, actor: Actor, job_id: int) -> HttpResponse:
    ctx = _ctx(actor)
    try:
        view = services.get_job(ctx, job_id)
    except _ERRORS as exc:
        return _error(request, *problems_of(exc))
    form = MappingForm(view.columns, request.POST or None, initial=view.mapping)
    problems: list[FieldProblem] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.set_mapping(ctx, job_id, form.mapping())
                background = not getattr(settings, "DANCU_CLEANING_RUN_INLINE", False)
                services.start(ctx, job_id, background=background)
                return HttpResponseRedirect(reverse("cleaning:job", args=[job_id]))
            except Conflict as exc:
                problems, status = [FieldProblem("job", "state", str(exc))], 409
            except _ERRORS as exc:
                problems, status = problems_of(exc)
        else:
            problems, status = form_problems(form, non_field="mapping"), 400
        view = services.get_job(ctx, job_id)
    report = services.quality_report(ctx, job_id) if view.status == "done" else {}
    report_rows = [(key, REPORT_LABELS.get(key, key), value) for key, value in report.items()]
    context = {
        "job": view,
        "form": form,
        "problems": shown(problems),
        "report": report,
        "report_rows": report_rows,
        "labels": FIELD_LABELS,
    }
    return render(request, "cleaning/job.html", context, status=status)


@cleaning_actor
@require_GET
def progress(request: HttpRequest, actor: Actor, job_id: int) -> HttpResponse:
    try:
        view = services.get_job(_ctx(actor), job_id)
    except _ERRORS as exc:
        problems, status = problems_of(exc)
        return JsonResponse({"problems": shown(problems)}, status=status)
    return JsonResponse(
        {
            "status": view.status,
            "progress": view.progress,
            "stage": view.stage,
            "stage_label": labels.label(labels.CLEANING_STAGE, view.stage),
            "error": view.error,
        }
    )


@cleaning_actor
@require_GET
def review(request: HttpRequest, actor: Actor, job_id: int) -> HttpResponse:
    ctx = _ctx(actor)
    try:
        view = services.get_job(ctx, job_id)
        items = services.review_queue(ctx, job_id)
    except _ERRORS as exc:
        return _error(request, *problems_of(exc))
    rows = [
        {
            "item": i,
            "fields": [
                (FIELD_LABELS.get(f, f), i.sector.get(f, ""), i.registry.get(f, ""))
                for f in ("full_name", "date_of_birth", "sex", "id_number", "address")
            ],
        }
        for i in items
    ]
    return render(request, "cleaning/review.html", {"job": view, "rows": rows})


@cleaning_actor
@require_POST
def decide(request: HttpRequest, actor: Actor, job_id: int, record_id: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _error(request, [FieldProblem("decision", "choice", "accept or reject")], 400)
    try:
        services.decide(_ctx(actor), job_id, record_id, accept=form.cleaned_data["decision"] == "accept")
    except _ERRORS as exc:
        return _error(request, *problems_of(exc))
    return HttpResponseRedirect(reverse("cleaning:review", args=[job_id]) + f"#r{record_id}")


@cleaning_actor
@require_GET
def export(request: HttpRequest, actor: Actor, job_id: int, fmt: str) -> HttpResponse:
    try:
        name, content = services.export(_ctx(actor), job_id, fmt=fmt)
    except Conflict as exc:
        return _error(request, [FieldProblem("job", "state", str(exc))], 409)
    except _ERRORS as exc:
        return _error(request, *problems_of(exc))
    kind = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    )
    response = HttpResponse(content, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
