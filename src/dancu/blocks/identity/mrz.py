"""The machine-readable zone (MRZ) of identity cards and passports — ICAO Doc 9303.

* **Check digits** (ICAO 9303 part 3 §4.9): characters take the values ``0``–``9`` → 0–9,
  ``A``–``Z`` → 10–35, ``<`` → 0; each value is multiplied by the weights 7, 3, 1, 7, 3, 1, …;
  the check digit is the sum modulo 10.
* **TD1** (ICAO 9303 part 5, ID cards: 3 lines × 30) and **TD3** (ICAO 9303 part 4, passports:
  2 lines × 44) are parsed into frozen dataclasses and generated from them. Every check digit is
  verified, including the composite one. ``parse_td1(m.text) == m`` for every valid ``m``.
* **Names** (ICAO 9303 part 3 §4.6 and §6): primary and secondary identifiers separated by ``<<``,
  their components by ``<``; written in upper-case A–Z without diacritics. :func:`mrz_name`
  transliterates a Vietnamese name: tones and vowel marks are stripped, ``Đ``/``đ`` → ``D``.
* **Vietnamese TD1** (design note *domain-vn* §3): the document-number field holds the last
  9 digits of the 12-digit ID number, the optional data of line 1 starts with the full number.
  :attr:`MrzTD1.id_number` extracts it and checks it against the ID-number structure
  (Circular 07/2016/TT-BCA Art. 7) and the MRZ's birth date and sex.
* **No date of expiry — an ASSUMPTION, no source found** (ADR 0021): cards issued from age 60
  are valid for life (*Không thời hạn*). No public source was found for what such a card's TD1
  carries in its date-of-expiry field: the Doc 9303 text available to this project gives the
  field as ``YYMMDD`` with a check digit and no rule for a document that never expires, and no
  public scan, specimen or reader documentation of a lifetime Vietnamese card was found
  (searches of public documentation, code and pages, 2026-12-01). Other issuers differ: Spain
  prints the date 01-01-9999 on its "permanent" DNI (press reports, e.g. elcomercio.es,
  2025-10-26), which would be ``990101`` in an MRZ. This module's choice: ``date_of_expiry=None``
  is written as six fillers ``<<<<<<`` (``NO_DATE``) — as Doc 9303 part 3 lets an issuer fill the
  unknown parts of a date of birth with ``<`` (as the ``mrz`` crate's documentation of its
  ``MrzDate`` type reads part 3) — with the ordinary check digit of part 3 §4.9, where ``<``
  weighs 0: ``<<<<<<0``. A ``<`` *as the check digit* is allowed only for an empty TD3 personal
  number (part 4 §4.2.2), so ``<<<<<<<`` is a check-digit error, and only a wholly absent date
  is no date. Should real lifetime cards carry a date instead, this reader would take it as a
  date — ``990101`` falls outside the century window below and would read as 1999-01-01, an
  expired card — so this choice must be checked against a real card before production. The BAC
  keys use the field as printed. Passports always expire.
* **Chip access keys**: BAC (ICAO 9303 part 11 §9.7.1, worked example in Appendix D.1) from the
  MRZ information, and the PACE card access number (CAN) of Vietnamese cards.

Input handling (documented choice): line breaks ``\\n``, ``\\r\\n`` and ``\\r``, blank lines and
whitespace around the text and around each line are **normalised away**, and ASCII lower-case
letters are **upper-cased** (the MRZ alphabet has no lower case, and the check digits still guard
the content). Anything else outside ``A``–``Z``, ``0``–``9``, ``<`` — including spaces inside a
line, which OCR tends to insert — is **rejected**, naming the line and the position.

Every error is a :class:`~dancu.errors.DomainValidationError` whose problems name the field
(``mrz.line2.date_of_birth``) and the rule (``check_digit``, ``date``, ``characters``, …).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Literal, overload

from dancu.blocks.registry.idnumber import IdNumberParts, check_consistency, parse_id_number
from dancu.blocks.registry.names import normalise_name, split_name
from dancu.errors import DomainValidationError, FieldProblem

Sex = Literal["M", "F", "X"]  # X = unspecified, written "<" in the MRZ (ICAO 9303 part 4 §4.2.2)

FILLER = "<"
# A date field without a date: the date of expiry of a card valid for life. ASSUMPTION, no source
# found (module docstring, ADR 0021).
NO_DATE = FILLER * 6
TD1_WIDTH = 30
TD3_WIDTH = 44
MAX_INPUT_LENGTH = 400  # generous for 3 × 30 or 2 × 44 plus line breaks and stray whitespace
# Vietnamese cards (domain-vn §3): the issuing state and nationality, and the document code.
VIETNAM = "VNM"
VN_DOCUMENT_CODE = "ID"

_VALUES: dict[str, int] = {
    **{str(d): d for d in range(10)},
    **{chr(ord("A") + i): 10 + i for i in range(26)},
    FILLER: 0,
}
_WEIGHTS = (7, 3, 1)
_MRZ_CHARS = frozenset(_VALUES)
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_STATE_FIELD_RE = re.compile(r"^[A-Z]{1,3}<*$")
_STATE_RE = re.compile(r"^[A-Z]{1,3}$")
_DOCNUM_FIELD_RE = re.compile(r"^[A-Z0-9]+<*$")
_OPTIONAL_RE = re.compile(r"^(?:[A-Z0-9<]*[A-Z0-9])?$")
_IDENTIFIER_RE = re.compile(r"^[A-Z]+(?: [A-Z]+)*$")
_YYMMDD_RE = re.compile(r"^[0-9]{6}$")

# Expiry dates are placed in the century window [reference − 40 years, reference + 59 years]:
# biased to the future (cards are valid up to ~25 years ahead) while still reading documents
# that expired decades ago.
EXPIRY_YEARS_BACK = 40
EXPIRY_YEARS_AHEAD = 59


# --------------------------------------------------------------------------- check digits
def check_digit(data: str, *, field: str = "mrz") -> str:
    """The check digit of ``data`` (ICAO 9303 part 3 §4.9): weights 7-3-1, ``<`` = 0, A–Z = 10–35.

    Raises ``DomainValidationError`` (rule ``characters``) for a character outside the MRZ
    alphabet ``A``–``Z``, ``0``–``9``, ``<``.
    """
    total = 0
    for i, ch in enumerate(data):
        value = _VALUES.get(ch)
        if value is None:
            raise DomainValidationError.single(
                field, "characters", f"character {_show(ch)} at position {i + 1} is not A–Z, 0–9 or <"
            )
        total += value * _WEIGHTS[i % 3]
    return str(total % 10)


# --------------------------------------------------------------------------- names
# ICAO 9303 part 3 §6: letters that do not decompose into a base letter plus combining marks.
_SPECIAL_LETTERS = {
    "Đ": "D", "đ": "D", "Ð": "D", "ð": "D", "Æ": "AE", "æ": "AE", "Ø": "OE", "ø": "OE",
    "Œ": "OE", "œ": "OE", "ß": "SS", "Þ": "TH", "þ": "TH", "Ł": "L", "ł": "L", "Ħ": "H", "ħ": "H",
    "ı": "I",
}  # fmt: skip


def transliterate(text: str, *, field: str = "full_name") -> str:
    """Upper-case MRZ letters for a Latin-script name (ICAO 9303 part 3 §6).

    Vietnamese: tones and vowel marks are stripped (``Nguyễn`` → ``NGUYEN``, ``Ơ``/``Ư`` → ``O``/``U``)
    and ``Đ``/``đ`` → ``D``. Diacritics of other languages are stripped too (the option the
    standard allows for every Latin letter). Hyphens become spaces (component separators, ``<`` in
    the MRZ), apostrophes are omitted. Letters outside the Latin script are rejected
    (rule ``transliteration``): Doc 9303 tables for other scripts are not implemented.
    """
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in _SPECIAL_LETTERS:
            out.append(_SPECIAL_LETTERS[ch])
        elif ch in "-\u2010\u2011 ":
            out.append(" ")
        elif ch in "'\u2019":
            continue
        else:
            base = "".join(c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn")
            base = base.upper()
            if not re.fullmatch(r"[A-Z]*", base):
                raise DomainValidationError.single(
                    field,
                    "transliteration",
                    f"{_show(ch)} has no MRZ transliteration (only Latin letters are supported)",
                )
            out.append(base)
    return " ".join("".join(out).split())


def mrz_name(full_name: str, *, field: str = "full_name") -> tuple[str, str]:
    """(primary identifier, secondary identifier) of a Vietnamese full name, as written in an MRZ.

    The name is normalised (NFC, one tone style: :func:`~dancu.blocks.registry.names.normalise_name`),
    read family – middle – given; the family name is the primary identifier, the middle and given
    names the secondary identifier (ICAO 9303 part 3 §4.6), transliterated by :func:`transliterate`:
    ``"Nguyễn Thị Đào"`` → ``("NGUYEN", "THI DAO")``. Components are separated by spaces here and
    by ``<`` in the MRZ. Not truncated: the generator truncates to the width of the name field.
    """
    parts = split_name(normalise_name(full_name, field=field))
    primary = transliterate(parts.family or parts.given, field=field)
    secondary = transliterate(f"{parts.middle} {parts.given}" if parts.family else "", field=field)
    if not primary:
        raise DomainValidationError.single(field, "transliteration", "the family name has no MRZ letters")
    return primary, secondary


def name_field(primary: str, secondary: str, width: int) -> str:
    """The MRZ name field, filled with ``<`` to ``width``; names too long are truncated.

    ``PRIMARY<<SECONDARY<COMPONENTS<<<…``. Truncation (ICAO 9303 part 3 §4.6, simplified): the
    field is cut at ``width`` and trailing fillers dropped, so the secondary identifier is
    shortened first and the field ends with a letter (the standard's mark of a possibly truncated
    name). The identifiers read back from a truncated field are what the MRZ holds.
    """
    text = primary.replace(" ", FILLER)
    if secondary:
        text += FILLER * 2 + secondary.replace(" ", FILLER)
    if len(text) > width:
        text = text[:width].rstrip(FILLER)
    return text.ljust(width, FILLER)


def _split_name_field(value: str) -> tuple[str, str] | None:
    """(primary, secondary) of a name field, or None when it is not well formed."""
    body = value.rstrip(FILLER)
    primary_raw, _, secondary_raw = body.partition(FILLER * 2)
    primary = primary_raw.replace(FILLER, " ")
    secondary = secondary_raw.replace(FILLER, " ")
    if not _IDENTIFIER_RE.match(primary) or (secondary and not _IDENTIFIER_RE.match(secondary)):
        return None
    return primary, secondary


# --------------------------------------------------------------------------- dates
def _yymmdd(value: date | None) -> str:
    """``YYMMDD``; no date (a card without expiry) is six fillers, see the module docstring."""
    if value is None:
        return NO_DATE
    return f"{value.year % 100:02d}{value.month:02d}{value.day:02d}"


def _calendar(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def birth_date(yymmdd: str, *, reference: date) -> date | None:
    """Date of birth from ``YYMMDD``: the latest such date on or before ``reference``.

    Pivot rule (documented choice; ICAO 9303 leaves the century to the reader): the holder is
    taken to be 0–99 years old on ``reference``. ``29 February`` of a century year that is not a
    leap year falls back one more century. None when ``yymmdd`` is not a date.
    """
    if not _YYMMDD_RE.match(yymmdd):
        return None
    yy, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    year = reference.year - (reference.year - yy) % 100
    for candidate_year in (year, year - 100, year - 200):
        found = _calendar(candidate_year, month, day) if candidate_year >= 1 else None
        if found is not None and found <= reference:
            return found
    return None


def expiry_date(yymmdd: str, *, reference: date) -> date | None:
    """Date of expiry from ``YYMMDD``, future-biased: the year falls in
    [``reference.year`` − 40, ``reference.year`` + 59]. None when ``yymmdd`` is not a date."""
    if not _YYMMDD_RE.match(yymmdd):
        return None
    yy, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    start = reference.year - EXPIRY_YEARS_BACK
    year = start + (yy - start) % 100
    return _calendar(year, month, day)


# --------------------------------------------------------------------------- the documents
def _sex_char(sex: str) -> str:
    return FILLER if sex == "X" else sex


def _check_optional(problems: list[FieldProblem], field: str, value: str, limit: int) -> None:
    if not _OPTIONAL_RE.match(value):
        problems.append(
            FieldProblem(
                f"mrz.{field}", "characters", "may contain only A–Z, 0–9 and <, and must not end with <"
            )
        )
    elif len(value) > limit:
        problems.append(FieldProblem(f"mrz.{field}", "length", f"must be at most {limit} characters"))


@dataclass(frozen=True)
class _Mrz(ABC):
    """The fields, rules and outputs TD1 and TD3 share (ICAO 9303 part 3 §4; parts 4–5 §4.2.2).

    A format names its document codes and the width of its name field, adds its own fields and
    their rules (:meth:`_format_problems`) and writes its :attr:`lines`.
    """

    document_code: str
    issuing_state: str
    document_number: str
    date_of_birth: date
    sex: Sex
    date_of_expiry: date | None
    nationality: str
    primary_identifier: str
    secondary_identifier: str = ""

    CODE_PATTERN: ClassVar[str]  # the format's document codes, a regular expression …
    CODE_RULE: ClassVar[str]  # … and the rule as error messages state it
    NAME_WIDTH: ClassVar[int]

    def __post_init__(self) -> None:
        problems = self._common_problems() + self._format_problems()
        if problems:
            raise DomainValidationError(problems)

    def _common_problems(self) -> list[FieldProblem]:
        """Field rules shared by TD1 and TD3 (ICAO 9303 part 3 §4 and parts 4–5 §4.2.2)."""
        problems: list[FieldProblem] = []
        if not re.fullmatch(self.CODE_PATTERN, self.document_code):
            problems.append(
                FieldProblem(
                    "mrz.document_code", "document_code", f"{_show(self.document_code)}: {self.CODE_RULE}"
                )
            )
        for name, value in (("issuing_state", self.issuing_state), ("nationality", self.nationality)):
            if not _STATE_RE.match(value):
                problems.append(
                    FieldProblem(
                        f"mrz.{name}", "state_code", f"{_show(value)} is not a 1–3 letter state code"
                    )
                )
        if not self.document_number:
            problems.append(FieldProblem("mrz.document_number", "required", "must not be empty"))
        elif not re.fullmatch(r"[A-Z0-9]+", self.document_number):
            problems.append(
                FieldProblem(
                    "mrz.document_number", "characters", "may contain only the characters A–Z and 0–9"
                )
            )
        if self.sex not in ("M", "F", "X"):
            problems.append(
                FieldProblem("mrz.sex", "sex", f"{_show(self.sex)} is not M, F or X (unspecified)")
            )
        born, expires = self.date_of_birth, self.date_of_expiry
        if expires is not None and expires <= born:
            problems.append(
                FieldProblem(
                    "mrz.date_of_expiry",
                    "after_birth",
                    f"expiry {expires.isoformat()} is not after birth {born.isoformat()}",
                )
            )
        primary, secondary = self.primary_identifier, self.secondary_identifier
        if not _IDENTIFIER_RE.match(primary):
            problems.append(
                FieldProblem(
                    "mrz.primary_identifier",
                    "characters",
                    "must be words of letters A–Z separated by one space",
                )
            )
        if secondary and not _IDENTIFIER_RE.match(secondary):
            problems.append(
                FieldProblem(
                    "mrz.secondary_identifier",
                    "characters",
                    "must be empty or words of letters A–Z separated by one space",
                )
            )
        if _IDENTIFIER_RE.match(primary):
            formatted = len(primary) + (len(secondary) + 2 if secondary else 0)
            if formatted > self.NAME_WIDTH:
                problems.append(
                    FieldProblem(
                        "mrz.name",
                        "length",
                        f"primary and secondary identifiers need {formatted} characters, the name field has "
                        f"{self.NAME_WIDTH} (truncate with name_field())",
                    )
                )
        return problems

    @abstractmethod
    def _format_problems(self) -> list[FieldProblem]:
        """The rules of the format's own fields."""

    @property
    @abstractmethod
    def lines(self) -> tuple[str, ...]:
        """The MRZ lines, with every check digit computed."""

    def _birth_sex_expiry(self) -> str:
        """``YYMMDD c S YYMMDD c``: the 15 characters of line 2 that TD1 (positions 1–15) and TD3
        (positions 14–28) share; no expiry is ``<<<<<<0`` (see the module docstring)."""
        birth = _yymmdd(self.date_of_birth)
        expiry = _yymmdd(self.date_of_expiry)
        return birth + check_digit(birth) + _sex_char(self.sex) + expiry + check_digit(expiry)

    @property
    def text(self) -> str:
        """The MRZ as text, lines separated by ``\\n``."""
        return "\n".join(self.lines)

    def is_expired(self, on: date) -> bool:
        """Expired before ``on``; a card without expiry never is."""
        return self.date_of_expiry is not None and self.date_of_expiry < on

    def bac_keys(self) -> BacKeys:
        """The BAC keys of the chip (ICAO 9303 part 11 §9.7.1) from this MRZ."""
        return bac_keys(self.document_number, self.date_of_birth, self.date_of_expiry)


