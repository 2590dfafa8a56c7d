"""Look-ups used by the registry and the synthetic-population generator (no database needed:
these tests have no django_db mark, so any database access would fail them)."""

from __future__ import annotations

import pytest

from dancu.blocks.adminunits import services
from dancu.errors import NotFound


def test_labels_read_as_printed_on_cards_and_in_current_units() -> None:
    assert services.ward_label("00103") == "Phường Tây Hồ, Thành phố Hà Nội"
    assert services.legacy_ward_label("00100") == "Phường Quảng An, Quận Tây Hồ, Thành phố Hà Nội"
    assert services.legacy_district_label("003") == "Quận Tây Hồ, Thành phố Hà Nội"


def test_the_province_of_a_current_ward() -> None:
    assert services.province_of_ward("00103") == "01"
    assert services.province_of_ward("27142") == "79"


def test_the_crosswalk_lists_the_primary_current_ward_first() -> None:
    assert services.crosswalk("00100") == ["00103", "00097"]  # Quảng An: split
    assert services.crosswalk("00001") == ["00097"]  # Phúc Xá: wholly into Hồng Hà
    assert services.crosswalk("27379") == []  # Phường 1, Quận 10 (HCM): not in the source table


def test_the_sources_of_a_current_ward_are_the_legacy_wards_merged_into_it() -> None:
    assert "00100" in services.legacy_sources("00103")


def test_wards_of_a_province_in_either_unit_set() -> None:
    assert len(services.wards_of_province("01")) == 126
    assert len(services.wards_of_province("01", legacy=True)) == 526
    assert services.legacy_wards_of_province("01") == services.wards_of_province("01", legacy=True)
    assert len(services.legacy_districts_of_province("01")) == 30
    assert len(services.provinces()) == 34
    assert len(services.provinces(legacy=True)) == 63


@pytest.mark.parametrize(
    "call",
    [
        lambda: services.ward_label("99999"),
        lambda: services.legacy_ward_label("99999"),
        lambda: services.province_of_ward("99999"),
        lambda: services.crosswalk("99999"),
        lambda: services.wards_of_province("99"),
    ],
)
def test_unknown_codes_are_not_found(call: object) -> None:
    with pytest.raises(NotFound):
        call()  # type: ignore[operator]


def test_the_generator_table_of_hanoi_has_one_row_per_legacy_ward_with_its_current_ward() -> None:
    rows = services.hanoi_or_province_ward_table("01")
    assert len(rows) == 526
    quang_an = next(r for r in rows if r.legacy_ward_code == "00100")
    assert quang_an.legacy_ward_name == "Phường Quảng An"
    assert quang_an.legacy_district_name == "Quận Tây Hồ"
    assert quang_an.legacy_province_name == "Thành phố Hà Nội"
    assert (quang_an.ward_code, quang_an.ward_name) == ("00103", "Phường Tây Hồ")
    assert (quang_an.province_code, quang_an.province_name) == ("01", "Thành phố Hà Nội")
    assert {r.ward_code for r in rows} <= {w.code for w in services.wards_of_province("01")}


def test_the_generator_table_can_list_every_crosswalk_pair() -> None:
    rows = services.hanoi_or_province_ward_table("01", primary_only=False)
    assert len(rows) > 526
    assert sum(r.is_primary for r in rows) == 526
    assert len({r.ward_code for r in rows}) == 126


def test_a_current_province_table_gathers_the_legacy_wards_of_its_predecessors() -> None:
    """Bắc Ninh (current 24) = legacy Bắc Giang (24) + Bắc Ninh (27)."""
    legacy_provinces = {r.legacy_province_code for r in services.province_ward_table("24")}
    assert legacy_provinces == {"24", "27"}
    assert {r.legacy_province_code for r in services.province_ward_table("27", legacy=True)} == {"27"}
