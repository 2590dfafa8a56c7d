"""Importing ICAO CSCA master lists into the foreign passports' trust store (ICAO Doc 9303 part 12
§9; ADR 0017 §10).

Actors: the synthetic master-list compiler (its CSCA is the configured anchor) and its Master List
Signer; a forger who signs a list with a key of their own; the synthetic CSCAs of Germany, France,
Japan and Korea; the platform's trust administrator running ``dancu import_master_list``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dancu.blocks.identity.chip import create_csca
from dancu.blocks.identity.chip.masterlist import build_master_list, parse_master_list, verify_master_list
from dancu.blocks.identity.chip.pki import create_master_list_signer
from dancu.blocks.identity.foreign_trust import foreign_trust_store, import_master_list, trusted_states
from dancu.blocks.identity.models import ForeignCsca, MasterListImport
from dancu.blocks.identity.passport import issue_passport_chip
from dancu.errors import DomainValidationError
from tests.blocks.identity.passport_helpers import ON_THE_DAY, PKI_START, anna_passport_mrz, foreign_pki

pytestmark = pytest.mark.django_db


def anchors() -> list[x509.Certificate]:
    return [foreign_pki().compiler_csca.certificate]


def nothing_stored() -> bool:
    return not MasterListImport.objects.exists() and not ForeignCsca.objects.exists()


def test_a_list_signed_by_the_anchored_compiler_stores_each_states_csca_by_country() -> None:
    result = import_master_list(
        foreign_pki().master_list(["DE", "FR", "JP", "KR"]),
        anchors=anchors(),
        at=ON_THE_DAY,
        source_name="t.ml",
    )
    assert (result.csca_count, result.added_count, result.countries) == (4, 4, ("DE", "FR", "JP", "KR"))
    rows = {(r.country, r.issuing_state) for r in ForeignCsca.objects.all()}
    assert rows == {("DE", "D"), ("FR", "FRA"), ("JP", "JPN"), ("KR", "KOR")}  # Germany's MRZ code is "D"
    assert trusted_states() == {"D", "FRA", "JPN", "KOR"}
    assert len(foreign_trust_store("D")) == 1 and len(foreign_trust_store("USA")) == 0
    record = MasterListImport.objects.get()
    assert record.signer_subject.startswith("CN=Master List Signer") and record.source_name == "t.ml"


def test_importing_the_same_list_again_adds_nothing_new() -> None:
    data = foreign_pki().master_list(["DE", "FR"])
    import_master_list(data, anchors=anchors(), at=ON_THE_DAY)
    again = import_master_list(data, anchors=anchors(), at=ON_THE_DAY)
    assert (again.csca_count, again.added_count, ForeignCsca.objects.count()) == (2, 0, 2)


def test_a_list_whose_signature_was_altered_is_refused_and_nothing_is_stored() -> None:
    data = bytearray(foreign_pki().master_list())
    data[-3] ^= 0x01  # inside the ECDSA signature, the last field of the SignerInfo
    with pytest.raises(DomainValidationError) as err:
        import_master_list(bytes(data), anchors=anchors(), at=ON_THE_DAY)
    assert (err.value.problems[0].field, err.value.problems[0].rule) == ("master_list", "ml.signature")
    assert nothing_stored()


def test_a_list_with_a_csca_slipped_in_after_signing_is_refused() -> None:
    pki = foreign_pki()
    genuine = pki.master_list(["DE"])
    forged_csca = create_csca(country="DE", common_name="CSCA DE (forger)", not_before=PKI_START)
    forged = build_master_list([forged_csca.certificate], pki.list_signer)
    signed_part = parse_master_list(genuine).signed
    # Re-wrap the forger's content under the genuine signature: the message digest no longer matches.
    swapped = genuine.replace(signed_part.econtent, parse_master_list(forged).signed.econtent)
    with pytest.raises(DomainValidationError) as err:
        import_master_list(swapped, anchors=anchors(), at=ON_THE_DAY)
    assert err.value.problems[0].rule in ("ml.signed_attributes", "ml.parse")
    assert nothing_stored()


def test_a_forgers_list_signed_by_an_unanchored_signer_is_refused() -> None:
    forger_ca = create_csca(country="VN", common_name="Forger CA", not_before=PKI_START)
    forger_signer = create_master_list_signer(forger_ca, not_before=PKI_START)
    data = build_master_list([foreign_pki().states["US"][0].certificate], forger_signer)
    with pytest.raises(DomainValidationError) as err:
        import_master_list(data, anchors=anchors(), at=ON_THE_DAY)
    assert err.value.problems[0].rule == "ml.signer_anchor"
    assert nothing_stored()


def test_with_no_anchor_configured_every_list_is_refused() -> None:
    with pytest.raises(DomainValidationError) as err:
        import_master_list(foreign_pki().master_list(), anchors=[], at=ON_THE_DAY)
    assert err.value.problems[0].rule == "ml.signer_anchor" and nothing_stored()


def test_a_list_signed_by_a_document_signer_lacks_the_master_list_key_usage() -> None:
    pki = foreign_pki()
    # The compiler's CSCA is anchored, but the list is signed by a German DS: not anchored, no EKU.
    data = build_master_list([pki.states["FR"][0].certificate], pki.document_signer("DE"))
    report = verify_master_list(data, [pki.states["DE"][0].certificate], at=ON_THE_DAY)
    assert [s.name for s in report.failures] == ["ml.signer_usage"] and report.cscas == []


def test_a_list_verified_after_its_signer_expired_is_refused() -> None:
    late = ON_THE_DAY + timedelta(days=4 * 365)
    report = verify_master_list(foreign_pki().master_list(), anchors(), at=late)
    assert [s.name for s in report.failures] == ["ml.signer_validity"] and report.cscas == []


def test_an_ef_sod_is_not_a_master_list() -> None:
    pki = foreign_pki()
    chip = issue_passport_chip(anna_passport_mrz(), pki.document_signer("DE"))
    with pytest.raises(DomainValidationError) as err:
        parse_master_list(chip.sod[4:])  # the ContentInfo inside the 0x77 wrapper (2-byte length)
    assert err.value.problems[0].field.startswith("master_list")


def test_the_trust_administrator_imports_a_list_with_the_command(tmp_path: Path) -> None:
    pki = foreign_pki()
    list_file = tmp_path / "synthetic.ml"
    list_file.write_bytes(pki.master_list(["FR", "JP"]))
    anchor_file = tmp_path / "anchor.pem"
    anchor_file.write_bytes(pki.compiler_csca.certificate.public_bytes(serialization.Encoding.PEM))
    call_command("import_master_list", str(list_file), "--anchors", str(anchor_file))
    assert trusted_states() == {"FRA", "JPN"}


def test_the_command_refuses_a_tampered_list_naming_the_step(tmp_path: Path) -> None:
    pki = foreign_pki()
    data = bytearray(pki.master_list())
    data[-3] ^= 0x01
    list_file = tmp_path / "bad.ml"
    list_file.write_bytes(bytes(data))
    anchor_file = tmp_path / "anchor.pem"
    anchor_file.write_bytes(pki.compiler_csca.certificate.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(CommandError, match=r"ml\.signature"):
        call_command("import_master_list", str(list_file), "--anchors", str(anchor_file))
    assert nothing_stored()


# --------------------------------------------------------------------------- fuzzing the parser
_VALID = None


def _valid_list() -> bytes:
    global _VALID
    if _VALID is None:
        _VALID = foreign_pki().master_list(["DE", "FR"])
    return _VALID


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600))
def test_the_master_list_parser_on_arbitrary_bytes_returns_or_raises_a_domain_error(data: bytes) -> None:
    try:
        parsed = parse_master_list(data)
    except DomainValidationError as exc:
        assert all(p.field.startswith("master_list") for p in exc.problems)
    else:
        assert parsed.version == 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_a_mutated_master_list_never_verifies_unless_unchanged(index: int, octet: int) -> None:
    original = _valid_list()
    mutated = bytearray(original)
    mutated[index % len(mutated)] = octet
    report = verify_master_list(bytes(mutated), anchors(), at=ON_THE_DAY)
    if bytes(mutated) != original:
        # A changed byte either breaks the structure or a check; never an exception.
        assert not report.ok or _only_unsigned_parts_changed(original, bytes(mutated))
    else:
        assert report.ok


def _only_unsigned_parts_changed(original: bytes, mutated: bytes) -> bool:
    """Bytes outside the signed content (the unsigned certificate set's encoding, a DER length
    byte asn1crypto tolerates) may change without breaking the signature; the CSCAs read must
    then be exactly the signed ones."""
    a = verify_master_list(original, anchors(), at=ON_THE_DAY).cscas
    b = verify_master_list(mutated, anchors(), at=ON_THE_DAY).cscas
    return [c.fingerprint(hashes.SHA256()) for c in a] == [c.fingerprint(hashes.SHA256()) for c in b]


def test_the_demo_command_writes_a_synthetic_list_that_imports_against_its_anchor(
    tmp_path: Path, settings: Any
) -> None:
    settings.VAR_DIR = tmp_path / "var"
    out, anchor = tmp_path / "demo.ml", tmp_path / "compiler.pem"
    call_command("synthetic_master_list", str(out), "--anchor-out", str(anchor), "--countries", "DE,JP")
    assert (tmp_path / "var" / "chip-pki" / "foreign" / "ds-DE.key.pem").stat().st_mode & 0o077 == 0
    call_command("import_master_list", str(out), "--anchors", str(anchor))
    assert trusted_states() == {"D", "JPN"}
    with pytest.raises(CommandError):
        call_command("synthetic_master_list", str(out), "--countries", "XX")


def test_the_master_list_signer_itself_may_be_the_configured_anchor(tmp_path: Path) -> None:
    pki = foreign_pki()
    signer_pem = tmp_path / "anchors"
    signer_pem.mkdir()
    (signer_pem / "ml-signer.pem").write_bytes(
        pki.list_signer.certificate.public_bytes(serialization.Encoding.PEM)
    )
    list_file = tmp_path / "kr.ml"
    list_file.write_bytes(pki.master_list(["KR"]))
    call_command("import_master_list", str(list_file), "--anchors", str(signer_pem))
    assert trusted_states() == {"KOR"}


# --------------------------------------------------------------------------- security review
def _certificate(
    key: Any,
    subject: x509.Name,
    *,
    issuer: x509.Name | None = None,
    issuer_key: Any = None,
    ca: bool = True,
    key_cert_sign: bool = True,
    not_before: Any = PKI_START,
    days: int = 3650,
) -> x509.Certificate:
    """A certificate for the review's cases (self-signed unless ``issuer`` is given)."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not key_cert_sign,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=key_cert_sign,
                crl_sign=key_cert_sign,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    return builder.sign(issuer_key or key, hashes.SHA256())