@dataclass(frozen=True)
class MrzTD1(_Mrz):
    """A TD1 MRZ (ICAO 9303 part 5 §4.2.2): 3 lines × 30 characters, as on ID cards.

    Values are stored without trailing fillers (``document_code="I"`` for ``I<``, ``issuing_state="D"``
    for ``D<<``); names with components separated by spaces. The check digits are not stored:
    :attr:`lines` computes them. A document number longer than 9 characters continues in the
    optional data of line 1 (part 5 §4.2.2 note j), which then holds at most
    ``15 − (len − 9) − 2`` further characters. ``date_of_expiry=None``: a card without expiry,
    written ``<<<<<<`` with check digit ``0`` (see the module docstring).
    """

    optional_data_1: str = ""
    optional_data_2: str = ""

    CODE_PATTERN = r"[ACI][A-Z]?"
    CODE_RULE = "a TD1 document code starts with A, C or I"
    NAME_WIDTH = TD1_WIDTH

    def _format_problems(self) -> list[FieldProblem]:
        problems: list[FieldProblem] = []
        extension = max(0, len(self.document_number) - 9)
        room = 15 - (extension + 2 if extension else 0)
        if extension and room < 0:
            problems.append(
                FieldProblem(
                    "mrz.document_number", "length", "a TD1 document number has at most 22 characters"
                )
            )
        else:
            _check_optional(problems, "optional_data_1", self.optional_data_1, room)
        _check_optional(problems, "optional_data_2", self.optional_data_2, 11)
        return problems

    @property
    def lines(self) -> tuple[str, str, str]:
        """The three MRZ lines, with every check digit computed (ICAO 9303 part 5 §4.2.2)."""
        number = self.document_number
        if len(number) <= 9:
            field = number.ljust(9, FILLER)
            head = field + check_digit(field)
            optional = self.optional_data_1
        else:  # part 5 §4.2.2 note j: principal 9 characters, "<", rest + check digit + "<"
            head = number[:9] + FILLER
            optional = number[9:] + check_digit(number) + FILLER + self.optional_data_1
        line1 = (
            self.document_code.ljust(2, FILLER)
            + self.issuing_state.ljust(3, FILLER)
            + head
            + optional.ljust(15, FILLER)
        )
        line2 = (
            self._birth_sex_expiry()
            + self.nationality.ljust(3, FILLER)
            + self.optional_data_2.ljust(11, FILLER)
        )
        line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
        line3 = name_field(self.primary_identifier, self.secondary_identifier, self.NAME_WIDTH)
        return line1, line2, line3

    # ---------------------------------------------------------------- Vietnamese cards
    @property
    def id_number_parts(self) -> IdNumberParts:
        """The 12-digit ID number of a Vietnamese card, checked (domain-vn §3).

        Rules, each reported with its own field and rule name:

        * the issuing state is ``VNM`` (``mrz.issuing_state``/``issuing_state``);
        * the optional data of line 1 starts with 12 digits forming a valid ID number: known
          province or country code (Circular 07/2016/TT-BCA Art. 7) — rules of
          :func:`~dancu.blocks.registry.idnumber.parse_id_number` on ``mrz.line1.optional_data``;
        * the document number is the last 9 digits of that number
          (``mrz.line1.document_number``/``matches_id_number``);
        * the century/sex digit and the year digits agree with the MRZ's date of birth and sex
          (:func:`~dancu.blocks.registry.idnumber.check_consistency`). The MRZ has only two year
          digits: when the pivot of :func:`birth_date` put the birth exactly a whole number of
          centuries after the century the ID number states, the ID number wins (the holder is
          100 or older); :attr:`vn_date_of_birth` gives that date.
        """
        field = "mrz.line1.optional_data"
        if self.issuing_state != VIETNAM:
            raise DomainValidationError.single(
                "mrz.issuing_state",
                "issuing_state",
                f"only cards issued by {VIETNAM} carry the 12-digit ID number; issuing state is "
                f"{_show(self.issuing_state)}",
            )
        parts = parse_id_number(self.optional_data_1[:12], field=field)
        problems: list[FieldProblem] = []
        if self.document_number != parts.number[3:]:
            problems.append(
                FieldProblem(
                    "mrz.line1.document_number",
                    "matches_id_number",
                    f"document number should be the last 9 digits of the ID number, "
                    f"{parts.number[3:]}, found {_show(self.document_number)}",
                )
            )
        if self.sex == "X":
            problems.append(
                FieldProblem(
                    "mrz.line2.sex",
                    "sex",
                    f"sex is unspecified, but ID number {parts.number} says "
                    f"{'male' if parts.sex == 'M' else 'female'}",
                )
            )
        sex = parts.sex if self.sex == "X" else self.sex  # an unspecified sex is reported above
        for problem in check_consistency(parts, date_of_birth=self.date_of_birth, sex=sex, field=field):
            if problem.rule == "century" and self._century_ambiguity(parts):
                continue
            problems.append(problem)
        if problems:
            raise DomainValidationError(problems)
        return parts

    @property
    def id_number(self) -> str:
        """The 12-digit ID number of a Vietnamese card; see :attr:`id_number_parts` for the checks."""
        return self.id_number_parts.number

    @property
    def vn_date_of_birth(self) -> date:
        """Date of birth with the century stated by the ID number's century/sex digit."""
        parts = self.id_number_parts
        if self.date_of_birth.year == parts.birth_year:
            return self.date_of_birth
        found = _calendar(parts.birth_year, self.date_of_birth.month, self.date_of_birth.day)
        if found is None:
            raise DomainValidationError.single(
                "mrz.line2.date_of_birth",
                "date",
                f"{_yymmdd(self.date_of_birth)} is not a date in {parts.birth_year} (ID number century)",
            )
        return found

    def _century_ambiguity(self, parts: IdNumberParts) -> bool:
        gap = self.date_of_birth.year - parts.birth_year
        return gap > 0 and gap % 100 == 0


