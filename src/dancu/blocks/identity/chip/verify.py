"""Passive and Active Authentication of a chip read (ICAO Doc 9303 part 11 §5.1 and §6.1).

Passive authentication proves the data groups are those the issuing state signed:

1. parse EF.SOD (``sod.parse``), check the encapsulated content is an LDSSecurityObject
   (``sod.content_type``) and parse it (``sod.lds_object``);
2. find the Document Signer certificate the SignerInfo names (``ds.certificate``), find its
   CSCA in the trust store by issuer name and authority key identifier (``ds.issuer``) and
   verify the certificate's signature with the CSCA key (``ds.chain_signature``); check both
   certificates are valid at the time asked for (``ds.validity``, ``csca.validity``) and that
   the DS key may sign (``ds.key_usage``: digitalSignature, part 12 §7.1);
3. check the signed attributes — content-type equals eContentType, message-digest equals the
   digest of the LDSSecurityObject (``sod.signed_attributes``, RFC 5652 §5.4, §11.1, §11.2) —
   and the signature over them with the DS public key (``sod.signature``);
4. require the mandatory data groups (``dg.present``) and compare the hash of every data group
   read with the SOD's (``dg<N>.hash``), with the SOD's hash algorithm;
5. parse DG1, DG2 and DG13 (``dg1.parse``, ``dg2.parse``, ``dg13.parse``).

Nothing here raises on bad chip data: each problem is a failed step with a reason. A step that
cannot run because an earlier one failed is left out (the report is failed already). Only a
caller error — a naive ``at`` — raises ``DomainValidationError``.

**Caches** (documented because they trade memory for speed): the parsed DS certificate and the
facts taken from it are cached per DER encoding (:func:`functools.lru_cache`, 1,024 entries);
the DS → CSCA signature check is cached per DS certificate inside the :class:`TrustStore`
(emptied when a CSCA is added). Validity at ``at``, the SOD signature and every hash are
checked on every call.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from dancu.blocks.identity.chip import iso9796
from dancu.blocks.identity.chip.issuer import AA_CHALLENGE_LENGTH, ChipData
from dancu.blocks.identity.chip.lds import (
    DG13,
    ECDSA_PLAIN_OIDS,
    FaceImage,
    parse_dg1,
    parse_dg1_td3,
    parse_dg2,
    parse_dg13,
    parse_dg14_active_auth,
    parse_dg15,
)
from dancu.blocks.identity.chip.pki import TrustStore
from dancu.blocks.identity.chip.sod import (
    HASH_ALGORITHMS,
    OID_LDS_SECURITY_OBJECT,
    LdsSecurityData,
    ParsedSod,
    SignerData,
    parse_lds_security_object,
    parse_sod,
)
from dancu.errors import DomainValidationError

MANDATORY_DATA_GROUPS = (1, 13)  # Vietnamese card: the MRZ and the personal data
_ALWAYS = (
    "sod.parse",
    "sod.content_type",
    "sod.lds_object",
    "ds.certificate",
    "ds.issuer",
    "ds.chain_signature",
    "ds.validity",
    "csca.validity",
    "ds.key_usage",
    "sod.signed_attributes",
    "sod.signature",
    "dg.present",
)


@dataclass(frozen=True)
class Step:
    """One check: its name (``"dg13.hash"``), whether it passed, and why (never personal data)."""

    name: str
    ok: bool
    detail: str


def _problem_text(exc: DomainValidationError) -> str:
    return "; ".join(f"{p.field} [{p.rule}]: {p.message}" for p in exc.problems)


@dataclass
class PassiveAuthReport:
    """The ordered steps of passive authentication and what was read.

    ``ok`` is true only when every step ran and passed. ``mrz_lines``, ``dg13`` and ``face``
    are the parsed data **only when ``ok``**; ``read_*`` hold what was read in any case (for
    diagnosis — never trust them when ``ok`` is false).
    """

    steps: list[Step] = field(default_factory=list)
    read_mrz_lines: tuple[str, str, str] | None = None
    read_td3_lines: tuple[str, str] | None = None  # a passport's DG1 (``dg1_format="td3"``)
    read_dg13: DG13 | None = None
    read_face: FaceImage | None = None
    hash_algorithm: str | None = None
    ds_subject: str | None = None
    csca_subject: str | None = None
    # The DS's serial number and the CSCA that issued it (when the chain verified): what a CRL
    # check needs (``identity/passport.py``, ICAO Doc 9303 part 12 §7).
    ds_serial_number: int | None = None
    csca_certificate: x509.Certificate | None = field(default=None, repr=False)
    verified_data_groups: tuple[int, ...] = ()
    # The data groups the LDSSecurityObject lists (what the chip holds, read or not): a chip
    # whose SOD lists DG15 offers Active Authentication (part 11 §6.1).
    sod_data_groups: tuple[int, ...] = ()
    required_steps: tuple[str, ...] = field(default=_ALWAYS, repr=False)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.steps.append(Step(name, ok, detail))
        return ok

    @property
    def ok(self) -> bool:
        names = {s.name for s in self.steps}
        return bool(self.steps) and all(s.ok for s in self.steps) and set(self.required_steps) <= names

    @property
    def failures(self) -> list[Step]:
        return [s for s in self.steps if not s.ok]

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    @property
    def mrz_lines(self) -> tuple[str, str, str] | None:
        return self.read_mrz_lines if self.ok else None

    @property
    def td3_lines(self) -> tuple[str, str] | None:
        return self.read_td3_lines if self.ok else None

    @property
    def dg13(self) -> DG13 | None:
        return self.read_dg13 if self.ok else None

    @property
    def face(self) -> FaceImage | None:
        return self.read_face if self.ok else None

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready summary (no personal data): ok, the steps, the signer."""
        return {
            "ok": self.ok,
            "steps": [{"name": s.name, "ok": s.ok, "detail": s.detail} for s in self.steps],
            "hash_algorithm": self.hash_algorithm,
            "document_signer": self.ds_subject,
            "csca": self.csca_subject,
            "verified_data_groups": list(self.verified_data_groups),
        }


