"""Residence pages: the front desk (check-in, guests in the house, changes) and the police view.
Views parse the input (``forms``), call one service function and render its result; errors name
the field and the rule (400 bad input, 403 not allowed, 404 not found). Never cached."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from dancu.apps.residence import services
from dancu.apps.residence.forms import (
    EVIDENCE_FIELDS,
    CheckInForm,
    ExtendForm,
    RoomForm,
    SearchForm,
    WardForm,
)
from dancu.apps.web.session import chosen_organisation_id
from dancu.apps.web.sso import sso_staff
from dancu.apps.web.staff import form_problems, problems_of, shown
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.eid.assurance import ACR_L1
from dancu.blocks.identity.services import QrEvidence
from dancu.blocks.organisations.services import actor_for
from dancu.errors import AccessDenied, Conflict, DomainValidationError, FieldProblem, NotFound


def _ctx(request: HttpRequest, purpose: str, case_reference: str = "") -> AccessContext:
    return AccessContext(actor_for(request.user, chosen_organisation_id(request)), purpose, case_reference)


def _refused(request: HttpRequest, exc: Exception) -> HttpResponse:
    problems, status = problems_of(exc)
    return render(request, "residence/error.html", {"problems": shown(problems)}, status=status)


def _initial() -> dict[str, Any]:
    now = timezone.localtime()
    return {
        "method": "qr_text",
        "arrival": now.strftime("%d/%m/%Y %H:%M"),
        "expected_departure": (now + timedelta(days=1)).replace(hour=12, minute=0).strftime("%d/%m/%Y %H:%M"),
        "idempotency_key": uuid.uuid4().hex,
    }


@never_cache
@sso_staff()  # signed in through the platform's SSO (ADR 0011)
@require_http_methods(["GET", "POST"])
def desk(request: HttpRequest) -> HttpResponse:
    """Check-in at the front desk; below, the guests staying now and the late or missing ones."""
    ctx = _ctx(request, services.PURPOSE)
    try:
        establishment = services.establishment_for(ctx.actor)
    except NotFound as exc:
        return _refused(request, exc)
    if establishment.kind == "coach_operator":
        return HttpResponseRedirect(reverse("residence:coach"))
    result: services.CheckInResult | None = None
    problems: list[FieldProblem] = []
    status = 200
    form = CheckInForm(initial=_initial())
    preview: services.GuestPreview | None = None
    if request.method == "POST" and request.POST.get("action") == "verify":
        form, preview, problems = _preview(request, ctx)
        status = 400 if problems else 200
    elif request.method == "POST":
        form = CheckInForm(request.POST, request.FILES)
        if form.is_valid() and hasattr(form, "check_in"):
            try:
                result = services.check_in(
                    ctx, form.check_in, idempotency_key=form.cleaned_data.get("idempotency_key") or ""
                )
                form = CheckInForm(initial=_initial())
            except Conflict as exc:
                problems, status = [FieldProblem(exc.field, exc.rule, str(exc))], 409
            except (DomainValidationError, AccessDenied) as exc:
                problems, status = problems_of(exc)
        else:
            problems, status = form_problems(form, non_field="check_in"), 400
    try:
        guests = services.live_guests(ctx)
        flags = services.establishment_flags(ctx)
    except (AccessDenied, NotFound) as exc:
        return _refused(request, exc)
    return render(
        request,
        "residence/desk.html",
        {
            "establishment": establishment,
            "form": form,
            "result": result,
            "preview": preview,
            "problems": shown(problems),
            "guests": guests,
            "flags": flags,
            "room_form": RoomForm(),
            "extend_form": ExtendForm(),
        },
        status=status,
    )


def _preview(
    request: HttpRequest, ctx: AccessContext
) -> tuple[CheckInForm, services.GuestPreview | None, list[FieldProblem]]:
    """The "verify the card" step: the first guest's card is verified and the identity shown; the
    form comes back with what was entered (a photo's QR as its text), to add the stay."""
    form = CheckInForm(request.POST, request.FILES)
    form.is_valid()
    initial: dict[str, Any] = {k: request.POST.get(k, "") for k in form.fields if k != "photo"}
    initial["idempotency_key"] = initial.get("idempotency_key") or uuid.uuid4().hex
    guest = form.first_guest
    preview = None
    problems = [p for p in form_problems(form, non_field="check_in") if p.field in EVIDENCE_FIELDS]
    if isinstance(guest, services.CitizenGuest | services.ForeignGuest):
        try:
            preview = services.preview_guest(ctx, guest, idempotency_key=initial["idempotency_key"])
        except (DomainValidationError, AccessDenied) as exc:
            problems = problems_of(exc)[0]
        if isinstance(guest, services.CitizenGuest) and isinstance(guest.evidence, QrEvidence):
            initial["method"], initial["qr_text"] = "qr_text", guest.evidence.text
    return CheckInForm(initial=initial), preview, problems


@never_cache
@sso_staff()  # signed in through the platform's SSO (ADR 0011)
@require_POST
def stay_action(request: HttpRequest, stay_id: int, action: str) -> HttpResponse:
    """Check-out, room change or extension of a stay of the clerk's establishment."""
    ctx = _ctx(request, services.PURPOSE)
    try:
        if action == "check-out":
            services.check_out(ctx, stay_id)
        elif action == "room":
            room_form = RoomForm(request.POST)
            if not room_form.is_valid():
                raise DomainValidationError(form_problems(room_form))
            services.change_room(ctx, stay_id, room_form.cleaned_data["room"])
        elif action == "extend":
            extend_form = ExtendForm(request.POST)
            if not extend_form.is_valid():
                raise DomainValidationError(form_problems(extend_form))
            services.extend_stay(ctx, stay_id, extend_form.cleaned_data["expected_departure"])
        else:
            raise NotFound("no such action", field="action")
    except (DomainValidationError, AccessDenied, NotFound) as exc:
        return _refused(request, exc)
    return HttpResponseRedirect(reverse("residence:desk"))


@never_cache
@sso_staff(ACR_L1)  # a police page: signed in through the platform's SSO at ACR_L1 at least (ADR 0011)
def police(request: HttpRequest) -> HttpResponse:
    """The police view: live guests of the unit's area by ward and establishment, alert hits,
    late and missing notifications with the suggested fines, and the search by person."""
    ctx = _ctx(request, services.POLICE_PURPOSE)
    ward_form = WardForm(request.GET or None)
    ward = ward_form.cleaned_data.get("ward", "") if ward_form.is_valid() else ""
    search_form = SearchForm(request.GET) if request.GET.get("case_reference") is not None else SearchForm()
    found: list[services.StayView] | None = None
    problems: list[FieldProblem] = []
    try:
        live = services.police_live_guests(ctx, ward_code=ward)
        hits = services.police_alert_hits(ctx)
        lateness = services.lateness_report(ctx)
        temporary_residence = services.police_temporary_residence(ctx)
    except (AccessDenied, DomainValidationError) as exc:
        return _refused(request, exc)
    if search_form.is_bound:
        if search_form.is_valid():
            data = search_form.cleaned_data
            try:
                found = services.search_person(
                    _ctx(request, services.POLICE_PURPOSE, data["case_reference"]),
                    id_number=data["id_number"],
                    passport_number=data["passport_number"],
                    full_name=data["full_name"],
                )
            except DomainValidationError as exc:
                problems = exc.problems
        else:
            problems = form_problems(search_form)
    return render(
        request,
        "residence/police.html",
        {
            "live": live,
            "hits": hits,
            "lateness": lateness,
            "temporary_residence": temporary_residence,
            "search_form": search_form,
            "ward_form": ward_form,
            "found": found,
            "problems": shown(problems),
        },
    )