@dataclass(frozen=True)
class MrzTD3(_Mrz):
    """A TD3 MRZ (ICAO 9303 part 4 §4.2.2): 2 lines × 44 characters, as in passports.

    Values are stored without trailing fillers; the check digits are computed by :attr:`lines`.
    The personal-number check digit is written ``<`` when the personal number is empty
    (part 4 §4.2.2 note; ``0`` is accepted when parsing).
    """

    date_of_expiry: date  # a passport always expires (part 4 §4.2.2)
    personal_number: str = ""

    CODE_PATTERN = r"P[A-Z]?"
    CODE_RULE = "a TD3 passport document code starts with P"
    NAME_WIDTH = TD3_WIDTH - 5

    def _format_problems(self) -> list[FieldProblem]:
        problems: list[FieldProblem] = []
        if len(self.document_number) > 9:
            problems.append(
                FieldProblem(
                    "mrz.document_number", "length", "a TD3 document number has at most 9 characters"
                )
            )
        _check_optional(problems, "personal_number", self.personal_number, 14)
        return problems

    @property
    def lines(self) -> tuple[str, str]:
        """The two MRZ lines, with every check digit computed (ICAO 9303 part 4 §4.2.2)."""
        line1 = (
            self.document_code.ljust(2, FILLER)
            + self.issuing_state.ljust(3, FILLER)
            + name_field(self.primary_identifier, self.secondary_identifier, self.NAME_WIDTH)
        )
        number = self.document_number.ljust(9, FILLER)
        personal = self.personal_number.ljust(14, FILLER)
        line2 = (
            number
            + check_digit(number)
            + self.nationality.ljust(3, FILLER)
            + self._birth_sex_expiry()
            + personal
            + (check_digit(personal) if self.personal_number else FILLER)
        )
        line2 += check_digit(line2[0:10] + line2[13:20] + line2[21:43])
        return line1, line2


