"""Pages of online public services: the catalogue, the citizen's forms, dossiers, inbox and
results (an eID log-in at ``/eid/login/``), the public verification of a result, and the
officials' work queue (staff log-in through the platform's SSO)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import segno
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dancu.apps.public_services import catalogue, payments, services
from dancu.apps.public_services.forms import DossierForm, ReasonsForm, label
from dancu.apps.public_services.models import Dossier
from dancu.apps.public_services.registry_link import RegistryUnavailable
from dancu.apps.web.staff import staff_view
from dancu.blocks.audit.context import Actor
from dancu.blocks.eid import assurance
from dancu.blocks.eid import services as eid
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from dancu.ratelimit import RateLimited

citizen_required = login_required(login_url="citizen:login")

official_view = staff_view(
    may_act=services.is_official,
    no_organisation=lambda request: render(
        request, "public_services/not_authorised.html", {"no_organisation": True}, status=403
    ),
    not_authorised="public_services/not_authorised.html",
    membership_ended=lambda request: request.get_full_path(),
)

SOURCE_LABELS = {
    catalogue.REGISTRY: ("CSDL quốc gia về dân cư", "National population database"),
    catalogue.EID: ("Tài khoản định danh điện tử", "eID account"),
    catalogue.CITIZEN: ("Công dân khai", "Supplied by the citizen"),
    catalogue.SECTOR: ("CSDL chuyên ngành", "Sector database"),
    catalogue.UPLOAD: ("Tài liệu công dân tải lên", "Document uploaded by the citizen"),
}


def _en() -> bool:
    return (get_language() or "vi").startswith("en")


def _name(service: catalogue.Service) -> str:
    return service.name_en if _en() else service.name_vi


def _source(code: str) -> str:
    vi, en = SOURCE_LABELS.get(code, (code, code))
    return en if _en() else vi


def _qr(data: str) -> str:
    return str(segno.make(data, error="m").svg_data_uri(scale=4, border=2))


def _problems(exc: DomainValidationError, service: catalogue.Service | None = None) -> list[dict[str, str]]:
    out = []
    for p in exc.problems:
        item = next((i for i in service.items if i.key == p.field), None) if service else None
        out.append(
            {
                "field": p.field,
                "rule": p.rule,
                "message": p.message,
                "label": label(item) if item else p.field,
            }
        )
    return out


# Labels of the facts a result states that are not items of the service's form.
RESULT_LABELS = {
    "id_number": ("Số định danh cá nhân", "Personal ID number"),
    "permanent_address": ("Nơi thường trú", "Permanent residence"),
    "household_number": ("Số hộ", "Household number"),
    "child_id_number": ("Số định danh cá nhân của trẻ", "The child's ID number"),
}


def _shown(value: object) -> str:
    """A result's value as printed: ISO dates as dd/mm/yyyy."""
    text = str(value)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return f"{text[8:10]}/{text[5:7]}/{text[:4]}"
    return text


def _uid(request: HttpRequest) -> int:
    return int(request.user.pk or 0)


def _step_up(
    request: HttpRequest, user_id: int, service: catalogue.Service, after: str
) -> HttpResponse | None:
    """A redirect to the step-up log-in when the session is below the service's assurance level
    (Decree 69/2024/NĐ-CP Art. 13: a level-2 procedure's submission, consent and supplement are
    each the citizen's legally binding act); None when the session is strong enough."""
    have = assurance.load(request.session, user_id)
    if service.level >= 2 and (have is None or have.level < 2):
        query = urlencode({"acr": assurance.ACR_L2, "next": after})
        return HttpResponseRedirect(f"{reverse('citizen:step_up')}?{query}")
    return None


