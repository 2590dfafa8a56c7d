"""Actors of the guardianship desk (``/giam-ho/``) and the API, with the eID block's fixtures
(residents An and Mai, An's children Khôi and Hà, level-2 accounts, chip PKI, outbox).

* ``civil_status_tayho`` — the judicial and civil-status officer of UBND phường Tây Hồ (ward 00103,
  where An, Mai, Khôi and Hà live): records guardianships and restrictions
* ``civil_status_hoankiem`` — the same officer of UBND phường Hoàn Kiếm (ward 00070): refused
* ``committee_officer`` — an ordinary officer of UBND phường Tây Hồ (no civil-status role): refused
* ``ward_police`` — Công an phường Tây Hồ (keeps the registry: may record too), ``hotel_clerk``,
  ``outsider`` (root conftest)
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.blocks.eid.conftest import (  # noqa: F401 — fixtures used by the tests
    an_children,
    an_chip,
    an_level2,
    an_phone_on_record,
    an_registered,
    mai_chip,
    mai_level2,
    other_ward_police,
    outbox,
    pki,
    residents,
    trusted,
)
from tests.conftest import HANOI, TAY_HO_WARD, Person


@pytest.fixture
def civil_status_tayho(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "hotich.tayho",
        org_code="UBND-P-TAYHO",
        org_name="UBND phường Tây Hồ",
        kind="committee",
        role="civil_status",
        province=HANOI,
        ward=TAY_HO_WARD,
    )


@pytest.fixture
def civil_status_hoankiem(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "hotich.hoankiem",
        org_code="UBND-P-HOANKIEM",
        org_name="UBND phường Hoàn Kiếm",
        kind="committee",
        role="civil_status",
        province=HANOI,
        ward="00070",
    )


@pytest.fixture
def committee_officer(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "canbo.ubnd.tayho",
        org_code="UBND-P-TAYHO",
        org_name="UBND phường Tây Hồ",
        kind="committee",
        role="officer",
        province=HANOI,
        ward=TAY_HO_WARD,
    )
