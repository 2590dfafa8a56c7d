"""Desk pages. Views parse input (``forms``), call one service function and render its result;
errors become pages naming the field and the rule: 400 (bad input), 403 (not this desk),
404 (not found). Pages showing personal data are never cached."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from dancu.apps.desks import presenters, services
from dancu.apps.desks.forms import (
    METHODS,
    STATUS_LABELS,
    ActForm,
    DayForm,
    EvidenceForm,
    KioskForm,
    PartyForm,
    ReceiptCheckForm,
    ReceiptPhotoForm,
    StatusForm,
)
from dancu.apps.web.session import chosen_organisation_id
from dancu.apps.web.sso import sso_staff
from dancu.apps.web.staff import form_problems, problems_of, shown
from dancu.blocks.audit.context import Actor
from dancu.blocks.identity.qr import read_qr
from dancu.blocks.identity.services import VerificationResult
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem, NotFound
from dancu.ratelimit import RateLimited

DeskView = Callable[..., HttpResponse]
KIOSK_COOKIE = "dancu_kiosk"
READER_BRIDGE = "http://127.0.0.1:47800"  # identity.reader.serve_bridge on the kiosk's machine
KIOSK_HEADER = "HTTP_X_KIOSK_KEY"
KIOSK_COOKIE_AGE = 365 * 24 * 3600
KIOSK_CLEAR_SECONDS = 30


def desk(kinds: frozenset[str]) -> Callable[[DeskView], DeskView]:
    """Log-in required, and a clerk of an organisation of ``kinds``; else 403 "not authorised"."""

    def decorate(view: DeskView) -> DeskView:
        @never_cache
        @sso_staff()  # signed in through the platform's SSO (ADR 0011)
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                actor = services.desk_actor(request.user, kinds, chosen_organisation_id(request))
            except AccessDenied:
                return render(request, "desks/not_authorised.html", {"kinds": sorted(kinds)}, status=403)
            return view(request, actor, *args, **kwargs)

        return wrapper

    return decorate


def _evidence_forms(
    form_class: type[EvidenceForm], bound: EvidenceForm | None, **kwargs: Any
) -> dict[str, Any]:
    """One form per method; the posted one keeps its input and errors."""
    out: dict[str, Any] = {}
    for method in METHODS:
        if bound is not None and bound.data.get("method") == method:
            out[method] = bound
        else:
            out[method] = form_class(initial={"method": method}, prefix=None, **kwargs)
    return out


def _chip_challenge(actor: Actor) -> Any:
    """A new one-time challenge for the chip form of the page being shown (ICAO 9303 part 11
    §6.1): the reader app has the chip sign it; a chip that offers Active Authentication and does
    not answer it, or answers with another key (a clone), is refused. One per page view: each
    shown page's challenge is used by the first chip read that names it."""
    return services.chip_challenge(services.desk_context(actor))


def _result_context(result: Any) -> dict[str, Any]:
    return {
        "result": result,
        "decision_text": presenters.DECISIONS.get(result.decision, result.decision),
        "reasons": presenters.reasons(result.reasons),
        "released": presenters.released(result.data),
    }


class _Checked(Protocol):
    @property
    def result(self) -> VerificationResult: ...


FormT = TypeVar("FormT", bound=EvidenceForm)
CheckedT = TypeVar("CheckedT", bound=_Checked)


def _check_posted(
    request: HttpRequest,
    form_class: type[FormT],
    context: dict[str, Any],
    check: Callable[[FormT], CheckedT],
) -> tuple[FormT | None, CheckedT | None, int]:
    """On POST, bind ``form_class`` and run ``check`` on the valid form; the problems, or the
    verification result, go into ``context``. Returns the bound form (None on GET and after a
    success, so that the page shows empty forms), what ``check`` returned (None unless it
    succeeded) and the status."""
    if request.method != "POST":
        return None, None, 200
    bound = form_class(request.POST, request.FILES)
    if not bound.is_valid() or not hasattr(bound, "evidence"):
        context["problems"] = shown(form_problems(bound))
        return bound, None, 400
    try:
        outcome = check(bound)
    except (DomainValidationError, AccessDenied, NotFound) as exc:
        problems, status = problems_of(exc)
        context["problems"] = shown(problems)
        return bound, None, status
    context.update(_result_context(outcome.result))
    return None, outcome, 200


