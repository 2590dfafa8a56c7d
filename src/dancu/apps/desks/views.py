"""Desk pages. Views parse input (``forms``), call one service function and render its result;
errors become pages naming the field and the rule: 400 (bad input), 403 (not this desk),
404 (not found). Pages showing personal data are never cached."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from dancu.apps.console.views import form_problems
from dancu.apps.desks import presenters, services
from dancu.apps.desks.forms import ActForm, DayForm, EvidenceForm, KioskForm, PartyForm
from dancu.apps.web.labels import FIELD, label
from dancu.apps.web.session import chosen_organisation_id
from dancu.blocks.audit.context import Actor
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem, NotFound

DeskView = Callable[..., HttpResponse]
KIOSK_COOKIE = "dancu_kiosk"
KIOSK_HEADER = "HTTP_X_KIOSK_KEY"
KIOSK_COOKIE_AGE = 365 * 24 * 3600
KIOSK_CLEAR_SECONDS = 30


def desk(kinds: frozenset[str]) -> Callable[[DeskView], DeskView]:
    """Log-in required, and a clerk of an organisation of ``kinds``; else 403 "not authorised"."""

    def decorate(view: DeskView) -> DeskView:
        @never_cache
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                actor = services.desk_actor(request.user, kinds, chosen_organisation_id(request))
            except AccessDenied:
                return render(request, "desks/not_authorised.html", {"kinds": sorted(kinds)}, status=403)
            return view(request, actor, *args, **kwargs)

        return wrapper

    return decorate


def _shown(problems: list[FieldProblem]) -> list[dict[str, str]]:
    return [
        {"field": p.field, "label": label(FIELD, p.field), "rule": p.rule, "message": p.message}
        for p in problems
    ]


def _problems(exc: Exception) -> tuple[list[FieldProblem], int]:
    if isinstance(exc, DomainValidationError):
        return exc.problems, 400
    if isinstance(exc, AccessDenied):
        return [FieldProblem(exc.field, exc.rule, str(exc))], 403
    if isinstance(exc, NotFound):
        return [FieldProblem(exc.field, "not_found", str(exc))], 404
    raise exc


def _evidence_forms(
    form_class: type[EvidenceForm], bound: EvidenceForm | None, **kwargs: Any
) -> dict[str, Any]:
    """One form per method; the posted one keeps its input and errors."""
    out: dict[str, Any] = {}
    for method in ("qr_photo", "qr_text", "chip", "typed"):
        if bound is not None and bound.data.get("method") == method:
            out[method] = bound
        else:
            out[method] = form_class(initial={"method": method}, prefix=None, **kwargs)
    return out


def _result_context(result: Any) -> dict[str, Any]:
    return {
        "result": result,
        "decision_text": presenters.DECISIONS.get(result.decision, result.decision),
        "reasons": presenters.reasons(result.reasons),
        "released": presenters.released(result.data),
    }


# --------------------------------------------------------------------------- clinic
@require_http_methods(["GET", "POST"])
@desk(services.CLINIC_KINDS)
def clinic(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Check a patient in: verify the card, show the verified identity, open an encounter."""
    context: dict[str, Any] = {"actor": actor}
    status = 200
    bound = None
    if request.method == "POST":
        bound = EvidenceForm(request.POST, request.FILES)
        if not bound.is_valid() or not hasattr(bound, "evidence"):
            context["problems"] = _shown(form_problems(bound))
            status = 400
        else:
            try:
                check_in = services.check_in_patient(services.desk_context(actor), bound.evidence)
            except (DomainValidationError, AccessDenied, NotFound) as exc:
                problems, status = _problems(exc)
                context["problems"] = _shown(problems)
            else:
                context.update(_result_context(check_in.result))
                context["encounter"] = check_in.encounter
                bound = None
    context["forms"] = _evidence_forms(EvidenceForm, bound)
    context["encounters"] = services.encounters_on(actor, timezone.localdate())
    return render(request, "desks/clinic.html", context, status=status)


