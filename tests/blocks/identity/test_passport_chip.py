"""Foreign passports' chips: the synthetic issuer, the desk's check against the foreign trust store
(ICAO Doc 9303 part 11 §5.1, part 12 §9; ADR 0017 §10), and the development NFC reader.

Actors: Anna Schmidt's German passport (synthetic German DS), John Doe's US passport (synthetic US
CSCA, in no master list), a forger who edits DG1, and a forger whose DS is certified by France."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dancu.blocks.identity.chip import ChipData, create_document_signer
from dancu.blocks.identity.chip.lds import encode_dg1_td3, parse_dg1, parse_dg1_td3
from dancu.blocks.identity.passport import issue_passport_chip, verify_passport_chip
from dancu.blocks.identity.reader import AccessKey, ReaderError, SimulatedReader
from dancu.errors import DomainValidationError
from tests.blocks.identity.passport_helpers import (
    ON_THE_DAY,
    PKI_START,
    anna_passport_mrz,
    foreign_pki,
    import_foreign_trust,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def master_list_imported() -> None:
    """The master list of DE, FR, JP and KR, and a current CRL of each CSCA (ADR 0017 §12)."""
    import_foreign_trust(["DE", "FR", "JP", "KR"], at=ON_THE_DAY)


def anna_chip() -> ChipData:
    return issue_passport_chip(anna_passport_mrz(), foreign_pki().document_signer("DE"), face_seed=7)


def test_annas_german_chip_passes_against_germanys_csca(master_list_imported: None) -> None:
    report = verify_passport_chip(anna_chip().to_dict(), anna_passport_mrz(), at=ON_THE_DAY)
    assert (report.outcome, report.failed_step, report.failures) == ("verified", "", [])
    assert report.passive is not None and report.passive.verified_data_groups == (1, 2)
    assert report.passive.td3_lines == anna_passport_mrz().lines


def test_a_dg1_edited_after_signing_fails_at_the_dg1_hash(master_list_imported: None) -> None:
    forged = encode_dg1_td3(anna_passport_mrz(date_of_expiry=date(2035, 5, 1)).lines)
    files = anna_chip().replace(dg1=forged).to_dict()
    report = verify_passport_chip(files, anna_passport_mrz(date_of_expiry=date(2035, 5, 1)), at=ON_THE_DAY)
    assert (report.outcome, report.failed_step) == ("failed", "dg1.hash")


def test_another_passports_chip_fails_the_mrz_comparison(master_list_imported: None) -> None:
    other = issue_passport_chip(
        anna_passport_mrz(document_number="C01X00T55"), foreign_pki().document_signer("DE")
    )
    report = verify_passport_chip(other.to_dict(), anna_passport_mrz(), at=ON_THE_DAY)
    assert (report.outcome, report.failed_step) == ("failed", "dg1.mrz_match")


def test_a_ds_certified_by_france_cannot_sign_a_german_passport(master_list_imported: None) -> None:
    french_ds = foreign_pki().document_signer("FR")
    chip = issue_passport_chip(anna_passport_mrz(), french_ds)
    report = verify_passport_chip(chip.to_dict(), anna_passport_mrz(), at=ON_THE_DAY)
    assert (report.outcome, report.failed_step) == ("failed", "ds.issuer")  # untrusted CSCA for "D"


def test_a_chip_signed_by_an_expired_document_signer_fails_at_its_validity(
    master_list_imported: None,
) -> None:
    german_csca = foreign_pki().states["DE"][0]
    short_ds = create_document_signer(german_csca, not_before=PKI_START, validity=timedelta(days=30))
    chip = issue_passport_chip(anna_passport_mrz(), short_ds)
    report = verify_passport_chip(chip.to_dict(), anna_passport_mrz(), at=ON_THE_DAY)
    assert (report.outcome, report.failed_step) == ("failed", "ds.validity")


def test_a_consistent_chip_of_a_state_in_no_master_list_is_only_not_trusted(
    master_list_imported: None,
) -> None:
    john = anna_passport_mrz(
        issuing_state="USA",
        nationality="USA",
        document_number="567890123",
        primary_identifier="DOE",
        secondary_identifier="JOHN",
        sex="M",
    )
    chip = issue_passport_chip(john, foreign_pki().document_signer("US"))
    report = verify_passport_chip(chip.to_dict(), john, at=ON_THE_DAY)
    assert (report.outcome, report.state_trusted, report.failed_step) == ("state_not_trusted", False, "")
    tampered = chip.replace(dg2=chip.dg2 + b"\x00").to_dict()  # type: ignore[operator]
    assert verify_passport_chip(tampered, john, at=ON_THE_DAY).failed_step == "dg2.hash"


def test_unreadable_reader_output_fails_at_the_files_step(master_list_imported: None) -> None:
    report = verify_passport_chip({"dg1": "not base64!"}, anna_passport_mrz(), at=ON_THE_DAY)
    assert (report.outcome, report.failed_step) == ("failed", "chip.files")


def test_a_passport_dg1_is_td3_and_a_card_parser_refuses_it() -> None:
    dg1 = anna_chip().dg1
    assert dg1 is not None and parse_dg1_td3(dg1) == anna_passport_mrz().lines
    with pytest.raises(DomainValidationError) as err:
        parse_dg1(dg1)
    assert err.value.problems[0].rule == "td1_length"


def test_the_development_reader_opens_a_passport_only_with_its_mrz_key() -> None:
    reader = SimulatedReader()
    reader.place(anna_chip())
    mrz = anna_passport_mrz()
    read = reader.read(AccessKey.from_mrz(mrz.document_number, mrz.date_of_birth, mrz.date_of_expiry))
    assert read.access == "bac" and {"sod", "dg1", "dg2"} <= set(read.files)
    with pytest.raises(ReaderError) as wrong:
        reader.read(AccessKey.from_mrz(mrz.document_number, mrz.date_of_birth, date(2031, 5, 1)))
    assert wrong.value.rule == "access_denied"
    with pytest.raises(ReaderError) as can:
        reader.read(AccessKey.from_can("123456"))  # no CAN is simulated for a passport
    assert can.value.rule == "access_denied"
