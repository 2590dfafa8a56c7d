"""Shared fixtures: the named actors of every access level.

* ``city_police`` — an officer of Công an thành phố Hà Nội (jurisdiction: province 01)
* ``ward_police`` — an officer of Công an phường Tây Hồ (jurisdiction: current ward 00103)
* ``registrar`` — an administrator of the city police (may register and correct records)
* ``hotel_clerk`` — front-desk staff of a hotel (identity verification only, no registry search)
* ``outsider`` — a logged-in user with no organisation at all
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from dancu.blocks.audit.context import AccessContext, Actor

HANOI = "01"
TAY_HO_WARD = "00103"  # Phường Tây Hồ (current, since 01/07/2025)


@dataclass
class Person:
    """A test actor: a Django user plus the ``Actor`` built from their membership."""

    user: Any
    actor: Actor
    password: str

    def ctx(self, purpose: str, case_reference: str = "") -> AccessContext:
        return AccessContext(actor=self.actor, purpose=purpose, case_reference=case_reference)


@pytest.fixture
def make_person(db: None, django_user_model: Any) -> Callable[..., Person]:
    from dancu.blocks.organisations.models import Organisation
    from dancu.blocks.organisations.services import actor_for, add_member

    def make(
        username: str,
        *,
        org_code: str | None = None,
        org_name: str = "",
        kind: str = "",
        role: str = "",
        province: str = "",
        ward: str = "",
    ) -> Person:
        password = "correct-horse-battery-9"
        user = django_user_model.objects.create_user(username=username, password=password)
        if org_code:
            org, _ = Organisation.objects.get_or_create(
                code=org_code,
                defaults={
                    "name": org_name or org_code,
                    "kind": kind,
                    "jurisdiction_province_code": province,
                    "jurisdiction_ward_code": ward,
                },
            )
            add_member(user, org, role)
        return Person(user=user, actor=actor_for(user), password=password)

    return make


@pytest.fixture
def city_police(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "officer.city",
        org_code="CA-HN",
        org_name="Công an thành phố Hà Nội",
        kind="police_city",
        role="officer",
        province=HANOI,
    )


@pytest.fixture
def ward_police(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "officer.tayho",
        org_code="CA-P-TAYHO",
        org_name="Công an phường Tây Hồ",
        kind="police_commune",
        role="officer",
        province=HANOI,
        ward=TAY_HO_WARD,
    )


@pytest.fixture
def registrar(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "registrar",
        org_code="CA-HN",
        org_name="Công an thành phố Hà Nội",
        kind="police_city",
        role="admin",
        province=HANOI,
    )


@pytest.fixture
def hang(make_person: Callable[..., Person]) -> Person:
    """Chị Hằng, officer of the city's Department of Labour (Sở Nội vụ Hà Nội): cleans sector files
    against the registry (``data.cleaning``, all of Hà Nội)."""
    return make_person(
        "hang.labour",
        org_code="SO-LD",
        org_name="Sở Nội vụ",
        kind="department",
        role="officer",
        province=HANOI,
    )


@pytest.fixture
def hotel_clerk(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "clerk.hotel",
        org_code="KS-HOABINH",
        org_name="Khách sạn Hòa Bình",
        kind="hotel",
        role="clerk",
        province=HANOI,
    )


@pytest.fixture
def outsider(make_person: Callable[..., Person]) -> Person:
    return make_person("outsider")


@pytest.fixture
def system_ctx() -> Callable[[str], AccessContext]:
    def make(purpose: str = "registry.administration") -> AccessContext:
        return AccessContext(actor=Actor.system("test-system"), purpose=purpose)

    return make


@pytest.fixture(scope="session")
def adminunits_loaded(django_db_setup: None, django_db_blocker: Any) -> None:
    """The administrative units, loaded once into the test database (``load_adminunits`` is
    idempotent: a repeat call is one query)."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("load_adminunits", verbosity=0)


@pytest.fixture
def adminunits_ready(adminunits_loaded: None, db: None) -> None:
    """The administrative units inside a test; reloaded if a transactional test flushed them."""
    from django.core.management import call_command

    from dancu.blocks.adminunits.models import Ward

    if not Ward.objects.filter(code=TAY_HO_WARD).exists():
        call_command("load_adminunits", verbosity=0)
