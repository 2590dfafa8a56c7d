"""Active Authentication of a chip read at a desk, and PACE with a passport's CAN (ICAO Doc 9303
part 11 §6.1 and §4.4; ADR 0017 §14).

The reader adapter passes the server's 8-byte challenge to the chip (INTERNAL AUTHENTICATE) and
returns the chip's answer; the server checks it with the DG15 key that passive authentication
proved to be the issuer's. Every driver (the development reader, the same reader behind the HTTP
bridge) keeps that contract.

Actors: Anna Schmidt's German passport, issued with an Active Authentication key and a card
access number printed on its data page; a forger who copied every signed file of Anna's chip onto
a blank chip with a key of his own (a clone); Nguyễn Văn An's card, issued without AA."""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from dancu.blocks.identity.chip import (
    ChipData,
    TrustStore,
    chip_active_authentication,
    passive_authentication,
)
from dancu.blocks.identity.chip.issuer import SimulatedChip
from dancu.blocks.identity.passport import issue_passport_chip, verify_passport_chip
from dancu.blocks.identity.reader import (
    AccessKey,
    BridgeClient,
    ChipReader,
    ReaderError,
    SimulatedReader,
    serve_bridge,
)
from tests.blocks.identity.passport_helpers import (
    ON_THE_DAY,
    anna_passport_mrz,
    foreign_pki,
    import_foreign_trust,
)

pytestmark = pytest.mark.django_db
ORIGIN = "http://desk.test"
ANNA_CAN = "482916"
CHALLENGE = bytes.fromhex("0123456789abcdef")
FILES = ("com", "dg1", "dg2", "dg14", "dg15", "sod")


def annas_chip() -> ChipData:
    return issue_passport_chip(
        anna_passport_mrz(), foreign_pki().document_signer("DE"), face_seed=7, with_active_auth=True
    )


def annas_key() -> AccessKey:
    mrz = anna_passport_mrz()
    return AccessKey.from_mrz(mrz.document_number, mrz.date_of_birth, mrz.date_of_expiry)


def a_clone_of(chip: ChipData) -> ChipData:
    """The forger's chip: every file of the genuine chip (the signed ones included), but the AA
    private key cannot be read out of a chip, so his answers come from a key of his own."""
    other = issue_passport_chip(
        anna_passport_mrz(), foreign_pki().document_signer("DE"), with_active_auth=True
    )
    return ChipData(
        sod=chip.sod, data_groups=dict(chip.data_groups), com=chip.com, aa_private_key=other.aa_private_key
    )


@pytest.fixture
def master_list_imported() -> None:
    import_foreign_trust(["DE"], at=ON_THE_DAY)


@pytest.fixture
def device() -> SimulatedReader:
    return SimulatedReader()


@pytest.fixture(params=["simulated", "bridge"])
def reader(request: pytest.FixtureRequest, device: SimulatedReader) -> Iterator[ChipReader]:
    if request.param == "simulated":
        yield device
        return
    server = serve_bridge(device, origin=ORIGIN)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield BridgeClient(f"http://127.0.0.1:{server.server_address[1]}", origin=ORIGIN)
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- the reader's contract
def test_the_reader_returns_the_chips_answer_to_the_servers_challenge(
    reader: ChipReader, device: SimulatedReader
) -> None:
    chip = annas_chip()
    device.place(chip)
    read = reader.read(annas_key(), FILES, CHALLENGE)
    assert read.access == "bac" and {"dg14", "dg15"} <= set(read.files)
    read_chip = ChipData.from_dict(read.files)
    passive = passive_authentication(
        read_chip, TrustStore([]), at=ON_THE_DAY, mandatory=(1, 2), dg1_format="td3"
    )  # trust is not the point here: the SOD's list of data groups is
    report = chip_active_authentication(read_chip, passive, CHALLENGE, base64.b64decode(read.active_auth))
    assert report is not None and report.ok, report