# --------------------------------------------------------------------------- DS certificate facts
@dataclass(frozen=True)
class _CertFacts:
    certificate: x509.Certificate
    fingerprint: bytes
    issuer_der: bytes
    serial_number: int
    subject_key_identifier: bytes | None
    key_usage: x509.KeyUsage | None
    key_usage_critical: bool
    public_key: PublicKeyTypes
    subject: str


@functools.lru_cache(maxsize=1024)
def _cert_facts(der: bytes) -> _CertFacts | str:
    """Parse a certificate once per DER (cached); a string is the reason it could not be used."""
    try:
        certificate = x509.load_der_x509_certificate(der)
        try:
            ski: bytes | None = certificate.extensions.get_extension_for_class(
                x509.SubjectKeyIdentifier
            ).value.digest
        except x509.ExtensionNotFound:
            ski = None
        try:
            ku_ext = certificate.extensions.get_extension_for_class(x509.KeyUsage)
            key_usage: x509.KeyUsage | None = ku_ext.value
            critical = ku_ext.critical
        except x509.ExtensionNotFound:
            key_usage, critical = None, False
        return _CertFacts(
            certificate=certificate,
            fingerprint=hashlib.sha256(der).digest(),
            issuer_der=certificate.issuer.public_bytes(),
            serial_number=certificate.serial_number,
            subject_key_identifier=ski,
            key_usage=key_usage,
            key_usage_critical=critical,
            public_key=certificate.public_key(),
            subject=certificate.subject.rfc4514_string(),
        )
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion) as exc:
        return f"unreadable certificate: {exc}"


def clear_certificate_cache() -> None:
    """Forget the parsed DS certificates (the per-DER cache of :func:`_cert_facts`)."""
    _cert_facts.cache_clear()


def _same_name(a: bytes, b: bytes) -> bool:
    """Exact DER equality, else RFC 5280 §7.1 comparison (case/space-insensitive strings)."""
    if a == b:
        return True
    try:
        return bool(asn1_x509.Name.load(a) == asn1_x509.Name.load(b))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return False


def _find_signer_certificate(parsed: ParsedSod) -> _CertFacts | str:
    signer = parsed.signer
    if not parsed.certificates:
        return "the SOD carries no certificate (the DS certificate must be embedded)"
    reasons = []
    for der in parsed.certificates:
        facts = _cert_facts(der)
        if isinstance(facts, str):
            reasons.append(facts)
            continue
        if signer.subject_key_identifier is not None:
            if facts.subject_key_identifier == signer.subject_key_identifier:
                return facts
        elif (
            signer.issuer_der is not None
            and facts.serial_number == signer.serial_number
            and _same_name(facts.issuer_der, signer.issuer_der)
        ):
            return facts
    return "no embedded certificate matches the SignerInfo's signer identifier" + (
        f" ({'; '.join(reasons)})" if reasons else ""
    )


