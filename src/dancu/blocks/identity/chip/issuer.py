"""Issuing a (synthetic) chip for a card holder, and the chip data an NFC reader sends us.

:func:`issue_chip` personalises what a card's chip holds — DG1 (TD1 MRZ), DG2 (face), DG13
(Vietnam-specific personal data), optionally DG14 + DG15 (Active Authentication), EF.COM and
EF.SOD signed by a Document Signer (ICAO Doc 9303 part 10; part 11 §5.1 and §6.1 verify it).
:class:`ChipData` is the wire form a reader app POSTs: ``{"sod": b64, "dg1": b64, …}``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from dancu.blocks.identity.chip import iso9796
from dancu.blocks.identity.chip.face import synthetic_face_jpeg
from dancu.blocks.identity.chip.lds import (
    DG13,
    encode_com,
    encode_dg1,
    encode_dg2,
    encode_dg13,
    encode_dg14_active_auth,
    encode_dg15,
)
from dancu.blocks.identity.chip.sod import HASH_ALGORITHMS, build_sod
from dancu.blocks.identity.mrz import MrzTD1, vietnamese_td1
from dancu.errors import DomainValidationError, FieldProblem

MAX_FILE_BYTES = 1 << 20  # per file; a card's DG2 is 10–30 kB, its SOD 1–3 kB
AA_CHALLENGE_LENGTH = 8  # part 11 §6.1: INTERNAL AUTHENTICATE with an 8-byte random challenge
_DIGITS12 = re.compile(r"^[0-9]{12}$")


@dataclass(frozen=True)
class CardHolder:
    """What the card says about its holder (registry → chip). ``sex`` is ``"M"``/``"F"``;
    ``expiry_date`` ``None`` means "Không thời hạn"; ``face_seed`` picks the synthetic portrait."""

    id_number: str
    full_name: str
    date_of_birth: date
    sex: str
    place_of_origin: str
    place_of_residence: str
    issue_date: date
    expiry_date: date | None
    nationality: str = "Việt Nam"
    ethnicity: str = "Kinh"
    religion: str = "Không"
    identifying_marks: str = ""
    father_name: str = ""
    mother_name: str = ""
    spouse_name: str = ""
    old_id_number: str = ""
    face_seed: int = 0

    def validate(self) -> None:
        """The minimum the chip files need; full identity rules are the registry's job."""
        problems = []
        if not _DIGITS12.match(self.id_number):
            problems.append(FieldProblem("id_number", "digits", "must have 12 digits"))
        if self.sex not in ("M", "F"):
            problems.append(FieldProblem("sex", "choice", "must be 'M' or 'F'"))
        if not self.full_name.strip():
            problems.append(FieldProblem("full_name", "required", "must not be empty"))
        if self.old_id_number and not (
            len(self.old_id_number) in (9, 12)
            and self.old_id_number.isascii()
            and self.old_id_number.isdigit()
        ):
            problems.append(
                FieldProblem("old_id_number", "digits", "must be empty or a 9- or 12-digit number")
            )
        if self.expiry_date is not None and self.expiry_date <= self.issue_date:
            problems.append(FieldProblem("expiry_date", "after_issue", "must be after the issue date"))
        if problems:
            raise DomainValidationError(problems)

    def dg13(self) -> DG13:
        return DG13(
            id_number=self.id_number,
            full_name=self.full_name,
            date_of_birth=self.date_of_birth,
            sex=self.sex,
            nationality=self.nationality,
            ethnicity=self.ethnicity,
            religion=self.religion,
            place_of_origin=self.place_of_origin,
            place_of_residence=self.place_of_residence,
            identifying_marks=self.identifying_marks,
            issue_date=self.issue_date,
            expiry_date=self.expiry_date,
            father_name=self.father_name,
            mother_name=self.mother_name,
            spouse_name=self.spouse_name,
            old_id_number=self.old_id_number,
        )

    def mrz(self) -> MrzTD1:
        """The card's TD1 MRZ as DG1 holds it: :func:`~dancu.blocks.identity.mrz.vietnamese_td1`.

        Vietnamese profile (domain-vn §3; ICAO 9303 part 5). The holder is validated first, and the
        ID number must agree with the date of birth and sex (Circular 07/2016/TT-BCA Art. 7). No
        expiry date (``expiry_date=None``): the MRZ expiry field is ``<<<<<<`` with check digit 0.
        """
        self.validate()
        return vietnamese_td1(
            id_number=self.id_number,
            full_name=self.full_name,
            date_of_birth=self.date_of_birth,
            sex="F" if self.sex == "F" else "M",  # validate() admits only "M" and "F"
            date_of_expiry=self.expiry_date,
        )

    def mrz_lines(self) -> tuple[str, str, str]:
        return self.mrz().lines


