"""The linkage normalisers as specifications: names (domain-vn §7), dates with partial precision
and swapped day/month, ID numbers (domain-vn §1) with typing slips repaired, addresses through the
2025 crosswalk (domain-vn §6)."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.blocks.linkage.normalise import (
    normalise_address,
    normalise_id,
    normalise_name,
    parse_partial_date,
    stripped,
    with_tones,
)
from dancu.errors import DomainValidationError

VIETNAMESE = st.text(
    alphabet=st.sampled_from(
        "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ ĐÐ-'"
    ),
    max_size=40,
)


# --------------------------------------------------------------------------- names
def test_a_name_is_split_family_middle_given_in_three_forms() -> None:
    n = normalise_name("  Nguyễn   Thị  Hoà ")
    assert (n.family, n.middle, n.given) == ("nguyen", "thi", "hoa")
    assert n.toned == "nguyễn thị hòa"  # one tone placement: "hoà" and "hòa" are one name
    assert n.folded == "nguyen thi hoa"
    assert n.sex_hint == "F"
    assert normalise_name("Trần Văn Minh").sex_hint == "M"


def test_huynh_and_hoang_vo_and_vu_share_a_surname_key() -> None:
    assert normalise_name("Huỳnh Văn An").family_key == normalise_name("Hoàng Văn An").family_key
    assert normalise_name("Võ Thị Lan").family_key == normalise_name("VU THI LAN").family_key
    assert normalise_name("Huỳnh Văn An").family != normalise_name("Hoàng Văn An").family


def test_eth_is_read_as_d_with_stroke_and_d_is_stripped_explicitly() -> None:
    assert with_tones("\u00d0ào") == "đào"  # Icelandic eth typed for Đ
    assert stripped("Đặng Đình Đức") == "dang dinh duc"


@given(VIETNAMESE)
def test_forms_are_idempotent_and_nfc(text: str) -> None:
    toned = with_tones(text)
    assert with_tones(toned) == toned
    assert unicodedata.is_normalized("NFC", toned)
    assert stripped(stripped(text)) == stripped(text)
    assert stripped(text).isascii() or not stripped(text)


@given(VIETNAMESE)
def test_case_spacing_and_tone_style_do_not_change_the_compared_forms(text: str) -> None:
    n = normalise_name(text)
    m = normalise_name("  " + text.upper().replace("oà", "òa") + " ")
    assert (n.folded, n.family_key) == (m.folded, m.family_key)


# --------------------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("text", "iso", "precision"),
    [
        ("02/03/1985", "1985-03-02", "day"),
        ("2.3.1985", "1985-03-02", "day"),
        ("1985-03-02", "1985-03-02", "day"),
        ("1985-03-02 00:00:00", "1985-03-02", "day"),
        ("03/1990", "1990-03", "month"),
        ("1990", "1990", "year"),
        ("05/25/1990", "1990-05-25", "day"),  # month first: impossible as dd/mm, read swapped
    ],
)
def test_dates_keep_their_precision(text: str, iso: str, precision: str) -> None:
    d = parse_partial_date(text)
    assert d is not None and d.iso == iso and d.precision == precision


def test_an_ambiguous_day_and_month_keeps_the_swapped_reading() -> None:
    d = parse_partial_date("02/03/1985")
    assert d is not None and d.swapped == date(1985, 2, 3)
    assert parse_partial_date("13/03/1985").swapped is None  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["31/02/1990", "hôm qua", "12/1850", "00/2000"])
def test_a_date_that_is_not_one_names_the_field_and_rule(text: str) -> None:
    with pytest.raises(DomainValidationError) as exc:
        parse_partial_date(text)
    assert exc.value.problems[0].field == "date_of_birth" and exc.value.problems[0].rule == "date"


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)))
def test_any_date_written_dd_mm_yyyy_reads_back(d: date) -> None:
    parsed = parse_partial_date(d.strftime("%d/%m/%Y"))
    assert parsed is not None and parsed.iso == d.isoformat()


# --------------------------------------------------------------------------- ID numbers
def test_a_personal_number_gives_birth_year_and_sex() -> None:
    n = normalise_id("001085012345")
    assert (n.kind, n.birth_year, n.sex, n.repaired) == ("id12", 1985, "M", False)
    assert normalise_id("079303000001").birth_year == 2003


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("OO1 085 O12345", "001085012345"),
        ("001.085.0l2345", "001085012345"),
        (79303000001.0, "079303000001"),  # a spreadsheet number that lost its leading zero
    ],
)
def test_typing_slips_are_repaired(typed: object, number: str) -> None:
    n = normalise_id(typed)
    assert (n.number, n.kind, n.repaired) == (number, "id12", True)


def test_nine_digits_are_an_old_cmnd_and_an_unknown_place_code_too() -> None:
    assert normalise_id("012345678").kind == "cmnd"
    assert normalise_id("12345678").number == "012345678"  # leading zero lost in a spreadsheet
    assert normalise_id("999085012345").kind == "cmnd"  # 999 is no province: a 12-digit CMND
    assert normalise_id("").kind == "empty"
    assert normalise_id("12-34").kind == "invalid"


@given(st.text(max_size=20))
def test_any_id_cell_is_classified_without_error(text: str) -> None:
    n = normalise_id(text)
    assert n.kind in ("id12", "cmnd", "invalid", "empty")
    if n.kind in ("id12", "cmnd"):
        assert n.number.isdigit() and len(n.number) in (9, 12)


# --------------------------------------------------------------------------- addresses
def test_an_old_address_resolves_to_the_current_ward_through_the_crosswalk() -> None:
    old = normalise_address("Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội")
    folded = normalise_address("so 5 ngo 12, p. quang an, q. tay ho, ha noi")
    assert old.ward_code == folded.ward_code == "00103"  # Phường Tây Hồ since 01/07/2025
    assert old.legacy_ward_code == "00100"
    assert old.street == folded.street == "so 5 ngo 12"


def test_an_unresolvable_address_gives_no_ward() -> None:
    assert normalise_address("không rõ").ward_code == ""
    assert normalise_address("").ward_code == ""
