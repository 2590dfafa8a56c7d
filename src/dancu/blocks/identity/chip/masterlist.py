"""CSCA master lists: build, parse and verify (ICAO Doc 9303 part 12 §9).

A CSCA Master List is a CMS SignedData (RFC 5652 §5) whose encapsulated content, of type
id-icao-cscaMasterList (2.23.136.1.1.2), is::

    CscaMasterList ::= SEQUENCE {
        version    CscaMasterListVersion,      -- v0(0)
        certList   SET OF Certificate }

signed by a **Master List Signer**, whose certificate (embedded in the SignedData) carries the
extended key usage id-icao-cscaMasterListSigningKey (2.23.136.1.1.3) and is issued by the CSCA of
the state that compiled the list (part 12 §9, §7.1). A receiving state trusts the list only as far
as it trusts that signer: :func:`verify_master_list` requires the signer certificate to be one of
the configured *anchors* or to be directly issued by one (the compiling state's CSCA, obtained out
of band), to be valid at the time asked for and to carry the extended key usage; then it checks
the signed attributes and the signature exactly as for an EF.SOD (the same code, :mod:`.verify`).

Nothing here raises on a bad list: each problem is a failed step with a reason, as in passive
authentication. Entries of ``certList`` that are not usable CSCA certificates (not a CA, no
country, unreadable) are skipped and counted, never trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from dancu.blocks.identity.chip.pki import OID_ML_SIGNING_KEY, CertifiedKey
from dancu.blocks.identity.chip.sod import _ASN1_ERRORS, ParsedSod, build_signed_data, parse_signed_data
from dancu.blocks.identity.chip.verify import (
    PassiveAuthReport,
    Step,
    _aware,
    _CertFacts,
    _check_signed_attributes,
    _find_signer_certificate,
    _verify_signature,
)
from dancu.errors import DomainValidationError

OID_CSCA_MASTER_LIST = "2.23.136.1.1.2"  # id-icao-cscaMasterList
MAX_MASTER_LIST_BYTES = 8 << 20  # the ICAO PKD master lists are 0.5–2 MB


class _CertificateSet(core.SetOf):
    _child_spec = asn1_x509.Certificate


class CscaMasterList(core.Sequence):
    _fields = [("version", core.Integer), ("cert_list", _CertificateSet)]


def build_master_list(
    cscas: Iterable[x509.Certificate], signer: CertifiedKey, *, hash_name: str = "sha256"
) -> bytes:
    """The DER of a master list of ``cscas`` signed by ``signer`` (a Master List Signer,
    :func:`.pki.create_master_list_signer`)."""
    certificates = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in cscas]
    content = CscaMasterList({"version": 0, "cert_list": certificates}).dump()
    return build_signed_data(
        OID_CSCA_MASTER_LIST, content, signer.private_key, signer.certificate, hash_name=hash_name
    )


@dataclass(frozen=True)
class ParsedMasterList:
    signed: ParsedSod  # the SignedData as plain values (same shape as an EF.SOD's)
    version: int
    certificates: tuple[bytes, ...]  # DER of every entry of certList, in order


def parse_master_list(data: bytes) -> ParsedMasterList:
    """Master list bytes → plain values. Raises ``DomainValidationError`` (field ``master_list``)
    for anything malformed; never another exception (fuzzed in the tests)."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise DomainValidationError.single("master_list", "required", "the master list is empty")
    if len(data) > MAX_MASTER_LIST_BYTES:
        raise DomainValidationError.single(
            "master_list", "too_large", f"a master list is at most {MAX_MASTER_LIST_BYTES} bytes"
        )
    signed = parse_signed_data(bytes(data), field="master_list")
    if signed.content_type != OID_CSCA_MASTER_LIST:
        raise DomainValidationError.single(
            "master_list",
            "content_type",
            f"eContentType {signed.content_type}, expected {OID_CSCA_MASTER_LIST} (id-icao-cscaMasterList)",
        )
    try:
        content = CscaMasterList.load(signed.econtent, strict=True)
        version = int(content["version"].native)
        certificates = tuple(c.dump() for c in content["cert_list"])
    except _ASN1_ERRORS as exc:
        raise DomainValidationError.single(
            "master_list.content", "asn1", f"malformed CscaMasterList: {type(exc).__name__}"
        ) from exc
    if version != 0:
        raise DomainValidationError.single("master_list.version", "v0", f"version {version}, expected 0")
    return ParsedMasterList(signed=signed, version=version, certificates=certificates)