def test_without_a_challenge_or_on_a_chip_without_aa_there_is_no_answer(
    reader: ChipReader, device: SimulatedReader
) -> None:
    device.place(annas_chip())
    assert reader.read(annas_key(), FILES).active_auth == ""
    device.place(issue_passport_chip(anna_passport_mrz(), foreign_pki().document_signer("DE")))
    assert reader.read(annas_key(), FILES, CHALLENGE).active_auth == ""


@pytest.mark.parametrize("challenge", [b"", b"1234567", b"123456789"])
def test_a_challenge_that_is_not_8_bytes_is_malformed(
    reader: ChipReader, device: SimulatedReader, challenge: bytes
) -> None:
    device.place(annas_chip())
    with pytest.raises(ReaderError) as refused:
        reader.read(annas_key(), FILES, challenge)
    assert refused.value.rule == "malformed"


def test_the_bridge_refuses_a_challenge_that_is_not_16_hex_digits(device: SimulatedReader) -> None:
    device.place(annas_chip())
    server = serve_bridge(device, origin=ORIGIN)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for bad in ("zz23456789abcdef", "0123", 12345678):
            body = json.dumps({"can": ANNA_CAN, "challenge": bad}).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{server.server_address[1]}/read",
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "Origin": ORIGIN},
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)  # noqa: S310
            assert refused.value.code == 400
            assert json.loads(refused.value.read())["error"] == "malformed"
    finally:
        server.shutdown()
        server.server_close()


def test_a_pace_passport_opens_with_the_can_printed_on_its_data_page(
    reader: ChipReader, device: SimulatedReader
) -> None:
    device.place(annas_chip(), can=ANNA_CAN)
    read = reader.read(AccessKey.from_can(ANNA_CAN), FILES, CHALLENGE)
    assert read.access == "pace" and read.active_auth
    with pytest.raises(ReaderError) as wrong:
        reader.read(AccessKey.from_can("482917"))
    assert wrong.value.rule == "access_denied"
    assert reader.read(annas_key()).access == "bac"  # BAC still opens it


def test_a_passport_without_a_can_refuses_every_can(reader: ChipReader, device: SimulatedReader) -> None:
    device.place(annas_chip())
    with pytest.raises(ReaderError) as refused:
        reader.read(AccessKey.from_can(ANNA_CAN))
    assert refused.value.rule == "access_denied"


def test_a_vietnamese_cards_can_comes_from_its_id_number_only(an_chip: ChipData) -> None:
    with pytest.raises(ValueError, match="ID number"):
        SimulatedReader().place(an_chip, can="123456")
    with pytest.raises(ValueError, match="6 digits"):
        SimulatedReader().place(annas_chip(), can="12345")


# --------------------------------------------------------------------------- the desk's check
def _read(chip: ChipData, challenge: bytes = CHALLENGE) -> tuple[dict[str, str], bytes]:
    device = SimulatedReader()
    device.place(chip)
    read = device.read(annas_key(), FILES, challenge)
    return read.files, base64.b64decode(read.active_auth)


def test_annas_chip_signs_the_desks_challenge_and_is_verified(master_list_imported: None) -> None:
    files, answer = _read(annas_chip())
    report = verify_passport_chip(
        files, anna_passport_mrz(), at=ON_THE_DAY, challenge=CHALLENGE, aa_answer=answer
    )
    assert (report.outcome, report.active_auth, report.failures) == ("verified", "verified", [])
    assert [s.name for s in report.steps if s.name.startswith(("aa.", "dg14.aa", "dg15.p"))] == [
        "dg15.parse",
        "dg14.aa_info",
        "aa.response",
        "aa.signature",
    ]


def test_a_clone_passes_passive_authentication_but_fails_active_authentication(
    master_list_imported: None,
) -> None:
    files, answer = _read(a_clone_of(annas_chip()))
    report = verify_passport_chip(
        files, anna_passport_mrz(), at=ON_THE_DAY, challenge=CHALLENGE, aa_answer=answer
    )
    assert report.passive is not None and report.passive.ok  # every signed file is genuine
    assert (report.outcome, report.failed_step, report.active_auth) == ("failed", "aa.signature", "failed")


