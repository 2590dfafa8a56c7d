from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from dancu.apps.residence import services
from dancu.blocks.identity.services import QrEvidence
from tests.apps.residence.conftest import AN_QR, MAI_QR

pytestmark = pytest.mark.usefixtures("residents")


class Count:
    def __init__(self) -> None:
        self.sql: list[str] = []

    def __enter__(self) -> "Count":
        self.orig = psycopg.Cursor.execute
        me = self

        def execute(cur: Any, query: Any, params: Any = None, **kw: Any) -> Any:
            q = query if isinstance(query, str) else repr(query)
            me.sql.append(q)
            return me.orig(cur, query, params, **kw)

        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        return self

    def __exit__(self, *a: Any) -> None:
        psycopg.Cursor.execute = self.orig  # type: ignore[method-assign]


def _kind(q: str) -> str:
    w = q.split()
    return " ".join(w[:3])[:60]


def test_counts(hotel: Any, hotel_clerk: Any) -> None:
    now = timezone.now()
    arrival = now - timedelta(hours=1)
    ctx = hotel_clerk.ctx("residence.notification")

    def row(q: str, room: str) -> services.CheckIn:
        return services.CheckIn(
            guests=(services.CitizenGuest(QrEvidence(q)),),
            room=room,
            arrival=arrival,
            expected_departure=arrival + timedelta(days=2),
            reason="x",
        )

    rows: list[Any] = [row(AN_QR if i % 2 else MAI_QR, str(i % 9)) for i in range(4)]
    from dancu.apps.residence.models import Establishment
    Establishment.objects.filter(pk=hotel.establishment_id).update(beds=1000, rooms=0)
    services.check_in_batch(ctx, rows[:1], idempotency_key="warm", fingerprint="w", now=now)
    with Count() as c:
        services.check_in_batch(ctx, rows, idempotency_key="k1", fingerprint="a", now=now)
    print("\nBATCH of", len(rows), "statements:", len(c.sql))
    for k, v in Counter(_kind(q) for q in c.sql).most_common():
        print("  ", v, k)
    with Count() as c:
        services.check_in(ctx, row(AN_QR, "7"), idempotency_key="s1", now=now)
    print("SINGLE statements:", len(c.sql), "vendor", connection.vendor)
    for q in c.sql:
        print("  ", q[:150])
