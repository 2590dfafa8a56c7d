import cProfile, pstats, time
from typing import Any
import pytest
from django.utils import timezone
from dancu.apps.residence import services
from dancu.apps.residence.models import Establishment
from dancu.blocks.identity.services import QrEvidence
from tests.apps.residence.conftest import AN_QR, MAI_QR
from tests.apps.residence.test_batch_fast import _row

pytestmark = pytest.mark.usefixtures("residents")

def test_profile(hotel: Any, hotel_clerk: Any) -> None:
    Establishment.objects.filter(pk=hotel.establishment_id).update(rooms=100000, beds=100000)
    now = timezone.now()
    rows = [_row(services.CitizenGuest(QrEvidence(AN_QR if i % 2 else MAI_QR)), room=str(i), now=now) for i in range(500)]
    services.check_in_batch(hotel_clerk.ctx("residence.notification"), rows[:20], idempotency_key="warm", fingerprint="w", now=now)
    pr = cProfile.Profile()
    t = time.perf_counter()
    pr.enable()
    services.check_in_batch(hotel_clerk.ctx("residence.notification"), rows, idempotency_key="p1", fingerprint="x", now=now)
    pr.disable()
    print("TOTAL", time.perf_counter() - t)
    pstats.Stats(pr).sort_stats("cumulative").print_stats(35)
