"""Service functions of the exchange: members, subsystems (keys and client credentials), the
service catalogue, access grants, and the GovStack Information Mediator directory.

Administration acts through an ``Actor`` (``organisations.services.actor_for``): the platform
operator's administrators manage members, subsystems and the catalogue; a member's administrator
requests grants for its subsystems; the provider's administrator approves, rejects and revokes
them (Decree 47/2020/NĐ-CP Art. 8: the agency managing the data decides who it is shared with).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from dancu import outbound
from dancu.blocks.audit.context import Actor
from dancu.blocks.audit.purposes import get_purpose
from dancu.blocks.exchange import crypto, fast, providers
from dancu.blocks.exchange.identifiers import MEMBER_CLASSES, check_part
from dancu.blocks.exchange.models import Grant, Member, Message, RefusalTally, Service, Subsystem
from dancu.blocks.organisations.models import Membership, Organisation
from dancu.blocks.organisations.policy import EXCHANGE, purposes_for
from dancu.blocks.organisations.tokens import new_token
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from dancu.validation import check_text

CREDENTIAL_TAG = "xk"  # client credentials are xk_<prefix>_<secret> (organisations.tokens)


def instance() -> str:
    return str(settings.DANCU_EXCHANGE_INSTANCE)


# --------------------------------------------------------------------------- who may administer
def is_operator(actor: Actor) -> bool:
    """An administrator of the platform operator: manages members, subsystems and the catalogue."""
    return actor.is_system or (
        actor.organisation_kind == Organisation.Kind.PLATFORM and actor.role == Membership.Role.ADMIN
    )


def _require_operator(actor: Actor) -> None:
    if not is_operator(actor):
        raise AccessDenied(
            "only the platform operator's administrators manage the exchange", field="actor", rule="operator"
        )


def administers(actor: Actor, member: Member) -> bool:
    """The actor is an administrator of the organisation behind ``member`` (or the operator)."""
    if is_operator(actor):
        return True
    return (
        member.organisation_id is not None
        and actor.organisation_id == member.organisation_id
        and actor.role == Membership.Role.ADMIN
    )


# The roles that oversee a member's exchanges: its administrators (who also act for it) and its
# data-protection officers (role auditor: log, evidence, citizens' flags). A membership in another
# role — officer, clerk, statistics… — gives nothing here (ADR 0010 §20).
OVERSIGHT_ROLES = frozenset({Membership.Role.ADMIN, Membership.Role.AUDITOR})


def oversees(actor: Actor) -> bool:
    """The actor acts for its organisation in an oversight role (``OVERSIGHT_ROLES``)."""
    return actor.organisation_id is not None and actor.role in OVERSIGHT_ROLES


def members_of(actor: Actor) -> list[Member]:
    """The members the actor oversees: those of its organisation when it acts as their
    administrator or data-protection officer (``OVERSIGHT_ROLES``); all of them for the operator;
    none for staff in any other role (Law 91/2025/QH15 Art. 3: the exchange log is personal-data
    processing metadata, shown only to whom it is needed)."""
    if is_operator(actor):
        return list(Member.objects.all())
    org = actor.organisation_id
    if org is None or not oversees(actor):
        return []
    return list(Member.objects.filter(organisation_id=org))


# --------------------------------------------------------------------------- members, subsystems
@transaction.atomic
def create_member(
    actor: Actor,
    *,
    member_class: str,
    member_code: str,
    name: str,
    organisation: Organisation | None = None,
    organisation_code: str = "",
) -> Member:
    """A new member ``INSTANCE/CLASS/CODE`` (X-Road member identifier), linked to the platform's
    organisation (given, or by its code) whose kind decides the purposes it may be granted."""
    _require_operator(actor)
    if organisation is None and organisation_code:
        organisation = Organisation.objects.filter(code=organisation_code).first()
        if organisation is None:
            raise DomainValidationError.single(
                "organisation_code", "unknown", f"no organisation with code {organisation_code!r}"
            )
    if member_class not in MEMBER_CLASSES:
        raise DomainValidationError.single("member_class", "choice", f"one of {', '.join(MEMBER_CLASSES)}")
    check_part("member_code", member_code)
    name = check_text("name", name, max_length=255, required=True).strip()
    if Member.objects.filter(
        instance=instance(), member_class=member_class, member_code=member_code
    ).exists():
        raise DomainValidationError.single(
            "member_code", "unique", f"member {member_class}/{member_code} exists"
        )
    return Member.objects.create(
        instance=instance(),
        member_class=member_class,
        member_code=member_code,
        name=name,
        organisation=organisation,
    )


@transaction.atomic
def create_subsystem(actor: Actor, member: Member, *, code: str, name: str) -> Subsystem:
    """A new subsystem with a fresh Ed25519 key pair (private half wrapped, ADR 0010)."""
    _require_operator(actor)
    check_part("code", code)
    name = check_text("name", name, max_length=255, required=True).strip()
    if Subsystem.objects.filter(member=member, code=code).exists():
        raise DomainValidationError.single(
            "code", "unique", f"subsystem {code} of {member.identifier} exists"
        )
    public, wrapped = crypto.new_wrapped_key(f"{member.identifier}/{code}")
    return Subsystem.objects.create(
        member=member,
        code=code,
        name=name,
        public_key=public,
        private_key_wrapped=wrapped,
        key_id=crypto.key_id(crypto.unb64(public)),
    )


@dataclass(frozen=True)
class IssuedCredential:
    """A new client credential. ``token`` is the only copy of the secret: show it once."""

    subsystem: str
    prefix: str
    token: str


@transaction.atomic
def issue_credential(actor: Actor, subsystem: Subsystem) -> IssuedCredential:
    """A new client credential ``xk_<prefix>_<secret>`` (256-bit secret, only its SHA-256 kept,
    ``organisations.tokens``); it replaces the previous one."""
    if not administers(actor, subsystem.member):
        raise AccessDenied(
            "only the member's administrators issue its credentials", field="actor", rule="administrator"
        )
    new = new_token(CREDENTIAL_TAG, lambda p: Subsystem.objects.filter(credential_prefix=p).exists())
    subsystem.credential_prefix = new.prefix
    subsystem.credential_sha256 = new.secret_sha256
    subsystem.credential_issued_at = timezone.now()
    subsystem.credential_revoked_at = None
    subsystem.save(
        update_fields=[
            "credential_prefix",
            "credential_sha256",
            "credential_issued_at",
            "credential_revoked_at",
        ]
    )
    return IssuedCredential(subsystem=subsystem.identifier, prefix=new.prefix, token=new.token)


def revoke_credential(actor: Actor, subsystem: Subsystem) -> None:
    if not administers(actor, subsystem.member):
        raise AccessDenied(
            "only the member's administrators revoke its credentials", field="actor", rule="administrator"
        )
    Subsystem.objects.filter(pk=subsystem.pk).update(credential_revoked_at=timezone.now())


def find_subsystem(identifier: str) -> Subsystem | None:
    """The subsystem ``INSTANCE/CLASS/MEMBER/SUBSYSTEM`` (None when unknown or malformed)."""
    parts = identifier.split("/")
    if len(parts) != 4:
        return None
    return (
        Subsystem.objects.select_related("member", "member__organisation")
        .filter(
            member__instance=parts[0],
            member__member_class=parts[1],
            member__member_code=parts[2],
            code=parts[3],
        )
        .first()
    )


def find_service(identifier: str) -> Service | None:
    parts = identifier.split("/")
    if len(parts) != 5:
        return None
    return (
        Service.objects.select_related("subsystem", "subsystem__member")
        .filter(
            subsystem__member__instance=parts[0],
            subsystem__member__member_class=parts[1],
            subsystem__member__member_code=parts[2],
            subsystem__code=parts[3],
            code=parts[4],
        )
        .first()
    )


# --------------------------------------------------------------------------- catalogue
@transaction.atomic
def publish_registry_services(actor: Actor, subsystem: Subsystem) -> list[Service]:
    """Publish (or refresh) the registry's in-process services under ``subsystem``
    (issue 5 item 5): citizen, verify-identity, household, residence, life-status."""
    _require_operator(actor)
    out = []
    for code, entry in providers.REGISTRY_CATALOGUE.items():
        identifier = f"{subsystem.identifier}/{code}"
        svc, _ = Service.objects.update_or_create(
            subsystem=subsystem,
            code=code,
            defaults={
                "title_vi": entry.title_vi,
                "title_en": entry.title_en,
                "description": (entry.handler.__doc__ or "").strip(),
                "legal_basis": entry.legal_basis,
                "handler": f"registry.{code}",
                "methods": entry.methods,
                "fields": list(entry.fields),
                "fields_by_purpose": {p: list(f) for p, f in entry.fields_by_purpose.items()},
                "openapi": providers.openapi_for(entry, identifier),
            },
        )
        out.append(svc)
    return out


@transaction.atomic
def register_external_service(
    actor: Actor,
    subsystem: Subsystem,
    *,
    code: str,
    title_vi: str,
    title_en: str,
    legal_basis: str,
    endpoint_url: str,
    fields_by_purpose: dict[str, list[str]],
    methods: str = "GET,POST",
    openapi: dict[str, Any] | None = None,
) -> Service:
    """Publish a service of an external provider, reached over HTTP(S) at ``endpoint_url``; the
    catalogue says which fields it may return to each purpose (the most a grant may give)."""
    _require_operator(actor)
    check_part("code", code)
    if not endpoint_url.startswith(("https://", "http://")):
        raise DomainValidationError.single("endpoint_url", "url", "an http(s) URL of the provider")
    # The gateway's sender checks again at every call (remote.forward); refuse early what it would refuse.
    problem = outbound.url_problem(endpoint_url, allow_http_hosts=settings.DANCU_EXCHANGE_PROVIDER_HOSTS)
    if problem:
        raise DomainValidationError.single(
            "endpoint_url",
            "address",
            f"{problem} (or an operator lists the host in DANCU_EXCHANGE_PROVIDER_HOSTS)",
        )
    fields_by_purpose = {p: sorted(f) for p, f in fields_by_purpose.items()}
    return _save_service(
        subsystem,
        code,
        (title_vi, title_en, legal_basis),
        fields_by_purpose,
        sorted({f for fs in fields_by_purpose.values() for f in fs}),
        handler="",
        endpoint_url=endpoint_url,
        methods=methods,
        openapi=openapi or {"openapi": "3.0.3", "info": {"title": code, "version": "v1"}, "paths": {}},
    )


def _save_service(
    subsystem: Subsystem,
    code: str,
    titles: tuple[str, str, str],
    fields_by_purpose: dict[str, list[str]],
    fields: list[str],
    **defaults: Any,
) -> Service:
    """Create or refresh the catalogue row ``subsystem``/``code``: titles (vi, en) and legal basis
    checked, every purpose known."""
    for purpose in fields_by_purpose:
        get_purpose(purpose)
    title_vi, title_en, legal_basis = titles
    svc, _ = Service.objects.update_or_create(
        subsystem=subsystem,
        code=code,
        defaults={
            "title_vi": check_text("title_vi", title_vi, max_length=255, required=True),
            "title_en": check_text("title_en", title_en, max_length=255, required=True),
            "legal_basis": check_text("legal_basis", legal_basis, max_length=255, required=True),
            "fields": fields,
            "fields_by_purpose": fields_by_purpose,
            **defaults,
        },
    )
    return svc


# --------------------------------------------------------------------------- in-process providers
_HANDLER_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_-]*)+\Z")
_METHODS = frozenset({"GET", "POST"})


def register_handler(name: str, handler: providers.Handler) -> None:
    """Add an application's in-process provider to the gateway's table (ADR 0010 §5: providers
    run in the gateway's transaction; a block never imports an application, so the application
    registers its handler, typically from ``AppConfig.ready``).

    ``name`` is dotted (``cleaning.results``) and at most 64 characters (``Service.handler``).
    The registry's names (``registry.*``) are reserved: the fast path serves them from
    ``providers.LOOKUPS`` (ADR 0010 §13), so a replacement would answer differently on the two
    paths. Registering the same function again is a no-op; another function under a name already
    taken is refused (``ImproperlyConfigured``).

    The handler table is this process's own, like the fast path's route cache: a change to it
    drops this process's cached routes (``fast.forget_routes``). Changes to the catalogue rows
    (:func:`publish_in_process_service`) reach every process through the configuration version
    the database's triggers bump (``models.ConfigVersion``)."""
    if len(name) > 64 or not _HANDLER_NAME.match(name):
        raise ImproperlyConfigured(f"handler name {name!r}: dotted lower-case words, at most 64 characters")
    if name.startswith("registry."):
        raise ImproperlyConfigured(f"handler name {name!r}: the registry's names are reserved")
    current = providers.HANDLERS.get(name)
    if current is handler:
        return
    if current is not None:
        raise ImproperlyConfigured(f"handler name {name!r} is already registered to another provider")
    providers.HANDLERS[name] = handler
    fast.forget_routes()


