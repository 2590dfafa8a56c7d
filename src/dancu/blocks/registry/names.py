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
    # Printable text holds no lone surrogate (category Cs): the scan is for the rest.
    if not value.isprintable() and any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise DomainValidationError.single(field, "unicode", "contains invalid Unicode (a lone surrogate)")
    text = unicodedata.normalize("NFC", value).replace("\u00d0", "\u0110").replace("\u00f0", "\u0111")
    text = " ".join(text.split())
    if not text:
        raise DomainValidationError.single(field, "required", "must not be empty")
    if len(text) > MAX_NAME_LENGTH:
        raise DomainValidationError.single(field, "length", f"must be at most {MAX_NAME_LENGTH} characters")
    # \w also matches numerals that are not decimal digits (², ½, Ⅻ, ①): reject them too.
    if not _ALLOWED.match(text) or (
        not _letters_only(text) and any(ch.isnumeric() and not ch.isalpha() for ch in text)
    ):
        raise DomainValidationError.single(
            field, "characters", "may contain only letters, spaces, hyphens and apostrophes"
        )
    text = tone_style(text, "old")
    text = " ".join(w[:1].upper() + w[1:].lower() for w in text.split(" "))
    if len(text) > MAX_NAME_LENGTH:  # case mapping can lengthen text ("ß" → "SS")
        raise DomainValidationError.single(field, "length", f"must be at most {MAX_NAME_LENGTH} characters")
    return text


def _letters_only(text: str) -> bool:
    """True when every character but the separators space, hyphen and apostrophe is a letter
    (then none is a numeral): the usual case, decided without a loop in Python."""
    return text.replace(" ", "").replace("-", "").replace("'", "").isalpha()


def _vietnamese_alphabet() -> frozenset[str]:
    """The letters of the Vietnamese alphabet with every tone mark, both cases, NFC, the Latin
    letters f j w z of foreign-origin names, and the name separators space, hyphen, apostrophe."""
    vowels = "aăâeêioôơuưy"
    tones = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")  # none, huyền, sắc, ngã, hỏi, nặng
    letters = {unicodedata.normalize("NFC", v + t) for v in vowels for t in tones}
    letters |= set("bcdđghklmnpqrstvxfjwz")
    return frozenset({*letters, *(ch.upper() for ch in letters), " ", "-", "'"})


VIETNAMESE_NAME_CHARACTERS = _vietnamese_alphabet()


def is_normal_output(name: str) -> bool:
    """True when ``name``, an output of :func:`normalise_name`, is known to be a fixed point of it
    (``normalise_name(name) == name``) without normalising it again: every character is in
    :data:`VIETNAMESE_NAME_CHARACTERS`, whose letters keep their form under NFC and map one to one
    under upper/lower case, so normalising again changes nothing (tests/blocks/registry/
    test_names.py checks the property). False means "not known": normalise again to decide (some
    letters outside it do change, e.g. ``ŉ`` capitalises to ``ʼN``, then lowercases to ``ʼn``)."""
    return VIETNAMESE_NAME_CHARACTERS.issuperset(name)


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


# --------------------------------------------------------------------------- matching
# Surnames written two ways (domain-vn §7): Huỳnh/Hoàng and Võ/Vũ are the same name. Folded forms.
NAME_VARIANTS: dict[str, str] = {"huynh": "hoang", "vo": "vu"}
MATCH_THRESHOLD = 0.85
SCORE_EXACT = 1.0
SCORE_ACCENTS = 0.95
SCORE_VARIANT = 0.9
SCORE_TRUNCATED = 0.9
SCORE_REORDERED = 0.85
PARTIAL_WEIGHT = 0.8


@dataclass(frozen=True)
class NameMatch:
    """How well a name read from a document matches the recorded name.

    ``score`` in [0, 1]; ``method`` says which rule gave it (see :func:`match_names`). A name
    matches when ``score >= MATCH_THRESHOLD``.
    """

    score: float
    method: str

    @property
    def matches(self) -> bool:
        return self.score >= MATCH_THRESHOLD


def _tokens(text: str) -> list[str]:
    """Folded words; hyphens separate words and apostrophes are dropped (as in an MRZ)."""
    return fold(text.replace("-", " ").replace("'", "").replace("\u2019", "")).split()


def _canonical(tokens: list[str]) -> list[str]:
    return [NAME_VARIANTS.get(t, t) for t in tokens]


def match_names(claimed: str, recorded: str, *, claimed_may_be_truncated: bool = False) -> NameMatch:
    """Score ``claimed`` (read from a card, an MRZ or typed by staff) against ``recorded``.

    The first rule that holds gives the score (domain-vn §7: compare with tones, then without,
    then fuzzily):

    * ``exact`` 1.0 — equal after :func:`normalise_name` (NFC, one tone style: "Hoà" = "Hòa");
    * ``accents`` 0.95 — equal word for word once accents and case are folded ("NGUYEN VAN AN");
    * ``variant`` 0.9 — equal once Huỳnh≡Hoàng and Võ≡Vũ are treated as one name;
    * ``truncated`` 0.9 — only for names from a full MRZ name field (ICAO 9303 part 3 §4.6 cuts
      long names): the folded claimed name is a prefix of the recorded one;
    * ``reordered`` 0.85 — the same words in another order ("An Nguyễn Văn");
    * ``partial`` — otherwise 0.8 × the Dice coefficient of the two word multisets, always below
      the match threshold (a missing middle name gives 0.64).

    ``MATCH_THRESHOLD`` is 0.85: every rule but ``partial`` matches.
    """
    try:
        if normalise_name(claimed) == normalise_name(recorded):
            return NameMatch(SCORE_EXACT, "exact")
    except DomainValidationError:
        pass  # not a valid name as typed: compared in folded form below
    mine, theirs = _tokens(claimed), _tokens(recorded)
    if not mine or not theirs:
        return NameMatch(0.0, "partial")
    if mine == theirs:
        return NameMatch(SCORE_ACCENTS, "accents")
    mine_c, theirs_c = _canonical(mine), _canonical(theirs)
    if mine_c == theirs_c:
        return NameMatch(SCORE_VARIANT, "variant")
    if claimed_may_be_truncated and " ".join(theirs_c).startswith(" ".join(mine_c)):
        return NameMatch(SCORE_TRUNCATED, "truncated")
    if sorted(mine_c) == sorted(theirs_c):
        return NameMatch(SCORE_REORDERED, "reordered")
    remaining = list(theirs_c)
    common = 0
    for token in mine_c:
        if token in remaining:
            remaining.remove(token)
            common += 1
    dice = 2 * common / (len(mine_c) + len(theirs_c))
    return NameMatch(round(PARTIAL_WEIGHT * dice, 4), "partial")
