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


__all__ = ["MAI_BORN", "MAI_ID", "MAI_NAME", "date"]