# --------------------------------------------------------------------------- catalogue
@require_GET
def catalogue_page(request: HttpRequest) -> HttpResponse:
    paperless = request.GET.get("paperless") == "1"
    rows = [
        {"service": s, "name": _name(s), "fee": f"{s.fee_vnd:,}".replace(",", ".")}
        for s in catalogue.SERVICES
        if not paperless or s.paperless
    ]
    return render(request, "public_services/catalogue.html", {"rows": rows, "paperless": paperless})


# --------------------------------------------------------------------------- citizen
def _items_view(service: catalogue.Service, items: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    labels = {i.key: label(i) for i in service.items}
    for key, (vi, en) in EXTRA_LABELS.items():
        labels.setdefault(key, en if _en() else vi)
    for key in [
        *(i.key for i in service.items),
        *(k for k in items if k not in {i.key for i in service.items}),
    ]:
        entry = items.get(key)
        if entry is None or key not in labels:
            continue
        out.append(
            {
                "key": key,
                "label": labels[key],
                "value": _shown(entry.get("value", "")),
                "source": _source(entry["source"]),
                "document": entry["source"] == catalogue.UPLOAD,
                # Earlier documents this one replaced after a send-back (kept for the record).
                "replaced": len(entry.get("previous", ())),
                "earlier": [
                    {"index": n, "name": e.get("value", ""), "at": e.get("replaced_at", "")[:10]}
                    for n, e in enumerate(entry.get("previous", ()))
                ],
            }
        )
    return out


EXTRA_LABELS = {"partner_date_of_birth": ("Ngày sinh của bên kia", "Partner's date of birth")}


@never_cache
@citizen_required
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest, code: str) -> HttpResponse:
    service = catalogue.get(code)
    if service is None or not service.implemented:
        raise Http404
    user_id = _uid(request)
    if not eid.id_number_of_user(user_id):
        return render(request, "public_services/no_account.html", status=403)
    weak = _step_up(request, user_id, service, request.get_full_path())
    if weak is not None:
        return weak
    draft = services.draft_values(user_id, service.code)
    form = DossierForm(service, request.POST or None, request.FILES or None, initial=draft, uploads=True)
    problems: list[dict[str, str]] = []
    status = 200
    if request.method == "POST" and "save_draft" in request.POST and form.is_valid():
        supplied = {i.key: form.cleaned_data.get(i.key, "") for i in service.citizen_items()}
        services.save_draft(user_id, service.code, supplied)
        return HttpResponseRedirect(f"{reverse('public_services:mine')}?draft={service.code}")
    try:
        prefilled, _view = services.prefill(user_id, service)
    except (DatabaseError, RegistryUnavailable):
        saved = False
        if request.method == "POST" and form.is_valid():
            # The registry is down: keep what the citizen typed, to resume later.
            supplied = {i.key: form.cleaned_data.get(i.key, "") for i in service.citizen_items()}
            services.save_draft(user_id, service.code, supplied, "registry unavailable")
            saved = True
        return render(
            request,
            "public_services/unavailable.html",
            {"service": service, "name": _name(service), "form": form, "saved": saved},
            status=503,
        )
    except NotFound:
        return render(request, "public_services/no_account.html", status=403)
    if request.method == "POST" and form.is_valid():
        supplied = {i.key: form.cleaned_data.get(i.key, "") for i in service.citizen_items()}
        try:
            dossier, _created = services.submit(
                user_id,
                service.code,
                supplied,
                idempotency_key=form.cleaned_data["idempotency_key"],
                files={i.key: f for i in service.upload_items() if (f := form.cleaned_data.get(i.key))},
            )
        except RegistryUnavailable:
            # The gateway failed between showing the form and submitting it: keep what was typed.
            services.save_draft(user_id, service.code, supplied, "registry unavailable")
            return render(
                request,
                "public_services/unavailable.html",
                {"service": service, "name": _name(service), "form": form, "saved": True},
                status=503,
            )
        except DomainValidationError as exc:
            problems = _problems(exc, service)
            for p in exc.problems:
                if p.field in form.fields:
                    form.add_error(p.field, p.message)
            status = 422
        else:
            return HttpResponseRedirect(reverse("public_services:dossier", args=[dossier.tracking_code]))
    elif request.method == "POST":
        status = 422
    context = {
        "service": service,
        "name": _name(service),
        "prefilled": [
            {
                "key": p.key,
                "label": p.label_en if _en() else p.label_vi,
                "value": p.value,
                "source": _source(p.source),
            }
            for p in prefilled
        ],
        "form": form,
        "problems": problems,
        "fee": f"{service.fee_vnd:,}".replace(",", "."),
        "has_draft": bool(draft),
    }
    return render(request, "public_services/submit.html", context, status=status)


