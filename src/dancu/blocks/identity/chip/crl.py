"""Certificate revocation lists of CSCAs (ICAO Doc 9303 part 12 §7; RFC 5280 §5, §6.3).

A state's CSCA revokes its Document Signer certificates (a DS key compromised, a DS withdrawn)
on a CRL it signs itself; ICAO asks every CSCA to issue one at least every 90 days, even when
nothing was revoked (ICAO PKD, "Certificate Revocation Lists",
https://www.icao.int/Security/FAL/PKD/BVRT/Pages/CRL.aspx). Passive authentication of a foreign
passport (``identity/passport.py``) asks whether the DS that signed the chip is on its CSCA's CRL.

:func:`load_crls` reads a file (one DER CRL, or PEM with one or more ``X509 CRL`` blocks);
:func:`verify_crl` checks one CRL against candidate CSCAs, each check a named step:

* ``crl.version`` — a v2 CRL (the version field is read with asn1crypto; ``cryptography`` does
  not expose it);
* ``crl.extensions`` — the cRLNumber and authorityKeyIdentifier extensions present (RFC 5280
  §5.2.1, §5.2.3: required of a conforming CA); no deltaCRLIndicator (delta CRLs are not
  supported: only complete CRLs are stored), no issuingDistributionPoint (a partitioned or
  indirect CRL would not be complete for its CSCA), no other critical extension, and no CRL entry
  with a certificateIssuer (indirect) or an unknown critical extension;
* ``crl.dates`` — nextUpdate present and not before thisUpdate;
* ``crl.issuer`` — a candidate CSCA whose subject is the CRL's issuer name and whose subject key
  identifier equals the CRL's authority key identifier;
* ``crl.signature`` — the CRL's signature verifies with that CSCA's key
  (``CertificateRevocationList.is_signature_valid``), and the CSCA may sign CRLs (keyUsage
  cRLSign, RFC 5280 §6.3.3 (f)).

The exact profile table of part 12 §7 was not at hand when this was written: the checks above
are RFC 5280's, which part 12 profiles; to verify against the text (ADR 0017 §12).

:func:`create_crl` makes a synthetic CRL for the tests and the demo (never a real state's).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import crl as asn1_crl
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import CRLEntryExtensionOID, ExtensionOID

from dancu.blocks.identity.chip.pki import CertifiedKey, _hash_for
from dancu.blocks.identity.chip.verify import Step
from dancu.errors import DomainValidationError

MAX_CRL_BYTES = 16 * 1024 * 1024  # a file of CRLs read at once (a state's CRL is a few kB)
PEM_BEGIN = b"-----BEGIN X509 CRL-----"
_ALLOWED_CRL_EXTENSIONS = frozenset({ExtensionOID.CRL_NUMBER, ExtensionOID.AUTHORITY_KEY_IDENTIFIER})
_ALLOWED_ENTRY_EXTENSIONS = frozenset({CRLEntryExtensionOID.CRL_REASON, CRLEntryExtensionOID.INVALIDITY_DATE})


def load_crls(data: bytes) -> list[x509.CertificateRevocationList]:
    """Every CRL of ``data``: PEM (one or more ``X509 CRL`` blocks) or one DER CRL. Refused with
    ``DomainValidationError`` (field ``crl``, rule ``crl.parse``) when nothing can be read."""
    if len(data) > MAX_CRL_BYTES:
        raise DomainValidationError.single("crl", "crl.parse", f"larger than {MAX_CRL_BYTES} bytes")
    try:
        if PEM_BEGIN in data:
            blocks = data.split(PEM_BEGIN)[1:]
            return [x509.load_pem_x509_crl(PEM_BEGIN + block) for block in blocks]
        return [x509.load_der_x509_crl(data)]
    except (ValueError, TypeError) as exc:
        raise DomainValidationError.single("crl", "crl.parse", f"not a CRL (DER or PEM): {exc}") from None


@dataclass
class CrlCheck:
    """The steps of :func:`verify_crl`; ``csca`` is the issuing CSCA when the signature verified."""

    steps: list[Step] = field(default_factory=list)
    csca: x509.Certificate | None = None
    number: int | None = None

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.steps.append(Step(name, ok, detail))
        return ok

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps) and self.csca is not None

    @property
    def first_failure(self) -> Step | None:
        return next((s for s in self.steps if not s.ok), None)


def _version(crl: x509.CertificateRevocationList) -> str:
    try:
        parsed = asn1_crl.CertificateList.load(crl.public_bytes(serialization.Encoding.DER))
        return str(parsed["tbs_cert_list"]["version"].native or "v1")
    except (ValueError, TypeError, KeyError):
        return "unreadable"


def _key_id(certificate: x509.Certificate) -> bytes | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def _may_sign_crls(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.KeyUsage).value.crl_sign)
    except x509.ExtensionNotFound:
        return False


def _extension_problem(crl: x509.CertificateRevocationList) -> str:
    try:
        extensions = list(crl.extensions)
    except ValueError as exc:
        return f"unreadable extensions: {exc}"
    oids = {e.oid for e in extensions}
    for required, name in (
        (ExtensionOID.CRL_NUMBER, "cRLNumber"),
        (ExtensionOID.AUTHORITY_KEY_IDENTIFIER, "AKI"),
    ):
        if required not in oids:
            return f"the {name} extension is missing (RFC 5280 §5.2)"
    if ExtensionOID.DELTA_CRL_INDICATOR in oids:
        return "a delta CRL: only complete CRLs are accepted"
    if ExtensionOID.ISSUING_DISTRIBUTION_POINT in oids:
        return "an issuingDistributionPoint (partitioned or indirect CRL): only complete CRLs are accepted"
    for e in extensions:
        if e.critical and e.oid not in _ALLOWED_CRL_EXTENSIONS:
            return f"unknown critical extension {e.oid.dotted_string}"
    for entry in crl:
        try:
            entry_extensions = list(entry.extensions)
        except ValueError as exc:
            return f"unreadable entry extensions: {exc}"
        for e in entry_extensions:
            if e.oid == CRLEntryExtensionOID.CERTIFICATE_ISSUER:
                return "an entry names another certificate issuer (indirect CRL)"
            if e.critical and e.oid not in _ALLOWED_ENTRY_EXTENSIONS:
                return f"an entry has an unknown critical extension {e.oid.dotted_string}"
    return ""


def verify_crl(crl: x509.CertificateRevocationList, cscas: Iterable[x509.Certificate]) -> CrlCheck:
    """Check ``crl`` against the candidate CSCAs ``cscas`` (module docstring). Never raises on a
    bad CRL: each problem is a failed step."""
    check = CrlCheck()
    version = _version(crl)
    if not check.add(
        "crl.version", version == "v2", f"version {version}" + ("" if version == "v2" else ", v2 expected")
    ):
        return check
    problem = _extension_problem(crl)
    if not check.add(
        "crl.extensions", not problem, problem or "cRLNumber and AKI; no delta, partition or indirect"
    ):
        return check
    check.number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    this_update, next_update = crl.last_update_utc, crl.next_update_utc
    if not check.add(
        "crl.dates",
        next_update is not None and next_update >= this_update,
        f"thisUpdate {this_update:%Y-%m-%d %H:%M}, nextUpdate {next_update:%Y-%m-%d %H:%M}"
        if next_update is not None
        else "no nextUpdate",
    ):
        return check
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    named = [c for c in cscas if c.subject == crl.issuer and (aki is None or _key_id(c) in (None, aki))]
    if not check.add(
        "crl.issuer",
        bool(named),
        f"{len(named)} stored CSCA(s) named {crl.issuer.rfc4514_string()}"
        if named
        else f"no stored CSCA is named {crl.issuer.rfc4514_string()} with this key identifier "
        "(import the state's master list first)",
    ):
        return check
    for candidate in named:
        try:
            valid = crl.is_signature_valid(candidate.public_key())  # type: ignore[arg-type]
        except (TypeError, ValueError):
            valid = False
        if valid and _may_sign_crls(candidate):
            check.csca = candidate
            check.add("crl.signature", True, "signed by the CSCA (keyUsage cRLSign)")
            return check
    check.add(
        "crl.signature",
        False,
        "the signature does not verify with the named CSCA's key (or it may not sign CRLs)",
    )
    return check


def create_crl(
    csca: CertifiedKey,
    *,
    number: int,
    this_update: datetime,
    next_update: datetime,
    revoked: Sequence[tuple[int, datetime]] = (),
    reason: x509.ReasonFlags | None = x509.ReasonFlags.key_compromise,
) -> bytes:
    """A synthetic CRL of ``csca`` (DER): ``revoked`` = (serial, revocation date) pairs."""
    key = csca.private_key
    if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - the synthetic PKI is EC
        raise DomainValidationError.single("csca", "key_type", "an EC key is expected")
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(csca.certificate.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
    )
    for serial, when in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        if reason is not None:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(key, _hash_for(key)).public_bytes(serialization.Encoding.DER)
