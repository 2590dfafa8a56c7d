from __future__ import annotations

import cProfile
import io
import json
import pstats
import time
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dancu.apps.residence.models import Establishment
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import issue_api_key
from tests.apps.residence.conftest import AN_QR, MAI_QR
from tests.apps.residence.test_zz_counts_scratch import Count

pytestmark = pytest.mark.usefixtures("residents")


def test_prof(client: Client, hotel: Any) -> None:
    Establishment.objects.filter(pk=hotel.establishment_id).update(beds=100000, rooms=0)
    token = issue_api_key(Organisation.objects.get(pk=hotel.organisation_id), "PMS").token
    arrival = timezone.now() - timedelta(hours=1)

    def body(key: str, n: int) -> str:
        rows = [
            {
                "room": str(i % 50),
                "arrival": arrival.isoformat(),
                "expected_departure": (arrival + timedelta(days=2)).isoformat(),
                "reason": "Du lịch",
                "guests": [{"kind": "qr", "text": AN_QR if i % 2 else MAI_QR}],
            }
            for i in range(n)
        ]
        return json.dumps({"idempotency_key": key, "notifications": rows})

    def post(key: str, n: int) -> Any:
        r = client.post(
            "/api/v1/residence/notifications/batch",
            data=body(key, n),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert r.status_code == 200, r.content[:500]
        assert r.json()["stored"] == n, r.content[:1000]
        return r

    import gc

    post("warm", 50)
    gcs = []

    def cb(phase, info, _t=[0.0]):
        if phase == "start":
            _t[0] = time.perf_counter()
        else:
            gcs.append((info["generation"], time.perf_counter() - _t[0]))

    gc.callbacks.append(cb)
    t = time.perf_counter()
    post("timed", 500)
    print("\nWALL 500 rows", time.perf_counter() - t, "objects", len(gc.get_objects()))
    print("GC", len(gcs), sum(x[1] for x in gcs), [x for x in gcs if x[0] == 2])
    gc.freeze()
    gcs.clear()
    t = time.perf_counter()
    post("timed2", 500)
    print("\nWALL frozen 500 rows", time.perf_counter() - t)
    print("GC", len(gcs), sum(x[1] for x in gcs), [x for x in gcs if x[0] == 2])
    gc.callbacks.remove(cb)
    with Count() as c:
        post("count", 500)
    print("STATEMENTS", len(c.sql))
    pr = cProfile.Profile()
    pr.enable()
    post("prof", 500)
    pr.disable()
    s = io.StringIO()
    st = pstats.Stats(pr, stream=s)
    st.sort_stats("tottime").print_stats(35)
    st.sort_stats("cumulative").print_stats(60)
    print(s.getvalue())
    # single
    one = json.loads(body("x", 1))["notifications"][0]
    times = []
    for i in range(30):
        t = time.perf_counter()
        r = client.post(
            "/api/v1/residence/notifications",
            data=json.dumps({**one, "idempotency_key": f"s{i}"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        times.append(time.perf_counter() - t)
        assert r.status_code == 200, r.content
    times.sort()
    print("SINGLE median ms", times[15] * 1000)
    with Count() as c:
        client.post(
            "/api/v1/residence/notifications",
            data=json.dumps({**one, "idempotency_key": "sc"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
    print("SINGLE HTTP statements", len(c.sql))
    for q in c.sql:
        print("   ", q[:110])