@transaction.atomic
def publish_in_process_service(
    actor: Actor,
    subsystem: Subsystem,
    *,
    code: str,
    handler: str,
    title_vi: str,
    title_en: str,
    legal_basis: str,
    fields_by_purpose: dict[str, list[str]],
    methods: str = "GET",
    openapi: dict[str, Any] | None = None,
) -> Service:
    """Publish (or refresh) a service answered by the registered in-process ``handler``
    (:func:`register_handler`) under ``subsystem`` — the platform operator only (ADR 0010 §5).
    The catalogue says which fields it may return to each purpose (the most a grant may give);
    its description is the handler's docstring.

    The write goes to ``exchange_service``, one of the tables whose triggers bump the gateway's
    configuration version (migration ``exchange/0003``; ADR 0010 §13): a route any process cached
    before the change is seen stale by the next exchange's group transaction and decided afresh."""
    _require_operator(actor)
    check_part("code", code)
    provider = providers.HANDLERS.get(handler)
    if provider is None:
        raise DomainValidationError.single("handler", "registered", f"no in-process provider {handler!r}")
    wanted = [m.strip() for m in methods.split(",")]
    if not wanted or not set(wanted) <= _METHODS:
        raise DomainValidationError.single("methods", "choice", "GET, POST or GET,POST")
    if not fields_by_purpose:
        raise DomainValidationError.single("fields_by_purpose", "required", "name at least one purpose")
    identifier = f"{subsystem.identifier}/{code}"
    return _save_service(
        subsystem,
        code,
        (title_vi, title_en, legal_basis),
        {p: list(f) for p, f in fields_by_purpose.items()},
        list(dict.fromkeys(f for fs in fields_by_purpose.values() for f in fs)),
        description=(provider.__doc__ or "").strip(),
        handler=handler,
        endpoint_url="",
        methods=",".join(wanted),
        openapi=openapi or {"openapi": "3.0.3", "info": {"title": identifier, "version": "v1"}, "paths": {}},
    )


