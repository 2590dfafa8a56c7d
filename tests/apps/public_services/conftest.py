"""Fixtures of the public services tests and their named actors:

* ``an`` — Nguyễn Văn An of Phường Tây Hồ (old CMND 012345678), a level-1 eID account: the citizen
* ``mai`` — Huỳnh Thị Mai of Phường Tây Hồ, a level-1 eID account: another citizen
* ``ward_police`` — officer of Công an phường Tây Hồ: the ward official of An's residence dossiers
* ``ward_committee`` — officer of UBND phường Tây Hồ: the ward official of civil-status dossiers
* ``other_ward_police`` — officer of Công an phường Hoàn Kiếm: an official of another ward (and the
  competent one for a temporary residence in Hoàn Kiếm)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from dancu.apps.desks import services as desks
from dancu.blocks.eid import assurance
from dancu.blocks.eid import services as eid
from tests.blocks.eid.conftest import (  # noqa: F401 — fixtures used by the tests
    MAI_BORN,
    MAI_ID,
    MAI_NAME,
    MAI_PHONE,
    Outbox,
    an_phone_on_record,
    an_registered,
    application,
    face,
    other_ward_police,
    outbox,
    pki,
    residents,
    trusted,
)
from tests.conftest import HANOI, TAY_HO_WARD, Person

HOAN_KIEM_ADDRESS = "Số 10 phố Hàng Bạc, Phường Hàng Bạc, Quận Hoàn Kiếm, Hà Nội"


def connect_portal_to_gateway() -> str:
    """The registry published on the data-exchange gateway by Công an thành phố Hà Nội and the
    portal connected to it as a member system (``public_services.demo.connect_portal``): prefill
    reads go through the gateway as in production. Returns the portal's client identifier."""
    from dancu.apps.exchange_admin.demo import _member, _subsystem
    from dancu.apps.public_services.demo import connect_portal
    from dancu.blocks.audit.context import Actor
    from dancu.blocks.exchange import services as ex
    from dancu.blocks.organisations.models import Organisation

    operator = Actor.system("test-exchange")
    police, _ = Organisation.objects.get_or_create(
        code="CA-HN",
        defaults={
            "name": "Công an thành phố Hà Nội",
            "kind": "police_city",
            "jurisdiction_province_code": HANOI,
        },
    )
    registry = _subsystem(operator, _member(operator, police, "CA-HN"), "DANCU-REGISTRY", "CSDL dân cư")
    ex.publish_registry_services(operator, registry)
    return connect_portal()


@pytest.fixture(autouse=True)
def portal_on_gateway(db: None) -> str:
    """Every public-services test reads the applicant's record through the gateway."""
    return connect_portal_to_gateway()


@pytest.fixture(autouse=True)
def receipt_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh platform signing key for each test (results are signed like notary receipts)."""
    path = tmp_path / "receipt-key.pem"
    desks.write_signing_key(path)
    monkeypatch.setenv(desks.RECEIPT_KEY_ENV, str(path))
    yield path
    desks._keys.pop(path, None)


@pytest.fixture
def an(an_registered: int) -> int:  # noqa: F811
    return an_registered


@pytest.fixture
def mai(residents: dict[str, Any], outbox: Outbox) -> int:  # noqa: F811
    receipt = eid.register(
        application(
            id_number=MAI_ID,
            full_name=MAI_NAME,
            date_of_birth=MAI_BORN,
            phone=MAI_PHONE,
            photo=face(1),
            email="mai@example.vn",
        )
    )
    assert receipt.matched and receipt.handle
    assert eid.verify_phone(receipt.handle, outbox.last_code(MAI_PHONE))
    from dancu.blocks.eid.models import Account

    return int(Account.objects.get(id_number=MAI_ID).user_id)


@pytest.fixture
def ward_committee(make_person: Callable[..., Person]) -> Person:
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
def citizen_client(client: Client) -> Callable[..., Client]:
    """A client logged in as the eID account holder ``user_id`` at ``level``."""

    def log_in(user_id: int, level: int = 1) -> Client:
        from django.contrib.auth import get_user_model

        client.force_login(get_user_model().objects.get(pk=user_id))
        session = client.session
        assurance.store(
            session, assurance.Assurance(user_id, level, ("pwd",), assurance.now(), assurance.EVIDENCE_CHIP)
        )
        session.save()
        return client

    return log_in


@pytest.fixture
def staff_client(client: Client) -> Callable[[Person], Client]:
    def log_in(person: Person) -> Client:
        client.force_login(person.user)
        return client

    return log_in
