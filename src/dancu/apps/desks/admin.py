"""Django admin for the self-service kiosks of clinics (model 7). No personal data here.

Administrators register a kiosk (add form: its clinic and a name), issue a new device key for
selected kiosks, or revoke them. A key is shown once, on the page that follows, with the link
that enrols the kiosk's browser; only the SHA-256 of its secret is stored, never shown. Changes
are kept in Django's admin log (who issued or revoked which kiosk, when).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import admin

from dancu.apps.desks import services
from dancu.apps.desks.models import KioskDevice
from dancu.blocks.organisations.device_admin import DeviceAddForm, DeviceAdmin
from dancu.blocks.organisations.devices import IssuedDevice


class KioskAddForm(DeviceAddForm):
    """A new kiosk: an active clinic and a name; the key is issued when it is saved."""

    organisation_kinds = services.CLINIC_KINDS
    organisation_help = "Chỉ phòng khám, bệnh viện đang hoạt động / Active clinics only"

    class Meta:
        model = KioskDevice
        fields = ("organisation", "name")


@admin.register(KioskDevice)
class KioskDeviceAdmin(DeviceAdmin):
    """Encounters keep the kiosk that opened them: kiosks are revoked, never deleted."""

    add_form = KioskAddForm
    enrol_url_name = "desks:kiosk-enrol"
    organisation_header = "Cơ sở / Clinic"

    def register_device(self, organisation_code: str, name: str, *, created_by: str) -> IssuedDevice:
        return services.register_kiosk(organisation_code, name, created_by=created_by)

    def reissue_device(self, device_id: int, *, issued_by: str) -> IssuedDevice:
        return services.reissue_kiosk_key(device_id, issued_by=issued_by)

    def revoke_device(self, prefix: str, *, now: datetime) -> bool:
        return services.revoke_kiosk(prefix, now=now)
