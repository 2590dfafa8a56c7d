"""The demo registers one office kiosk at UBND phường Tây Hồ, once; its key (printed only when
created) enrols a browser as that kiosk."""

from __future__ import annotations

import re

import pytest

from dancu.apps.kiosk import demo, services
from dancu.apps.kiosk.models import OfficeKiosk
from dancu.blocks.organisations.models import Organisation

pytestmark = pytest.mark.django_db


def test_the_demo_registers_the_office_kiosk_once_and_its_key_works() -> None:
    office = Organisation.objects.create(
        code=demo.OFFICE_CODE,
        name="UBND phường Tây Hồ",
        kind="committee",
        jurisdiction_province_code="01",
        jurisdiction_ward_code="00103",
    )
    first = demo.seed_demo()
    again = demo.seed_demo()
    assert OfficeKiosk.objects.filter(name=demo.KIOSK_NAME).count() == 1
    key = re.search(r"enter the key (\S+);", first[0][1])
    assert key is not None and "/kiosk/ghi-danh/" in first[0][1]
    assert services.authenticate(key.group(1)).organisation_id == office.pk
    assert "key shown only when created" in again[0][1] and key.group(1) not in again[0][1]
