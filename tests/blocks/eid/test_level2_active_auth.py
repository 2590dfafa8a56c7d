"""Level 2 at the desk with chips that offer Active Authentication, and the live photo of a foreign
resident compared with her passport chip's portrait (ICAO Doc 9303 part 11 §6.1; ADR 0017 §14).

The desk issues an 8-byte challenge with the page; the reader has the chip sign it; the service
verifies the answer with the DG15 key that passive authentication proved genuine. A clone — every
signed file of a genuine chip copied onto a chip with another key — passes passive authentication
and fails here.

Actors: Anna Schmidt (German resident, level 1) and her passport with AA; Nguyễn Văn An (level 1)
and his card with AA; a forger's clone of each; the Tây Hồ officer."""

from __future__ import annotations

import base64

import pytest

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import services
from dancu.blocks.eid.models import Account
from dancu.blocks.identity.chip import ChipData, TrustStore, issue_chip
from dancu.blocks.identity.passport import issue_passport_chip
from dancu.blocks.identity.reader import AccessKey, SimulatedReader
from dancu.errors import DomainValidationError
from tests.blocks.eid.conftest import AN_ID, face, portrait
from tests.blocks.eid.test_foreigners import anna  # noqa: F401 — the fixture
from tests.blocks.eid.test_foreigners_level2 import activate, anna_level1  # noqa: F401 — the fixture
from tests.blocks.identity.conftest import Pki, an_holder
from tests.blocks.identity.passport_helpers import (
    ON_THE_DAY,
    anna_passport_mrz,
    foreign_pki,
    import_foreign_trust,
    rule_of,
)
from tests.conftest import Person

pytestmark = pytest.mark.django_db
CHALLENGE = bytes.fromhex("a1b2c3d4e5f60718")
FILES = ("com", "dg1", "dg2", "dg13", "dg14", "dg15", "sod")


def clone(chip: ChipData, other: ChipData) -> ChipData:
    """Every file of ``chip`` on a chip whose AA key is ``other``'s (the genuine key stays inside
    the genuine chip)."""
    return ChipData(
        sod=chip.sod, data_groups=dict(chip.data_groups), com=chip.com, aa_private_key=other.aa_private_key
    )


def read(chip: ChipData, key: AccessKey, challenge: bytes = CHALLENGE) -> tuple[dict[str, str], bytes]:
    """The desk reader's answer: the files and the chip's signature of ``challenge``."""
    device = SimulatedReader()
    device.place(chip)
    got = device.read(key, FILES, challenge)
    return got.files, base64.b64decode(got.active_auth)


def annas_passport() -> ChipData:
    return issue_passport_chip(
        anna_passport_mrz(), foreign_pki().document_signer("DE"), face_seed=7, with_active_auth=True
    )


def annas_key() -> AccessKey:
    mrz = anna_passport_mrz()
    return AccessKey.from_mrz(mrz.document_number, mrz.date_of_birth, mrz.date_of_expiry)


@pytest.fixture
def trusted_germany() -> None:
    import_foreign_trust(["DE"], at=ON_THE_DAY)


# --------------------------------------------------------------------------- foreign residents
def test_anna_is_raised_on_a_chip_that_signed_the_desks_challenge_and_her_face_matches(
    anna_level1: int,  # noqa: F811
    trusted_germany: None,
    ward_police: Person,
) -> None:
    chip = annas_passport()
    files, answer = read(chip, annas_key())
    done = activate(
        ward_police, chip_files=files, aa_challenge=CHALLENGE, aa_answer=answer, live_photo=portrait(chip)
    )
    assert (done.evidence, done.chip, done.active_auth, done.face) == (
        "passport_chip",
        "verified",
        "verified",
        "matched",
    )
    event = AuditEvent.objects.get(action="eid.activate.foreigner", result="ok")
    assert (event.detail["active_auth"], event.detail["face"]) == ("verified", "matched")


def test_a_cloned_passport_chip_is_refused_at_the_aa_signature_and_audited(
    anna_level1: int,  # noqa: F811
    trusted_germany: None,
    ward_police: Person,
) -> None:
    forged = clone(annas_passport(), annas_passport())
    files, answer = read(forged, annas_key())
    with pytest.raises(DomainValidationError) as refused:
        activate(ward_police, chip_files=files, aa_challenge=CHALLENGE, aa_answer=answer)
    assert refused.value.problems[0].field == "passport_chip" and rule_of(refused) == "aa.signature"
    assert Account.objects.get(pk=anna_level1).level == 1
    event = AuditEvent.objects.get(action="eid.activate.foreigner", result="denied")
    assert event.detail["step"] == "aa.signature"


def test_a_passport_chip_with_aa_read_without_the_challenge_is_refused(
    anna_level1: int,  # noqa: F811
    trusted_germany: None,
    ward_police: Person,
) -> None:
    files, _answer = read(annas_passport(), annas_key())
    with pytest.raises(DomainValidationError) as refused:
        activate(ward_police, chip_files=files)
    assert rule_of(refused) == "aa.response"
    assert Account.objects.get(pk=anna_level1).level == 1


