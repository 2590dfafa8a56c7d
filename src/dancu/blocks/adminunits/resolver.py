"""Address resolver: free text as printed on cards → legacy ward → current ward.

The address is read right to left: province, then district within the province, then ward within
the district (legacy three-tier units, before 01/07/2025), or province then commune-level unit
(current two-tier units, Resolution 202/2025/QH15; Hà Nội: Resolution 1656/NQ-UBTVQH15). Every
level is matched on word tokens (so commas are optional), first with tones (``Đông Thành`` ≠
``Đông Thạnh``), then accent-folded, then — only inside the candidate set already narrowed by the
levels to the right — fuzzily (:mod:`difflib`). Type designators (``Phường``, ``P.``, ``Q.``,
``TX``, ``TT``, ``TP`` …) are recognised in front of each name and used to break ties. Every
reading that explains the tail of the text is scored and the best one wins; equally good readings
with different outcomes lower the confidence.

The index is built once from the data files (:func:`dancu.blocks.adminunits.catalogue.catalogue`)
and cached; resolving needs no database.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from dancu.blocks.adminunits.catalogue import AdminUnit, Catalogue, catalogue
from dancu.blocks.adminunits.normaliser import (
    DESIGNATOR_SPELLING,
    DISTRICT_DESIGNATORS,
    PROVINCE_DESIGNATORS,
    WARD_DESIGNATORS,
    Token,
    name_key,
    nfc,
    tokens,
)

FUZZY_THRESHOLD = 0.82
FUZZY_THRESHOLD_SHORT = 0.86  # names of at most 8 characters: one wrong letter is too much
_WEIGHT = {"province": 1.0, "district": 1.0, "ward": 1.5}
_DESIGNATOR_BONUS = 0.05
_COUNTRY_SUFFIXES = (("viet", "nam"), ("vietnam",), ("vn",))

# Common ways of writing province names that token matching alone would miss (ours, not from the
# data package). Applied to legacy and current provinces bearing the name.
PROVINCE_ALIASES: dict[str, tuple[str, ...]] = {
    "Hà Nội": ("HN", "Hanoi", "TPHN"),
    "Hồ Chí Minh": ("HCM", "TPHCM", "HCMC", "Sài Gòn", "Saigon", "SG", "TP HCM"),
    "Thừa Thiên Huế": ("Huế", "TT Huế", "TT-Huế", "TTH", "Thừa Thiên"),
    "Bà Rịa - Vũng Tàu": ("BR-VT", "BRVT", "Bà Rịa Vũng Tàu"),
    "Đắk Lắk": ("Đắc Lắc", "Daklak", "Đắklắk"),
    "Đắk Nông": ("Đắc Nông", "Daknong"),
    "Kon Tum": ("Kontum",),
}


@dataclass(frozen=True, slots=True)
class _NameIndex:
    """Names of the units of one scope (e.g. the wards of one district), by comparison key."""

    toned: dict[str, tuple[str, ...]]
    folded: dict[str, tuple[tuple[str, str], ...]]  # folded key -> (code, toned key)
    entries: tuple[_Entry, ...]  # for fuzzy matching
    max_len: int


@dataclass(frozen=True, slots=True)
class _Entry:
    folded: str
    code: str
    n_tokens: int
    chars: Counter[str]


def _build_index(items: Iterable[tuple[str, Iterable[str]]]) -> _NameIndex:
    toned: dict[str, list[str]] = defaultdict(list)
    folded: dict[str, list[tuple[str, str]]] = defaultdict(list)
    entries: list[_Entry] = []
    max_len = 1
    for code, names in items:
        seen: set[str] = set()
        for name in names:
            tkey, fkey = name_key(name)
            if not tkey or tkey in seen:
                continue
            seen.add(tkey)
            toned[tkey].append(code)
            folded[fkey].append((code, tkey))
            n = len(fkey.split())
            entries.append(_Entry(fkey, code, n, Counter(fkey)))
            max_len = max(max_len, n)
    return _NameIndex(
        toned={k: tuple(v) for k, v in toned.items()},
        folded={k: tuple(v) for k, v in folded.items()},
        entries=tuple(entries),
        max_len=max_len,
    )


@dataclass(frozen=True)
class _Index:
    cat: Catalogue
    provinces: _NameIndex  # codes "L01" (legacy) / "C01" (current)
    districts_by_province: dict[str, _NameIndex]
    districts_all: _NameIndex
    legacy_wards_by_district: dict[str, _NameIndex]
    legacy_wards_by_province: dict[str, _NameIndex]
    wards_by_province: dict[str, _NameIndex]
    predecessors: dict[str, tuple[str, ...]]  # current province -> legacy provinces


def _province_names(unit: AdminUnit) -> list[str]:
    names = [unit.name, *PROVINCE_ALIASES.get(unit.name, ())]
    names.append(name_key(unit.name)[1].replace(" ", ""))  # "hanoi", "danang", "cantho" …
    return names


@functools.cache
def index() -> _Index:
    """Build the name index once (about half a second) and keep it."""
    cat = catalogue()
    provinces = _build_index(
        [(f"L{u.code}", _province_names(u)) for u in cat.legacy_provinces.values()]
        + [(f"C{u.code}", _province_names(u)) for u in cat.provinces.values()]
    )

    def scoped(units: Iterable[AdminUnit], attr: str) -> dict[str, _NameIndex]:
        groups: dict[str, list[tuple[str, list[str]]]] = defaultdict(list)
        for u in units:
            groups[getattr(u, attr)].append((u.code, [u.name]))
        return {k: _build_index(v) for k, v in groups.items()}

    predecessors: dict[str, list[str]] = defaultdict(list)
    for legacy_code, successors in cat.legacy_successors.items():
        for s in successors:
            predecessors[s].append(legacy_code)
    return _Index(
        cat=cat,
        provinces=provinces,
        districts_by_province=scoped(cat.legacy_districts.values(), "province_code"),
        districts_all=_build_index((u.code, [u.name]) for u in cat.legacy_districts.values()),
        legacy_wards_by_district=scoped(cat.legacy_wards.values(), "district_code"),
        legacy_wards_by_province=scoped(cat.legacy_wards.values(), "province_code"),
        wards_by_province=scoped(cat.wards.values(), "province_code"),
        predecessors={k: tuple(v) for k, v in predecessors.items()},
    )


# --------------------------------------------------------------------------- matching one level


@dataclass(frozen=True, slots=True)
class _Match:
    code: str
    start: int  # first token consumed, designator included
    name_start: int
    quality: float
    method: str  # "exact" | "folded" | "fuzzy"
    designated: frozenset[str] | None  # unit types named by a designator in front, if any


def _tone_quality(span: Sequence[Token], toned_key: str) -> float:
    """Quality of an accent-folded hit: tones written in the input must agree with the name's."""
    name_tokens = toned_key.split()
    if len(name_tokens) != len(span):
        return 0.9
    agree = conflict = 0
    for tok, name_tok in zip(span, name_tokens, strict=True):
        if tok.has_marks:
            if tok.toned == name_tok:
                agree += 1
            else:
                conflict += 1
    n = len(span)
    return 0.95 + 0.04 * agree / n - 0.15 * conflict / n


