"""The eID desk of the commune police (``/eid-desk/``): level-1 applications of the ward to
approve or reject, level-2 activation with the chip card and a live photo, and level-2 accounts
created in person. Thin views over ``dancu.blocks.eid.services``."""

from __future__ import annotations

import base64
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from dancu.apps.eiddesk.forms import ActivationForm, DecisionForm, ForeignerActivationForm
from dancu.apps.web.staff import problems_of, shown, staff_view
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.eid import family, foreigners, services
from dancu.errors import AccessDenied, Conflict, DomainValidationError, FieldProblem, NotFound

READER_BRIDGE = "http://127.0.0.1:47800"  # identity.reader.serve_bridge, as on the kiosks
AA_SESSION_KEY = "eiddesk.aa_challenge"


def _new_challenge(request: HttpRequest) -> str:
    """A fresh 8-byte Active Authentication challenge for the next chip read at this desk (ICAO
    9303 part 11 §6.1), kept in the officer's session until one activation uses it: the chip
    signs what the server chose, so an answer recorded from a genuine chip cannot be replayed by
    a cloned one (ADR 0017 §14). A new page replaces the previous challenge."""
    challenge = secrets.token_bytes(8).hex()
    request.session[AA_SESSION_KEY] = challenge
    return challenge


def _take_challenge(request: HttpRequest) -> bytes | None:
    """The challenge issued with the page, removed from the session: each is used once."""
    raw = request.session.pop(AA_SESSION_KEY, None)
    try:
        return bytes.fromhex(raw) if isinstance(raw, str) and len(raw) == 16 else None
    except ValueError:
        return None


def may_use(actor: Actor) -> bool:
    return actor.may(services.REGISTRATION) or actor.may(services.ACTIVATION)


desk_actor = staff_view(
    may_act=may_use,
    no_organisation=lambda request: render(
        request, "eiddesk/not_authorised.html", {"no_organisation": True}, status=403
    ),
    not_authorised="eiddesk/not_authorised.html",
    membership_ended=lambda request: request.get_full_path(),
)


@desk_actor
@require_http_methods(["GET"])
def pending(request: HttpRequest, actor: Actor) -> HttpResponse:
    rows = services.pending_registrations(AccessContext(actor, services.REGISTRATION))
    items = [
        {
            "row": r,
            "thumbnail": "data:image/png;base64," + base64.b64encode(r.thumbnail).decode()
            if r.thumbnail
            else "",
        }
        for r in rows
    ]
    waiting, closed = (
        services.level2_queue(AccessContext(actor, services.ACTIVATION))
        if actor.may(services.ACTIVATION)
        else ([], [])
    )
    context = {
        "items": items,
        "actor": actor,
        "done": request.GET.get("done", ""),
        "waiting": waiting,
        "closed": closed,
    }
    return render(request, "eiddesk/pending.html", context)


