"""Demo data of the land office (``dancu demo``; model 34): Văn phòng Đăng ký đất đai Hà Nội
(``VPDKDD-HN``) with an officer ``canbo.datdai`` (password ``dancu-demo-2026``) and a register of
certificates in Tây Hồ typed the way old land books are (old CMND numbers, names without
diacritics, a day/month swap, an owner nobody knows), cleaned against the registry and imported:
its queue and proposed corrections wait at /dat-dai/. Idempotent."""

from __future__ import annotations

from dancu.apps.gateway_client import feedback
from dancu.apps.gateway_client.demo import (
    cleaned_demo_file,
    demo_user,
    seed_cleaning_service,
    seed_member,
)
from dancu.apps.land import services
from dancu.apps.land.models import LandOffice, LandRegister
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.linkage import services as linkage
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import actor_for
from dancu.blocks.registry import services as registry

HEADER = "Số GCN,Thửa đất,Tờ bản đồ,Họ tên chủ sử dụng,Số CMND/CCCD,Ngày sinh,Địa chỉ"
MAPPING = {
    "full_name": "Họ tên chủ sử dụng",
    "id_number": "Số CMND/CCCD",
    "date_of_birth": "Ngày sinh",
    "address": "Địa chỉ",
}


def seed_demo() -> list[tuple[str, str]]:
    org, _ = Organisation.objects.get_or_create(
        code="VPDKDD-HN",
        defaults={
            "name": "Văn phòng Đăng ký đất đai Hà Nội",
            "kind": "department",
            "jurisdiction_province_code": "01",
        },
    )
    LandOffice.objects.get_or_create(organisation_id=org.pk)
    user = demo_user("canbo.datdai", org, "officer")
    actor = actor_for(user, org.pk)
    # The land office's register system takes cleaning results back through the gateway (feedback).
    admin = demo_user("quantri.datdai", org, "admin")
    service = seed_cleaning_service()
    seed_member(
        org,
        actor_for(admin, org.pk),
        subsystem="DATDAI",
        system="land",
        grants={service: (linkage.PURPOSE, list(feedback.FIELDS))},
        legal_basis="Luật Đất đai 2024; Quyết định 06/QĐ-TTg 2022 (mô hình 34)",
    )
    if not LandRegister.objects.filter(organisation_id=org.pk).exists():
        ctx = AccessContext(actor, linkage.PURPOSE)
        people = [
            r
            for r in registry.cleaning_reference(ctx, job_reference="demo-land")
            if r.permanent_ward_code == "00103"
        ][:5]
        lines = [HEADER]
        for i, p in enumerate(people):
            number = p.old_id_numbers[0] if p.old_id_numbers and i % 2 else p.id_number
            born = p.date_of_birth.strftime(
                "%m/%d/%Y" if i == 2 and p.date_of_birth.day <= 12 else "%d/%m/%Y"
            )
            name = p.full_name.upper() if i == 1 else p.full_name
            lines.append(f'CS0{i + 1}234,{100 + i},12,{name},{number},{born},"{p.permanent_address_text}"')
        lines.append('CS09999,199,12,Hoàng Văn Vắng,,01/01/1950,"Phường Tây Hồ, Hà Nội"')
        content = ("\n".join(lines) + "\n").encode()
        job = cleaned_demo_file(ctx, "so-dia-chinh-tay-ho.csv", content, MAPPING)
        services.import_register(
            actor,
            job.job_id,
            title="Sổ địa chính phường Tây Hồ",
            certificate_column="Số GCN",
            parcel_column="Thửa đất",
        )
    return [("canbo.datdai", "Văn phòng Đăng ký đất đai: sổ địa chính đã làm sạch /dat-dai/")]
