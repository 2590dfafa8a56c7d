"""Offline queue upload: the desk of Khách sạn Hòa Bình lost its connection at 21:00 and captured
two check-ins; uploaded after the 23:00 deadline, they count as notified when captured (on time),
each under its own key, and a retry of the upload stores nothing twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dancu.apps.residence import services
from dancu.apps.residence.models import Stay
from tests.apps.residence.conftest import AN_QR, CLAIRE_PASSPORT, an_by_qr, at
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("residents")
NOTIFY = "residence.notification"


def items() -> list[services.OfflineItem]:
    arrival = at(2026, 11, 29, 20, 30)
    base = services.CheckIn(
        guests=(an_by_qr(),),
        room="301",
        arrival=arrival,
        expected_departure=arrival + timedelta(days=2),
        captured_at=at(2026, 11, 29, 21, 0),
    )
    claire = replace(base, guests=(services.ForeignGuest(CLAIRE_PASSPORT),), room="302")
    return [services.OfflineItem("off-1", base), services.OfflineItem("off-2", claire)]


def test_captured_offline_notifications_are_on_time_and_a_retry_never_doubles(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    upload = at(2026, 11, 30, 9, 0)  # after the 23:00 deadline of the 29th
    rows = services.upload_offline(hotel_clerk.ctx(NOTIFY), items(), now=upload)
    assert [r.status for r in rows] == ["stored", "stored"]
    an = rows[0].stays[0]
    assert an.status == "on_time" and an.captured_offline and an.notified_at == at(2026, 11, 29, 21, 0)
    again = services.upload_offline(hotel_clerk.ctx(NOTIFY), items(), now=upload)
    assert [r.status for r in again] == ["replayed", "replayed"]
    assert Stay.objects.count() == 2


def test_bad_items_are_reported_one_by_one(hotel: services.EstablishmentView, hotel_clerk: Person) -> None:
    good, claire = items()
    old = replace(good.data, captured_at=at(2026, 11, 20, 21, 0))  # type: ignore[type-var]
    uncaptured = replace(claire.data, captured_at=None)  # type: ignore[type-var]
    rows = services.upload_offline(
        hotel_clerk.ctx(NOTIFY),
        [
            services.OfflineItem("off-old", old),
            services.OfflineItem("off-none", uncaptured),
            good,
            services.OfflineItem("off-1", claire.data),  # the same key twice
        ],
        now=at(2026, 11, 30, 9, 0),
    )
    assert [r.status for r in rows] == ["error", "error", "stored", "error"]
    assert rows[0].errors[0].field == "items[0].captured_at" and rows[0].errors[0].rule == "too_old"
    assert rows[1].errors[0].rule == "required"
    assert rows[3].errors[0].rule == "duplicate"
    assert Stay.objects.count() == 1


def test_the_api_uploads_the_offline_queue(
    client: Client, hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    client.force_login(hotel_clerk.user)
    now = timezone.now()
    item = {
        "idempotency_key": "off-api-1",
        "captured_at": (now - timedelta(minutes=30)).isoformat(),
        "room": "301",
        "arrival": (now - timedelta(hours=1)).isoformat(),
        "expected_departure": (now + timedelta(days=1)).isoformat(),
        "guests": [{"kind": "qr", "text": AN_QR}],
    }
    body = {"items": [item, {"idempotency_key": "off-api-2", "room": "1"}]}
    first = client.post(
        "/api/v1/residence/notifications/offline", body, content_type="application/json"
    ).json()
    assert (first["stored"], first["failed"]) == (1, 1)
    assert first["rows"][0]["stays"][0]["captured_offline"] is True
    again = client.post(
        "/api/v1/residence/notifications/offline", body, content_type="application/json"
    ).json()
    assert (again["stored"], again["replayed"]) == (0, 1)
    assert Stay.objects.count() == 1