# --------------------------------------------------------------------------- signatures
def _verify_signature(key: PublicKeyTypes, signer: SignerData, message: bytes) -> str:
    """'' if the signature verifies, else the reason."""
    hash_cls = HASH_ALGORITHMS.get(signer.signature_hash)
    if hash_cls is None:
        return f"unsupported signature hash {signer.signature_hash}"
    signature = signer.signature
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if signer.signature_algorithm != "ecdsa":
                return f"signature algorithm {signer.signature_algorithm_oid} does not fit the DS's EC key"
            if signer.signature_algorithm_oid in ECDSA_PLAIN_OIDS:  # BSI TR-03111 r ‖ s
                signature = _plain_to_der(signature, key)
            key.verify(signature, message, ec.ECDSA(hash_cls()))
        elif isinstance(key, rsa.RSAPublicKey):
            if signer.signature_algorithm == "rsassa_pss":
                mgf_hash = HASH_ALGORITHMS.get(signer.pss_mgf_hash or "", hash_cls)
                salt = (
                    signer.pss_salt_length if signer.pss_salt_length is not None else 20
                )  # RFC 4055 default
                pss = padding.PSS(mgf=padding.MGF1(mgf_hash()), salt_length=salt)
                key.verify(signature, message, pss, hash_cls())
            elif signer.signature_algorithm == "rsassa_pkcs1v15":
                key.verify(signature, message, padding.PKCS1v15(), hash_cls())
            else:
                return f"signature algorithm {signer.signature_algorithm_oid} does not fit the DS's RSA key"
        else:
            return f"unsupported DS key type {type(key).__name__}"
    except InvalidSignature:
        return "the signature does not verify with the DS public key"
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return f"the signature cannot be checked: {exc}"
    return ""


def _plain_to_der(signature: bytes, key: ec.EllipticCurvePublicKey) -> bytes:
    size = (key.curve.key_size + 7) // 8
    if len(signature) != 2 * size:
        raise ValueError(f"a plain ECDSA signature on this curve has {2 * size} bytes, got {len(signature)}")
    return encode_dss_signature(
        int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    )


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise DomainValidationError.single("at", "timezone", "the verification time must be timezone-aware")
    return at


def _validity(report: PassiveAuthReport, name: str, cert: x509.Certificate, at: datetime, what: str) -> None:
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if at < start:
        report.add(
            name, False, f"the {what} certificate is not yet valid at {at:%Y-%m-%d} (from {start:%Y-%m-%d})"
        )
    elif at > end:
        report.add(
            name, False, f"the {what} certificate expired on {end:%Y-%m-%d} (checked at {at:%Y-%m-%d})"
        )
    else:
        report.add(name, True, f"valid {start:%Y-%m-%d} – {end:%Y-%m-%d}")


# --------------------------------------------------------------------------- passive authentication
def passive_authentication(
    chip: ChipData,
    trust_store: TrustStore,
    *,
    at: datetime,
    mandatory: Collection[int] = MANDATORY_DATA_GROUPS,
    dg1_format: str = "td1",
) -> PassiveAuthReport:
    """ICAO Doc 9303 part 11 §5.1 over the files read from a chip, at time ``at`` (aware).

    ``dg1_format`` is ``"td1"`` (a card, the default) or ``"td3"`` (a passport: DG1 holds 2 × 44
    characters, read into ``read_td3_lines``)."""
    at = _aware(at)
    mandatory = tuple(sorted(set(mandatory)))
    report = PassiveAuthReport(required_steps=_ALWAYS + tuple(f"dg{n}.hash" for n in mandatory))

    # 1. EF.SOD
    try:
        parsed = parse_sod(chip.sod)
    except DomainValidationError as exc:
        report.add("sod.parse", False, _problem_text(exc))
        return report
    report.add("sod.parse", True, f"SignedData, {len(parsed.certificates)} certificate(s), one SignerInfo")
    if not report.add(
        "sod.content_type",
        parsed.content_type == OID_LDS_SECURITY_OBJECT,
        f"eContentType {parsed.content_type}"
        + ("" if parsed.content_type == OID_LDS_SECURITY_OBJECT else f", expected {OID_LDS_SECURITY_OBJECT}"),
    ):
        return report
    try:
        lds = parse_lds_security_object(parsed.econtent)
    except DomainValidationError as exc:
        report.add("sod.lds_object", False, _problem_text(exc))
        return report
    report.hash_algorithm = lds.hash_algorithm
    report.sod_data_groups = tuple(sorted(lds.data_group_hashes))
    report.add(
        "sod.lds_object",
        True,
        f"version {lds.version}, {lds.hash_algorithm}, hashes of DG"
        + ", DG".join(str(n) for n in sorted(lds.data_group_hashes)),
    )

    # 2. the DS certificate and its chain to a trusted CSCA
    facts = _find_signer_certificate(parsed)
    if isinstance(facts, str):
        report.add("ds.certificate", False, facts)
    else:
        report.ds_subject = facts.subject
        report.ds_serial_number = facts.serial_number
        report.add("ds.certificate", True, f"{facts.subject}, serial {facts.serial_number:x}")
        _check_chain(report, facts, trust_store, at)

    # 3. signed attributes and the signature
    _check_signed_attributes(report, parsed)
    if not isinstance(facts, str):
        message = (
            parsed.signer.signed_attrs_der if parsed.signer.signed_attrs_der is not None else parsed.econtent
        )
        reason = _verify_signature(facts.public_key, parsed.signer, message)
        report.add(
            "sod.signature",
            not reason,
            reason or f"{parsed.signer.signature_algorithm} with {parsed.signer.signature_hash} verifies",
        )

    # 4. the data groups
    _check_data_groups(report, chip, lds, mandatory)

    # 5. parse what was read
    _parse_data_groups(report, chip, dg1_format)
    return report