def _name(country: str, cn: str) -> x509.Name:
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, country), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    )


def test_an_anchor_that_issues_the_signer_must_be_a_valid_ca_at_the_time() -> None:
    """The trust administrator configured the compiler's CSCA, but as a certificate that expired
    before the import, or as one without basicConstraints cA: the signer it issued is not anchored
    (the key alone is not trust)."""
    pki = foreign_pki()
    compiler = pki.compiler_csca
    subject = compiler.certificate.subject
    expired = _certificate(compiler.private_key, subject, not_before=PKI_START - timedelta(days=400), days=30)
    not_a_ca = _certificate(compiler.private_key, subject, ca=False, key_cert_sign=False)
    data = pki.master_list(["DE"])
    for anchor, words in ((expired, "not valid at"), (not_a_ca, "not a CA")):
        report = verify_master_list(data, [anchor], at=ON_THE_DAY)
        failed = [s for s in report.failures if s.name == "ml.signer_anchor"]
        assert failed and words in failed[0].detail and report.cscas == []
    assert verify_master_list(data, [compiler.certificate], at=ON_THE_DAY).ok


def test_only_self_signed_ca_certificates_with_key_cert_sign_are_taken_as_cscas() -> None:
    """A list (properly signed) also carries a link certificate (a CA issued by another CSCA) and
    a self-signed CA certificate without keyCertSign: both are skipped, naming the check; only
    Germany's CSCA is stored."""
    from cryptography.hazmat.primitives.asymmetric import ec

    pki = foreign_pki()
    germany = pki.states["DE"][0]
    link = _certificate(
        ec.generate_private_key(ec.SECP256R1()),
        _name("DE", "CSCA DE link (synthetic)"),
        issuer=germany.certificate.subject,
        issuer_key=germany.private_key,
    )
    no_cert_sign = _certificate(
        ec.generate_private_key(ec.SECP256R1()), _name("FR", "CSCA FR no keyCertSign"), key_cert_sign=False
    )
    data = build_master_list([germany.certificate, link, no_cert_sign], pki.list_signer)
    report = verify_master_list(data, anchors(), at=ON_THE_DAY)
    assert report.ok and [c.subject for c in report.cscas] == [germany.certificate.subject]
    assert sorted(r.split(":")[0] for r in report.skipped) == ["csca.key_usage", "csca.self_signed"]