def catalogue() -> list[Service]:
    return list(Service.objects.select_related("subsystem", "subsystem__member").filter(active=True))


# --------------------------------------------------------------------------- grants
def _check_purposes(
    service: Service, client: Subsystem, purposes: dict[str, list[str]]
) -> dict[str, list[str]]:
    """Each purpose known, served by the service, allowed to the client member's organisation
    kind (``organisations.policy``, role ``exchange``), with fields the service gives it."""
    if service.handler in providers.SELF_SERVICE_HANDLERS and client.identifier not in (
        settings.DANCU_EXCHANGE_SELF_SERVICE_CLIENTS
    ):
        raise DomainValidationError.single(
            "client",
            "self_service_client",
            f"{service.code} answers only for the citizen a portal acts for: only the subsystems listed "
            "in DANCU_EXCHANGE_SELF_SERVICE_CLIENTS (the citizen portals) may hold a grant on it",
        )
    if not purposes:
        raise DomainValidationError.single("purposes", "required", "name at least one purpose")
    org = client.member.organisation
    allowed = purposes_for(org.kind, EXCHANGE) if org is not None else frozenset()
    clean: dict[str, list[str]] = {}
    for code, wanted in purposes.items():
        get_purpose(code)
        served = service.fields_by_purpose.get(code)
        if served is None:
            raise DomainValidationError.single(
                "purposes", "purpose_not_served", f"service {service.code} does not serve purpose {code}"
            )
        if code not in allowed:
            raise DomainValidationError.single(
                "purposes",
                "purpose_not_allowed",
                f"{client.member.name} may not use purpose {code} (organisations.policy, role exchange)",
            )
        fields = sorted(set(wanted))
        extra = [f for f in fields if f not in served]
        if extra:
            raise DomainValidationError.single(
                f"purposes.{code}", "field_not_served", f"purpose {code} never receives {', '.join(extra)}"
            )
        if not fields:
            raise DomainValidationError.single(f"purposes.{code}", "required", "name at least one field")
        clean[code] = fields
    return clean


