"""The machine-readable zone (ICAO Doc 9303): check digits (part 3 §4.9), TD1 ID cards (part 5),
TD3 passports (part 4), Vietnamese cards (12-digit ID number in the optional data, domain-vn §3),
and the chip access keys (BAC, part 11 §9.7.1 and Appendix D.1; PACE CAN). Pure: no database."""

from __future__ import annotations

import string
from datetime import date, timedelta
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dancu.blocks.identity.mrz import (
    MrzTD1,
    MrzTD3,
    adjust_des_parity,
    bac_key_seed,
    bac_keys,
    birth_date,
    check_digit,
    derive_key,
    expiry_date,
    mrz_information,
    mrz_name,
    name_field,
    pace_can,
    parse_mrz,
    parse_td1,
    parse_td3,
    transliterate,
    vietnamese_td1,
)
from dancu.blocks.registry.idnumber import LEGACY_PROVINCE_CODES
from dancu.errors import DomainValidationError
from tests.blocks.identity import helpers
from tests.blocks.identity.helpers import REFERENCE, id_number_of, problems_of

# ICAO 9303 part 5 (TD1) and part 4 (TD3) specimens: Anna Maria Eriksson of Utopia.
TD1_SPECIMEN = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
L1, L2, L3 = TD1_SPECIMEN
TD3_SPECIMEN = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
# … and what they say: the holder and the document, then each specimen's own fields.
ERIKSSON: dict[str, Any] = {
    "issuing_state": "UTO",
    "date_of_birth": date(1974, 8, 12),
    "sex": "F",
    "date_of_expiry": date(2012, 4, 15),
    "nationality": "UTO",
    "primary_identifier": "ERIKSSON",
    "secondary_identifier": "ANNA MARIA",
}
TD1_FIELDS = {"document_code": "I", "document_number": "D23145890"}
TD3_FIELDS = {"document_code": "P", "document_number": "L898902C3", "personal_number": "ZE184226B"}


def specimen_td1(**changes: Any) -> MrzTD1:
    """The TD1 specimen as values, with ``changes``."""
    return MrzTD1(**(ERIKSSON | TD1_FIELDS | changes))


def specimen_td3(**changes: Any) -> MrzTD3:
    """The TD3 specimen as values, with ``changes``."""
    return MrzTD3(**(ERIKSSON | TD3_FIELDS | changes))


def only_problem(exc: pytest.ExceptionInfo[DomainValidationError]) -> tuple[str, str, str]:
    assert len(exc.value.problems) == 1, exc.value.problems
    p = exc.value.problems[0]
    return p.field, p.rule, p.message


def td1(line1: str, line2: str, line3: str) -> str:
    """A TD1 text from lines whose check digits are recomputed (to test the other rules)."""
    number = line1[5:14]
    line1 = line1[:14] + check_digit(number) + line1[15:]
    line2 = line2[:6] + check_digit(line2[:6]) + line2[7:14] + check_digit(line2[8:14]) + line2[15:29]
    line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    return "\n".join((line1, line2, line3))


# --------------------------------------------------------------------------- check digits
def test_check_digits_weigh_7_3_1_with_filler_as_zero_and_letters_as_10_to_35() -> None:
    assert check_digit("") == "0"
    assert check_digit("<<<") == "0"
    assert check_digit("1") == "7"  # 1·7
    assert check_digit("11") == "0"  # 1·7 + 1·3
    assert check_digit("111") == "1"  # 7 + 3 + 1
    assert check_digit("A") == "0"  # 10·7
    assert check_digit("B") == "7"  # 11·7
    assert check_digit("<<Z") == "5"  # 35·1
    assert check_digit("1111") == "8"  # the weights repeat: 7 + 3 + 1 + 7


@pytest.mark.parametrize(
    ("data", "printed"),
    [
        ("D23145890", "7"),  # TD1 specimen document number
        ("740812", "2"),  # date of birth
        ("120415", "9"),  # date of expiry
        ("D231458907<<<<<<<<<<<<<<<" + "7408122" + "1204159" + "<<<<<<<<<<<", "6"),  # TD1 composite
        ("L898902C3", "6"),  # TD3 specimen document number
        ("ZE184226B<<<<<", "1"),  # TD3 personal number
        ("L898902C36" + "7408122" + "1204159ZE184226B<<<<<1", "0"),  # TD3 composite
    ],
)
def test_the_check_digits_printed_on_the_icao_specimens_are_reproduced(data: str, printed: str) -> None:
    assert check_digit(data) == printed