@desk_actor
@require_POST
def decide(request: HttpRequest, actor: Actor, registration_id: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    problems: list[FieldProblem] = []
    status = 400
    if form.is_valid():
        try:
            services.decide_registration(
                AccessContext(actor, services.REGISTRATION),
                registration_id,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"],
            )
            return HttpResponseRedirect(reverse("eiddesk:pending") + "?done=" + form.cleaned_data["decision"])
        except (DomainValidationError, AccessDenied, NotFound) as exc:
            problems, status = problems_of(exc)
    else:
        problems = [FieldProblem("decision", "choice", "approve or reject")]
    return render(request, "eiddesk/error.html", {"problems": shown(problems)}, status=status)


@desk_actor
@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Upgrade an account to level 2, or (``create``) make a level-2 account in person."""
    create = request.GET.get("new") == "1" or request.POST.get("create") == "1"
    form = ActivationForm(request.POST or None, request.FILES or None)
    result = None
    problems: list[FieldProblem] = []
    status = 200
    reference = (request.POST.get("request") or request.GET.get("request") or "")[:40]
    opened = None
    if reference and not create:
        try:  # opened from the ward's queue: the request's holder and appointment are shown
            opened = services.level2_request_for_desk(AccessContext(actor, services.ACTIVATION), reference)
        except (AccessDenied, NotFound) as exc:
            problems, status = problems_of(exc)
            context = {"form": form, "create": create, "problems": shown(problems), "actor": actor}
            return render(request, "eiddesk/activate.html", context, status=status)
    if request.method == "POST":
        challenge = _take_challenge(request)
        if form.is_valid():
            try:
                result = services.activate_level2(
                    AccessContext(actor, services.ACTIVATION),
                    chip_files=form.cleaned_data["chip_files"],
                    live_photo=form.cleaned_data["live_photo"].read(),
                    create=create,
                    phone=form.cleaned_data.get("phone") or "",
                    email=form.cleaned_data.get("email") or "",
                    request_reference=opened.reference if opened is not None else "",
                    aa_challenge=challenge,
                    aa_answer=form.cleaned_data.get("chip_aa"),
                )
            except Conflict as exc:
                problems, status = [FieldProblem("id_number", "exists", str(exc))], 409
            except (DomainValidationError, AccessDenied, NotFound) as exc:
                problems, status = problems_of(exc)
        else:
            status = 400
    context = {
        "form": form,
        "create": create,
        "result": result,
        "problems": shown(problems),
        "actor": actor,
        "opened": opened,
        "aa_challenge": _new_challenge(request),
    }
    return render(request, "eiddesk/activate.html", context, status=status)


@desk_actor
@require_http_methods(["GET", "POST"])
def present(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Check the QR a parent presents for their child's account (``family.verify_presentation``,
    purpose ``eid.activation`` at this desk; audited to the child)."""
    shown_child = None
    problems: list[FieldProblem] = []
    status = 200
    token = (request.POST.get("token") or "").strip()
    if request.method == "POST":
        try:
            shown_child = family.verify_presentation(AccessContext(actor, services.ACTIVATION), token[:500])
        except (DomainValidationError, AccessDenied) as exc:
            problems, status = problems_of(exc)
    context = {"actor": actor, "child": shown_child, "problems": shown(problems)}
    return render(request, "eiddesk/present.html", context, status=status)


@desk_actor
@require_http_methods(["GET", "POST"])
def activate_foreigner(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Raise a foreign resident's account to level 2 from the passport's MRZ and the residence
    card, and the passport chip when the reader could read it (``foreigners.activate_level2_foreigner``,
    purpose ``eid.activation``; ADR 0017 §10)."""
    form = ForeignerActivationForm(request.POST or None, request.FILES or None)
    result = None
    problems: list[FieldProblem] = []
    status = 200
    if request.method == "POST":
        status = 400
        challenge = _take_challenge(request)
        if form.is_valid():
            d = form.cleaned_data
            try:
                result = foreigners.activate_level2_foreigner(
                    AccessContext(actor, services.ACTIVATION),
                    passport_mrz=d["passport_mrz"],
                    card_number=d["card_number"],
                    face_confirmed=bool(d.get("face_confirmed")),
                    chip_files=d.get("chip_json"),
                    chip_reason=foreigners.CHIP_UNREADABLE if d.get("chip_unreadable") else "",
                    aa_challenge=challenge,
                    aa_answer=d.get("chip_aa"),
                    live_photo=d["live_photo"].read() if d.get("live_photo") else b"",
                )
                status = 200
            except (DomainValidationError, AccessDenied, NotFound) as exc:
                problems, status = problems_of(exc)
    context = {
        "form": form,
        "result": result,
        "problems": shown(problems),
        "actor": actor,
        # The desk's NFC reader bridge on the officer's own machine (identity.reader.serve_bridge):
        # the page asks it to open the passport chip with the MRZ key (BAC) and submits the files.
        "reader_bridge": getattr(settings, "DANCU_KIOSK_READER_BRIDGE", READER_BRIDGE),
        "aa_challenge": _new_challenge(request),
    }
    return render(request, "eiddesk/activate_foreigner.html", context, status=status)