@dataclass(frozen=True)
class SimulatedChip:
    """Stands in for the chip in Active Authentication (part 11 §6.1): INTERNAL AUTHENTICATE.

    The chip signs the terminal's 8-byte challenge with its AA private key. ECDSA is used, with
    the signature returned in the *plain* format r ‖ s (BSI TR-03111 §5.2.1) as real chips do;
    DG14 names the algorithm (ecdsa-plain-SHA256). An RSA chip answers with ISO/IEC 9796-2
    Digital Signature scheme 1 (part 11 §6.1.2; :mod:`.iso9796`), SHA-1 unless ``hash_name`` says
    otherwise; it needs no DG14.
    """

    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = field(repr=False)
    hash_name: str = "sha256"

    def internal_authenticate(self, challenge: bytes) -> bytes:
        if len(challenge) != AA_CHALLENGE_LENGTH:
            raise DomainValidationError.single(
                "challenge",
                "length",
                f"the AA challenge has {AA_CHALLENGE_LENGTH} bytes, got {len(challenge)}",
            )
        if isinstance(self.private_key, rsa.RSAPrivateKey):
            return iso9796.sign(self.private_key, challenge, hash_name=self.hash_name)
        der = self.private_key.sign(challenge, ec.ECDSA(HASH_ALGORITHMS[self.hash_name]()))
        r, s = decode_dss_signature(der)
        size = (self.private_key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    __call__ = internal_authenticate


@dataclass(frozen=True)
class ChipData:
    """The files read from a chip: EF.SOD, the data groups (number → file), EF.COM if read.

    ``aa_private_key`` exists only on chips made by :func:`issue_chip` with Active
    Authentication: it stays inside the (simulated) chip and is never serialised.
    """

    sod: bytes
    data_groups: dict[int, bytes] = field(hash=False)
    com: bytes | None = None
    aa_private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = field(
        default=None, repr=False, compare=False
    )

    def dg(self, number: int) -> bytes | None:
        return self.data_groups.get(number)

    @property
    def dg1(self) -> bytes | None:
        return self.data_groups.get(1)

    @property
    def dg2(self) -> bytes | None:
        return self.data_groups.get(2)

    @property
    def dg13(self) -> bytes | None:
        return self.data_groups.get(13)

    @property
    def dg14(self) -> bytes | None:
        return self.data_groups.get(14)

    @property
    def dg15(self) -> bytes | None:
        return self.data_groups.get(15)

    def simulated_chip(self) -> SimulatedChip:
        if self.aa_private_key is None:
            raise DomainValidationError.single(
                "dg15", "no_active_auth", "this chip has no Active Authentication key"
            )
        if isinstance(self.aa_private_key, rsa.RSAPrivateKey):
            return SimulatedChip(self.aa_private_key, "sha1")
        return SimulatedChip(self.aa_private_key)

    def replace(self, **files: bytes | None) -> ChipData:
        """A copy with some files replaced or (``None``) removed: ``chip.replace(dg1=b"…", dg2=None)``."""
        groups = dict(self.data_groups)
        sod, com = self.sod, self.com
        for key, value in files.items():
            if key == "sod":
                if value is None:
                    raise DomainValidationError.single("sod", "required", "a chip always has an EF.SOD")
                sod = value
            elif key == "com":
                com = value
            else:
                number = _dg_number(key)
                if value is None:
                    groups.pop(number, None)
                else:
                    groups[number] = value
        return ChipData(sod=sod, data_groups=groups, com=com, aa_private_key=self.aa_private_key)

    def to_dict(self) -> dict[str, str]:
        """``{"sod": b64, "com": b64, "dg1": b64, …}`` (standard base64, RFC 4648 §4)."""
        out = {"sod": base64.b64encode(self.sod).decode("ascii")}
        if self.com is not None:
            out["com"] = base64.b64encode(self.com).decode("ascii")
        for number in sorted(self.data_groups):
            out[f"dg{number}"] = base64.b64encode(self.data_groups[number]).decode("ascii")
        return out

    @classmethod
    def from_dict(cls, payload: Mapping[str, object]) -> ChipData:
        """Decode what a reader app sent. ``sod`` is required; keys are ``sod``, ``com``, ``dg1``–``dg16``;
        each value standard base64 of at most :data:`MAX_FILE_BYTES` bytes. Errors name the key."""
        problems: list[FieldProblem] = []
        files: dict[str, bytes] = {}
        for key, value in payload.items():
            if key not in ("sod", "com") and not _is_dg_key(key):
                problems.append(FieldProblem(str(key)[:20], "unknown_key", "expected sod, com or dg1–dg16"))
                continue
            if not isinstance(value, str):
                problems.append(FieldProblem(key, "type", "must be a base64 string"))
                continue
            if len(value) > (MAX_FILE_BYTES * 4) // 3 + 4:
                problems.append(FieldProblem(key, "too_large", f"files are at most {MAX_FILE_BYTES} bytes"))
                continue
            try:
                files[key] = base64.b64decode("".join(value.split()), validate=True)
            except (binascii.Error, ValueError):
                problems.append(FieldProblem(key, "base64", "is not valid base64"))
        if "sod" not in files and not any(p.field == "sod" for p in problems):
            problems.append(
                FieldProblem("sod", "required", "the EF.SOD is needed for passive authentication")
            )
        if problems:
            raise DomainValidationError(problems)
        return cls(
            sod=files.pop("sod"),
            com=files.pop("com", None),
            data_groups={_dg_number(k): v for k, v in files.items()},
        )


def _is_dg_key(key: object) -> bool:
    return isinstance(key, str) and re.fullmatch(r"dg([1-9]|1[0-6])", key) is not None


def _dg_number(key: str) -> int:
    if not _is_dg_key(key):
        raise DomainValidationError.single(key[:20], "unknown_key", "expected dg1–dg16")
    return int(key[2:])


def active_auth_key(
    groups: dict[int, bytes], kind: bool | str
) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None:
    """Personalise Active Authentication into ``groups``: ``True``/``"ecdsa"`` a P-256 key with
    DG14 naming ecdsa-plain-SHA256 and DG15; ``"rsa"`` a 2048-bit RSA key in DG15 (ISO/IEC 9796-2,
    no DG14); ``False`` none. The private key stays in the chip (``ChipData.aa_private_key``)."""
    if not kind:
        return None
    if kind == "rsa":
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        groups[15] = encode_dg15(rsa_key.public_key())
        return rsa_key
    if kind not in (True, "ecdsa"):
        raise ValueError("with_active_auth: False, True, 'ecdsa' or 'rsa'")
    ec_key = ec.generate_private_key(ec.SECP256R1())
    groups[14] = encode_dg14_active_auth("sha256")
    groups[15] = encode_dg15(ec_key.public_key())
    return ec_key


def issue_chip(
    person: CardHolder,
    ds_key: ec.EllipticCurvePrivateKey,
    ds_cert: x509.Certificate,
    *,
    with_active_auth: bool | str = False,
    hash_name: str = "sha256",
    face_jpeg: bytes | None = None,
) -> ChipData:
    """Personalise a chip: DG1, DG2, DG13 (+ DG14, DG15 with Active Authentication), EF.COM, EF.SOD.

    ``ds_key``/``ds_cert`` are a Document Signer's (:func:`.pki.create_document_signer`). With
    ``with_active_auth`` (``True`` or ``"ecdsa"``; ``"rsa"``: :func:`active_auth_key`) a fresh AA
    key pair is made; DG15 holds its public key, the
    returned ``ChipData.aa_private_key`` the private key for :meth:`ChipData.simulated_chip`.
    ``face_jpeg`` overrides the synthetic portrait drawn from ``person.face_seed``.
    """
    person.validate()
    if ds_key.public_key() != ds_cert.public_key():
        raise DomainValidationError.single("ds_key", "key_mismatch", "does not belong to the DS certificate")
    groups: dict[int, bytes] = {
        1: encode_dg1(person.mrz_lines()),
        2: encode_dg2(
            face_jpeg if face_jpeg is not None else synthetic_face_jpeg(person.face_seed), sex=person.sex
        ),
        13: encode_dg13(person.dg13()),
    }
    aa_key = active_auth_key(groups, with_active_auth)
    sod = build_sod(groups, ds_key, ds_cert, hash_name=hash_name)
    return ChipData(sod=sod, data_groups=groups, com=encode_com(groups), aa_private_key=aa_key)
