"""What the staff pages of every application share: acting for one organisation of a logged-in
staff member (``staff_view``), and errors turned into the problems a page shows (field, rule,
message) with the HTTP status that fits them."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from dancu.apps.web.labels import FIELD, label
from dancu.apps.web.session import chosen_organisation_id, forget_organisation
from dancu.apps.web.sso import sso_staff
from dancu.blocks.audit.context import Actor
from dancu.blocks.organisations.services import actor_for, memberships_of
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem, NotFound

StaffView = Callable[..., HttpResponse]


def staff_view(
    *,
    may_act: Callable[[Actor], bool],
    no_organisation: Callable[[HttpRequest], HttpResponse],
    not_authorised: str,
    membership_ended: Callable[[HttpRequest], str],
    min_acr: str | None = None,
) -> Callable[[StaffView], StaffView]:
    """Log-in required, signed in to the staff applications through the platform's SSO with at
    least ``min_acr`` when given (``web.sso.sso_staff``, ADR 0011); resolve the organisation the
    user acts for and pass its ``Actor`` on.

    No membership → ``no_organisation``; several and none chosen (or the chosen one no longer
    held) → the organisation picker; a membership that ended between the two queries → redirect
    to ``membership_ended``; an organisation whose actor may not use the pages (``may_act``) →
    403 with the template ``not_authorised``. Pages showing personal data are never cached
    (shared office computers).
    """

    def decorate(view: StaffView) -> StaffView:
        @never_cache
        @sso_staff(min_acr)
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            memberships = memberships_of(request.user)
            if not memberships:
                return no_organisation(request)
            member_of = {m.organisation_id for m in memberships}
            chosen = chosen_organisation_id(request)
            if chosen not in member_of:
                forget_organisation(request)
                if len(memberships) > 1:
                    picker = reverse("console:organisation")
                    return HttpResponseRedirect(f"{picker}?{urlencode({'next': request.get_full_path()})}")
                chosen = memberships[0].organisation_id
            try:
                actor = actor_for(request.user, chosen)
            except AccessDenied:
                forget_organisation(request)
                return HttpResponseRedirect(membership_ended(request))
            if not may_act(actor):
                context = {"organisation_name": actor.organisation_name, "several": len(memberships) > 1}
                return render(request, not_authorised, context, status=403)
            return view(request, actor, *args, **kwargs)

        return wrapper

    return decorate


def form_problems(form: forms.Form, *, non_field: str = "search") -> list[FieldProblem]:
    """A form's errors as (field, rule, message), the same shape as the blocks' errors; errors
    of no field are named ``non_field``."""
    problems: list[FieldProblem] = []
    for field, errors in form.errors.as_data().items():
        name = non_field if field == "__all__" else field
        for error in errors:
            problems.extend(
                FieldProblem(name, error.code or "invalid", msg) for msg in ValidationError(error).messages
            )
    return problems


def problems_of(exc: Exception) -> tuple[list[FieldProblem], int]:
    """The problems an error reports, with the HTTP status that fits it (400, 403, 404); any
    other error is raised again."""
    if isinstance(exc, DomainValidationError):
        return exc.problems, 400
    if isinstance(exc, AccessDenied):
        return [FieldProblem(exc.field, exc.rule, str(exc))], 403
    if isinstance(exc, NotFound):
        return [FieldProblem(exc.field, "not_found", str(exc))], 404
    raise exc


def shown(problems: list[FieldProblem]) -> list[dict[str, str]]:
    """Problems as a page shows them, with the field's label in the page's language."""
    return [
        {"field": p.field, "label": label(FIELD, p.field), "rule": p.rule, "message": p.message}
        for p in problems
    ]