@transaction.atomic
def request_grant(
    actor: Actor,
    *,
    client: Subsystem,
    service: Service,
    purposes: dict[str, list[str]],
    legal_basis: str,
    valid_from: datetime,
    valid_until: datetime,
) -> Grant:
    """A grant request by the client member's administrator; inactive until the provider
    approves it (deny by default)."""
    if not administers(actor, client.member):
        raise AccessDenied(
            "only the client member's administrators request grants", field="actor", rule="administrator"
        )
    legal_basis = check_text("legal_basis", legal_basis, max_length=255, required=True).strip()
    if valid_until <= valid_from:
        raise DomainValidationError.single(
            "valid_until", "after_valid_from", "must be after the start of validity"
        )
    clean = _check_purposes(service, client, purposes)
    return Grant.objects.create(
        client=client,
        service=service,
        purposes=clean,
        legal_basis=legal_basis,
        valid_from=valid_from,
        valid_until=valid_until,
        requested_by=actor.label[:150],
    )


def _decide(actor: Actor, grant_id: int) -> Grant:
    grant = (
        Grant.objects.select_for_update(of=("self",))
        .select_related("service__subsystem__member", "client__member__organisation")
        .filter(pk=grant_id)
        .first()
    )
    if grant is None:
        raise NotFound("no such grant", field="grant")
    if not administers(actor, grant.service.subsystem.member):
        raise AccessDenied(
            "only the provider's administrators decide on its grants",
            field="actor",
            rule="provider_administrator",
        )
    return grant