# --------------------------------------------------------------------------- parsing
def _show(value: str) -> str:
    """Echo input back safely: unprintable characters as escapes, at most 20 characters."""
    shown = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        for ch in value[:20]
    )
    return repr(shown + ("…" if len(value) > 20 else ""))


def _prepare(text: object, *, kind: str, count: int, width: int, part: str) -> list[str]:
    """Split into lines, normalise line breaks, surrounding whitespace and ASCII case; check shape
    and alphabet (ICAO 9303 part 3 §4.3: A–Z, 0–9 and the filler ``<``)."""
    if not isinstance(text, str):
        raise DomainValidationError.single("mrz", "type", "must be text")
    if len(text) > MAX_INPUT_LENGTH:
        raise DomainValidationError.single(
            "mrz", "length", f"must be at most {MAX_INPUT_LENGTH} characters, got {len(text)}"
        )
    lines = [line.strip().translate(_ASCII_UPPER) for line in text.strip().splitlines()]
    lines = [line for line in lines if line]
    if len(lines) != count or any(len(line) != width for line in lines):
        lengths = ", ".join(str(len(line)) for line in lines) or "none"
        raise DomainValidationError.single(
            "mrz",
            "format",
            f"a {kind} MRZ ({part}) has {count} lines of {width} characters; got {len(lines)} "
            f"line(s) of length {lengths}",
        )
    problems: list[FieldProblem] = []
    for number, line in enumerate(lines, start=1):
        bad = next(((i, ch) for i, ch in enumerate(line) if ch not in _MRZ_CHARS), None)
        if bad is not None:
            problems.append(
                FieldProblem(
                    f"mrz.line{number}",
                    "characters",
                    f"character {_show(bad[1])} at position {bad[0] + 1} is not A–Z, 0–9 or <",
                )
            )
    if problems:
        raise DomainValidationError(problems)
    return lines