def test_a_character_outside_the_mrz_alphabet_has_no_check_digit_and_its_position_is_named() -> None:
    with pytest.raises(DomainValidationError) as exc:
        check_digit("AB-1", field="mrz.document_number")
    field, rule, message = only_problem(exc)
    assert (field, rule) == ("mrz.document_number", "characters")
    assert "'-'" in message and "position 3" in message


@given(st.text(string.digits, min_size=1, max_size=14), st.data())
def test_changing_any_single_digit_of_a_numeric_field_always_changes_its_check_digit(
    digits: str, data: st.DataObject
) -> None:
    position = data.draw(st.integers(0, len(digits) - 1))
    replacement = data.draw(st.sampled_from(string.digits).filter(lambda d: d != digits[position]))
    mutated = digits[:position] + replacement + digits[position + 1 :]
    # weights 7, 3 and 1 are invertible modulo 10, so a single-digit error is always detected
    assert check_digit(mutated) != check_digit(digits)


# --------------------------------------------------------------------------- TD1
def test_the_icao_td1_specimen_is_parsed_into_its_fields() -> None:
    mrz = parse_td1("\n".join(TD1_SPECIMEN), reference=REFERENCE)
    assert mrz == specimen_td1()  # the values stated with the specimen, at the top
    assert mrz.is_expired(REFERENCE)
    assert not mrz.is_expired(date(2012, 4, 15))


def test_the_icao_td1_specimen_is_generated_back_character_for_character() -> None:
    assert parse_td1("\n".join(TD1_SPECIMEN), reference=REFERENCE).lines == TD1_SPECIMEN


def test_a_wrong_document_number_check_digit_names_the_field_and_what_was_expected() -> None:
    line1 = TD1_SPECIMEN[0][:14] + "8" + TD1_SPECIMEN[0][15:]
    with pytest.raises(DomainValidationError) as exc:
        parse_td1("\n".join((line1, *TD1_SPECIMEN[1:])), reference=REFERENCE)
    # the composite covers line 1 too, so it fails as well
    assert problems_of(exc) == [
        ("mrz.line1.document_number", "check_digit"),
        ("mrz.line2.composite_check_digit", "check_digit"),
    ]
    message = exc.value.problems[0].message
    assert "check digit is 8" in message and "'D23145890' gives 7" in message


@pytest.mark.parametrize(
    ("position", "field"),
    [
        (6, "mrz.line2.date_of_birth"),
        (14, "mrz.line2.date_of_expiry"),
        (29, "mrz.line2.composite_check_digit"),
    ],
)
def test_each_wrong_check_digit_of_line_2_is_reported_on_its_own_field(position: int, field: str) -> None:
    line2 = TD1_SPECIMEN[1]
    wrong = str((int(line2[position]) + 1) % 10)
    mutated = line2[:position] + wrong + line2[position + 1 :]
    with pytest.raises(DomainValidationError) as exc:
        parse_td1("\n".join((TD1_SPECIMEN[0], mutated, TD1_SPECIMEN[2])), reference=REFERENCE)
    assert (field, "check_digit") in problems_of(exc)
    assert any(f"check digit is {wrong} but" in p.message for p in exc.value.problems)


def test_a_filler_where_a_check_digit_belongs_is_a_check_digit_error() -> None:
    line2 = "740812<" + TD1_SPECIMEN[1][7:]
    with pytest.raises(DomainValidationError) as exc:
        parse_td1("\n".join((TD1_SPECIMEN[0], line2, TD1_SPECIMEN[2])), reference=REFERENCE)
    assert ("mrz.line2.date_of_birth", "check_digit") in problems_of(exc)
    assert "the filler <" in exc.value.problems[0].message


def test_line_breaks_surrounding_whitespace_blank_lines_and_lower_case_are_normalised() -> None:
    expected = parse_td1("\n".join(TD1_SPECIMEN), reference=REFERENCE)
    messy = "\r\n  " + "\r\n".join(TD1_SPECIMEN).lower() + "  \r\n\r\n"
    assert parse_td1(messy, reference=REFERENCE) == expected
    assert parse_td1("\r".join(TD1_SPECIMEN), reference=REFERENCE) == expected
    assert parse_td1("\n\n".join(f"\t{line} " for line in TD1_SPECIMEN), reference=REFERENCE) == expected


