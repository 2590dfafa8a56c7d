"""EF.SOD, the Document Security Object: build and parse (ICAO Doc 9303 part 10 §4.6.2).

EF.SOD is ``77 { ContentInfo }`` where the ContentInfo is a CMS SignedData (RFC 5652 §5) whose
encapsulated content, of type id-icao-mrtd-security-ldsSecurityObject (2.23.136.1.1.1), is::

    LDSSecurityObject ::= SEQUENCE {
        version                LDSSecurityObjectVersion,          -- v0(0), v1(1) with LDS info
        hashAlgorithm          DigestAlgorithmIdentifier,
        dataGroupHashValues    SEQUENCE SIZE (2..16) OF DataGroupHash,
        ldsVersionInfo         LDSVersionInfo OPTIONAL }          -- present only in v1
    DataGroupHash ::= SEQUENCE { dataGroupNumber INTEGER (1..16), dataGroupHashValue OCTET STRING }

The SignedData built here: version 3, the DS certificate in ``certificates``, one SignerInfo
(version 1, issuerAndSerialNumber) with the signed attributes content-type and message-digest
(RFC 5652 §11.1, §11.2), SHA-256, and an ECDSA signature (ecdsa-with-SHA256, RFC 5753) over the
DER of the signed attributes with the SET OF tag (RFC 5652 §5.4). LDSSecurityObject v0 (LDS 1.7).

:func:`parse_sod` turns the lazily parsed ``asn1crypto`` objects into plain values at once, so
that any malformed input fails *here* with a ``DomainValidationError`` (field ``sod``) and never
later as an arbitrary exception.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from asn1crypto import algos, cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from dancu.blocks.identity.chip.lds import ECDSA_PLAIN_OIDS, TAG_SOD
from dancu.blocks.identity.chip.tlv import decode_oid, encode_tlv, read_one
from dancu.errors import DomainValidationError, FieldProblem

OID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"  # id-icao-mrtd-security-ldsSecurityObject
HASH_ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,  # older passports (9303 6th edition); accepted on reading only
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
# Everything asn1crypto may raise on malformed input while it lazily decodes. Parsing untrusted
# bytes is the one place where catching broadly is the specification: no input may crash us.
_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError, RecursionError)


class DataGroupHash(core.Sequence):
    _fields = [("data_group_number", core.Integer), ("data_group_hash_value", core.OctetString)]


class DataGroupHashValues(core.SequenceOf):
    _child_spec = DataGroupHash


class LDSVersionInfo(core.Sequence):
    _fields = [("lds_version", core.PrintableString), ("unicode_version", core.PrintableString)]


class LDSSecurityObject(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashValues),
        ("lds_version_info", LDSVersionInfo, {"optional": True}),
    ]


# --------------------------------------------------------------------------- building
def build_sod(
    data_groups: Mapping[int, bytes],
    ds_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    ds_cert: x509.Certificate,
    *,
    hash_name: str = "sha256",
) -> bytes:
    """EF.SOD over the hashes of ``data_groups`` (number → file bytes), signed by the DS.

    An EC key signs with ECDSA (``ecdsa-with-SHA…``, DER signature, RFC 5753); an RSA key with
    RSASSA-PSS (RFC 4055: MGF1 with the same hash, salt as long as the hash), the RSA scheme
    part 12 recommends. The synthetic PKI of :mod:`.pki` makes EC keys only.
    """
    if hash_name not in HASH_ALGORITHMS or hash_name == "sha1":
        raise DomainValidationError.single(
            "hash_name", "supported", f"{hash_name!r} is not allowed for issuing"
        )
    if not 2 <= len(data_groups) <= 16 or not set(data_groups) <= set(range(1, 17)):
        raise DomainValidationError.single(
            "data_groups", "count", "the SOD covers 2–16 data groups numbered 1–16 (part 10 §4.6.2)"
        )
    lds_object = LDSSecurityObject(
        {
            "version": 0,
            "hash_algorithm": {"algorithm": hash_name, "parameters": None},  # RFC 5754 §2: absent
            "data_group_hash_values": [
                {
                    "data_group_number": n,
                    "data_group_hash_value": hashlib.new(hash_name, data_groups[n]).digest(),
                }
                for n in sorted(data_groups)
            ],
        }
    ).dump()
    return encode_tlv(
        TAG_SOD, build_signed_data(OID_LDS_SECURITY_OBJECT, lds_object, ds_key, ds_cert, hash_name=hash_name)
    )


def build_signed_data(
    content_type: str,
    econtent: bytes,
    signer_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    signer_cert: x509.Certificate,
    *,
    hash_name: str = "sha256",
) -> bytes:
    """A CMS ContentInfo/SignedData (RFC 5652 §5) encapsulating ``econtent`` of ``content_type``,
    one SignerInfo with content-type and message-digest signed attributes, the signer's
    certificate embedded. Used for EF.SOD and for CSCA master lists (part 12 §9)."""
    lds_object = econtent
    signed_attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": [content_type]},
            {"type": "message_digest", "values": [hashlib.new(hash_name, lds_object).digest()]},
        ]
    )
    chosen_hash = HASH_ALGORITHMS[hash_name]()
    # RFC 5652 §5.4: the signature covers the DER of the attributes with the EXPLICIT SET OF tag.
    if isinstance(signer_key, rsa.RSAPrivateKey):
        salt = chosen_hash.digest_size
        signature = signer_key.sign(
            signed_attrs.dump(), padding.PSS(mgf=padding.MGF1(chosen_hash), salt_length=salt), chosen_hash
        )
        signature_algorithm = {
            "algorithm": "rsassa_pss",
            "parameters": {
                "hash_algorithm": {"algorithm": hash_name},
                "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": hash_name}},
                "salt_length": salt,
            },
        }
    else:
        signature = signer_key.sign(signed_attrs.dump(), ec.ECDSA(chosen_hash))
        signature_algorithm = {"algorithm": f"{hash_name}_ecdsa"}
    cert = asn1_x509.Certificate.load(signer_cert.public_bytes(serialization.Encoding.DER))
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value=cms.IssuerAndSerialNumber({"issuer": cert.issuer, "serial_number": cert.serial_number}),
            ),
            "digest_algorithm": {"algorithm": hash_name, "parameters": None},
            "signed_attrs": signed_attrs,
            "signature_algorithm": signature_algorithm,
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": hash_name, "parameters": None}],
            "encap_content_info": {
                "content_type": content_type,
                "content": core.ParsableOctetString(lds_object),
            },
            "certificates": [cms.CertificateChoices(name="certificate", value=cert)],
            "signer_infos": [signer_info],
        }
    )
    content_info = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
    return bytes(content_info.dump())


# --------------------------------------------------------------------------- parsing
@dataclass(frozen=True)
class SignerData:
    """What the verifier needs of the (single) SignerInfo, as plain values."""

    issuer_der: bytes | None  # sid = issuerAndSerialNumber …
    serial_number: int | None
    subject_key_identifier: bytes | None  # … or subjectKeyIdentifier
    digest_algorithm: str  # "sha256"…
    signed_attrs_der: bytes | None  # with the SET OF tag (0x31), ready to verify; None if absent
    content_type_attrs: tuple[str, ...]  # values of every content-type attribute
    message_digest_attrs: tuple[bytes, ...]  # values of every message-digest attribute
    signature_algorithm_oid: str
    signature_algorithm: str  # "ecdsa", "rsassa_pkcs1v15", "rsassa_pss" or "" if unknown
    signature_hash: str  # the hash named by the signature algorithm, or the digest algorithm
    pss_salt_length: int | None
    pss_mgf_hash: str | None
    signature: bytes


@dataclass(frozen=True)
class ParsedSod:
    content_type: str  # eContentType, dotted
    econtent: bytes  # the DER of the LDSSecurityObject (the OCTET STRING's value)
    certificates: tuple[bytes, ...]  # DER of every X.509 certificate in ``certificates``
    signer: SignerData


@dataclass(frozen=True)
class LdsSecurityData:
    version: int
    hash_algorithm: str
    data_group_hashes: dict[int, bytes]
    lds_version: str | None
    unicode_version: str | None


def _hash_name(algorithm: algos.DigestAlgorithm) -> str:
    name = algorithm["algorithm"].native
    if name not in HASH_ALGORITHMS:
        raise DomainValidationError.single("sod", "hash_algorithm", f"unsupported digest algorithm {name}")
    return str(name)


def parse_sod(data: bytes) -> ParsedSod:
    """EF.SOD → plain values. Raises ``DomainValidationError`` (field ``sod``) for anything
    malformed: the 0x77 wrapper, the ContentInfo/SignedData, or not exactly one SignerInfo."""
    outer = read_one(data, field="sod", tag=TAG_SOD)
    try:
        return _parse_content_info(outer.value)
    except DomainValidationError:
        raise
    except _ASN1_ERRORS as exc:
        raise DomainValidationError.single(
            "sod", "asn1", f"malformed CMS structure: {type(exc).__name__}"
        ) from exc


def parse_signed_data(der: bytes, *, field: str) -> ParsedSod:
    """A bare CMS ContentInfo/SignedData with one SignerInfo (a CSCA master list, part 12 §9)
    → plain values; anything malformed raises ``DomainValidationError`` naming ``field``."""
    try:
        return _parse_content_info(der)
    except DomainValidationError as exc:
        raise DomainValidationError(
            [FieldProblem(p.field.replace("sod", field, 1), p.rule, p.message) for p in exc.problems]
        ) from exc
    except _ASN1_ERRORS as exc:
        raise DomainValidationError.single(
            field, "asn1", f"malformed CMS structure: {type(exc).__name__}"
        ) from exc


def _parse_content_info(der: bytes) -> ParsedSod:
    content_info = cms.ContentInfo.load(der, strict=True)
    if content_info["content_type"].dotted != "1.2.840.113549.1.7.2":
        raise DomainValidationError.single("sod", "signed_data", "the ContentInfo is not a SignedData")
    signed_data = content_info["content"]
    encap = signed_data["encap_content_info"]
    content_type = encap["content_type"].dotted
    content = encap["content"]
    if isinstance(content, core.Void) or content is None:
        raise DomainValidationError.single("sod", "econtent", "the SignedData has no encapsulated content")
    econtent = bytes(content)
    certificates = []
    for choice in signed_data["certificates"] or []:
        if choice.name == "certificate":
            certificates.append(choice.chosen.dump())
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        raise DomainValidationError.single(
            "sod", "signer_count", f"the SOD must have exactly one SignerInfo, has {len(signer_infos)}"
        )
    return ParsedSod(
        content_type=content_type,
        econtent=econtent,
        certificates=tuple(certificates),
        signer=_parse_signer(signer_infos[0]),
    )


def _parse_signer(info: cms.SignerInfo) -> SignerData:
    sid = info["sid"]
    issuer_der = serial = ski = None
    if sid.name == "issuer_and_serial_number":
        issuer_der = sid.chosen["issuer"].dump()
        serial = int(sid.chosen["serial_number"].native)
    else:
        ski = bytes(sid.chosen.native)
    digest_algorithm = _hash_name(info["digest_algorithm"])
    attrs = info["signed_attrs"]
    signed_attrs_der = None
    content_types: tuple[str, ...] = ()
    digests: tuple[bytes, ...] = ()
    if not isinstance(attrs, core.Void):
        raw = attrs.dump()
        signed_attrs_der = b"\x31" + raw[1:]  # [0] IMPLICIT → SET OF (RFC 5652 §5.4)
        content_types, digests = _read_signed_attributes(signed_attrs_der)
    algorithm = info["signature_algorithm"]
    oid = algorithm["algorithm"].dotted
    signature_algorithm, signature_hash = _SIGNATURE_ALGORITHMS.get(oid, ("", ""))
    signature_hash = signature_hash or digest_algorithm  # rsaEncryption/ecPublicKey: the digest's hash
    salt = mgf_hash = None
    if signature_algorithm == "rsassa_pss":  # RFC 4055 §3.1 RSASSA-PSS-params
        params = algorithm["parameters"]
        signature_hash = str(params["hash_algorithm"]["algorithm"].native)
        salt = int(params["salt_length"].native)
        mgf_hash = str(params["mask_gen_algorithm"]["parameters"]["algorithm"].native)
    return SignerData(
        issuer_der=issuer_der,
        serial_number=serial,
        subject_key_identifier=ski,
        digest_algorithm=digest_algorithm,
        signed_attrs_der=signed_attrs_der,
        content_type_attrs=content_types,
        message_digest_attrs=digests,
        signature_algorithm_oid=oid,
        signature_algorithm=signature_algorithm,
        signature_hash=signature_hash,
        pss_salt_length=salt,
        pss_mgf_hash=mgf_hash,
        signature=bytes(info["signature"].native),
    )


_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"  # RFC 5652 §11.1
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"  # RFC 5652 §11.2
# signature algorithm OID → (kind, hash); "" hash = take the SignerInfo's digest algorithm.
_SIGNATURE_ALGORITHMS: dict[str, tuple[str, str]] = {
    "1.2.840.10045.4.1": ("ecdsa", "sha1"),  # RFC 3279
    "1.2.840.10045.4.3.1": ("ecdsa", "sha224"),  # RFC 5758 §3.2
    "1.2.840.10045.4.3.2": ("ecdsa", "sha256"),
    "1.2.840.10045.4.3.3": ("ecdsa", "sha384"),
    "1.2.840.10045.4.3.4": ("ecdsa", "sha512"),
    "1.2.840.10045.2.1": ("ecdsa", ""),  # id-ecPublicKey, seen in some SODs
    **{oid: ("ecdsa", hash_name) for oid, hash_name in ECDSA_PLAIN_OIDS.items()},  # BSI TR-03111
    "1.2.840.113549.1.1.1": ("rsassa_pkcs1v15", ""),  # rsaEncryption, seen in older SODs
    "1.2.840.113549.1.1.5": ("rsassa_pkcs1v15", "sha1"),  # RFC 8017 A.2.4
    "1.2.840.113549.1.1.14": ("rsassa_pkcs1v15", "sha224"),
    "1.2.840.113549.1.1.11": ("rsassa_pkcs1v15", "sha256"),
    "1.2.840.113549.1.1.12": ("rsassa_pkcs1v15", "sha384"),
    "1.2.840.113549.1.1.13": ("rsassa_pkcs1v15", "sha512"),
    "1.2.840.113549.1.1.10": ("rsassa_pss", ""),  # RFC 4055 §3.1, hash in the parameters
}


def _read_signed_attributes(der: bytes) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
    """Every content-type and message-digest value of the signed attributes (RFC 5652 §5.3:
    ``SET OF Attribute``, ``Attribute ::= SEQUENCE { attrType OID, attrValues SET OF ANY }``).
    Read with the TLV reader: a few small objects, cheaper than a generic ASN.1 walk."""
    field = "sod.signed_attributes"
    content_types: list[str] = []
    digests: list[bytes] = []
    for attr in read_one(der, field=field, tag=0x31).children(field=field):
        parts = attr.children(field=field) if attr.tag == 0x30 else []
        if len(parts) != 2 or parts[1].tag != 0x31:
            raise DomainValidationError.single(
                field, "attribute", "an attribute must be SEQUENCE { OID, SET }"
            )
        kind = decode_oid(parts[0], field=field)
        values = parts[1].children(field=field)
        if kind == _OID_CONTENT_TYPE:
            content_types.extend(decode_oid(v, field=field) for v in values)
        elif kind == _OID_MESSAGE_DIGEST:
            for value in values:
                if value.tag != 0x04:
                    raise DomainValidationError.single(
                        field, "message_digest", "the digest must be an OCTET STRING"
                    )
                digests.append(value.value)
    return tuple(content_types), tuple(digests)


def parse_lds_security_object(econtent: bytes) -> LdsSecurityData:
    """The LDSSecurityObject (part 10 §4.6.2.2): version 0/1, a supported hash, 2–16 unique DG numbers."""
    try:
        lso = LDSSecurityObject.load(econtent, strict=True)
        version = int(lso["version"].native)
        hash_algorithm = _hash_name(lso["hash_algorithm"])
        hashes_: dict[int, bytes] = {}
        for item in lso["data_group_hash_values"]:
            number = int(item["data_group_number"].native)
            if not 1 <= number <= 16 or number in hashes_:
                raise DomainValidationError.single(
                    "sod.lds_security_object",
                    "data_group_number",
                    f"data group number {number} is invalid or repeated",
                )
            hashes_[number] = bytes(item["data_group_hash_value"].native)
        info = lso["lds_version_info"]
        lds_version = unicode_version = None
        if not isinstance(info, core.Void):
            lds_version = str(info["lds_version"].native)
            unicode_version = str(info["unicode_version"].native)
    except DomainValidationError:
        raise
    except _ASN1_ERRORS as exc:
        raise DomainValidationError.single(
            "sod.lds_security_object", "asn1", f"malformed LDSSecurityObject: {type(exc).__name__}"
        ) from exc
    if version not in (0, 1) or (version == 1) != (lds_version is not None):
        raise DomainValidationError.single(
            "sod.lds_security_object", "version", f"version {version} does not match the LDS version info"
        )
    if not 2 <= len(hashes_) <= 16:
        raise DomainValidationError.single(
            "sod.lds_security_object", "data_group_count", f"{len(hashes_)} data group hashes (2–16 required)"
        )
    digest_size = hashlib.new(hash_algorithm).digest_size
    if any(len(h) != digest_size for h in hashes_.values()):
        raise DomainValidationError.single(
            "sod.lds_security_object", "hash_length", f"a data group hash is not {digest_size} bytes long"
        )
    return LdsSecurityData(version, hash_algorithm, hashes_, lds_version, unicode_version)
