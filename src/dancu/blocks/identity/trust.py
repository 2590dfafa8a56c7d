"""The CSCA trust store for chip verification, and the synthetic PKI of development and demos.

Production names the trusted Country Signing CA certificates in ``DANCU_CHIP_TRUST_STORE`` (a
directory or a PEM bundle, ICAO Doc 9303 part 12; read by ``chip.TrustStore.from_env``).
Vietnam's CSCA is not public, so in demo mode (``DANCU_DEMO=1``) a synthetic CSCA and Document
Signer are created once under ``var/chip-pki/`` and trusted. Without either the store is empty:
every chip then fails passive authentication at step ``ds.issuer``, which names the cause —
never a chip accepted without a trust anchor.

The store is built once per process (its DS → CSCA cache is then shared by every request).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from dancu.blocks.identity.chip import CertifiedKey, TrustStore, create_csca, create_document_signer
from dancu.blocks.identity.chip.pki import TRUST_STORE_ENV
from dancu.errors import DomainValidationError

DEMO_PKI_DIRECTORY = "chip-pki"
_lock = threading.Lock()
_store: TrustStore | None = None
_override: TrustStore | None = None


@dataclass(frozen=True)
class SyntheticPki:
    """A synthetic CSCA and a Document Signer it certified (never the real Vietnamese CSCA)."""

    csca: CertifiedKey
    document_signer: CertifiedKey


def synthetic_pki(directory: Path | None = None) -> SyntheticPki:
    """The synthetic PKI kept in ``directory`` (default ``var/chip-pki``), created on first use.
    Private keys are written with mode 0600; a damaged pair is replaced by a new one."""
    where = directory or Path(settings.VAR_DIR) / DEMO_PKI_DIRECTORY
    try:
        return SyntheticPki(CertifiedKey.load(where, "csca"), CertifiedKey.load(where, "document-signer"))
    except (FileNotFoundError, DomainValidationError):
        csca = create_csca()
        ds = create_document_signer(csca)
        csca.save(where, "csca")
        ds.save(where, "document-signer")
        return SyntheticPki(csca, ds)


def _load() -> TrustStore:
    if os.environ.get(TRUST_STORE_ENV):
        return TrustStore.from_env()
    if getattr(settings, "DEMO", False):
        return TrustStore([synthetic_pki().csca.certificate])
    return TrustStore()


def configured_trust_store() -> TrustStore:
    """The trust store verification uses (see the module docstring for where it comes from)."""
    global _store
    if _override is not None:
        return _override
    with _lock:
        if _store is None:
            _store = _load()
        return _store


@contextmanager
def override_trust_store(store: TrustStore) -> Iterator[TrustStore]:
    """Use ``store`` instead of the configured one (tests, tools) for the duration of the block."""
    global _override
    previous = _override
    _override = store
    try:
        yield store
    finally:
        _override = previous
