"""Demo data of online public services: a temporary absence declaration of the demo citizen Phạm
Thị Lan (eID ``001190099001``, created by ``blocks/eid/demo.py``) waiting in the queue of Công an
phường Tây Hồ (``canbo.tayho``); civil-status dossiers go to UBND phường Tây Hồ (``canbo.ubnd``).
Citizens submit at /dich-vu-cong/, officials work at /dich-vu-cong/can-bo/. The sector registers
get a camera fine and a class-B driving licence of the same citizen (to pay and exchange
online).

The city-level officials who decide the multi-step and city-level services (``catalogue.Step``):
the city police's check of a criminal record (``canbo.lltp``) and the Department of Justice that
issues it (``canbo.sotuphap``); the two sign-offs of an unemployment benefit in the Department of
Home Affairs — the employment service centre's review (``canbo.vieclam``), then the director's
decision (``giamdoc.sonoivu``); the Department of Construction for driving licences
(``canbo.soxaydung``). Their departments carry the codes the catalogue routes dossiers to
(``catalogue.agency_code``). Idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from dancu.apps.public_services import catalogue, registry_link, sector_registers, services
from dancu.apps.public_services.models import DrivingLicence, TrafficFine
from dancu.blocks.organisations.models import Membership, Organisation
from dancu.blocks.organisations.services import add_member

DEMO_CITIZEN = "001190099001"
DEMO_KEY = "demo-temporary-absence-0001"


@dataclass(frozen=True)
class DemoOfficial:
    username: str
    description: str
    kind: str  # the authority kind of the steps they decide
    agency: str = ""  # a city department's agency key (``catalogue.AGENCIES``)
    organisation_name: str = ""
    organisation_code: str = ""  # the city police's code; departments: from the agency


CITY_POLICE_CODE = "CA-HN"
OFFICIALS = (
    DemoOfficial(
        "canbo.lltp",
        "Công an thành phố: xác minh lý lịch tư pháp (bước 1) /dich-vu-cong/can-bo/",
        catalogue.POLICE_CITY,
        organisation_name="Công an thành phố Hà Nội",
        organisation_code=CITY_POLICE_CODE,
    ),
    DemoOfficial(
        "canbo.sotuphap",
        "Sở Tư pháp: cấp phiếu lý lịch tư pháp (bước 2) /dich-vu-cong/can-bo/",
        catalogue.DEPARTMENT,
        "justice",
        "Sở Tư pháp thành phố Hà Nội",
    ),
    DemoOfficial(
        "canbo.vieclam",
        "Sở Nội vụ, Trung tâm dịch vụ việc làm: thẩm định trợ cấp thất nghiệp (bước 1)",
        catalogue.DEPARTMENT,
        "home_affairs",
        "Sở Nội vụ thành phố Hà Nội",
    ),
    DemoOfficial(
        "giamdoc.sonoivu",
        "Giám đốc Sở Nội vụ: quyết định trợ cấp thất nghiệp (bước 2)",
        catalogue.DEPARTMENT,
        "home_affairs",
        "Sở Nội vụ thành phố Hà Nội",
    ),
    DemoOfficial(
        "canbo.soxaydung",
        "Sở Xây dựng: cấp đổi, cấp lại giấy phép lái xe /dich-vu-cong/can-bo/",
        catalogue.DEPARTMENT,
        "construction",
        "Sở Xây dựng thành phố Hà Nội",
    ),
)


def seed_officials(password: str) -> list[tuple[str, str]]:
    """The city police and department officials of :data:`OFFICIALS`, each an officer of their
    organisation (created with the city's jurisdiction if missing); returns (log-in, description)."""
    users = get_user_model()
    for official in OFFICIALS:
        code = official.organisation_code or catalogue.agency_code(official.agency)
        org, _ = Organisation.objects.get_or_create(
            code=code,
            defaults={
                "name": official.organisation_name,
                "kind": official.kind,
                "jurisdiction_province_code": settings.DANCU_CITY_PROVINCE_CODE,
            },
        )
        user = users.objects.filter(username=official.username).first()
        if user is None:
            user = users.objects.create_user(username=official.username, password=password)
        add_member(user, org, Membership.Role.OFFICER)
    return [(o.username, o.description) for o in OFFICIALS]


PORTAL_NAME = "Trung tâm Phục vụ hành chính công thành phố Hà Nội"
PORTAL_SUBSYSTEM = "CONG-DVC"
PORTAL_ADMIN = "quantri.dvc"


def connect_portal() -> str:
    """Make the portal's organisation (``DANCU_PUBLIC_SERVICES_PORTAL_ORG``) a member of the
    data-exchange gateway with subsystem ``CONG-DVC``, approved grants on the registry's
    ``applicant`` service and on the stand-in sector registers (``sector_registers.publish``) for
    ``public_service.processing`` (each catalogue's field set), and the
    issued credential stored as the portal's connection (``registry_link.SYSTEM``). Needs the
    registry's services published (the exchange demo). Returns the client identifier."""
    from dancu.apps.gateway_client.demo import demo_user, seed_member
    from dancu.blocks.exchange.providers import APPLICANT_FIELDS
    from dancu.blocks.organisations.services import actor_for

    org, _ = Organisation.objects.get_or_create(
        code=settings.DANCU_PUBLIC_SERVICES_PORTAL_ORG,
        defaults={
            "name": PORTAL_NAME,
            "kind": Organisation.Kind.DEPARTMENT,
            "jurisdiction_province_code": settings.DANCU_CITY_PROVINCE_CODE,
        },
    )
    admin = demo_user(PORTAL_ADMIN, org, Membership.Role.ADMIN)
    grants = {registry_link.SERVICE: (registry_link.PURPOSE, list(APPLICANT_FIELDS))}
    for code, identifier in sector_registers.publish().items():
        grants[identifier] = (registry_link.PURPOSE, list(sector_registers.SERVICES[code].fields))
    return seed_member(
        org,
        actor_for(admin, org.pk),
        subsystem=PORTAL_SUBSYSTEM,
        system=registry_link.SYSTEM,
        grants=grants,
        legal_basis="Nghị định 45/2020/NĐ-CP; Nghị định 107/2021/NĐ-CP; Quyết định 06/QĐ-TTg 2022",
    )


def seed_demo(password: str) -> list[tuple[str, str]]:
    officials = seed_officials(password)
    portal_client = connect_portal()
    user = get_user_model().objects.filter(username=DEMO_CITIZEN).first()
    today = timezone.localdate()
    TrafficFine.objects.get_or_create(
        decision_number="QD-DEMO-0001/2026",
        defaults={
            "id_number": DEMO_CITIZEN,
            "plate": "29A-999.01",
            "violation": "Không chấp hành hiệu lệnh của đèn tín hiệu giao thông",
            "legal_basis": "Nghị định 168/2024/NĐ-CP Điều 6",
            "amount_vnd": 4_000_000,
            "decided_on": today - timedelta(days=3),
        },
    )
    DrivingLicence.objects.get_or_create(
        licence_number="010190099001",
        defaults={
            "id_number": DEMO_CITIZEN,
            "licence_class": "B",
            "issued_on": today - timedelta(days=10 * 365 - 40),
            "expires_on": today + timedelta(days=40),
        },
    )
    if user is not None:
        services.submit(
            user.pk,
            "temporary-absence",
            {
                "absent_from": (today + timedelta(days=3)).strftime("%d/%m/%Y"),
                "absent_until": (today + timedelta(days=40)).strftime("%d/%m/%Y"),
                "destination": "Số 10 phố Hàng Bạc, Phường Hàng Bạc, Quận Hoàn Kiếm, Hà Nội",
                "reason": "Đi công tác dài ngày",
            },
            idempotency_key=DEMO_KEY,
        )
    return [
        (DEMO_CITIZEN, "Công dân: dịch vụ công trực tuyến /dich-vu-cong/ (đăng nhập /eid/login/)"),
        ("canbo.tayho", "Công an phường Tây Hồ: hồ sơ cư trú /dich-vu-cong/can-bo/"),
        ("canbo.ubnd", "UBND phường Tây Hồ: hồ sơ hộ tịch /dich-vu-cong/can-bo/"),
        (PORTAL_ADMIN, f"Cổng DVC trên trục liên thông: thành viên {portal_client} (/exchange-admin/)"),
        *officials,
    ]