class _Reader:
    """Collects the problems of one MRZ while its fields are read."""

    def __init__(self, reference: date) -> None:
        self.reference = reference
        self.problems: list[FieldProblem] = []

    def problem(self, field: str, rule: str, message: str) -> None:
        self.problems.append(FieldProblem(field, rule, message))

    def check(self, field: str, label: str, data: str, found: str) -> None:
        """Check digit over ``data`` (ICAO 9303 part 3 §4.9), reporting expected vs found."""
        expected = check_digit(data)
        if found != expected:
            shown = "the filler <" if found == FILLER else found
            self.problem(
                field, "check_digit", f"check digit is {shown} but {label} {data!r} gives {expected}"
            )

    def code(self, field: str, value: str, first: str, what: str) -> str:
        if value[0] not in first or value[1] not in _VALUES or value[1].isdigit():
            self.problem(field, "document_code", f"{value!r}: a {what} document code starts with {first}")
        return value.rstrip(FILLER)

    def state(self, field: str, value: str) -> str:
        if not _STATE_FIELD_RE.match(value):
            self.problem(field, "state_code", f"{value!r} is not a state code (1–3 letters, then <)")
        return value.rstrip(FILLER)

    def document_number(self, field: str, value: str) -> str:
        if not value.strip(FILLER):
            self.problem(field, "required", "the document number is empty")
        elif not _DOCNUM_FIELD_RE.match(value):
            self.problem(field, "characters", f"{value!r}: A–Z and 0–9, then only fillers <")
        return value.rstrip(FILLER)

    def optional(self, field: str, value: str) -> str:
        return value.rstrip(FILLER)

    def sex(self, field: str, value: str) -> Sex:
        if value == "M":
            return "M"
        if value == "F":
            return "F"
        if value in (FILLER, "X"):
            return "X"
        self.problem(field, "sex", f"{value!r} is not M, F or < (unspecified)")
        return "X"

    @overload
    def birth_sex_expiry(self, fields: str, *, expiry_optional: Literal[False]) -> tuple[date, Sex, date]: ...
    @overload
    def birth_sex_expiry(self, fields: str, *, expiry_optional: bool) -> tuple[date, Sex, date | None]: ...
    def birth_sex_expiry(self, fields: str, *, expiry_optional: bool) -> tuple[date, Sex, date | None]:
        """Read ``YYMMDD c S YYMMDD c``: date of birth, its check digit, sex, date of expiry, its
        check digit — the 15 characters of line 2 that TD1 (positions 1–15, ICAO 9303 part 5
        §4.2.2) and TD3 (positions 14–28, part 4 §4.2.2) share.

        With ``expiry_optional`` (TD1) an expiry of fillers only, ``<<<<<<``, is read as no expiry
        (None); its check digit is still verified (``0``, see the module docstring).
        """
        birth, expiry = fields[0:6], fields[8:14]
        birth_field, expiry_field = "mrz.line2.date_of_birth", "mrz.line2.date_of_expiry"
        self.check(birth_field, "date of birth", birth, fields[6])
        sex = self.sex("mrz.line2.sex", fields[7])
        self.check(expiry_field, "date of expiry", expiry, fields[14])
        dob = birth_date(birth, reference=self.reference)
        if dob is None:
            self.problem(birth_field, "date", f"{birth!r} is not a date of birth YYMMDD")
        if expiry_optional and expiry == NO_DATE:
            return dob or date.min, sex, None
        doe = expiry_date(expiry, reference=self.reference)
        if doe is None:
            self.problem(expiry_field, "date", f"{expiry!r} is not a date of expiry YYMMDD")
        if dob is not None and doe is not None and doe <= dob:
            self.problem(
                expiry_field,
                "after_birth",
                f"expiry {doe.isoformat()} is not after birth {dob.isoformat()} "
                f"(expiry century read future-biased from {self.reference.isoformat()})",
            )
        return dob or date.min, sex, doe or date.max

    def name(self, field: str, value: str) -> tuple[str, str]:
        split = _split_name_field(value)
        if split is None:
            self.problem(
                field,
                "name_format",
                f"{value!r}: expected PRIMARY<<SECONDARY with components separated by one < "
                "and only fillers after the name",
            )
            return "X", ""
        return split

    def finish(self) -> None:
        if self.problems:
            raise DomainValidationError(self.problems)


