"""Verification fixtures: a synthetic chip PKI trusted for the test, residents with their cards,
and the establishments' staff who verify them (named actors, as in ``tests/conftest.py``):

* ``hotel_clerk`` — Khách sạn Hòa Bình (root conftest)
* ``notary_clerk`` — Văn phòng công chứng Tây Hồ
* ``pawn_clerk`` — Cửa hàng cầm đồ Phát Đạt
* ``clinic_clerk`` — Phòng khám Đa khoa Hồng Ngọc
* ``driving_examiner`` — Trung tâm sát hạch lái xe Sóc Sơn
* ``city_police``, ``outsider`` — may not verify (root conftest)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from dancu.blocks.audit.context import AccessContext
from dancu.blocks.identity.chip import (
    CardHolder,
    CertifiedKey,
    ChipData,
    TrustStore,
    create_csca,
    create_document_signer,
    issue_chip,
)
from dancu.blocks.identity.trust import override_trust_store
from tests.conftest import HANOI, Person

AN_ID = "001085012345"
AN_OLD_ID = "012345678"
AN_NAME = "Nguyễn Văn An"
AN_BORN = date(1985, 3, 2)
AN_CARD_ISSUED = date(2021, 4, 1)
AN_CARD_EXPIRES = date(2045, 3, 2)
TAY_HO_ADDRESS = "Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội"
AN_QR = f"{AN_ID}|{AN_OLD_ID}|{AN_NAME}|02031985|Nam|{TAY_HO_ADDRESS}|01042021"

MAI_ID = "001192034567"  # Huỳnh Thị Mai, born 12/08/1992
MAI_NAME = "Huỳnh Thị Mai"
MAI_BORN = date(1992, 8, 12)


@dataclass(frozen=True)
class Pki:
    csca: CertifiedKey
    document_signer: CertifiedKey


@pytest.fixture(scope="session")
def pki() -> Pki:
    """The synthetic Vietnamese CSCA and a Document Signer (made once per test session)."""
    csca = create_csca()
    return Pki(csca, create_document_signer(csca))


@pytest.fixture
def trusted(pki: Pki) -> Iterator[TrustStore]:
    """Verification trusts the synthetic CSCA, and only it."""
    with override_trust_store(TrustStore([pki.csca.certificate])) as store:
        yield store


@pytest.fixture
def fresh_rate_limits() -> None:
    """Each test starts with full token buckets (the cache outlives a test's database)."""
    from django.core.cache import cache

    cache.clear()


def an_holder(**changes: Any) -> CardHolder:
    values: dict[str, Any] = {
        "id_number": AN_ID,
        "full_name": AN_NAME,
        "date_of_birth": AN_BORN,
        "sex": "M",
        "place_of_origin": "Xã Tây Tựu, Huyện Từ Liêm, Hà Nội",
        "place_of_residence": TAY_HO_ADDRESS,
        "issue_date": AN_CARD_ISSUED,
        "expiry_date": AN_CARD_EXPIRES,
        "old_id_number": AN_OLD_ID,
    }
    values.update(changes)
    return CardHolder(**values)


@pytest.fixture
def an_chip(pki: Pki) -> ChipData:
    """The chip of Nguyễn Văn An's card, signed by the trusted Document Signer."""
    ds = pki.document_signer
    return issue_chip(an_holder(), ds.private_key, ds.certificate)


@pytest.fixture
def residents(adminunits_ready: None, system_ctx: Callable[[str], AccessContext]) -> dict[str, Any]:
    """Nguyễn Văn An (old CMND 012345678, chip CCCD issued 01/04/2021, valid to 02/03/2045) and
    Huỳnh Thị Mai (căn cước issued 10/09/2024, valid to 12/08/2032), both of Tây Hồ."""
    from dancu.blocks.registry.models import Citizen, IdentityCard
    from dancu.blocks.registry.services import NewCitizen, register_citizen

    ctx = system_ctx("registry.administration")
    an = register_citizen(
        ctx,
        NewCitizen(
            id_number=AN_ID,
            full_name=AN_NAME,
            date_of_birth=AN_BORN,
            sex="M",
            permanent_address_text=TAY_HO_ADDRESS,
            old_id_numbers=(AN_OLD_ID,),
        ),
        reason="Đăng ký",
        legal_basis="Luật Cư trú 2020",
    )
    mai = register_citizen(
        ctx,
        NewCitizen(
            id_number=MAI_ID,
            full_name=MAI_NAME,
            date_of_birth=MAI_BORN,
            sex="F",
            permanent_address_text=TAY_HO_ADDRESS,
        ),
        reason="Đăng ký",
        legal_basis="Luật Cư trú 2020",
    )
    IdentityCard.objects.create(
        citizen=Citizen.objects.get(pk=an.citizen_id),
        kind="cccd_chip",
        card_number=AN_ID,
        issued_on=AN_CARD_ISSUED,
        expires_on=AN_CARD_EXPIRES,
    )
    IdentityCard.objects.create(
        citizen=Citizen.objects.get(pk=mai.citizen_id),
        kind="can_cuoc",
        card_number=MAI_ID,
        issued_on=date(2024, 9, 10),
        expires_on=date(2032, 8, 12),
    )
    return {"an": an, "mai": mai}


def _establishment(
    make_person: Callable[..., Person], username: str, code: str, name: str, kind: str
) -> Person:
    return make_person(username, org_code=code, org_name=name, kind=kind, role="clerk", province=HANOI)


@pytest.fixture
def notary_clerk(make_person: Callable[..., Person]) -> Person:
    return _establishment(make_person, "clerk.notary", "CC-TAYHO", "Văn phòng công chứng Tây Hồ", "notary")


@pytest.fixture
def pawn_clerk(make_person: Callable[..., Person]) -> Person:
    return _establishment(make_person, "clerk.pawn", "CD-PHATDAT", "Cửa hàng cầm đồ Phát Đạt", "pawn_shop")


@pytest.fixture
def clinic_clerk(make_person: Callable[..., Person]) -> Person:
    return _establishment(
        make_person, "clerk.clinic", "PK-HONGNGOC", "Phòng khám Đa khoa Hồng Ngọc", "clinic"
    )


@pytest.fixture
def driving_examiner(make_person: Callable[..., Person]) -> Person:
    return _establishment(
        make_person, "examiner.driving", "SH-SOCSON", "Trung tâm sát hạch lái xe Sóc Sơn", "driving_school"
    )
