"""Administration pages of the data exchange (issue 5 item 7). Thin views: parse the form, call
one service function of ``blocks/exchange``, render the result; errors name the field and rule.

Who sees what: the platform operator's administrators manage members, subsystems and the
catalogue and see the whole log; a member's administrators issue their subsystems' credentials,
request grants (client) and decide on them (provider), and see the log of exchanges their
organisation sent or served, as its data-protection officers (role auditor) do, who also review
citizens' flags. Staff of a member in any other role are refused every page (ADR 0010 §20).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from dancu.apps.exchange_admin.forms import (
    GrantRequestForm,
    LogSearchForm,
    MemberForm,
    ReviewForm,
    SubscriptionForm,
    SubsystemForm,
    TryCallForm,
)
from dancu.apps.exchange_admin.presenters import traffic_chart
from dancu.apps.web.staff import form_problems, problems_of, shown, staff_view
from dancu.blocks.audit.context import Actor
from dancu.blocks.exchange import gateway, notifications, tracker
from dancu.blocks.exchange import services as ex
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem, NotFound


def _may_use(actor: Actor) -> bool:
    """The operator, or an administrator or data-protection officer of a member (``members_of``)."""
    return ex.is_operator(actor) or bool(ex.members_of(actor))


exchange_staff = staff_view(
    may_act=_may_use,
    no_organisation=lambda request: render(request, "exchange_admin/not_authorised.html", status=403),
    not_authorised="exchange_admin/not_authorised.html",
    membership_ended=lambda request: reverse("console:organisation"),
)

_ERRORS = (DomainValidationError, AccessDenied, NotFound)


def _page(
    request: HttpRequest, template: str, actor: Actor, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context.setdefault("problems", [])
    context.update(actor=actor, operator=ex.is_operator(actor), section=template.rsplit("/", 1)[-1][:-5])
    return render(request, template, context, status=status)


@exchange_staff
def overview(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Traffic per service over the last 24 hours (a bar chart), and the way to each page."""
    since = timezone.now() - timedelta(hours=24)
    traffic = ex.traffic_by_service(actor, since=since)
    tallies = ex.refusal_tallies(actor, since=since)
    return _page(
        request,
        "exchange_admin/overview.html",
        actor,
        {"traffic": traffic, "chart": traffic_chart(traffic), "since": since, "tallies": tallies},
    )


@exchange_staff
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, actor: Actor) -> HttpResponse:
    problems: list[FieldProblem] = []
    issued = None
    status = 200
    member_form = MemberForm(prefix="m")
    mine = ex.members_of(actor)
    subsystem_form = SubsystemForm(prefix="s", members=[(m.pk, m.identifier) for m in mine])
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "member":
                member_form = MemberForm(request.POST, prefix="m")
                if not member_form.is_valid():
                    raise DomainValidationError(form_problems(member_form))
                ex.create_member(actor, **member_form.cleaned_data)
            elif action == "subsystem":
                subsystem_form = SubsystemForm(
                    request.POST, prefix="s", members=[(m.pk, m.identifier) for m in mine]
                )
                if not subsystem_form.is_valid():
                    raise DomainValidationError(form_problems(subsystem_form))
                member = next(m for m in mine if m.pk == subsystem_form.cleaned_data["member"])
                ex.create_subsystem(
                    actor,
                    member,
                    code=subsystem_form.cleaned_data["code"],
                    name=subsystem_form.cleaned_data["name"],
                )
            elif action == "credential":
                sub = ex.find_subsystem(request.POST.get("subsystem", ""))
                if sub is None:
                    raise NotFound("no such subsystem", field="subsystem")
                issued = ex.issue_credential(actor, sub)
            else:
                raise DomainValidationError.single("action", "choice", "unknown action")
            if issued is None:
                return HttpResponseRedirect(reverse("exchange_admin:members"))
        except _ERRORS as exc:
            problems, status = problems_of(exc)
    rows = [(m, list(m.subsystems.all()), ex.administers(actor, m)) for m in ex.members_of(actor)]
    return _page(
        request,
        "exchange_admin/members.html",
        actor,
        {
            "rows": rows,
            "member_form": member_form,
            "subsystem_form": subsystem_form,
            "issued": issued,
            "problems": shown(problems),
        },
        status,
    )