def _designator_before(
    toks: Sequence[Token], start: int, designators: dict[tuple[str, ...], frozenset[str]]
) -> tuple[int, frozenset[str] | None]:
    for width in (2, 1):
        if start - width >= 0:
            span = toks[start - width : start]
            key = tuple(t.folded for t in span)
            if key not in designators:
                continue
            spelling = DESIGNATOR_SPELLING.get(key)
            if spelling and any(t.has_marks and t.toned != s for t, s in zip(span, spelling, strict=True)):
                continue
            return start - width, designators[key]
    return start, None


def _fuzzy_ratio(query: str, query_chars: Counter[str], entry: _Entry) -> float:
    """difflib's ratio, after two cheap upper bounds (length, shared characters) rule most out."""
    total = len(query) + len(entry.folded)
    if 2 * min(len(query), len(entry.folded)) < FUZZY_THRESHOLD * total:
        return 0.0
    shared = sum(min(k, entry.chars.get(c, 0)) for c, k in query_chars.items())
    if 2 * shared < FUZZY_THRESHOLD * total:
        return 0.0
    ratio = SequenceMatcher(None, query, entry.folded, autojunk=False).ratio()
    if len(query) == len(entry.folded) and _one_transposition(query, entry.folded):
        ratio = max(ratio, 1 - 0.5 / len(query))  # two letters swapped: one keying error, not two
    return ratio


