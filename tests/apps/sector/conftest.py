"""Fixtures of the sector digitisation tests: Sở Nội vụ with its administrator and officer, a
gateway member with the workers' registry ``LAODONG 1.0`` defined, and its HRM system's API key."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model

from dancu.apps.sector import services
from dancu.apps.sector.demo import LABOUR_SCHEMA, seed_sector_member
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import issue_api_key
from tests.conftest import HANOI, Person


@pytest.fixture
def sonv(make_person: Callable[..., Person], registrar: Person, adminunits: None) -> dict[str, Person]:
    """Sở Nội vụ's administrator and officer; the department is a gateway member (verify-identity)."""
    from dancu.apps.exchange_admin.demo import seed_demo as seed_exchange

    seed_exchange()
    admin = make_person(
        "quantri.sonoivu",
        org_code="SO-NV",
        org_name="Sở Nội vụ",
        kind="department",
        role="admin",
        province=HANOI,
    )
    officer = make_person(
        "canbo.sonoivu", org_code="SO-NV", kind="department", role="officer", province=HANOI
    )
    org = Organisation.objects.get(code="SO-NV")
    seed_sector_member(org, get_user_model().objects.get(username="quantri.sonoivu"))
    services.define_registry(
        admin.actor,
        code="LAODONG",
        version="1.0",
        name_vi="Người lao động",
        name_en="Workers",
        schema=LABOUR_SCHEMA,
    )
    return {"admin": admin, "officer": officer}


@pytest.fixture
def api_key(sonv: dict[str, Person]) -> str:
    return issue_api_key(Organisation.objects.get(code="SO-NV"), "HRM system").token
