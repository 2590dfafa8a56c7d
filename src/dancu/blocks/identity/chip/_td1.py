"""A minimal TD1 MRZ formatter for DG1 — **temporary**: to be replaced by ``dancu.blocks.identity.mrz``.

Only what DG1 of a synthetic chip needs: three lines of 30 characters (ICAO Doc 9303 part 5
§4.2.2, TD1 layout) with the check digits of part 3 §4.9 (weights 7-3-1, ``<`` = 0, ``A``–``Z``
= 10–35). The Vietnamese profile (domain-vn §3): the document-number field holds the last 9
digits of the 12-digit ID number and the optional data starts with the full 12-digit number.

Deliberately not here (the ``mrz`` module owns them): parsing and validating MRZs, the part 3
§6 transliteration tables and the truncation rules of §4.6 for long names (names are simply
cut at 30 characters), TD2/TD3. When ``dancu.blocks.identity.mrz`` lands, ``lds.encode_dg1``
should call its formatter and this module should be deleted.
"""

from __future__ import annotations

import unicodedata
from datetime import date

_WEIGHTS = (7, 3, 1)
_FILLER = "<"


def check_digit(field: str) -> str:
    """ICAO Doc 9303 part 3 §4.9: Σ value × weight (7, 3, 1 repeating) mod 10."""
    total = 0
    for i, char in enumerate(field):
        if char.isdigit():
            value = ord(char) - 48
        elif "A" <= char <= "Z":
            value = ord(char) - 55
        elif char == _FILLER:
            value = 0
        else:
            raise ValueError(f"character {char!r} is not allowed in an MRZ field")
        total += value * _WEIGHTS[i % 3]
    return str(total % 10)


def _mrz_text(text: str) -> str:
    """Upper-case A–Z without diacritics (Đ → D), anything else becomes the filler."""
    stripped = "".join(
        c
        for c in unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
        if not unicodedata.combining(c)
    ).upper()
    return "".join(c if ("A" <= c <= "Z" or c.isdigit()) and c.isascii() else _FILLER for c in stripped)


def _yymmdd(value: date | None) -> str:
    return value.strftime("%y%m%d") if value is not None else _FILLER * 6


def td1_lines(
    *,
    id_number: str,
    full_name: str,
    date_of_birth: date,
    sex: str,
    expiry_date: date | None,
    document_code: str = "ID",
    issuing_state: str = "VNM",
    nationality: str = "VNM",
) -> tuple[str, str, str]:
    """The three 30-character TD1 lines for a Vietnamese card (no expiry → ``<<<<<<``)."""
    if len(id_number) != 12 or not id_number.isdigit():
        raise ValueError("id_number must have 12 digits")
    document_number = id_number[-9:]
    optional_1 = (id_number + _FILLER * 15)[:15]
    line1 = f"{document_code:<<2}{issuing_state}{document_number}{check_digit(document_number)}{optional_1}"
    birth = _yymmdd(date_of_birth)
    expiry = _yymmdd(expiry_date)
    sex_code = sex if sex in ("M", "F") else _FILLER
    optional_2 = _FILLER * 11
    composite = check_digit(
        line1[5:30] + birth + check_digit(birth) + expiry + check_digit(expiry) + optional_2
    )
    line2 = (
        f"{birth}{check_digit(birth)}{sex_code}{expiry}{check_digit(expiry)}"
        f"{nationality}{optional_2}{composite}"
    )
    words = _mrz_text(full_name).split(_FILLER)
    words = [w for w in words if w]
    name = (words[0] + _FILLER * 2 + _FILLER.join(words[1:])) if words else ""
    line3 = (name + _FILLER * 30)[:30]
    return line1, line2, line3