@never_cache
@citizen_required
@require_GET
def my_dossiers(request: HttpRequest) -> HttpResponse:
    rows = [
        {"d": d, "name": _name(catalogue.BY_CODE[d.service_code])}
        for d in services.my_dossiers(_uid(request))[:200]
    ]
    drafts = [
        {"d": d, "name": _name(catalogue.BY_CODE[d.service_code])}
        for d in services.drafts_of(_uid(request))
        if d.service_code in catalogue.BY_CODE
    ]
    consents = [
        {"d": d, "name": _name(catalogue.BY_CODE[d.service_code])}
        for d in services.pending_consents(_uid(request))
    ]
    return render(
        request,
        "public_services/mine.html",
        {"rows": rows, "drafts": drafts, "consents": consents, "draft_saved": request.GET.get("draft", "")},
    )


@never_cache
@citizen_required
@require_POST
def consent(request: HttpRequest, tracking_code: str) -> HttpResponse:
    """The other party of a marriage or household separation agrees or declines."""
    agree = request.POST.get("answer") == "agree"
    awaiting = services.pending_consents(_uid(request)).filter(tracking_code=tracking_code[:40]).first()
    if awaiting is None:
        raise Http404
    weak = _step_up(
        request, _uid(request), catalogue.BY_CODE[awaiting.service_code], reverse("public_services:mine")
    )
    if weak is not None:
        return weak
    try:
        services.consent(_uid(request), tracking_code[:40], agree=agree)
    except NotFound:
        raise Http404 from None
    except DomainValidationError as exc:
        return render(
            request, "public_services/consent_refused.html", {"problems": _problems(exc)}, status=422
        )
    return HttpResponseRedirect(reverse("public_services:mine"))


@never_cache
@citizen_required
@require_POST
def discard_draft(request: HttpRequest, code: str) -> HttpResponse:
    services.discard_draft(_uid(request), code[:40])
    return HttpResponseRedirect(reverse("public_services:mine"))


@never_cache
@citizen_required
@require_POST
def pay(request: HttpRequest, tracking_code: str) -> HttpResponse:
    """Send the citizen's browser to the payment gateway."""
    try:
        url = services.start_payment(_uid(request), tracking_code[:40])
    except NotFound:
        raise Http404 from None
    except DomainValidationError:
        return HttpResponseRedirect(reverse("public_services:dossier", args=[tracking_code]))
    return HttpResponseRedirect(url)


@never_cache
@citizen_required
@require_http_methods(["GET", "POST"])
def dev_gateway(request: HttpRequest, reference: str) -> HttpResponse:
    """The development payment gateway's own page: pay or cancel; it then notifies the platform
    (as a gateway's IPN would) and sends the browser back with the same signed fields."""
    if not payments.dev_allowed():
        raise Http404  # only the demo, DEBUG and the tests have a development gateway
    payment = services.payment_for(_uid(request), reference[:40])
    if payment is None:
        raise Http404
    if request.method == "POST":
        fields = payments.dev_gateway().callback_fields(
            payment.reference,
            payment.amount_vnd,
            paid=request.POST.get("action") == "pay",
            transaction=f"DEV-{payment.pk:08d}",
        )
        services.payment_callback(fields)
        return HttpResponseRedirect(f"{reverse('public_services:payment_return')}?{urlencode(fields)}")
    return render(
        request,
        "public_services/dev_gateway.html",
        {"payment": payment, "amount": f"{payment.amount_vnd:,}".replace(",", ".")},
    )


