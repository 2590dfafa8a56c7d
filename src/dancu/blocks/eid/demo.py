"""Demo eID accounts (``dancu demo`` only): two residents of Phường Tây Hồ registered through the
registry service, one with a level-1 account and one with a level-2 account and an authenticator
app whose secret is printed. Idempotent."""

from __future__ import annotations

from datetime import date

import pyotp
from django.contrib.auth import get_user_model
from django.utils import timezone

from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.eid import crypto
from dancu.blocks.eid.models import Account, TotpDevice
from dancu.blocks.registry import services as registry
from dancu.errors import NotFound

ADDRESS = "Số 12 ngõ 52 phố Tô Ngọc Vân, Phường Quảng An, Quận Tây Hồ, Hà Nội"
# id number, name, born, sex, phone, level
PEOPLE = (
    ("001190099001", "Phạm Thị Lan", date(1990, 5, 14), "F", "0912000001", 1),
    ("001088099002", "Lê Văn Minh", date(1988, 11, 3), "M", "0912000002", 2),
)
TOTP_SECRET = "JBSWY3DPEHPK3PXPDANCUDEMOTWOSIXA"  # noqa: S105 — demo only, printed on purpose


def seed_demo(password: str) -> list[tuple[str, str]]:
    """Create the demo citizens and accounts; returns (log-in, description) pairs."""
    system = Actor.system("dancu demo")
    out: list[tuple[str, str]] = []
    users = get_user_model()
    for id_number, name, born, sex, phone, level in PEOPLE:
        try:
            view = registry.get_by_id_number(AccessContext(system, "registry.lookup"), id_number)
        except NotFound:
            view = registry.register_citizen(
                AccessContext(system, "registry.administration"),
                registry.NewCitizen(
                    id_number=id_number,
                    full_name=name,
                    date_of_birth=born,
                    sex=sex,
                    permanent_address_text=ADDRESS,
                ),
                reason="Dữ liệu trình diễn",
                legal_basis="Luật Cư trú 2020",
            )
        user = users.objects.filter(username=id_number).first()
        if user is None:
            user = users.objects.create_user(username=id_number, password=password)
        Account.objects.update_or_create(
            id_number=id_number,
            defaults={
                "user": user,
                "citizen_id": view.citizen_id,
                "ward_code": "00103",
                "level": level,
                "status": Account.Status.ACTIVE,
                "phone": phone,
                "phone_verified_at": timezone.now(),
                "level2_at": timezone.now() if level == 2 else None,
                "level2_by_label": "dancu demo" if level == 2 else "",
                "level2_organisation_name": "Công an phường Tây Hồ" if level == 2 else "",
            },
        )
        description = f"Công dân {name}, tài khoản định danh mức {level} (/eid/me/)"
        if level == 2:
            TotpDevice.objects.update_or_create(
                user=user,
                defaults={
                    "secret_sealed": crypto.seal(TOTP_SECRET, f"totp:{user.pk}"),
                    "confirmed_at": timezone.now(),
                    "last_counter": -1,
                },
            )
            uri = pyotp.TOTP(TOTP_SECRET).provisioning_uri(name=id_number, issuer_name="dancu")
            description += f"; TOTP secret {TOTP_SECRET} ({uri})"
        out.append((id_number, description))
    out.append(("canbo.tayho", "eID desk: approve level-1 applications, activate level 2 (/eid-desk/)"))
    out.append(_demo_foreign_resident())
    from django.conf import settings

    out.append(
        (
            "SMS / e-mail",
            f"one-time codes of the demo are written to {settings.DANCU_OUTBOX_DIR}/outbox.jsonl",
        )
    )
    return out


def _demo_foreign_resident() -> tuple[str, str]:
    """Anna Schmidt (Germany), temporary residence card, Phường Tây Hồ: registers at
    ``/eid/register/foreigner/`` with the printed MRZ (ADR 0017)."""
    from datetime import timedelta

    from dancu.blocks.eid.foreigners import ForeignResidentInput, record_foreign_resident
    from dancu.blocks.identity.mrz import MrzTD3

    today = timezone.localdate()
    born, expires = date(1990, 7, 15), today.replace(day=1) + timedelta(days=4 * 365)
    record_foreign_resident(
        ForeignResidentInput(
            nationality="DEU",
            passport_number="C01X00T47",
            passport_expires_on=expires,
            surname="SCHMIDT",
            given_names="ANNA MARIA",
            date_of_birth=born,
            sex="F",
            card_kind="temporary",
            card_number="TT2025-00123",
            card_valid_from=today - timedelta(days=300),
            card_valid_until=today + timedelta(days=700),
            ward_code="00103",
        )
    )
    lines = MrzTD3(
        document_code="P",
        issuing_state="D",
        document_number="C01X00T47",
        date_of_birth=born,
        sex="F",
        date_of_expiry=expires,
        nationality="DEU",
        primary_identifier="SCHMIDT",
        secondary_identifier="ANNA MARIA",
    ).lines
    return (
        "DEUC01X00T47",
        "Foreign resident Anna Schmidt: register at /eid/register/foreigner/ with residence card "
        f"TT2025-00123 and the passport MRZ {lines[0]} / {lines[1]}",
    )
