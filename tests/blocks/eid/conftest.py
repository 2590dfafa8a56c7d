"""eID fixtures: the residents of the identity tests (Nguyễn Văn An and Huỳnh Thị Mai of Phường
Tây Hồ, with their cards), the synthetic chip PKI, an outbox that catches SMS and e-mail, and the
named actors of model 24:

* ``ward_police`` — officer of Công an phường Tây Hồ: approves and activates (root conftest)
* ``other_ward_police`` — officer of Công an phường Hoàn Kiếm: activates, but may not decide
  applications of Tây Hồ residents
* ``city_police``, ``hotel_clerk``, ``outsider`` — may not use the eID desk (root conftest)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dancu.blocks.eid import services
from dancu.blocks.identity.chip import ChipData, issue_chip, parse_dg2, synthetic_face_jpeg
from dancu.blocks.messaging import services as messaging
from tests.blocks.identity.conftest import (  # noqa: F401 — fixtures used by the tests
    AN_BORN,
    AN_ID,
    AN_NAME,
    MAI_BORN,
    MAI_ID,
    MAI_NAME,
    TAY_HO_ADDRESS,
    Pki,
    an_holder,
    pki,
    residents,
    trusted,
)
from tests.conftest import HANOI, Person

PASSWORD = "mat-khau-rat-manh-2026"
AN_PHONE = "0912345678"
MAI_PHONE = "0987654321"


class Outbox:
    """The messages sent during a test (the ``file`` driver, in the test's own directory)."""

    def __init__(self, directory: Path) -> None:
        self.driver = messaging.FileDriver(directory)

    @property
    def messages(self) -> list[dict[str, str]]:
        return self.driver.read()

    def last_code(self, to: str) -> str:
        for m in reversed(self.messages):
            if m["to"] == to and m["kind"].startswith("eid.code."):
                found = re.search(r"\b(\d{6})\b", m["body"])
                assert found is not None
                return found.group(1)
        raise AssertionError(f"no code sent to {to}")


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox")
    restore = messaging.override_driver(box.driver)
    yield box
    restore()


@pytest.fixture
def fresh_cache() -> None:
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def other_ward_police(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "officer.hoankiem",
        org_code="CA-P-HOANKIEM",
        org_name="Công an phường Hoàn Kiếm",
        kind="police_commune",
        role="officer",
        province=HANOI,
        ward="00070",
    )


def face(seed: int = 0) -> bytes:
    return synthetic_face_jpeg(seed)


def application(**changes: Any) -> services.RegistrationInput:
    """Nguyễn Văn An's level-1 application, as he types it."""
    values: dict[str, Any] = {
        "id_number": AN_ID,
        "full_name": AN_NAME,
        "date_of_birth": AN_BORN,
        "phone": AN_PHONE,
        "password": PASSWORD,
        "photo": face(0),
        "email": "an@example.vn",
    }
    values.update(changes)
    return services.RegistrationInput(**values)


@pytest.fixture
def an_chip(pki: Pki) -> ChipData:  # noqa: F811
    ds = pki.document_signer
    return issue_chip(an_holder(), ds.private_key, ds.certificate)


def portrait(chip: ChipData) -> bytes:
    """The chip's DG2 portrait: the live photo of the holder in these tests."""
    assert chip.dg2 is not None
    return parse_dg2(chip.dg2).image


@pytest.fixture
def an_phone_on_record(residents: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    """The population registry has An's phone on record (this platform's registry keeps none yet:
    ``services.phone_on_record`` is the seam)."""
    an_citizen = residents["an"].citizen_id
    monkeypatch.setattr(services, "phone_on_record", lambda cid: AN_PHONE if cid == an_citizen else None)
    return AN_PHONE


@pytest.fixture
def an_registered(residents: dict[str, Any], outbox: Outbox, an_phone_on_record: str) -> int:  # noqa: F811
    """An registered online and confirmed his phone, the one on record (exact match: approved by
    the rule); his user id."""
    receipt = services.register(application())
    assert receipt.matched and receipt.handle
    assert services.verify_phone(receipt.handle, outbox.last_code(AN_PHONE))
    from dancu.blocks.eid.models import Account

    return int(Account.objects.get(id_number=AN_ID).user_id)


@pytest.fixture
def an_level2(an_registered: int, an_chip: ChipData, trusted: Any, ward_police: Person) -> int:  # noqa: F811
    """An, raised to level 2 at the Tây Hồ desk with his chip card; his user id."""
    services.activate_level2(
        ward_police.ctx("eid.activation"), chip_files=an_chip.to_dict(), live_photo=portrait(an_chip)
    )
    return an_registered


@pytest.fixture
def mai_chip(pki: Pki) -> ChipData:  # noqa: F811
    """The chip of Huỳnh Thị Mai's căn cước (issued 10/09/2024, valid to 12/08/2032)."""
    ds = pki.document_signer
    return issue_chip(
        an_holder(
            id_number=MAI_ID,
            full_name=MAI_NAME,
            date_of_birth=MAI_BORN,
            sex="F",
            issue_date=date(2024, 9, 10),
            expiry_date=date(2032, 8, 12),
            old_id_number="",
        ),
        ds.private_key,
        ds.certificate,
    )


@pytest.fixture
def mai_level2(
    residents: dict[str, Any],  # noqa: F811
    mai_chip: ChipData,
    trusted: Any,  # noqa: F811
    outbox: Outbox,
    ward_police: Person,
) -> int:
    """Mai, given a level-2 account created in person at the Tây Hồ desk; her user id."""
    from dancu.blocks.eid.models import Account

    services.activate_level2(
        ward_police.ctx("eid.activation"),
        chip_files=mai_chip.to_dict(),
        live_photo=portrait(mai_chip),
        create=True,
        phone=MAI_PHONE,
    )
    return int(Account.objects.get(id_number=MAI_ID).user_id)


# The children of the family tests: An is Khôi's and Hà's father (registry parent links).
KHOI_ID, KHOI_NAME, KHOI_BORN, KHOI_CARD = (
    "001222007788",
    "Nguyễn Minh Khôi",
    date(2022, 5, 10),
    date(2024, 9, 20),
)
HA_ID, HA_NAME, HA_BORN, HA_CARD = "001316004455", "Nguyễn Thu Hà", date(2016, 2, 14), date(2024, 8, 1)
FAMILY_DAY = date(2026, 12, 1)  # Khôi is 4, Hà is 10


@pytest.fixture
def an_children(residents: dict[str, Any], system_ctx: Callable[[str], Any]) -> dict[str, Any]:  # noqa: F811
    """Khôi (4) and Hà (10), of Tây Hồ, each with an identity card; the registry records An as
    their father (Hà's mother: Mai)."""
    from dancu.blocks.registry.models import Citizen, IdentityCard
    from dancu.blocks.registry.services import NewCitizen, register_citizen

    ctx = system_ctx("registry.administration")
    an = Citizen.objects.get(id_number=AN_ID)
    mai = Citizen.objects.get(id_number=MAI_ID)
    out = {}
    for key, (number, name, born, issued, sex, mother) in {
        "khoi": (KHOI_ID, KHOI_NAME, KHOI_BORN, KHOI_CARD, "M", None),
        "ha": (HA_ID, HA_NAME, HA_BORN, HA_CARD, "F", mai),
    }.items():
        view = register_citizen(
            ctx,
            NewCitizen(
                id_number=number,
                full_name=name,
                date_of_birth=born,
                sex=sex,
                permanent_address_text=TAY_HO_ADDRESS,
            ),
            reason="Đăng ký khai sinh",
            legal_basis="Luật Hộ tịch 2014",
        )
        child = Citizen.objects.get(pk=view.citizen_id)
        child.father, child.mother = an, mother
        child.save(update_fields=["father", "mother"])
        # Law on Identification 2023 Art. 21: a card issued under 14 is valid to the 14th birthday.
        expires = born.replace(year=born.year + 14)
        IdentityCard.objects.create(
            citizen=child, kind="can_cuoc", card_number=number, issued_on=issued, expires_on=expires
        )
        out[key] = view
    return out


__all__ = ["MAI_BORN", "MAI_ID", "MAI_NAME", "date"]
