"""Fixtures for the applications' tests: administrative units and a few registered citizens.

Citizens are created the way the registry creates them — through
``dancu.blocks.registry.services.register_citizen`` acting as the ``registrar`` — never by
writing models, so that the pages are tested against real records with revisions and audit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from dancu.blocks.registry.dto import CitizenView
from dancu.blocks.registry.services import NewCitizen, register_citizen
from tests.conftest import Person

TAY_HO_ADDRESS = "Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội"  # current ward 00103 Tây Hồ
HOAN_KIEM_ADDRESS = "Số 10 phố Hàng Bạc, Phường Hàng Bạc, Quận Hoàn Kiếm, Hà Nội"  # another ward


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """Load the administrative units once into the test database (they are reference data)."""
    with django_db_blocker.unblock():
        call_command("load_adminunits", verbosity=0)


@pytest.fixture
def adminunits(db: None) -> None:
    """The administrative units (before and after 01/07/2025), so that addresses resolve.

    The command is idempotent: after the session-wide load it is a single query, and it loads
    again if a transactional test emptied the tables.
    """
    call_command("load_adminunits", verbosity=0)


@pytest.fixture
def register(adminunits: None, registrar: Person) -> Callable[..., CitizenView]:
    """Register a citizen as the city police registrar; keyword arguments go to ``NewCitizen``."""

    def make(**fields: Any) -> CitizenView:
        fields.setdefault("permanent_address_text", TAY_HO_ADDRESS)
        return register_citizen(
            registrar.ctx("registry.administration"),
            NewCitizen(**fields),
            reason="Đăng ký thử nghiệm",
            legal_basis="Luật Cư trú 2020",
        )

    return make


@pytest.fixture
def nguyen_van_an(register: Callable[..., CitizenView]) -> CitizenView:
    """Nguyễn Văn An, male, born 02/03/1985 in Hà Nội, living in Tây Hồ, with an old CMND."""
    return register(
        id_number="001085012345",
        full_name="Nguyễn Văn An",
        date_of_birth=date(1985, 3, 2),
        sex="M",
        household_number="HN0001",
        relationship_to_head="head",
        old_id_numbers=("012345678",),
    )


@pytest.fixture
def tran_thi_hoa(register: Callable[..., CitizenView]) -> CitizenView:
    """Trần Thị Hòa, female, born in March 1990 (only month and year known), living in Hoàn Kiếm."""
    return register(
        id_number="001190012346",
        full_name="Trần Thị Hòa",
        date_of_birth=date(1990, 3, 1),
        dob_precision="month",
        sex="F",
        permanent_address_text=HOAN_KIEM_ADDRESS,
    )


@pytest.fixture
def logged_in(client: Client) -> Callable[[Person], Client]:
    """A test client logged in as ``person``."""

    def log_in(person: Person) -> Client:
        client.force_login(person.user)
        return client

    return log_in
