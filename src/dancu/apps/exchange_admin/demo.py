"""Demo data of the data exchange (``dancu demo``): the registry published as a provider by Công an
thành phố Hà Nội, and two client members — Sở Lao động – Thương binh và Xã hội Hà Nội and Bảo hiểm
xã hội thành phố Hà Nội — each with an administrator (password ``dancu-demo-2026``), a subsystem
and an approved grant. Idempotent; each run issues fresh client credentials and returns them
(shown in the demo banner: demo only)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from dancu.blocks.audit.context import Actor
from dancu.blocks.exchange import services as ex
from dancu.blocks.exchange.models import Grant, Member, Subsystem
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import actor_for, add_member

DEMO_PASSWORD = "dancu-demo-2026"  # noqa: S105 (demo accounts only, documented)
PROVINCE = "01"
CLIENTS = (
    # organisation code, name, admin username, subsystem, service, purposes and fields
    (
        "BHXH-HN",
        "Bảo hiểm xã hội thành phố Hà Nội",
        "quantri.bhxh",
        "TIEPNHAN",
        "citizen",
        {"public_service.processing": ["id_number", "full_name", "date_of_birth", "sex", "life_status"]},
    ),
    (
        "SLDTBXH-HN",
        "Sở Lao động – Thương binh và Xã hội Hà Nội",
        "quantri.soldtbxh",
        "ANSINH",
        "life-status",
        {"public_service.processing": ["id_number", "full_name", "life_status", "date_of_death"]},
    ),
)


def _member(operator: Actor, org: Organisation, member_code: str) -> Member:
    found = Member.objects.filter(instance=ex.instance(), member_class="GOV", member_code=member_code).first()
    return found or ex.create_member(
        operator, member_class="GOV", member_code=member_code, name=org.name, organisation=org
    )


def _subsystem(operator: Actor, member: Member, code: str, name: str) -> Subsystem:
    return Subsystem.objects.filter(member=member, code=code).first() or ex.create_subsystem(
        operator, member, code=code, name=name
    )


def seed_demo() -> list[tuple[str, str]]:
    """Create the demo members, subsystems, services and grants; (username, description) pairs."""
    users = get_user_model()
    operator = Actor.system("demo-exchange")
    police, _ = Organisation.objects.get_or_create(
        code="CA-HN",
        defaults={
            "name": "Công an thành phố Hà Nội",
            "kind": "police_city",
            "jurisdiction_province_code": PROVINCE,
        },
    )
    registry = _subsystem(
        operator, _member(operator, police, "CA-HN"), "DANCU-REGISTRY", "CSDL quốc gia về dân cư"
    )
    services = {s.code: s for s in ex.publish_registry_services(operator, registry)}
    provider_admin = users.objects.filter(username="quantri.dancu").first()
    approver = actor_for(provider_admin, police.pk) if provider_admin is not None else operator
    out = [
        ("quantri.dancu", "Exchange: approves grants on the registry's services (/exchange-admin/grants/)")
    ]
    for code, name, username, sub_code, service_code, purposes in CLIENTS:
        org, _ = Organisation.objects.get_or_create(
            code=code, defaults={"name": name, "kind": "department", "jurisdiction_province_code": PROVINCE}
        )
        user, created = users.objects.get_or_create(username=username)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        add_member(user, org, "admin")
        admin = actor_for(user, org.pk)
        sub = _subsystem(operator, _member(operator, org, code), sub_code, f"Hệ thống của {name}")
        service = services[service_code]
        if not Grant.objects.filter(client=sub, service=service, status=Grant.Status.APPROVED).exists():
            now = timezone.now()
            g = ex.request_grant(
                admin,
                client=sub,
                service=service,
                purposes=purposes,
                legal_basis="Nghị định 47/2020/NĐ-CP; Quyết định 06/QĐ-TTg 2022",
                valid_from=now - timedelta(minutes=1),
                valid_until=now + timedelta(days=365),
            )
            ex.approve_grant(approver, g.pk)
        token = ex.issue_credential(admin, sub).token
        out.append((username, f"Exchange client {sub.identifier} (/exchange-admin/try/), credential {token}"))
    return out
