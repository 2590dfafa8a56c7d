"""The demo's self-service kiosk of the one-stop office of UBND phường Tây Hồ (model 2, ADR 0013):
registered once; its key is printed only in the run that creates it (open ``/kiosk/ghi-danh/`` in
the kiosk's browser and enter it). Idempotent."""

from __future__ import annotations

from dancu.apps.kiosk import services
from dancu.apps.kiosk.models import OfficeKiosk

OFFICE_CODE = "UBND-P-TAYHO"
KIOSK_NAME = "Ki-ốt một cửa UBND phường Tây Hồ (demo)"


def seed_demo() -> list[tuple[str, str]]:
    """Register the demo office kiosk (once); returns (name, description) lines for the banner."""
    exists = OfficeKiosk.objects.filter(
        organisation__code=OFFICE_CODE, name=KIOSK_NAME, revoked_at__isnull=True
    ).exists()
    if exists:
        return [("ki-ot", "One-stop office kiosk /kiosk/ already registered (key shown only when created)")]
    issued = services.register_kiosk(OFFICE_CODE, KIOSK_NAME, created_by="demo")
    return [
        (
            f"ki-ot {issued.prefix}",
            f"One-stop office kiosk: open /kiosk/ghi-danh/ and enter the key {issued.key}; "
            "dashboard /danh-gia-dvc/ (canbo.ubnd)",
        )
    ]