def test_an_answer_recorded_for_another_challenge_is_not_accepted(master_list_imported: None) -> None:
    files, recorded = _read(annas_chip(), challenge=bytes(8))
    report = verify_passport_chip(
        files, anna_passport_mrz(), at=ON_THE_DAY, challenge=CHALLENGE, aa_answer=recorded
    )
    assert (report.outcome, report.failed_step) == ("failed", "aa.signature")


def test_a_chip_that_offers_aa_is_not_accepted_without_an_answer(master_list_imported: None) -> None:
    files, _answer = _read(annas_chip())
    for challenge, answer in ((None, None), (CHALLENGE, None), (None, b"x" * 64)):
        report = verify_passport_chip(
            files, anna_passport_mrz(), at=ON_THE_DAY, challenge=challenge, aa_answer=answer
        )
        assert (report.outcome, report.failed_step) == ("failed", "aa.response")


def test_leaving_dg15_out_of_the_read_does_not_skip_aa(master_list_imported: None) -> None:
    files, _answer = _read(a_clone_of(annas_chip()))
    del files["dg15"]
    report = verify_passport_chip(
        files, anna_passport_mrz(), at=ON_THE_DAY, challenge=CHALLENGE, aa_answer=None
    )
    assert (report.outcome, report.failed_step) == ("failed", "dg15.read")


def test_a_chip_without_aa_is_verified_by_passive_authentication_alone(master_list_imported: None) -> None:
    chip = issue_passport_chip(anna_passport_mrz(), foreign_pki().document_signer("DE"))
    report = verify_passport_chip(chip.to_dict(), anna_passport_mrz(), at=ON_THE_DAY, challenge=CHALLENGE)
    assert (report.outcome, report.active_auth) == ("verified", "not_offered")


def test_the_simulated_chip_answers_in_the_plain_format() -> None:
    chip = annas_chip()
    assert chip.aa_private_key is not None
    assert len(SimulatedChip(chip.aa_private_key)(CHALLENGE)) == 64  # r ‖ s on P-256


def test_a_bridge_answer_whose_active_auth_is_not_text_is_refused() -> None:
    """Review of 03/12/2026: the client trusts the bridge for nothing — an ``active_auth`` that is
    not base64 text (here a list) is not turned into its repr."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Liar(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps({"files": {}, "access": "bac", "active_auth": ["AAAA"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Liar)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = BridgeClient(f"http://127.0.0.1:{server.server_address[1]}", origin=ORIGIN)
        with pytest.raises(ReaderError) as refused:
            client.read(annas_key(), FILES, CHALLENGE)
        assert refused.value.rule == "unavailable"
    finally:
        server.shutdown()
        server.server_close()


def test_a_forgers_chip_of_a_state_without_a_trusted_csca_signs_but_is_not_verified() -> None:
    """Review of 03/12/2026: Germany's CSCA is not imported; a forger personalises a chip with
    Anna's MRZ, signs its SOD with a Document Signer of his own (here the synthetic US one) and
    gives it an AA key of his own. It answers the challenge, but no trusted CSCA vouches for its
    DG15 key: the signature is ``key_untrusted``, never ``verified``."""
    forged = issue_passport_chip(
        anna_passport_mrz(), foreign_pki().document_signer("US"), face_seed=99, with_active_auth=True
    )
    files, answer = _read(forged)
    report = verify_passport_chip(
        files, anna_passport_mrz(), at=ON_THE_DAY, challenge=CHALLENGE, aa_answer=answer
    )
    assert [s.ok for s in report.steps if s.name.startswith("aa.")] == [True, True]  # it signed
    assert {s.name for s in report.failures} <= {"state.trusted", "ds.issuer"}
    assert (report.outcome, report.active_auth) == ("state_not_trusted", "key_untrusted")


def test_a_read_with_a_challenge_brings_dg14_and_dg15_even_when_not_asked(
    reader: ChipReader, device: SimulatedReader
) -> None:
    """What the answer is checked with comes with it: the default file list has no DG15."""
    device.place(annas_chip())
    read = reader.read(annas_key(), ("dg1", "sod"), CHALLENGE)
    assert set(read.files) == {"dg1", "sod", "dg14", "dg15"} and read.active_auth
