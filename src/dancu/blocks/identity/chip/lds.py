"""The LDS data groups of a Vietnamese chip card: encode and parse (ICAO Doc 9303 part 10).

Files (part 10 §4.6–§4.7; each is one BER-TLV object, :mod:`.tlv`):

* EF.COM ``0x60`` — LDS version ``5F01``, Unicode version ``5F36``, tag list ``5C`` (§4.6.1).
* DG1 ``0x61`` → ``5F1F`` the MRZ; here TD1, 3 × 30 characters (§4.7.1).
* DG2 ``0x75`` → ``7F61`` biometric information group template → ``02`` number of instances,
  ``7F60`` biometric information template → ``A1`` biometric header template (CBEFF, ISO/IEC
  7816-11) + ``5F2E`` biometric data block, an ISO/IEC 19794-5:2005 face record (§4.7.2).
* DG13 ``0x6D`` — Vietnam-specific personal data, see :func:`parse_dg13` (domain-vn §3).
* DG14 ``0x6E`` — SecurityInfos; only ActiveAuthenticationInfo is written/read (§4.7.14).
* DG15 ``0x6F`` — the Active Authentication public key, a SubjectPublicKeyInfo (§4.7.15).

**DG2 simplification** (documented): one face instance; the biometric header carries only the
mandatory elements (ICAO header version, type = facial features, subtype, format owner 0x0101,
format type 0x0008); the 19794-5 record has one image, no feature points, unspecified eye/hair
colour, expression and pose; source "static photo, digital camera". The outer tag structure
``75/7F61/02/7F60/A1/5F2E`` is the real one, so a reader app or a library such as JMRTD finds
the JPEG where it expects it.

Every parser raises :class:`~dancu.errors.DomainValidationError` naming the file (``dg13``) or
the field (``dg13.date_of_birth``) and the rule; messages never echo the personal data read.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from PIL import Image, UnidentifiedImageError

from dancu.blocks.identity.chip.tlv import (
    Tlv,
    decode_integer,
    decode_oid,
    encode_integer,
    encode_oid,
    encode_tlv,
    read_one,
)
from dancu.errors import DomainValidationError, FieldProblem

# Part 10 §4.6 table of LDS1 elementary files: data group number → file tag.
DG_TAGS: dict[int, int] = {
    1: 0x61, 2: 0x75, 3: 0x63, 4: 0x76, 5: 0x65, 6: 0x66, 7: 0x67, 8: 0x68,
    9: 0x69, 10: 0x6A, 11: 0x6B, 12: 0x6C, 13: 0x6D, 14: 0x6E, 15: 0x6F, 16: 0x70,
}  # fmt: skip
TAG_COM = 0x60
TAG_SOD = 0x77
LDS_VERSION = "0107"
UNICODE_VERSION = "040000"

# --------------------------------------------------------------------------- EF.COM


@dataclass(frozen=True)
class Com:
    lds_version: str
    unicode_version: str
    data_groups: tuple[int, ...]


def encode_com(data_groups: Iterable[int]) -> bytes:
    """EF.COM (part 10 §4.6.1): LDS 1.7, Unicode 4.0.0 and the tags of the data groups present."""
    tags = bytes(DG_TAGS[n] for n in sorted(set(data_groups)))
    return encode_tlv(
        TAG_COM,
        encode_tlv(0x5F01, LDS_VERSION.encode("ascii"))
        + encode_tlv(0x5F36, UNICODE_VERSION.encode("ascii"))
        + encode_tlv(0x5C, tags),
    )


def parse_com(data: bytes) -> Com:
    outer = read_one(data, field="com", tag=TAG_COM)
    found = {item.tag: item.value for item in outer.children(field="com")}
    numbers_by_tag = {tag: n for n, tag in DG_TAGS.items()}
    try:
        lds = found[0x5F01].decode("ascii")
        uni = found[0x5F36].decode("ascii")
        groups = tuple(numbers_by_tag[t] for t in found[0x5C])
    except KeyError as exc:
        raise DomainValidationError.single(
            "com", "missing_element", "EF.COM lacks an element or lists an unknown tag"
        ) from exc
    except UnicodeDecodeError as exc:
        raise DomainValidationError.single("com", "ascii", "EF.COM versions must be ASCII digits") from exc
    return Com(lds_version=lds, unicode_version=uni, data_groups=groups)


# --------------------------------------------------------------------------- DG1
_MRZ_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")


def encode_dg1(lines: tuple[str, str, str]) -> bytes:
    """DG1 (part 10 §4.7.1): ``61 { 5F1F <the MRZ, lines concatenated> }``."""
    mrz = "".join(lines)
    if len(lines) != 3 or any(len(line) != 30 for line in lines) or not set(mrz) <= _MRZ_CHARS:
        raise DomainValidationError.single("dg1", "td1", "a TD1 MRZ is 3 lines of 30 characters A–Z, 0–9, <")
    return encode_tlv(DG_TAGS[1], encode_tlv(0x5F1F, mrz.encode("ascii")))


def parse_dg1(data: bytes) -> tuple[str, str, str]:
    """The three TD1 lines of DG1 (structure and character set only; the ``mrz`` module checks
    the check digits). TD2/TD3 MRZs (passports, visas) are refused with rule ``td1_length``."""
    mrz = _dg1_mrz(data, 90, "td1_length", "a TD1 MRZ has 90 characters (3 × 30)")
    return mrz[0:30], mrz[30:60], mrz[60:90]


def _dg1_mrz(data: bytes, length: int, rule: str, expected: str) -> str:
    """The MRZ text of DG1 (``61 { 5F1F <MRZ> }``, part 10 §4.7.1): ASCII, ``length`` characters
    (else ``rule``), only A–Z, 0–9 and ``<``."""
    outer = read_one(data, field="dg1", tag=DG_TAGS[1])
    inner = read_one(outer.value, field="dg1", tag=0x5F1F)
    try:
        mrz = inner.value.decode("ascii")
    except UnicodeDecodeError as exc:
        raise DomainValidationError.single("dg1", "mrz_charset", "the MRZ must be ASCII") from exc
    if len(mrz) != length:
        raise DomainValidationError.single("dg1", rule, f"{expected}, this one has {len(mrz)}")
    if not set(mrz) <= _MRZ_CHARS:
        raise DomainValidationError.single("dg1", "mrz_charset", "the MRZ may contain only A–Z, 0–9 and <")
    return mrz


def encode_dg1_td3(lines: tuple[str, str]) -> bytes:
    """DG1 of a passport (part 10 §4.7.1): ``61 { 5F1F <the TD3 MRZ, 2 × 44 characters> }``."""
    mrz = "".join(lines)
    if len(lines) != 2 or any(len(line) != 44 for line in lines) or not set(mrz) <= _MRZ_CHARS:
        raise DomainValidationError.single("dg1", "td3", "a TD3 MRZ is 2 lines of 44 characters A–Z, 0–9, <")
    return encode_tlv(DG_TAGS[1], encode_tlv(0x5F1F, mrz.encode("ascii")))


def parse_dg1_td3(data: bytes) -> tuple[str, str]:
    """The two TD3 lines of a passport's DG1 (structure and character set; the ``mrz`` module
    checks the check digits). A TD1 or TD2 MRZ is refused with rule ``td3_length``."""
    mrz = _dg1_mrz(data, 88, "td3_length", "a TD3 MRZ has 88 characters (2 × 44)")
    return mrz[0:44], mrz[44:88]


# --------------------------------------------------------------------------- DG2
_FORMAT_OWNER_ISO_SC37 = 0x0101
_FORMAT_TYPE_FACE = 0x0008
_BIOMETRIC_TYPE_FACE = 0x02
_IMAGE_DATA_JPEG = 0
_IMAGE_DATA_JPEG2000 = 1


@dataclass(frozen=True)
class FaceImage:
    """The face image of DG2: the encoded image and what the ISO/IEC 19794-5 record says of it."""

    image: bytes
    image_format: str  # "jpeg" or "jpeg2000"
    width: int
    height: int


def _face_record(image: bytes, *, width: int, height: int, sex: str, image_format: str) -> bytes:
    """An ISO/IEC 19794-5:2005 record with one image (§5.4 general header, §5.5 facial information,
    §5.7 image information), big-endian integers."""
    gender = {"M": 1, "F": 2}.get(sex, 0)
    facial_information = (
        b"\x00\x00"  # number of feature points
        + bytes([gender, 0, 0])  # gender, eye colour, hair colour (unspecified)
        + b"\x00\x00\x00"  # property mask
        + b"\x00\x00"  # expression unspecified
        + b"\x00\x00\x00"  # pose angle yaw/pitch/roll unspecified
        + b"\x00\x00\x00"  # pose angle uncertainty
    )
    image_information = (
        bytes([1, _IMAGE_DATA_JPEG if image_format == "jpeg" else _IMAGE_DATA_JPEG2000])  # full frontal
        + width.to_bytes(2, "big")
        + height.to_bytes(2, "big")
        + bytes([1, 3])  # colour space 24-bit RGB, source: static photo from a digital camera
        + b"\x00\x00"  # device type unspecified
        + b"\x00\x00"  # quality unspecified
    )
    block_length = 4 + len(facial_information) + len(image_information) + len(image)
    record_length = 14 + block_length
    general_header = b"FAC\x00" + b"010\x00" + record_length.to_bytes(4, "big") + (1).to_bytes(2, "big")
    return general_header + block_length.to_bytes(4, "big") + facial_information + image_information + image


def _image_size(image: bytes) -> tuple[str, int, int]:
    try:
        img = Image.open(BytesIO(image))
    except (UnidentifiedImageError, OSError) as exc:
        raise DomainValidationError.single(
            "dg2", "image_format", "the face image is not a readable image"
        ) from exc
    with img:
        fmt = "jpeg" if img.format == "JPEG" else "jpeg2000" if img.format == "JPEG2000" else ""
        if not fmt:
            raise DomainValidationError.single(
                "dg2", "image_format", "the face image must be JPEG or JPEG 2000"
            )
        return fmt, img.width, img.height


def encode_dg2(image: bytes, *, sex: str = "") -> bytes:
    """DG2 (part 10 §4.7.2) with one face image (see the module doc for what is simplified)."""
    image_format, width, height = _image_size(image)
    header = (
        encode_tlv(0x80, b"\x01\x01")  # ICAO header version 1.1
        + encode_tlv(0x81, bytes([_BIOMETRIC_TYPE_FACE]))
        + encode_tlv(0x82, b"\x00")  # biometric subtype: none
        + encode_tlv(0x87, _FORMAT_OWNER_ISO_SC37.to_bytes(2, "big"))
        + encode_tlv(0x88, _FORMAT_TYPE_FACE.to_bytes(2, "big"))
    )
    record = _face_record(image, width=width, height=height, sex=sex, image_format=image_format)
    template = encode_tlv(0x7F60, encode_tlv(0xA1, header) + encode_tlv(0x5F2E, record))
    return encode_tlv(DG_TAGS[2], encode_tlv(0x7F61, encode_tlv(0x02, b"\x01") + template))


def parse_dg2(data: bytes) -> FaceImage:
    """The first face image of DG2, after checking the template tags and the 19794-5 lengths."""
    outer = read_one(data, field="dg2", tag=DG_TAGS[2])
    group = read_one(outer.value, field="dg2", tag=0x7F61)
    children = group.children(field="dg2")
    if not children or children[0].tag != 0x02:
        raise DomainValidationError.single(
            "dg2", "instance_count", "the group template must start with 02 (count)"
        )
    count = decode_integer(children[0], field="dg2")
    templates = [c for c in children[1:] if c.tag == 0x7F60]
    if count < 1 or len(templates) != count or len(children) != count + 1:
        raise DomainValidationError.single(
            "dg2", "instance_count", f"declares {count} biometric templates, holds {len(templates)}"
        )
    parts = {c.tag: c for c in templates[0].children(field="dg2")}
    header, block = parts.get(0xA1), parts.get(0x5F2E) or parts.get(0x7F2E)
    if header is None or block is None:
        raise DomainValidationError.single("dg2", "template", "the biometric template lacks A1 or 5F2E")
    elements = {c.tag: c.value for c in header.children(field="dg2")}
    if elements.get(0x88) not in (None, _FORMAT_TYPE_FACE.to_bytes(2, "big")):
        raise DomainValidationError.single(
            "dg2", "format_type", "the biometric data block is not a face record"
        )
    return _parse_face_record(block.value)


def _parse_face_record(record: bytes) -> FaceImage:
    if len(record) < 14 + 4 + 20 + 12 or record[:4] != b"FAC\x00":
        raise DomainValidationError.single("dg2", "face_record", "not an ISO/IEC 19794-5 record ('FAC\\0')")
    record_length = int.from_bytes(record[8:12], "big")
    if record_length != len(record):
        raise DomainValidationError.single(
            "dg2", "face_record", f"record length says {record_length} bytes, the block has {len(record)}"
        )
    if int.from_bytes(record[12:14], "big") < 1:
        raise DomainValidationError.single("dg2", "face_record", "the record holds no face image")
    block_length = int.from_bytes(record[14:18], "big")
    feature_points = int.from_bytes(record[18:20], "big")
    info = 14 + 20 + 8 * feature_points
    if block_length < 20 + 8 * feature_points + 12 or 14 + block_length > len(record):
        raise DomainValidationError.single("dg2", "face_record", "facial record block length is inconsistent")
    image_type = record[info + 1]
    width = int.from_bytes(record[info + 2 : info + 4], "big")
    height = int.from_bytes(record[info + 4 : info + 6], "big")
    image = record[info + 12 : 14 + block_length]
    if image_type == _IMAGE_DATA_JPEG and image.startswith(b"\xff\xd8"):
        fmt = "jpeg"
    elif image_type == _IMAGE_DATA_JPEG2000 and (
        image.startswith(b"\x00\x00\x00\x0cjP  ") or image.startswith(b"\xff\x4f\xff\x51")
    ):
        fmt = "jpeg2000"
    else:
        raise DomainValidationError.single(
            "dg2", "image_format", "the face image is neither JPEG nor JPEG 2000"
        )
    return FaceImage(image=image, image_format=fmt, width=width, height=height)


# --------------------------------------------------------------------------- DG13
# An OID under 2.25 (ITU-T X.667: UUID-based, needs no registration) marks *synthetic* DG13
# files. The OID of real Vietnamese cards is not published; the parser accepts any OID and
# reports the one it read.
DG13_SYNTHETIC_OID = "2.25.117044226987124494984704064528428638333"
DG13_VERSION = 1
NO_EXPIRY = "Không thời hạn"  # printed on cards of people over 60 (no expiry date)

# Field numbers, domain-vn §3. Checked (2026-11-30) against public reader code that parses DG13 of
# real cards, ThanhNg224/trustid---3 ``eidsdk/src/main/java/vn/leeon/eidsdk/utils/DG13File.java``
# (commit 5357967): 1–12 as below, 13 father and mother (two names in one field), 14 spouse,
# 15 the old 9-digit ID number (a PrintableString of 9), 16 a 16-character PrintableString its
# authors label "UNK ID number" — meaning unknown, so 16 stays an unknown field. (One TypeScript
# profile found without its repository says "16 = old ID number"; the reader code, which reads
# values off cards, is preferred.) That code writes fields 1, 3, 11, 15 and 16 as PrintableString
# and the others as UTF8String; the parser accepts either for every field. No public source gives
# the OID of the DG13 header: the parser accepts any OID (see ``DG13_SYNTHETIC_OID``).
DG13_FIELD_NAMES: dict[int, tuple[str, ...]] = {
    1: ("id_number",),
    2: ("full_name",),
    3: ("date_of_birth",),
    4: ("sex",),
    5: ("nationality",),
    6: ("ethnicity",),
    7: ("religion",),
    8: ("place_of_origin",),
    9: ("place_of_residence",),
    10: ("identifying_marks",),
    11: ("issue_date",),
    12: ("expiry_date",),
    13: ("father_name", "mother_name"),
    14: ("spouse_name",),
    15: ("old_id_number",),
}
DG13_REQUIRED = frozenset(range(1, 13))  # printed on every card; 13–15 may be absent
_SEX_TEXT = {"M": "Nam", "F": "Nữ"}
_SEX_CODE = {"nam": "M", "nữ": "F"}


@dataclass(frozen=True)
class DG13:
    """The Vietnam-specific DG13. ``sex`` is ``"M"``/``"F"`` (``Nam``/``Nữ`` on the card);
    ``expiry_date`` is ``None`` for "Không thời hạn"; absent 13–15 read as ``""``;
    ``unknown_fields`` keeps every other field number (e.g. 16) with its values."""

    id_number: str
    full_name: str
    date_of_birth: date
    sex: str
    nationality: str
    ethnicity: str
    religion: str
    place_of_origin: str
    place_of_residence: str
    identifying_marks: str
    issue_date: date
    expiry_date: date | None
    father_name: str = ""
    mother_name: str = ""
    spouse_name: str = ""
    old_id_number: str = ""
    unknown_fields: dict[int, tuple[str, ...]] = field(default_factory=dict, hash=False)
    version: int = DG13_VERSION
    oid: str = DG13_SYNTHETIC_OID


def _card_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _values_for(dg13: DG13) -> dict[int, tuple[str, ...]]:
    return {
        1: (dg13.id_number,),
        2: (dg13.full_name,),
        3: (_card_date(dg13.date_of_birth),),
        4: (_SEX_TEXT.get(dg13.sex, dg13.sex),),
        5: (dg13.nationality,),
        6: (dg13.ethnicity,),
        7: (dg13.religion,),
        8: (dg13.place_of_origin,),
        9: (dg13.place_of_residence,),
        10: (dg13.identifying_marks,),
        11: (_card_date(dg13.issue_date),),
        12: (_card_date(dg13.expiry_date) if dg13.expiry_date is not None else NO_EXPIRY,),
        13: (dg13.father_name, dg13.mother_name),
        14: (dg13.spouse_name,),
        15: (dg13.old_id_number,),
    }


def encode_dg13(dg13: DG13) -> bytes:
    """``6D { SEQUENCE { INTEGER version, OID, SET OF SEQUENCE { INTEGER n, UTF8String… } } }``.

    Fields 1–15 are always written (blank as an empty UTF8String, as cards do), then the unknown
    fields; the SET OF is sorted by encoding (X.690 §11.6, DER).
    """
    values = _values_for(dg13)
    clash = set(values) & set(dg13.unknown_fields)
    if clash:
        raise DomainValidationError.single(
            "dg13.unknown_fields", "known_number", f"field numbers {sorted(clash)} are defined fields"
        )
    values.update(dg13.unknown_fields)
    entries = sorted(
        encode_tlv(0x30, encode_integer(n) + b"".join(encode_tlv(0x0C, v.encode("utf-8")) for v in vals))
        for n, vals in values.items()
    )
    body = encode_integer(dg13.version) + encode_oid(dg13.oid) + encode_tlv(0x31, b"".join(entries))
    return encode_tlv(DG_TAGS[13], encode_tlv(0x30, body))


def _text(item: Tlv, *, field: str) -> str:
    if item.tag == 0x0C:  # UTF8String
        try:
            return item.value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DomainValidationError.single(field, "utf8", "the value is not valid UTF-8") from exc
    if item.tag == 0x13:  # PrintableString (X.680 §41.4 character set)
        try:
            return item.value.decode("ascii")
        except UnicodeDecodeError as exc:
            raise DomainValidationError.single(
                field, "printable", "the value is not a PrintableString"
            ) from exc
    raise DomainValidationError.single(
        field, "value_type", f"values are UTF8String or PrintableString, found tag {item.tag:#x}"
    )


def _parse_date(text: str, *, field: str, number: int) -> date:
    parts = text.strip().split("/")
    if len(parts) == 3 and all(p.isascii() and p.isdigit() for p in parts) and len(parts[2]) == 4:
        try:
            return date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            pass
    raise DomainValidationError.single(
        field, "date_format", f"field {number} must be a date dd/mm/yyyy ({len(text)} characters read)"
    )


def parse_dg13(data: bytes) -> DG13:
    """Parse DG13 (structure per domain-vn §3); raises ``DomainValidationError`` listing every problem
    found in the fields (``dg13.<name>``, rule), or the first structural problem (``dg13``)."""
    outer = read_one(data, field="dg13", tag=DG_TAGS[13])
    body = read_one(outer.value, field="dg13", tag=0x30).children(field="dg13")
    if len(body) != 3:
        raise DomainValidationError.single(
            "dg13", "structure", f"the SEQUENCE must hold version, OID and SET, holds {len(body)} elements"
        )
    version = decode_integer(body[0], field="dg13.version")
    oid = decode_oid(body[1], field="dg13.oid")
    if body[2].tag != 0x31:
        raise DomainValidationError.single(
            "dg13", "unexpected_tag", f"expected SET OF fields, found {body[2].tag:#x}"
        )
    raw: dict[int, tuple[str, ...]] = {}
    for entry in body[2].children(field="dg13"):
        if entry.tag != 0x30:
            raise DomainValidationError.single(
                "dg13", "unexpected_tag", f"a field must be a SEQUENCE, found {entry.tag:#x}"
            )
        items = entry.children(field="dg13")
        if not items:
            raise DomainValidationError.single("dg13", "structure", "a field SEQUENCE is empty")
        number = decode_integer(items[0], field="dg13.field_number")
        if number in raw:
            raise DomainValidationError.single("dg13", "duplicate_field", f"field {number} appears twice")
        raw[number] = tuple(_text(v, field=f"dg13.field_{number}") for v in items[1:])
    return _dg13_from_fields(raw, version=version, oid=oid)


def _dg13_from_fields(raw: dict[int, tuple[str, ...]], *, version: int, oid: str) -> DG13:
    problems: list[FieldProblem] = []
    values: dict[str, str] = {}
    for number, names in DG13_FIELD_NAMES.items():
        got = raw.get(number)
        if got is None:
            if number in DG13_REQUIRED:
                problems.append(
                    FieldProblem(f"dg13.{names[0]}", "missing_field", f"field {number} is missing")
                )
            continue
        if not 1 <= len(got) <= len(names):
            problems.append(
                FieldProblem(
                    f"dg13.{names[0]}",
                    "value_count",
                    f"field {number} holds {len(got)} values, expected {len(names)}",
                )
            )
            continue
        for name, value in zip(names, got, strict=False):
            values[name] = value
    if problems:
        raise DomainValidationError(problems)

    def date_of(name: str, number: int) -> date | None:
        try:
            return _parse_date(values[name], field=f"dg13.{name}", number=number)
        except DomainValidationError as exc:
            problems.extend(exc.problems)
            return None

    id_number = values["id_number"].strip()
    if not (len(id_number) == 12 and id_number.isascii() and id_number.isdigit()):
        problems.append(FieldProblem("dg13.id_number", "digits", "field 1 must be the 12-digit ID number"))
    sex = _SEX_CODE.get(unicodedata.normalize("NFC", values["sex"].strip()).lower(), "")
    if not sex:
        problems.append(FieldProblem("dg13.sex", "sex", "field 4 must be 'Nam' or 'Nữ'"))
    birth = date_of("date_of_birth", 3)
    issued = date_of("issue_date", 11)
    no_expiry = unicodedata.normalize("NFC", values["expiry_date"].strip()).lower() == NO_EXPIRY.lower()
    expiry = None if no_expiry else date_of("expiry_date", 12)
    if problems or birth is None or issued is None:
        raise DomainValidationError(problems)
    return DG13(
        id_number=id_number,
        full_name=values["full_name"],
        date_of_birth=birth,
        sex=sex,
        nationality=values["nationality"],
        ethnicity=values["ethnicity"],
        religion=values["religion"],
        place_of_origin=values["place_of_origin"],
        place_of_residence=values["place_of_residence"],
        identifying_marks=values["identifying_marks"],
        issue_date=issued,
        expiry_date=expiry,
        father_name=values.get("father_name", ""),
        mother_name=values.get("mother_name", ""),
        spouse_name=values.get("spouse_name", ""),
        old_id_number=values.get("old_id_number", ""),
        unknown_fields={n: v for n, v in sorted(raw.items()) if n not in DG13_FIELD_NAMES},
        version=version,
        oid=oid,
    )


# --------------------------------------------------------------------------- DG14 / DG15
OID_AA_PROTOCOL = "2.23.136.1.1.5"  # id-icao-mrtd-security-aaProtocolObject, part 11 §6.1
# BSI TR-03111 §5.2.1 plain ECDSA signatures (r ‖ s), as chips return them.
ECDSA_PLAIN_OIDS: dict[str, str] = {
    "0.4.0.127.0.7.1.1.4.1.1": "sha1",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
}


def encode_dg14_active_auth(hash_name: str = "sha256") -> bytes:
    """DG14 with one ActiveAuthenticationInfo ``SEQUENCE { protocol, version 1, signatureAlgorithm }``.

    Part 11 §6.1: an ECDSA Active Authentication key requires DG14 to name the signature
    algorithm (the hash); RSA keys (ISO/IEC 9796-2) do not.
    """
    oid = next(o for o, h in ECDSA_PLAIN_OIDS.items() if h == hash_name)
    info = encode_tlv(0x30, encode_oid(OID_AA_PROTOCOL) + encode_integer(1) + encode_oid(oid))
    return encode_tlv(DG_TAGS[14], encode_tlv(0x31, info))


def parse_dg14_active_auth(data: bytes) -> str | None:
    """The hash of the ActiveAuthenticationInfo in DG14 (``"sha256"``…), ``None`` if there is none.

    Other SecurityInfos (Chip Authentication, PACE…) are skipped.
    """
    outer = read_one(data, field="dg14", tag=DG_TAGS[14])
    infos = read_one(outer.value, field="dg14", tag=0x31).children(field="dg14")
    for info in infos:
        if info.tag != 0x30:
            raise DomainValidationError.single("dg14", "unexpected_tag", "a SecurityInfo must be a SEQUENCE")
        parts = info.children(field="dg14")
        if len(parts) < 2 or decode_oid(parts[0], field="dg14") != OID_AA_PROTOCOL:
            continue
        if len(parts) != 3 or decode_integer(parts[1], field="dg14") != 1:
            raise DomainValidationError.single(
                "dg14", "aa_info", "ActiveAuthenticationInfo must be version 1 with an algorithm"
            )
        algorithm = decode_oid(parts[2], field="dg14")
        if algorithm not in ECDSA_PLAIN_OIDS:
            raise DomainValidationError.single(
                "dg14", "aa_algorithm", f"unsupported AA signature algorithm {algorithm}"
            )
        return ECDSA_PLAIN_OIDS[algorithm]
    return None


def encode_dg15(public_key: PublicKeyTypes) -> bytes:
    """DG15 (part 10 §4.7.15): ``6F { SubjectPublicKeyInfo }`` (RFC 5280 §4.1.2.7)."""
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return encode_tlv(DG_TAGS[15], spki)


def parse_dg15(data: bytes) -> PublicKeyTypes:
    """The Active Authentication public key of DG15."""
    outer = read_one(data, field="dg15", tag=DG_TAGS[15])
    read_one(outer.value, field="dg15", tag=0x30)  # exactly one SubjectPublicKeyInfo SEQUENCE
    try:
        return serialization.load_der_public_key(outer.value)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise DomainValidationError.single(
            "dg15", "public_key", f"not a usable SubjectPublicKeyInfo: {exc}"
        ) from exc