def test_a_space_inside_a_line_is_rejected_with_its_line_and_position() -> None:
    line3 = "ERIKSSON<<ANNA MARIA<<<<<<<<<<"
    with pytest.raises(DomainValidationError) as exc:
        parse_td1("\n".join((*TD1_SPECIMEN[:2], line3)), reference=REFERENCE)
    field, rule, message = only_problem(exc)
    assert (field, rule) == ("mrz.line3", "characters")
    assert "position 15" in message


@pytest.mark.parametrize("character", ["É", "ß", "0\u0301", "\x00", "\ud800", "«"])
def test_characters_outside_the_mrz_alphabet_are_rejected_never_transliterated(character: str) -> None:
    line3 = ("ERIKSSON<<ANNA<MARI" + character).ljust(30, "<")[:30]
    with pytest.raises(DomainValidationError) as exc:
        parse_td1("\n".join((*TD1_SPECIMEN[:2], line3)), reference=REFERENCE)
    assert problems_of(exc)[0][1] in ("characters", "format")


@pytest.mark.parametrize(
    "text",
    [
        "\n".join(TD1_SPECIMEN[:2]),  # two lines: not a TD1
        "\n".join((*TD1_SPECIMEN[:2], TD1_SPECIMEN[2][:29])),  # a short line
        "\n".join((*TD1_SPECIMEN, TD1_SPECIMEN[2])),  # four lines
        "".join(TD1_SPECIMEN),  # one line of 90
        "",
    ],
)
def test_a_text_that_is_not_three_lines_of_30_is_rejected_with_what_was_found(text: str) -> None:
    with pytest.raises(DomainValidationError) as exc:
        parse_td1(text, reference=REFERENCE)
    field, rule, message = only_problem(exc)
    assert (field, rule) == ("mrz", "format")
    assert "3 lines of 30 characters" in message


def test_input_that_is_not_text_or_far_too_long_is_rejected_before_reading() -> None:
    with pytest.raises(DomainValidationError) as exc:
        parse_td1(b"I<UTO", reference=REFERENCE)
    assert problems_of(exc) == [("mrz", "type")]
    with pytest.raises(DomainValidationError) as exc:
        parse_td1("<" * 10_000, reference=REFERENCE)
    assert problems_of(exc) == [("mrz", "length")]


@pytest.mark.parametrize(
    ("line1", "line2", "line3", "problem"),
    [
        ("P<UTOD23145890<<<<<<<<<<<<<<<<", L2, L3, ("line1.document_code", "document_code")),
        ("I<U1OD23145890<<<<<<<<<<<<<<<<", L2, L3, ("line1.issuing_state", "state_code")),
        ("I<UTO<<<<<<<<<<<<<<<<<<<<<<<<<", L2, L3, ("line1.document_number", "required")),
        ("I<UTOD23<45890<<<<<<<<<<<<<<<<", L2, L3, ("line1.document_number", "characters")),
        (L1, "7413122F1204159UTO<<<<<<<<<<<<", L3, ("line2.date_of_birth", "date")),
        (L1, "7408122F1202309UTO<<<<<<<<<<<<", L3, ("line2.date_of_expiry", "date")),
        (L1, "9901011F9001019UTO<<<<<<<<<<<<", L3, ("line2.date_of_expiry", "after_birth")),
        (L1, "7408122Z1204159UTO<<<<<<<<<<<<", L3, ("line2.sex", "sex")),
        (L1, "7408122F1204159<<<<<<<<<<<<<<<", L3, ("line2.nationality", "state_code")),
        (L1, L2, "<<ANNA<MARIA<<<<<<<<<<<<<<<<<<", ("line3.name", "name_format")),
        (L1, L2, "ERIKSSON<<ANNA<<MARIA<<<<<<<<<", ("line3.name", "name_format")),
        (L1, L2, "ERIKSSON<<ANNA<MARIA<<<<<<<<X<", ("line3.name", "name_format")),
        (L1, L2, "ERIKSS0N<<ANNA<MARIA<<<<<<<<<<", ("line3.name", "name_format")),
    ],
)
def test_each_field_rule_of_td1_rejects_a_valid_looking_mrz_with_correct_check_digits(
    line1: str, line2: str, line3: str, problem: tuple[str, str]
) -> None:
    with pytest.raises(DomainValidationError) as exc:
        parse_td1(td1(line1, line2, line3), reference=REFERENCE)
    assert problems_of(exc) == [(f"mrz.{problem[0]}", problem[1])]


def test_an_unspecified_sex_is_read_as_x_and_written_as_a_filler() -> None:
    text = td1(L1, "7408122<1204159UTO<<<<<<<<<<<<", TD1_SPECIMEN[2])
    mrz = parse_td1(text, reference=REFERENCE)
    assert mrz.sex == "X"
    assert mrz.lines[1][7] == "<"