def _check_chain(report: PassiveAuthReport, facts: _CertFacts, trust_store: TrustStore, at: datetime) -> None:
    chain = trust_store.check_issued(facts.certificate, facts.fingerprint)
    if chain.failed_step == "ds.issuer":
        report.add("ds.issuer", False, chain.detail)
    else:
        report.add("ds.issuer", True, "a CSCA with the DS's issuer name and key identifier is trusted")
        report.add("ds.chain_signature", chain.csca is not None, chain.detail)
    _validity(report, "ds.validity", facts.certificate, at, "DS")
    if chain.csca is not None:
        report.csca_subject = chain.csca.subject.rfc4514_string()
        report.csca_certificate = chain.csca
        _validity(report, "csca.validity", chain.csca, at, "CSCA")
    usage = facts.key_usage
    if usage is None:
        report.add("ds.key_usage", False, "the DS certificate has no keyUsage extension (part 12 §7.1)")
    elif not usage.digital_signature:
        report.add("ds.key_usage", False, "the DS key usage lacks digitalSignature")
    else:
        report.add(
            "ds.key_usage",
            True,
            "digitalSignature" + ("" if facts.key_usage_critical else " (extension not marked critical)"),
        )


def _check_signed_attributes(report: PassiveAuthReport, parsed: ParsedSod) -> None:
    signer = parsed.signer
    if signer.signed_attrs_der is None:
        report.add(
            "sod.signed_attributes", False, "the SignerInfo has no signed attributes (required by part 10)"
        )
        return
    if len(signer.content_type_attrs) != 1 or len(signer.message_digest_attrs) != 1:
        report.add(
            "sod.signed_attributes",
            False,
            "exactly one content-type and one message-digest value are required (RFC 5652 §11.1, §11.2), "
            "found "
            f"{len(signer.content_type_attrs)} and {len(signer.message_digest_attrs)}",
        )
        return
    if signer.content_type_attrs[0] != parsed.content_type:
        report.add("sod.signed_attributes", False, "the content-type attribute differs from eContentType")
        return
    digest = hashlib.new(signer.digest_algorithm, parsed.econtent).digest()
    if digest != signer.message_digest_attrs[0]:
        report.add(
            "sod.signed_attributes",
            False,
            f"the message-digest attribute differs from the {signer.digest_algorithm} "
            "of the LDSSecurityObject",
        )
        return
    report.add(
        "sod.signed_attributes", True, f"content-type and {signer.digest_algorithm} message-digest match"
    )


