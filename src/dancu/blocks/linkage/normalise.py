"""Normalisers for record linkage: names, dates, ID numbers and addresses as sector files write them.

Pure functions (no database). Each one keeps what it was given (``raw``) next to the forms the
matcher compares, so that a correction can always say what the sector file said.

* Names (domain-vn §7): NFC, ``Ð``→``Đ``, the "old" tone placement (hòa, thủy), the explicit
  ``đ``→``d`` when folding; three forms — raw, with tones, stripped — and the family / middle /
  given split. Huỳnh≡Hoàng and Võ≡Vũ are one surname (``family_key``). The name rules of the
  registry (:mod:`dancu.blocks.registry.names`) are reused, not copied.
* Dates: full ``dd/mm/yyyy``, ISO, month/year and year only (partial precision, as the registry
  keeps it), with the swapped day/month reading kept as an alternative when both are ≤ 12.
* ID numbers (domain-vn §1): the 12-digit personal number ``PPP G YY RRRRRR`` and the 9-digit CMND,
  after repairing the usual typing slips (O→0, l/I→1, spaces, dots, dashes).
* Addresses (domain-vn §6): through the administrative-unit resolver, which maps legacy wards to the
  current ones with the 2025 crosswalk.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from dancu.blocks.adminunits.normaliser import tone_style
from dancu.blocks.adminunits.services import resolve_address
from dancu.blocks.registry.idnumber import FOREIGN_CODE_RANGE, LEGACY_PROVINCE_CODES
from dancu.blocks.registry.names import NAME_VARIANTS, fold
from dancu.errors import DomainValidationError

# --------------------------------------------------------------------------- names
# Middle names that carry the sex (domain-vn §7): Văn for men, Thị for women. Folded forms.
MALE_MIDDLE = "van"
FEMALE_MIDDLE = "thi"


def clean_text(value: str) -> str:
    """NFC, ``Ð``/``ð`` (Icelandic eth, U+00D0/U+00F0) mapped to ``Đ``/``đ``, single spaces."""
    text = unicodedata.normalize("NFC", value).replace("\u00d0", "\u0110").replace("\u00f0", "\u0111")
    return " ".join(text.split())


def with_tones(value: str) -> str:
    """The comparable form with tones: :func:`clean_text`, the "old" tone placement ("Hoà" →
    "hòa", domain-vn §7: the two styles differ even after NFC), lower case, hyphens and apostrophes
    turned into word breaks."""
    text = clean_text(value.replace("-", " ").replace("'", " ").replace("\u2019", " "))
    return " ".join(tone_style(text, "old").lower().split())


def stripped(value: str) -> str:
    """Tones and the bar of ``đ`` removed (``đ`` does not decompose under NFD, so it is mapped
    explicitly): "Nguyễn Thị Đào" → "nguyen thi dao"."""
    return fold(with_tones(value))


def surname_key(family_stripped: str) -> str:
    """One key for surnames written two ways (domain-vn §7): Huỳnh≡Hoàng, Võ≡Vũ."""
    return NAME_VARIANTS.get(family_stripped, family_stripped)


@dataclass(frozen=True)
class NormalName:
    """A name in the forms the matcher compares; all empty for an empty input."""

    raw: str
    toned: str  # "nguyễn văn hòa"
    folded: str  # "nguyen van hoa"
    family: str  # folded family name
    middle: str  # folded middle name(s)
    given: str  # folded given name
    family_key: str  # folded family name with Huỳnh→Hoàng, Võ→Vũ
    given_toned: str
    sex_hint: str  # "M" for Văn, "F" for Thị, "" otherwise


def normalise_name(raw: str) -> NormalName:
    """Split family – middle – given (first word, last word, the rest: the registry's default
    reading, ``registry.names.split_name``) and compute the compared forms."""
    toned = with_tones(raw or "")
    words = toned.split()
    folded_words = [fold(w) for w in words]
    if not words:
        return NormalName(raw or "", "", "", "", "", "", "", "", "")
    family = folded_words[0] if len(words) > 1 else ""
    given = folded_words[-1]
    middle_words = folded_words[1:-1]
    middle = " ".join(middle_words)
    hint = ""
    if MALE_MIDDLE in middle_words:
        hint = "M"
    elif FEMALE_MIDDLE in middle_words:
        hint = "F"
    return NormalName(
        raw=raw,
        toned=toned,
        folded=" ".join(folded_words),
        family=family,
        middle=middle,
        given=given,
        family_key=surname_key(family),
        given_toned=words[-1],
        sex_hint=hint,
    )


# --------------------------------------------------------------------------- dates
@dataclass(frozen=True)
class PartialDate:
    """A date known to the day, the month or only the year (the registry's ``dob_precision``).

    ``swapped`` is the other reading of an ambiguous ``dd/mm`` (both parts ≤ 12 and different): a
    sector file typed by hand often swaps day and month.
    """

    year: int
    month: int | None = None
    day: int | None = None
    swapped: date | None = None

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    @property
    def iso(self) -> str:
        """``yyyy-mm-dd`` / ``yyyy-mm`` / ``yyyy``, to the precision known."""
        if self.day and self.month:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"


_DMY = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})$")
_YMD = re.compile(r"^(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})(?:[T ].*)?$")
_MY = re.compile(r"^(\d{1,2})[/.\-](\d{4})$")
_Y = re.compile(r"^(\d{4})$")


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_partial_date(value: object, *, field: str = "date_of_birth") -> PartialDate | None:
    """Read a date of birth as Vietnamese files write it; None for an empty cell.

    Accepted: ``dd/mm/yyyy`` (also with ``.``, ``-`` or a space), ISO ``yyyy-mm-dd`` (a time part is
    ignored, as spreadsheets add one), ``mm/yyyy`` and ``yyyy``; a :class:`datetime.date`. A
    ``dd/mm`` that is impossible but valid swapped (``13/25`` is not, ``05/13/1990`` is) is read
    swapped. Raises ``DomainValidationError`` (``field``, rule ``date``) for anything else.
    """
    if value is None:
        return None
    if isinstance(value, date):
        return PartialDate(value.year, value.month, value.day, _swap(value.year, value.month, value.day))
    text = " ".join(str(value).split())
    if not text:
        return None
    if m := _DMY.match(text):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
    elif m := _YMD.match(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _MY.match(text):
        month, year = int(m[1]), int(m[2])
        if 1 <= month <= 12 and year >= 1900:
            return PartialDate(year, month)
        raise DomainValidationError.single(field, "date", "not a month and year (mm/yyyy)")
    elif m := _Y.match(text):
        year = int(m[1])
        if year >= 1900:
            return PartialDate(year)
        raise DomainValidationError.single(field, "date", "a year before 1900")
    else:
        raise DomainValidationError.single(field, "date", "not a date (dd/mm/yyyy, mm/yyyy or yyyy)")
    if year < 1900:
        raise DomainValidationError.single(field, "date", "a year before 1900")
    if _valid(year, month, day) is not None:
        return PartialDate(year, month, day, _swap(year, month, day))
    if _valid(year, day, month) is not None:  # written month first: read it swapped
        return PartialDate(year, day, month, None)
    raise DomainValidationError.single(field, "date", "no such day")


def _swap(year: int, month: int, day: int) -> date | None:
    if day == month or day > 12:
        return None
    return _valid(year, day, month)


# --------------------------------------------------------------------------- ID numbers
# Typing slips seen in sector files: letters that look like digits.
_LOOKALIKE = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "i": "1", "|": "1"})
_SEPARATORS = re.compile(r"[\s.\-_/,]+")


@dataclass(frozen=True)
class NormalId:
    """What an ID cell holds after repair: ``kind`` is ``id12`` (a structurally valid personal
    number), ``cmnd`` (9 digits, or 12 digits that fail the personal-number structure — a 12-digit
    CMND of 2012–2016), or ``invalid``; ``repaired`` says the cell needed a repair."""

    raw: str
    number: str
    kind: str
    repaired: bool
    birth_year: int | None = None
    sex: str = ""


def normalise_id(raw: object) -> NormalId:
    """Repair and classify an ID cell (domain-vn §1).

    Separators (spaces, dots, dashes) are dropped; look-alike letters become digits (O/o→0,
    l/I/i/|→1); a number that lost its leading zero in a spreadsheet (11 digits, or
    8 for a CMND) gets it back. A 12-digit number is a personal number when its ``PPP`` is one of the
    63 legacy province codes or a country code 101–295 — its ``G`` and ``YY`` then give the birth
    year and sex (there is no checksum); otherwise it is kept as an old CMND number.
    """
    text = "" if raw is None else str(raw).strip()
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    cleaned = _SEPARATORS.sub("", text).translate(_LOOKALIKE)
    repaired = cleaned != text
    if not cleaned:
        return NormalId(text, "", "empty", False)
    if not (cleaned.isascii() and cleaned.isdigit()):
        return NormalId(text, cleaned, "invalid", repaired)
    if len(cleaned) in (8, 11):
        cleaned, repaired = "0" + cleaned, True
    if len(cleaned) == 12:
        place = cleaned[:3]
        if place in LEGACY_PROVINCE_CODES or int(place) in FOREIGN_CODE_RANGE:
            g, yy = int(cleaned[3]), int(cleaned[4:6])
            return NormalId(text, cleaned, "id12", repaired, 1900 + 100 * (g // 2) + yy, "MF"[g % 2])
        return NormalId(text, cleaned, "cmnd", repaired)
    if len(cleaned) == 9:
        return NormalId(text, cleaned, "cmnd", repaired)
    return NormalId(text, cleaned, "invalid", repaired)


# --------------------------------------------------------------------------- addresses
@dataclass(frozen=True)
class NormalAddress:
    raw: str
    ward_code: str  # current ward (since 01/07/2025), "" when unresolved
    legacy_ward_code: str
    street: str  # folded house number / lane / street
    confidence: float


# Resolved administrative tails ("Xã Phú Túc, Huyện Phú Xuyên, Thành phố Hà Nội" → its wards),
# reused for the other addresses of the same tail: a file of a million rows has a few thousand.
_TAILS: dict[str, tuple[str, str, float]] = {}
MAX_TAILS = 100_000


@lru_cache(maxsize=65536)
def normalise_address(raw: str) -> NormalAddress:
    """Resolve through the administrative-unit resolver (legacy three-tier or current two-tier form,
    with or without tones, abbreviations, typos) and map the legacy ward to the current one with the
    2025 crosswalk (Resolution 202/2025/QH15). Unresolvable or invalid text gives empty codes.

    An address of the usual form "street…, ward, district, province" whose tail was resolved
    before, with the resolver reading exactly that tail as the units, reuses the tail's codes; the
    street is then the text before it (so the resolver runs once per tail, not once per row)."""
    text = clean_text(raw or "")
    if not text:
        return NormalAddress(raw, "", "", "", 0.0)
    parts = [p.strip() for p in text.split(",")]
    head, tail = ", ".join(parts[:-3]), with_tones(", ".join(parts[-3:])) if len(parts) >= 4 else ""
    if tail and tail in _TAILS:
        ward, legacy, confidence = _TAILS[tail]
        return NormalAddress(raw, ward, legacy, stripped(head), confidence)
    try:
        resolved = resolve_address(text)
    except DomainValidationError:
        resolved = None
    if resolved is None:
        return NormalAddress(raw, "", "", stripped(text.split(",")[0]), 0.0)
    street = stripped(resolved.street)
    if tail and street == stripped(head) and len(_TAILS) < MAX_TAILS:
        _TAILS[tail] = (resolved.ward_code, resolved.legacy_ward_code, resolved.confidence)
    return NormalAddress(raw, resolved.ward_code, resolved.legacy_ward_code, street, resolved.confidence)