def test_an_import_and_a_refusal_are_in_the_audit_log() -> None:
    from dancu.blocks.audit.models import AuditEvent

    pki = foreign_pki()
    result = import_master_list(
        pki.master_list(["DE"]), anchors=anchors(), at=ON_THE_DAY, actor_label="trust admin"
    )
    done = AuditEvent.objects.get(action="identity.master_list.import", result="ok")
    assert (done.actor_label, done.purpose, done.detail["master_list_import"]) == (
        "trust admin",
        "system.import",
        result.import_id,
    )
    assert done.detail["countries"] == ["DE"] and done.subject_citizen_id is None
    with pytest.raises(DomainValidationError):
        import_master_list(pki.master_list(["FR"]), anchors=[], at=ON_THE_DAY)
    refused = AuditEvent.objects.get(action="identity.master_list.import", result="denied")
    assert refused.detail["step"] == "ml.signer_anchor"


def test_the_command_verifies_the_list_at_the_time_of_the_import(tmp_path: Path) -> None:
    """The command has no way to verify a list at another time: the import's record and its audit
    event carry the time it ran."""
    from django.utils import timezone

    from dancu.blocks.audit.models import AuditEvent

    pki = foreign_pki()
    list_file = tmp_path / "fr.ml"
    list_file.write_bytes(pki.master_list(["FR"]))
    anchor_file = tmp_path / "anchor.pem"
    anchor_file.write_bytes(pki.compiler_csca.certificate.public_bytes(serialization.Encoding.PEM))
    before = timezone.now()
    call_command("import_master_list", str(list_file), "--anchors", str(anchor_file))
    assert MasterListImport.objects.get().imported_at >= before
    assert AuditEvent.objects.filter(action="identity.master_list.import", result="ok").exists()