def parse_td1(text: object, *, reference: date | None = None) -> MrzTD1:
    """Parse and verify a TD1 MRZ (ICAO 9303 part 5 §4.2.2), 3 lines of 30 characters.

    ``reference`` (default: today) resolves the two-digit years: :func:`birth_date` and
    :func:`expiry_date`. Every check digit is verified: document number, date of birth, date of
    expiry and the composite (line 1 positions 6–30, line 2 positions 1–7, 9–15 and 19–29).
    """
    ref = reference or date.today()
    line1, line2, line3 = _prepare(text, kind="TD1", count=3, width=TD1_WIDTH, part="ICAO 9303 part 5")
    r = _Reader(ref)
    code = r.code("mrz.line1.document_code", line1[0:2], "ACI", "TD1")
    state = r.state("mrz.line1.issuing_state", line1[2:5])
    number_field, number_cd, optional_field = line1[5:14], line1[14], line1[15:30]
    number = r.document_number("mrz.line1.document_number", number_field)
    optional_1 = r.optional("mrz.line1.optional_data", optional_field)
    if number_cd == FILLER and FILLER not in number_field:
        # part 5 §4.2.2 note j: a long document number continues in the optional data.
        extension = optional_field.split(FILLER, 1)[0]
        if not 2 <= len(extension) <= 14 or not extension[-1].isdigit():
            r.problem(
                "mrz.line1.document_number",
                "check_digit",
                "check digit is the filler < but the optional data holds no continuation of the "
                "document number ending in its check digit",
            )
        else:
            number = number_field + extension[:-1]
            r.check("mrz.line1.document_number", "document number", number, extension[-1])
            optional_1 = optional_field[len(extension) + 1 :].rstrip(FILLER)
    else:
        r.check("mrz.line1.document_number", "document number", number_field, number_cd)
    dob, sex, doe = r.birth_sex_expiry(line2[0:15], expiry_optional=True)
    nationality = r.state("mrz.line2.nationality", line2[15:18])
    optional_2 = r.optional("mrz.line2.optional_data", line2[18:29])
    r.check(
        "mrz.line2.composite_check_digit",
        "upper and middle lines",
        line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29],
        line2[29],
    )
    primary, secondary = r.name("mrz.line3.name", line3)
    r.finish()
    return MrzTD1(
        document_code=code,
        issuing_state=state,
        document_number=number,
        date_of_birth=dob,
        sex=sex,
        date_of_expiry=doe,
        nationality=nationality,
        primary_identifier=primary,
        secondary_identifier=secondary,
        optional_data_1=optional_1,
        optional_data_2=optional_2,
    )