@exchange_staff
def catalogue(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _page(request, "exchange_admin/catalogue.html", actor, {"services": ex.catalogue()})


def _grant_form(actor: Actor, data: Any = None) -> GrantRequestForm:
    clients = [
        (s.pk, s.identifier)
        for m in ex.members_of(actor)
        if ex.administers(actor, m)
        for s in m.subsystems.all()
    ]
    services = [(s.pk, s.identifier) for s in ex.catalogue()]
    return GrantRequestForm(data, clients=clients, services=services)


def _can_request(actor: Actor) -> bool:
    return any(ex.administers(actor, m) and m.subsystems.exists() for m in ex.members_of(actor))


@exchange_staff
@require_http_methods(["GET", "POST"])
def grants(request: HttpRequest, actor: Actor) -> HttpResponse:
    problems: list[FieldProblem] = []
    status = 200
    form = _grant_form(actor)
    if request.method == "POST":
        form = _grant_form(actor, request.POST)
        try:
            if not form.is_valid():
                raise DomainValidationError(form_problems(form))
            data = form.cleaned_data
            client = next(
                s for m in ex.members_of(actor) for s in m.subsystems.all() if s.pk == data["client"]
            )
            service = next(s for s in ex.catalogue() if s.pk == data["service"])
            now = timezone.now()
            ex.request_grant(
                actor,
                client=client,
                service=service,
                purposes={data["purpose"]: list(data["field_names"])},
                legal_basis=data["legal_basis"],
                valid_from=now,
                valid_until=now + timedelta(days=data["valid_days"]),
            )
            return HttpResponseRedirect(reverse("exchange_admin:grants"))
        except _ERRORS as exc:
            problems, status = problems_of(exc)
    rows = [(g, ex.administers(actor, g.service.subsystem.member)) for g in ex.grants_visible_to(actor)[:200]]
    return _page(
        request,
        "exchange_admin/grants.html",
        actor,
        {"rows": rows, "form": form, "can_request": _can_request(actor), "problems": shown(problems)},
        status,
    )


@exchange_staff
@require_POST
def grant_decide(request: HttpRequest, actor: Actor, grant_id: int) -> HttpResponse:
    decision = request.POST.get("decision", "")
    note = request.POST.get("note", "")
    try:
        if decision == "approve":
            ex.approve_grant(actor, grant_id, note=note)
        elif decision == "reject":
            ex.reject_grant(actor, grant_id, note=note)
        elif decision == "revoke":
            ex.revoke_grant(actor, grant_id)
        else:
            raise DomainValidationError.single("decision", "choice", "approve, reject or revoke")
    except _ERRORS as exc:
        problems, status = problems_of(exc)
        rows = [
            (g, ex.administers(actor, g.service.subsystem.member)) for g in ex.grants_visible_to(actor)[:200]
        ]
        context = {
            "rows": rows,
            "form": _grant_form(actor),
            "can_request": _can_request(actor),
            "problems": shown(problems),
        }
        return _page(request, "exchange_admin/grants.html", actor, context, status)
    return HttpResponseRedirect(reverse("exchange_admin:grants"))


def _own_subsystems(actor: Actor) -> list[ex.Subsystem]:
    return [s for m in ex.members_of(actor) if ex.administers(actor, m) for s in m.subsystems.all()]


@exchange_staff
@require_http_methods(["GET", "POST"])
def subscriptions(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Change-notification subscriptions (issue 5 item 8): the member's administrators subscribe
    their subsystems (under a grant in force for the purpose) and end subscriptions; providers
    see who follows their services; every row shows pending and delivered notifications."""
    own = _own_subsystems(actor)
    catalogue = ex.catalogue()

    def form_for(data: Any = None) -> SubscriptionForm:
        return SubscriptionForm(
            data,
            clients=[(s.pk, s.identifier) for s in own],
            services=[(s.pk, s.identifier) for s in catalogue],
        )

    form = form_for()
    problems: list[FieldProblem] = []
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "unsubscribe":
                try:
                    subscription_id = int(request.POST.get("subscription", ""))
                except ValueError:
                    raise DomainValidationError.single(
                        "subscription", "invalid", "not a subscription number"
                    ) from None
                notifications.unsubscribe(actor, subscription_id)
            else:
                form = form_for(request.POST)
                if not form.is_valid():
                    raise DomainValidationError(form_problems(form))
                data = form.cleaned_data
                notifications.subscribe(
                    actor,
                    next(s for s in own if s.pk == data["client"]),
                    next(s for s in catalogue if s.pk == data["service"]),
                    data["purpose"],
                    callback_url=data["callback_url"],
                )
            return HttpResponseRedirect(reverse("exchange_admin:subscriptions"))
        except _ERRORS as exc:
            problems, status = problems_of(exc)
    return _page(
        request,
        "exchange_admin/subscriptions.html",
        actor,
        {
            "rows": notifications.subscriptions_visible_to(actor),
            "form": form,
            "can_subscribe": bool(own),
            "problems": shown(problems),
        },
        status,
    )


@exchange_staff
def log(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = LogSearchForm(request.GET or None)
    problems: list[FieldProblem] = []
    status = 200
    rows: list[ex.MessageSummary] = []
    try:
        if form.is_bound and not form.is_valid():
            raise DomainValidationError(form_problems(form))
        filters = form.cleaned_data if form.is_bound else {}
        rows = ex.search_log(actor, **{k: v for k, v in filters.items() if v})
    except _ERRORS as exc:
        problems, status = problems_of(exc)
    return _page(
        request,
        "exchange_admin/log.html",
        actor,
        {"form": form, "rows": rows, "problems": shown(problems)},
        status,
    )


@exchange_staff
def evidence(request: HttpRequest, actor: Actor, message_id: int) -> HttpResponse:
    """Download one exchange's evidence bundle (JSON); the export is audited."""
    try:
        bundle = ex.evidence_bundle(actor, message_id)
    except _ERRORS as exc:
        problems, status = problems_of(exc)
        return _page(
            request,
            "exchange_admin/log.html",
            actor,
            {"form": LogSearchForm(), "rows": [], "problems": shown(problems)},
            status,
        )
    response = HttpResponse(
        json.dumps(bundle, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="exchange-evidence-{message_id}.json"'
    return response


@exchange_staff
@require_http_methods(["GET", "POST"])
def flags(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Citizens' flags on exchanges served by the actor's member (data-protection officer)."""
    problems: list[FieldProblem] = []
    status = 200
    if request.method == "POST":
        form = ReviewForm(request.POST)
        try:
            if not form.is_valid():
                raise DomainValidationError(form_problems(form))
            tracker.review_flag(actor, int(request.POST.get("flag", "0") or 0), form.cleaned_data["note"])
            return HttpResponseRedirect(reverse("exchange_admin:flags"))
        except (*_ERRORS, ValueError) as exc:
            if isinstance(exc, ValueError):
                exc = DomainValidationError.single("flag", "invalid", "not a flag number")
            problems, status = problems_of(exc)
    try:
        rows = tracker.flags_for_review(actor)
    except AccessDenied as exc:
        rows = []
        problems, status = problems_of(exc)
    return _page(
        request,
        "exchange_admin/flags.html",
        actor,
        {"rows": rows, "form": ReviewForm(), "problems": shown(problems)},
        status,
    )


@exchange_staff
@require_http_methods(["GET", "POST"])
def try_call(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Call a service through the gateway from the browser, as one of the member's subsystems
    (its credential pasted in) for the logged-in official: the same path as any client system
    (``gateway.handle``), so the call is authenticated, checked against the grants, signed and
    logged like any other."""
    clients = [s.identifier for m in ex.members_of(actor) for s in m.subsystems.all()]
    services = [s.identifier for s in ex.catalogue()]
    form = TryCallForm(request.POST or None, clients=clients, services=services)
    problems: list[FieldProblem] = []
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            result = gateway.handle(
                gateway.ExchangeRequest(
                    service_id=data["service"],
                    path=data["id_number"],
                    method="GET",
                    query="",
                    body=b"",
                    headers={
                        "information-mediator-client": data["client"],
                        "authorization": f"Bearer {data['credential']}",
                        "x-request-id": f"web-{timezone.now():%Y%m%d%H%M%S%f}",
                        "x-purpose": data["purpose"],
                        "x-end-user": request.user.get_username(),
                        "x-case-reference": data["case_reference"],
                    },
                )
            )
        else:
            problems, status = form_problems(form), 400
    body = json.dumps(result.body, ensure_ascii=False, indent=2) if result is not None else ""
    return _page(
        request,
        "exchange_admin/try.html",
        actor,
        {"form": form, "result": result, "body": body, "problems": shown(problems)},
        status,
    )