@dataclass
class MasterListReport:
    """The ordered steps of verifying a master list and the CSCAs it yields (only when ``ok``)."""

    steps: list[Step] = field(default_factory=list)
    signer_subject: str | None = None
    read_cscas: list[x509.Certificate] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why each unusable entry was left out

    REQUIRED = (
        "ml.parse",
        "ml.signer_certificate",
        "ml.signer_anchor",
        "ml.signer_validity",
        "ml.signer_usage",
        "ml.signed_attributes",
        "ml.signature",
        "ml.certificates",
    )

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.steps.append(Step(name, ok, detail))
        return ok

    @property
    def ok(self) -> bool:
        names = {s.name for s in self.steps}
        return all(s.ok for s in self.steps) and set(self.REQUIRED) <= names

    @property
    def failures(self) -> list[Step]:
        return [s for s in self.steps if not s.ok]

    @property
    def cscas(self) -> list[x509.Certificate]:
        return list(self.read_cscas) if self.ok else []


def country_of(certificate: x509.Certificate) -> str:
    """The subject's countryName (ISO 3166-1 alpha-2, upper case) or ``""``."""
    values = certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    return str(values[0].value).upper() if values else ""


def _anchored(signer: x509.Certificate, anchors: Sequence[x509.Certificate], at: datetime) -> str:
    """'' if the signer is an anchor or directly issued by one, else the reason. An anchor that
    issues the signer must itself be valid at ``at`` and be a CA (basicConstraints cA, RFC 5280
    §4.2.1.9): a configured Master List Signer certificate anchors only itself."""
    fingerprint = signer.fingerprint(hashes.SHA256())
    if any(a.fingerprint(hashes.SHA256()) == fingerprint for a in anchors):
        return ""
    candidates = [a for a in anchors if a.subject == signer.issuer]
    if not candidates:
        return (
            f"the master list signer's issuer {signer.issuer.rfc4514_string()} is not a configured "
            f"master-list trust anchor ({len(anchors)} configured)"
        )
    reasons = []
    for anchor in candidates:
        if not anchor.not_valid_before_utc <= at <= anchor.not_valid_after_utc:
            reasons.append(
                f"the anchor {anchor.subject.rfc4514_string()} is not valid at {at:%Y-%m-%d} "
                f"({anchor.not_valid_before_utc:%Y-%m-%d} – {anchor.not_valid_after_utc:%Y-%m-%d})"
            )
            continue
        if not _is_ca(anchor):
            reasons.append(f"the anchor {anchor.subject.rfc4514_string()} is not a CA (basicConstraints cA)")
            continue
        try:
            signer.verify_directly_issued_by(anchor)
            return ""
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
            reasons.append("the master list signer's certificate is not signed by the configured anchor")
    return "; ".join(reasons)


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def _usable_csca(der: bytes) -> x509.Certificate | str:
    """The certificate when it is a usable CSCA, else why not, prefixed with the check's name
    (``csca.read``, ``csca.ca``, ``csca.key_usage``, ``csca.self_signed``, ``csca.country``). A
    CSCA is a self-signed CA certificate (issuer = subject, its own key verifies its signature)
    with keyUsage keyCertSign (ICAO Doc 9303 part 12 §7.1.1); link certificates and anything else
    are skipped. ``cryptography`` parses names and extensions lazily, so every part used later is
    read here, inside the ``try``."""
    try:
        certificate = x509.load_der_x509_certificate(der)
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        country = country_of(certificate)
        certificate.subject.rfc4514_string()
        certificate.issuer.rfc4514_string()
        certificate.public_key()
        _ = (certificate.not_valid_before_utc, certificate.not_valid_after_utc)
    except x509.ExtensionNotFound:
        return "csca.ca: no basicConstraints (not a CA certificate)"
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion) as exc:
        return f"csca.read: unreadable certificate: {type(exc).__name__}"
    if not constraints.ca:
        return "csca.ca: not a CA certificate"
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        cert_sign = bool(usage.key_cert_sign)
    except (x509.ExtensionNotFound, ValueError):
        cert_sign = False
    if not cert_sign:
        return "csca.key_usage: no keyUsage keyCertSign"
    if certificate.issuer != certificate.subject:
        return "csca.self_signed: issuer differs from subject (not a self-signed CSCA)"
    try:
        certificate.verify_directly_issued_by(certificate)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return "csca.self_signed: its own key does not verify its signature"
    if len(country) != 2 or not country.isascii() or not country.isalpha():
        return "csca.country: no two-letter countryName in the subject"
    return certificate


