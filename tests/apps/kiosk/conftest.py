"""Fixtures of the kiosk and evaluation tests, and their named actors:

* ``an`` — Nguyễn Văn An of Phường Tây Hồ with his card (QR, chip) and a level-1 eID account
  whose phone (``AN_PHONE``, 0912345678) he confirmed; the kiosk's codes reach it (``outbox``)
* ``residents`` — also Huỳnh Thị Mai, whose card is valid but who has no eID account
* ``ward_police`` — officer of Công an phường Tây Hồ: the office where the kiosk stands, and an
  official who may evaluate that office only
* ``other_ward_police`` — officer of Công an phường Hoàn Kiếm: another office
* ``city_police`` — officer of Công an thành phố: evaluates every office (so does a department's
  statistics officer, made in the test)
* ``hotel_clerk``, ``outsider`` — may not open the dashboard
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from dancu.apps.kiosk import services
from dancu.apps.kiosk.views import COOKIE
from tests.apps.public_services.conftest import (  # noqa: F401 — fixtures used by the tests
    an,
    an_phone_on_record,
    an_registered,
    citizen_client,
    other_ward_police,
    outbox,
    pki,
    portal_on_gateway,
    receipt_key,
    residents,
    staff_client,
    trusted,
    ward_committee,
)
from tests.blocks.eid.conftest import AN_PHONE, Outbox
from tests.conftest import Person


@pytest.fixture
def kiosk_key(ward_police: Person) -> str:
    """A kiosk registered in Công an phường Tây Hồ; its device key."""
    return services.register_kiosk("CA-P-TAYHO", "Ki-ốt sảnh 1", created_by="admin").key


@pytest.fixture
def kiosk(client: Client, kiosk_key: str) -> Client:
    """The kiosk's browser, enrolled (its key in the cookie)."""
    client.cookies[COOKIE] = kiosk_key
    return client


def enter_code(kiosk: Client, code: str) -> Any:
    """The citizen taps the six digits on the kiosk's keypad and confirms."""
    return kiosk.post("/kiosk/ma-xac-thuc/", {"code": code})


@pytest.fixture
def identified(kiosk: Client, an: int, outbox: Outbox) -> Callable[..., Client]:  # noqa: F811
    """An has scanned his card's QR code at the kiosk and typed on its keypad the code that came
    to his phone (``code=False``: he has only scanned the QR)."""
    from tests.blocks.identity.conftest import AN_QR

    def scan(qr: str = AN_QR, *, code: bool = True) -> Client:
        response = kiosk.post("/kiosk/", {"method": "qr_text", "qr_text": qr})
        assert response.status_code == 302, response.content.decode()[:2000]
        assert response["Location"] == "/kiosk/ma-xac-thuc/"
        if code:
            confirmed = enter_code(kiosk, outbox.last_code(AN_PHONE))
            assert confirmed.status_code == 302 and confirmed["Location"] == "/kiosk/dich-vu/"
        return kiosk

    return scan


__all__ = ["Any"]
