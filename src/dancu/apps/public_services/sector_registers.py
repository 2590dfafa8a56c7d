"""Other agencies' registers read through the data-exchange gateway (issue 7 item 2; ADR 0016,
amendment of 2026-12-01): the traffic-fine decisions of the police, the driving-licence register of
the Department of Construction and the unemployment-insurance contributions of Vietnam Social
Security (BHXH) and the household health-insurance cards (BHXH).

In production each is the agency's own system behind the gateway; here a table of this application
stands in for it (``models``: ``TrafficFine``, ``DrivingLicence``, ``InsurancePeriod``), served as an
in-process provider of the agency's member (``exchange.services.register_handler`` /
``publish_in_process_service``, ADR 0010 §5). The portal reads them like the population registry
(``registry_link``): its own credential, purpose ``public_service.processing``, end user
``citizen:<ID number>``, the form or dossier as case reference — signed and logged. Each service
answers only about its end user: a decision or licence of someone else is "not found", the same
answer as a number that does not exist (no enumeration).

The *changes* a decision makes in these registers (a fine paid, a licence replaced) are applied by
the handlers of ``handlers.py`` to the stand-in tables; in production the agency's system applies
its own result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from dancu.apps.public_services.models import (
    DrivingLicence,
    HealthInsuranceCard,
    InsurancePeriod,
    TrafficFine,
)
from dancu.apps.public_services.registry_link import (
    PURPOSE,
    SELF_PREFIX,
    SYSTEM,
    RegistryUnavailable,
    answer_rule,
    signed_in,
)
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.exchange.providers import Answer
from dancu.errors import DomainValidationError, NotFound

UI_WINDOW_MONTHS = 24  # Law on Employment 2013 Art. 49 cl. 2: 12 months paid within the last 24
_NUMBER = re.compile(r"^[A-Za-z0-9./-]{1,30}\Z")
_ID = re.compile(r"^\d{12}\Z")


@dataclass(frozen=True)
class SectorService:
    code: str  # the service code under the owner's subsystem
    handler: str  # the in-process provider's name
    owner_code: str  # the owning organisation (and member) code
    owner_name: str
    owner_kind: str
    subsystem: str
    title_vi: str
    title_en: str
    legal_basis: str
    fields: tuple[str, ...]


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def ui_months(id_number: str, end: date) -> int:
    """Months of unemployment insurance paid in the 24 months up to the month of ``end``."""
    last = _month_index(end)
    first = last - UI_WINDOW_MONTHS + 1
    months: set[int] = set()
    for p in InsurancePeriod.objects.filter(id_number=id_number, unemployment=True):
        months.update(
            range(max(first, _month_index(p.start_month)), min(last, _month_index(p.end_month)) + 1)
        )
    return len(months)


def _end_user(ctx: AccessContext) -> str:
    """The ID number of the citizen the client acts for, only when the platform verified them
    (``Actor.verified_end_user``: the gateway checked the citizen's access token, or the portal
    vouched for its signed-in citizen; ADR 0010 §22); empty otherwise — a bare ``X-End-User:
    citizen:…`` is the client's word and opens no one's records."""
    verified = ctx.actor.verified_end_user
    if verified is None or ctx.actor.end_user != f"{SELF_PREFIX}{verified.id_number}":
        return ""
    return verified.id_number


def _key(path: str, field: str) -> str:
    value = path.strip("/")
    if not _NUMBER.match(value):
        raise DomainValidationError.single(field, "format", "1–30 letters, digits or . / -")
    return value


def traffic_fine(ctx: AccessContext, params: Mapping[str, Any], path: str) -> Answer:
    """A traffic-fine decision (Decree 168/2024/NĐ-CP) addressed to the citizen the client acts
    for, by decision number; another person's decision is not found (no enumeration)."""
    number = _key(path, "decision_number")
    fine = TrafficFine.objects.filter(decision_number=number).first()
    if fine is None or fine.id_number != _end_user(ctx):
        raise NotFound("no such decision addressed to the end user", field="decision_number")
    data = {
        "decision_number": fine.decision_number,
        "id_number": fine.id_number,
        "plate": fine.plate,
        "violation": fine.violation,
        "legal_basis": fine.legal_basis,
        "amount_vnd": fine.amount_vnd,
        "decided_on": fine.decided_on.isoformat(),
        "status": fine.status,
    }
    return Answer(data=data, subjects=[])