@transaction.atomic
def approve_grant(actor: Actor, grant_id: int, *, note: str = "") -> Grant:
    """The provider's administrator approves a requested grant (purposes re-checked)."""
    grant = _decide(actor, grant_id)
    if grant.status != Grant.Status.REQUESTED:
        raise DomainValidationError.single(
            "status", "not_requested", f"the grant is {grant.status}, not requested"
        )
    _check_purposes(grant.service, grant.client, grant.purposes)
    grant.status = Grant.Status.APPROVED
    grant.decided_by = actor.label[:150]
    grant.decided_at = timezone.now()
    grant.decision_note = check_text("note", note, max_length=500)
    grant.save()
    return grant


@transaction.atomic
def reject_grant(actor: Actor, grant_id: int, *, note: str = "") -> Grant:
    grant = _decide(actor, grant_id)
    if grant.status != Grant.Status.REQUESTED:
        raise DomainValidationError.single(
            "status", "not_requested", f"the grant is {grant.status}, not requested"
        )
    grant.status = Grant.Status.REJECTED
    grant.decided_by = actor.label[:150]
    grant.decided_at = timezone.now()
    grant.decision_note = check_text("note", note, max_length=500)
    grant.save()
    return grant


@transaction.atomic
def revoke_grant(actor: Actor, grant_id: int) -> Grant:
    """Revoke an approved grant: from now on every call under it is refused (``grant_revoked``)."""
    grant = _decide(actor, grant_id)
    if grant.status != Grant.Status.APPROVED:
        raise DomainValidationError.single(
            "status", "not_approved", f"the grant is {grant.status}, not approved"
        )
    grant.status = Grant.Status.REVOKED
    grant.revoked_by = actor.label[:150]
    grant.revoked_at = timezone.now()
    grant.save()
    return grant