@never_cache
@require_GET
def payment_return(request: HttpRequest) -> HttpResponse:
    """The browser's return from the gateway: checked like the IPN (signed, applied once)."""
    try:
        payment = services.payment_callback(
            {k: request.GET.get(k, "") for k in (*payments.FIELDS, "signature")}
        )
    except (DomainValidationError, NotFound):
        return render(request, "public_services/not_authorised.html", {"payment": True}, status=400)
    return HttpResponseRedirect(reverse("public_services:dossier", args=[payment.dossier.tracking_code]))


@csrf_exempt
@require_POST
def payment_ipn(request: HttpRequest) -> HttpResponse:
    """The gateway's server-to-server notice (form-encoded, signed): 200 once recorded (also on a
    repeat, and when the captured money is flagged ``refund_due`` because it settled nothing),
    400 naming the field otherwise."""
    fields = {k: request.POST.get(k, "") for k in (*payments.FIELDS, "signature")}
    try:
        payment = services.payment_callback(fields)
    except DomainValidationError as exc:
        problem = exc.problems[0]
        return HttpResponse(
            json.dumps({"ok": False, "field": problem.field, "rule": problem.rule}),
            status=400,
            content_type="application/json",
        )
    except NotFound:
        return HttpResponse(json.dumps({"ok": False, "field": "reference", "rule": "not_found"}), status=404)
    return HttpResponse(
        json.dumps(
            {
                "ok": True,
                "reference": payment.reference,
                "status": payment.status,
                "refund_due": payment.refund_due,
            }
        ),
        content_type="application/json",
    )


@never_cache
@citizen_required
@require_http_methods(["GET", "POST"])
def my_dossier(request: HttpRequest, tracking_code: str) -> HttpResponse:
    user_id = _uid(request)
    try:
        dossier = services.my_dossier(user_id, tracking_code)
    except NotFound:
        raise Http404 from None
    service = catalogue.BY_CODE[dossier.service_code]
    form = None
    problems: list[dict[str, str]] = []
    status = 200
    if dossier.status == Dossier.Status.SENT_BACK:
        initial = {i.key: dossier.items.get(i.key, {}).get("value", "") for i in service.citizen_items()}
        # The documents may be replaced too (kept for the record: ``services.supplement``).
        form = DossierForm(
            service, request.POST or None, request.FILES or None, initial=initial, uploads=True
        )
        weak = _step_up(request, user_id, service, request.path) if request.method == "POST" else None
        if weak is not None:
            return weak
        if request.method == "POST" and form.is_valid():
            supplied = {i.key: form.cleaned_data.get(i.key, "") for i in service.citizen_items()}
            try:
                services.supplement(
                    user_id,
                    tracking_code,
                    supplied,
                    files={i.key: f for i in service.upload_items() if (f := form.cleaned_data.get(i.key))},
                )
            except RegistryUnavailable:
                problems = [
                    {
                        "field": "registry",
                        "rule": "unavailable",
                        "message": "Chưa kết nối được Cơ sở dữ liệu quốc gia về dân cư, vui lòng thử lại sau "
                        "/ The population registry cannot be reached, please try again later",
                        "label": "CSDL dân cư / registry",
                    }
                ]
                status = 503
            except DomainValidationError as exc:
                problems, status = _problems(exc, service), 422
            else:
                return HttpResponseRedirect(request.path)
    context = {
        "d": dossier,
        "service": service,
        "name": _name(service),
        "items": _items_view(service, dossier.items),
        "events": dossier.events.all(),
        "form": form,
        "problems": problems,
        "document_url": "public_services:document",
    }
    return render(request, "public_services/dossier.html", context, status=status)


