"""Pages of driving schools and test centres. Views parse input (``forms``), resolve the acting
organisation, call one service function and render its DTOs; errors become pages naming the
field and the rule (400, 403, 404), never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from dancu.apps.driving import services
from dancu.apps.driving.forms import CheckForm, EnrolForm, RosterForm
from dancu.apps.driving.models import DrivingSite
from dancu.apps.web.staff import form_problems, problems_of, staff_view
from dancu.blocks.audit.context import Actor
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem, NotFound

DrivingView = Callable[..., HttpResponse]


# Log-in required; the organisation acted for must be a driving school or test centre whose
# staff may verify identities — otherwise 403 (no organisation / not authorised).
driving_actor = staff_view(
    may_act=services.may_use,
    no_organisation=lambda request: render(
        request, "driving/not_authorised.html", {"no_organisation": True}, status=403
    ),
    not_authorised="driving/not_authorised.html",
    membership_ended=lambda request: request.get_full_path(),
)


def _problems(form: forms.Form) -> list[FieldProblem]:
    return form_problems(form, non_field="__all__")


def _error(request: HttpRequest, exc: Exception) -> HttpResponse:
    problems, status = problems_of(exc)
    return render(request, "driving/error.html", {"problems": problems, "status": status}, status=status)


def _is_centre(actor: Actor) -> bool:
    return services.site_role(actor.organisation_id) == DrivingSite.Role.TEST_CENTRE


@require_http_methods(["GET", "POST"])
@driving_actor
def index(request: HttpRequest, actor: Actor) -> HttpResponse:
    """A school: its enrolments. A test centre: the roster lookup (ID number → enrolment)."""
    if not _is_centre(actor):
        school = {
            "enrolments": services.enrolments_of_school(actor),
            "organisation_name": actor.organisation_name,
        }
        return render(request, "driving/index.html", school)
    form = RosterForm(request.POST or None)
    status = 200
    problems: list[FieldProblem] = []
    if request.method == "POST":
        if form.is_valid():
            try:
                found = services.find_for_test(
                    actor, form.cleaned_data["id_number"], form.cleaned_data["licence_class"]
                )
            except (DomainValidationError, AccessDenied, NotFound) as exc:
                problems, status = problems_of(exc)
            else:
                return HttpResponseRedirect(reverse("driving:check", args=[found]))
        else:
            problems, status = _problems(form), 400
    context: dict[str, Any] = {
        "form": form,
        "problems": problems,
        "organisation_name": actor.organisation_name,
    }
    return render(request, "driving/centre.html", context, status=status)


@require_http_methods(["GET", "POST"])
@driving_actor
def enrol(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Enrol a learner with a verified card."""
    form = EnrolForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "problems": []}
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            context["problems"], status = _problems(form), 400
        else:
            data = form.cleaned_data
            try:
                result = services.enrol(
                    actor,
                    form.evidence,
                    licence_class=data["licence_class"],
                    course_start=data["course_start"],
                    course_end=data["course_end"],
                )
            except (DomainValidationError, AccessDenied, NotFound) as exc:
                context["problems"], status = problems_of(exc)
            else:
                if result.enrolment is not None:
                    return HttpResponseRedirect(
                        reverse("driving:enrolment", args=[result.enrolment.enrolment_id])
                    )
                context["refused"], status = result, 409 if result.decision == "match" else 422
    context["chip_challenge"] = services.chip_challenge(actor)
    return render(request, "driving/enrol.html", context, status=status)


@require_http_methods(["GET"])
@driving_actor
def enrolment(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """The learner's history: the enrolment, each check with its outcome and findings."""
    try:
        found = services.history(actor, pk)
    except (AccessDenied, NotFound) as exc:
        return _error(request, exc)
    return render(request, "driving/history.html", {"history": found, "centre": _is_centre(actor)})


@require_http_methods(["GET", "POST"])
@driving_actor
def check(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """Verify the learner at a session (school) or at the test (test centre)."""
    try:
        learner = services.enrolment(actor, pk)
    except (AccessDenied, NotFound) as exc:
        return _error(request, exc)
    kinds = services.TEST_KINDS if _is_centre(actor) else services.SCHOOL_KINDS
    form = CheckForm(request.POST or None, request.FILES or None, kinds=tuple(str(k) for k in kinds))
    context: dict[str, Any] = {"form": form, "learner": learner, "problems": []}
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            context["problems"], status = _problems(form), 400
        else:
            try:
                context["result"] = services.check_session(
                    actor,
                    pk,
                    form.evidence,
                    kind=form.cleaned_data["kind"],
                    instructor=form.cleaned_data["instructor"],
                )
            except (DomainValidationError, AccessDenied, NotFound) as exc:
                context["problems"], status = problems_of(exc)
    context["chip_challenge"] = services.chip_challenge(actor)
    return render(request, "driving/check.html", context, status=status)


@require_http_methods(["GET"])
@driving_actor
def flagged(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Checks flagged or warned, for the school (its learners) or the test centre (its tests)."""
    context = {"checks": services.flagged_checks(actor), "organisation_name": actor.organisation_name}
    return render(request, "driving/flagged.html", context)
