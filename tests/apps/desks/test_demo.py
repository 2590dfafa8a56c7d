"""The desks' demo data: three establishments with a clerk each and a clinic kiosk, idempotently."""

from __future__ import annotations

import pytest

from dancu.apps.desks.demo import DEMO_PASSWORD, seed_demo
from dancu.apps.desks.models import KioskDevice
from dancu.blocks.organisations.models import Membership

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent() -> None:
    first = seed_demo()
    assert [u for u, _ in first[:3]] == ["clerk.clinic", "clerk.notary", "clerk.pawn"]
    assert "open /desks/kiosk/enrol/ and enter the key kd_" in first[3][1]  # the key not in a URL
    second = seed_demo()
    assert [u for u, _ in second[:3]] == ["clerk.clinic", "clerk.notary", "clerk.pawn"]
    assert KioskDevice.objects.count() == 1
    assert Membership.objects.filter(role="clerk").count() == 3
    clinic = Membership.objects.get(user__username="clerk.clinic")
    assert clinic.organisation.kind == "clinic" and clinic.organisation.jurisdiction_ward_code == "00103"
    assert clinic.user.check_password(DEMO_PASSWORD)