def _error_page(request: HttpRequest, exc: NotFound) -> HttpResponse:
    problems, status = problems_of(exc)
    return render(request, "desks/error.html", {"problems": shown(problems), "status": status}, status=status)


# --------------------------------------------------------------------------- clinic
@require_http_methods(["GET", "POST"])
@desk(services.CLINIC_KINDS)
def clinic(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Check a patient in: verify the card, show the verified identity, open an encounter."""
    context: dict[str, Any] = {"actor": actor}
    bound, check_in, status = _check_posted(
        request,
        EvidenceForm,
        context,
        lambda form: services.check_in_patient(services.desk_context(actor), form.evidence),
    )
    if check_in is not None:
        context["encounter"] = check_in.encounter
    context["forms"] = _evidence_forms(EvidenceForm, bound)
    context["chip_challenge"] = _chip_challenge(actor)
    context["encounters"] = services.encounters_on(actor, timezone.localdate())
    context["status_labels"] = STATUS_LABELS
    context["here"] = reverse("desks:clinic")
    return render(request, "desks/clinic.html", context, status=status)


@require_http_methods(["GET"])
@desk(services.CLINIC_KINDS)
def encounters(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The clinic's encounters of a day (today by default); ``?format=csv`` downloads them."""
    form = DayForm(request.GET)
    if not form.is_valid():
        context = {"actor": actor, "form": form, "problems": shown(form_problems(form)), "encounters": []}
        return render(request, "desks/encounters.html", context, status=400)
    day = form.cleaned_data["date"] or timezone.localdate()
    status = form.cleaned_data["status"] or None
    rows = services.encounters_on(actor, day, status=status)
    if request.GET.get("format") == "csv":
        response = HttpResponse(services.encounters_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="encounters-{day.isoformat()}.csv"'
        return response
    context = {
        "actor": actor,
        "form": form,
        "day": day,
        "status": status or "",
        "encounters": rows,
        "status_labels": STATUS_LABELS,
        "here": request.get_full_path(),
    }
    return render(request, "desks/encounters.html", context)


@require_http_methods(["POST"])
@desk(services.CLINIC_KINDS)
def encounter_status(request: HttpRequest, actor: Actor, encounter_id: int) -> HttpResponse:
    """Move an encounter to another status (waiting → in consultation → done, or cancelled),
    then go back to the list it was changed from."""
    form = StatusForm(request.POST)
    if not form.is_valid():
        problems = form_problems(form)
        return render(request, "desks/error.html", {"problems": shown(problems), "status": 400}, status=400)
    try:
        services.change_encounter_status(actor, encounter_id, form.cleaned_data["status"])
    except (DomainValidationError, NotFound) as exc:
        problems, status = problems_of(exc)
        return render(
            request, "desks/error.html", {"problems": shown(problems), "status": status}, status=status
        )
    back = form.cleaned_data["next"]
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(back, allowed_hosts=None):
        back = reverse("desks:encounters")
    return HttpResponseRedirect(back)


# --------------------------------------------------------------------------- kiosk
def _kiosk_key(request: HttpRequest) -> str:
    return str(request.META.get(KIOSK_HEADER) or request.COOKIES.get(KIOSK_COOKIE) or "")


@require_http_methods(["GET", "POST"])
@never_cache
@csrf_protect
def kiosk_enrol(request: HttpRequest) -> HttpResponse:
    """Enrol this browser as a kiosk. The device key travels in the POST body (field ``key``) or
    the ``X-Kiosk-Key`` header, never in the URL (which proxies, browser history and the
    ``Referer`` of the next page would keep); checked, it is kept in an HttpOnly cookie scoped to
    the kiosk page. GET shows the form where the clinic's administrator pastes the key."""
    lang = "en" if (request.POST.get("lang") or request.GET.get("lang")) == "en" else "vi"
    with translation.override(lang):
        if request.method == "GET":
            return render(request, "desks/kiosk_enrol.html", {"lang": lang})
        key = str(request.POST.get("key") or request.META.get(KIOSK_HEADER) or "").strip()
        try:
            services.authenticate_kiosk(key)
        except services.KioskRejected as exc:
            return render(request, "desks/kiosk_refused.html", {"rule": exc.rule, "lang": lang}, status=403)
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


@require_http_methods(["GET", "POST", "HEAD"])
@never_cache
def kiosk_enrol_link_retired(request: HttpRequest, key: str) -> HttpResponse:
    """The enrolment links of before 2026-12 carried the key in the path. They enrol nothing now
    — the key in the path is not even looked at, so a link that leaked into a log or a history
    is worthless — and answer 410 Gone with the way to the enrolment form. The response is not
    logged by ``django.request``, whose 4xx warning would write the path, here the key, to the log."""
    response = render(request, "desks/kiosk_refused.html", {"rule": "link_retired"}, status=410)
    response._has_been_logged = True  # type: ignore[attr-defined]  # django.utils.log.log_response
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
        context: dict[str, Any] = {
            "session": session,
            "lang": lang,
            "clear_after": KIOSK_CLEAR_SECONDS,
            # The card reader's bridge on the kiosk's own machine (identity.reader): the page
            # asks it for the chip read.
            "reader_bridge": getattr(settings, "DANCU_KIOSK_READER_BRIDGE", READER_BRIDGE),
        }
        _, check_in, status = _check_posted(
            request, KioskForm, context, lambda form: services.kiosk_check_in(session, form.evidence)
        )
        if check_in is not None:
            context["encounter"] = check_in.encounter
        # The next chip read's Active Authentication challenge, handed to the reader bridge.
        context["chip_challenge"] = services.chip_challenge(services.desk_context(session.actor))
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
                problems, status = problems_of(exc)
            else:
                return HttpResponseRedirect(reverse("desks:act", args=[act.act_id]))
        else:
            problems, status = form_problems(form), 400
    context = {"actor": actor, "form": form, "acts": services.acts_of(actor), "problems": shown(problems)}
    return render(request, "desks/notary.html", context, status=status)


@require_http_methods(["GET", "POST"])
@desk(services.NOTARY_KINDS)
def act(request: HttpRequest, actor: Actor, act_id: int) -> HttpResponse:
    """An act: its verified parties, and a form to verify the next one."""
    try:
        view = services.act_of(actor, act_id)
    except NotFound as exc:
        return _error_page(request, exc)
    context: dict[str, Any] = {"actor": actor, "act": view}
    bound, outcome, status = _check_posted(
        request,
        PartyForm,
        context,
        lambda form: services.verify_party(
            services.desk_context(actor), act_id, form.cleaned_data["role"], form.evidence
        ),
    )
    if outcome is not None:
        context["receipt"] = outcome.receipt
        context["act"] = services.act_of(actor, act_id)
    context["forms"] = _evidence_forms(PartyForm, bound)
    context["chip_challenge"] = _chip_challenge(actor)
    return render(request, "desks/act.html", context, status=status)


@require_http_methods(["GET"])
@desk(services.NOTARY_KINDS)
def receipt(request: HttpRequest, actor: Actor, receipt_id: str) -> HttpResponse:
    """A printable verification receipt, signed by the platform."""
    try:
        view = services.receipt_of(actor, receipt_id)
    except NotFound as exc:
        return _error_page(request, exc)
    content = view.content
    check_page = request.build_absolute_uri(reverse("desks:receipt-check"))
    check_url = check_page + "?" + services.receipt_check_query(view)
    context = {
        "actor": actor,
        "receipt": view,
        "content": content,
        "decision_text": presenters.DECISIONS.get(str(content.get("decision")), content.get("decision")),
        "released": presenters.released(content.get("released")),
        "public_key": services.public_key_pem(),
        "check_page": check_page,
        "check_url": check_url,
        "check_qr": presenters.qr_svg_data_uri(check_url),
    }
    return render(request, "desks/receipt.html", context)


@require_http_methods(["GET"])
@desk(services.NOTARY_KINDS)
def receipt_verify(request: HttpRequest, actor: Actor, receipt_id: str) -> HttpResponse:
    """Whether a stored receipt's signature verifies under the platform's key."""
    try:
        check = services.verify_receipt(actor, receipt_id)
    except NotFound as exc:
        return _error_page(request, exc)
    return render(request, "desks/receipt_verify.html", {"actor": actor, "check": check})


# --------------------------------------------------------------------------- conditional businesses
@require_http_methods(["GET", "POST"])
@desk(services.BUSINESS_KINDS)
def business(request: HttpRequest, actor: Actor) -> HttpResponse:
    """A pawn shop or security firm verifies a customer: name and date of birth only."""
    context: dict[str, Any] = {"actor": actor}
    bound, check, status = _check_posted(
        request,
        EvidenceForm,
        context,
        lambda form: services.check_customer(services.desk_context(actor), form.evidence),
    )
    if check is not None:
        context["card_reported_lost"] = check.card_reported_lost
    context["forms"] = _evidence_forms(EvidenceForm, bound)
    context["chip_challenge"] = _chip_challenge(actor)
    return render(request, "desks/business.html", context, status=status)


# --------------------------------------------------------------------------- public receipt check
def _receipt_in_photo(upload: Any) -> tuple[str, str] | None:
    """The reference and signature in the QR code of a photo of a receipt, or None."""
    if upload.size > services.MAX_PHOTO_BYTES:
        return None
    try:
        texts = read_qr(upload.read()).texts
    except DomainValidationError:
        return None
    for text in texts:
        query = parse_qs(urlsplit(text).query)
        if query.get("r") and query.get("s"):
            return query["r"][0], query["s"][0]
    return None


@require_http_methods(["GET", "POST"])
@never_cache
@csrf_protect
def receipt_check(request: HttpRequest) -> HttpResponse:
    """Anyone holding a printed receipt checks that it is genuine and unaltered: no log-in. The
    reference and signature come from the form (``?r=…&s=…``, which the receipt's QR code links
    to) or from a photo of the QR code. Only the receipt's own content is shown."""
    form = ReceiptCheckForm(request.GET or None)
    photo_form = ReceiptPhotoForm()
    context: dict[str, Any] = {"form": form, "photo_form": photo_form}
    status = 200
    pair: tuple[str, str] | None = None
    if request.method == "POST" or form.is_bound:
        try:
            services.limit_receipt_checks(str(request.META.get("REMOTE_ADDR", "")))
        except RateLimited as exc:
            message = _("Too many checks from here. Please wait a minute and try again.")
            context["problems"] = shown([FieldProblem("request", "rate_limit", message)])
            response = render(request, "desks/receipt_check.html", context, status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
    if request.method == "POST":
        photo_form = ReceiptPhotoForm(request.POST, request.FILES)
        context["photo_form"] = photo_form
        if photo_form.is_valid():
            pair = _receipt_in_photo(photo_form.cleaned_data["photo"])
            if pair is None:
                photo_form.add_error("photo", _("no receipt QR code could be read from the photo"))
        if pair is None:
            context["problems"] = shown(form_problems(photo_form))
            return render(request, "desks/receipt_check.html", context, status=400)
        form = ReceiptCheckForm({"r": pair[0], "s": pair[1]})
        context["form"] = form
    if form.is_bound:
        if not form.is_valid():
            context["problems"] = shown(form_problems(form))
            return render(request, "desks/receipt_check.html", context, status=400)
        try:
            check = services.check_receipt_publicly(form.cleaned_data["r"], form.cleaned_data["s"])
        except DomainValidationError as exc:
            problems, status = problems_of(exc)
            context["problems"] = shown(problems)
            return render(request, "desks/receipt_check.html", context, status=status)
        context["check"] = check
        if check.content is not None:
            content = check.content
            context["content"] = content
            context["decision_text"] = presenters.DECISIONS.get(
                str(content.get("decision")), content.get("decision")
            )
            context["released"] = presenters.released(content.get("released"))
    return render(request, "desks/receipt_check.html", context, status=status)