def _one_transposition(a: str, b: str) -> bool:
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def _match(
    toks: Sequence[Token],
    end: int,
    indexes: Iterable[_NameIndex],
    designators: dict[tuple[str, ...], frozenset[str]],
    *,
    fuzzy: bool,
    foreign: dict[tuple[str, ...], frozenset[str]] | None = None,
) -> list[_Match]:
    """Names of the given scopes that end exactly at token ``end`` (exclusive).

    ``foreign``: designators of another level; a name right after one of them is not taken
    without a designator of its own ("Quận Tây Hồ" names the district, not Phường Tây Hồ).
    """
    scopes = list(indexes)
    found: list[tuple[str, int, float, str]] = []  # (code, name_start, quality, method)
    for scope in scopes:
        for length in range(min(scope.max_len, end), 0, -1):
            span = toks[end - length : end]
            if any(t.after_comma for t in span[1:]):
                continue  # a name does not straddle a comma
            tkey = " ".join(t.toned for t in span)
            exact = scope.toned.get(tkey)
            if exact:
                found.extend((code, end - length, 1.0, "exact") for code in exact)
                continue
            for code, toned_key in scope.folded.get(" ".join(t.folded for t in span), ()):
                found.append((code, end - length, _tone_quality(span, toned_key), "folded"))
    if not found and fuzzy:
        best: dict[tuple[str, int], float] = {}
        for scope in scopes:
            for length in range(min(scope.max_len + 1, end), 0, -1):
                span = toks[end - length : end]
                if any(t.after_comma for t in span[1:]):
                    continue
                fkey = " ".join(t.folded for t in span)
                if len(fkey) < 4 or all(t.is_number for t in span):
                    continue
                fchars = Counter(fkey)
                for entry in scope.entries:
                    if abs(entry.n_tokens - length) > 1:
                        continue
                    ratio = _fuzzy_ratio(fkey, fchars, entry)
                    threshold = FUZZY_THRESHOLD_SHORT if len(entry.folded) <= 8 else FUZZY_THRESHOLD
                    if ratio >= threshold and ratio > best.get((entry.code, end - length), 0.0):
                        best[(entry.code, end - length)] = ratio
        found.extend((code, start, 0.85 * ratio, "fuzzy") for (code, start), ratio in best.items())
    matches = []
    for code, name_start, quality, method in found:
        numeric = all(t.is_number for t in toks[name_start:end])
        start, designated = _designator_before(toks, name_start, designators)
        if designated is not None:
            matches.append(_Match(code, start, name_start, quality, method, designated))
        # Also the reading where the word in front is not a designator but belongs to the level
        # to the left ("Sơn Tịnh, Quảng Ngãi" — is "Tinh" the designator Tỉnh?). A bare number is
        # not a name: "12" alone is a house number; "Phường 12", "P.12" name a ward.
        if not numeric and (foreign is None or _designator_before(toks, name_start, foreign)[1] is None):
            matches.append(_Match(code, name_start, name_start, quality, method, None))
    return matches


# --------------------------------------------------------------------------- whole readings


@dataclass(frozen=True, slots=True)
class Reading:
    """One way of reading an address, with the units matched at each level."""

    form: str  # "legacy" | "current"
    province: _Match | None
    district: _Match | None
    ward: _Match
    score: float
    confidence: float
    method: str
    legacy_province_code: str
    legacy_district_code: str
    legacy_ward_code: str
    ward_code: str
    province_code: str


def _designator_adjustment(match: _Match | None, unit_type: str) -> tuple[float, float]:
    """(score bonus, confidence factor) for the designator in front of a name."""
    if match is None or match.designated is None:
        return 0.0, 1.0
    if unit_type in match.designated:
        return _DESIGNATOR_BONUS, 1.0
    return -_DESIGNATOR_BONUS, 0.9


