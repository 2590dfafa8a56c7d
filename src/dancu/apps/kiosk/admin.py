"""Django admin for the kiosks of one-stop offices (model 2): register (add form: the office and a
name), issue a new device key for selected kiosks, revoke. The key is shown once with its
enrolment link; only the SHA-256 of the secret is stored. Changes go to Django's admin log."""

from __future__ import annotations

from datetime import datetime

from django.contrib import admin

from dancu.apps.kiosk import services
from dancu.apps.kiosk.models import OfficeKiosk
from dancu.blocks.organisations.device_admin import DeviceAddForm, DeviceAdmin
from dancu.blocks.organisations.devices import IssuedDevice


class OfficeKioskAddForm(DeviceAddForm):
    organisation_kinds = services.OFFICE_KINDS
    organisation_help = "Công an, UBND cấp xã đang hoạt động / Active ward police or committees"

    class Meta:
        model = OfficeKiosk
        fields = ("organisation", "name")


@admin.register(OfficeKiosk)
class OfficeKioskAdmin(DeviceAdmin):
    """Submissions keep the kiosk that made them: kiosks are revoked, never deleted."""

    add_form = OfficeKioskAddForm
    enrol_url_name = "kiosk:enrol"
    organisation_header = "Cơ quan / Office"

    def register_device(self, organisation_code: str, name: str, *, created_by: str) -> IssuedDevice:
        return services.register_kiosk(organisation_code, name, created_by=created_by)

    def reissue_device(self, device_id: int, *, issued_by: str) -> IssuedDevice:
        return services.reissue_key(device_id, issued_by=issued_by)

    def revoke_device(self, prefix: str, *, now: datetime) -> bool:
        return services.revoke(prefix, now=now)
