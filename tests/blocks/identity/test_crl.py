"""Revocation of foreign Document Signer certificates by their CSCA's CRL (ICAO Doc 9303 part 12
§7; ADR 0017 §12).

Actors: the trust administrator who imports CRLs (DER, PEM bundles, the ``dancu import_crl``
command); synthetic Germany's CSCA, which revokes its Document Signer; Anna Schmidt's German
passport signed by that DS; a forger who signs a CRL in Germany's name with his own key; the Tây Hồ
officer at the level-2 desk (``tests/blocks/eid/test_foreigners_revoked_ds.py``)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import CommandError, call_command

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity.chip import create_csca
from dancu.blocks.identity.foreign_trust import import_crls
from dancu.blocks.identity.models import ForeignCrl
from dancu.blocks.identity.passport import PassportChipReport, issue_passport_chip, verify_passport_chip
from dancu.errors import DomainValidationError
from tests.blocks.identity.passport_helpers import (
    ISSUED,
    ON_THE_DAY,
    anna_passport_mrz,
    foreign_pki,
    german_ds_serial,
    import_foreign_trust,
    rule_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def trusted_without_crls() -> None:
    import_foreign_trust(["DE", "FR"], at=ON_THE_DAY, crls=False)


def annas_report() -> PassportChipReport:
    chip = issue_passport_chip(anna_passport_mrz(), foreign_pki().document_signer("DE"))
    return verify_passport_chip(chip.to_dict(), anna_passport_mrz(), at=ON_THE_DAY)


# ----------------------------------------------------------------------------- import
def test_the_administrator_imports_a_pem_bundle_and_only_newer_crls_replace_stored_ones(
    trusted_without_crls: None,
) -> None:
    pki = foreign_pki()
    pem = b"".join(
        x509.load_der_x509_crl(pki.crl(c, this_update=ISSUED)).public_bytes(serialization.Encoding.PEM)
        for c in ("DE", "FR")
    )
    first = import_crls(pem, at=ON_THE_DAY)
    assert [(r.country, r.status, r.stale) for r in first] == [("DE", "added", False), ("FR", "added", False)]
    assert [r.status for r in import_crls(pem, at=ON_THE_DAY)] == ["unchanged", "unchanged"]
    newer = pki.crl("DE", this_update=ISSUED + timedelta(days=1), number=2, revoked=[german_ds_serial()])
    assert [(r.status, r.revoked_count) for r in import_crls(newer, at=ON_THE_DAY)] == [("replaced", 1)]
    # An older list, which would drop the revocation, is never put back.
    older = pki.crl("DE", this_update=ISSUED + timedelta(days=2), number=1)
    assert [r.status for r in import_crls(older, at=ON_THE_DAY)] == ["older_kept"]
    stored = ForeignCrl.objects.get(csca__country="DE")
    assert (stored.crl_number, stored.revoked_count) == ("2", 1)
    assert AuditEvent.objects.filter(action="identity.crl.import", result="ok").count() == 4


def test_a_crl_signed_by_a_forger_in_germanys_name_is_refused_and_nothing_is_stored(
    trusted_without_crls: None,
) -> None:
    genuine = foreign_pki().states["DE"][0].certificate
    forger = ec.generate_private_key(ec.SECP256R1())
    genuine_ski = genuine.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    forged = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(genuine.subject)
        .last_update(ISSUED)
        .next_update(ISSUED + timedelta(days=90))
        .add_extension(x509.CRLNumber(99), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(genuine_ski), critical=False
        )
        .sign(forger, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )
    with pytest.raises(DomainValidationError) as err:
        import_crls(forged, at=ON_THE_DAY)
    assert rule_of(err) == "crl.signature" and not ForeignCrl.objects.exists()
    event = AuditEvent.objects.get(action="identity.crl.import")
    assert (event.result, event.detail["step"]) == ("denied", "crl.signature")


def test_a_crl_of_a_csca_in_no_master_list_is_refused_at_the_issuer(trusted_without_crls: None) -> None:
    with pytest.raises(DomainValidationError) as err:
        import_crls(foreign_pki().crl("US", this_update=ISSUED), at=ON_THE_DAY)
    assert rule_of(err) == "crl.issuer"


def test_one_bad_crl_in_a_bundle_refuses_the_whole_file(trusted_without_crls: None) -> None:
    pki = foreign_pki()
    pem = b"".join(
        x509.load_der_x509_crl(pki.crl(c, this_update=ISSUED)).public_bytes(serialization.Encoding.PEM)
        for c in ("DE", "US")
    )
    with pytest.raises(DomainValidationError):
        import_crls(pem, at=ON_THE_DAY)
    assert not ForeignCrl.objects.exists()


@pytest.mark.parametrize(
    ("extension", "rule"),
    [
        (x509.DeltaCRLIndicator(1), "crl.extensions"),  # a delta CRL is not a complete list
        (None, "crl.extensions"),  # no cRLNumber
    ],
)
def test_crls_outside_the_profile_are_refused(
    trusted_without_crls: None, extension: x509.ExtensionType | None, rule: str
) -> None:
    csca = foreign_pki().states["DE"][0]
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(csca.certificate.subject)
        .last_update(ISSUED)
        .next_update(ISSUED + timedelta(days=90))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(csca.private_key.public_key()), critical=False
        )
    )
    if extension is not None:
        builder = builder.add_extension(x509.CRLNumber(5), critical=False).add_extension(
            extension, critical=True
        )
    der = builder.sign(csca.private_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    with pytest.raises(DomainValidationError) as err:
        import_crls(der, at=ON_THE_DAY)
    assert rule_of(err) == rule


def test_bytes_that_are_no_crl_are_refused_at_parse(trusted_without_crls: None) -> None:
    with pytest.raises(DomainValidationError) as err:
        import_crls(b"\x30\x03\x02\x01\x01", at=ON_THE_DAY)
    assert rule_of(err) == "crl.parse"


# ----------------------------------------------------------------------------- the passport check
def test_annas_passport_verifies_when_a_current_crl_does_not_list_her_ds(trusted_without_crls: None) -> None:
    import_crls(foreign_pki().crl("DE", this_update=ISSUED), at=ON_THE_DAY)
    report = annas_report()
    assert (report.outcome, report.revocation) == ("verified", "good")


def test_a_revoked_document_signer_refuses_annas_passport_naming_the_step(trusted_without_crls: None) -> None:
    import_crls(foreign_pki().crl("DE", this_update=ISSUED, revoked=[german_ds_serial()]), at=ON_THE_DAY)
    report = annas_report()
    assert (report.outcome, report.failed_step) == ("failed", "ds.revocation")
    step = next(s for s in report.failures if s.name == "ds.revocation")
    assert "revoked on" in step.detail and "keyCompromise" in step.detail


def test_a_revocation_on_a_stale_crl_still_stands(trusted_without_crls: None) -> None:
    long_ago = ON_THE_DAY - timedelta(days=200)
    import_crls(foreign_pki().crl("DE", this_update=long_ago, revoked=[german_ds_serial()]), at=ON_THE_DAY)
    assert annas_report().failed_step == "ds.revocation"


@pytest.mark.parametrize("crl", ["none", "stale"])
def test_without_a_current_crl_the_revocation_status_is_unknown_not_verified(
    trusted_without_crls: None, crl: str
) -> None:
    if crl == "stale":
        results = import_crls(
            foreign_pki().crl("DE", this_update=ON_THE_DAY - timedelta(days=120)), at=ON_THE_DAY
        )
        assert results[0].stale
    report = annas_report()
    assert (report.outcome, report.failed_step, report.revocation) == ("revocation_unknown", "", "unknown")


def test_france_revoking_its_own_ds_does_not_touch_a_german_passport(trusted_without_crls: None) -> None:
    pki = foreign_pki()
    import_crls(pki.crl("DE", this_update=ISSUED), at=ON_THE_DAY)
    french_serial = int(pki.document_signer("FR").certificate.serial_number)
    import_crls(pki.crl("FR", this_update=ISSUED, revoked=[french_serial, german_ds_serial()]), at=ON_THE_DAY)
    assert annas_report().outcome == "verified"


# ----------------------------------------------------------------------------- the command
def test_the_import_crl_command_reads_der_and_pem_and_refuses_a_bad_file(
    trusted_without_crls: None, tmp_path: Path
) -> None:
    pki = foreign_pki()
    der = tmp_path / "de.crl"
    der.write_bytes(pki.crl("DE", this_update=ISSUED))
    pem = tmp_path / "fr.pem"
    pem.write_bytes(
        x509.load_der_x509_crl(pki.crl("FR", this_update=ISSUED - timedelta(days=100))).public_bytes(
            serialization.Encoding.PEM
        )
    )
    out = StringIO()
    call_command("import_crl", str(der), str(pem), stdout=out)
    text = out.getvalue()
    assert "CSCA DE" in text and "added" in text and "STALE" in text  # France's CRL is past its next update
    assert ForeignCrl.objects.count() == 2
    bad = tmp_path / "us.crl"
    bad.write_bytes(pki.crl("US", this_update=ISSUED))
    with pytest.raises(CommandError, match=r"crl\.issuer"):
        call_command("import_crl", str(bad), stdout=StringIO())


def test_the_synthetic_csca_may_sign_crls() -> None:
    usage = create_csca(country="DE").certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.crl_sign


def test_the_demo_writes_current_crls_beside_its_master_list(tmp_path: Path) -> None:
    """``dancu synthetic_master_list --crl-out`` then ``import_master_list`` and ``import_crl``:
    the demo's passports verify with chip evidence (synthetic keys under ``VAR_DIR``)."""
    out, anchor, crls = tmp_path / "list.ml", tmp_path / "anchor.pem", tmp_path / "crls.pem"
    call_command(
        "synthetic_master_list",
        str(out),
        "--anchor-out",
        str(anchor),
        "--crl-out",
        str(crls),
        "--countries",
        "DE,FR",
    )
    call_command("import_master_list", str(out), "--anchors", str(anchor), stdout=StringIO())
    text = StringIO()
    call_command("import_crl", str(crls), stdout=text)
    assert text.getvalue().count(" added, 0 revoked") == 2 and "STALE" not in text.getvalue()