def grants_visible_to(actor: Actor) -> QuerySet[Grant]:
    """Grants where the actor's organisation is the client or the provider, for its administrators
    and data-protection officers (all: the operator)."""
    qs = Grant.objects.select_related("client__member", "service__subsystem__member")
    if is_operator(actor):
        return qs
    org = actor.organisation_id
    if org is None or not oversees(actor):
        return qs.none()
    return qs.filter(
        Q(client__member__organisation_id=org) | Q(service__subsystem__member__organisation_id=org)
    )


def grant_in_force(grant: Grant, at: datetime) -> bool:
    return grant.status == Grant.Status.APPROVED and grant.valid_from <= at < grant.valid_until


# --------------------------------------------------------------------------- directory (GovStack IM)
def list_clients() -> dict[str, Any]:
    """GovStack IM Directory Services API ``listClients`` (``restClientDetailsListType``):
    ``{"member": [{"name", "id": {"objectType": MEMBER|SUBSYSTEM, "instanceId", "memberClass",
    "memberCode"[, "subsystemCode"]}}]}`` — X-Road names the application ``subsystemCode``;
    GovStack's YAML calls it ``applicationCode``: both are given."""
    out: list[dict[str, Any]] = []
    for m in (
        Member.objects.filter(active=True)
        .prefetch_related("subsystems")
        .order_by("member_class", "member_code")
    ):
        base = {"instanceId": m.instance, "memberClass": m.member_class, "memberCode": m.member_code}
        out.append({"name": m.name, "id": {"objectType": "MEMBER", **base}})
        for s in m.subsystems.all():
            if s.active:
                out.append(
                    {
                        "name": m.name,
                        "id": {
                            "objectType": "SUBSYSTEM",
                            **base,
                            "subsystemCode": s.code,
                            "applicationCode": s.code,
                        },
                    }
                )
    return {"member": out}


def _service_details(svc: Service) -> dict[str, Any]:
    m = svc.subsystem.member
    return {
        "objectType": "SERVICE",
        "serviceType": "REST",
        "instanceId": m.instance,
        "memberClass": m.member_class,
        "memberCode": m.member_code,
        "subsystemCode": svc.subsystem.code,
        "applicationCode": svc.subsystem.code,
        "serviceCode": svc.code,
        "serviceVersion": svc.version,
        "title": {"vi": svc.title_vi, "en": svc.title_en},
        "legalBasis": svc.legal_basis,
        "fields": svc.fields,
        "endpointList": {
            "member": [
                {"method": meth.strip(), "path": "/*"} for meth in svc.methods.split(",") if meth.strip()
            ]
        },
    }


def list_methods(provider: Subsystem, *, service_code: str = "") -> dict[str, Any]:
    """GovStack IM ``…/listMethods`` (``restServiceDetailsListType``): every active service of
    the provider subsystem, or only ``service_code``."""
    qs = provider.services.select_related("subsystem__member").filter(active=True)
    if service_code:
        qs = qs.filter(code=service_code)
    return {"member": [_service_details(s) for s in qs.order_by("code")]}


def allowed_methods(
    provider: Subsystem, client: Subsystem, *, service_code: str = "", at: datetime | None = None
) -> dict[str, Any]:
    """GovStack IM ``…/allowedMethods``: the provider's services the client holds a grant in
    force for (deny by default: no grant, not listed)."""
    moment = at or timezone.now()
    granted = Grant.objects.filter(
        client=client, status=Grant.Status.APPROVED, valid_from__lte=moment, valid_until__gt=moment
    ).values_list("service_id", flat=True)
    qs = provider.services.select_related("subsystem__member").filter(active=True, pk__in=list(granted))
    if service_code:
        qs = qs.filter(code=service_code)
    return {"member": [_service_details(s) for s in qs.order_by("code")]}