def _check_data_groups(
    report: PassiveAuthReport, chip: ChipData, lds: LdsSecurityData, mandatory: tuple[int, ...]
) -> None:
    missing_read = [n for n in mandatory if n not in chip.data_groups]
    missing_sod = [n for n in mandatory if n not in lds.data_group_hashes]
    if missing_read or missing_sod:
        parts = []
        if missing_read:
            parts.append("not read: " + ", ".join(f"DG{n}" for n in missing_read))
        if missing_sod:
            parts.append("no hash in the SOD: " + ", ".join(f"DG{n}" for n in missing_sod))
        report.add("dg.present", False, "mandatory data groups missing — " + "; ".join(parts))
    else:
        report.add("dg.present", True, "mandatory " + ", ".join(f"DG{n}" for n in mandatory) + " present")
    verified = []
    for number in sorted(chip.data_groups):
        name = f"dg{number}.hash"
        expected = lds.data_group_hashes.get(number)
        if expected is None:
            report.add(name, False, f"DG{number} was read but the SOD has no hash for it")
            continue
        actual = hashlib.new(lds.hash_algorithm, chip.data_groups[number]).digest()
        if actual == expected:
            verified.append(number)
            report.add(name, True, f"{lds.hash_algorithm} matches the SOD")
        else:
            report.add(
                name,
                False,
                f"{lds.hash_algorithm} differs from the SOD: "
                f"DG{number} was altered or comes from another chip",
            )
    report.verified_data_groups = tuple(verified)


def _parse_data_groups(report: PassiveAuthReport, chip: ChipData, dg1_format: str = "td1") -> None:
    if chip.dg1 is not None and dg1_format == "td3":
        try:
            report.read_td3_lines = parse_dg1_td3(chip.dg1)
            report.add("dg1.parse", True, "TD3 MRZ, 2 × 44 characters")
        except DomainValidationError as exc:
            report.add("dg1.parse", False, _problem_text(exc))
    elif chip.dg1 is not None:
        try:
            report.read_mrz_lines = parse_dg1(chip.dg1)
            report.add("dg1.parse", True, "TD1 MRZ, 3 × 30 characters")
        except DomainValidationError as exc:
            report.add("dg1.parse", False, _problem_text(exc))
    if chip.dg2 is not None:
        try:
            face = parse_dg2(chip.dg2)
            report.read_face = face
            report.add("dg2.parse", True, f"{face.image_format} face image {face.width}×{face.height}")
        except DomainValidationError as exc:
            report.add("dg2.parse", False, _problem_text(exc))
    if chip.dg13 is not None:
        try:
            report.read_dg13 = parse_dg13(chip.dg13)
            report.add("dg13.parse", True, f"DG13 version {report.read_dg13.version}")
        except DomainValidationError as exc:
            report.add("dg13.parse", False, _problem_text(exc))


# --------------------------------------------------------------------------- active authentication
@dataclass
class ActiveAuthReport:
    """Steps of Active Authentication (part 11 §6.1). Meaningful only together with a passed
    passive authentication, which proves DG14 and DG15 are the issuer's."""

    steps: list[Step] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.steps.append(Step(name, ok, detail))
        return ok

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps) and self.steps[-1].name == "aa.signature"

    @property
    def failures(self) -> list[Step]:
        return [s for s in self.steps if not s.ok]

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)


def active_authentication(
    dg15: bytes | None,
    respond: Callable[[bytes], bytes],
    *,
    dg14: bytes | None = None,
    challenge: bytes | None = None,
) -> ActiveAuthReport:
    """Challenge the chip (``respond`` stands in for INTERNAL AUTHENTICATE) and verify its answer
    with the DG15 key. ECDSA only: the hash comes from DG14's ActiveAuthenticationInfo and the
    answer is a plain r ‖ s signature (BSI TR-03111 §5.2.1). RSA keys (ISO/IEC 9796-2 message
    recovery) are reported as unsupported. A ``DomainValidationError`` from ``respond`` is a
    failed ``aa.response`` step; other exceptions (transport failures) propagate."""
    report = ActiveAuthReport()
    if dg15 is None:
        report.add("dg15.parse", False, "DG15 was not read: the chip offers no Active Authentication")
        return report
    try:
        key = parse_dg15(dg15)
    except DomainValidationError as exc:
        report.add("dg15.parse", False, _problem_text(exc))
        return report
    if isinstance(key, rsa.RSAPublicKey):
        return _rsa_active_authentication(report, key, respond, challenge)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        report.add("dg15.parse", False, f"{type(key).__name__} AA keys are neither ECDSA nor RSA")
        return report
    report.add("dg15.parse", True, f"ECDSA key on {key.curve.name}")
    if dg14 is None:
        report.add("dg14.aa_info", False, "ECDSA Active Authentication needs DG14's ActiveAuthenticationInfo")
        return report
    try:
        hash_name = parse_dg14_active_auth(dg14)
    except DomainValidationError as exc:
        report.add("dg14.aa_info", False, _problem_text(exc))
        return report
    if hash_name is None:
        report.add("dg14.aa_info", False, "DG14 has no ActiveAuthenticationInfo")
        return report
    report.add("dg14.aa_info", True, f"ecdsa-plain-{hash_name}")
    exchanged = _internal_authenticate(report, respond, challenge)
    if exchanged is None:
        return report
    nonce, answer = exchanged
    try:
        key.verify(_plain_to_der(answer, key), nonce, ec.ECDSA(HASH_ALGORITHMS[hash_name]()))
    except InvalidSignature:
        report.add(
            "aa.signature", False, "the chip's answer does not verify with the DG15 key (cloned chip?)"
        )
    except ValueError as exc:
        report.add("aa.signature", False, str(exc))
    else:
        report.add(
            "aa.signature", True, f"ECDSA/{hash_name} over the {AA_CHALLENGE_LENGTH}-byte challenge verifies"
        )
    return report


