"""A synthetic eMRTD PKI: a CSCA, Document Signers issued by it, and a trust store of CSCAs.

ICAO Doc 9303 part 12 (Public Key Infrastructure for MRTDs): the Country Signing CA (CSCA) is
the national trust anchor; it certifies Document Signers (DS), whose keys sign the EF.SOD of
each chip. Vietnam's CSCA certificate is not public, so tests, the demo and the benchmark use
the synthetic one made here; production loads real CSCA certificates into a :class:`TrustStore`
from a directory or PEM bundle (``DANCU_CHIP_TRUST_STORE``).

**Algorithm choice: ECDSA on NIST P-256 with SHA-256** (part 12 §4 allows RSA, RSA-PSS and
ECDSA; the curve is a parameter, brainpool curves work the same way). P-256 because key
generation takes well under a millisecond (test fixtures stay fast), signatures are 64 bytes,
verification is cheap (the passive-authentication benchmark), and every NFC reader library
understands it. Real CSCAs commonly use P-384/brainpoolP384r1 or RSA-PSS 3072–4096.

Certificate profile (part 12 §7.1, RFC 5280):

* CSCA: self-signed, ``C=VN``; basicConstraints **critical** cA=TRUE pathLen=0; keyUsage
  **critical** keyCertSign + cRLSign; subject key identifier; authority key identifier = its own
  key id; private key usage period. Default validity 15 years (part 12 §5: key usage period
  3–5 years + the validity of the longest-lived document signed under it).
* DS: issued by the CSCA, validity inside and shorter than the CSCA's; keyUsage **critical**
  digitalSignature only; authority key identifier = the CSCA's key id; subject key identifier;
  private key usage period (signing for 3 months, part 12 §5); the Document Type List extension
  (2.23.136.1.1.6.2, part 12 §7.1.1.3) naming ``ID``. Default validity 10 years + 3 months.

Simplifications, documented: no CRL distribution points and no CRLs (part 12 §7.1.4; a trust
store here is a static list of CSCAs), and EC public keys use *named* curves — part 12 asks for
explicit domain parameters in EC certificates, which ``cryptography`` neither writes nor reads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dancu.blocks.identity.chip.tlv import encode_integer, encode_tlv
from dancu.errors import DomainValidationError

CSCA_VALIDITY = timedelta(days=15 * 365)
DS_VALIDITY = timedelta(days=10 * 365 + 91)
DS_PRIVATE_KEY_USAGE = timedelta(days=91)
CSCA_PRIVATE_KEY_USAGE = timedelta(days=5 * 365)
OID_DOCUMENT_TYPE_LIST = x509.ObjectIdentifier("2.23.136.1.1.6.2")  # part 12 §7.1.1.3
TRUST_STORE_ENV = "DANCU_CHIP_TRUST_STORE"
_CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")


@dataclass(frozen=True)
class CertifiedKey:
    """A certificate and its private key (a CSCA or a Document Signer)."""

    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def private_key_pem(self, password: bytes | None = None) -> bytes:
        """PKCS #8 PEM, encrypted with the best available scheme when ``password`` is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        )
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    @classmethod
    def from_pem(
        cls, certificate_pem: bytes, private_key_pem: bytes, *, password: bytes | None = None
    ) -> CertifiedKey:
        """Load a pair; the key must be an EC key and must match the certificate's public key."""
        try:
            certificate = x509.load_pem_x509_certificate(certificate_pem)
            key = serialization.load_pem_private_key(private_key_pem, password=password)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise DomainValidationError.single(
                "pem", "unreadable", f"cannot load the PEM pair: {exc}"
            ) from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise DomainValidationError.single("private_key", "key_type", "must be an EC private key")
        if key.public_key() != certificate.public_key():
            raise DomainValidationError.single(
                "private_key", "key_mismatch", "does not belong to the certificate's public key"
            )
        return cls(certificate=certificate, private_key=key)

    def save(self, directory: Path, name: str, *, password: bytes | None = None) -> tuple[Path, Path]:
        """Write ``name.crt.pem`` and ``name.key.pem`` (mode 0600) into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        cert_path = directory / f"{name}.crt.pem"
        key_path = directory / f"{name}.key.pem"
        cert_path.write_bytes(self.certificate_pem())
        key_path.touch(mode=0o600, exist_ok=True)
        key_path.chmod(0o600)
        key_path.write_bytes(self.private_key_pem(password))
        return cert_path, key_path

    @classmethod
    def load(cls, directory: Path, name: str, *, password: bytes | None = None) -> CertifiedKey:
        """Read a pair written by :meth:`save`."""
        return cls.from_pem(
            (directory / f"{name}.crt.pem").read_bytes(),
            (directory / f"{name}.key.pem").read_bytes(),
            password=password,
        )


def _hash_for(key: ec.EllipticCurvePrivateKey) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512:
    """SHA-2 matched to the curve strength (BSI TR-03111 §4.1.1 / part 12 practice)."""
    size = key.curve.key_size
    if size > 384:
        return hashes.SHA512()
    if size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


CLOCK_SKEW = timedelta(hours=1)


def _now() -> datetime:
    """The default start of validity: now, back-dated by :data:`CLOCK_SKEW` so that a certificate
    made a moment ago is valid on a verifier whose clock is a little behind."""
    return datetime.now(UTC).replace(microsecond=0) - CLOCK_SKEW


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise DomainValidationError.single(field, "timezone", "must be timezone-aware (UTC)")
    return value


def _document_type_list(types: Iterable[str]) -> bytes:
    """DocumentTypeListSyntax ::= SEQUENCE { version INTEGER (v0), docTypeList SET OF PrintableString }."""
    members = sorted(encode_tlv(0x13, t.encode("ascii")) for t in types)  # DER: SET OF sorted
    return encode_tlv(0x30, encode_integer(0) + encode_tlv(0x31, b"".join(members)))


def _private_key_usage(not_before: datetime, period: timedelta) -> list[x509.ExtensionType]:
    cls = getattr(x509, "PrivateKeyUsagePeriod", None)  # cryptography ≥ 45
    return [] if cls is None else [cls(not_before, not_before + period)]


def create_csca(
    *,
    country: str = "VN",
    organization: str = "dancu synthetic test PKI",
    common_name: str = "CSCA VN (synthetic, not the real Vietnamese CSCA)",
    not_before: datetime | None = None,
    validity: timedelta = CSCA_VALIDITY,
    curve: ec.EllipticCurve | None = None,
) -> CertifiedKey:
    """A self-signed CSCA certificate and key (ICAO Doc 9303 part 12 §4.1, §7.1)."""
    start = _aware(not_before, "not_before") if not_before is not None else _now()
    key = ec.generate_private_key(curve or ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier(ski.digest, None, None), critical=False)
    )
    for extension in _private_key_usage(start, min(CSCA_PRIVATE_KEY_USAGE, validity)):
        builder = builder.add_extension(extension, critical=False)
    return CertifiedKey(certificate=builder.sign(key, _hash_for(key)), private_key=key)


def _signer_builder(
    csca: CertifiedKey, key: ec.EllipticCurvePrivateKey, common_name: str, start: datetime, end: datetime
) -> x509.CertificateBuilder:
    """The part of a CSCA-issued signer certificate that a Document Signer and a Master List Signer
    share (ICAO Doc 9303 part 12 §7.1): the CSCA's country and the signer's name as subject, the
    CSCA as issuer, keyUsage digitalSignature only (critical), authority and subject key ids."""
    ca_cert = csca.certificate
    country = ca_cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    subject = x509.Name(
        [
            *([x509.NameAttribute(NameOID.COUNTRY_NAME, str(country[0].value))] if country else []),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(csca.private_key.public_key()), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def create_document_signer(
    csca: CertifiedKey,
    *,
    common_name: str = "Document Signer VN 001 (synthetic)",
    not_before: datetime | None = None,
    validity: timedelta = DS_VALIDITY,
    document_types: Iterable[str] = ("ID",),
    curve: ec.EllipticCurve | None = None,
) -> CertifiedKey:
    """A Document Signer certificate issued by ``csca`` (part 12 §4.2, §7.1).

    The DS validity must start no earlier and end no later than the CSCA's and be shorter:
    otherwise ``DomainValidationError`` (field ``validity``, rule ``within_csca``).
    """
    start = _aware(not_before, "not_before") if not_before is not None else _now()
    end = start + validity
    ca_cert = csca.certificate
    if (
        start < ca_cert.not_valid_before_utc
        or end > ca_cert.not_valid_after_utc
        or validity >= ca_cert.not_valid_after_utc - ca_cert.not_valid_before_utc
    ):
        raise DomainValidationError.single(
            "validity",
            "within_csca",
            f"the DS validity {start:%Y-%m-%d}–{end:%Y-%m-%d} must lie within and be shorter than the "
            f"CSCA's {ca_cert.not_valid_before_utc:%Y-%m-%d}–{ca_cert.not_valid_after_utc:%Y-%m-%d}",
        )
    key = ec.generate_private_key(curve or ec.SECP256R1())
    builder = _signer_builder(csca, key, common_name, start, end).add_extension(
        x509.UnrecognizedExtension(OID_DOCUMENT_TYPE_LIST, _document_type_list(document_types)),
        critical=False,
    )
    for extension in _private_key_usage(start, min(DS_PRIVATE_KEY_USAGE, validity)):
        builder = builder.add_extension(extension, critical=False)
    return CertifiedKey(
        certificate=builder.sign(csca.private_key, _hash_for(csca.private_key)), private_key=key
    )


OID_ML_SIGNING_KEY = x509.ObjectIdentifier("2.23.136.1.1.3")  # id-icao-cscaMasterListSigningKey
ML_SIGNER_VALIDITY = timedelta(days=3 * 365)


def create_master_list_signer(
    csca: CertifiedKey,
    *,
    common_name: str = "Master List Signer (synthetic)",
    not_before: datetime | None = None,
    validity: timedelta = ML_SIGNER_VALIDITY,
) -> CertifiedKey:
    """A Master List Signer certificate issued by ``csca`` (ICAO Doc 9303 part 12 §9 and §7.1:
    keyUsage digitalSignature, extendedKeyUsage id-icao-cscaMasterListSigningKey 2.23.136.1.1.3).
    Its validity must lie within the CSCA's (``validity / within_csca``)."""
    start = _aware(not_before, "not_before") if not_before is not None else _now()
    end = start + validity
    ca_cert = csca.certificate
    if start < ca_cert.not_valid_before_utc or end > ca_cert.not_valid_after_utc:
        raise DomainValidationError.single(
            "validity", "within_csca", "the master list signer's validity must lie within the CSCA's"
        )
    key = ec.generate_private_key(ec.SECP256R1())
    builder = _signer_builder(csca, key, common_name, start, end).add_extension(
        x509.ExtendedKeyUsage([OID_ML_SIGNING_KEY]), critical=True
    )
    return CertifiedKey(
        certificate=builder.sign(csca.private_key, _hash_for(csca.private_key)), private_key=key
    )


