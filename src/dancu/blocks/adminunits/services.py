"""Services of the administrative-units block.

* Current units since 01/07/2025: Resolution 202/2025/QH15 of the National Assembly on the
  arrangement of provincial-level units (63 → 34) and the abolition of the district tier; the
  commune-level arrangements of the Standing Committee, for Hà Nội Resolution
  1656/NQ-UBTVQH15 (526 → 126 units: 51 wards, 75 communes).
* Legacy units before 01/07/2025 (three tiers), as printed on existing cards, which stay valid
  (Law on Identification 2023), and in sector databases.
* The ward-level crosswalk between the two, from the statistics office's conversion table.

Everything here reads the versioned data files in memory (:mod:`.catalogue`) and needs no
database, so that the synthetic-population generator can run without one; the database tables
(:mod:`.models`, filled by :func:`ensure_loaded`) hold the same data for foreign keys, SQL and
the admin.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from dancu.blocks.adminunits.catalogue import AdminUnit, catalogue, data_version
from dancu.blocks.adminunits.resolver import best_reading
from dancu.errors import DomainValidationError, NotFound

MAX_ADDRESS_LENGTH = 500

# How much the crosswalk step is trusted, by the rule that chose the current ward (see
# data/extract.py): a split legacy ward without a sourced primary is a guess.
CROSSWALK_CONFIDENCE = {
    "current": 1.0,
    "sole": 1.0,
    "remainder": 1.0,
    "name": 0.9,
    "heuristic": 0.6,
    "none": 0.8,
}

__all__ = [
    "MAX_ADDRESS_LENGTH",
    "AdminUnit",
    "ResolvedAddress",
    "WardRow",
    "crosswalk",
    "data_version",
    "ensure_loaded",
    "hanoi_or_province_ward_table",
    "legacy_district_label",
    "legacy_districts_of_province",
    "legacy_sources",
    "legacy_ward_label",
    "legacy_wards_of_province",
    "province",
    "province_of_ward",
    "province_ward_table",
    "provinces",
    "resolve_address",
    "resolve_address_or_error",
    "ward_label",
    "wards_of_province",
]


@dataclass(frozen=True)
class ResolvedAddress:
    """An address resolved to administrative units.

    * ``text`` — the input, NFC-normalised (``Ð``→``Đ``), runs of white space collapsed;
    * ``street`` — what comes before the ward (house number, lane, street), may be "";
    * ``legacy_*_code`` — the units before 01/07/2025 named in the text ("" when the text is
      written in current units);
    * ``ward_code``, ``province_code`` — the current units (Resolution 202/2025/QH15); for a legacy
      ward split across several current wards, the primary one (all are in ``ward_candidates``,
      the rule is in ``crosswalk_basis``); "" when the legacy ward has no crosswalk row;
    * ``confidence`` — 0..1, the text match (tones, folding, typos, ties) times the certainty of
      the crosswalk step (a heuristic primary counts 0.6);
    * ``method`` — the weakest matching step: ``exact`` (with tones), ``folded`` (accent-
      insensitive) or ``fuzzy`` (typos);
    * ``form`` — ``legacy`` (three tiers, district named) or ``current`` (two tiers).
    """

    text: str
    street: str
    legacy_ward_code: str
    legacy_district_code: str
    legacy_province_code: str
    ward_code: str
    province_code: str
    confidence: float
    method: str
    current_label: str
    legacy_label: str = ""
    form: str = "legacy"
    crosswalk_basis: str = ""
    ward_candidates: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ward_candidates"] = list(self.ward_candidates)
        return data


def _validated_text(text: object, field: str) -> str:
    if not isinstance(text, str):
        raise DomainValidationError.single(field, "type", "must be text")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise DomainValidationError.single(field, "unicode", "contains invalid Unicode (a lone surrogate)")
    if len(text) > 4 * MAX_ADDRESS_LENGTH:
        raise DomainValidationError.single(
            field, "length", f"must be at most {MAX_ADDRESS_LENGTH} characters"
        )
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text):
        raise DomainValidationError.single(field, "characters", "must not contain control characters")
    normalised = " ".join(
        unicodedata.normalize("NFC", text).replace("\u00d0", "\u0110").replace("\u00f0", "\u0111").split()
    )
    if len(normalised) > MAX_ADDRESS_LENGTH:
        raise DomainValidationError.single(
            field, "length", f"must be at most {MAX_ADDRESS_LENGTH} characters"
        )
    return normalised


def resolve_address(text: str) -> ResolvedAddress | None:
    """Resolve a free-text address to its legacy ward and its current ward; None if nothing resolves.

    Accepts the legacy three-tier form as printed on cards issued before 01/07/2025
    ("Số 12 ngõ 34, Phường Quảng An, Quận Tây Hồ, Hà Nội") — with or without diacritics, either
    tone-placement style (hoà/hòa), any case, extra spaces or commas, abbreviated designators
    (P., Q., X., H., TX, TT, TP, "P12", "Q3"), province as "Thành phố Hà Nội" / "TP Hà Nội" /
    "Hà Nội" / "HN", a few typos — and maps the legacy ward through the crosswalk to the current
    ward (Resolution 202/2025/QH15; Hà Nội: Resolution 1656/NQ-UBTVQH15). Also accepts the
    current two-tier form ("Phường Tây Hồ, Thành phố Hà Nội"); legacy codes are then "".

    Raises :class:`~dancu.errors.DomainValidationError` (field ``address``) for text that is not a
    string, contains a lone surrogate or control characters, or is longer than 500 characters.
    """
    return _resolve(text, "address")


def _resolve(text: object, field: str) -> ResolvedAddress | None:
    normalised = _validated_text(text, field)
    if not normalised:
        return None
    toks, reading, ties = best_reading(normalised)
    if reading is None:
        return None
    cat = catalogue()
    street_end = toks[reading.ward.start].start
    street = normalised[:street_end].rstrip(" ,;:.-–—/\\|").strip()
    if reading.form == "current":
        basis = "current"
        candidates: tuple[str, ...] = (reading.ward_code,)
        legacy_label = ""
    else:
        pairs = cat.crosswalk.get(reading.legacy_ward_code, ())
        primary = next((p for p in pairs if p.is_primary), None)
        basis = primary.primary_basis if primary is not None else "none"
        candidates = tuple(p.ward_code for p in sorted(pairs, key=lambda p: (not p.is_primary, p.ward_code)))
        legacy_label = legacy_ward_label(reading.legacy_ward_code)
    confidence = reading.confidence * CROSSWALK_CONFIDENCE.get(basis, 0.6) / max(ties, 1)
    return ResolvedAddress(
        text=normalised,
        street=street,
        legacy_ward_code=reading.legacy_ward_code,
        legacy_district_code=reading.legacy_district_code,
        legacy_province_code=reading.legacy_province_code,
        ward_code=reading.ward_code,
        province_code=reading.province_code,
        confidence=round(min(max(confidence, 0.0), 1.0), 3),
        method=reading.method,
        current_label=ward_label(reading.ward_code) if reading.ward_code else "",
        legacy_label=legacy_label,
        form=reading.form,
        crosswalk_basis=basis,
        ward_candidates=candidates,
    )


def resolve_address_or_error(text: str, field: str = "address") -> ResolvedAddress:
    """Like :func:`resolve_address`, but an address that resolves to no unit is an error.

    Raises ``DomainValidationError.single(field, "unresolved", ...)``; invalid text raises as in
    :func:`resolve_address`, under the given field name.
    """
    resolved = _resolve(text, field)
    if resolved is None:
        raise DomainValidationError.single(
            field,
            "unresolved",
            "the address resolves to no administrative unit (name the ward/commune and the "
            "province, and for an address before 01/07/2025 the district)",
        )
    return resolved


# --------------------------------------------------------------------------- look-ups


def provinces(legacy: bool = False) -> list[AdminUnit]:
    """The 34 current provinces (Resolution 202/2025/QH15) or, with ``legacy``, the 63 before."""
    cat = catalogue()
    table = cat.legacy_provinces if legacy else cat.provinces
    return [table[c] for c in sorted(table)]


def province(code: str, legacy: bool = False) -> AdminUnit:
    """One province by its 2-digit code (current, or legacy with ``legacy``); NotFound if none."""
    cat = catalogue()
    table = cat.legacy_provinces if legacy else cat.provinces
    try:
        return table[code]
    except KeyError:
        raise NotFound(f"no {'legacy ' if legacy else ''}province with code {code!r}", field="code") from None


def wards_of_province(province_code: str, legacy: bool = False) -> list[AdminUnit]:
    """Commune-level units of a province, by code.

    Current (default): the units since 01/07/2025 of a current province (Hà Nội "01": 126, per
    Resolution 1656/NQ-UBTVQH15). With ``legacy``: the wards before 01/07/2025 of a legacy province
    (each with its ``district_code``). Raises NotFound for an unknown province code.
    """
    cat = catalogue()
    province(province_code, legacy=legacy)
    if legacy:
        return [cat.legacy_wards[c] for c in cat.legacy_wards_by_province.get(province_code, ())]
    return [cat.wards[c] for c in cat.wards_by_province.get(province_code, ())]


def legacy_wards_of_province(code: str) -> list[AdminUnit]:
    """The wards before 01/07/2025 of a legacy province (``wards_of_province(code, legacy=True)``)."""
    return wards_of_province(code, legacy=True)


def legacy_districts_of_province(code: str) -> list[AdminUnit]:
    """The districts before 01/07/2025 of a legacy province (abolished by Resolution 202/2025/QH15)."""
    cat = catalogue()
    province(code, legacy=True)
    return [cat.legacy_districts[c] for c in cat.legacy_districts_by_province.get(code, ())]


def crosswalk(legacy_ward_code: str) -> list[str]:
    """Current ward codes that a legacy ward went into on 01/07/2025, the primary one first.

    Empty for the few legacy wards the source's conversion table does not list (see
    ``data/PROVENANCE.md``); raises NotFound for an unknown legacy ward code.
    """
    cat = catalogue()
    if legacy_ward_code not in cat.legacy_wards:
        raise NotFound(f"no legacy ward with code {legacy_ward_code!r}", field="legacy_ward_code")
    pairs = cat.crosswalk.get(legacy_ward_code, ())
    return [p.ward_code for p in sorted(pairs, key=lambda p: (not p.is_primary, p.ward_code))]


def legacy_sources(ward_code: str) -> list[str]:
    """Legacy ward codes (wholly or partly) merged into a current ward on 01/07/2025."""
    cat = catalogue()
    if ward_code not in cat.wards:
        raise NotFound(f"no ward with code {ward_code!r}", field="ward_code")
    return list(cat.sources_of_ward.get(ward_code, ()))


def ward_label(code: str) -> str:
    """Full label of a current ward: ``"Phường Tây Hồ, Thành phố Hà Nội"``."""
    cat = catalogue()
    ward = cat.wards.get(code)
    if ward is None:
        raise NotFound(f"no ward with code {code!r}", field="ward_code")
    return f"{ward.full_name}, {cat.provinces[ward.province_code].full_name}"


def legacy_ward_label(code: str) -> str:
    """Full label of a legacy ward as printed on cards issued before 01/07/2025:
    ``"Phường Quảng An, Quận Tây Hồ, Thành phố Hà Nội"``."""
    cat = catalogue()
    ward = cat.legacy_wards.get(code)
    if ward is None:
        raise NotFound(f"no legacy ward with code {code!r}", field="legacy_ward_code")
    district = cat.legacy_districts[ward.district_code]
    return f"{ward.full_name}, {district.full_name}, {cat.legacy_provinces[ward.province_code].full_name}"


def legacy_district_label(code: str) -> str:
    """Full label of a legacy district: ``"Quận Tây Hồ, Thành phố Hà Nội"``."""
    cat = catalogue()
    district = cat.legacy_districts.get(code)
    if district is None:
        raise NotFound(f"no legacy district with code {code!r}", field="legacy_district_code")
    return f"{district.full_name}, {cat.legacy_provinces[district.province_code].full_name}"


def province_of_ward(code: str) -> str:
    """The current province code of a current ward code (``"00103"`` → ``"01"``)."""
    ward = catalogue().wards.get(code)
    if ward is None:
        raise NotFound(f"no ward with code {code!r}", field="ward_code")
    return ward.province_code


# --------------------------------------------------------------------------- generator table


@dataclass(frozen=True, slots=True)
class WardRow:
    """A legacy ward with its district and province, and the current ward it went into."""

    legacy_ward_code: str
    legacy_ward_name: str  # full name, "Phường Quảng An"
    legacy_district_name: str  # "Quận Tây Hồ"
    legacy_province_name: str  # "Thành phố Hà Nội"
    ward_code: str
    ward_name: str  # "Phường Tây Hồ"
    province_code: str
    province_name: str  # "Thành phố Hà Nội"
    legacy_district_code: str = ""
    legacy_province_code: str = ""
    is_primary: bool = True
    primary_basis: str = ""


def province_ward_table(
    province_code: str = "01", *, legacy: bool = False, primary_only: bool = True
) -> list[WardRow]:
    """Legacy wards of a province with their district and current ward, straight from the data
    files (no database), sorted by legacy ward code.

    ``province_code`` is a current province code (all legacy wards whose current ward lies in it),
    or with ``legacy`` a legacy province code. By default one row per legacy ward (its primary
    current ward); with ``primary_only=False`` one row per crosswalk pair. Legacy wards without a
    crosswalk row are left out. For Hà Nội "01" (both sets) the current wards are the 126 units of
    Resolution 1656/NQ-UBTVQH15.
    """
    cat = catalogue()
    province(province_code, legacy=legacy)
    rows: list[WardRow] = []
    for legacy_code in sorted(cat.crosswalk):
        old = cat.legacy_wards[legacy_code]
        if legacy and old.province_code != province_code:
            continue
        for pair in cat.crosswalk[legacy_code]:
            if primary_only and not pair.is_primary:
                continue
            new = cat.wards[pair.ward_code]
            if not legacy and new.province_code != province_code:
                continue
            rows.append(
                WardRow(
                    legacy_ward_code=old.code,
                    legacy_ward_name=old.full_name,
                    legacy_district_name=cat.legacy_districts[old.district_code].full_name,
                    legacy_province_name=cat.legacy_provinces[old.province_code].full_name,
                    ward_code=new.code,
                    ward_name=new.full_name,
                    province_code=new.province_code,
                    province_name=cat.provinces[new.province_code].full_name,
                    legacy_district_code=old.district_code,
                    legacy_province_code=old.province_code,
                    is_primary=pair.is_primary,
                    primary_basis=pair.primary_basis,
                )
            )
    return rows


def hanoi_or_province_ward_table(province_code: str = "01", *, primary_only: bool = True) -> list[WardRow]:
    """The ward table for the synthetic-population generator (Hà Nội by default); see
    :func:`province_ward_table`. Reads the data files only, no database."""
    return province_ward_table(province_code, primary_only=primary_only)


# --------------------------------------------------------------------------- database


def ensure_loaded(*, force: bool = False) -> bool:
    """Load the data files into the database tables unless that data version is already there.

    One transaction, bulk inserts; returns True when it loaded, False when the stored version
    already equals the files' version (a repeat call is a single query).
    """
    from dancu.blocks.adminunits.loader import load

    return load(force=force)
