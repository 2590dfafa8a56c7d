"""Staff console: citizen search and record pages for authorised officials.

Views only parse input (``forms``) and call the blocks' service functions, which check the
purpose against the acting organisation's policy, limit results to its jurisdiction and record
an audit event for every citizen shown or opened — also for denials. Views never read registry
models. Errors become pages that name the field and the rule, with 400 (bad input),
403 (not allowed) or 404 (no such citizen), never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from dancu.apps.console import presenters
from dancu.apps.console.forms import (
    AlertForm,
    CloseAlertForm,
    OrganisationForm,
    RecordQueryForm,
    SearchForm,
    SeenHitForm,
)
from dancu.apps.web.labels import purpose_name
from dancu.apps.web.session import choose_organisation, chosen_organisation_id
from dancu.apps.web.staff import form_problems, problems_of, shown, staff_view
from dancu.blocks.alerts import services as alerts
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.audit.purposes import PURPOSES
from dancu.blocks.audit.services import events_for_citizen
from dancu.blocks.eid.assurance import ACR_L1
from dancu.blocks.organisations.services import actor_for, memberships_of
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.dto import CitizenView
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem, NotFound

ConsoleView = Callable[..., HttpResponse]
SEARCH_LIMIT = 20


def read_purposes(actor: Actor) -> list[tuple[str, str]]:
    """The registry read purposes this actor may use, as (code, name in the page's language).
    Gateway-only purposes (``registry.GATEWAY_READ_PURPOSES``, e.g. the social-policy bank's
    yes/no eligibility check) are never offered: they open no record to a person."""
    return [
        (code, purpose_name(code))
        for code in PURPOSES
        if code in registry.READ_PURPOSES and code not in registry.GATEWAY_READ_PURPOSES and actor.may(code)
    ]


# Log-in required; the organisation the user acts for (several and none chosen → the organisation
# picker; no membership → 403 "no organisation"); an organisation whose staff may not read the
# registry (a hotel) → 403 "not authorised". Signed in through the platform's SSO with at least
# ACR_L1 (ADR 0011); raise it here (e.g. ACR_L2_MFA) once police staff hold level-2 accounts.
console_actor = staff_view(
    min_acr=ACR_L1,
    may_act=lambda actor: bool(read_purposes(actor)),
    no_organisation=lambda request: render(request, "console/no_organisation.html", status=403),
    not_authorised="console/not_authorised.html",
    membership_ended=lambda request: reverse("console:organisation"),
)


def _record_url(id_number: str, ctx: AccessContext) -> str:
    query = {"purpose": ctx.purpose}
    if ctx.case_reference:
        query["case_reference"] = ctx.case_reference
    return f"{reverse('console:citizen', args=[id_number])}?{urlencode(query)}"


# --------------------------------------------------------------------------- pages
def _record(request: HttpRequest, ctx: AccessContext, view: CitizenView) -> HttpResponse:
    """The record page of a citizen already opened (and audited) through the registry."""
    revisions = registry.history(ctx, view.id_number)
    household_shown = "household_number" not in view.fields_withheld
    members = (
        registry.household_members(ctx, view.id_number) if household_shown and view.household_number else []
    )
    context = {
        "view": view,
        "purpose": ctx.purpose,
        "purpose_label": purpose_name(ctx.purpose),
        "case_reference": ctx.case_reference,
        "personal": presenters.rows(view, presenters.PERSONAL),
        "household": presenters.rows(view, presenters.HOUSEHOLD),
        "members": [{"member": m, "url": _record_url(m.id_number, ctx)} for m in members],
        "numbers": presenters.rows(view, presenters.NUMBERS),
        "cards_withheld": "cards" in view.fields_withheld,
        "revisions": revisions,
        "accesses": events_for_citizen(view.citizen_id),
    }
    return render(request, "console/record.html", context)


def _search_page(
    request: HttpRequest,
    actor: Actor,
    form: SearchForm,
    *,
    problems: Sequence[FieldProblem] = (),
    status: int = 200,
    results: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    context = {
        "form": form,
        "problems": shown(list(problems)),
        "results": results,
        "limit_reached": results is not None and len(results) >= SEARCH_LIMIT,
        "organisation_name": actor.organisation_name,
        "may_see_alerts": alerts.may_manage(actor),
    }
    return render(request, "console/search.html", context, status=status)


@require_http_methods(["GET", "POST"])
@console_actor
def search(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Search by name (+ date of birth), open by ID number or by old CMND number.

    The form is posted so that names, dates of birth and numbers stay out of URLs and logs.
    """
    purposes = read_purposes(actor)
    if request.method != "POST":
        return _search_page(request, actor, SearchForm(purposes=purposes))
    form = SearchForm(request.POST, purposes=purposes)
    if not form.is_valid():
        return _search_page(request, actor, form, problems=form_problems(form), status=400)
    data = form.cleaned_data
    ctx = AccessContext(actor=actor, purpose=data["purpose"], case_reference=data["case_reference"])
    try:
        if data["id_number"]:
            return _record(request, ctx, registry.get_by_id_number(ctx, data["id_number"]))
        if data["old_id_number"]:
            return _record(request, ctx, registry.get_by_old_id_number(ctx, data["old_id_number"]))
        found = registry.search(ctx, data["name"], data["date_of_birth"], limit=SEARCH_LIMIT)
    except (DomainValidationError, AccessDenied, NotFound) as exc:
        problems, status = problems_of(exc)
        return _search_page(request, actor, form, problems=problems, status=status)
    results = [{"citizen": c, "url": _record_url(c.id_number, ctx)} for c in found]
    return _search_page(request, actor, form, results=results)


@require_http_methods(["GET"])
@console_actor
def citizen(request: HttpRequest, actor: Actor, id_number: str) -> HttpResponse:
    """A citizen's record, opened for the purpose given in the query string (audited)."""
    form = RecordQueryForm(request.GET, purposes=read_purposes(actor))
    if not form.is_valid():
        return _error(request, form_problems(form), 400)
    ctx = AccessContext(
        actor=actor, purpose=form.cleaned_data["purpose"], case_reference=form.cleaned_data["case_reference"]
    )
    try:
        return _record(request, ctx, registry.get_by_id_number(ctx, id_number))
    except (DomainValidationError, AccessDenied, NotFound) as exc:
        problems, status = problems_of(exc)
        return _error(request, problems, status)


def _error(request: HttpRequest, problems: list[FieldProblem], status: int) -> HttpResponse:
    return render(
        request, "console/error.html", {"problems": shown(problems), "status": status}, status=status
    )


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
def organisation(request: HttpRequest) -> HttpResponse:
    """Choose which of one's organisations to act for; the choice is kept in the session."""
    memberships = memberships_of(request.user)
    if not memberships:
        return render(request, "console/no_organisation.html", status=403)
    choices = [(m.organisation_id, f"{m.organisation.name} — {m.get_role_display()}") for m in memberships]
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = ""
    if request.method == "POST":
        form = OrganisationForm(request.POST, choices=choices)
        if form.is_valid():
            organisation_id = form.cleaned_data["organisation"]
            try:
                actor_for(request.user, organisation_id)  # re-checks the membership
            except AccessDenied as exc:
                problems, status = problems_of(exc)
                return _error(request, problems, status)
            choose_organisation(request, organisation_id)
            return HttpResponseRedirect(next_url or reverse("console:search"))
        status = 400
    else:
        form = OrganisationForm(initial={"organisation": chosen_organisation_id(request)}, choices=choices)
        status = 200
    context = {
        "form": form,
        "next": next_url,
        "problems": shown(form_problems(form)) if form.is_bound else [],
    }
    return render(request, "console/organisation.html", context, status=status)


# --------------------------------------------------------------------------- police alert list
ALERT_NOTICES = {"add", "close", "seen"}


def _subject_names(ctx: AccessContext, id_numbers: set[str]) -> dict[str, str]:
    """The name of each subject, read through the registry for ``security.investigation`` (each
    read audited as a police look-up); a subject outside the unit's jurisdiction has no name here."""
    names: dict[str, str] = {}
    for number in sorted(id_numbers):
        try:
            names[number] = registry.get_by_id_number(ctx, number).full_name
        except (AccessDenied, NotFound, DomainValidationError):
            continue
    return names


def _alerts_page(
    request: HttpRequest,
    actor: Actor,
    *,
    add_form: AlertForm | None = None,
    problems: Sequence[FieldProblem] = (),
    status: int = 200,
) -> HttpResponse:
    """The hits and the entries the unit sees, and the form to add an entry. A unit that may not see
    the list (not police) gets the 403 page — the service audited the denial."""
    ctx = AccessContext(actor=actor, purpose=alerts.PURPOSE)
    try:
        hits = alerts.list_hits(ctx)
        entries = alerts.list_alerts(ctx)
    except (DomainValidationError, AccessDenied, NotFound) as exc:
        denied, error_status = problems_of(exc)
        return _error(request, denied, error_status)
    names = _subject_names(ctx, {h.subject_id_number for h in hits})
    kinds = {code: str(name) for code, name in AlertForm.KINDS}
    done = request.GET.get("done", "")
    context = {
        "organisation_name": actor.organisation_name,
        "hits": [
            {"hit": h, "name": names.get(h.subject_id_number, ""), "kind": kinds.get(h.kind, h.kind)}
            for h in hits
        ],
        "entries": [
            {
                "entry": e,
                "kind": kinds.get(e.kind, e.kind),
                "close_form": CloseAlertForm(initial={"entry_id": e.entry_id}),
            }
            for e in entries
        ],
        "add_form": add_form or AlertForm(),
        "problems": shown(list(problems)),
        "notice": done if done in ALERT_NOTICES else "",
    }
    return render(request, "console/alerts.html", context, status=status)


def _end_of(day: date | None) -> datetime | None:
    """The end of ``day`` (local time): the first instant of the next day."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min)) if day else None


@require_http_methods(["GET", "POST"])
@console_actor
def alert_hits(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Police only: the hits of the alert list (time, establishment, subject, alert), the entries,
    and forms to add an entry by ID number, close one, or mark a hit as seen (ADR 0007).

    Purpose ``security.investigation`` (Law on People's Police 2014 Art. 16); every page and every
    change is audited by ``alerts.services`` — kept out of the citizen's own access log."""
    if request.method != "POST":
        return _alerts_page(request, actor)
    ctx = AccessContext(actor=actor, purpose=alerts.PURPOSE)
    action = request.POST.get("action", "")
    add_form = None
    try:
        if action == "add":
            add_form = AlertForm(request.POST)
            if not add_form.is_valid():
                return _alerts_page(
                    request, actor, add_form=add_form, problems=form_problems(add_form), status=400
                )
            data = add_form.cleaned_data
            alerts.add_alert(
                ctx,
                data["id_number"],
                kind=data["kind"],
                reference=data["reference"],
                legal_basis=data["legal_basis"],
                valid_until=_end_of(data["valid_until"]),
            )
        elif action == "close":
            close_form = CloseAlertForm(request.POST)
            if not close_form.is_valid():
                return _alerts_page(request, actor, problems=form_problems(close_form), status=400)
            alerts.close_alert(
                ctx, close_form.cleaned_data["entry_id"], reason=close_form.cleaned_data["reason"]
            )
        elif action == "seen":
            seen_form = SeenHitForm(request.POST)
            if not seen_form.is_valid():
                return _alerts_page(request, actor, problems=form_problems(seen_form), status=400)
            alerts.mark_seen(ctx, seen_form.cleaned_data["hit_id"])
        else:
            problem = FieldProblem("action", "choice", "must be add, close or seen")
            return _alerts_page(request, actor, problems=[problem], status=400)
    except AccessDenied as exc:
        problems, status = problems_of(exc)
        return _error(request, problems, status)
    except (DomainValidationError, NotFound) as exc:
        problems, status = problems_of(exc)
        return _alerts_page(request, actor, add_form=add_form, problems=problems, status=status)
    return HttpResponseRedirect(f"{reverse('console:alert-hits')}?{urlencode({'done': action})}")