def parse_td3(text: object, *, reference: date | None = None) -> MrzTD3:
    """Parse and verify a TD3 MRZ (ICAO 9303 part 4 §4.2.2), 2 lines of 44 characters.

    Check digits verified: document number, date of birth, date of expiry, personal number
    (``<`` or ``0`` accepted when the personal number is empty) and the composite (line 2
    positions 1–10, 14–20 and 22–43). ``reference`` as in :func:`parse_td1`.
    """
    ref = reference or date.today()
    line1, line2 = _prepare(text, kind="TD3", count=2, width=TD3_WIDTH, part="ICAO 9303 part 4")
    r = _Reader(ref)
    code = r.code("mrz.line1.document_code", line1[0:2], "P", "TD3 passport")
    state = r.state("mrz.line1.issuing_state", line1[2:5])
    primary, secondary = r.name("mrz.line1.name", line1[5:44])
    number = r.document_number("mrz.line2.document_number", line2[0:9])
    r.check("mrz.line2.document_number", "document number", line2[0:9], line2[9])
    nationality = r.state("mrz.line2.nationality", line2[10:13])
    dob, sex, doe = r.birth_sex_expiry(line2[13:28], expiry_optional=False)
    personal = r.optional("mrz.line2.personal_number", line2[28:42])
    if personal or line2[42] not in (FILLER, "0"):
        r.check("mrz.line2.personal_number", "personal number", line2[28:42], line2[42])
    r.check(
        "mrz.line2.composite_check_digit",
        "line 2 positions 1–10, 14–20, 22–43",
        line2[0:10] + line2[13:20] + line2[21:43],
        line2[43],
    )
    r.finish()
    return MrzTD3(
        document_code=code,
        issuing_state=state,
        document_number=number,
        date_of_birth=dob,
        sex=sex,
        date_of_expiry=doe,
        nationality=nationality,
        primary_identifier=primary,
        secondary_identifier=secondary,
        personal_number=personal,
    )


def parse_mrz(text: object, *, reference: date | None = None) -> MrzTD1 | MrzTD3:
    """Parse a TD1 or TD3 MRZ, chosen by the number of (non-blank) lines: 3 → TD1, 2 → TD3."""
    if not isinstance(text, str):
        raise DomainValidationError.single("mrz", "type", "must be text")
    parsers: dict[int, Callable[..., MrzTD1 | MrzTD3]] = {3: parse_td1, 2: parse_td3}
    count = sum(1 for line in text.strip().splitlines() if line.strip())
    parser = parsers.get(count)
    if parser is None:
        raise DomainValidationError.single(
            "mrz", "format", f"expected 3 lines (TD1, ID card) or 2 lines (TD3, passport), got {count}"
        )
    return parser(text, reference=reference)