def test_a_live_photo_of_someone_else_is_refused_and_audited(
    anna_level1: int,  # noqa: F811
    trusted_germany: None,
    ward_police: Person,
) -> None:
    files, answer = read(annas_passport(), annas_key())
    with pytest.raises(DomainValidationError) as refused:
        activate(ward_police, chip_files=files, aa_challenge=CHALLENGE, aa_answer=answer, live_photo=face(42))
    assert (refused.value.problems[0].field, rule_of(refused)) == ("live_photo", "face_mismatch")
    assert Account.objects.get(pk=anna_level1).level == 1
    event = AuditEvent.objects.get(action="eid.activate.foreigner", result="denied")
    assert event.detail["reason"] == "face_mismatch"


def test_a_live_photo_that_is_not_an_image_names_the_field(
    anna_level1: int,  # noqa: F811
    trusted_germany: None,
    ward_police: Person,
) -> None:
    files, answer = read(annas_passport(), annas_key())
    with pytest.raises(DomainValidationError) as refused:
        activate(
            ward_police, chip_files=files, aa_challenge=CHALLENGE, aa_answer=answer, live_photo=b"GIF89a?"
        )
    assert (refused.value.problems[0].field, rule_of(refused)) == ("live_photo", "image")


def test_without_a_chip_the_face_stays_the_officers_check(
    anna_level1: int,  # noqa: F811
    ward_police: Person,
) -> None:
    done = activate(ward_police, live_photo=face(42))  # no chip: nothing to compare the photo with
    assert (done.evidence, done.face, done.active_auth) == ("passport_mrz_optical", "officer", "not_offered")


def test_a_forgers_chip_of_an_untrusted_state_is_neither_aa_verified_nor_a_face_match(
    anna_level1: int,  # noqa: F811
    ward_police: Person,
) -> None:
    """Review of 03/12/2026: Germany's CSCA is not imported. A forger's chip with Anna's MRZ, his
    own Document Signer (the synthetic US one), his own AA key and his own portrait signs the
    challenge and carries the portrait the live photo shows; neither proves anything without a
    trusted CSCA, so the page and the audit do not say "verified"/"matched"."""
    forged = issue_passport_chip(
        anna_passport_mrz(), foreign_pki().document_signer("US"), face_seed=99, with_active_auth=True
    )
    files, answer = read(forged, annas_key())
    done = activate(
        ward_police, chip_files=files, aa_challenge=CHALLENGE, aa_answer=answer, live_photo=portrait(forged)
    )
    assert (done.evidence, done.chip, done.active_auth, done.face) == (
        "passport_mrz_optical",
        "state_not_trusted",
        "key_untrusted",
        "officer",
    )
    event = AuditEvent.objects.get(action="eid.activate.foreigner", result="ok")
    assert (event.detail["active_auth"], event.detail["face"]) == ("key_untrusted", "officer")


# --------------------------------------------------------------------------- citizens' cards
@pytest.fixture
def an_chip_with_aa(pki: Pki) -> ChipData:
    ds = pki.document_signer
    return issue_chip(an_holder(), ds.private_key, ds.certificate, with_active_auth=True)


def an_key(chip: ChipData) -> AccessKey:
    return AccessKey.from_can(AN_ID[-6:])


def test_an_is_raised_with_a_card_that_signed_the_desks_challenge(
    an_registered: int, an_chip_with_aa: ChipData, trusted: TrustStore, ward_police: Person
) -> None:
    files, answer = read(an_chip_with_aa, an_key(an_chip_with_aa))
    services.activate_level2(
        ward_police.ctx("eid.activation"),
        chip_files=files,
        live_photo=portrait(an_chip_with_aa),
        aa_challenge=CHALLENGE,
        aa_answer=answer,
    )
    assert Account.objects.get(id_number=AN_ID).level == 2


@pytest.mark.parametrize("how", ["clone", "replayed_answer", "no_answer", "dg15_left_out"])
def test_a_cloned_card_or_a_skipped_aa_is_refused_and_audited(
    an_registered: int,
    an_chip_with_aa: ChipData,
    trusted: TrustStore,
    ward_police: Person,
    pki: Pki,
    how: str,
) -> None:
    chip = an_chip_with_aa
    if how == "clone":
        ds = pki.document_signer
        chip = clone(chip, issue_chip(an_holder(), ds.private_key, ds.certificate, with_active_auth=True))
    files, answer = read(chip, an_key(chip), challenge=bytes(8) if how == "replayed_answer" else CHALLENGE)
    if how == "dg15_left_out":
        del files["dg15"]
    with pytest.raises(DomainValidationError) as refused:
        services.activate_level2(
            ward_police.ctx("eid.activation"),
            chip_files=files,
            live_photo=portrait(chip),
            aa_challenge=CHALLENGE,
            aa_answer=None if how == "no_answer" else answer,
        )
    expected = {
        "clone": "aa.signature",
        "replayed_answer": "aa.signature",
        "no_answer": "aa.response",
        "dg15_left_out": "dg15.read",
    }[how]
    assert refused.value.problems[0].field == "chip"
    assert refused.value.problems[0].rule == f"active_authentication.{expected}"
    assert Account.objects.get(id_number=AN_ID).level == 1
    event = AuditEvent.objects.get(action="eid.activate", result="denied")
    assert event.detail == {"reason": "active_authentication", "step": expected}