def test_a_document_number_longer_than_9_characters_continues_in_the_optional_data() -> None:
    mrz = specimen_td1(
        document_number="D23145890123", date_of_expiry=date(2032, 4, 15), optional_data_1="XYZ"
    )
    line1 = mrz.lines[0]
    assert line1[5:15] == "D23145890<"  # the principal 9 characters, then a filler
    assert line1[15:20] == "123" + check_digit("D23145890123") + "<"
    assert line1[20:23] == "XYZ"
    assert parse_td1(mrz.text, reference=REFERENCE) == mrz


def test_a_filler_check_digit_without_a_continued_document_number_is_rejected() -> None:
    text = "\n".join(TD1_SPECIMEN).replace("D231458907", "D23145890<")
    with pytest.raises(DomainValidationError) as exc:
        parse_td1(text, reference=REFERENCE)
    assert ("mrz.line1.document_number", "check_digit") in problems_of(exc)


def test_a_dataclass_with_invalid_values_cannot_be_built_so_cannot_be_generated() -> None:
    with pytest.raises(DomainValidationError) as exc:
        specimen_td1(
            document_code="X",
            issuing_state="utopia",
            document_number="D-23",
            sex="Q",
            date_of_expiry=date(1970, 1, 1),
            primary_identifier="Eriksson",
            secondary_identifier="ANNA  MARIA",
            optional_data_1="ABC<",
            optional_data_2="A" * 12,
        )
    assert {f for f, _ in problems_of(exc)} == {
        "mrz.document_code",
        "mrz.issuing_state",
        "mrz.document_number",
        "mrz.sex",
        "mrz.date_of_expiry",
        "mrz.primary_identifier",
        "mrz.secondary_identifier",
        "mrz.optional_data_1",
        "mrz.optional_data_2",
    }


def test_names_longer_than_the_field_must_be_truncated_explicitly() -> None:
    with pytest.raises(DomainValidationError) as exc:
        specimen_td1(secondary_identifier="ANNA MARIA CHRISTINA ELISABETH")
    assert problems_of(exc) == [("mrz.name", "length")]


# --------------------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("yymmdd", "born"),
    [
        ("250601", date(2025, 6, 1)),  # the reference day itself
        ("250602", date(1925, 6, 2)),  # one day later would be in the future: a century earlier
        ("740812", date(1974, 8, 12)),
        ("000229", date(2000, 2, 29)),
        ("991231", date(1999, 12, 31)),
    ],
)
def test_a_birth_date_is_the_latest_such_date_on_or_before_the_reference(yymmdd: str, born: date) -> None:
    assert birth_date(yymmdd, reference=REFERENCE) == born


@pytest.mark.parametrize(
    ("yymmdd", "expires"),
    [
        ("120415", date(2012, 4, 15)),
        ("850101", date(1985, 1, 1)),  # 40 years back is still read as the past …
        ("840101", date(2084, 1, 1)),  # … 41 years back is read as the future (59 years ahead)
        ("400101", date(2040, 1, 1)),
        ("940623", date(1994, 6, 23)),  # the BAC worked example's expiry
    ],
)
def test_an_expiry_date_is_read_future_biased_40_years_back_to_59_ahead(yymmdd: str, expires: date) -> None:
    assert expiry_date(yymmdd, reference=REFERENCE) == expires


@pytest.mark.parametrize("yymmdd", ["741312", "740832", "010229", "7408", "74081A", ""])
def test_something_that_is_not_a_calendar_date_is_no_date(yymmdd: str) -> None:
    assert birth_date(yymmdd, reference=REFERENCE) is None
    assert expiry_date(yymmdd, reference=REFERENCE) is None


# --------------------------------------------------------------------------- TD3
def test_the_icao_td3_specimen_is_parsed_and_generated_back_character_for_character() -> None:
    mrz = parse_td3("\n".join(TD3_SPECIMEN), reference=REFERENCE)
    assert mrz == specimen_td3()  # the values stated with the specimen, at the top
    assert mrz.lines == TD3_SPECIMEN


def test_parse_mrz_tells_td1_from_td3_by_the_number_of_lines() -> None:
    assert isinstance(parse_mrz("\n".join(TD1_SPECIMEN), reference=REFERENCE), MrzTD1)
    assert isinstance(parse_mrz("\r\n".join(TD3_SPECIMEN) + "\r\n", reference=REFERENCE), MrzTD3)
    with pytest.raises(DomainValidationError) as exc:
        parse_mrz(TD3_SPECIMEN[0], reference=REFERENCE)
    assert problems_of(exc) == [("mrz", "format")]
    with pytest.raises(DomainValidationError) as exc:
        parse_mrz(None, reference=REFERENCE)
    assert problems_of(exc) == [("mrz", "type")]