# --------------------------------------------------------------------------- Vietnamese TD1
def vietnamese_td1(
    *,
    id_number: str,
    full_name: str,
    date_of_birth: date,
    sex: Literal["M", "F"],
    date_of_expiry: date | None,
) -> MrzTD1:
    """The TD1 MRZ of a Vietnamese chip card (domain-vn §3; ICAO 9303 part 5).

    Document code ``ID``, issuing state and nationality ``VNM``; document number = last 9 digits
    of the ID number; optional data of line 1 = the 12-digit ID number (then fillers); name by
    :func:`mrz_name`, truncated to 30 characters by :func:`name_field`. The ID number must be
    valid and consistent with the date of birth and sex (Circular 07/2016/TT-BCA Art. 7).
    ``date_of_expiry=None`` for a card valid for life (issued from age 60): the expiry field is
    ``<<<<<<`` with check digit ``0`` (see the module docstring).
    """
    parts = parse_id_number(id_number)
    problems = check_consistency(parts, date_of_birth=date_of_birth, sex=sex)
    if problems:
        raise DomainValidationError(problems)
    primary, secondary = mrz_name(full_name)
    split = _split_name_field(name_field(primary, secondary, TD1_WIDTH))
    if split is None:  # cannot happen for transliterated names; kept as a guard, not an assert
        raise DomainValidationError.single("full_name", "transliteration", "has no MRZ name field")
    return MrzTD1(
        document_code=VN_DOCUMENT_CODE,
        issuing_state=VIETNAM,
        document_number=parts.number[3:],
        date_of_birth=date_of_birth,
        sex=sex,
        date_of_expiry=date_of_expiry,
        nationality=VIETNAM,
        primary_identifier=split[0],
        secondary_identifier=split[1],
        optional_data_1=parts.number,
    )


# --------------------------------------------------------------------------- chip access keys
@dataclass(frozen=True)
class BacKeys:
    """Basic Access Control keys (ICAO 9303 part 11 §9.7.1): the 16-byte seed and the two
    2-key 3DES keys, parity-adjusted."""

    seed: bytes
    k_enc: bytes
    k_mac: bytes


KDF_ENC = 1  # ICAO 9303 part 11 §9.7.1: counter c = 1 for the encryption key
KDF_MAC = 2  # c = 2 for the MAC key


def mrz_information(document_number: str, date_of_birth: date, date_of_expiry: date | None) -> str:
    """The MRZ information that seeds BAC (ICAO 9303 part 11 §9.7.1, Appendix D.1): document number
    (filled with ``<`` to at least 9 characters) + its check digit + date of birth YYMMDD + check
    digit + date of expiry YYMMDD + check digit. No expiry: ``<<<<<<0``, as printed in the MRZ."""
    number = document_number.ljust(9, FILLER)
    birth = _yymmdd(date_of_birth)
    expiry = _yymmdd(date_of_expiry)
    field = "mrz.document_number"
    return (
        number + check_digit(number, field=field) + birth + check_digit(birth) + expiry + check_digit(expiry)
    )


def adjust_des_parity(key: bytes) -> bytes:
    """Set the least significant bit of each byte so that every byte has odd parity (DES keys)."""
    out = bytearray()
    for byte in key:
        high = byte & 0xFE
        out.append(high | (1 if bin(high).count("1") % 2 == 0 else 0))
    return bytes(out)


def derive_key(seed: bytes, counter: int) -> bytes:
    """ICAO 9303 part 11 §9.7.1 key derivation for 3DES: SHA-1(seed ‖ counter as 32-bit big-endian),
    bytes 1–8 = Ka and 9–16 = Kb, parity-adjusted."""
    # SHA-1 is mandated by the standard for BAC; it is not a choice made here.
    digest = hashlib.sha1(seed + counter.to_bytes(4, "big"), usedforsecurity=True).digest()  # noqa: S324
    return adjust_des_parity(digest[:16])


def bac_key_seed(information: str) -> bytes:
    """K_seed = the first 16 bytes of SHA-1 of the MRZ information (ICAO 9303 part 11 §9.7.1)."""
    # SHA-1 is mandated by the standard for BAC; it is not a choice made here.
    return hashlib.sha1(information.encode("ascii"), usedforsecurity=True).digest()[:16]  # noqa: S324


def bac_keys(document_number: str, date_of_birth: date, date_of_expiry: date | None) -> BacKeys:
    """BAC K_seed, K_enc and K_mac (ICAO 9303 part 11 §9.7.1; worked example Appendix D.1)."""
    seed = bac_key_seed(mrz_information(document_number, date_of_birth, date_of_expiry))
    return BacKeys(seed=seed, k_enc=derive_key(seed, KDF_ENC), k_mac=derive_key(seed, KDF_MAC))


def pace_can(id_number: str) -> str:
    """The PACE card access number (CAN) of a Vietnamese card: the last 6 digits of the 12-digit
    ID number (domain-vn §3). The number is checked first (Circular 07/2016/TT-BCA Art. 7)."""
    return parse_id_number(id_number).number[-6:]
