"""Desk fixtures: the verification fixtures of the identity block (synthetic chip PKI, Nguyễn Văn
An and Huỳnh Thị Mai with their cards, the establishments' clerks) and a receipt signing key.

Named actors: ``clinic_clerk`` (Phòng khám Đa khoa Hồng Ngọc), ``notary_clerk`` (Văn phòng công
chứng Tây Hồ), ``pawn_clerk`` (Cửa hàng cầm đồ Phát Đạt), ``security_clerk`` (Công ty bảo vệ
Long Biên), and — refused every desk — ``hotel_clerk``, ``city_police``, ``outsider``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dancu.apps.desks import services
from tests.blocks.identity.conftest import (  # noqa: F401  (fixtures)
    AN_QR,
    an_chip,
    clinic_clerk,
    notary_clerk,
    pawn_clerk,
    pki,
    residents,
    trusted,
)
from tests.conftest import HANOI, Person


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> None:
    """Each test starts with full token buckets (the public receipt check is rate-limited and the
    cache outlives a test)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def receipt_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh Ed25519 receipt signing key for each test, named by the environment variable."""
    path = tmp_path / "receipt-key.pem"
    services.write_signing_key(path)
    monkeypatch.setenv(services.RECEIPT_KEY_ENV, str(path))
    yield path
    services._keys.pop(path, None)


@pytest.fixture
def security_clerk(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "clerk.security",
        org_code="BV-LONGBIEN",
        org_name="Công ty bảo vệ Long Biên",
        kind="security_firm",
        role="clerk",
        province=HANOI,
    )


__all__ = ["AN_QR"]