def _stray_designator(toks: Sequence[Token], ward_start: int) -> bool:
    """Whether the part of the text just left of the ward looks like an unrecognised unit: a
    designator and a name ("…, P Phuc Lio, Long Bien, HN" read as the ward Long Biên), or a
    designator and one number ("P.12"); "P.1204 tòa B2" (a flat) is not one. Such a reading is
    doubtful."""
    segment_start = 0
    for i in range(ward_start - 1, 0, -1):
        if toks[i].after_comma:
            segment_start = i
            break
    for designators in (WARD_DESIGNATORS, DISTRICT_DESIGNATORS):
        for width in (2, 1):
            span = toks[segment_start : segment_start + width]
            key = tuple(t.folded for t in span)
            if key not in designators:
                continue
            spelling = DESIGNATOR_SPELLING.get(key)
            if spelling and any(t.has_marks and t.toned != sp for t, sp in zip(span, spelling, strict=True)):
                continue
            rest = toks[segment_start + width : ward_start]
            if rest and (all(not t.is_number for t in rest) or (len(rest) == 1 and rest[0].is_number)):
                return True
    return False


def _method(*matches: _Match | None) -> str:
    methods = {m.method for m in matches if m is not None}
    for m in ("fuzzy", "folded"):
        if m in methods:
            return m
    return "exact"


def _strip_country(toks: list[Token]) -> list[Token]:
    for suffix in _COUNTRY_SUFFIXES:
        n = len(suffix)
        if len(toks) > n and tuple(t.folded for t in toks[-n:]) == suffix:
            return toks[:-n]
    return toks


def readings(text: str, *, fuzzy: bool = True) -> tuple[list[Token], list[Reading]]:
    """All readings of ``text`` (NFC) that end in a ward, best first.

    With ``fuzzy`` a level that has no exact or folded match is matched fuzzily among the
    candidates left by the levels to its right.
    """
    idx = index()
    cat = idx.cat
    toks = _strip_country(tokens(text))
    n = len(toks)
    out: list[Reading] = []
    if n == 0:
        return toks, out

    province_options: list[_Match | None] = [None]
    province_options.extend(_match(toks, n, [idx.provinces], PROVINCE_DESIGNATORS, fuzzy=fuzzy))

    for pm in province_options:
        end = pm.start if pm is not None else n
        p_quality = pm.quality if pm is not None else 0.0
        p_type = ""
        legacy_provinces: list[tuple[str, float]] = []  # (code, penalty)
        current_province = ""
        if pm is not None:
            if pm.code.startswith("L"):
                legacy_provinces.append((pm.code[1:], 0.0))
                p_type = cat.legacy_provinces[pm.code[1:]].type
            else:
                current_province = pm.code[1:]
                p_type = cat.provinces[current_province].type
                # an old district/ward written with the new province's name
                legacy_provinces.extend((code, 0.05) for code in idx.predecessors.get(current_province, ()))
        p_bonus, p_factor = _designator_adjustment(pm, p_type)

        # Legacy three-tier reading: district then ward.
        if pm is None:
            district_scopes = [(idx.districts_all, 0.0)]
        else:
            district_scopes = [
                (idx.districts_by_province[code], penalty)
                for code, penalty in legacy_provinces
                if code in idx.districts_by_province
            ]
        for scope, penalty in district_scopes:
            for dm in _match(toks, end, [scope], DISTRICT_DESIGNATORS, fuzzy=fuzzy and pm is not None):
                district = cat.legacy_districts[dm.code]
                if pm is not None and pm.code.startswith("L") and district.province_code != pm.code[1:]:
                    continue
                d_bonus, d_factor = _designator_adjustment(dm, district.type)
                ward_scope = idx.legacy_wards_by_district.get(dm.code)
                if ward_scope is None:
                    continue
                for wm in _match(
                    toks, dm.start, [ward_scope], WARD_DESIGNATORS, fuzzy=fuzzy, foreign=DISTRICT_DESIGNATORS
                ):
                    ward = cat.legacy_wards[wm.code]
                    w_bonus, w_factor = _designator_adjustment(wm, ward.type)
                    score = (
                        _WEIGHT["province"] * p_quality
                        + _WEIGHT["district"] * dm.quality
                        + _WEIGHT["ward"] * wm.quality
                        + p_bonus
                        + d_bonus
                        + w_bonus
                        - penalty
                        + 0.002 * (n - wm.name_start)
                    )
                    confidence = (
                        (pm.quality if pm is not None else 0.9)
                        * dm.quality
                        * wm.quality
                        * p_factor
                        * d_factor
                    ) * w_factor
                    out.append(
                        _legacy_reading(cat, pm, dm, wm, score, confidence - penalty, _method(pm, dm, wm))
                    )

        if pm is None:
            continue
        # Legacy reading without the district (province and ward only).
        for code, penalty in legacy_provinces:
            province_scope = idx.legacy_wards_by_province.get(code)
            if province_scope is None:
                continue
            for wm in _match(
                toks, end, [province_scope], WARD_DESIGNATORS, fuzzy=fuzzy, foreign=DISTRICT_DESIGNATORS
            ):
                ward = cat.legacy_wards[wm.code]
                w_bonus, w_factor = _designator_adjustment(wm, ward.type)
                score = p_quality + _WEIGHT["ward"] * wm.quality + p_bonus + w_bonus - 0.1 - penalty
                score += 0.002 * (n - wm.name_start)
                confidence = pm.quality * wm.quality * 0.85 * p_factor * w_factor - penalty
                out.append(_legacy_reading(cat, pm, None, wm, score, confidence, _method(pm, wm)))

        # Current two-tier reading: province and commune-level unit.
        if current_province and current_province in idx.wards_by_province:
            scope = idx.wards_by_province[current_province]
            for wm in _match(toks, end, [scope], WARD_DESIGNATORS, fuzzy=fuzzy, foreign=DISTRICT_DESIGNATORS):
                ward = cat.wards[wm.code]
                w_bonus, w_factor = _designator_adjustment(wm, ward.type)
                score = (
                    p_quality + _WEIGHT["ward"] * wm.quality + p_bonus + w_bonus + 0.002 * (n - wm.name_start)
                )
                confidence = pm.quality * wm.quality * p_factor * w_factor
                out.append(
                    Reading(
                        form="current",
                        province=pm,
                        district=None,
                        ward=wm,
                        score=score,
                        confidence=confidence,
                        method=_method(pm, wm),
                        legacy_province_code="",
                        legacy_district_code="",
                        legacy_ward_code="",
                        ward_code=ward.code,
                        province_code=ward.province_code,
                    )
                )
    out = [
        replace(r, score=r.score - 0.2, confidence=r.confidence * 0.5)
        if _stray_designator(toks, r.ward.start)
        else r
        for r in out
    ]
    out.sort(key=lambda r: (-r.score, r.form != "current", r.legacy_ward_code, r.ward_code))
    return toks, out


