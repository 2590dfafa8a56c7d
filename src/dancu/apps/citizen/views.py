"""The citizen's pages (``/eid/``): register, log in (password, second factor, QR from the
phone), step up, recover a locked account, and "my account" (level, factors, sessions,
authorisations to relying parties, who looked at my data). Thin: each view parses a form, calls
the eID block and renders; errors name the field and the rule."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import segno
from django.conf import settings
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dancu.apps.citizen import login_page as login_page_cache
from dancu.apps.citizen.forms import (
    ChildForm,
    ClaimForm,
    CodeForm,
    EnterpriseForm,
    ForeignerRegisterForm,
    LoginForm,
    RecoverFinishForm,
    RecoverStartForm,
    RegisterForm,
    StaffForm,
)
from dancu.apps.citizen.middleware import SEEN_KEY
from dancu.blocks.eid import assurance, factors, family, foreigners, services
from dancu.blocks.eid import login as eid_login
from dancu.blocks.sso import services as sso
from dancu.errors import AccessDenied, Conflict, DomainValidationError, NotFound

PENDING = "dancu.eid.pending_login"
TOTP_PENDING = "dancu.eid.totp_pending"
REGISTRATION = "dancu.eid.registration"
ACR_LABELS = {
    assurance.ACR_L1: "1",
    assurance.ACR_L2_MRZ: "2 (MRZ)",
    assurance.ACR_L2_MRZ_MFA: "2 (MRZ) + MFA",
    assurance.ACR_L2: "2",
    assurance.ACR_L2_MFA: "2 + MFA",
}


def safe_next(request: HttpRequest, value: str | None, default: str = "citizen:me") -> str:
    """``next`` when it is a relative path on this site (no scheme, no host, no ``//``), else the
    default page: never an open redirect."""
    if (
        value
        and value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(value, allowed_hosts=None)
    ):
        return value
    return reverse(default)


def browser_label(request: HttpRequest) -> str:
    """A short label of the browser and system from the User-Agent (no version, no identifiers)."""
    ua = request.headers.get("user-agent", "")
    browser = next(
        (
            n
            for key, n in (
                ("Edg/", "Edge"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if key in ua
        ),
        "Browser",
    )
    system = next(
        (
            n
            for key, n in (
                ("Android", "Android"),
                ("iPhone", "iOS"),
                ("Windows", "Windows"),
                ("Mac OS", "macOS"),
                ("Linux", "Linux"),
            )
            if key in ua
        ),
        "",
    )
    return f"{browser} / {system}" if system else browser


def _uid(request: HttpRequest) -> int:
    """The logged-in user's id (views behind ``login_required``)."""
    return int(request.user.pk or 0)


def client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def _bind(form: Any, exc: DomainValidationError) -> None:
    """Put the block's problems on the form fields they name (``field: message [rule]``)."""
    for p in exc.problems:
        head = p.field.split(".", 1)[0]
        field = p.field if p.field in form.fields else (head if head in form.fields else None)
        form.add_error(field, f"{p.message} [{p.rule}]")


def _qr_svg(data: str) -> str:
    return str(segno.make(data, error="m").svg_data_uri(scale=4, border=2))


def _finish(
    request: HttpRequest,
    user_id: int,
    amr: tuple[str, ...],
    next_url: str,
    checked: eid_login.PasswordOk | None = None,
) -> HttpResponse:
    """Log in (``checked``: this request's password check, whose user row, level and citizen are
    reused rather than read again)."""
    user = checked.user if checked is not None and checked.user is not None else None
    if user is None or user.pk != user_id:
        user = get_user_model().objects.get(pk=user_id)
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    eid_login.record_login(request.session, user_id, amr, browser_label(request), checked=checked)
    # The session's row was just written with last_seen = now: no second write by the middleware.
    request.session[SEEN_KEY] = int(time.time())
    return HttpResponseRedirect(next_url)


# --------------------------------------------------------------------------- registration
def _application(
    request: HttpRequest, form: Any, template: str, submit: Callable[[dict[str, Any]], dict[str, Any]]
) -> HttpResponse:
    """An online level-1 application: throttled per connection, the block's problems on the form
    fields they name, then the phone step with the state ``submit`` returns."""
    if request.method == "POST" and not eid_login.registration_allowed(client_ip(request)):
        form.add_error(None, _("Too many registrations from this connection: try again later."))
    elif request.method == "POST" and form.is_valid():
        try:
            state = submit(form.cleaned_data)
        except DomainValidationError as exc:
            _bind(form, exc)
        except Conflict as exc:
            form.add_error(exc.field if exc.field in form.fields else None, f"{exc} [{exc.rule}]")
        else:
            request.session[REGISTRATION] = {**state, "tries": 0}
            return HttpResponseRedirect(reverse("citizen:register_phone"))
    status = 400 if form.is_bound else 200
    return render(request, template, {"form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    def submit(d: dict[str, Any]) -> dict[str, Any]:
        receipt = services.register(
            services.RegistrationInput(
                id_number=d["id_number"],
                full_name=d["full_name"],
                date_of_birth=d["date_of_birth"],
                phone=d["phone"],
                email=d["email"] or "",
                password=d["password"],
                photo=d["photo"].read(),
            )
        )
        # The same answer whether or not the data matched (no oracle on registry data): the
        # phone step, with a code sent to the typed phone; that step tells the outcome.
        return {"handle": receipt.handle, "decoy": receipt.decoy, "matched": receipt.matched}

    form = RegisterForm(request.POST or None, request.FILES or None)
    return _application(request, form, "citizen/register.html", submit)


@never_cache
@require_http_methods(["GET", "POST"])
def register_foreigner(request: HttpRequest) -> HttpResponse:
    """A foreign resident with a residence card registers at level 1 with the passport's MRZ
    (Decree 69/2024 Art. 7; ``blocks/eid/foreigners.py``); then the same phone step."""

    def submit(d: dict[str, Any]) -> dict[str, Any]:
        receipt = foreigners.register_foreigner(
            foreigners.ForeignerRegistrationInput(
                passport_mrz=d["passport_mrz"],
                card_number=d["card_number"],
                phone=d["phone"],
                email=d["email"] or "",
                password=d["password"],
                photo=d["photo"].read(),
            )
        )
        # As for a citizen: the same answer on every path (no oracle on residence-card records).
        return {"handle": receipt.handle, "decoy": receipt.decoy, "matched": receipt.matched}

    form = ForeignerRegisterForm(request.POST or None, request.FILES or None)
    return _application(request, form, "citizen/register_foreigner.html", submit)


@never_cache
@require_http_methods(["GET", "POST"])
def claim(request: HttpRequest) -> HttpResponse:
    """The holder, 14 or over, takes the account a parent or guardian managed (domain-vn §4;
    ``family.claim_own_account``); then the same phone step, and the ward police decide."""

    def submit(d: dict[str, Any]) -> dict[str, Any]:
        receipt = family.claim_own_account(
            family.ClaimInput(
                id_number=d["id_number"],
                full_name=d["full_name"],
                date_of_birth=d["date_of_birth"],
                card_issued_on=d["card_issued_on"],
                phone=d["phone"],
                email=d["email"] or "",
                password=d["password"],
                photo=d["photo"].read(),
            )
        )
        # The same answer on every path (no oracle on the registry or on children's accounts).
        return {"handle": receipt.handle, "decoy": receipt.decoy, "matched": receipt.matched}

    form = ClaimForm(request.POST or None, request.FILES or None)
    return _application(request, form, "citizen/claim.html", submit)


@never_cache
@require_http_methods(["GET", "POST"])
def register_phone(request: HttpRequest) -> HttpResponse:
    if REGISTRATION not in request.session:
        return HttpResponseRedirect(reverse("citizen:register"))
    form = CodeForm(request.POST or None)
    state = request.session[REGISTRATION]
    if not isinstance(state, dict):
        state = {"handle": int(state or 0), "decoy": "", "matched": True, "tries": 0}
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        if state["handle"]:
            ok = services.verify_phone(int(state["handle"]), code)
        else:  # no registration behind it: the code sent to the typed phone, 5 tries
            state["tries"] = int(state.get("tries", 0)) + 1
            request.session[REGISTRATION] = state
            ok = state["tries"] <= factors.CODE_MAX_ATTEMPTS and factors.check_decoy_code(
                str(state.get("decoy", "")), code
            )
        if ok:
            del request.session[REGISTRATION]
            if not state["matched"]:
                return render(request, "citizen/register_no_match.html")
            return render(request, "citizen/register_done.html")
        form.add_error("code", _("The code is wrong or has expired."))
    return render(request, "citizen/register_phone.html", {"form": form}, status=400 if form.errors else 200)


# --------------------------------------------------------------------------- log-in
def _too_many_codes() -> str:
    return _("Too many codes were sent to this account: wait 15 minutes before asking for another.")


REFUSALS = {
    "invalid": lambda: _("The ID number / user name or the password is wrong."),
    "blocked": lambda: _(
        "Too many failed attempts. Wait a few minutes, or recover access with a code sent to your phone."
    ),
    "pending": lambda: _("Your registration is waiting for the commune police's approval."),
    "rejected": lambda: _(
        "Your registration was rejected; you may register again or go to the commune police."
    ),
}


@never_cache
@require_http_methods(["GET", "POST"])
def login_page(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"), "web:home")
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            ok = eid_login.check_password(
                form.cleaned_data["username"],
                form.cleaned_data["password"],
                ip=client_ip(request),
                request=request,
            )
        except eid_login.LoginRefused as refused:
            error = REFUSALS[refused.code]()
        else:
            if not ok.second_factor:
                return _finish(request, ok.user_id, ("pwd",), next_url, ok)
            request.session[PENDING] = {
                "user_id": ok.user_id,
                "next": next_url,
                "methods": list(ok.second_factor),
            }
            return HttpResponseRedirect(reverse("citizen:login_second"))
    if request.method == "GET" and request.GET.get("qr") != "1" and not request.user.is_authenticated:
        page = login_page_cache.anonymous_page(request, next_url)  # ADR 0009 §15
        if page is not None:
            return HttpResponse(page)
    context: dict[str, Any] = {"form": form, "error": error, "next": next_url}
    if request.method == "GET" and request.GET.get("qr") == "1":
        # The QR log-in challenge (a database row and an SVG) is made only when the person asks
        # for it ("log in with your phone"), not on every view of the log-in page.
        if not request.session.session_key:
            request.session.save()
        token = eid_login.qr_begin(
            str(request.session.session_key), browser=browser_label(request), site=request.get_host()
        )
        approve_url = request.build_absolute_uri(reverse("citizen:device_approve", args=[token]))
        context.update(
            qr_token=token,
            qr_image=_qr_svg(approve_url),
            approve_url=approve_url,
            poll_url=reverse("citizen:qr_status", args=[token]),
        )
    else:
        context["qr_ask_url"] = reverse("citizen:login") + "?" + urlencode({"next": next_url, "qr": "1"})
    return render(request, "citizen/login.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def login_second(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING)
    if not pending:
        return HttpResponseRedirect(reverse("citizen:login"))
    form = CodeForm(request.POST or None)
    sent = False
    methods = list(pending["methods"])
    if request.method == "POST":
        if request.POST.get("action") == "send_sms" and "sms" in methods:
            form = CodeForm()
            if eid_login.send_second_factor_code(int(pending["user_id"]), "login"):
                sent = True
            else:
                form.add_error(None, _too_many_codes())
        elif form.is_valid():
            method = request.POST.get("method", "otp")
            method = method if method in methods else "otp"
            try:
                shown = eid_login.check_second_factor(
                    int(pending["user_id"]), method, form.cleaned_data["code"], ip=client_ip(request)
                )
            except eid_login.LoginRefused as refused:
                form.add_error("code", REFUSALS[refused.code]())
            else:
                if shown:
                    del request.session[PENDING]
                    return _finish(request, int(pending["user_id"]), ("pwd", shown, "mfa"), pending["next"])
                form.add_error("code", _("The code is wrong or has expired."))
    return render(request, "citizen/login_second.html", {"form": form, "methods": methods, "sent": sent})


@never_cache
@require_GET
def qr_status(request: HttpRequest, token: str) -> JsonResponse:
    """Polled by the log-in page: logs this browser in once the holder's device approved."""
    status, user_id = eid_login.qr_poll(token, request.session.session_key)
    if status == "approved" and user_id is not None:
        next_url = safe_next(request, request.GET.get("next"), "citizen:me")
        _finish(request, user_id, ("swk",), next_url)
        return JsonResponse({"status": "approved", "next": next_url})
    return JsonResponse({"status": status})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def device_approve(request: HttpRequest, token: str) -> HttpResponse:
    """On the holder's logged-in device: which site and browser asks; approve or deny."""
    challenge = eid_login.qr_describe(token)
    done = ""
    if request.method == "POST" and challenge is not None:
        approve = request.POST.get("decision") == "approve"
        if eid_login.qr_decide(token, _uid(request), approve=approve):
            done = "approved" if approve else "denied"
        challenge = eid_login.qr_describe(token)
    return render(request, "citizen/device_approve.html", {"challenge": challenge, "done": done})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    eid_login.forget(request.session.session_key)
    logout(request)
    return HttpResponseRedirect(reverse("web:home"))


# --------------------------------------------------------------------------- step-up
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def step_up(request: HttpRequest) -> HttpResponse:
    """Raise the session's assurance to ``acr`` (asked by a relying party through the OpenID
    provider), then go back to ``next`` (a relative path of this site only)."""
    params = request.POST if request.method == "POST" else request.GET
    next_url = safe_next(request, params.get("next"), "citizen:me")
    wanted = [v for v in params.get("acr", "").split() if v]
    user_id = _uid(request)
    have = assurance.load(request.session, user_id)
    have_acr = have.acr if have else assurance.ACR_L1
    # ``fresh``: a second factor shown within the last minutes is also needed (changing factors).
    fresh = params.get("fresh") == "1"
    if assurance.satisfies(have_acr, wanted) and (not fresh or assurance.fresh_second_factor(have)):
        return HttpResponseRedirect(next_url)
    level, evidence = services.level_and_evidence(user_id)
    unknown = all(assurance.rank(w) < 0 for w in wanted)
    # Not reachable by a second factor: level 2 for a level-1 account, or a chip-verified level 2
    # for an account raised on the passport's MRZ (ADR 0017 §11) — both need a desk visit.
    reachable = assurance.satisfies(assurance.best_for(level, evidence), wanted)
    needs_level2 = not unknown and not reachable and level < 2
    needs_chip = not unknown and not reachable and level >= 2
    account = services.account_of(user_id)
    methods = [
        m
        for m, ok in (("otp", factors.has_totp(user_id)), ("sms", bool(account and account.phone_masked)))
        if ok
    ]
    form = CodeForm(request.POST or None)
    sent = False
    if request.method == "POST" and not needs_level2 and not needs_chip and not unknown:
        if request.POST.get("action") == "send_sms" and "sms" in methods:
            form = CodeForm()
            if eid_login.send_second_factor_code(user_id, "step_up"):
                sent = True
            else:
                form.add_error(None, _too_many_codes())
        elif form.is_valid():
            method = request.POST.get("method", "otp")
            method = method if method in methods else ""
            try:
                # Counted and throttled like the log-in's second factor (per account and address).
                shown = (
                    eid_login.check_second_factor(
                        user_id, method, form.cleaned_data["code"], ip=client_ip(request), purpose="step_up"
                    )
                    if method
                    else None
                )
            except eid_login.LoginRefused as refused:
                form.add_error("code", REFUSALS[refused.code]())
            else:
                if shown:
                    new = eid_login.step_up(request.session, user_id, shown)
                    if assurance.satisfies(new.acr, wanted):
                        return HttpResponseRedirect(next_url)
                form.add_error("code", _("The code is wrong or has expired."))
    context = {
        "form": form,
        "next": next_url,
        "acr": " ".join(wanted),
        "needs_level2": needs_level2,
        "needs_chip": needs_chip,
        "unknown": unknown,
        "methods": methods,
        "sent": sent,
        "fresh": fresh,
        "have_level": ACR_LABELS.get(have_acr, "1"),
    }
    blocked = needs_level2 or needs_chip or unknown
    return render(request, "citizen/step_up.html", context, status=403 if blocked else 200)


# --------------------------------------------------------------------------- recovery
@never_cache
@require_http_methods(["GET", "POST"])
def recover(request: HttpRequest) -> HttpResponse:
    form = RecoverStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        eid_login.begin_recovery(form.cleaned_data["id_number"])
        url = reverse("citizen:recover_finish")
        return HttpResponseRedirect(f"{url}?{urlencode({'id_number': form.cleaned_data['id_number']})}")
    return render(request, "citizen/recover.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def recover_finish(request: HttpRequest) -> HttpResponse:
    form = RecoverFinishForm(request.POST or None, initial={"id_number": request.GET.get("id_number", "")})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            if eid_login.finish_recovery(d["id_number"], d["code"], d["password"], ip=client_ip(request)):
                return render(request, "citizen/recover_done.html")
            form.add_error("code", _("The code is wrong or has expired."))
        except DomainValidationError as exc:
            _bind(form, exc)
    return render(request, "citizen/recover_finish.html", {"form": form}, status=400 if form.errors else 200)


# --------------------------------------------------------------------------- my account
def _field_labels(names: tuple[str, ...]) -> list[dict[str, str]]:
    """Names of released fields with their labels in both languages (names only, never values)."""
    from dancu.apps.web.labels import FIELD, label
    from dancu.blocks.sso.claims import CLAIMS

    out = []
    for name in names:
        claim = CLAIMS.get(name)
        if claim is not None:
            out.append({"name": name, "vi": claim.label_vi, "en": claim.label_en})
        else:
            text = label(FIELD, name)
            out.append({"name": name, "vi": text, "en": text})
    return out


def _guest_stays(user_id: int, id_number: str) -> list[Any]:
    """Where the holder was notified as a guest, read as the account holder for themself."""
    from dancu.apps.residence.services import guest_stays_of_citizen
    from dancu.blocks.audit.context import AccessContext

    ctx = AccessContext(services.account_actor(user_id), services.SELF_ACCESS)
    try:
        return list(guest_stays_of_citizen(ctx, id_number))
    except (AccessDenied, DomainValidationError):
        return []


def _exchanges(citizen_id: int) -> list[Any]:
    """The data exchanges (LGSP gateway) whose answers carried the holder's data."""
    from dancu.blocks.exchange.tracker import exchanges_for_citizen

    return list(exchanges_for_citizen(citizen_id))


def _notices(citizen_id: int) -> list[Any]:
    """The change notifications about the holder sent to subscribed agencies (LGSP gateway)."""
    from dancu.blocks.exchange.tracker import notifications_for_citizen

    return [
        {"notice": n, "fields": _field_labels(tuple(n.fields))} for n in notifications_for_citizen(citizen_id)
    ]


@never_cache
@login_required
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    user_id = _uid(request)
    have = assurance.load(request.session, user_id)
    citizen = services.citizen_of(user_id)
    history = [
        {"event": e, "released": _field_labels(getattr(e, "released", ()))}
        for e in services.access_history(user_id)
    ]
    context = {
        "account": services.account_of(user_id),
        "level": services.level_of(user_id),
        "acr": ACR_LABELS.get(have.acr, have.acr) if have else "",
        "amr": " ".join(have.amr) if have else "",
        "sessions": eid_login.sessions_of(user_id, request.session.session_key),
        "consents": sso.consents_of(user_id),
        "history": history,
        "stays": _guest_stays(user_id, citizen[1]) if citizen else [],
        "exchanges": [{"access": x, "fields": _field_labels(tuple(x.fields))} for x in _exchanges(citizen[0])]
        if citizen
        else [],
        "notices": _notices(citizen[0]) if citizen else [],
        "has_citizen": citizen is not None,
        "children": family.children_of(user_id),
        "managed_by": family.management_record(user_id),
        "message": request.GET.get("done", ""),
        "flag_error": request.GET.get("flag_error", ""),
    }
    return render(request, "citizen/me.html", context)


@login_required
@require_POST
def flag_exchange(request: HttpRequest, message_id: int) -> HttpResponse:
    """The holder flags a data exchange that carried their data as unjustified (reviewed by the
    providing agency's data-protection officer; Law 91/2025/QH15, the right to object)."""
    from dancu.blocks.exchange.tracker import flag_access
    from dancu.errors import NotFound

    citizen = services.citizen_of(_uid(request))
    if citizen is None:
        return HttpResponseRedirect(reverse("citizen:me") + "?flag_error=no_record#exchanges")
    try:
        flag_access(citizen[0], message_id, request.POST.get("reason", ""))
    except DomainValidationError as exc:
        rule = exc.problems[0].rule if exc.problems else "invalid"
        query = urlencode({"flag_error": rule})
        return HttpResponseRedirect(reverse("citizen:me") + "?" + query + "#exchanges")
    except NotFound:
        return HttpResponseRedirect(reverse("citizen:me") + "?flag_error=not_found#exchanges")
    return HttpResponseRedirect(reverse("citizen:me") + "?done=flagged#exchanges")


@login_required
@require_POST
def revoke_session(request: HttpRequest, session_id: int) -> HttpResponse:
    current = [
        s.session_id for s in eid_login.sessions_of(_uid(request), request.session.session_key) if s.current
    ]
    eid_login.revoke_session(_uid(request), session_id)
    if session_id in current:  # this browser's own session: log out cleanly
        logout(request)
        return HttpResponseRedirect(reverse("citizen:login"))
    return HttpResponseRedirect(reverse("citizen:me") + "?done=session")


@login_required
@require_POST
def revoke_consent(request: HttpRequest, consent_id: int) -> HttpResponse:
    sso.revoke_consent(_uid(request), consent_id)
    return HttpResponseRedirect(reverse("citizen:me") + "?done=consent")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def totp_enrol(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: a QR of the ``otpauth://`` URI, confirmed with a first code.

    Showing the page changes no factor: the new secret is kept sealed in the session and replaces
    the confirmed one only when a first code confirms it (POST). Re-enrolling or removing a
    confirmed app needs a fresh second factor (step-up) first (ADR 0008 §6)."""
    user_id = _uid(request)
    if factors.has_totp(user_id) and not assurance.fresh_second_factor(
        assurance.load(request.session, user_id)
    ):
        wanted = assurance.best_for(*services.level_and_evidence(user_id))
        query = urlencode({"next": reverse("citizen:totp"), "acr": wanted, "fresh": "1"})
        return HttpResponseRedirect(reverse("citizen:step_up") + "?" + query)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "remove":
        factors.totp_remove(user_id)
        request.session.pop(TOTP_PENDING, None)
        services.record_account_event(user_id, "eid.factor.totp_removed")
        return HttpResponseRedirect(reverse("citizen:me") + "?done=totp_removed")
    secret = factors.unseal_pending(user_id, str(request.session.get(TOTP_PENDING, "")))
    if secret is None:
        secret = factors.totp_new_secret()
        request.session[TOTP_PENDING] = factors.seal_pending(user_id, secret)
    if request.method == "POST" and form.is_valid():
        if factors.totp_enrol(user_id, secret, form.cleaned_data["code"]):
            request.session.pop(TOTP_PENDING, None)
            services.record_account_event(user_id, "eid.factor.totp_added")
            return HttpResponseRedirect(reverse("citizen:me") + "?done=totp")
        form.add_error("code", _("The code is wrong or has expired."))
    uri = factors.totp_uri(secret, request.user.get_username())
    return render(
        request,
        "citizen/totp.html",
        {"form": form, "qr_image": _qr_svg(uri), "secret": secret},
        status=400 if form.errors else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def enterprise(request: HttpRequest) -> HttpResponse:
    """An organisation's eID account, opened by its legal representative (level 2), and its staff."""
    form = EnterpriseForm(request.POST if request.POST.get("action") == "register" else None)
    staff = StaffForm(request.POST if request.POST.get("action") == "staff" else None)
    created = ""
    if request.method == "POST":
        try:
            if form.is_bound and form.is_valid():
                pk = services.register_enterprise(
                    _uid(request), services.EnterpriseInput(**form.cleaned_data)
                )
                request.session["dancu.eid.enterprise"] = pk
                created = "enterprise"
            elif staff.is_bound and staff.is_valid():
                services.add_enterprise_staff(
                    _uid(request),
                    int(request.session.get("dancu.eid.enterprise", 0)),
                    staff.cleaned_data["username"],
                    staff.cleaned_data["password"],
                )
                created = "staff"
        except DomainValidationError as exc:
            _bind(form if form.is_bound else staff, exc)
        except (AccessDenied, Conflict) as exc:
            (form if form.is_bound else staff).add_error(None, str(exc))
    enterprise_id = request.session.get("dancu.eid.enterprise")
    context = {
        "form": form,
        "staff": staff,
        "created": created,
        "enterprise_id": enterprise_id,
        "link": services.enterprise_link_status(int(enterprise_id)) if enterprise_id else "none",
    }
    return render(request, "citizen/enterprise.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def enterprise_links(request: HttpRequest) -> HttpResponse:
    """For an administrator of an organisation (or of the platform): enterprises asking to be
    linked to it, to approve — their staff then become its clerks (ADR 0008 §12)."""
    error = ""
    if request.method == "POST":
        try:
            services.approve_enterprise_link(_uid(request), int(request.POST.get("enterprise", "0") or 0))
        except (AccessDenied, NotFound, ValueError) as exc:
            error = str(exc)
        else:
            return HttpResponseRedirect(reverse("citizen:enterprise_links") + "?done=1")
    context = {
        "pending": services.pending_enterprise_links(_uid(request)),
        "error": error,
        "done": request.GET.get("done") == "1",
    }
    return render(request, "citizen/enterprise_links.html", context, status=403 if error else 200)


# --------------------------------------------------------------------------- children's accounts
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def child_register(request: HttpRequest) -> HttpResponse:
    """A parent with a level-2 account registers a level-1 account for their child under 14
    (Decree 69/2024 Art. 7; ``blocks/eid/family.py``). A legally significant act: the log-in must
    be level 2 with a second factor (step-up otherwise), so a stolen password alone cannot do it."""
    have = assurance.load(request.session, _uid(request))
    if services.level_of(_uid(request)) >= 2 and not assurance.satisfies(
        have.acr if have else assurance.ACR_L1, [assurance.ACR_L2_MFA]
    ):
        query = urlencode({"next": reverse("citizen:child_register"), "acr": assurance.ACR_L2_MFA})
        return HttpResponseRedirect(reverse("citizen:step_up") + "?" + query)
    form = ChildForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            d = form.cleaned_data
            try:
                family.register_child(
                    _uid(request),
                    family.ChildInput(
                        id_number=d["id_number"],
                        full_name=d["full_name"],
                        date_of_birth=d["date_of_birth"],
                        card_issued_on=d["card_issued_on"],
                        photo=d["photo"].read() if d.get("photo") else b"",
                    ),
                )
            except DomainValidationError as exc:
                _bind(form, exc)
            except Conflict as exc:
                form.add_error("id_number", f"{exc} [exists]")
                status = 409
            else:
                return HttpResponseRedirect(reverse("citizen:me") + "?done=child#children")
    return render(request, "citizen/child_register.html", {"form": form}, status=status)


@never_cache
@login_required
@require_GET
def child_present(request: HttpRequest, account_id: int) -> HttpResponse:
    """The parent presents their child's account: a signed QR valid a few minutes."""
    try:
        token = family.presentation_token(_uid(request), account_id)
    except NotFound:
        return render(request, "citizen/child_present.html", {"missing": True}, status=404)
    child = next(c for c in family.children_of(_uid(request)) if c.account_id == account_id)
    context = {
        "child": child,
        "qr_image": _qr_svg(token),
        "token": token,
        "minutes": family.PRESENTATION_SECONDS // 60,
    }
    return render(request, "citizen/child_present.html", context)


@never_cache
@login_required
@require_GET
def child_history(request: HttpRequest, account_id: int) -> HttpResponse:
    """Who accessed the child's data, for the parent or guardian who manages the account (while
    they do: not another child's, not after 14; ``family.child_access_history``)."""
    try:
        events = family.child_access_history(_uid(request), account_id)
    except NotFound:
        return render(request, "citizen/child_history.html", {"missing": True}, status=404)
    child = next((c for c in family.children_of(_uid(request)) if c.account_id == account_id), None)
    history = [{"event": e, "released": _field_labels(getattr(e, "released", ()))} for e in events]
    return render(request, "citizen/child_history.html", {"child": child, "history": history})