def _previous(request: HttpRequest) -> int | None:
    """``?truoc=<n>``: the n-th earlier document an item's document replaced (from 0)."""
    raw = request.GET.get("truoc", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 3:
        raise Http404
    return int(raw)


def _document_response(entry: dict[str, Any], data: bytes) -> HttpResponse:
    """The stored bytes as their checked type, as a download (never rendered in the portal's
    origin), never sniffed or cached."""
    response = HttpResponse(data, content_type=entry["file"]["content_type"])
    response["Content-Disposition"] = f'attachment; filename="tai-lieu{entry["file"]["stored"][-4:]}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    return response


@never_cache
@citizen_required
@require_GET
def my_document(request: HttpRequest, tracking_code: str, item: str) -> HttpResponse:
    try:
        entry, data = services.my_document(_uid(request), tracking_code, item, _previous(request))
    except NotFound:
        raise Http404 from None
    return _document_response(entry, data)


@never_cache
@citizen_required
@require_GET
def result(request: HttpRequest, tracking_code: str) -> HttpResponse:
    try:
        dossier = services.my_dossier(_uid(request), tracking_code)
    except NotFound:
        raise Http404 from None
    if dossier.status != Dossier.Status.DONE:
        raise Http404
    if request.GET.get("format") == "json":
        response = HttpResponse(
            json.dumps(
                {
                    "document": dossier.result_document,
                    "signature": dossier.result_signature,
                    "key_id": dossier.result_key_id,
                },
                ensure_ascii=False,
            ),
            content_type="application/json",
        )
        response["Content-Disposition"] = f'attachment; filename="{dossier.tracking_code}.json"'
        return response
    document = json.loads(dossier.result_document)
    service = catalogue.BY_CODE[dossier.service_code]
    facts = []
    for key, value in sorted(document["result"].items()):
        item = next((i for i in service.items if i.key == key), None)
        vi, en = RESULT_LABELS.get(key, (item.label_vi, item.label_en) if item else (key, key))
        facts.append({"key": key, "label": en if _en() else vi, "value": _shown(value)})
    verify_url = request.build_absolute_uri(reverse("public_services:verify", args=[dossier.tracking_code]))
    context = {
        "d": dossier,
        "doc": document,
        "facts": facts,
        "qr": _qr(verify_url),
        "verify_url": verify_url,
    }
    return render(request, "public_services/result.html", context)


@never_cache
@citizen_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    messages = list(services.inbox(_uid(request))[:100])
    return render(request, "public_services/inbox.html", {"messages": messages})


@require_GET
def verify(request: HttpRequest, tracking_code: str) -> HttpResponse:
    """The public check of a result's QR (no log-in): rate-limited per address and overall, as
    it names the holder (with the ID number masked)."""
    try:
        services.limit_result_checks(str(request.META.get("REMOTE_ADDR", "")))
    except RateLimited as exc:
        response = render(request, "public_services/verify.html", {"limited": True}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    checked = services.verify_result(tracking_code[:40])
    return render(
        request, "public_services/verify.html", {"v": checked}, status=200 if checked.valid else 404
    )


# --------------------------------------------------------------------------- officials
SLA_LABELS = {
    services.ON_TIME: ("Trong hạn", "On time"),
    services.DUE_SOON: ("Sắp đến hạn", "Due soon"),
    services.LATE: ("Quá hạn", "Late"),
}


def _sla(d: Dossier) -> dict[str, str]:
    code = services.sla(d, timezone.localdate())
    vi, en = SLA_LABELS[code]
    return {"code": code, "label": en if _en() else vi}


QUEUE_PAGE_SIZE = 50


@official_view
@require_GET
def work_queue(request: HttpRequest, actor: Actor) -> HttpResponse:
    closed = request.GET.get("closed") == "1"
    pages = Paginator(services.queue(actor, include_closed=closed), QUEUE_PAGE_SIZE)
    page = pages.get_page(request.GET.get("page"))
    rows = [{"d": d, "name": _name(catalogue.BY_CODE[d.service_code]), "sla": _sla(d)} for d in page]
    return render(
        request,
        "public_services/queue.html",
        {"rows": rows, "actor": actor, "closed": closed, "page": page},
    )


def _official_page(
    request: HttpRequest,
    actor: Actor,
    tracking_code: str,
    problems: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        dossier = services.dossier_for(actor, tracking_code)
    except NotFound:
        raise Http404 from None
    except AccessDenied:
        return render(request, "public_services/not_authorised.html", {"other_ward": True}, status=403)
    service = catalogue.BY_CODE[dossier.service_code]
    context = {
        "d": dossier,
        "service": service,
        "name": _name(service),
        "items": _items_view(service, dossier.items),
        "events": dossier.events.all(),
        "sla": _sla(dossier),
        "reasons_form": ReasonsForm(),
        "problems": problems or [],
        "actor": actor,
        "colleagues": services.assignable_colleagues(actor) if actor.role == "admin" else [],
        "document_url": "public_services:official_document",
    }
    return render(request, "public_services/official_dossier.html", context, status=status)


@official_view
@require_GET
def official_dossier(request: HttpRequest, actor: Actor, tracking_code: str) -> HttpResponse:
    return _official_page(request, actor, tracking_code)


@never_cache
@official_view
@require_GET
def official_document(request: HttpRequest, actor: Actor, tracking_code: str, item: str) -> HttpResponse:
    try:
        entry, data = services.document_for(actor, tracking_code, item, _previous(request))
    except NotFound:
        raise Http404 from None
    except AccessDenied:
        return render(request, "public_services/not_authorised.html", {"other_ward": True}, status=403)
    return _document_response(entry, data)


def _days(raw: str, field: str = "days") -> int:
    try:
        return int(raw.strip())
    except ValueError:
        message = "Nhập số ngày làm việc" if field == "days" else "Chọn cán bộ"
        raise DomainValidationError.single(field, "integer", message) from None


@official_view
@require_POST
def official_action(request: HttpRequest, actor: Actor, tracking_code: str, action: str) -> HttpResponse:
    reasons = request.POST.get("reasons", "")
    try:
        if action == "receive":
            services.receive(actor, tracking_code)
        elif action == "assign":
            services.assign(actor, tracking_code)
        elif action == "assign-to":
            services.assign_to(actor, tracking_code, _days(request.POST.get("assignee", ""), "assignee"))
        elif action == "send-back":
            services.send_back(actor, tracking_code, reasons)
        elif action == "approve":
            services.approve(actor, tracking_code)
        elif action == "refuse":
            services.refuse(actor, tracking_code, reasons)
        elif action == "suspend":
            services.suspend(actor, tracking_code, reasons)
        elif action == "resume":
            services.resume(actor, tracking_code)
        elif action == "extend":
            services.extend(actor, tracking_code, _days(request.POST.get("days", "")), reasons)
        else:
            raise Http404
    except NotFound as exc:
        if exc.field == "tracking_code":
            raise Http404 from None
        problems = [{"field": exc.field, "rule": "not_found", "message": str(exc), "label": exc.field}]
        return _official_page(request, actor, tracking_code, problems, 422)
    except AccessDenied as exc:
        if exc.field == "tracking_code":
            return render(request, "public_services/not_authorised.html", {"other_ward": True}, status=403)
        problems = [{"field": exc.field, "rule": exc.rule, "message": str(exc), "label": exc.field}]
        return _official_page(request, actor, tracking_code, problems, 403)
    except DomainValidationError as exc:
        return _official_page(request, actor, tracking_code, _problems(exc), 422)
    return HttpResponseRedirect(reverse("public_services:official_dossier", args=[tracking_code]))