def _legacy_reading(
    cat: Catalogue,
    pm: _Match | None,
    dm: _Match | None,
    wm: _Match,
    score: float,
    confidence: float,
    method: str,
) -> Reading:
    ward = cat.legacy_wards[wm.code]
    primary = cat.primary_pair(ward.code)
    if primary is not None:
        ward_code = primary.ward_code
        province_code = cat.wards[ward_code].province_code
    else:
        ward_code = ""
        successors = cat.legacy_successors.get(ward.province_code, ())
        province_code = successors[0] if len(successors) == 1 else ""
    return Reading(
        form="legacy",
        province=pm,
        district=dm,
        ward=wm,
        score=score,
        confidence=confidence,
        method=method,
        legacy_province_code=ward.province_code,
        legacy_district_code=ward.district_code,
        legacy_ward_code=ward.code,
        ward_code=ward_code,
        province_code=province_code,
    )


def _conclusive(reading: Reading) -> bool:
    """Whether a reading found without fuzzy matching can be trusted without looking further:
    a legacy reading with its district, or a current reading whose unit carries a matching
    designator ("Phường Tây Hồ, Hà Nội")."""
    if reading.form == "legacy":
        return reading.district is not None
    designated = reading.ward.designated
    return designated is not None and index().cat.wards[reading.ward_code].type in designated


def best_reading(text: str) -> tuple[list[Token], Reading | None, int]:
    """The best reading of ``text`` (NFC), and how many distinct outcomes tie with it.

    A first pass matches with tones and folded only; fuzzy matching (slower) runs only when that
    pass finds nothing conclusive.
    """
    text = nfc(text)
    toks, found = readings(text, fuzzy=False)
    if not found or not _conclusive(found[0]):
        toks, found = readings(text, fuzzy=True)
    if not found:
        return toks, None, 0
    best = found[0]
    outcomes = {(r.legacy_ward_code, r.ward_code) for r in found if abs(r.score - best.score) < 1e-9}
    return toks, best, len(outcomes)
