"""Vietnamese personal names: normalisation, splitting, accent-insensitive folding.

Order is family – middle – given. Text is normalised to NFC; U+00D0 (Ð, Icelandic eth) is mapped
to U+0110 (Đ); tone marks follow one placement style (the "old" style: hòa, thủy, as printed on
most cards); ``đ``/``Đ`` do not decompose under NFD so folding maps them explicitly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from dancu.blocks.adminunits.normaliser import tone_style
from dancu.errors import DomainValidationError

_ALLOWED = re.compile(r"^[^\W\d_]+(?:[ '\-][^\W\d_]+)*$")
MAX_NAME_LENGTH = 100


def normalise_name(value: object, *, field: str = "full_name") -> str:
    """NFC, Ð→Đ, one tone style, single spaces, each word capitalised; raises on invalid text."""
    if not isinstance(value, str):
        raise DomainValidationError.single(field, "type", "must be text")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise DomainValidationError.single(field, "unicode", "contains invalid Unicode (a lone surrogate)")
    text = unicodedata.normalize("NFC", value).replace("\u00d0", "\u0110").replace("\u00f0", "\u0111")
    text = " ".join(text.split())
    if not text:
        raise DomainValidationError.single(field, "required", "must not be empty")
    if len(text) > MAX_NAME_LENGTH:
        raise DomainValidationError.single(field, "length", f"must be at most {MAX_NAME_LENGTH} characters")
    # \w also matches numerals that are not decimal digits (², ½, Ⅻ, ①): reject them too.
    if not _ALLOWED.match(text) or any(ch.isnumeric() and not ch.isalpha() for ch in text):
        raise DomainValidationError.single(
            field, "characters", "may contain only letters, spaces, hyphens and apostrophes"
        )
    text = tone_style(text, "old")
    text = " ".join(w[:1].upper() + w[1:].lower() for w in text.split(" "))
    if len(text) > MAX_NAME_LENGTH:  # case mapping can lengthen text ("ß" → "SS")
        raise DomainValidationError.single(field, "length", f"must be at most {MAX_NAME_LENGTH} characters")
    return text


def fold(text: str) -> str:
    """Accent-insensitive, case-insensitive form for search: "Nguyễn Thị Hoà" → "nguyen thi hoa"."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D").replace("\u00d0", "D"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    # Recompose what NFD split into several letters (e.g. Hangul), so folding never lengthens a name.
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


@dataclass(frozen=True)
class NameParts:
    family: str
    middle: str
    given: str

    @property
    def full(self) -> str:
        return " ".join(p for p in (self.family, self.middle, self.given) if p)


def split_name(full_name: str) -> NameParts:
    """Family = first word, given = last word, middle = the rest (compound surnames are recorded
    explicitly by the registry when known; this is the default reading)."""
    words = full_name.split()
    if len(words) == 1:
        return NameParts("", "", words[0])
    return NameParts(words[0], " ".join(words[1:-1]), words[-1])