def test_an_empty_personal_number_may_have_a_filler_or_zero_check_digit_but_no_other() -> None:
    base = specimen_td3(date_of_expiry=date(2032, 4, 15), personal_number="")
    line1, line2 = base.lines
    assert line2[28:43] == "<" * 15
    assert parse_td3(base.text, reference=REFERENCE) == base
    with_zero = line2[:42] + "0" + line2[43]  # '0' and '<' both weigh 0 in the composite
    assert parse_td3(f"{line1}\n{with_zero}", reference=REFERENCE) == base
    with_seven = line2[:42] + "7" + line2[43]
    with pytest.raises(DomainValidationError) as exc:
        parse_td3(f"{line1}\n{with_seven}", reference=REFERENCE)
    assert ("mrz.line2.personal_number", "check_digit") in problems_of(exc)


def test_a_td3_whose_document_code_is_not_a_passport_is_rejected() -> None:
    visa = "V" + TD3_SPECIMEN[0][1:]
    with pytest.raises(DomainValidationError) as exc:
        parse_td3(f"{visa}\n{TD3_SPECIMEN[1]}", reference=REFERENCE)
    assert problems_of(exc) == [("mrz.line1.document_code", "document_code")]


# --------------------------------------------------------------------------- names
@pytest.mark.parametrize(
    ("full_name", "identifiers"),
    [
        ("Nguyễn Thị Đào", ("NGUYEN", "THI DAO")),
        ("đặng văn ước", ("DANG", "VAN UOC")),
        ("Trương Ngọc Ánh Dương", ("TRUONG", "NGOC ANH DUONG")),
        ("Lê Thị Hoà", ("LE", "THI HOA")),
        ("\u00d0ỗ Quý", ("DO", "QUY")),  # Icelandic eth typed for Đ
        ("Hồ", ("HO", "")),  # a one-word name has no secondary identifier
        ("Nguyễn Ngọc Anh-Thư", ("NGUYEN", "NGOC ANH THU")),  # a hyphen separates components
        ("Phan O'Neil", ("PHAN", "ONEIL")),  # an apostrophe is omitted
    ],
)
def test_a_vietnamese_name_is_transliterated_family_name_first_without_diacritics(
    full_name: str, identifiers: tuple[str, str]
) -> None:
    assert mrz_name(full_name) == identifiers


def test_every_vietnamese_vowel_with_marks_and_d_with_stroke_map_to_plain_letters() -> None:
    assert transliterate("ăâêôơư ĂÂÊÔƠƯ đĐ ảãạáà ỷỹỵýỳ") == "AAEOOU AAEOOU DD AAAAA YYYYY"


@pytest.mark.parametrize("full_name", ["Nguyễn 王", "Иван Петров", ""])
def test_a_name_without_a_latin_transliteration_is_rejected(full_name: str) -> None:
    with pytest.raises(DomainValidationError) as exc:
        mrz_name(full_name)
    assert problems_of(exc)[0][0] == "full_name"
    assert problems_of(exc)[0][1] in ("transliteration", "required")


def test_a_name_too_long_for_the_field_is_cut_and_ends_with_a_letter() -> None:
    field = name_field("NGUYEN", "THI PHUONG THAO BAO NGOC XUAN QUYNH", 30)
    assert len(field) == 30
    assert field == "NGUYEN<<THI<PHUONG<THAO<BAO<NG"
    assert name_field("TON THAT", "", 30) == "TON<THAT".ljust(30, "<")


# --------------------------------------------------------------------------- Vietnamese cards
def vn_card(**overrides: object) -> MrzTD1:
    values: dict[str, object] = {
        "id_number": "001195001234",
        "full_name": "Nguyễn Thị Đào",
        "date_of_birth": date(1995, 3, 2),
        "sex": "F",
        "date_of_expiry": date(2035, 3, 2),
    }
    values.update(overrides)
    return vietnamese_td1(**values)  # type: ignore[arg-type]


def test_a_vietnamese_card_has_the_last_9_id_digits_as_document_number_and_all_12_as_optional_data() -> None:
    line1, line2, line3 = vn_card().lines
    assert line1 == "IDVNM195001234" + check_digit("195001234") + "001195001234<<<"
    birth, expiry = "950302", "350302"
    assert line2[:29] == birth + check_digit(birth) + "F" + expiry + check_digit(expiry) + "VNM" + "<" * 11
    assert line2[29] == check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    assert line3 == "NGUYEN<<THI<DAO".ljust(30, "<")


