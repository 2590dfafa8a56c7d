"""The 12-digit personal identification number: ``PPP G YY RRRRRR`` (Decree 137/2015/NĐ-CP Art. 13,
Circular 07/2016/TT-BCA Art. 7). No checksum: structure, a known place code, and century/sex/year
digits consistent with the recorded date of birth and sex."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.blocks.registry.idnumber import (
    FOREIGN_CODE_RANGE,
    LEGACY_PROVINCE_CODES,
    century_sex_digit,
    check_consistency,
    parse_id_number,
    validate_cmnd,
    validate_id_number,
)
from dancu.errors import DomainValidationError


def only_problem(exc: pytest.ExceptionInfo[DomainValidationError]) -> tuple[str, str, str]:
    assert len(exc.value.problems) == 1, exc.value.problems
    p = exc.value.problems[0]
    return p.field, p.rule, p.message


# --------------------------------------------------------------------------- structure
def test_there_are_exactly_63_legacy_province_codes_and_no_post_2025_invention() -> None:
    assert len(LEGACY_PROVINCE_CODES) == 63
    assert LEGACY_PROVINCE_CODES["001"] == "Hà Nội"
    assert LEGACY_PROVINCE_CODES["079"] == "TP Hồ Chí Minh"
    assert LEGACY_PROVINCE_CODES["096"] == "Cà Mau"
    assert all(len(code) == 3 and code.isdigit() for code in LEGACY_PROVINCE_CODES)


@pytest.mark.parametrize(
    ("number", "place", "year", "sex"),
    [
        ("001085012345", "001", 1985, "M"),  # Hà Nội, male, 1985
        ("079190000001", "079", 1990, "F"),  # TP HCM, female, 1990
        ("001200123456", "001", 2000, "M"),
        ("096305999999", "096", 2005, "F"),
        ("031499000000", "031", 2199, "M"),  # G=4: 2100–2199
        ("048999000000", "048", 2399, "F"),  # G=9: 2300–2399
        ("002000000000", "002", 1900, "M"),
    ],
)
def test_a_valid_number_is_parsed_into_place_century_sex_and_year(
    number: str, place: str, year: int, sex: str
) -> None:
    parts = parse_id_number(number)
    assert parts.number == number
    assert parts.place_code == place
    assert parts.place_name == LEGACY_PROVINCE_CODES[place]
    assert parts.born_abroad is False
    assert parts.birth_year == year
    assert parts.sex == sex


@pytest.mark.parametrize("number", ["00108501234", "0010850123456", "", "1"])
def test_a_number_without_exactly_12_digits_is_rejected_naming_the_field(number: str) -> None:
    with pytest.raises(DomainValidationError) as exc:
        parse_id_number(number)
    field, rule, _ = only_problem(exc)
    assert field == "id_number"
    assert rule in {"length", "digits"}  # the empty string has no digits at all


def test_length_message_says_how_many_digits_were_given() -> None:
    with pytest.raises(DomainValidationError) as exc:
        parse_id_number("00108501234")
    assert only_problem(exc) == ("id_number", "length", "must have 12 digits, got 11")


@pytest.mark.parametrize(
    "number", ["00108501234a", "001 85012345", "001-85012345", "+01085012345", "001085012.45"]
)
def test_a_number_with_anything_but_digits_is_rejected(number: str) -> None:
    with pytest.raises(DomainValidationError) as exc:
        parse_id_number(number)
    assert only_problem(exc)[:2] == ("id_number", "digits")


@pytest.mark.parametrize(
    "number",
    [
        "００１０８５０１２３４５",  # full-width digits
        "٠٠١٠٨٥٠١٢٣٤٥",  # Arabic-Indic digits
        "𝟎𝟎𝟏𝟎𝟖𝟓𝟎𝟏𝟐𝟑𝟒𝟓",  # mathematical bold digits
    ],
)
def test_non_ascii_digits_are_rejected_although_python_calls_them_digits(number: str) -> None:
    assert number.isdigit()
    with pytest.raises(DomainValidationError) as exc:
        parse_id_number(number)
    assert only_problem(exc)[:2] == ("id_number", "digits")


@pytest.mark.parametrize("value", [None, 1085012345, 1.0, b"001085012345", ["001085012345"]])
def test_a_value_that_is_not_text_is_rejected(value: object) -> None:
    with pytest.raises(DomainValidationError) as exc:
        parse_id_number(value)
    assert only_problem(exc)[:2] == ("id_number", "type")


def test_the_field_name_can_be_chosen_by_the_caller() -> None:
    with pytest.raises(DomainValidationError) as exc:
        parse_id_number("12", field="new_id_number")
    assert only_problem(exc)[0] == "new_id_number"


@pytest.mark.parametrize("place", ["000", "003", "005", "099", "100", "296", "300", "999"])
def test_an_unknown_place_code_is_rejected(place: str) -> None:
    number = place + "085012345"
    with pytest.raises(DomainValidationError) as exc:
        parse_id_number(number)
    field, rule, message = only_problem(exc)
    assert (field, rule) == ("id_number", "province_code")
    assert place in message
    assert "63 province codes" in message


@pytest.mark.parametrize("place", ["101", "150", "295"])
def test_country_codes_101_to_295_mean_born_abroad(place: str) -> None:
    parts = parse_id_number(place + "190000001")
    assert parts.born_abroad is True
    assert parts.place_name == "nước ngoài / abroad"
    assert parts.birth_year == 1990
    assert parts.sex == "F"


def test_the_foreign_range_is_exactly_101_to_295() -> None:
    assert FOREIGN_CODE_RANGE[0] == 101
    assert FOREIGN_CODE_RANGE[-1] == 295


def test_no_post_2025_province_code_outside_the_63_is_accepted() -> None:
    # All 34 current province codes are also legacy codes; none of the abolished-only codes disappeared.
    for code in ["002", "006", "010", "017", "026", "027", "030", "034", "035", "036"]:
        assert parse_id_number(code + "085012345").place_code == code


# --------------------------------------------------------------------------- consistency
def test_century_sex_mismatch_names_the_field_and_says_both_facts() -> None:
    with pytest.raises(DomainValidationError) as exc:
        validate_id_number("001200123456", date_of_birth=date(1985, 3, 2), sex="M")
    field, rule, _ = only_problem(exc)
    assert (field, rule) == ("id_number", "century")
    assert str(exc.value) == (
        "id_number: 001200123456: century/sex digit 2 means born 2000–2099, but date of birth is 1985-03-02"
    )


def test_birth_year_mismatch_is_reported_with_the_digits_and_the_date() -> None:
    with pytest.raises(DomainValidationError) as exc:
        validate_id_number("001086012345", date_of_birth=date(1985, 3, 2), sex="M")
    field, rule, message = only_problem(exc)
    assert (field, rule) == ("id_number", "birth_year")
    assert message == "001086012345: digits 5–6 (86) say born 1986, but date of birth is 1985-03-02"


def test_sex_mismatch_is_reported_with_both_sexes() -> None:
    with pytest.raises(DomainValidationError) as exc:
        validate_id_number("001085012345", date_of_birth=date(1985, 3, 2), sex="F")
    field, rule, message = only_problem(exc)
    assert (field, rule) == ("id_number", "sex")
    assert "means male" in message
    assert "recorded as female" in message


def test_century_and_sex_mismatch_are_both_reported_at_once() -> None:
    with pytest.raises(DomainValidationError) as exc:
        validate_id_number("001300123456", date_of_birth=date(1985, 3, 2), sex="M")
    assert [p.rule for p in exc.value.problems] == ["century", "sex"]
    assert all(p.field == "id_number" for p in exc.value.problems)


def test_a_consistent_number_has_no_problems() -> None:
    parts = parse_id_number("001185012345")
    assert check_consistency(parts, date_of_birth=date(1985, 12, 31), sex="F") == []
    assert validate_id_number("001185012345", date_of_birth=date(1985, 1, 1), sex="F").birth_year == 1985


@pytest.mark.parametrize(
    ("year", "sex", "digit"),
    [(1900, "M", 0), (1999, "F", 1), (2000, "M", 2), (2099, "F", 3), (2100, "M", 4), (2399, "F", 9)],
)
def test_century_sex_digit_follows_circular_07(year: int, sex: str, digit: int) -> None:
    assert century_sex_digit(year, sex) == digit


@pytest.mark.parametrize("year", [1899, 2400, 0, -5])
def test_century_sex_digit_is_undefined_outside_1900_to_2399(year: int) -> None:
    with pytest.raises(DomainValidationError) as exc:
        century_sex_digit(year, "M")
    assert only_problem(exc)[:2] == ("date_of_birth", "year_range")


@given(
    year=st.integers(1900, 2399),
    sex=st.sampled_from(["M", "F"]),
    place=st.one_of(
        st.sampled_from(sorted(LEGACY_PROVINCE_CODES)), st.integers(101, 295).map("{:03d}".format)
    ),
    random_part=st.integers(0, 999_999),
    day_of_year=st.integers(0, 364),
)
def test_any_number_built_from_century_sex_digit_validates(
    year: int, sex: str, place: str, random_part: int, day_of_year: int
) -> None:
    number = f"{place}{century_sex_digit(year, sex)}{year % 100:02d}{random_part:06d}"
    dob = date.fromordinal(date(year, 1, 1).toordinal() + day_of_year)
    parts = validate_id_number(number, date_of_birth=dob, sex=sex)
    assert (parts.birth_year, parts.sex, parts.place_code) == (year, sex, place)
    assert parts.born_abroad is (place not in LEGACY_PROVINCE_CODES)


@given(st.one_of(st.text(), st.text(alphabet="0123456789０１２３４５６７８９٠١ ", max_size=14)))
def test_parse_id_number_on_any_text_raises_only_domain_validation_error(value: str) -> None:
    try:
        parts = parse_id_number(value)
    except DomainValidationError as exc:
        assert exc.problems
        assert all(p.field == "id_number" for p in exc.problems)
    else:
        assert len(value) == 12
        assert value.isascii()
        assert value.isdigit()
        assert parts.place_code in LEGACY_PROVINCE_CODES or parts.born_abroad


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.dates(), st.sampled_from(["M", "F", "X"]))
def test_validate_id_number_raises_only_domain_validation_error(number: str, dob: date, sex: str) -> None:
    try:
        validate_id_number(number, date_of_birth=dob, sex=sex)
    except DomainValidationError as exc:
        assert all(p.field == "id_number" for p in exc.problems)


# --------------------------------------------------------------------------- old CMND
@pytest.mark.parametrize("number", ["012345678", "001085012345"])
def test_old_identity_card_numbers_have_9_or_12_digits(number: str) -> None:
    assert validate_cmnd(number) == number


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("12345678", "length"),
        ("0123456789", "length"),
        ("01234567x", "digits"),
        ("０１２３４５６７８", "digits"),
    ],
)
def test_old_identity_card_number_problems_name_the_field(number: str, rule: str) -> None:
    with pytest.raises(DomainValidationError) as exc:
        validate_cmnd(number)
    assert only_problem(exc)[:2] == ("old_id_number", rule)
