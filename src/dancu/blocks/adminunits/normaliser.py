"""Pure text helpers for Vietnamese administrative-unit names and addresses.

Rules followed (design note *domain-vn* §7):

* text is normalised to NFC; ``Ð`` (U+00D0, Icelandic eth, common in legacy databases) is mapped
  to ``Đ`` (U+0110) and ``ð`` to ``đ``;
* tone marks on the open syllables *oa*, *oe*, *uy* are placed in one style: the "old" style
  (``hòa``, ``khỏe``, ``thủy``), the one used by most cards and by the current unit names
  (``Thanh Hóa``, ``Khánh Hòa``); the legacy list also uses the "new" style (``Hoà Bình``);
* folding (for accent-insensitive comparison) decomposes with NFD, drops the combining marks
  (Unicode category Mn) and maps ``đ``/``Đ`` to ``d`` explicitly, since they do not decompose;
* folding loses information (``Đông Thành`` ≠ ``Đông Thạnh``): compare with tones first, then
  folded, then fuzzy — the resolver in :mod:`dancu.blocks.adminunits.resolver` does so.

All functions here are pure (no Django, no I/O).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

ToneStyle = Literal["old", "new"]

_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền, sắc, ngã, hỏi, nặng
_WORD = re.compile(r"[^\W\d_]+|\d+")
_LETTERS = re.compile(r"[^\W\d_]+")
_OPEN_PAIRS = frozenset({"oa", "oe", "uy"})


def nfc(text: str) -> str:
    """NFC with ``Ð``/``ð`` (eth) mapped to ``Đ``/``đ``: ``"Ðống Ða"`` → ``"Đống Đa"``."""
    return unicodedata.normalize("NFC", text).replace("\u00d0", "\u0110").replace("\u00f0", "\u0111")


def fold(text: str) -> str:
    """Accent- and case-insensitive form: ``"Phường Đông Thạnh"`` → ``"phuong dong thanh"``.

    NFD, drop combining marks, ``đ``→``d`` explicitly, lower case, single spaces.
    """
    text = nfc(text).replace("đ", "d").replace("Đ", "D")
    text = "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
    return " ".join(text.lower().split())


def has_diacritics(text: str) -> bool:
    """True when folding would change the letters of ``text`` (ignoring case)."""
    return fold(text) != " ".join(text.lower().split())


@functools.lru_cache(maxsize=8192)
def _restyle_word(word: str, style: ToneStyle) -> str:
    """Move the tone mark of a word ending in an open *oa*/*oe*/*uy* syllable to the chosen vowel.

    A pure function of its arguments, remembered for the 8,192 most recent words: names and
    addresses repeat a few thousand distinct words (the verification's hot route restyles the
    name of every card QR, ADR 0014)."""
    decomposed = unicodedata.normalize("NFD", word)
    # Group each base letter with its combining marks.
    letters: list[list[str]] = []
    for ch in decomposed:
        if unicodedata.category(ch) == "Mn" and letters:
            letters[-1].append(ch)
        else:
            letters.append([ch])
    if len(letters) < 2:
        return word
    last_two = (letters[-2][0] + letters[-1][0]).lower()
    if last_two not in _OPEN_PAIRS:
        return word
    if last_two == "uy" and len(letters) >= 3 and letters[-3][0].lower() == "q":
        return word  # "quý": the u belongs to the consonant qu, the tone stays on y
    if len(letters) >= 3 and letters[-3][0].lower() in "aăâeêioôơuưy":
        return word  # part of a longer vowel cluster (not Vietnamese oa/oe/uy): leave alone
    if any(m not in _TONE_MARKS for m in letters[-2][1:] + letters[-1][1:]):
        return word  # a vowel with a modifier (circumflex, breve, horn) carries the tone anyway
    tones = [m for m in letters[-2][1:] + letters[-1][1:] if m in _TONE_MARKS]
    if len(tones) != 1:
        return word
    letters[-2] = [letters[-2][0]]
    letters[-1] = [letters[-1][0]]
    target = letters[-2] if style == "old" else letters[-1]
    target.append(tones[0])
    return unicodedata.normalize("NFC", "".join("".join(group) for group in letters))


def tone_style(text: str, style: ToneStyle = "old") -> str:
    """Place tone marks on open *oa*/*oe*/*uy* syllables in one style.

    ``"old"`` (default, as on most cards): ``hòa``, ``khỏe``, ``thủy``; ``"new"``: ``hoà``, ``khoẻ``,
    ``thuỷ``. Closed syllables (``hoàng``, ``thuyền``) and ``quý`` are the same in both styles and
    are left unchanged. The result is NFC.
    """
    return _LETTERS.sub(lambda m: _restyle_word(m.group(0), style), nfc(text))


@dataclass(frozen=True, slots=True)
class Token:
    """A word of an address: its span in the NFC text, its toned key and its folded key.

    Keys are lower case with tones in the "old" style; digit runs lose leading zeros
    (``"05"`` → ``"5"``) so that ``Phường 05`` and ``P.5`` compare equal.
    """

    start: int
    end: int
    toned: str
    folded: str
    after_comma: bool = False  # a comma or semicolon separates it from the previous token

    @property
    def has_marks(self) -> bool:
        return self.toned != self.folded

    @property
    def is_number(self) -> bool:
        return self.folded.isdigit()


def tokens(text: str) -> list[Token]:
    """Split NFC ``text`` into letter runs and digit runs (``"P.12"`` → ``p``, ``12``).

    Punctuation and spaces separate tokens; a letter run followed by a digit run is two tokens
    (``"Q3"`` → ``q``, ``3``). Offsets refer to ``text`` as given (call :func:`nfc` first).
    """
    out: list[Token] = []
    previous_end = 0
    for m in _WORD.finditer(text):
        raw = m.group(0)
        after_comma = bool(out) and any(c in ",;" for c in text[previous_end : m.start()])
        previous_end = m.end()
        if raw[0].isdigit():
            digits = "".join(str(unicodedata.digit(c, 0)) for c in raw).lstrip("0") or "0"
            out.append(Token(m.start(), m.end(), digits, digits, after_comma))
            continue
        toned = _restyle_word(raw.lower(), "old")
        out.append(Token(m.start(), m.end(), toned, fold(toned), after_comma))
    return out


def name_key(text: str) -> tuple[str, str]:
    """The (toned, folded) comparison keys of a unit name: ``"Hoà Bình"`` → ``("hòa bình", "hoa binh")``."""
    toks = tokens(nfc(text))
    return " ".join(t.toned for t in toks), " ".join(t.folded for t in toks)


# Type designators as written on cards and forms, by folded token sequence. The value is the
# unit type(s) they denote (types as in the data files).
WARD_DESIGNATORS: dict[tuple[str, ...], frozenset[str]] = {
    ("phuong",): frozenset({"ward"}),
    ("p",): frozenset({"ward"}),
    ("f",): frozenset({"ward"}),
    ("xa",): frozenset({"commune"}),
    ("x",): frozenset({"commune"}),
    ("thi", "tran"): frozenset({"township"}),
    ("tt",): frozenset({"township"}),
    ("t", "t"): frozenset({"township"}),
    ("t", "tr"): frozenset({"township"}),
    ("dac", "khu"): frozenset({"special_zone"}),
    ("dk",): frozenset({"special_zone"}),
}
DISTRICT_DESIGNATORS: dict[tuple[str, ...], frozenset[str]] = {
    ("quan",): frozenset({"urban_district"}),
    ("q",): frozenset({"urban_district"}),
    ("huyen",): frozenset({"rural_district"}),
    ("h",): frozenset({"rural_district"}),
    ("thi", "xa"): frozenset({"town"}),
    ("tx",): frozenset({"town"}),
    ("t", "x"): frozenset({"town"}),
    ("thanh", "pho"): frozenset({"provincial_city"}),
    ("tp",): frozenset({"provincial_city"}),
    ("t", "p"): frozenset({"provincial_city"}),
}
PROVINCE_DESIGNATORS: dict[tuple[str, ...], frozenset[str]] = {
    ("tinh",): frozenset({"province"}),
    ("t",): frozenset({"province"}),
    ("thanh", "pho"): frozenset({"city"}),
    ("tp",): frozenset({"city"}),
    ("t", "p"): frozenset({"city"}),
    ("thu", "do"): frozenset({"city"}),
}

# Spelling with tones of the designators that are whole words: a token written with marks is a
# designator only if its marks agree ("Tịnh" is a name, "Tỉnh" a designator, "Tinh" either).
DESIGNATOR_SPELLING: dict[tuple[str, ...], tuple[str, ...]] = {
    ("phuong",): ("phường",),
    ("xa",): ("xã",),
    ("thi", "tran"): ("thị", "trấn"),
    ("dac", "khu"): ("đặc", "khu"),
    ("quan",): ("quận",),
    ("huyen",): ("huyện",),
    ("thi", "xa"): ("thị", "xã"),
    ("thanh", "pho"): ("thành", "phố"),
    ("tinh",): ("tỉnh",),
    ("thu", "do"): ("thủ", "đô"),
}

_EXPANSIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"(?<![^\W\d_]){pattern}", re.IGNORECASE), replacement)
    for pattern, replacement in [
        (r"TP\.?\s*(?=(?:HCM|HN)(?![^\W\d_]))", "Thành phố "),
        (r"HCM(?![^\W\d_])", "Hồ Chí Minh"),
        (r"HN(?![^\W\d_])", "Hà Nội"),
        (r"T\.?P(?:\.\s*|\s+|(?=\d))", "Thành phố "),
        (r"T\.?X(?:\.\s*|\s+|(?=\d))", "Thị xã "),
        (r"T\.?T(?:\.\s*|\s+|(?=\d))", "Thị trấn "),
        (r"P(?:\.\s*|(?=\d)|\s+(?=\d))", "Phường "),
        (r"Q(?:\.\s*|(?=\d)|\s+(?=\d))", "Quận "),
        (r"X\.\s*", "Xã "),
        (r"H\.\s*", "Huyện "),
    ]
]


def expand_abbreviations(text: str) -> str:
    """Spell out the type designators abbreviated on forms, for display.

    ``"P.Quảng An, Q. Tây Hồ, TP.HN"`` → ``"Phường Quảng An, Quận Tây Hồ, Thành phố Hà Nội"``;
    ``"P12, Q3, TP HCM"`` → ``"Phường 12, Quận 3, Thành phố Hồ Chí Minh"``. Only unambiguous forms
    are expanded (``P.``/``Q.``/``X.``/``H.`` with a dot, ``P``/``Q`` glued to a number, ``TP``,
    ``TX``, ``TT``); the resolver itself works on tokens and does not need this.
    """
    out = nfc(text)
    for pattern, replacement in _EXPANSIONS:
        out = pattern.sub(replacement, out)
    return " ".join(out.split())