def test_the_id_number_is_read_back_from_a_vietnamese_mrz_and_checked() -> None:
    mrz = parse_td1(vn_card().text, reference=REFERENCE)
    assert mrz.id_number == "001195001234"
    assert mrz.id_number_parts.place_name == "Hà Nội"
    assert mrz.vn_date_of_birth == date(1995, 3, 2)


def vn_lines(id_number: str, document_number: str, born: str, sex: str, state: str = "VNM") -> str:
    line1 = f"ID{state}{document_number.ljust(9, '<')}0{id_number}".ljust(30, "<")
    line2 = f"{born}0{sex}3503029VNM".ljust(30, "<")
    return td1(line1, line2, "NGUYEN<<THI<DAO".ljust(30, "<"))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            vn_lines("001195001234", "195001235", "950302", "F"),
            ("line1.document_number", "matches_id_number"),
        ),
        (vn_lines("001196001234", "196001234", "950302", "F"), ("line1.optional_data", "birth_year")),
        (vn_lines("001195001234", "195001234", "950302", "M"), ("line1.optional_data", "sex")),
        (vn_lines("001195001234", "195001234", "950302", "<"), ("line2.sex", "sex")),
        (vn_lines("001395001234", "395001234", "950302", "F"), ("line1.optional_data", "century")),
        (vn_lines("003195001234", "195001234", "950302", "F"), ("line1.optional_data", "province_code")),
        (vn_lines("00119500123", "19500123", "950302", "F"), ("line1.optional_data", "length")),
        (
            vn_lines("001195001234", "195001234", "950302", "F", state="UTO"),
            ("issuing_state", "issuing_state"),
        ),
    ],
)
def test_the_vietnamese_id_number_is_cross_checked_with_the_mrz(text: str, problem: tuple[str, str]) -> None:
    mrz = parse_td1(text, reference=REFERENCE)  # a valid MRZ by ICAO rules …
    with pytest.raises(DomainValidationError) as exc:
        _ = mrz.id_number  # … whose ID number does not fit it
    assert (f"mrz.{problem[0]}", problem[1]) in problems_of(exc)


def test_a_holder_aged_100_or_more_gets_the_century_from_the_id_number() -> None:
    card = vn_card(id_number="001020001234", date_of_birth=date(1920, 5, 5), sex="M", full_name="Lê Văn Thọ")
    mrz = parse_td1(card.text, reference=REFERENCE)
    assert mrz.date_of_birth == date(2020, 5, 5)  # YYMMDD alone: the pivot reads the younger century
    assert mrz.id_number == "001020001234"  # the ID number's century digit settles it …
    assert mrz.vn_date_of_birth == date(1920, 5, 5)  # … and gives the true date of birth


def test_a_vietnamese_mrz_cannot_be_generated_from_an_inconsistent_id_number() -> None:
    with pytest.raises(DomainValidationError) as exc:
        vn_card(sex="M")
    assert problems_of(exc) == [("id_number", "sex")]
    with pytest.raises(DomainValidationError) as exc:
        vn_card(id_number="00119500123")
    assert problems_of(exc) == [("id_number", "length")]


def test_a_long_vietnamese_name_is_truncated_in_the_mrz_and_read_back_as_truncated() -> None:
    card = vn_card(full_name="Nguyễn Thị Phương Thảo Bảo Ngọc Xuân Quỳnh")
    assert card.lines[2] == "NGUYEN<<THI<PHUONG<THAO<BAO<NG"
    assert card.secondary_identifier == "THI PHUONG THAO BAO NG"
    assert parse_td1(card.text, reference=REFERENCE) == card


def test_a_card_valid_for_life_has_fillers_and_check_digit_0_as_expiry_and_reads_back_as_none() -> None:
    card = vn_card(id_number="001160001234", date_of_birth=date(1960, 3, 2), date_of_expiry=None)
    line1, line2, _ = card.lines
    assert line2[8:15] == "<<<<<<" + "0"  # ICAO 9303 part 3 §4.9: fillers weigh 0
    assert line2[29] == check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    parsed = parse_td1(card.text, reference=REFERENCE)
    assert parsed == card
    assert parsed.date_of_expiry is None
    assert parsed.id_number == "001160001234"
    assert not parsed.is_expired(date(2099, 12, 31))
    assert mrz_information(card.document_number, card.date_of_birth, None).endswith("<<<<<<0")