def _internal_authenticate(
    report: ActiveAuthReport, respond: Callable[[bytes], bytes], challenge: bytes | None
) -> tuple[bytes, bytes] | None:
    """INTERNAL AUTHENTICATE with ``challenge`` (or 8 fresh random bytes): (challenge, answer),
    or ``None`` with a failed ``aa.response`` step when the chip (``respond``) refused."""
    nonce = challenge if challenge is not None else secrets.token_bytes(AA_CHALLENGE_LENGTH)
    if len(nonce) != AA_CHALLENGE_LENGTH:
        raise DomainValidationError.single("challenge", "length", f"must have {AA_CHALLENGE_LENGTH} bytes")
    try:
        answer = respond(nonce)
    except DomainValidationError as exc:
        report.add("aa.response", False, _problem_text(exc))
        return None
    report.add("aa.response", True, f"{len(answer)} bytes")
    return nonce, answer


def _rsa_active_authentication(
    report: ActiveAuthReport,
    key: rsa.RSAPublicKey,
    respond: Callable[[bytes], bytes],
    challenge: bytes | None,
) -> ActiveAuthReport:
    """RSA Active Authentication (part 11 §6.1.2): ISO/IEC 9796-2 Digital Signature scheme 1, the
    challenge as the non-recoverable part; the hash from the trailer (no DG14 needed)."""
    report.add("dg15.parse", True, f"RSA key of {key.key_size} bits (ISO/IEC 9796-2 scheme 1)")
    exchanged = _internal_authenticate(report, respond, challenge)
    if exchanged is None:
        return report
    nonce, answer = exchanged
    try:
        hash_name = iso9796.verify(key, answer, nonce)
    except DomainValidationError as exc:
        report.add("aa.signature", False, f"{_problem_text(exc)} (cloned chip?)")
    else:
        report.add(
            "aa.signature", True, f"ISO/IEC 9796-2 scheme 1 with {hash_name} over the challenge verifies"
        )
    return report


AA_DATA_GROUP = 15


def chip_active_authentication(
    chip: ChipData, passive: PassiveAuthReport, challenge: bytes | None, answer: bytes | None
) -> ActiveAuthReport | None:
    """Active Authentication of a chip read at a desk (part 11 §6.1), after passive
    authentication: ``None`` when the chip offers none (its SOD lists no DG15). Otherwise the
    chip must have been read with DG15 and DG14 and must have signed ``challenge`` — the 8 bytes
    the server issued for this read and keeps until it is used once — with the DG15 key:

    * DG15 listed in the SOD but not read → ``dg15.read`` fails: leaving DG15 out of a read of a
      cloned chip (whose signed files can be copied but whose AA key cannot) must not skip AA;
    * no challenge issued, or no answer → ``aa.response`` fails;
    * then :func:`active_authentication` (``dg15.parse``, ``dg14.aa_info``, ``aa.signature``).

    The DG15 and DG14 read are trusted only because passive authentication verified their hashes
    against the signed SOD (the caller refuses the chip before this when it did not)."""
    if AA_DATA_GROUP not in passive.sod_data_groups:
        return None
    report = ActiveAuthReport()
    if chip.dg15 is None:
        report.add("dg15.read", False, "the SOD lists DG15 (Active Authentication) but DG15 was not read")
        return report
    if challenge is None or not answer:
        report.add(
            "aa.response",
            False,
            "the chip offers Active Authentication: read it with this desk's challenge",
        )
        return report
    return active_authentication(chip.dg15, lambda _nonce: answer, dg14=chip.dg14, challenge=challenge)
