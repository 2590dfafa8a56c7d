"""resolve_address: legacy addresses as printed on cards → legacy ward → current ward."""

from __future__ import annotations

import unicodedata

import pytest

from dancu.blocks.adminunits.services import (
    MAX_ADDRESS_LENGTH,
    ResolvedAddress,
    resolve_address,
    resolve_address_or_error,
)
from dancu.errors import DomainValidationError

QUANG_AN = "00100"  # Phường Quảng An, Quận Tây Hồ (legacy)
TAY_HO = "00103"  # Phường Tây Hồ (current, Resolution 1656/NQ-UBTVQH15)
HONG_HA = "00097"  # Phường Hồng Hà (current)


def resolved(text: str) -> ResolvedAddress:
    result = resolve_address(text)
    assert result is not None, text
    return result


def test_a_hanoi_card_address_resolves_to_the_legacy_ward_and_through_the_crosswalk_to_the_current_one() -> (
    None
):
    """Quảng An was split between Tây Hồ and Hồng Hà; the source names no primary part, so the
    resolver picks Tây Hồ (named after the legacy district) and says it is a heuristic guess."""
    r = resolved("Số 12 ngõ 34, Phường Quảng An, Quận Tây Hồ, Hà Nội")
    assert (r.legacy_ward_code, r.legacy_district_code, r.legacy_province_code) == (QUANG_AN, "003", "01")
    assert (r.ward_code, r.province_code) == (TAY_HO, "01")
    assert r.street == "Số 12 ngõ 34"
    assert r.current_label == "Phường Tây Hồ, Thành phố Hà Nội"
    assert r.legacy_label == "Phường Quảng An, Quận Tây Hồ, Thành phố Hà Nội"
    assert r.method == "exact"
    assert r.form == "legacy"
    assert r.crosswalk_basis == "heuristic"
    assert r.ward_candidates == (TAY_HO, HONG_HA)
    assert 0 < r.confidence < 1


def test_a_legacy_ward_merged_whole_resolves_with_full_confidence() -> None:
    r = resolved("Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội")
    assert (r.legacy_ward_code, r.ward_code, r.crosswalk_basis) == ("00001", HONG_HA, "sole")
    assert r.confidence == 1.0


@pytest.mark.parametrize(
    "text",
    [
        "so 12 ngo 34, phuong quang an, quan tay ho, ha noi",
        "SỐ 12 NGÕ 34, PHƯỜNG QUẢNG AN, QUẬN TÂY HỒ, HÀ NỘI",
        "Số 12 ngõ 34,P.Quảng An,Q.Tây Hồ,TP.Hà Nội",
        "Số 12 ngõ 34   P Quảng An   Q Tây Hồ   HN",
        "số 12 ngõ 34 , , p. quảng an , q. tây hồ , tp hà nội , việt nam",
        "Quảng An, Tây Hồ, Thành phố Hà Nội",
        "Phường Quảng An, Quận Tây Hồ",
        unicodedata.normalize("NFD", "Phường Quảng An, Quận Tây Hồ, Hà Nội"),
    ],
)
def test_variants_of_the_same_card_address_resolve_to_the_same_ward(text: str) -> None:
    r = resolved(text)
    assert (r.legacy_ward_code, r.ward_code) == (QUANG_AN, TAY_HO)


def test_an_address_without_diacritics_is_matched_accent_insensitively() -> None:
    r = resolved("so 12 ngo 34 p quang an q tay ho hn")
    assert r.legacy_ward_code == QUANG_AN
    assert r.method == "folded"
    assert r.street == "so 12 ngo 34"


def test_both_tone_placement_styles_resolve_alike() -> None:
    a = resolved("Phường Thuỵ Khuê, Quận Tây Hồ, Hà Nội")
    b = resolved("Phường Thụy Khuê, Quận Tây Hồ, Hà Nội")
    assert a.legacy_ward_code == b.legacy_ward_code == "00112"
    assert a.method == b.method == "exact"


def test_an_address_in_current_units_resolves_to_the_current_ward_with_no_legacy_codes() -> None:
    r = resolved("Phường Tây Hồ, Thành phố Hà Nội")
    assert (r.ward_code, r.province_code) == (TAY_HO, "01")
    assert (r.legacy_ward_code, r.legacy_district_code, r.legacy_province_code) == ("", "", "")
    assert r.form == "current"
    assert r.confidence == 1.0


def test_a_current_ward_named_like_a_legacy_district_is_read_as_current() -> None:
    """ "Phường Ba Đình, Hà Nội" is the new ward, not the abolished Quận Ba Đình."""
    r = resolved("Phường Ba Đình, Hà Nội")
    assert (r.form, r.ward_code) == ("current", "00004")


def test_tones_decide_between_names_that_differ_only_by_tone() -> None:
    """Thị xã Bình Minh had both Xã Đông Thành and Xã Đông Thạnh."""
    thanh = resolved("Xã Đông Thành, Thị xã Bình Minh, Tỉnh Vĩnh Long")
    thanh_dot = resolved("Xã Đông Thạnh, Thị xã Bình Minh, Tỉnh Vĩnh Long")
    assert thanh.legacy_ward_code == "29818"
    assert thanh_dot.legacy_ward_code == "29809"
    assert thanh.confidence == thanh_dot.confidence == 1.0


def test_without_tones_such_names_are_ambiguous_and_the_confidence_says_so() -> None:
    r = resolved("Xa Dong Thanh, TX Binh Minh, Vinh Long")
    assert r.legacy_ward_code in {"29818", "29809"}
    assert r.ward_code == "29812"  # both went into Phường Đông Thành
    assert r.confidence < 0.5


