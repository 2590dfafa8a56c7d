"""The demo hook: the demo hotel is registered once, in Tây Hồ, supervised by the ward police."""

from __future__ import annotations

import pytest

from dancu.apps.residence import demo
from dancu.apps.residence.models import Establishment
from tests.conftest import TAY_HO_WARD, Person


@pytest.mark.usefixtures("adminunits_ready")
def test_the_demo_hotel_is_seeded_once_with_its_clerk(ward_police: Person, django_user_model: object) -> None:
    first = demo.seed_demo()
    second = demo.seed_demo()
    assert first == second and first[0][0] == "letan.khachsan"
    est = Establishment.objects.get(organisation__code=demo.ORG_CODE)
    assert est.ward_code == TAY_HO_WARD and est.police_organisation_id == ward_police.actor.organisation_id
    assert django_user_model.objects.get(username="letan.khachsan").check_password(demo.DEMO_PASSWORD)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("adminunits_ready")
def test_the_demo_adds_a_coach_operator_a_hospital_and_a_statistics_officer(ward_police: Person) -> None:
    accounts = dict(demo.seed_demo())
    assert {"nhaxe.demo", "dieuduong.demo", "thongke.dulich"} <= set(accounts)
    kinds = set(Establishment.objects.values_list("kind", flat=True))
    assert kinds == {"hotel", "coach_operator", "hospital"}


def test_the_demo_statistics_officer_sees_the_tourism_sector(ward_police: Person) -> None:
    from django.contrib.auth import get_user_model

    from dancu.apps.residence import statistics
    from dancu.blocks.organisations.services import actor_for

    demo.seed_demo()
    demo.seed_demo()  # idempotent
    officer = actor_for(get_user_model().objects.get(username="thongke.dulich"))
    assert statistics.sectors_of(officer) == ["tourism"]
