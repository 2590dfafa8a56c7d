"""The guardianship desk (``/giam-ho/``) of the commune People's Committee's judicial and
civil-status officer (role ``civil_status``) — and of the ward police, who keep the registry: a
child's current and past guardianships and restrictions of a parent's rights; register and end a
guardianship (Law on Civil Status 2014 Art. 20–23; Civil Code 2015 Art. 46–62); record a court
decision restricting a parent's rights and its lifting before the term (Marriage and Family Law
2014 Art. 85–87). Thin views over ``dancu.blocks.registry.guardianship``, which checks the purpose
and the ward (the child's permanent residence) and audits every read, write and refusal.

A guardianship is registered at the commune of the ward's or of the guardian's residence (Law on
Civil Status 2014 Art. 19). When the child's record is refused because the child
lives elsewhere (``jurisdiction``), an officer with a ward is offered the registration at the
guardian's commune (the block decides: the guardian must live in the officer's ward and be
eligible, otherwise one refusal). Once registered there, the officer opens the child's record
with only the guardianships registered at their commune, and may end them (Art. 22 cl. 1).

The child's ID number never goes into a URL (shared office computers, access logs): it is posted,
and kept in the session for the page shown after an action (post/redirect/get)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from dancu.apps.guardianship.forms import (
    ChildForm,
    EndGuardianshipForm,
    GuardianshipForm,
    LiftForm,
    RestrictionForm,
)
from dancu.apps.web.labels import FIELD, label
from dancu.apps.web.staff import form_problems, problems_of, staff_view
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.registry import guardianship
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem, NotFound

SESSION_KEY = "guardianship_child"
FIELDS: dict[str, Any] = {
    "ward_id_number": _("Child's ID number"),
    "child_id_number": _("Child's ID number"),
    "guardian_id_number": _("Guardian's ID number"),
    "parent_id_number": _("Parent's ID number"),
    "kind": _("Kind of guardianship"),
    "record_number": _("Civil-status registration number"),
    "started_on": _("Registered on"),
    "ended_on": _("Ended on"),
    "decision": _("Court decision number"),
    "decided_on": _("Decision date"),
    "court": _("Court"),
    "restricted_from": _("Restricted from"),
    "restricted_until": _("Restricted until (optional)"),
    "restriction_id": _("Restriction"),
    "lifted_on": _("Lifted from"),
    "reason": _("Reason"),
    "legal_basis": _("Legal basis"),
}
DONE = {
    "guardianship": _("The guardianship is registered."),
    "guardianship_end": _("The guardianship is ended."),
    "restriction": _("The restriction of the parent's rights is recorded."),
    "lift": _(
        "The lifting of the restriction is recorded: the parent acts for the child again from that day."
    ),
}


def purpose_of(actor: Actor) -> str:
    """The commune's civil-status officer acts with ``civil_status.guardianship``; the ward police
    (who keep the registry) with ``registry.administration``."""
    return guardianship.CIVIL_STATUS if actor.may(guardianship.CIVIL_STATUS) else "registry.administration"


def may_use(actor: Actor) -> bool:
    return any(actor.may(p) for p in guardianship.CHILD_RECORD_PURPOSES)


desk_actor = staff_view(
    may_act=may_use,
    no_organisation=lambda request: render(
        request, "guardianship/not_authorised.html", {"no_organisation": True}, status=403
    ),
    not_authorised="guardianship/not_authorised.html",
    membership_ended=lambda request: request.get_full_path(),
)


def _shown(problems: list[FieldProblem]) -> list[dict[str, str]]:
    return [
        {
            "field": p.field,
            "label": str(FIELDS[p.field]) if p.field in FIELDS else label(FIELD, p.field),
            "rule": p.rule,
            "message": p.message,
        }
        for p in problems
    ]


def _page(
    request: HttpRequest,
    actor: Actor,
    child_id_number: str,
    *,
    problems: list[FieldProblem] | None = None,
    status: int = 200,
    forms_in: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    """The page for one child (or the look-up form alone); a refused read shows its problem. A
    child who lives outside the officer's ward or commune (the read refused for ``jurisdiction``)
    may still have a guardianship registered here, at the guardian's commune: the page offers
    that form to an officer with a ward."""
    record = None
    elsewhere = False
    problems = list(problems or [])
    if child_id_number:
        try:
            record = guardianship.child_record(AccessContext(actor, purpose_of(actor)), child_id_number)
        except (DomainValidationError, AccessDenied, NotFound) as exc:
            elsewhere = isinstance(exc, AccessDenied) and exc.rule == "jurisdiction"
            read_problems, read_status = problems_of(exc)
            if status == 200:  # after a refused action, its own problems say it
                problems, status = read_problems, read_status
    initial = {"child_id_number": child_id_number}
    given = forms_in or {}
    context = {
        "actor": actor,
        "record": record,
        "registered_here": guardianship.REGISTERED_HERE,
        "child_id_number": child_id_number,
        "at_guardians_commune": elsewhere and bool(actor.jurisdiction_ward_code) and not actor.is_system,
        "problems": _shown(problems),
        "done": DONE.get(request.GET.get("done", ""), ""),
        "lookup": given.get("lookup") or ChildForm(initial=initial),
        "guardianship_form": given.get("guardianship") or GuardianshipForm(initial=initial),
        "end_form": given.get("end") or EndGuardianshipForm(initial=initial),
        "restriction_form": given.get("restriction") or RestrictionForm(initial=initial),
        "lift_form": given.get("lift") or LiftForm(initial=initial),
    }
    return render(request, "guardianship/child.html", context, status=status)


@desk_actor
@require_http_methods(["GET", "POST"])
def child(request: HttpRequest, actor: Actor) -> HttpResponse:
    """GET: the child kept in the session (after an action) or the look-up form; POST: look up."""
    if request.method == "GET":
        return _page(request, actor, request.session.get(SESSION_KEY, ""))
    form = ChildForm(request.POST)
    if not form.is_valid():
        request.session.pop(SESSION_KEY, None)
        return _page(request, actor, "", problems=form_problems(form), status=400, forms_in={"lookup": form})
    number = form.cleaned_data["child_id_number"]
    request.session[SESSION_KEY] = number
    return _page(request, actor, number)


def _act(
    request: HttpRequest,
    actor: Actor,
    form: forms.Form,
    key: str,
    done: str,
    call: Callable[[AccessContext, dict[str, Any]], object],
) -> HttpResponse:
    child_number = str(request.POST.get("child_id_number", ""))[:12]
    if not form.is_valid():
        return _page(
            request, actor, child_number, problems=form_problems(form), status=400, forms_in={key: form}
        )
    data = form.cleaned_data
    try:
        call(AccessContext(actor, purpose_of(actor)), data)
    except (DomainValidationError, AccessDenied, NotFound) as exc:
        problems, status = problems_of(exc)
        return _page(
            request, actor, data["child_id_number"], problems=problems, status=status, forms_in={key: form}
        )
    request.session[SESSION_KEY] = data["child_id_number"]
    return HttpResponseRedirect(reverse("guardianship:child") + f"?done={done}")


@desk_actor
@require_POST
def record_guardianship(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _act(
        request,
        actor,
        GuardianshipForm(request.POST),
        "guardianship",
        "guardianship",
        lambda ctx, d: guardianship.record_guardianship(
            ctx,
            d["child_id_number"],
            d["guardian_id_number"],
            kind=d["kind"],
            started_on=d["started_on"],
            record_number=d["record_number"],
            reason=d["reason"],
            legal_basis=d["legal_basis"],
        ),
    )


@desk_actor
@require_POST
def end_guardianship(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _act(
        request,
        actor,
        EndGuardianshipForm(request.POST),
        "end",
        "guardianship_end",
        lambda ctx, d: guardianship.end_guardianship(
            ctx,
            d["child_id_number"],
            ended_on=d["ended_on"],
            end_reason=d["reason"],
            legal_basis=d["legal_basis"],
        ),
    )


@desk_actor
@require_POST
def record_restriction(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _act(
        request,
        actor,
        RestrictionForm(request.POST),
        "restriction",
        "restriction",
        lambda ctx, d: guardianship.record_parental_restriction(
            ctx,
            d["child_id_number"],
            d["parent_id_number"],
            decision=d["decision"],
            decided_on=d["decided_on"],
            court=d["court"],
            restricted_from=d["restricted_from"],
            restricted_until=d["restricted_until"],
            reason=d["reason"],
            legal_basis=d["legal_basis"],
        ),
    )


@desk_actor
@require_POST
def lift_restriction(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _act(
        request,
        actor,
        LiftForm(request.POST),
        "lift",
        "lift",
        lambda ctx, d: guardianship.lift_parental_restriction(
            ctx,
            d["child_id_number"],
            d["restriction_id"],
            lifted_on=d["lifted_on"],
            decision=d["decision"],
            decided_on=d["decided_on"],
            court=d["court"],
            reason=d["reason"],
            legal_basis=d["legal_basis"],
        ),
    )