def verify_master_list(data: bytes, anchors: Sequence[x509.Certificate], *, at: datetime) -> MasterListReport:
    """Verify a master list against the configured Master List Signer anchors at ``at``."""
    at = _aware(at)
    report = MasterListReport()
    try:
        parsed = parse_master_list(data)
    except DomainValidationError as exc:
        report.add("ml.parse", False, "; ".join(f"{p.field} [{p.rule}]: {p.message}" for p in exc.problems))
        return report
    report.add("ml.parse", True, f"CscaMasterList v0, {len(parsed.certificates)} certificate(s)")
    facts = _find_signer_certificate(parsed.signed)
    if isinstance(facts, str):
        report.add("ml.signer_certificate", False, facts)
        return report
    report.signer_subject = facts.subject
    report.add("ml.signer_certificate", True, facts.subject)
    _check_signer(report, facts, anchors, at)
    scratch = PassiveAuthReport()
    _check_signed_attributes(scratch, parsed.signed)
    for step in scratch.steps:
        report.add("ml.signed_attributes", step.ok, step.detail)
    reason = _verify_signature(facts.public_key, parsed.signed.signer, _signed_message(parsed.signed))
    reason = reason.replace("the DS public key", "the master list signer's public key")
    report.add("ml.signature", not reason, reason or "the master list signer's signature verifies")
    for der in parsed.certificates:
        usable = _usable_csca(der)
        if isinstance(usable, str):
            report.skipped.append(usable)
        else:
            report.read_cscas.append(usable)
    report.add(
        "ml.certificates",
        bool(report.read_cscas),
        f"{len(report.read_cscas)} CSCA certificate(s), {len(report.skipped)} entry(ies) skipped"
        if report.read_cscas
        else "the list holds no usable CSCA certificate",
    )
    return report


def _signed_message(signed: ParsedSod) -> bytes:
    return signed.signer.signed_attrs_der if signed.signer.signed_attrs_der is not None else signed.econtent


def _check_signer(
    report: MasterListReport, facts: _CertFacts, anchors: Sequence[x509.Certificate], at: datetime
) -> None:
    signer = facts.certificate
    reason = _anchored(signer, anchors, at)
    report.add("ml.signer_anchor", not reason, reason or "the signer is anchored in the configured trust")
    start, end = signer.not_valid_before_utc, signer.not_valid_after_utc
    report.add(
        "ml.signer_validity",
        start <= at <= end,
        f"valid {start:%Y-%m-%d} – {end:%Y-%m-%d}"
        if start <= at <= end
        else f"the master list signer's certificate is not valid at {at:%Y-%m-%d} "
        f"({start:%Y-%m-%d} – {end:%Y-%m-%d})",
    )
    try:
        usages = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        ok = OID_ML_SIGNING_KEY in list(usages)
    except x509.ExtensionNotFound:
        ok = False
    report.add(
        "ml.signer_usage",
        ok,
        "extendedKeyUsage id-icao-cscaMasterListSigningKey"
        if ok
        else "the signer lacks extendedKeyUsage 2.23.136.1.1.3 (part 12 §9)",
    )


__all__ = [
    "OID_CSCA_MASTER_LIST",
    "CscaMasterList",
    "MasterListReport",
    "ParsedMasterList",
    "build_master_list",
    "country_of",
    "parse_master_list",
    "verify_master_list",
]
