"""Shared actors for the foreign-passport chip tests: a synthetic PKI of four foreign states
(synthetic Germany, France, Japan, Korea — never the real CSCAs) plus an uncatalogued synthetic
United States, the synthetic master-list compiler, and Anna Schmidt's German passport."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from dancu.blocks.identity.foreign_trust import SyntheticForeignPki, make_synthetic_foreign_pki
from dancu.blocks.identity.mrz import MrzTD3
from dancu.errors import DomainValidationError

PKI_START = datetime(2026, 1, 1, tzinfo=UTC)
ON_THE_DAY = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)  # 09:30 in Hà Nội
ISSUED = ON_THE_DAY - timedelta(days=10)  # a CRL current on the day (as ``import_foreign_trust``'s)
_PKI: SyntheticForeignPki | None = None


def foreign_pki() -> SyntheticForeignPki:
    """One synthetic PKI per test session (keys are cheap, but the same CSCAs keep lists stable)."""
    global _PKI
    if _PKI is None:
        _PKI = make_synthetic_foreign_pki(("DE", "FR", "JP", "KR", "US"), not_before=PKI_START)
    return _PKI


def german_ds_serial() -> int:
    """The serial number of the Document Signer of synthetic Germany that signed Anna's passport."""
    return int(foreign_pki().document_signer("DE").certificate.serial_number)


def rule_of(err: pytest.ExceptionInfo[DomainValidationError]) -> str:
    """The rule of the first problem of a refusal."""
    return err.value.problems[0].rule


def anna_passport_mrz(**changes: Any) -> MrzTD3:
    """Anna Schmidt's German passport (issuing state ``D``), as tests/blocks/eid/test_foreigners.py."""
    values: dict[str, Any] = {
        "document_code": "P",
        "issuing_state": "D",
        "document_number": "C01X00T47",
        "date_of_birth": date(1990, 7, 15),
        "sex": "F",
        "date_of_expiry": date(2030, 5, 1),
        "nationality": "DEU",
        "primary_identifier": "SCHMIDT",
        "secondary_identifier": "ANNA MARIA",
    }
    values.update(changes)
    return MrzTD3(**values)


def import_foreign_trust(countries: list[str], *, at: datetime, crls: bool = True) -> None:
    """The trust administrator imports the synthetic compiler's master list of ``countries`` and,
    with ``crls``, a current CRL of each of their CSCAs (issued ten days before ``at``, next update
    90 days after issue — ADR 0017 §12) that revokes nothing."""
    from dancu.blocks.identity.foreign_trust import import_crls, import_master_list

    pki = foreign_pki()
    import_master_list(pki.master_list(countries), anchors=[pki.compiler_csca.certificate], at=at)
    if crls:
        for country in countries:
            import_crls(pki.crl(country, this_update=at - timedelta(days=10)), at=at)
