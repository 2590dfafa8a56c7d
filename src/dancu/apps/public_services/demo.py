"""Demo data of online public services: a temporary absence declaration of the demo citizen Phạm
Thị Lan (eID ``001190099001``, created by ``blocks/eid/demo.py``) waiting in the queue of Công an
phường Tây Hồ (``canbo.tayho``); civil-status dossiers go to UBND phường Tây Hồ (``canbo.ubnd``).
Citizens submit at /dich-vu-cong/, officials work at /dich-vu-cong/can-bo/. The sector registers
get a camera fine and a class-B driving licence of the same citizen (to pay and exchange
online). Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from dancu.apps.public_services import services
from dancu.apps.public_services.models import DrivingLicence, TrafficFine

DEMO_CITIZEN = "001190099001"
DEMO_KEY = "demo-temporary-absence-0001"


def seed_demo() -> list[tuple[str, str]]:
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
    ]
