"""Vietnamese personal names: NFC, Ð→Đ, one tone-placement style, family – middle – given order,
and an accent-insensitive folded form for search (domain facts §7)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dancu.blocks.registry.names import (
    MAX_NAME_LENGTH,
    VIETNAMESE_NAME_CHARACTERS,
    NameParts,
    fold,
    is_normal_output,
    normalise_name,
    split_name,
)
from dancu.errors import DomainValidationError


def problem_of(value: object, field: str = "full_name") -> tuple[str, str]:
    with pytest.raises(DomainValidationError) as exc:
        normalise_name(value, field=field)
    assert len(exc.value.problems) == 1
    return exc.value.problems[0].field, exc.value.problems[0].rule


# --------------------------------------------------------------------------- normalisation
def test_decomposed_input_equals_the_composed_name() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hòa")
    assert decomposed != "Nguyễn Thị Hòa"
    assert normalise_name(decomposed) == "Nguyễn Thị Hòa"
    assert unicodedata.is_normalized("NFC", normalise_name(decomposed))


def test_icelandic_eth_is_read_as_vietnamese_d_with_stroke() -> None:
    assert normalise_name("\u00d0ặng Văn \u00d0ức") == "\u0110ặng Văn \u0110ức"
    assert normalise_name("ðặng văn ðức") == "Đặng Văn Đức"


@pytest.mark.parametrize(
    ("new_style", "old_style"),
    [("Hoà", "Hòa"), ("Thuỷ", "Thủy"), ("Khoẻ", "Khỏe"), ("Hoá", "Hóa"), ("Tuý", "Túy"), ("HOÀ", "Hòa")],
)
def test_both_tone_placement_styles_normalise_to_the_same_name(new_style: str, old_style: str) -> None:
    assert normalise_name(new_style) == normalise_name(old_style) == old_style


def test_the_old_tone_style_is_kept_at_the_start_of_a_word() -> None:
    assert normalise_name("Oà") == "Òa"
    assert normalise_name("Uý Văn Uỷ") == "Úy Văn Ủy"


def test_spaces_are_collapsed_and_words_capitalised() -> None:
    assert normalise_name("  nguyễn   VĂN\tan \n") == "Nguyễn Văn An"


def test_hyphens_and_apostrophes_are_allowed_inside_names() -> None:
    assert normalise_name("h'hen niê") == "H'hen Niê"
    assert normalise_name("Y-moan Enuôl") == "Y-moan Enuôl"


# --------------------------------------------------------------------------- rejection, with the field named
def test_a_lone_surrogate_is_invalid_unicode() -> None:
    assert problem_of("Nguy\ud800n") == ("full_name", "unicode")


@pytest.mark.parametrize("value", ["Nguyễn Văn 2", "Lê 3 Thị", "R2D2"])
def test_digits_are_not_allowed_in_a_name(value: str) -> None:
    assert problem_of(value) == ("full_name", "characters")


@pytest.mark.parametrize("value", ["An²", "Lê ½", "Trần Ⅻ", "Hòa ①"])
def test_numerals_that_are_not_decimal_digits_are_not_allowed_either(value: str) -> None:
    assert problem_of(value) == ("full_name", "characters")


@pytest.mark.parametrize("value", ["Nguyễn_Văn", "Trần <script>", "Lê.Văn", "Phạm  -  An", "'An", "An-"])
def test_punctuation_other_than_inner_hyphens_and_apostrophes_is_rejected(value: str) -> None:
    assert problem_of(value) == ("full_name", "characters")


@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_an_empty_name_is_rejected(value: str) -> None:
    assert problem_of(value) == ("full_name", "required")


def test_a_name_over_the_maximum_length_is_rejected() -> None:
    longest = "A" * MAX_NAME_LENGTH
    assert normalise_name(longest) == "A" + "a" * (MAX_NAME_LENGTH - 1)
    assert problem_of(longest + "b") == ("full_name", "length")


def test_a_name_that_case_mapping_lengthens_past_the_maximum_is_rejected() -> None:
    """Capitalising "ß" gives "SS": the stored name must still fit its column."""
    name = " ".join(["ßa"] * 33)
    assert len(name) <= MAX_NAME_LENGTH
    assert problem_of(name) == ("full_name", "length")


def test_a_value_that_is_not_text_is_rejected() -> None:
    assert problem_of(None) == ("full_name", "type")
    assert problem_of(42) == ("full_name", "type")


def test_the_caller_chooses_the_field_name() -> None:
    assert problem_of("", field="family_name") == ("family_name", "required")


@given(st.text(max_size=120))
def test_normalise_name_on_any_text_raises_only_domain_validation_error(value: str) -> None:
    try:
        name = normalise_name(value)
    except DomainValidationError as exc:
        assert [p.field for p in exc.problems] == ["full_name"]
    else:
        assert name
        assert name == name.strip()
        assert "  " not in name
        assert not any(ch.isnumeric() and not ch.isalpha() for ch in name)


@given(st.text(max_size=MAX_NAME_LENGTH))
def test_a_normalised_name_and_its_folded_form_fit_their_columns(value: str) -> None:
    try:
        name = normalise_name(value)
    except DomainValidationError:
        return
    assert len(name) <= MAX_NAME_LENGTH
    assert len(fold(name)) <= MAX_NAME_LENGTH


def test_folding_never_lengthens_a_name_even_for_hangul() -> None:
    name = normalise_name("한" * MAX_NAME_LENGTH)
    assert len(fold(name)) == MAX_NAME_LENGTH


@given(
    st.text(
        alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ ÐđĐ", max_size=60
    )
)
def test_normalising_twice_changes_nothing(value: str) -> None:
    try:
        once = normalise_name(value)
    except DomainValidationError:
        return
    assert normalise_name(once) == once


def test_the_vietnamese_alphabet_is_precomposed_and_keeps_its_form_under_case_mapping() -> None:
    for ch in VIETNAMESE_NAME_CHARACTERS:
        assert unicodedata.normalize("NFC", ch) == ch
        assert ch.upper().lower() == ch.lower() and ch.lower().upper() == ch.upper()
        assert len(ch.upper()) == len(ch.lower()) == 1


@given(
    st.text(
        alphabet=[*sorted(VIETNAMESE_NAME_CHARACTERS), "Ð", "ð", "\u0300", "\u0301", "\u0309", "\t"],
        max_size=60,
    )
)
def test_a_name_known_normal_is_a_fixed_point_of_normalisation(value: str) -> None:
    """``is_normal_output`` lets the card-QR parser skip normalising its name a second time
    (ADR 0014): whenever it says yes, normalising again must change nothing."""
    try:
        once = normalise_name(value)
    except DomainValidationError:
        return
    if is_normal_output(once):
        assert normalise_name(once) == once


def test_common_names_are_known_normal_but_a_letter_that_case_mapping_splits_is_not() -> None:
    assert is_normal_output(normalise_name("nguyễn thị hoà")) and is_normal_output("Đặng Văn Quý")
    # "ŉ" capitalises to "ʼN", which normalises to "ʼn": not a fixed point, and not claimed to be.
    once = normalise_name("ŉa")
    assert normalise_name(once) != once
    assert not is_normal_output(once)


# --------------------------------------------------------------------------- folding (search)
def test_fold_strips_tones_case_and_extra_spaces() -> None:
    assert fold("Nguyễn Thị Hòa") == "nguyen thi hoa"
    assert fold("  NGUYỄN   thị  hoà ") == "nguyen thi hoa"


def test_fold_maps_d_with_stroke_which_nfd_does_not_decompose() -> None:
    assert unicodedata.normalize("NFD", "Đ") == "Đ"
    assert fold("Đặng Đức") == "dang duc"
    assert fold("đinh") == "dinh"
    assert fold("\u00d0ào") == "dao"


def test_fold_of_either_tone_style_is_the_same() -> None:
    assert fold("Thuỷ") == fold("Thủy") == "thuy"


def test_fold_loses_tones_so_different_names_can_fold_alike() -> None:
    # Đông Thành ≠ Đông Thạnh: they differ with tones and fold to the same text.
    assert normalise_name("Đông Thành") != normalise_name("Đông Thạnh")
    assert fold("Đông Thành") == fold("Đông Thạnh")


# --------------------------------------------------------------------------- splitting
def test_a_name_splits_into_family_middle_and_given() -> None:
    assert split_name("Nguyễn Thị Minh Khai") == NameParts("Nguyễn", "Thị Minh", "Khai")
    assert split_name("Nguyễn Văn An") == NameParts("Nguyễn", "Văn", "An")


def test_a_two_word_name_has_no_middle_name() -> None:
    parts = split_name("Lê Lợi")
    assert parts == NameParts("Lê", "", "Lợi")
    assert parts.full == "Lê Lợi"


def test_a_single_word_name_is_a_given_name() -> None:
    parts = split_name("Sáu")
    assert parts == NameParts("", "", "Sáu")
    assert parts.full == "Sáu"


def test_the_parts_join_back_to_the_full_name() -> None:
    name = "Tôn Nữ Thị Ninh"
    assert split_name(name).full == name
