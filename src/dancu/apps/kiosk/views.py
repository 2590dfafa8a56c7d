"""The kiosk pages (``/kiosk/``): full screen, touch first, large type, Vietnamese first with an
English switch. No staff log-in: the device key (an HttpOnly cookie set by the enrolment link).

The citizen's session holds only their eID account id, how the card was read, how they proved they
hold the account (chip, or the one-time code after a QR: ADR 0013 decision 3), the code's session
challenge and wrong tries, the masked phone (``******789``), and the dossiers submitted in it; it
is wiped when they press "Finish", after ``DANCU_KIOSK_IDLE_SECONDS`` without
a touch (the page's timer posts to ``/kiosk/ket-thuc/``), and on the server at the next request
after that time whatever the browser did.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import segno
from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dancu.apps.desks.services import KioskRejected
from dancu.apps.desks.views import READER_BRIDGE
from dancu.apps.kiosk import services
from dancu.apps.kiosk.forms import CardForm, CodeForm, KioskDossierForm
from dancu.apps.kiosk.texts import SOURCES, T, text
from dancu.apps.public_services.registry_link import RegistryUnavailable
from dancu.blocks.organisations import tokens
from dancu.errors import DomainValidationError, NotFound

COOKIE = "dancu_office_kiosk"
HEADER = "HTTP_X_KIOSK_KEY"
COOKIE_AGE = 365 * 24 * 3600
STATE = "kiosk"
DISPLAY = "kiosk_display"
DEFAULT_IDLE_SECONDS = 90


def idle_seconds() -> int:
    return int(getattr(settings, "DANCU_KIOSK_IDLE_SECONDS", DEFAULT_IDLE_SECONDS))


def _key(request: HttpRequest) -> str:
    return str(request.META.get(HEADER) or request.COOKIES.get(COOKIE) or "")


def _lang(request: HttpRequest) -> str:
    asked = request.POST.get("lang") or request.GET.get("lang")
    if asked in ("vi", "en"):
        request.session["kiosk_lang"] = asked
    return str(request.session.get("kiosk_lang", "vi"))


def _state(request: HttpRequest, device: services.Device) -> dict[str, Any] | None:
    """The identified citizen's session state, or None. Idle longer than the limit, or made on
    another kiosk: wiped here (the server-side time-out)."""
    state = request.session.get(STATE)
    if not state:
        return None
    now = time.time()
    if state.get("device") != device.device_id or now - float(state.get("last", 0)) > idle_seconds():
        request.session.flush()
        request.session["kiosk_expired"] = True
        return None
    state["last"] = now
    request.session.modified = True
    return dict(state)


def _identification(state: dict[str, Any]) -> services.Identification:
    return services.Identification(
        True, state["kind"], state["receipt"], user_id=state.get("user"), possession=state.get("proved", "")
    )


def _bind(state: dict[str, Any]) -> str:
    """The one-time code's binding: this kiosk and this session's random challenge (a code sent
    for another session or kiosk never matches)."""
    return f"{state['device']}:{state['challenge']}"


def _holder(
    request: HttpRequest, device: services.Device
) -> tuple[dict[str, Any] | None, HttpResponse | None]:
    """The state of a citizen who proved they hold the account (chip, or the code after a QR);
    else where to go: the card (no session) or the code (a QR alone)."""
    state = _state(request, device)
    if state is None:
        return None, HttpResponseRedirect(reverse("kiosk:start"))
    if not state.get("proved"):
        return None, HttpResponseRedirect(reverse("kiosk:code"))
    return state, None


def _code_first(request: HttpRequest, device: services.Device, lang: str) -> HttpResponse:
    """A POST of a QR-only session (a dossier, anything that would act for the holder): refused."""
    state = request.session.get(STATE) or {}
    context = {"device": device, "phone": state.get("phone", ""), "problems": [text("code_first", lang)]}
    return _render(request, "kiosk/code.html", {**context, "form": CodeForm()}, lang=lang, status=403)


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, lang: str, status: int = 200
) -> HttpResponse:
    display = request.session.get(DISPLAY, {})
    base = {
        "lang": lang,
        "t": {k: text(k, lang) for k in T},
        "idle_seconds": idle_seconds(),
        "contrast": bool(display.get("contrast")),
        "size": display.get("size", "normal"),
        "here": request.path,
    }
    with translation.override(lang):
        response = render(request, template, {**base, **context}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def kiosk_view(view: Any) -> Any:
    """The device must present a valid key; the view gets the ``Device`` and the language."""

    @never_cache
    @csrf_protect
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        lang = _lang(request)
        try:
            device = services.authenticate(_key(request))
        except KioskRejected as exc:
            return _render(request, "kiosk/refused.html", {"rule": exc.rule}, lang=lang, status=403)
        return view(request, device, lang, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@require_http_methods(["GET", "POST"])
@never_cache
@csrf_protect
def enrol(request: HttpRequest) -> HttpResponse:
    """Enrol this browser as the kiosk. The device key travels in the POST body (field ``key``) or
    the ``X-Kiosk-Key`` header, never in the URL (proxies, the browser's history and the next
    page's ``Referer`` keep URLs); checked, it is kept in an HttpOnly cookie scoped to the kiosk's
    pages (``organisations.tokens.remember_device``). GET shows the form where the office's
    administrator enters the key."""
    lang = "en" if (request.POST.get("lang") or request.GET.get("lang")) == "en" else "vi"
    if request.method == "GET":
        return _render(request, "kiosk/enrol.html", {}, lang=lang)
    key = tokens.posted_token(request, header=HEADER)
    try:
        services.authenticate(key)
    except KioskRejected as exc:
        return _render(request, "kiosk/refused.html", {"rule": exc.rule}, lang=lang, status=403)
    start = reverse("kiosk:start")
    return tokens.remember_device(
        HttpResponseRedirect(start), request, cookie=COOKIE, token=key, max_age=COOKIE_AGE, path=start
    )


@require_http_methods(["GET", "POST", "HEAD"])
@never_cache
def enrol_link_retired(request: HttpRequest, key: str) -> HttpResponse:
    """The enrolment links of before 2026-12 carried the key in the path. They enrol nothing now —
    the key in the path is not looked at — and answer 410 Gone with the way to the enrolment form.
    A key that travelled in such a link should be re-issued (the admin's "issue key" action). The
    page does not repeat its own path, and the response is not logged by ``django.request`` (whose
    4xx warning names the path, here the key)."""
    context = {"rule": "link_retired", "here": reverse("kiosk:enrol")}
    response = _render(request, "kiosk/refused.html", context, lang="vi", status=410)
    response._has_been_logged = True  # type: ignore[attr-defined]  # django.utils.log.log_response
    return response


@require_http_methods(["GET", "POST"])
@kiosk_view
def start(request: HttpRequest, device: services.Device, lang: str) -> HttpResponse:
    """Present the card: QR code under the scanner (or to the camera), or the chip on the reader."""
    if _state(request, device):
        return HttpResponseRedirect(reverse("kiosk:services"))
    expired = bool(request.session.pop("kiosk_expired", False))
    form = CardForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {
        "device": device,
        "expired": expired,
        "problems": [],
        # The card reader's bridge on the kiosk's own machine (``identity.reader.serve_bridge``).
        "reader_bridge": getattr(settings, "DANCU_KIOSK_READER_BRIDGE", READER_BRIDGE),
        # The next chip read's Active Authentication challenge, handed to the bridge.
        "chip_challenge": services.chip_challenge(device),
    }
    if request.method == "POST":
        if not form.is_valid():
            context["problems"] = [str(m) for errors in form.errors.values() for m in errors]
            return _render(request, "kiosk/start.html", context, lang=lang, status=422)
        try:
            found = services.identify(device, form.evidence)
        except DomainValidationError as exc:
            context["problems"] = [p.message for p in exc.problems]
            return _render(request, "kiosk/start.html", context, lang=lang, status=422)
        if not found.matched:
            context["reasons"] = [r.message_en if lang == "en" else r.message_vi for r in found.reasons]
            return _render(request, "kiosk/start.html", context, lang=lang, status=422)
        if found.user_id is None:
            return _render(request, "kiosk/no_account.html", context, lang=lang, status=403)
        if not found.possession and not services.has_verified_phone(found):
            # A QR alone proves nothing about who holds the card, and no code can reach the holder.
            return _render(request, "kiosk/no_phone.html", context, lang=lang, status=403)
        request.session.cycle_key()  # a new session id for the identified citizen
        state = {
            "device": device.device_id,
            "user": found.user_id,
            "kind": found.evidence_kind,
            "receipt": found.receipt_id,
            "proved": found.possession,  # "chip" after passive authentication, else "" until the code
            "challenge": "" if found.possession else secrets.token_urlsafe(16),
            "attempts": 0,
            "phone": "",
            "last": time.time(),
            "dossiers": [],
        }
        request.session[STATE] = state
        if found.possession:
            return HttpResponseRedirect(reverse("kiosk:services"))
        sent = services.send_code(device, found, bind=_bind(state))
        state.update(phone=sent.phone_masked, notice="" if sent.sent else "throttled", wait=sent.retry_after)
        request.session.modified = True
        return HttpResponseRedirect(reverse("kiosk:code"))
    return _render(request, "kiosk/start.html", context, lang=lang)


@require_http_methods(["GET", "POST"])
@kiosk_view
def code(request: HttpRequest, device: services.Device, lang: str) -> HttpResponse:
    """After a QR: the one-time code sent to the verified phone of the holder's eID account, typed
    on the on-screen keypad (a code, not personal data). Right: the services open. Wrong: counted;
    at ``services.CODE_ATTEMPTS`` the code ends and the session is wiped (locked). "Send again":
    a new code (the old one stops), throttled by the eID block."""
    state = _state(request, device)
    if state is None:
        return HttpResponseRedirect(reverse("kiosk:start"))
    if state.get("proved"):
        return HttpResponseRedirect(reverse("kiosk:services"))
    stored = request.session[STATE]
    identification = _identification(state)
    form = CodeForm()
    context: dict[str, Any] = {"device": device, "problems": [], "form": form}
    status = 200
    if request.method == "POST" and request.POST.get("action") == "resend":
        sent = services.send_code(device, identification, bind=_bind(state))
        stored.update(notice="resent" if sent.sent else "throttled", wait=sent.retry_after)
        status = 200 if sent.sent else 429
    elif request.method == "POST":
        form = CodeForm(request.POST)
        context["form"] = form
        if not form.is_valid():
            context["problems"] = [text("code_format", lang)]
            status = 422
        else:
            try:
                proved = services.check_code(
                    device, identification, form.cleaned_data["code"], bind=_bind(state)
                )
            except DomainValidationError:
                stored["attempts"] = int(stored.get("attempts", 0)) + 1
                if stored["attempts"] >= services.CODE_ATTEMPTS:
                    services.lock(device, identification)
                    request.session.flush()
                    return _render(request, "kiosk/locked.html", {"device": device}, lang=lang, status=403)
                left = services.CODE_ATTEMPTS - stored["attempts"]
                context["problems"] = [f"{text('code_label', lang)}: {text('code_wrong', lang)}"]
                context["left"] = left
                context["form"] = CodeForm()  # an empty field for the next try
                status = 422
            else:
                request.session.cycle_key()
                stored.update(proved=proved.possession, challenge="", attempts=0, notice="")
                request.session[STATE] = stored
                return HttpResponseRedirect(reverse("kiosk:services"))
    request.session.modified = True
    context.update(
        phone=stored.get("phone", ""),
        notice=stored.pop("notice", ""),
        wait=stored.get("wait", 0),
        left=context.get("left", services.CODE_ATTEMPTS - int(stored.get("attempts", 0))),
    )
    return _render(request, "kiosk/code.html", context, lang=lang, status=status)


@require_GET
@kiosk_view
def services_page(request: HttpRequest, device: services.Device, lang: str) -> HttpResponse:
    state, elsewhere = _holder(request, device)
    if state is None:
        return elsewhere or HttpResponseRedirect(reverse("kiosk:start"))
    rows = [
        {"o": o, "name": o.service.name_en if lang == "en" else o.service.name_vi}
        for o in services.available_services(state["kind"])
    ]
    return _render(
        request, "kiosk/services.html", {"device": device, "rows": rows, "kind": state["kind"]}, lang=lang
    )


@require_http_methods(["GET", "POST"])
@kiosk_view
def service_form(request: HttpRequest, device: services.Device, lang: str, code: str) -> HttpResponse:
    """A kiosk service's form, prefilled — only for a citizen who proved they hold the account
    (a QR-only session: GET goes to the code, POST is refused with 403)."""
    state, elsewhere = _holder(request, device)
    if state is None:
        if request.method == "POST" and request.session.get(STATE):
            return _code_first(request, device, lang)
        return elsewhere or HttpResponseRedirect(reverse("kiosk:start"))
    identification = _identification(state)
    try:
        service = services.offered(code, identification.evidence_kind)
    except NotFound:
        raise Http404 from None
    name = service.name_en if lang == "en" else service.name_vi
    context: dict[str, Any] = {"device": device, "service": service, "name": name, "problems": []}
    try:
        with translation.override(lang):
            prefilled = services.prefill(identification, service)
    except (DatabaseError, NotFound, RegistryUnavailable):
        return _render(request, "kiosk/unavailable.html", context, lang=lang, status=503)
    with translation.override(lang):
        form = KioskDossierForm(service, prefilled, request.POST or None)
    context["form"] = form
    context["prefilled"] = [
        {
            "key": p.key,
            "label": p.label_en if lang == "en" else p.label_vi,
            "value": p.value,
            "source": SOURCES[p.source][lang == "en"],
        }
        for p in prefilled
    ]
    status = 200
    if request.method == "POST" and form.is_valid():
        supplied = {i.key: str(form.cleaned_data.get(i.key) or "") for i in service.citizen_items()}
        try:
            dossier = services.submit(
                device,
                identification,
                service.code,
                supplied,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
        except DomainValidationError as exc:
            labels = {i.key: (i.label_en if lang == "en" else i.label_vi) for i in service.items}
            context["problems"] = [f"{labels.get(p.field, p.field)}: {p.message}" for p in exc.problems]
            for p in exc.problems:
                if p.field in form.fields:
                    form.add_error(p.field, p.message)
            status = 422
        except (DatabaseError, RegistryUnavailable):
            return _render(request, "kiosk/unavailable.html", context, lang=lang, status=503)
        else:
            stored = request.session[STATE]
            stored["dossiers"] = [*stored.get("dossiers", []), dossier.tracking_code][-10:]
            request.session.modified = True
            return HttpResponseRedirect(reverse("kiosk:receipt", args=[dossier.tracking_code]))
    elif request.method == "POST":
        status = 422
    return _render(request, "kiosk/form.html", context, lang=lang, status=status)


@require_GET
@kiosk_view
def receipt(request: HttpRequest, device: services.Device, lang: str, tracking_code: str) -> HttpResponse:
    """The receipt of a dossier submitted in this session: printable, with the tracking code as a
    QR code (the dossier's page on the portal). No name or ID number on it — a receipt left in the
    tray tells nothing about its owner."""
    state, elsewhere = _holder(request, device)
    if state is None:
        return elsewhere or HttpResponseRedirect(reverse("kiosk:start"))
    if tracking_code not in state.get("dossiers", []):
        raise Http404
    try:
        dossier = services.submitted_here(device, _identification(state), tracking_code)
    except NotFound:
        raise Http404 from None
    service = services.catalogue.BY_CODE[dossier.service_code]
    url = request.build_absolute_uri(reverse("public_services:dossier", args=[dossier.tracking_code]))
    qr = segno.make(url, error="m")
    context = {
        "device": device,
        "d": dossier,
        "name": service.name_en if lang == "en" else service.name_vi,
        "authority": service.authority_vi,
        "submitted": timezone.localtime(dossier.submitted_at),
        "qr": qr.svg_data_uri(scale=5, border=2),
        "url": url,
    }
    return _render(request, "kiosk/receipt.html", context, lang=lang)


@require_POST
@kiosk_view
def display(request: HttpRequest, device: services.Device, lang: str) -> HttpResponse:
    """High contrast and large type for this session (wiped with it)."""
    current = dict(request.session.get(DISPLAY, {}))
    if "contrast" in request.POST:
        current["contrast"] = not current.get("contrast")
    if request.POST.get("size") in ("normal", "large", "larger"):
        current["size"] = request.POST["size"]
    request.session[DISPLAY] = current
    back = str(request.POST.get("next") or "")
    if not back.startswith("/kiosk/") or "//" in back:
        back = reverse("kiosk:start")
    return HttpResponseRedirect(back)


@require_http_methods(["GET", "POST"])
@never_cache
def end(request: HttpRequest) -> HttpResponse:
    """Finish: wipe the session (the citizen's identification, dossiers, display choices)."""
    timed_out = request.GET.get("timeout") == "1" or request.POST.get("timeout") == "1"
    request.session.flush()
    if timed_out:
        request.session["kiosk_expired"] = True
    return HttpResponseRedirect(reverse("kiosk:start"))
