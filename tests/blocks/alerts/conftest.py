"""Alert list fixtures: the verification fixtures of the identity block (Nguyễn Văn An and Huỳnh Thị
Mai of Tây Hồ with their cards, the establishments' clerks) and the police who keep the list.

Named actors (besides ``city_police``, ``ward_police``, ``hotel_clerk``, ``outsider`` of the root
conftest and ``pawn_clerk``, ``clinic_clerk``, ``notary_clerk`` of the identity conftest):

* ``tay_ho_pawn_clerk`` — Cửa hàng cầm đồ Quảng An, an establishment located in ward Tây Hồ
* ``hoan_kiem_police`` — an officer of Công an phường Hoàn Kiếm (another ward)
* ``committee_officer`` — an officer of UBND phường Tây Hồ (may look up the registry, not police)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dancu.blocks.alerts import services as alerts
from dancu.blocks.alerts.services import AlertView
from tests.blocks.identity.conftest import (  # noqa: F401  (fixtures)
    AN_ID,
    AN_QR,
    MAI_ID,
    clinic_clerk,
    notary_clerk,
    pawn_clerk,
    pki,
    residents,
    trusted,
)
from tests.conftest import HANOI, TAY_HO_WARD, Person

HOAN_KIEM_WARD = "00070"
INVESTIGATION = "security.investigation"


@pytest.fixture
def tay_ho_pawn_clerk(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "clerk.pawn.quangan",
        org_code="CD-QUANGAN",
        org_name="Cửa hàng cầm đồ Quảng An",
        kind="pawn_shop",
        role="clerk",
        province=HANOI,
        ward=TAY_HO_WARD,
    )


@pytest.fixture
def hoan_kiem_police(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "officer.hoankiem",
        org_code="CA-P-HOANKIEM",
        org_name="Công an phường Hoàn Kiếm",
        kind="police_commune",
        role="officer",
        province=HANOI,
        ward=HOAN_KIEM_WARD,
    )


@pytest.fixture
def committee_officer(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "officer.ubnd.tayho",
        org_code="UBND-P-TAYHO",
        org_name="UBND phường Tây Hồ",
        kind="committee",
        role="officer",
        province=HANOI,
        ward=TAY_HO_WARD,
    )


@pytest.fixture
def place_alert() -> Callable[..., AlertView]:
    """Place an alert on ``id_number`` as ``who`` (a wanted person by default)."""

    def place(who: Person, id_number: str = AN_ID, **changes: Any) -> AlertView:
        values: dict[str, Any] = {
            "kind": "wanted",
            "reference": "QĐ-TN-123/2026",
            "legal_basis": "Bộ luật Tố tụng hình sự 2015 Điều 231",
        }
        values.update(changes)
        return alerts.add_alert(who.ctx(INVESTIGATION), id_number, **values)

    return place


__all__ = ["AN_QR", "MAI_ID"]