@pytest.mark.parametrize(
    ("expiry", "problem"),
    [
        ("<<<<<<<", ("mrz.line2.date_of_expiry", "check_digit")),  # a filler is no check digit here
        ("<<<<<<7", ("mrz.line2.date_of_expiry", "check_digit")),
        ("35<<<<6", ("mrz.line2.date_of_expiry", "date")),  # only a wholly absent date is no date
    ],
)
def test_an_absent_expiry_is_six_fillers_with_check_digit_0(expiry: str, problem: tuple[str, str]) -> None:
    line1, line2, line3 = vn_card(date_of_expiry=None).lines
    line2 = line2[:8] + expiry + line2[15:29]
    line2 += check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
    with pytest.raises(DomainValidationError) as exc:
        parse_td1("\n".join((line1, line2, line3)), reference=REFERENCE)
    assert problems_of(exc) == [problem]


def test_a_passport_without_expiry_is_rejected() -> None:
    line1, line2 = TD3_SPECIMEN
    line2 = line2[:21] + "<<<<<<0" + line2[28:43]
    line2 += check_digit(line2[0:10] + line2[13:20] + line2[21:43])
    with pytest.raises(DomainValidationError) as exc:
        parse_td3(f"{line1}\n{line2}", reference=REFERENCE)
    assert problems_of(exc) == [("mrz.line2.date_of_expiry", "date")]


# --------------------------------------------------------------------------- chip access keys
def test_the_bac_worked_example_of_icao_9303_part_11_appendix_d1_is_reproduced() -> None:
    information = mrz_information("L898902C", date(1969, 8, 6), date(1994, 6, 23))
    assert information == "L898902C<369080619406236"
    seed = bac_key_seed(information)
    assert seed.hex().upper() == "239AB9CB282DAF66231DC5A4DF6BFBAE"
    keys = bac_keys("L898902C", date(1969, 8, 6), date(1994, 6, 23))
    assert keys.seed == seed
    # SHA-1(K_seed ‖ 00000001) gives Ka = AB94FCEDF2664EDF, Kb = B9B291F85D7F77F2 before parity
    assert keys.k_enc.hex().upper() == "AB94FDECF2674FDFB9B391F85D7F76F2"
    # SHA-1(K_seed ‖ 00000002) gives 7862D9ECE03C1BCD 4D77089DCF131442 before parity
    assert keys.k_mac.hex().upper() == "7962D9ECE03D1ACD4C76089DCE131543"
    assert derive_key(seed, 1) == keys.k_enc


def test_every_byte_of_a_derived_des_key_has_odd_parity() -> None:
    assert adjust_des_parity(bytes([0x00, 0x01, 0xFE, 0xFF, 0xAC])) == bytes([0x01, 0x01, 0xFE, 0xFE, 0xAD])
    keys = vn_card().bac_keys()
    assert all(bin(b).count("1") % 2 == 1 for b in keys.k_enc + keys.k_mac)


def test_bac_keys_from_a_parsed_mrz_use_its_document_number_and_dates() -> None:
    mrz = parse_td3("\n".join(TD3_SPECIMEN), reference=REFERENCE)
    assert mrz.bac_keys() == bac_keys("L898902C3", date(1974, 8, 12), date(2012, 4, 15))
    assert mrz_information("L898902C3", date(1974, 8, 12), date(2012, 4, 15)) == "L898902C3674081221204159"


def test_the_pace_can_of_a_vietnamese_card_is_the_last_6_digits_of_a_valid_id_number() -> None:
    assert pace_can("001195001234") == "001234"
    with pytest.raises(DomainValidationError) as exc:
        pace_can("999195001234")
    assert problems_of(exc) == [("id_number", "province_code")]


# --------------------------------------------------------------------------- round trips
_WORD = st.text(string.ascii_uppercase, min_size=1, max_size=8)
_IDENTIFIER = st.lists(_WORD, min_size=1, max_size=3).map(" ".join)
_OPTIONAL = st.text(string.ascii_uppercase + string.digits + "<", max_size=11).map(lambda s: s.rstrip("<"))