def get_openapi(provider: Subsystem, service_code: str) -> dict[str, Any]:
    """GovStack IM ``…/getOpenAPI?serviceCode=``: the service's OpenAPI description."""
    svc = provider.services.filter(code=service_code, active=True).first()
    if svc is None:
        raise NotFound(f"no service {service_code!r} at {provider.identifier}", field="serviceCode")
    return dict(svc.openapi)


# --------------------------------------------------------------------------- log search and traffic
@dataclass(frozen=True)
class MessageSummary:
    """One message of the log as the administration pages list it: no request or response
    content (personal data stays in the log and in audited evidence exports)."""

    message_id: int
    occurred_at: datetime
    client_id: str
    client_name: str
    service_id: str
    provider_name: str
    request_id: str
    purpose: str
    end_user: str
    case_reference: str
    outcome: str
    status: int
    rule: str
    fields: list[str]
    sealed: bool


def _messages_visible_to(actor: Actor) -> QuerySet[Message]:
    """The operator sees the whole log; a member's administrators and data-protection officers
    (``members_of``) the messages it sent or served; anyone else nothing."""
    qs = Message.objects.all()
    if is_operator(actor):
        return qs
    members = [m.pk for m in members_of(actor)]
    return qs.filter(Q(client_member_pk__in=members) | Q(provider_member_pk__in=members))