@require_http_methods(["GET"])
@desk(services.CLINIC_KINDS)
def encounters(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The clinic's encounters of a day (today by default); ``?format=csv`` downloads them."""
    form = DayForm(request.GET)
    if not form.is_valid():
        context = {"actor": actor, "form": form, "problems": _shown(form_problems(form)), "encounters": []}
        return render(request, "desks/encounters.html", context, status=400)
    day = form.cleaned_data["date"] or timezone.localdate()
    rows = services.encounters_on(actor, day)
    if request.GET.get("format") == "csv":
        response = HttpResponse(services.encounters_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="encounters-{day.isoformat()}.csv"'
        return response
    context = {"actor": actor, "form": form, "day": day, "encounters": rows}
    return render(request, "desks/encounters.html", context)


# --------------------------------------------------------------------------- kiosk
def _kiosk_key(request: HttpRequest) -> str:
    return str(request.META.get(KIOSK_HEADER) or request.COOKIES.get(KIOSK_COOKIE) or "")


@require_http_methods(["GET"])
@never_cache
def kiosk_enrol(request: HttpRequest, key: str) -> HttpResponse:
    """Enrol this browser as a kiosk: check the key, keep it in an HttpOnly cookie, go to the kiosk."""
    try:
        services.authenticate_kiosk(key)
    except services.KioskRejected as exc:
        return render(request, "desks/kiosk_refused.html", {"rule": exc.rule}, status=403)
    response = HttpResponseRedirect(reverse("desks:kiosk"))
    response.set_cookie(
        KIOSK_COOKIE,
        key,
        max_age=KIOSK_COOKIE_AGE,
        httponly=True,
        samesite="Strict",
        secure=request.is_secure(),
        path=reverse("desks:kiosk"),
    )
    return response


@require_http_methods(["GET", "POST"])
@never_cache
@csrf_protect
def kiosk(request: HttpRequest) -> HttpResponse:
    """The self-service kiosk: no staff log-in, the device key instead. Vietnamese first."""
    lang = "en" if (request.POST.get("lang") or request.GET.get("lang")) == "en" else "vi"
    with translation.override(lang):
        try:
            session = services.authenticate_kiosk(_kiosk_key(request))
        except services.KioskRejected as exc:
            return render(request, "desks/kiosk_refused.html", {"rule": exc.rule, "lang": lang}, status=403)
        context: dict[str, Any] = {"session": session, "lang": lang, "clear_after": KIOSK_CLEAR_SECONDS}
        status = 200
        if request.method == "POST":
            form = KioskForm(request.POST, request.FILES)
            if not form.is_valid() or not hasattr(form, "evidence"):
                context["problems"] = _shown(form_problems(form))
                status = 400
            else:
                try:
                    check_in = services.kiosk_check_in(session, form.evidence)
                except (DomainValidationError, AccessDenied) as exc:
                    problems, status = _problems(exc)
                    context["problems"] = _shown(problems)
                else:
                    context.update(_result_context(check_in.result))
                    context["encounter"] = check_in.encounter
        return render(request, "desks/kiosk.html", context, status=status)


# --------------------------------------------------------------------------- notary
@require_http_methods(["GET", "POST"])
@desk(services.NOTARY_KINDS)
def notary(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The notary's acts, and a form to open a new one."""
    status = 200
    problems: list[FieldProblem] = []
    form = ActForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                act = services.create_act(
                    actor, form.cleaned_data["reference"], form.cleaned_data["act_type"]
                )
            except DomainValidationError as exc:
                problems, status = _problems(exc)
            else:
                return HttpResponseRedirect(reverse("desks:act", args=[act.act_id]))
        else:
            problems, status = form_problems(form), 400
    context = {"actor": actor, "form": form, "acts": services.acts_of(actor), "problems": _shown(problems)}
    return render(request, "desks/notary.html", context, status=status)


@require_http_methods(["GET", "POST"])
@desk(services.NOTARY_KINDS)
def act(request: HttpRequest, actor: Actor, act_id: int) -> HttpResponse:
    """An act: its verified parties, and a form to verify the next one."""
    try:
        view = services.act_of(actor, act_id)
    except NotFound as exc:
        problems, status = _problems(exc)
        return render(
            request, "desks/error.html", {"problems": _shown(problems), "status": status}, status=status
        )
    context: dict[str, Any] = {"actor": actor, "act": view}
    status = 200
    bound = None
    if request.method == "POST":
        bound = PartyForm(request.POST, request.FILES)
        if not bound.is_valid() or not hasattr(bound, "evidence"):
            context["problems"] = _shown(form_problems(bound))
            status = 400
        else:
            try:
                outcome = services.verify_party(
                    services.desk_context(actor), act_id, bound.cleaned_data["role"], bound.evidence
                )
            except (DomainValidationError, AccessDenied, NotFound) as exc:
                problems, status = _problems(exc)
                context["problems"] = _shown(problems)
            else:
                context.update(_result_context(outcome.result))
                context["receipt"] = outcome.receipt
                context["act"] = services.act_of(actor, act_id)
                bound = None
    context["forms"] = _evidence_forms(PartyForm, bound)
    return render(request, "desks/act.html", context, status=status)


@require_http_methods(["GET"])
@desk(services.NOTARY_KINDS)
def receipt(request: HttpRequest, actor: Actor, receipt_id: str) -> HttpResponse:
    """A printable verification receipt, signed by the platform."""
    try:
        view = services.receipt_of(actor, receipt_id)
    except NotFound as exc:
        problems, status = _problems(exc)
        return render(
            request, "desks/error.html", {"problems": _shown(problems), "status": status}, status=status
        )
    content = view.content
    context = {
        "actor": actor,
        "receipt": view,
        "content": content,
        "decision_text": presenters.DECISIONS.get(str(content.get("decision")), content.get("decision")),
        "released": presenters.released(content.get("released")),
        "public_key": services.public_key_pem(),
    }
    return render(request, "desks/receipt.html", context)


@require_http_methods(["GET"])
@desk(services.NOTARY_KINDS)
def receipt_verify(request: HttpRequest, actor: Actor, receipt_id: str) -> HttpResponse:
    """Whether a stored receipt's signature verifies under the platform's key."""
    try:
        check = services.verify_receipt(actor, receipt_id)
    except NotFound as exc:
        problems, status = _problems(exc)
        return render(
            request, "desks/error.html", {"problems": _shown(problems), "status": status}, status=status
        )
    return render(request, "desks/receipt_verify.html", {"actor": actor, "check": check})


# --------------------------------------------------------------------------- conditional businesses
@require_http_methods(["GET", "POST"])
@desk(services.BUSINESS_KINDS)
def business(request: HttpRequest, actor: Actor) -> HttpResponse:
    """A pawn shop or security firm verifies a customer: name and date of birth only."""
    context: dict[str, Any] = {"actor": actor}
    status = 200
    bound = None
    if request.method == "POST":
        bound = EvidenceForm(request.POST, request.FILES)
        if not bound.is_valid() or not hasattr(bound, "evidence"):
            context["problems"] = _shown(form_problems(bound))
            status = 400
        else:
            try:
                check = services.check_customer(services.desk_context(actor), bound.evidence)
            except (DomainValidationError, AccessDenied) as exc:
                problems, status = _problems(exc)
                context["problems"] = _shown(problems)
            else:
                context.update(_result_context(check.result))
                context["card_reported_lost"] = check.card_reported_lost
                bound = None
    context["forms"] = _evidence_forms(EvidenceForm, bound)
    return render(request, "desks/business.html", context, status=status)