@st.composite
def dates_and_names(draw: st.DrawFn, width: int) -> dict[str, object]:
    born = draw(st.dates(REFERENCE - timedelta(days=365 * 99), REFERENCE))
    earliest = max(born + timedelta(days=1), date(REFERENCE.year - 40, 1, 1))
    expires = draw(st.dates(earliest, date(REFERENCE.year + 59, 12, 31)))
    primary = draw(_IDENTIFIER)
    secondary = draw(st.one_of(st.just(""), _IDENTIFIER))
    if len(primary) + (len(secondary) + 2 if secondary else 0) > width:
        secondary = ""
        primary = primary[:width]
    return {
        "date_of_birth": born,
        "date_of_expiry": expires,
        "primary_identifier": primary.strip(),
        "secondary_identifier": secondary,
        "sex": draw(st.sampled_from(["M", "F", "X"])),
        "issuing_state": draw(st.text(string.ascii_uppercase, min_size=1, max_size=3)),
        "nationality": draw(st.text(string.ascii_uppercase, min_size=1, max_size=3)),
    }


@given(dates_and_names(30), st.data())
def test_every_valid_td1_parses_back_to_itself(values: dict[str, object], data: st.DataObject) -> None:
    number = data.draw(st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=14))
    room = 15 - (len(number) - 9 + 2 if len(number) > 9 else 0)
    mrz = MrzTD1(
        document_code=data.draw(st.sampled_from(["I", "ID", "A", "C", "IP"])),
        document_number=number,
        optional_data_1=data.draw(_OPTIONAL.map(lambda s: s[:room].rstrip("<"))),
        optional_data_2=data.draw(_OPTIONAL),
        **values,  # type: ignore[arg-type]
    )
    assert parse_td1(mrz.text, reference=REFERENCE) == mrz
    assert all(len(line) == 30 for line in mrz.lines)


@given(dates_and_names(39), st.data())
def test_every_valid_td3_parses_back_to_itself(values: dict[str, object], data: st.DataObject) -> None:
    mrz = MrzTD3(
        document_code=data.draw(st.sampled_from(["P", "PD", "PO"])),
        document_number=data.draw(st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=9)),
        personal_number=data.draw(_OPTIONAL),
        **values,  # type: ignore[arg-type]
    )
    assert parse_td3(mrz.text, reference=REFERENCE) == mrz
    assert all(len(line) == 44 for line in mrz.lines)


_SYLLABLES = ["Nguyễn", "Trần", "Lê", "Phạm", "Đặng", "Thị", "Văn", "Ngọc", "Hoà", "Thuỷ", "Đức", "Quỳnh"]


@given(
    born=st.dates(date(1926, 6, 2), date(2011, 6, 1)),
    sex=st.sampled_from(["M", "F"]),
    province=st.sampled_from(sorted(LEGACY_PROVINCE_CODES)),
    serial=st.integers(0, 999_999),
    words=st.lists(st.sampled_from(_SYLLABLES), min_size=2, max_size=5),
    years=st.one_of(st.none(), st.integers(1, 40)),  # None: valid for life
)
def test_every_vietnamese_mrz_round_trips_and_yields_its_id_number(
    born: date, sex: str, province: str, serial: int, words: list[str], years: int | None
) -> None:
    number = id_number_of(born, sex, province=province, serial=serial)
    card = vietnamese_td1(
        id_number=number,
        full_name=" ".join(words),
        date_of_birth=born,
        sex=sex,  # type: ignore[arg-type]
        date_of_expiry=None if years is None else date(REFERENCE.year + years, 1, 1),
    )
    parsed = parse_td1(card.text, reference=REFERENCE)
    assert parsed == card
    assert parsed.id_number == number
    assert pace_can(number) == number[-6:]


# --------------------------------------------------------------------------- fuzzing
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_arbitrary_text_is_either_an_mrz_or_a_domain_validation_error(text: str) -> None:
    try:
        parse_mrz(text, reference=REFERENCE)
    except DomainValidationError as exc:
        assert exc.problems and all(p.field.startswith("mrz") and p.rule for p in exc.problems)


_VALID_TEXTS = ["\n".join(TD1_SPECIMEN), "\n".join(TD3_SPECIMEN), f"{L1}\n{L2}\n{'X' * 30}"]
_EDITS = helpers.edits(
    string.ascii_uppercase + string.digits + "<<<<  \n\r\ta-é\x00\ud800Đ", max_position=200
)


@settings(max_examples=400)
@given(st.sampled_from(_VALID_TEXTS), _EDITS)
def test_mutated_specimens_are_either_valid_or_rejected_with_named_problems(
    text: str, changes: list[helpers.Edit]
) -> None:
    helpers.assert_refused_by_name_or_read_back(
        partial(parse_mrz, reference=REFERENCE), helpers.mutate(text, changes), field="mrz"
    )
