from __future__ import annotations

import cProfile
import gc
import importlib.util
import json
import pstats
import statistics
import time
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

import dancu.apps.residence as pkg
from dancu.apps.residence import batch_pg as new
from dancu.apps.residence.models import Establishment
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import issue_api_key
from tests.apps.residence.conftest import AN_QR, MAI_QR

pytestmark = pytest.mark.usefixtures("residents")

spec = importlib.util.spec_from_file_location("dancu.apps.residence.batch_pg_before", "/tmp/res6/before/src/dancu/apps/residence/batch_pg.py")
old = importlib.util.module_from_spec(spec)
spec.loader.exec_module(old)


def test_cpu(client: Client, hotel: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    Establishment.objects.filter(pk=hotel.establishment_id).update(beds=100000, rooms=0)
    token = issue_api_key(Organisation.objects.get(pk=hotel.organisation_id), "PMS").token
    arrival = timezone.now() - timedelta(hours=1)
    n = 500

    def body(key: str) -> str:
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

    def post(key: str) -> None:
        b = body(key)
        r = client.post("/api/v1/residence/notifications/batch", data=b,
                        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert r.status_code == 200 and r.json()["stored"] == n, r.content[:300]

    gc.collect()
    gc.freeze()
    results: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
    for rep in range(6):
        for name, mod in (("before", old), ("after", new)):
            monkeypatch.setattr(pkg, "batch_pg", mod)
            b = body(f"{name}-{rep}")
            c0, w0 = time.process_time(), time.perf_counter()
            r = client.post("/api/v1/residence/notifications/batch", data=b,
                            content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
            c1, w1 = time.process_time(), time.perf_counter()
            assert r.status_code == 200 and r.json()["stored"] == n
            results[name].append((c1 - c0, w1 - w0))
    for name, xs in results.items():
        cpu = sorted(x[0] for x in xs)
        wall = sorted(x[1] for x in xs)
        print(f"\n{name}: CPU ms/row min {cpu[0]/n*1000:.3f} median {statistics.median(cpu)/n*1000:.3f}; wall ms/row min {wall[0]/n*1000:.3f} median {statistics.median(wall)/n*1000:.3f}")
    for name, mod in (("before", old), ("after", new)):
        monkeypatch.setattr(pkg, "batch_pg", mod)
        pr = cProfile.Profile()
        b = body(f"prof-{name}")
        pr.enable()
        client.post("/api/v1/residence/notifications/batch", data=b,
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
        pr.disable()
        st = pstats.Stats(pr)
        print(name, "function calls per batch of", n, ":", st.total_calls, "primitive", st.prim_calls)
        if name == "after":
            pass
