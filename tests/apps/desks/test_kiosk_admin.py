"""Kiosks in the Django admin (model 7): a platform administrator registers the self-service
kiosk of Phòng khám Đa khoa Hồng Ngọc, sees its device key once with the enrolment link, issues
a new key when one is lost (the old one stops working at once) and revokes a kiosk. Kiosks are
for clinics only; clinic staff without admin rights cannot reach these pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from dancu.apps.desks import services
from dancu.apps.desks.models import KioskDevice
from dancu.blocks.organisations.models import Organisation
from tests.conftest import Person

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/desks/kioskdevice/"
KEY = re.compile(r"kd_[0-9a-f]+_[A-Za-z0-9_-]+")


@pytest.fixture
def administrator(client: Client, django_user_model: Any) -> Client:
    root = django_user_model.objects.create_superuser("root", password="long-enough-password-1")
    client.force_login(root)
    return client


def _key_on(html: str) -> str:
    found = KEY.findall(html)
    assert found, html[:2000]
    return found[0]


def test_administrator_registers_a_kiosk_and_sees_its_key_once(
    administrator: Client, clinic_clerk: Person
) -> None:
    clinic = Organisation.objects.get(code="PK-HONGNGOC")
    response = administrator.post(f"{CHANGELIST}add/", {"organisation": clinic.pk, "name": "Sảnh tầng 1"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    key = _key_on(html)
    assert "http://testserver/desks/kiosk/enrol/<" in html  # the enrolment page, without the key
    assert f"/desks/kiosk/enrol/{key}" not in html
    device = KioskDevice.objects.get()
    assert (device.name, device.organisation_id, device.created_by) == ("Sảnh tầng 1", clinic.pk, "root")
    assert key not in device.secret_sha256 and services.authenticate_kiosk(key).device_id == device.pk
    assert LogEntry.objects.filter(object_id=str(device.pk)).exists()
    assert key not in administrator.get(f"{CHANGELIST}{device.pk}/change/").content.decode()  # once


def test_kiosks_are_registered_for_active_clinics_only(
    administrator: Client, clinic_clerk: Person, notary_clerk: Person
) -> None:
    notary = Organisation.objects.get(code="CC-TAYHO")
    response = administrator.post(f"{CHANGELIST}add/", {"organisation": notary.pk, "name": "Quầy"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    Organisation.objects.filter(code="PK-HONGNGOC").update(active=False)
    clinic = Organisation.objects.get(code="PK-HONGNGOC")
    response = administrator.post(f"{CHANGELIST}add/", {"organisation": clinic.pk, "name": "Sảnh"})
    assert "errorlist" in response.content.decode()
    assert not KioskDevice.objects.exists()


def test_a_new_key_replaces_the_old_one_at_once(administrator: Client, clinic_clerk: Person) -> None:
    old = services.register_kiosk("PK-HONGNGOC", "Sảnh tầng 1")
    response = administrator.post(CHANGELIST, {"action": "issue_key", "_selected_action": [old.device_id]})
    assert response.status_code == 200
    new_key = _key_on(response.content.decode())
    assert new_key != old.key
    with pytest.raises(services.KioskRejected):
        services.authenticate_kiosk(old.key)
    assert services.authenticate_kiosk(new_key).device_id == old.device_id


def test_administrator_revokes_a_kiosk_and_may_enrol_it_again(
    administrator: Client, clinic_clerk: Person
) -> None:
    issued = services.register_kiosk("PK-HONGNGOC", "Sảnh tầng 1")
    response = administrator.post(CHANGELIST, {"action": "revoke", "_selected_action": [issued.device_id]})
    assert response.status_code == 302
    with pytest.raises(services.KioskRejected) as exc:
        services.authenticate_kiosk(issued.key)
    assert exc.value.rule == "revoked"
    assert KioskDevice.objects.get().revoked_at is not None
    again = administrator.post(CHANGELIST, {"action": "issue_key", "_selected_action": [issued.device_id]})
    assert services.authenticate_kiosk(_key_on(again.content.decode())).device_id == issued.device_id


def test_a_kiosk_is_revoked_not_deleted(administrator: Client, clinic_clerk: Person) -> None:
    issued = services.register_kiosk("PK-HONGNGOC", "Sảnh tầng 1")
    assert administrator.get(f"{CHANGELIST}{issued.device_id}/delete/").status_code == 403


def test_clinic_staff_cannot_administer_kiosks(
    logged_in: Callable[[Person], Client], clinic_clerk: Person
) -> None:
    issued = services.register_kiosk("PK-HONGNGOC", "Sảnh tầng 1")
    client = logged_in(clinic_clerk)
    response = client.post(CHANGELIST, {"action": "issue_key", "_selected_action": [issued.device_id]})
    assert response.status_code == 302 and "login" in response["Location"]  # the log-in page
    assert services.authenticate_kiosk(issued.key).device_id == issued.device_id  # unchanged
