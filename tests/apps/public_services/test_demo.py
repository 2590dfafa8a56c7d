"""The demo hook: a dossier of a demo citizen waits in the Tây Hồ police queue; a second run adds
nothing."""

from __future__ import annotations

import pytest

from dancu.apps.public_services.demo import seed_demo
from dancu.apps.public_services.models import Dossier
from dancu.blocks.eid.demo import seed_demo as seed_eid

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_one_waiting_dossier_once(adminunits: None) -> None:
    seed_eid("dancu-demo-2026")
    banner = seed_demo()
    seed_demo()
    assert Dossier.objects.count() == 1
    dossier = Dossier.objects.get()
    assert (dossier.authority_kind, dossier.authority_ward_code, dossier.status) == (
        "police_commune",
        "00103",
        "submitted",
    )
    assert any("/dich-vu-cong/can-bo/" in line for _, line in banner)
