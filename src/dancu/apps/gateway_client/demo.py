"""Demo helper: make an organisation a member of the data-exchange gateway with one subsystem,
approved grants on the registry's services (each for one purpose and a least-data field set),
and store the issued credential in the application's gateway client. Idempotent; used by the
demo seeding of social loans (the bank), sector digitisation and land; and the demo files
those applications clean."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from dancu.apps.gateway_client import client
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.exchange import services as ex
from dancu.blocks.exchange.models import Grant, Member
from dancu.blocks.linkage import services as linkage
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import actor_for, add_member

DEMO_PASSWORD = "dancu-demo-2026"  # noqa: S105 (demo accounts only, documented)


def demo_user(username: str, org: Organisation, role: str) -> Any:
    """A demo account (password ``DEMO_PASSWORD``) with a membership of ``org`` in ``role``."""
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    add_member(user, org, role)
    return user


def registry_provider() -> str:
    """The registry's subsystem published by the exchange demo (Công an thành phố Hà Nội)."""
    return f"{ex.instance()}/GOV/CA-HN/DANCU-REGISTRY"


def seed_member(
    org: Organisation,
    admin: Actor,
    *,
    subsystem: str,
    system: str,
    grants: dict[str, tuple[str, list[str]]],
    legal_basis: str,
) -> str:
    """``grants``: registry service code (or a full service identifier) → (purpose, fields).
    Returns the client identifier."""
    operator = Actor.system("demo-gateway-client")
    inst = ex.instance()
    member = Member.objects.filter(instance=inst, member_class="GOV", member_code=org.code).first()
    member = member or ex.create_member(
        operator, member_class="GOV", member_code=org.code, name=org.name, organisation=org
    )
    client_id = f"{inst}/GOV/{org.code}/{subsystem}"
    sub = ex.find_subsystem(client_id) or ex.create_subsystem(
        operator, member, code=subsystem, name=f"Hệ thống của {org.name}"
    )
    provider_admin = get_user_model().objects.filter(username="quantri.dancu").first()
    police = Organisation.objects.filter(code="CA-HN").first()
    approver = operator
    if provider_admin is not None and police is not None:
        approver = actor_for(provider_admin, police.pk)
    now = timezone.now()
    for code, (purpose, fields) in grants.items():
        service = ex.find_service(code if "/" in code else f"{registry_provider()}/{code}")
        if service is None:
            raise RuntimeError("seed the exchange demo first (the registry's services)")
        if not Grant.objects.filter(client=sub, service=service, status=Grant.Status.APPROVED).exists():
            g = ex.request_grant(
                admin,
                client=sub,
                service=service,
                purposes={purpose: fields},
                legal_basis=legal_basis,
                valid_from=now - timedelta(minutes=1),
                valid_until=now + timedelta(days=365),
            )
            # The registry's administrator approves the registry's services; a service another
            # member provides (a sector register) is approved by the platform operator.
            provider = service.subsystem.member
            ex.approve_grant(approver if ex.administers(approver, provider) else operator, g.pk)
    token = ex.issue_credential(admin, sub).token
    client.connect(
        org.pk, system, client_identifier=client_id, provider_identifier=registry_provider(), credential=token
    )
    return client_id


def cleaned_demo_file(
    ctx: AccessContext, name: str, content: bytes, mapping: dict[str, str] | None = None
) -> linkage.JobView:
    """A demo sector file cleaned by a linkage job, reusing the job of an earlier (interrupted)
    run of the same file rather than uploading it twice (which the block refuses)."""
    job = next((j for j in linkage.list_jobs(ctx) if j.file_name == name and j.status != "failed"), None)
    job = job or linkage.upload(ctx, name, content)
    if job.status != "done":
        if mapping:
            linkage.set_mapping(ctx, job.job_id, mapping)
        job = linkage.start(ctx, job.job_id, background=False)
    return job


def seed_cleaning_service() -> str:
    """The platform's ``cleaning-results`` service (``feedback``) under subsystem ``LAMSACH`` of
    the registry's member (created by the exchange demo); its identifier."""
    from dancu.apps.gateway_client import feedback

    operator = Actor.system("demo-gateway-client")
    sub = ex.find_subsystem(feedback.cleaning_subsystem())
    if sub is None:
        member = Member.objects.get(instance=ex.instance(), member_class="GOV", member_code="CA-HN")
        sub = ex.create_subsystem(operator, member, code="LAMSACH", name="Dịch vụ làm sạch dữ liệu")
    return feedback.publish(operator, sub).identifier