def test_a_partly_accented_name_follows_the_tones_that_are_written() -> None:
    assert resolved("Xa Dong Thạnh, TX Binh Minh, Vinh Long").legacy_ward_code == "29809"


def test_numbered_wards_and_districts_need_their_designator() -> None:
    r = resolved("P12, Q3, TPHCM")
    assert (r.legacy_ward_code, r.legacy_district_code, r.legacy_province_code) == ("27130", "770", "79")
    assert resolved("Phường 12, Quận 3, Thành phố Hồ Chí Minh").legacy_ward_code == "27130"
    assert resolve_address("12, 3, Hồ Chí Minh") is None


def test_a_designator_disambiguates_a_township_from_a_commune_of_the_same_name() -> None:
    """Huyện Gia Lâm had both Thị trấn Yên Viên and Xã Yên Viên."""
    township = resolved("TT Yên Viên, H. Gia Lâm, TP Hà Nội")
    commune = resolved("Xã Yên Viên, Huyện Gia Lâm, Hà Nội")
    assert township.legacy_ward_code != commune.legacy_ward_code
    assert township.confidence == commune.confidence == 1.0


def test_a_name_that_looks_like_a_designator_is_still_a_name() -> None:
    """ "Sơn Tịnh" ends in Tịnh, which folds like the designator Tỉnh."""
    assert resolved("Thị trấn Tịnh Hà, huyện Sơn Tịnh, Quảng Ngãi").legacy_ward_code == "21220"
    assert resolved("thi tran tinh ha, huyen son tinh, quang ngai").legacy_ward_code == "21220"


@pytest.mark.parametrize(
    "text",
    [
        "Phuong Quang Anh, Quan Tay Ho, Ha Noi",
        "Phường Quảng An, Quận Tây Hồo, Hà Nội",
        "P. Quảng An, Q. Tây Hồ, Hà Nộii",
    ],
)
def test_a_typo_is_matched_fuzzily_within_the_narrowed_candidates(text: str) -> None:
    r = resolved(text)
    assert r.legacy_ward_code == QUANG_AN
    assert r.method == "fuzzy"
    assert r.confidence < 0.9


def test_a_legacy_ward_of_another_province_maps_to_its_new_province() -> None:
    """Bắc Giang (legacy 24) merged into Bắc Ninh (current 24): same number, different province."""
    r = resolved("Phường Thọ Xương, Thành phố Bắc Giang, Tỉnh Bắc Giang")
    assert (r.legacy_ward_code, r.legacy_district_code, r.legacy_province_code) == ("07201", "213", "24")
    assert (r.ward_code, r.province_code) == ("07210", "24")
    assert r.current_label == "Phường Bắc Giang, Thành phố Bắc Ninh"


@pytest.mark.parametrize(
    "text", ["", "   ", "khong co gi het", "Số 12 ngõ 34", "Hà Nội", "Quận Tây Hồ, Hà Nội"]
)
def test_text_that_names_no_ward_resolves_to_none(text: str) -> None:
    assert resolve_address(text) is None


def test_resolve_or_error_reports_an_unresolved_address_on_the_given_field() -> None:
    with pytest.raises(DomainValidationError) as exc:
        resolve_address_or_error("khong co gi het", field="permanent_address_text")
    assert exc.value.as_details()[0]["field"] == "permanent_address_text"
    assert exc.value.as_details()[0]["rule"] == "unresolved"
    assert "resolves to no administrative unit" in exc.value.as_details()[0]["message"]


def test_resolve_or_error_returns_what_resolve_returns() -> None:
    text = "Phường Quảng An, Quận Tây Hồ, Hà Nội"
    assert resolve_address_or_error(text) == resolve_address(text)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (None, "type"),
        (12, "type"),
        (b"Phuong Quang An", "type"),
        ("Phường \ud800 Quảng An", "unicode"),
        ("x" * (MAX_ADDRESS_LENGTH + 1), "length"),
        ("Phường Quảng An\x00, Quận Tây Hồ", "characters"),
    ],
)
def test_invalid_text_is_a_domain_validation_error_on_the_address_field(value: object, rule: str) -> None:
    with pytest.raises(DomainValidationError) as exc:
        resolve_address(value)  # type: ignore[arg-type]
    assert [(p.field, p.rule) for p in exc.value.problems] == [("address", rule)]


def test_the_text_is_returned_nfc_normalised_with_single_spaces() -> None:
    r = resolved(unicodedata.normalize("NFD", "  \u00d0ội 6,   Phường Quảng An,  Quận Tây Hồ,\tHà Nội "))
    assert r.text == "Đội 6, Phường Quảng An, Quận Tây Hồ, Hà Nội"
    assert r.street == "Đội 6"
    assert unicodedata.is_normalized("NFC", r.text)
    assert "  " not in r.text


def test_units_are_not_read_across_commas() -> None:
    """ "…Tây Hồ, Đống Hà Nội" is not Hà Đông: a name does not straddle a comma."""
    assert resolve_address("Số 12, Phường Quảng An, Quận Tây Hồ, Đống Hà Nội") is None


def test_exactly_500_characters_are_accepted() -> None:
    text = ("Số 12 " * 100)[: MAX_ADDRESS_LENGTH - 40].rstrip() + ", Phường Quảng An, Quận Tây Hồ, Hà Nội"
    text = text.rjust(MAX_ADDRESS_LENGTH, "x")
    assert len(text) == MAX_ADDRESS_LENGTH
    assert resolved(text).legacy_ward_code == QUANG_AN
