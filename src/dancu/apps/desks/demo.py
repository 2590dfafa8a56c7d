"""Demo data of the desks: a clinic in Tây Hồ, a notary office and a pawn shop, one clerk each
(password ``dancu-demo-2026``), and a kiosk of the clinic. Idempotent: a second run changes
nothing but the kiosk key it prints (a new device is registered only when none exists)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from dancu.apps.desks import services
from dancu.apps.desks.models import KioskDevice
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import add_member, create_organisation

DEMO_PASSWORD = "dancu-demo-2026"  # noqa: S105 (demo accounts only, documented)
ORGANISATIONS = (
    # code, name, kind, ward, clerk username, description
    (
        "PK-TAYHO",
        "Phòng khám Đa khoa Tây Hồ",
        "clinic",
        "00103",
        "clerk.clinic",
        "Clinic check-in desk (/desks/clinic/)",
    ),
    ("CC-TAYHO", "Văn phòng công chứng Tây Hồ", "notary", "", "clerk.notary", "Notary desk (/desks/notary/)"),
    (
        "CD-PHATDAT",
        "Cửa hàng cầm đồ Phát Đạt",
        "pawn_shop",
        "",
        "clerk.pawn",
        "Pawn shop desk (/desks/business/)",
    ),
)
KIOSK_NAME = "Ki-ốt sảnh tầng 1"


def seed_demo() -> list[tuple[str, str]]:
    """Create the demo organisations, clerks and kiosk; returns (username, description) pairs
    (the kiosk's pair carries its enrolment path when it was created in this run)."""
    users = get_user_model()
    out: list[tuple[str, str]] = []
    for code, name, kind, ward, username, description in ORGANISATIONS:
        org = Organisation.objects.filter(code=code).first() or create_organisation(
            code=code, name=name, kind=kind, jurisdiction_province_code="01", jurisdiction_ward_code=ward
        )
        user = users.objects.filter(username=username).first()
        if user is None:
            user = users.objects.create_user(username=username, password=DEMO_PASSWORD)
        add_member(user, org, "clerk")
        out.append((username, f"{description} — {name}"))
    clinic = Organisation.objects.get(code="PK-TAYHO")
    if not KioskDevice.objects.filter(organisation=clinic, name=KIOSK_NAME, revoked_at__isnull=True).exists():
        issued = services.register_kiosk(clinic.code, KIOSK_NAME, created_by="demo")
        out.append(
            (
                f"kiosk {issued.prefix}",
                f"Self-service kiosk: open /desks/kiosk/enrol/ and enter the key {issued.key}",
            )
        )
    else:
        out.append(("kiosk", "Self-service kiosk already registered (key shown only when created)"))
    return out