def search_log(
    actor: Actor,
    *,
    service_id: str = "",
    client_id: str = "",
    request_id: str = "",
    outcome: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[MessageSummary]:
    """Messages visible to the actor matching the filters, newest first."""
    qs = _messages_visible_to(actor)
    if service_id:
        qs = qs.filter(service_id=service_id)
    if client_id:
        qs = qs.filter(client_id=client_id)
    if request_id:
        qs = qs.filter(request_id=request_id)
    if outcome:
        if outcome not in Message.Outcome.values:
            raise DomainValidationError.single(
                "outcome", "choice", f"one of {', '.join(Message.Outcome.values)}"
            )
        qs = qs.filter(outcome=outcome)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    if until is not None:
        qs = qs.filter(occurred_at__lt=until)
    rows = qs.order_by("-id")[: max(1, min(limit, 500))]
    return [
        MessageSummary(
            message_id=m.pk,
            occurred_at=m.occurred_at,
            client_id=m.client_id,
            client_name=m.client_name,
            service_id=m.service_id,
            provider_name=m.provider_name,
            request_id=m.request_id,
            purpose=m.purpose,
            end_user=m.end_user,
            case_reference=m.case_reference,
            outcome=m.outcome,
            status=m.status,
            rule=m.rule,
            fields=list(m.fields),
            sealed=m.seq is not None,
        )
        for m in rows
    ]


@dataclass(frozen=True)
class Traffic:
    """Calls to one service in a period: answered, refused by the provider, refused by the gateway."""

    service_id: str
    ok: int
    provider_error: int
    refused: int

    @property
    def total(self) -> int:
        return self.ok + self.provider_error + self.refused

    @property
    def error_rate(self) -> float:
        return (self.provider_error + self.refused) / self.total if self.total else 0.0


def traffic_by_service(actor: Actor, *, since: datetime) -> list[Traffic]:
    """Per service, the calls since ``since`` visible to the actor (busiest first)."""
    counts: dict[str, dict[str, int]] = {}
    rows = (
        _messages_visible_to(actor)
        .filter(occurred_at__gte=since)
        .values("service_id", "outcome")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts.setdefault(row["service_id"], {})[row["outcome"]] = row["n"]
    out = [
        Traffic(s, c.get("ok", 0), c.get("provider_error", 0), c.get("refused", 0)) for s, c in counts.items()
    ]
    return sorted(out, key=lambda t: (-t.total, t.service_id))


def evidence_bundle(actor: Actor, message_id: int) -> dict[str, Any]:
    """The evidence bundle of a message the actor may see (``evidence.export_bundle``), for the
    operator and the administrators and data-protection officers of the members concerned. The
    bundle holds the exchanged personal data, so the export is recorded on each concerned
    citizen's history (purpose ``exchange.evidence``)."""
    from dancu.blocks.audit import services as audit
    from dancu.blocks.audit.context import AccessContext
    from dancu.blocks.exchange.evidence import export_bundle, seal

    if not (is_operator(actor) or actor.role in (Membership.Role.ADMIN, Membership.Role.AUDITOR)):
        raise AccessDenied(
            "only administrators and data-protection officers export evidence", field="actor", rule="evidence"
        )
    msg = _messages_visible_to(actor).filter(pk=message_id).first()
    if msg is None:
        raise NotFound("no message with that number in the log you may see", field="message_id")
    if msg.seq is None:
        seal()  # chain what is old enough, so that the bundle reaches a signed checkpoint
    with transaction.atomic():
        bundle = export_bundle(msg.pk)
        ctx = AccessContext(actor=actor, purpose="exchange.evidence", case_reference=f"message {msg.pk}")
        for citizen_id in sorted(set(msg.subjects)):
            audit.record(
                ctx, "exchange.evidence_export", subject_citizen_id=citizen_id, detail={"message": msg.pk}
            )
    return bundle


@dataclass(frozen=True)
class RewrapReport:
    rewrapped: list[str]  # subsystem identifiers whose key was sealed again
    current: list[str]  # already sealed under the current SECRET_KEY


def rewrap_keys(old_secret: str) -> RewrapReport:
    """After ``SECRET_KEY`` rotation, seal every subsystem's private signing key again under the
    key derived from the new ``SECRET_KEY`` (HKDF-SHA256, RFC 5869; AES-256-GCM with a fresh
    nonce; ADR 0010). All or nothing: one transaction, rows locked; if any key opens under neither
    secret, nothing is changed and :class:`crypto.KeyUnavailable` names it. Idempotent: keys
    already under the new secret are left as they are. The key pairs (public keys, key ids) do not
    change, so signatures made before stay verifiable."""
    if not old_secret:
        raise DomainValidationError.single(
            "old_secret", "required", "give the SECRET_KEY the keys were sealed with"
        )
    rewrapped, current = [], []
    with transaction.atomic():
        for sub in Subsystem.objects.select_for_update().select_related("member").order_by("pk"):
            fresh = crypto.rewrap(
                sub.private_key_wrapped, sub.identifier, sub.public_key, old_secret=old_secret
            )
            if fresh is None:
                current.append(sub.identifier)
                continue
            Subsystem.objects.filter(pk=sub.pk).update(private_key_wrapped=fresh)
            rewrapped.append(sub.identifier)
    return RewrapReport(rewrapped, current)


@dataclass(frozen=True)
class RefusalCount:
    """Refusals counted for one rule and client since a time (``RefusalTally``, ADR 0010 §10):
    calls of unauthenticated callers (``client_id`` empty) and rate-limited members."""

    rule: str
    client_id: str
    count: int
    last_at: datetime


def refusal_tallies(actor: Actor, *, since: datetime) -> list[RefusalCount]:
    """The refusal tallies since ``since`` the actor may see, largest first: the operator sees all
    (unauthenticated callers included); a member's administrator those of its own subsystems."""
    rows = RefusalTally.objects.filter(minute__gte=since.replace(second=0, microsecond=0))
    if not is_operator(actor):
        mine = [s.identifier for m in members_of(actor) for s in m.subsystems.select_related("member")]
        rows = rows.filter(client_id__in=mine)
    totals = (
        rows.values("rule", "client_id").annotate(n=Sum("count"), last=Max("last_at")).order_by("-n", "rule")
    )
    return [RefusalCount(r["rule"], r["client_id"], int(r["n"]), r["last"]) for r in totals]
