"""The data files: counts of Resolution 202/2025/QH15 and 1656/NQ-UBTVQH15, integrity, size."""

from __future__ import annotations

import hashlib
from collections import Counter

from dancu.blocks.adminunits.catalogue import _data_file, catalogue, read_manifest


def test_there_are_34_current_provinces_and_3321_commune_level_units() -> None:
    """Resolution 202/2025/QH15: 34 provinces; 3,321 communes, wards and special zones."""
    cat = catalogue()
    assert len(cat.provinces) == 34
    assert len(cat.wards) == 3321
    assert Counter(w.type for w in cat.wards.values()) == {"commune": 2621, "ward": 687, "special_zone": 13}


def test_hanoi_has_126_current_units_51_wards_and_75_communes() -> None:
    """Resolution 1656/NQ-UBTVQH15: Hà Nội ("01") has 126 commune-level units."""
    hanoi = [w for w in catalogue().wards.values() if w.province_code == "01"]
    assert len(hanoi) == 126
    assert Counter(w.type for w in hanoi) == {"ward": 51, "commune": 75}


def test_hanoi_had_526_legacy_wards_in_30_districts() -> None:
    cat = catalogue()
    assert len(cat.legacy_wards_by_province["01"]) == 526
    assert len(cat.legacy_districts_by_province["01"]) == 30


def test_there_were_63_legacy_provinces() -> None:
    cat = catalogue()
    assert len(cat.legacy_provinces) == 63
    assert len(cat.legacy_districts) == 696
    assert len(cat.legacy_wards) == 10051


def test_codes_have_fixed_widths_province_2_district_3_ward_5_digits() -> None:
    cat = catalogue()
    for table, width in [
        (cat.provinces, 2),
        (cat.legacy_provinces, 2),
        (cat.legacy_districts, 3),
        (cat.wards, 5),
        (cat.legacy_wards, 5),
    ]:
        assert all(len(code) == width and code.isdigit() for code in table)


def test_every_crosswalk_pair_joins_known_units_and_each_legacy_ward_has_one_primary() -> None:
    cat = catalogue()
    for legacy_code, pairs in cat.crosswalk.items():
        assert legacy_code in cat.legacy_wards
        assert all(p.ward_code in cat.wards for p in pairs)
        assert sum(p.is_primary for p in pairs) == 1
        assert len({p.ward_code for p in pairs}) == len(pairs)


def test_almost_every_legacy_ward_has_a_crosswalk_and_the_gaps_are_the_documented_28() -> None:
    cat = catalogue()
    missing = set(cat.legacy_wards) - set(cat.crosswalk)
    assert len(missing) == 28
    assert "00100" not in missing


def test_legacy_and_current_codes_are_separate_code_lists() -> None:
    """The same number may mean different units: legacy 00004 is Trúc Bạch, current 00004 Ba Đình."""
    cat = catalogue()
    assert cat.legacy_wards["00004"].full_name == "Phường Trúc Bạch"
    assert cat.wards["00004"].full_name == "Phường Ba Đình"
    assert cat.legacy_provinces["24"].name == "Bắc Giang"
    assert cat.provinces["24"].name == "Bắc Ninh"


def test_manifest_checksums_match_the_files_and_the_data_is_small() -> None:
    manifest = read_manifest()
    assert manifest["version"].startswith("vietnam-provinces-2026.9.0/")
    total = 0
    for entry in manifest["files"].values():
        payload = _data_file(entry["file"])
        assert hashlib.sha256(payload).hexdigest() == entry["sha256"]
        total += len(payload)
    assert total < 1_000_000
