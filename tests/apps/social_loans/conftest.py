"""Fixtures of the social-policy loans tests: the demo's participants (the bank as a member of
the data-exchange gateway, Sở LĐTBXH as the list owner), residents of Phường Tây Hồ in two
households, and a commune list cleaned through a linkage job and imported."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.contrib.auth import get_user_model

from dancu.apps.gateway_client.demo import DEMO_PASSWORD, demo_user
from dancu.apps.social_loans import services
from dancu.blocks.organisations.services import actor_for
from dancu.blocks.registry.dto import CitizenView
from dancu.blocks.registry.services import record_death
from tests.apps.conftest import HOAN_KIEM_ADDRESS
from tests.conftest import Person

TAY_HO = "00103"


def _person(username: str) -> Person:
    user = get_user_model().objects.get(username=username)
    return Person(user=user, actor=actor_for(user), password=DEMO_PASSWORD)


@pytest.fixture
def seeded(registrar: Person, adminunits: None) -> dict[str, str]:
    """The exchange demo (registry published by Công an thành phố Hà Nội) and the bank seeded on it."""
    from dancu.apps.exchange_admin.demo import seed_demo as seed_exchange
    from dancu.apps.social_loans import demo

    seed_exchange()
    bank, owner = demo.seed_participants()
    demo_user("canbo.nhcsxh", bank, "officer")
    admin = demo_user("quantri.nhcsxh", bank, "admin")
    demo_user("canbo.soldtbxh", owner, "officer")
    return {"client": demo.seed_bank_member(bank, actor_for(admin, bank.pk))}


@pytest.fixture
def bank_officer(seeded: dict[str, str]) -> Person:
    """Cán bộ tín dụng of NHCSXH Hà Nội: asks whether a person is eligible."""
    return _person("canbo.nhcsxh")


@pytest.fixture
def bank_admin(seeded: dict[str, str]) -> Person:
    """The bank branch's administrator: publishes new versions of a programme's rules."""
    return _person("quantri.nhcsxh")


@pytest.fixture
def list_owner(seeded: dict[str, str]) -> Person:
    """Officer of Sở LĐTBXH: cleans and imports the commune lists."""
    return _person("canbo.soldtbxh")


@pytest.fixture
def households(register: Callable[..., CitizenView], registrar: Person) -> dict[str, CitizenView]:
    """Tây Hồ: An heads household HN0001 with his wife Bình; Chi heads HN0003 and has died;
    Dung heads HN0004. Hoàn Kiếm: Hòa heads HN0002 (not a resident of Tây Hồ)."""
    people = {
        "an": register(id_number="001085012345", full_name="Nguyễn Văn An", date_of_birth=date(1985, 3, 2),
                       sex="M", household_number="HN0001", relationship_to_head="head"),
        "binh": register(id_number="001188012347", full_name="Lê Thị Bình", date_of_birth=date(1988, 7, 9),
                         sex="F", household_number="HN0001", relationship_to_head="spouse"),
        "hoa": register(id_number="001190012346", full_name="Trần Thị Hòa", date_of_birth=date(1990, 3, 14),
                        sex="F", household_number="HN0002", relationship_to_head="head",
                        permanent_address_text=HOAN_KIEM_ADDRESS),
        "chi": register(id_number="001060012348", full_name="Phạm Văn Chi", date_of_birth=date(1960, 1, 5),
                        sex="M", household_number="HN0003", relationship_to_head="head"),
        "dung": register(id_number="001192012349", full_name="Đỗ Thị Dung", date_of_birth=date(1992, 11, 20),
                         sex="F", household_number="HN0004", relationship_to_head="head"),
    }  # fmt: skip
    record_death(
        registrar.ctx("registry.administration"),
        "001060012348",
        date_of_death=date(2025, 2, 1),
        reason="Đăng ký khai tử",
        legal_basis="Luật Hộ tịch 2014 Điều 32",
    )
    return people


# The commune's list as typed: An without diacritics and with no number (the cleaning finds him),
# Bình with her number under her husband's household, Hòa (lives elsewhere), Chi (deceased), Dung near-poor.
LIST = (
    "STT,Họ và tên,Ngày sinh,Số CCCD,Chủ hộ,Phân loại hộ\n"
    "1,NGUYEN VAN AN,02/03/1985,001085012345,,Hộ nghèo\n"
    "2,Lê Thị Bình,09/07/1988,001188012347,001085012345,hộ nghèo\n"
    "3,Trần Thị Hòa,14/03/1990,001190012346,,Hộ nghèo\n"
    "4,Phạm Văn Chi,05/01/1960,001060012348,,Hộ nghèo\n"
    "5,Đỗ Thị Dung,20/11/1992,001192012349,,Cận nghèo\n"
    "6,Lý Văn Không Có,01/01/1970,,,Hộ nghèo\n"
)


def clean(owner: Person, content: str = LIST, name: str = "ds-tay-ho.csv") -> int:
    from dancu.blocks.linkage import services as linkage

    ctx = owner.ctx("data.cleaning")
    job = linkage.upload(ctx, name, content.encode())
    done = linkage.start(ctx, job.job_id, background=False)
    assert done.status == "done", done.error
    return job.job_id


@pytest.fixture
def tay_ho_list(list_owner: Person, households: dict[str, CitizenView]) -> services.ListView:
    job_id = clean(list_owner)
    return services.import_list(
        list_owner.actor, job_id, ward_code=TAY_HO, year=2025, title="Tây Hồ 2025",
        status_column="Phân loại hộ", head_column="Chủ hộ",
    )  # fmt: skip