def driving_licence(ctx: AccessContext, params: Mapping[str, Any], path: str) -> Answer:
    """A valid driving licence (Circular 35/2024/TT-BGTVT) of the citizen the client acts for, by
    licence number; another person's, or a replaced one, is not found."""
    number = _key(path, "licence_number")
    lic = DrivingLicence.objects.filter(licence_number=number, status=DrivingLicence.Status.VALID).first()
    if lic is None or lic.id_number != _end_user(ctx):
        raise NotFound("no such valid licence of the end user", field="licence_number")
    data = {
        "licence_number": lic.licence_number,
        "id_number": lic.id_number,
        "licence_class": lic.licence_class,
        "issued_on": lic.issued_on.isoformat(),
        "expires_on": lic.expires_on.isoformat() if lic.expires_on else None,
        "status": lic.status,
    }
    return Answer(data=data, subjects=[])


def unemployment_insurance(ctx: AccessContext, params: Mapping[str, Any], path: str) -> Answer:
    """Months of unemployment insurance the citizen the client acts for paid in the 24 months up
    to a date (Law on Employment 2013 Art. 49): path ``<ID number>/<YYYY-MM-DD>``; the end user's
    own only (a count, never the employers or salaries)."""
    id_number, _, until = path.strip("/").partition("/")
    if not _ID.match(id_number) or id_number != _end_user(ctx):
        raise NotFound("contributions are given only for the end user", field="id_number")
    try:
        end = date.fromisoformat(until)
    except ValueError:
        raise DomainValidationError.single("until", "date", "give the date as YYYY-MM-DD") from None
    data = {"id_number": id_number, "until": end.isoformat(), "months_paid": ui_months(id_number, end)}
    return Answer(data=data, subjects=[])


def household_health_insurance(ctx: AccessContext, params: Mapping[str, Any], path: str) -> Answer:
    """The household-kind health-insurance cards of the living members of the household of the
    citizen the client acts for (Law on Health Insurance 2008 Art. 12 cl. 5: renewed together):
    path ``<ID number>``, the end user's own household only. The members are read from the
    population registry with the caller's context (purpose and jurisdiction checked, each member's
    read recorded on their history); the answer is card numbers, never the members' data."""
    from dancu.blocks.registry import services as registry

    id_number = path.strip("/")
    if not _ID.match(id_number) or id_number != _end_user(ctx):
        raise NotFound("cards are given only for the end user's household", field="id_number")
    alive = [m for m in registry.household_members(ctx, id_number) if m.life_status == "alive"]
    cards = HealthInsuranceCard.objects.filter(
        id_number__in=[m.id_number for m in alive], kind=HealthInsuranceCard.Kind.HOUSEHOLD
    )
    data = {"id_number": id_number, "cards": [c.card_number for c in cards.order_by("pk")]}
    # Every member whose card number the answer carries is a subject (their data tracker shows it).
    return Answer(data=data, subjects=[m.citizen_id for m in alive])


SERVICES: dict[str, SectorService] = {
    s.code: s
    for s in (
        SectorService(
            "traffic-fines",
            "public_services.traffic_fines",
            "CA-HN",
            "Công an thành phố Hà Nội",
            "police_city",
            "XLVPHC",
            "Quyết định xử phạt vi phạm hành chính giao thông của người nộp",
            "The applicant's traffic-fine decision",
            "Luật Xử lý vi phạm hành chính 2012; Nghị định 168/2024/NĐ-CP",
            (
                "decision_number",
                "id_number",
                "plate",
                "violation",
                "legal_basis",
                "amount_vnd",
                "decided_on",
                "status",
            ),
        ),
        SectorService(
            "driving-licences",
            "public_services.driving_licences",
            "SO-XAYDUNG",
            "Sở Xây dựng thành phố Hà Nội",
            "department",
            "GPLX",
            "Giấy phép lái xe còn giá trị của người nộp",
            "The applicant's valid driving licence",
            "Thông tư 35/2024/TT-BGTVT",
            ("licence_number", "id_number", "licence_class", "issued_on", "expires_on", "status"),
        ),
        SectorService(
            "unemployment-insurance",
            "public_services.unemployment_insurance",
            "BHXH-HN",
            "Bảo hiểm xã hội thành phố Hà Nội",
            "department",
            "BHTN",
            "Số tháng đóng bảo hiểm thất nghiệp của người nộp",
            "The applicant's months of unemployment insurance",
            "Luật Việc làm 2013 Điều 49",
            ("id_number", "until", "months_paid"),
        ),
        SectorService(
            "household-health-insurance",
            "public_services.household_health_insurance",
            "BHXH-HN",
            "Bảo hiểm xã hội thành phố Hà Nội",
            "department",
            "BHYT",
            "Thẻ BHYT hộ gia đình của hộ người nộp",
            "The household health-insurance cards of the applicant's household",
            "Luật Bảo hiểm y tế 2008 Điều 12 khoản 5",
            ("id_number", "cards"),
        ),
    )
}
HANDLERS = {
    "public_services.traffic_fines": traffic_fine,
    "public_services.driving_licences": driving_licence,
    "public_services.unemployment_insurance": unemployment_insurance,
    "public_services.household_health_insurance": household_health_insurance,
}


