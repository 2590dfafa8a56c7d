"""Demo data of online public services: a temporary absence declaration of the demo citizen Phạm
Thị Lan (eID ``001190099001``, created by ``blocks/eid/demo.py``) waiting in the queue of Công an
phường Tây Hồ (``canbo.tayho``); civil-status dossiers go to UBND phường Tây Hồ (``canbo.ubnd``).
Citizens submit at /dich-vu-cong/, officials work at /dich-vu-cong/can-bo/. Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from dancu.apps.public_services import services

DEMO_CITIZEN = "001190099001"
DEMO_KEY = "demo-temporary-absence-0001"


def seed_demo() -> list[tuple[str, str]]:
    user = get_user_model().objects.filter(username=DEMO_CITIZEN).first()
    if user is not None:
        today = timezone.localdate()
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
