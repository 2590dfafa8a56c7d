"""The administrative-unit data files, read into memory without Django or a database.

The files in ``data/`` (see ``data/PROVENANCE.md``) are the single source of the unit tables: the
loader (``dancu load_adminunits``) copies them into the database, and the resolver and the
synthetic-population generator read them directly through :func:`catalogue` (cached).

Two unit sets are kept apart, as their codes overlap with different meanings:

* current units since 01/07/2025 (Resolution 202/2025/QH15; for Hà Nội Resolution
  1656/NQ-UBTVQH15): 34 provinces and 3,321 commune-level units, two tiers;
* legacy units before 01/07/2025: 63 provinces, their districts and wards (three tiers), as printed
  on cards and stored in sector databases.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

Level = Literal["province", "district", "ward"]


@dataclass(frozen=True, slots=True)
class AdminUnit:
    """One unit of either set. ``name`` is without its type designator ("Quảng An"),
    ``full_name`` with it ("Phường Quảng An"); parent codes are "" where they do not apply."""

    code: str
    name: str
    full_name: str
    type: str
    level: Level
    legacy: bool
    province_code: str = ""
    district_code: str = ""


@dataclass(frozen=True, slots=True)
class CrosswalkPair:
    """A legacy ward (or part of it) that went into a current ward on 01/07/2025.

    ``is_partial`` is the source's "partly merged" flag for this pair; exactly one pair per legacy
    ward is ``is_primary``, chosen by the rule named in ``primary_basis`` (``sole``, ``remainder``,
    ``name`` or ``heuristic``; see ``data/extract.py``)."""

    legacy_ward_code: str
    ward_code: str
    is_partial: bool
    is_primary: bool
    primary_basis: str


@dataclass(frozen=True)
class Catalogue:
    """All unit tables of one data version, indexed by code."""

    version: str
    manifest: dict[str, Any]
    provinces: dict[str, AdminUnit]
    wards: dict[str, AdminUnit]
    legacy_provinces: dict[str, AdminUnit]
    legacy_districts: dict[str, AdminUnit]
    legacy_wards: dict[str, AdminUnit]
    crosswalk: dict[str, tuple[CrosswalkPair, ...]]
    legacy_successors: dict[str, tuple[str, ...]]
    wards_by_province: dict[str, tuple[str, ...]] = field(default_factory=dict)
    legacy_wards_by_province: dict[str, tuple[str, ...]] = field(default_factory=dict)
    legacy_wards_by_district: dict[str, tuple[str, ...]] = field(default_factory=dict)
    legacy_districts_by_province: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sources_of_ward: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def primary_pair(self, legacy_ward_code: str) -> CrosswalkPair | None:
        """The primary crosswalk pair of a legacy ward, or None when the source has none."""
        for pair in self.crosswalk.get(legacy_ward_code, ()):
            if pair.is_primary:
                return pair
        return None


def _data_file(name: str) -> bytes:
    return (resources.files("dancu.blocks.adminunits") / "data" / name).read_bytes()


def read_table(name: str) -> list[dict[str, str]]:
    """Rows of ``data/<name>.csv.gz`` as dicts (all values are strings)."""
    text = gzip.decompress(_data_file(f"{name}.csv.gz")).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def read_manifest() -> dict[str, Any]:
    """``data/manifest.json``: data version, source package and version, per-file counts."""
    manifest: dict[str, Any] = json.loads(_data_file("manifest.json").decode("utf-8"))
    return manifest


def data_version() -> str:
    """Version of the data files, e.g. ``"vietnam-provinces-2026.9.0/r1"``."""
    return str(read_manifest()["version"])


def _group(units: dict[str, AdminUnit], attr: str) -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for unit in units.values():
        grouped[getattr(unit, attr)].append(unit.code)
    return {k: tuple(sorted(v)) for k, v in grouped.items()}


@functools.cache
def catalogue() -> Catalogue:
    """Read every data file once (about 0.2 s) and keep the tables in memory."""
    manifest = read_manifest()
    provinces = {
        r["code"]: AdminUnit(r["code"], r["name"], r["full_name"], r["type"], "province", False)
        for r in read_table("provinces")
    }
    wards = {
        r["code"]: AdminUnit(
            r["code"], r["name"], r["full_name"], r["type"], "ward", False, r["province_code"]
        )
        for r in read_table("wards")
    }
    legacy_rows = read_table("legacy_provinces")
    legacy_provinces = {
        r["code"]: AdminUnit(r["code"], r["name"], r["full_name"], r["type"], "province", True)
        for r in legacy_rows
    }
    successors = {r["code"]: tuple(r["successor_codes"].split()) for r in legacy_rows}
    legacy_districts = {
        r["code"]: AdminUnit(
            r["code"], r["name"], r["full_name"], r["type"], "district", True, r["province_code"]
        )
        for r in read_table("legacy_districts")
    }
    legacy_wards = {
        r["code"]: AdminUnit(
            r["code"],
            r["name"],
            r["full_name"],
            r["type"],
            "ward",
            True,
            r["province_code"],
            r["district_code"],
        )
        for r in read_table("legacy_wards")
    }
    pairs: dict[str, list[CrosswalkPair]] = defaultdict(list)
    sources: dict[str, list[str]] = defaultdict(list)
    for r in read_table("crosswalk"):
        pair = CrosswalkPair(
            r["legacy_ward_code"],
            r["ward_code"],
            r["is_partial"] == "1",
            r["is_primary"] == "1",
            r["primary_basis"],
        )
        pairs[pair.legacy_ward_code].append(pair)
        sources[pair.ward_code].append(pair.legacy_ward_code)
    return Catalogue(
        version=str(manifest["version"]),
        manifest=manifest,
        provinces=provinces,
        wards=wards,
        legacy_provinces=legacy_provinces,
        legacy_districts=legacy_districts,
        legacy_wards=legacy_wards,
        crosswalk={k: tuple(v) for k, v in pairs.items()},
        legacy_successors=successors,
        wards_by_province=_group(wards, "province_code"),
        legacy_wards_by_province=_group(legacy_wards, "province_code"),
        legacy_wards_by_district=_group(legacy_wards, "district_code"),
        legacy_districts_by_province=_group(legacy_districts, "province_code"),
        sources_of_ward={k: tuple(sorted(v)) for k, v in sources.items()},
    )
