"""The chip of the Vietnamese citizen identity card: an ICAO Doc 9303 eMRTD (domain-vn §3).

Issue a synthetic chip for a card holder and verify a chip read sent by an NFC reader::

    from dancu.blocks.identity import chip

    csca = chip.create_csca()
    ds = chip.create_document_signer(csca)
    data = chip.issue_chip(holder, ds.private_key, ds.certificate, with_active_auth=True)
    payload = data.to_dict()                      # what a reader app POSTs

    store = chip.TrustStore([csca.certificate])   # production: TrustStore.from_env()
    report = chip.passive_authentication(chip.ChipData.from_dict(payload), store, at=now)
    report.ok, report.steps, report.dg13, report.mrz_lines
    aa = chip.active_authentication(data.dg15, data.simulated_chip(), dg14=data.dg14)

Modules: :mod:`.pki` (CSCA, DS, trust store), :mod:`.lds` (data groups), :mod:`.sod` (EF.SOD),
:mod:`.issuer` (personalisation, the wire form), :mod:`.verify` (passive and active
authentication), :mod:`.tlv` (BER-TLV), :mod:`.face` (synthetic portrait).
"""

from dancu.blocks.identity.chip.face import synthetic_face_jpeg
from dancu.blocks.identity.chip.issuer import CardHolder, ChipData, SimulatedChip, issue_chip
from dancu.blocks.identity.chip.lds import (
    DG13,
    FaceImage,
    encode_dg13,
    parse_dg1,
    parse_dg2,
    parse_dg13,
    parse_dg15,
)
from dancu.blocks.identity.chip.pki import (
    CertifiedKey,
    TrustStore,
    create_csca,
    create_document_signer,
)
from dancu.blocks.identity.chip.sod import build_sod, parse_sod
from dancu.blocks.identity.chip.verify import (
    MANDATORY_DATA_GROUPS,
    ActiveAuthReport,
    PassiveAuthReport,
    Step,
    active_authentication,
    chip_active_authentication,
    passive_authentication,
)

__all__ = [
    "DG13",
    "MANDATORY_DATA_GROUPS",
    "ActiveAuthReport",
    "CardHolder",
    "CertifiedKey",
    "ChipData",
    "FaceImage",
    "PassiveAuthReport",
    "SimulatedChip",
    "Step",
    "TrustStore",
    "active_authentication",
    "build_sod",
    "chip_active_authentication",
    "create_csca",
    "create_document_signer",
    "encode_dg13",
    "issue_chip",
    "parse_dg1",
    "parse_dg2",
    "parse_dg13",
    "parse_dg15",
    "parse_sod",
    "passive_authentication",
    "synthetic_face_jpeg",
]