def register_handlers() -> None:
    """Add the stand-in registers to the gateway's in-process providers (``AppConfig.ready``)."""
    from dancu.blocks.exchange import providers
    from dancu.blocks.exchange import services as ex

    for name, handler in HANDLERS.items():
        if providers.HANDLERS.get(name) is not handler:
            ex.register_handler(name, handler)


def provider_identifier(service: SectorService) -> str:
    from dancu.blocks.exchange import services as ex

    return f"{ex.instance()}/GOV/{service.owner_code}/{service.subsystem}"


def publish() -> dict[str, str]:
    """Publish the stand-in registers under their owners' members (created if missing) — the
    operator's step; returns service code → full service identifier (for the portal's grants)."""
    from dancu.blocks.audit.context import Actor
    from dancu.blocks.exchange import services as ex
    from dancu.blocks.exchange.models import Member, Subsystem
    from dancu.blocks.organisations.models import Organisation

    operator = Actor.system("public-services sector registers")
    register_handlers()
    out = {}
    for s in SERVICES.values():
        org, _ = Organisation.objects.get_or_create(
            code=s.owner_code,
            defaults={"name": s.owner_name, "kind": s.owner_kind, "jurisdiction_province_code": "01"},
        )
        member = Member.objects.filter(
            instance=ex.instance(), member_class="GOV", member_code=s.owner_code
        ).first() or ex.create_member(
            operator, member_class="GOV", member_code=s.owner_code, name=org.name, organisation=org
        )
        sub = Subsystem.objects.filter(member=member, code=s.subsystem).first() or ex.create_subsystem(
            operator, member, code=s.subsystem, name=f"Hệ thống {s.title_vi}"
        )
        svc = ex.publish_in_process_service(
            operator,
            sub,
            code=s.code,
            handler=s.handler,
            title_vi=s.title_vi,
            title_en=s.title_en,
            legal_basis=s.legal_basis,
            fields_by_purpose={PURPOSE: list(s.fields)},
        )
        out[s.code] = svc.identifier
    return out


def fetch(code: str, key: str, id_number: str, case_reference: str) -> dict[str, Any] | None:
    """The record ``key`` of register ``code`` about the citizen ``id_number`` (the end user),
    read through the gateway with the portal's connection; None when the register has none for
    them; :class:`registry_link.RegistryUnavailable` for every other failure."""
    from dancu.apps.gateway_client import client as gateway_client
    from dancu.apps.public_services.registry_link import portal_organisation_id

    service = SERVICES[code]
    org_id = portal_organisation_id()
    if org_id is None:
        raise RegistryUnavailable("the portal's organisation is not set up", rule="not_connected")
    try:
        reply = gateway_client.call(
            org_id,
            SYSTEM,
            code,
            key,
            purpose=PURPOSE,
            end_user=f"{SELF_PREFIX}{id_number}",
            case_reference=case_reference[:100],
            provider=provider_identifier(service),
            verified_end_user=signed_in(id_number),
        )
    except NotFound:
        raise RegistryUnavailable(
            "the portal has no data-exchange connection", rule="not_connected"
        ) from None
    if reply.status == 200 and isinstance(reply.body.get("data"), dict):
        data: dict[str, Any] = reply.body["data"]
        if data.get("id_number") != id_number:
            raise RegistryUnavailable(
                "the register answered about another person", status=502, rule="garbled"
            )
        return data
    if reply.status == 404 and answer_rule(reply.body) == "not_found":
        return None
    raise RegistryUnavailable(
        f"the {code} register could not be read through the gateway",
        status=reply.status,
        rule=answer_rule(reply.body),
    )