# --------------------------------------------------------------------------- trust store
@dataclass(frozen=True)
class ChainCheck:
    """Whether a DS certificate was issued by a CSCA of the trust store (time-independent part).

    ``failed_step`` is ``""`` on success, else ``"ds.issuer"`` (no trusted CSCA with the DS's
    issuer name / authority key identifier) or ``"ds.chain_signature"`` (a candidate CSCA was
    found but none verifies the certificate's signature).
    """

    csca: x509.Certificate | None
    failed_step: str
    detail: str


def _subject_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def _authority_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        return None


class TrustStore:
    """The CSCA certificates trusted as anchors for passive authentication (part 11 §5.1 step 2).

    Certificates must be CA certificates (basicConstraints cA=TRUE). Issuers are found by
    subject name and, when the DS carries an authority key identifier, by subject key identifier
    (RFC 5280 §4.2.1.1), so several CSCA keys with the same name (key rollover) coexist.

    **Cache**: the signature check of a DS certificate against the store's CSCAs does not depend
    on the time of verification, so its result is cached per DS certificate (SHA-256 of the DER)
    — a country has few DS certificates and each signs many chips. The cache is bounded
    (:attr:`CACHE_SIZE` entries, cleared when full) and is emptied whenever a CSCA is added.
    Validity periods are still checked on every verification, at the requested time.
    """

    CACHE_SIZE = 4096

    def __init__(self, certificates: Iterable[x509.Certificate] = ()) -> None:
        self._certificates: list[x509.Certificate] = []
        self._fingerprints: set[bytes] = set()
        self._chain_cache: dict[bytes, ChainCheck] = {}
        self._lock = threading.Lock()
        for certificate in certificates:
            self.add(certificate)

    # ---- building
    def add(self, certificate: x509.Certificate) -> None:
        """Trust ``certificate`` (a CSCA, or a CSCA link certificate); duplicates are ignored."""
        try:
            constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            constraints = None
        if constraints is None or not constraints.ca:
            raise DomainValidationError.single(
                "trust_store",
                "not_a_ca",
                f"{certificate.subject.rfc4514_string()} is not a CA certificate (basicConstraints cA)",
            )
        fingerprint = certificate.fingerprint(hashes.SHA256())
        with self._lock:
            if fingerprint in self._fingerprints:
                return
            self._fingerprints.add(fingerprint)
            self._certificates.append(certificate)
            self._chain_cache.clear()

    @classmethod
    def from_pem_bundle(cls, data: bytes) -> TrustStore:
        """All certificates of a PEM bundle (one or more ``BEGIN CERTIFICATE`` blocks)."""
        try:
            certificates = x509.load_pem_x509_certificates(data)
        except ValueError as exc:
            raise DomainValidationError.single("trust_store", "pem", f"unreadable PEM bundle: {exc}") from exc
        return cls(certificates)

    @classmethod
    def from_directory(cls, directory: Path) -> TrustStore:
        """Every ``*.pem``/``*.crt``/``*.cer`` (PEM or DER) and ``*.der`` file of a directory."""
        store = cls()
        for path in sorted(directory.iterdir()):
            if path.is_file() and path.suffix.lower() in _CERT_SUFFIXES:
                for certificate in _load_certificate_file(path):
                    store.add(certificate)
        return store

    @classmethod
    def from_path(cls, path: Path) -> TrustStore:
        """A directory (see :meth:`from_directory`) or one PEM bundle file."""
        if path.is_dir():
            return cls.from_directory(path)
        if not path.is_file():
            raise DomainValidationError.single(
                "trust_store", "missing", f"{path} is neither a file nor a directory"
            )
        return cls(_load_certificate_file(path))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TrustStore:
        """The store named by ``DANCU_CHIP_TRUST_STORE`` (a directory or a PEM bundle; required)."""
        from dancu.config import env_str

        return cls.from_path(Path(env_str(TRUST_STORE_ENV, environ=environ)))

    def to_pem_bundle(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self._certificates)

    def clear_cache(self) -> None:
        """Forget every cached DS → CSCA check (e.g. after a CSCA was revoked out of band)."""
        with self._lock:
            self._chain_cache.clear()

    # ---- reading
    def __len__(self) -> int:
        return len(self._certificates)

    def __iter__(self) -> Iterator[x509.Certificate]:
        return iter(list(self._certificates))

    def candidates_for(self, certificate: x509.Certificate) -> list[x509.Certificate]:
        """CSCAs whose subject is the certificate's issuer (and whose key id matches its AKI)."""
        aki = _authority_key_id(certificate)
        found = []
        for csca in self._certificates:
            if csca.subject != certificate.issuer:
                continue
            ski = _subject_key_id(csca)
            if aki is not None and ski is not None and ski != aki:
                continue
            found.append(csca)
        return found

    def check_issued(self, certificate: x509.Certificate, fingerprint: bytes | None = None) -> ChainCheck:
        """Was ``certificate`` signed by a trusted CSCA? Cached per certificate (see class doc)."""
        key = fingerprint if fingerprint is not None else certificate.fingerprint(hashes.SHA256())
        cached = self._chain_cache.get(key)
        if cached is not None:
            return cached
        result = self._check_issued(certificate)
        with self._lock:
            if len(self._chain_cache) >= self.CACHE_SIZE:
                self._chain_cache.clear()
            self._chain_cache[key] = result
        return result

    def _check_issued(self, certificate: x509.Certificate) -> ChainCheck:
        candidates = self.candidates_for(certificate)
        if not candidates:
            aki = _authority_key_id(certificate)
            return ChainCheck(
                None,
                "ds.issuer",
                f"no CSCA in the trust store ({len(self)} certificates) has subject "
                f"{certificate.issuer.rfc4514_string()}"
                + (f" and key identifier {aki.hex()}" if aki is not None else ""),
            )
        reasons = []
        for csca in candidates:
            try:
                certificate.verify_directly_issued_by(csca)
            except InvalidSignature:
                reasons.append("signature does not verify with the CSCA key")
            except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
                reasons.append(str(exc))
            else:
                return ChainCheck(csca, "", f"signed by {csca.subject.rfc4514_string()}")
        return ChainCheck(
            None,
            "ds.chain_signature",
            f"the DS certificate is not signed by the trusted CSCA {candidates[0].subject.rfc4514_string()}: "
            + "; ".join(sorted(set(reasons))),
        )


def _load_certificate_file(path: Path) -> list[x509.Certificate]:
    data = path.read_bytes()
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise DomainValidationError.single(
            "trust_store", "certificate", f"{path.name} is not a readable certificate: {exc}"
        ) from exc
