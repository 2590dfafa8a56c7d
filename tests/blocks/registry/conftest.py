"""Registry fixtures: the administrative units, addresses in and out of the named actors'
jurisdictions, and a few registered residents."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from dancu.blocks.audit.context import AccessContext
from dancu.blocks.registry.idnumber import century_sex_digit

# Legacy address as printed on cards → legacy ward 00100 → current ward 00103 Tây Hồ, Hà Nội (01).
TAY_HO_ADDRESS = "Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội"
# Hà Nội, but another ward: legacy 00079 Tràng Tiền → current 00070 Hoàn Kiếm.
HOAN_KIEM_ADDRESS = "Số 1 Tràng Tiền, Phường Tràng Tiền, Quận Hoàn Kiếm, Hà Nội"
# Another province: TP Hồ Chí Minh (79).
HCM_ADDRESS = "Số 2 Lê Duẩn, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh"
UNRESOLVABLE_ADDRESS = "Xyzzy Plugh"

REASON = "Đăng ký theo hồ sơ HS-2026-0001"
LEGAL_BASIS = "Luật Cư trú 2020 Điều 20"


def id_number(birth_year: int, sex: str, *, place: str = "001", serial: int = 12345) -> str:
    """A structurally valid 12-digit number for someone born in ``birth_year``."""
    return f"{place}{century_sex_digit(birth_year, sex)}{birth_year % 100:02d}{serial:06d}"


@pytest.fixture
def adminunits(adminunits_ready: None) -> None:
    """The administrative units (loaded once per session by the block's own command)."""


@pytest.fixture
def new_citizen() -> Callable[..., Any]:
    """Input for ``register_citizen``: Nguyễn Văn An, born 02/03/1985 in Hà Nội, living in Tây Hồ."""
    from dancu.blocks.registry.services import NewCitizen

    def make(**overrides: Any) -> NewCitizen:
        values: dict[str, Any] = {
            "id_number": id_number(1985, "M"),
            "full_name": "Nguyễn Văn An",
            "date_of_birth": date(1985, 3, 2),
            "sex": "M",
            "permanent_address_text": TAY_HO_ADDRESS,
            "household_number": "HK-TH-000001",
            "relationship_to_head": "head",
        }
        values.update(overrides)
        return NewCitizen(**values)

    return make


@pytest.fixture
def register(
    adminunits: None, new_citizen: Callable[..., Any], system_ctx: Callable[[str], AccessContext]
) -> Callable[..., Any]:
    """Register a citizen as the system (registry.administration) and return the view."""
    from dancu.blocks.registry.services import register_citizen

    def make(**overrides: Any) -> Any:
        return register_citizen(
            system_ctx("registry.administration"),
            new_citizen(**overrides),
            reason=REASON,
            legal_basis=LEGAL_BASIS,
        )

    return make


@pytest.fixture
def an_tay_ho(register: Callable[..., Any]) -> Any:
    """Nguyễn Văn An, resident of Tây Hồ (inside the ward police's jurisdiction)."""
    return register(religion="Phật giáo", old_id_numbers=("012345678",))


@pytest.fixture
def binh_hoan_kiem(register: Callable[..., Any]) -> Any:
    """Trần Thị Bình, resident of Hoàn Kiếm (Hà Nội, outside the Tây Hồ ward)."""
    return register(
        id_number=id_number(1990, "F", serial=222222),
        full_name="Trần Thị Bình",
        date_of_birth=date(1990, 7, 15),
        sex="F",
        permanent_address_text=HOAN_KIEM_ADDRESS,
        household_number="HK-HK-000001",
    )


@pytest.fixture
def cuong_hcm(register: Callable[..., Any]) -> Any:
    """Lê Văn Cường, resident of TP Hồ Chí Minh (outside Hà Nội)."""
    return register(
        id_number=id_number(1970, "M", place="079", serial=333333),
        full_name="Lê Văn Cường",
        date_of_birth=date(1970, 1, 20),
        permanent_address_text=HCM_ADDRESS,
        household_number="HK-HCM-00001",
    )
