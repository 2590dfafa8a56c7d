"""Pages of the social-policy loans application (``/vay-von/``): the list owner imports cleaned
commune lists; the bank officer checks a person or a whole list against a programme and sees
yes/no with the reason of each rule, and exports the decisions; the bank's administrator
publishes new versions of a programme's rules. Thin views over ``services``."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dancu.apps.social_loans import services
from dancu.apps.social_loans.forms import CheckForm, ImportForm, ListCheckForm, RulesForm
from dancu.apps.web.staff import form_problems, problems_of, shown, staff_view
from dancu.blocks.audit.context import Actor
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem, NotFound

_ERRORS = (DomainValidationError, AccessDenied, NotFound)

loans_actor = staff_view(
    may_act=lambda actor: bool(services.roles_of(actor)),
    no_organisation=lambda request: render(request, "social_loans/not_authorised.html", status=403),
    not_authorised="social_loans/not_authorised.html",
    membership_ended=lambda request: request.get_full_path(),
)


def _programme_choices() -> list[tuple[str, str]]:
    vi = (get_language() or "vi").startswith("vi")
    return [(p.code, f"{p.code} — {p.name_vi if vi else p.name_en}") for p in services.programmes()]


def _error(request: HttpRequest, problems: list[FieldProblem], status: int) -> HttpResponse:
    return render(request, "social_loans/error.html", {"problems": shown(problems)}, status=status)


def _page(request: HttpRequest, actor: Actor, status: int = 200, **extra: object) -> HttpResponse:
    roles = services.roles_of(actor)
    context: dict[str, object] = {
        "actor": actor,
        "is_lender": services.LENDER in roles,
        "is_owner": services.LIST_OWNER in roles,
        "lists": services.lists_for(actor) if services.may_read_lists(actor) else [],
        "programmes": services.programmes(),
        "problems": [],
    }
    if services.LENDER in roles:
        context.setdefault("check_form", CheckForm(_programme_choices()))
    if services.LIST_OWNER in roles:
        jobs = [(str(j.job_id), f"{j.reference} — {j.file_name}") for j in services.finished_jobs(actor)]
        context["import_form"] = ImportForm(jobs)
    context.update(extra)
    return render(request, "social_loans/index.html", context, status=status)


@loans_actor
@require_GET
def index(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _page(request, actor)


@loans_actor
@require_POST
def check(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = CheckForm(_programme_choices(), request.POST)
    if not form.is_valid():
        return _page(
            request,
            actor,
            check_form=form,
            problems=shown(form_problems(form, non_field="id_number")),
            status=400,
        )
    try:
        d = services.decide(actor, form.cleaned_data["programme"], form.cleaned_data["id_number"])
    except _ERRORS as exc:
        problems, status = problems_of(exc)
        return _page(request, actor, check_form=form, problems=shown(problems), status=status)
    return HttpResponseRedirect(reverse("social_loans:decision", args=[d.reference]))


@loans_actor
@require_POST
def import_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        jobs = [(str(j.job_id), j.reference) for j in services.finished_jobs(actor)]
    except _ERRORS as exc:
        return _error(request, *problems_of(exc))
    form = ImportForm(jobs, request.POST)
    if not form.is_valid():
        return _page(
            request, actor, import_form=form, problems=shown(form_problems(form, non_field="job")), status=400
        )
    data = form.cleaned_data
    try:
        view = services.import_list(
            actor,
            int(data["job"]),
            ward_code=data["ward_code"],
            year=data["year"],
            title=data["title"],
            status_column=data["status_column"],
            head_column=data["head_column"],
        )
    except _ERRORS as exc:
        problems, status = problems_of(exc)
        return _page(request, actor, import_form=form, problems=shown(problems), status=status)
    return HttpResponseRedirect(reverse("social_loans:list", args=[view.list_id]))


@loans_actor
@require_http_methods(["GET", "POST"])
def list_detail(request: HttpRequest, actor: Actor, list_id: int) -> HttpResponse:
    try:
        view, entries = services.get_list(actor, list_id)
    except _ERRORS as exc:
        return _error(request, *problems_of(exc))
    is_lender = services.LENDER in services.roles_of(actor)
    form = ListCheckForm(_programme_choices(), request.POST or None)
    problems: list[FieldProblem] = []
    status = 200
    if request.method == "POST":
        if not is_lender:
            return _error(request, [FieldProblem("actor", "lender", "only the lender decides")], 403)
        if form.is_valid():
            try:
                services.decide_list(actor, list_id, form.cleaned_data["programme"])
                return HttpResponseRedirect(reverse("social_loans:decisions") + f"?list={list_id}")
            except _ERRORS as exc:
                problems, status = problems_of(exc)
        else:
            problems, status = form_problems(form, non_field="programme"), 400
    context = {
        "list": view,
        "entries": entries,
        "form": form,
        "is_lender": is_lender,
        "problems": shown(problems),
    }
    return render(request, "social_loans/list.html", context, status=status)


@loans_actor
@require_GET
def decisions(request: HttpRequest, actor: Actor) -> HttpResponse:
    raw = request.GET.get("list", "")
    list_id = int(raw) if raw.isdigit() else None
    try:
        rows = services.decisions_for(actor, list_id=list_id)
    except _ERRORS as exc:
        return _error(request, *problems_of(exc))
    eligible = sum(1 for d in rows if d.eligible)
    context = {
        "decisions": rows,
        "list_id": list_id,
        "eligible": eligible,
        "not_eligible": len(rows) - eligible,
    }
    return render(request, "social_loans/decisions.html", context)


@loans_actor
@require_GET
def decision(request: HttpRequest, actor: Actor, reference: str) -> HttpResponse:
    try:
        d = services.get_decision(actor, reference)
    except _ERRORS as exc:
        return _error(request, *problems_of(exc))
    return render(request, "social_loans/decision.html", {"d": d})


@loans_actor
@require_GET
def export(request: HttpRequest, actor: Actor, fmt: str) -> HttpResponse:
    raw = request.GET.get("list", "")
    try:
        name, content = services.export_decisions(actor, fmt=fmt, list_id=int(raw) if raw.isdigit() else None)
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


@loans_actor
@require_http_methods(["GET", "POST"])
def rules_page(request: HttpRequest, actor: Actor, code: str) -> HttpResponse:
    try:
        rs = services.rules_in_force(code)
    except _ERRORS as exc:
        return _error(request, *problems_of(exc))
    form = RulesForm(
        request.POST or None, initial={"rules": json.dumps(rs.rules, ensure_ascii=False, indent=1)}
    )
    problems: list[FieldProblem] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.publish_rules(
                    actor, code, form.cleaned_data["rules"], note=form.cleaned_data["note"]
                )
                return HttpResponseRedirect(reverse("social_loans:rules", args=[code]))
            except _ERRORS as exc:
                problems, status = problems_of(exc)
        else:
            problems, status = form_problems(form, non_field="rules"), 400
    context = {"rs": rs, "form": form, "problems": shown(problems), "is_admin": actor.role == "admin"}
    return render(request, "social_loans/rules.html", context, status=status)
