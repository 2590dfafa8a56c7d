"""RSA Active Authentication: ISO/IEC 9796-2 Digital Signature scheme 1 with partial recovery, as
ICAO Doc 9303 part 11 §6.1.2 has RSA chips answer INTERNAL AUTHENTICATE (ADR 0017 §14). Many
passports in service carry RSA AA keys: a genuine one must pass, a clone must not.

Actors: Anna Schmidt's German passport with an RSA AA key; a forger who copied its signed files
onto a chip with an RSA key of his own; an answer tampered with on the way."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dancu.blocks.identity.chip import (
    ChipData,
    TrustStore,
    active_authentication,
    iso9796,
    passive_authentication,
)
from dancu.blocks.identity.chip.lds import encode_dg15
from dancu.blocks.identity.passport import issue_passport_chip, verify_passport_chip
from dancu.blocks.identity.reader import AccessKey, SimulatedReader
from dancu.errors import DomainValidationError
from tests.blocks.identity.passport_helpers import (
    ON_THE_DAY,
    anna_passport_mrz,
    foreign_pki,
    import_foreign_trust,
)

CHALLENGE = bytes.fromhex("1122334455667788")
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rule(err: pytest.ExceptionInfo[DomainValidationError]) -> str:
    return err.value.problems[0].rule


# --------------------------------------------------------------------------- the scheme
@pytest.mark.parametrize("hash_name", ["sha1", "sha224", "sha256", "sha384", "sha512"])
def test_an_answer_verifies_with_the_chips_key_and_names_its_hash(hash_name: str) -> None:
    answer = iso9796.sign(KEY, CHALLENGE, hash_name=hash_name)
    assert len(answer) == 256
    assert iso9796.verify(KEY.public_key(), answer, CHALLENGE) == hash_name


def test_the_sha1_trailer_is_the_single_byte_bc_and_others_are_id_cc() -> None:
    n, e = KEY.public_key().public_numbers().n, KEY.public_key().public_numbers().e
    for hash_name, tail in (("sha1", b"\xbc"), ("sha256", b"\x34\xcc")):
        block = pow(int.from_bytes(iso9796.sign(KEY, CHALLENGE, hash_name=hash_name), "big"), e, n)
        raw = block.to_bytes(256, "big")
        assert raw[0] == 0x6A and raw.endswith(tail)


def test_the_answer_to_another_challenge_or_from_another_key_is_refused() -> None:
    with pytest.raises(DomainValidationError) as other_challenge:
        iso9796.verify(KEY.public_key(), iso9796.sign(KEY, bytes(8)), CHALLENGE)
    assert rule(other_challenge) == "digest"
    with pytest.raises(DomainValidationError) as other_key:
        iso9796.verify(KEY.public_key(), iso9796.sign(OTHER_KEY, CHALLENGE), CHALLENGE)
    # The other key's answer is a number below the other modulus, which may lie above this one:
    # then it is refused before any decoding ("range"); the keys are drawn afresh each run.
    assert rule(other_key) in ("range", "header", "trailer", "hash", "digest")


def test_a_tampered_short_or_out_of_range_answer_is_refused_with_its_rule() -> None:
    answer = bytearray(iso9796.sign(KEY, CHALLENGE))
    answer[100] ^= 0x01
    with pytest.raises(DomainValidationError) as tampered:
        iso9796.verify(KEY.public_key(), bytes(answer), CHALLENGE)
    assert rule(tampered) in ("header", "trailer", "hash", "digest")
    with pytest.raises(DomainValidationError) as short:
        iso9796.verify(KEY.public_key(), bytes(answer[:-1]), CHALLENGE)
    assert rule(short) == "length"
    n = KEY.public_key().public_numbers().n
    with pytest.raises(DomainValidationError) as too_big:
        iso9796.verify(KEY.public_key(), (n + 1).to_bytes(256, "big"), CHALLENGE)
    assert rule(too_big) == "range"
    with pytest.raises(DomainValidationError) as zero:
        iso9796.verify(KEY.public_key(), bytes(256), CHALLENGE)
    assert rule(zero) == "range"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=0, max_size=300), st.binary(min_size=8, max_size=8))
def test_any_bytes_as_an_answer_are_refused_cleanly(answer: bytes, challenge: bytes) -> None:
    """Fuzzed: never an exception but the refusal (and, on random bytes, never a pass)."""
    with pytest.raises(DomainValidationError):
        iso9796.verify(KEY.public_key(), answer, challenge)


# --------------------------------------------------------------------------- a chip with an RSA key
def test_active_authentication_of_an_rsa_chip_needs_no_dg14() -> None:
    dg15 = encode_dg15(KEY.public_key())
    genuine = active_authentication(dg15, lambda nonce: iso9796.sign(KEY, nonce), challenge=CHALLENGE)
    assert genuine.ok and [s.name for s in genuine.steps] == ["dg15.parse", "aa.response", "aa.signature"]
    clone = active_authentication(dg15, lambda nonce: iso9796.sign(OTHER_KEY, nonce), challenge=CHALLENGE)
    assert not clone.ok and clone.failures[0].name == "aa.signature"


def _read(chip: ChipData) -> tuple[dict[str, str], bytes]:
    device = SimulatedReader()
    device.place(chip)
    m = anna_passport_mrz()
    got = device.read(
        AccessKey.from_mrz(m.document_number, m.date_of_birth, m.date_of_expiry),
        ("com", "dg1", "dg2", "dg14", "dg15", "sod"),
        CHALLENGE,
    )
    return got.files, base64.b64decode(got.active_auth)


@pytest.mark.django_db
def test_annas_rsa_passport_is_verified_and_a_clone_of_it_is_refused() -> None:
    import_foreign_trust(["DE"], at=ON_THE_DAY)
    passport = issue_passport_chip(
        anna_passport_mrz(), foreign_pki().document_signer("DE"), with_active_auth="rsa"
    )
    assert passport.dg14 is None and passport.dg15 is not None  # RSA AA needs no DG14
    files, answer = _read(passport)
    report = verify_passport_chip(
        files, anna_passport_mrz(), at=ON_THE_DAY, challenge=CHALLENGE, aa_answer=answer
    )
    assert (report.outcome, report.active_auth) == ("verified", "verified")
    clone = ChipData(
        sod=passport.sod, data_groups=dict(passport.data_groups), com=passport.com, aa_private_key=OTHER_KEY
    )
    files, answer = _read(clone)
    forged = verify_passport_chip(
        files, anna_passport_mrz(), at=ON_THE_DAY, challenge=CHALLENGE, aa_answer=answer
    )
    assert (forged.outcome, forged.failed_step) == ("failed", "aa.signature")
    passive = passive_authentication(
        ChipData.from_dict(files), TrustStore([]), at=ON_THE_DAY, mandatory=(1, 2), dg1_format="td3"
    )
    assert 15 in passive.sod_data_groups
