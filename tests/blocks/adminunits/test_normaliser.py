"""Text normalisation rules of design note domain-vn §7."""

from __future__ import annotations

import unicodedata

import pytest

from dancu.blocks.adminunits.normaliser import expand_abbreviations, fold, name_key, nfc, tokens, tone_style


def test_fold_strips_tones_and_maps_d_with_stroke_explicitly() -> None:
    assert fold("Phường Đông Thạnh") == "phuong dong thanh"
    assert fold("ĐỐNG ĐA") == "dong da"


def test_eth_is_mapped_to_d_with_stroke_before_anything_else() -> None:
    assert nfc("\u00d0ống \u00d0a") == "Đống Đa"
    assert fold("\u00d0ống \u00d0a") == "dong da"


def test_decomposed_input_is_composed_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Quảng An")
    assert nfc(decomposed) == "Quảng An"


@pytest.mark.parametrize(
    ("new", "old"),
    [("Hoà Bình", "Hòa Bình"), ("Thuỵ Khuê", "Thụy Khuê"), ("khoẻ", "khỏe"), ("HOÀ", "HÒA")],
)
def test_the_two_tone_placement_styles_convert_both_ways(new: str, old: str) -> None:
    assert tone_style(new, "old") == old
    assert tone_style(old, "new") == new


@pytest.mark.parametrize("word", ["Hoàng", "thuyền", "quý", "Quỳnh", "khoái", "Nguyễn"])
def test_closed_syllables_and_qu_are_the_same_in_both_styles(word: str) -> None:
    assert tone_style(word, "old") == word
    assert tone_style(word, "new") == word


def test_name_keys_compare_equal_across_tone_styles_but_not_across_tones() -> None:
    assert name_key("Hoà Bình") == name_key("Hòa Bình")
    assert name_key("Đông Thành")[0] != name_key("Đông Thạnh")[0]
    assert name_key("Đông Thành")[1] == name_key("Đông Thạnh")[1]


def test_tokens_split_letters_from_digits_and_drop_leading_zeros() -> None:
    assert [t.folded for t in tokens("P.05, Q3,TP.HCM")] == ["p", "5", "q", "3", "tp", "hcm"]


def test_token_offsets_point_into_the_text() -> None:
    text = "Số 12, Phường Quảng An"
    toks = tokens(text)
    assert [text[t.start : t.end] for t in toks] == ["Số", "12", "Phường", "Quảng", "An"]


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("P.Quảng An, Q. Tây Hồ, TP.HN", "Phường Quảng An, Quận Tây Hồ, Thành phố Hà Nội"),
        ("P12, Q3, TPHCM", "Phường 12, Quận 3, Thành phố Hồ Chí Minh"),
        ("TT Phùng, H.Đan Phượng", "Thị trấn Phùng, Huyện Đan Phượng"),
        ("X. Vân Hòa, TX Sơn Tây", "Xã Vân Hòa, Thị xã Sơn Tây"),
    ],
)
def test_abbreviated_designators_are_spelt_out(short: str, long: str) -> None:
    assert expand_abbreviations(short) == long


def test_words_that_merely_start_like_designators_are_left_alone() -> None:
    assert expand_abbreviations("Phố Huế, Quang Trung, Hải Phòng") == "Phố Huế, Quang Trung, Hải Phòng"
