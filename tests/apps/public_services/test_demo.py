"""The demo hook: a dossier of a demo citizen waits in the Tây Hồ police queue; a second run adds
nothing. Every step of the multi-step and city-level services has a demo official competent to
decide it: the dossier reaches their queue and their approval moves it to the next step's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from dancu.apps.public_services import catalogue, services
from dancu.apps.public_services.demo import OFFICIALS, seed_demo
from dancu.apps.public_services.models import Dossier
from dancu.blocks.audit.context import Actor
from dancu.blocks.eid.demo import seed_demo as seed_eid
from dancu.blocks.organisations.services import actor_for
from dancu.errors import AccessDenied

pytestmark = pytest.mark.django_db
PASSWORD = "dancu-demo-2026"  # the demo's printed password


def test_the_demo_seeds_one_waiting_dossier_once(adminunits: None) -> None:
    seed_eid(PASSWORD)
    banner = seed_demo(PASSWORD)
    seed_demo(PASSWORD)
    assert Dossier.objects.count() == 1
    dossier = Dossier.objects.get()
    assert (dossier.authority_kind, dossier.authority_ward_code, dossier.status) == (
        "police_commune",
        "00103",
        "submitted",
    )
    assert any("/dich-vu-cong/can-bo/" in line for _, line in banner)


# Services decided by the city (the city police, a department) in one or more steps.
CITY_SERVICES = [
    s
    for s in catalogue.SERVICES
    if s.implemented and any(step.kind in services.CITY_KINDS for step in s.chain())
]


def _officials() -> list[Actor]:
    users = get_user_model().objects.filter(username__in=[o.username for o in OFFICIALS])
    return [actor_for(u) for u in users]


def test_the_multi_step_services_are_among_those_checked() -> None:
    codes = {s.code for s in CITY_SERVICES}
    assert {"criminal-record", "unemployment-benefit", "driving-licence"} <= codes
    assert all(
        len(s.chain()) > 1 for s in CITY_SERVICES if s.code in {"criminal-record", "unemployment-benefit"}
    )


@pytest.mark.parametrize("service", CITY_SERVICES, ids=lambda s: s.code)
def test_the_demo_gives_every_step_an_official_who_receives_and_passes_on_the_dossier(
    adminunits: None, service: catalogue.Service
) -> None:
    seed_eid(PASSWORD)
    seed_demo(PASSWORD)
    officials = _officials()
    assert len(officials) == len(OFFICIALS) and all(services.is_official(a) for a in officials)
    applicant = get_user_model().objects.get(username="001088099002")  # the demo's level-2 citizen
    dossier = Dossier.objects.create(
        tracking_code="DVC-2612-DEMQSTEP",
        service_code=service.code,
        applicant_user_id=applicant.pk,
        applicant_id_number="001088099002",
        applicant_name="Lê Văn Minh",
        idempotency_key=f"demo-steps-{service.code}",
        submitted_at=timezone.now(),
        due_on=timezone.localdate() + timedelta(days=service.days or 1),
    )
    services._set_authority(dossier, service.chain()[0], "00103")
    dossier.save()
    for number, step in enumerate(service.chain()):
        competent = [a for a in officials if services.queue(a).filter(pk=dossier.pk).exists()]
        assert competent, f"{service.code}: no demo official for step {number + 1} ({step.label_vi})"
        others = [a for a in officials if a not in competent]
        for other in others:  # the denial path: another authority's official cannot open it
            with pytest.raises(AccessDenied):
                services.dossier_for(other, dossier.tracking_code)
        if number + 1 < len(service.chain()):
            moved = services.approve(competent[-1], dossier.tracking_code)
            assert moved.step == number + 1 and moved.status == Dossier.Status.RECEIVED
            dossier.refresh_from_db()
