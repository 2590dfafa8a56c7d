"""Demo data of sector digitisation (``dancu demo``; model 35): Sở Nội vụ thành phố Hà Nội
(``SO-NV``, labour since 2025) keeps the registry ``LAODONG`` 1.0 of workers; its administrator
``quantri.sonoivu`` defines registries at /so-hoa/, its officer ``canbo.sonoivu`` enters records
and its systems use ``/api/v1/sector/data/LAODONG/1.0/…`` (GovStack Digital Registries). The
department is a member of the data-exchange gateway with a grant on ``verify-identity`` (purpose
``identity.verification``) through which every record's person is verified. Idempotent."""

from __future__ import annotations

from dancu.apps.gateway_client.demo import demo_user, seed_member
from dancu.apps.sector import services
from dancu.apps.sector.models import SectorRegistry
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import actor_for

LABOUR_SCHEMA = [
    {"name": "Employer", "type": "string", "required": True, "label_vi": "Nơi làm việc"},
    {"name": "Occupation", "type": "string", "required": True, "label_vi": "Nghề nghiệp"},
    {"name": "ContractType", "type": "choice", "required": True, "label_vi": "Loại hợp đồng",
     "choices": ["indefinite", "fixed_term", "seasonal", "none"]},
    {"name": "StartDate", "type": "date", "required": False, "label_vi": "Ngày bắt đầu làm việc"},
    {"name": "SocialInsurance", "type": "boolean", "required": False, "label_vi": "Có đóng BHXH"},
]  # fmt: skip


def seed_sector_member(org: Organisation, admin_user: object) -> str:
    return seed_member(
        org,
        actor_for(admin_user, org.pk),
        subsystem="SOHOA",
        system=services.SYSTEM,
        grants={"verify-identity": (services.VERIFY_PURPOSE, ["decision", "match", "reasons"])},
        legal_basis="Nghị định 69/2024/NĐ-CP; Quyết định 06/QĐ-TTg 2022 (mô hình 35)",
    )


def seed_demo() -> list[tuple[str, str]]:
    org, _ = Organisation.objects.get_or_create(
        code="SO-NV",
        defaults={
            "name": "Sở Nội vụ thành phố Hà Nội",
            "kind": "department",
            "jurisdiction_province_code": "01",
        },
    )
    admin = demo_user("quantri.sonoivu", org, "admin")
    client_id = seed_sector_member(org, admin)
    if not SectorRegistry.objects.filter(code="LAODONG").exists():
        services.define_registry(
            actor_for(admin, org.pk),
            code="LAODONG",
            version="1.0",
            name_vi="Cơ sở dữ liệu người lao động",
            name_en="Workers' registry",
            schema=LABOUR_SCHEMA,
        )
    return [
        ("quantri.sonoivu", f"Sở Nội vụ: định nghĩa sổ chuyên ngành /so-hoa/ (thành viên {client_id})"),
        ("canbo.sonoivu", "Sở Nội vụ: nhập người lao động /so-hoa/LAODONG/1.0/"),
    ]
