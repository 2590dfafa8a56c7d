"""The card QR: the chip CCCD (Circular 06/2021/TT-BCA, 7 fields) and the căn cước card (Circular
16/2024/TT-BCA, 7 fields and optional extras) — parsing, cross-checks, generation, rendering with
segno, and decoding camera photos with zxing-cpp. Pure: no database."""

from __future__ import annotations

import dataclasses
import io
import unicodedata
from dataclasses import replace
from datetime import date
from functools import partial

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFilter

from dancu.blocks.identity.qr import (
    CANCUOC_FIRST_ISSUE,
    CCCD_CHIP_FIRST_ISSUE,
    ERROR_CORRECTION,
    MAX_TEXT_LENGTH,
    CardQr,
    decode_qr,
    parse_card_qr,
    qr_array,
    qr_code,
    qr_image,
    qr_png,
    read_qr,
)
from dancu.blocks.registry.idnumber import LEGACY_PROVINCE_CODES
from dancu.errors import DomainValidationError
from tests.blocks.identity import helpers
from tests.blocks.identity.helpers import REFERENCE, id_number_of, problems_of

ADDRESS = "Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội"
CCCD = f"001085012345|123456789|Nguyễn Văn Anh|02031985|Nam|{ADDRESS}|15042021"
CANCUOC = (
    "079190000001||Trần Thị Hòa|01011990|Nữ|12 Lê Lợi, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh|04102024||||"
)


def rejected(text: object, reference: date = REFERENCE) -> list[tuple[str, str]]:
    with pytest.raises(DomainValidationError) as exc:
        parse_card_qr(text, reference=reference)
    assert all(p.message for p in exc.value.problems)
    return problems_of(exc)


def replace_field(text: str, index: int, value: str) -> str:
    fields = text.split("|")
    fields[index] = value
    return "|".join(fields)


# --------------------------------------------------------------------------- parsing
def test_a_chip_cccd_qr_is_parsed_into_typed_fields() -> None:
    card = parse_card_qr(CCCD, reference=REFERENCE)
    assert card == CardQr(
        kind="cccd_2021",
        id_number="001085012345",
        old_id_number="123456789",
        full_name="Nguyễn Văn Anh",
        date_of_birth=date(1985, 3, 2),
        sex="M",
        address=ADDRESS,
        issue_date=date(2021, 4, 15),
    )
    assert card.text == CCCD


def test_a_cancuoc_qr_keeps_its_trailing_empty_extra_fields_and_renders_back_identically() -> None:
    card = parse_card_qr(CANCUOC, reference=REFERENCE)
    assert card.kind == "cancuoc_2024"
    assert card.old_id_number == ""
    assert card.sex == "F"
    assert card.issue_date == date(2024, 10, 4)
    assert card.extras == ("", "", "", "")
    assert card.text == CANCUOC


def test_extra_fields_with_content_are_kept_in_order() -> None:
    text = replace_field(CANCUOC, 8, "Trần Văn Bình") + "|Lê Thị Cúc"
    assert parse_card_qr(text, reference=REFERENCE).extras == ("", "Trần Văn Bình", "", "", "Lê Thị Cúc")


def test_a_seven_field_qr_issued_from_1_july_2024_is_a_cancuoc_card() -> None:
    text = replace_field(CCCD, 6, "01072024")
    assert parse_card_qr(text, reference=REFERENCE).kind == "cancuoc_2024"
    assert parse_card_qr(replace_field(CCCD, 6, "30062024"), reference=REFERENCE).kind == "cccd_2021"


def test_the_old_number_may_be_empty_9_digits_or_a_12_digit_cmnd() -> None:
    assert parse_card_qr(replace_field(CCCD, 1, ""), reference=REFERENCE).old_id_number == ""
    assert (
        parse_card_qr(replace_field(CCCD, 1, "012345678901"), reference=REFERENCE).old_id_number
        == "012345678901"
    )


def test_names_are_nfc_normalised_in_one_tone_style_and_capitalised() -> None:
    decomposed = unicodedata.normalize("NFD", "NGUYỄN VĂN HOÀ")
    card = parse_card_qr(replace_field(CCCD, 2, decomposed), reference=REFERENCE)
    assert card.full_name == "Nguyễn Văn Hòa"
    assert unicodedata.is_normalized("NFC", card.full_name)


def test_sex_is_read_in_any_case_and_normal_form() -> None:
    female = "079190000001||Trần Thị Hòa|01011990|{}|Hà Nội|04102021"
    for spelling in ("Nữ", "NỮ", "nữ", unicodedata.normalize("NFD", "Nữ")):
        assert parse_card_qr(female.format(spelling), reference=REFERENCE).sex == "F"
    assert parse_card_qr(replace_field(CCCD, 4, "NAM"), reference=REFERENCE).sex == "M"


def test_scanner_noise_around_the_text_is_dropped_and_fields_are_trimmed() -> None:
    noisy = "\ufeff" + CCCD.replace("|Nam|", "| Nam |") + "\r\n"
    assert parse_card_qr(noisy, reference=REFERENCE) == parse_card_qr(CCCD, reference=REFERENCE)
    assert parse_card_qr(CCCD.encode("utf-8"), reference=REFERENCE).full_name == "Nguyễn Văn Anh"


# --------------------------------------------------------------------------- rejections
@pytest.mark.parametrize(
    ("index", "value", "problem"),
    [
        (0, "00108501234", ("qr.id_number", "length")),
        (0, "00108501234X", ("qr.id_number", "digits")),
        (0, "003085012345", ("qr.id_number", "province_code")),
        (0, "001086012345", ("qr.id_number", "birth_year")),  # the ID says 1986, the QR 1985
        (0, "001285012345", ("qr.id_number", "century")),  # the ID says 2085
        (0, "001185012345", ("qr.id_number", "sex")),  # the ID says female, the QR Nam
        (1, "12345", ("qr.old_id_number", "length")),
        (1, "12345678A", ("qr.old_id_number", "digits")),
        (2, "Nguyễn Văn 3", ("qr.full_name", "characters")),
        (2, "", ("qr.full_name", "required")),
        (3, "2031985", ("qr.date_of_birth", "date")),
        (3, "30021985", ("qr.date_of_birth", "date")),
        (3, "02-03-85", ("qr.date_of_birth", "date")),
        (4, "Male", ("qr.sex", "sex")),
        (4, "", ("qr.sex", "sex")),
        (5, "", ("qr.address", "required")),
        (5, "x" * 301, ("qr.address", "length")),
        (6, "15/04/2021", ("qr.issue_date", "date")),
        (6, "31042021", ("qr.issue_date", "date")),
    ],
)
def test_each_field_rule_rejects_the_field_naming_it_and_the_rule(
    index: int, value: str, problem: tuple[str, str]
) -> None:
    assert problem in rejected(replace_field(CCCD, index, value))


def test_several_broken_fields_are_reported_together() -> None:
    text = "001085012345|12|Nguyễn Văn Anh|32031985|Nữ||15042021"
    assert set(rejected(text)) == {
        ("qr.old_id_number", "length"),
        ("qr.date_of_birth", "date"),
        ("qr.address", "required"),
    }  # the ID number cannot be cross-checked without a date of birth …
    text = "001085012345|12|Nguyễn Văn Anh|02031986|Nữ|x|15042021"
    assert set(rejected(text)) == {
        ("qr.old_id_number", "length"),
        ("qr.id_number", "birth_year"),
        ("qr.id_number", "sex"),
    }  # … but is once every field is readable


@pytest.mark.parametrize(
    ("birth", "issued", "problem"),
    [
        ("02031985", "01012026", ("qr.issue_date", "future")),
        ("02032085", "15042021", ("qr.date_of_birth", "future")),
        ("02031985", "31122020", ("qr.issue_date", "before_card_type")),  # no chip CCCD before 2021
    ],
)
def test_dates_are_checked_against_the_reference_date_and_the_card_type(
    birth: str, issued: str, problem: tuple[str, str]
) -> None:
    id_number = "001285012345" if birth.endswith("2085") else "001085012345"
    text = replace_field(replace_field(replace_field(CCCD, 0, id_number), 3, birth), 6, issued)
    assert problem in rejected(text)


def test_a_card_cannot_be_issued_before_its_holder_was_born() -> None:
    text = "001224012345||Nguyễn Văn Bé|05102024|Nam|Hà Nội|04102024"
    assert ("qr.issue_date", "before_birth") in rejected(text)


def test_a_chip_cccd_is_issued_from_age_14_but_a_cancuoc_card_at_any_age() -> None:
    child = "001212012345||Nguyễn Văn Bé|05052012|Nam|Hà Nội|{}"
    assert ("qr.issue_date", "age_at_issue") in rejected(child.format("04052024"))  # 11 years old
    assert parse_card_qr(child.format("05052026"), reference=date(2026, 6, 1)).kind == "cancuoc_2024"
    assert parse_card_qr(child.format("04102024"), reference=REFERENCE).kind == "cancuoc_2024"  # age 12


def test_extra_fields_mean_a_cancuoc_card_which_did_not_exist_before_1_july_2024() -> None:
    assert rejected(CCCD + "|") == [("qr.issue_date", "before_card_type")]
    assert parse_card_qr(replace_field(CCCD, 6, "01072024") + "|", reference=REFERENCE).extras == ("",)


@pytest.mark.parametrize("text", ["", "001085012345", "a|b|c|d|e|f", "||||||"[:5]])
def test_fewer_than_seven_fields_is_not_a_card_qr(text: str) -> None:
    assert rejected(text) == [("qr", "field_count")]


def test_too_long_text_and_too_many_extras_are_rejected_before_any_work() -> None:
    assert rejected("|" * (MAX_TEXT_LENGTH + 1)) == [("qr", "length")]
    assert rejected(b"1" * (4 * MAX_TEXT_LENGTH + 1)) == [("qr", "length")]
    many = replace_field(CCCD, 6, "01072024") + "|x" * 17
    assert ("qr.extras", "length") in rejected(many)
    long_extra = replace_field(CCCD, 6, "01072024") + "|" + "x" * 201
    assert ("qr.extras[0]", "length") in rejected(long_extra)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (CCCD.replace("Văn", "V\x00ăn"), ("qr.full_name", "control_characters")),
        (CCCD.replace("Quảng", "Qu\u200bảng"), ("qr.address", "control_characters")),  # zero-width space
        (CCCD.replace("Nam", "Na\u202em"), ("qr.sex", "control_characters")),  # bidi override
        (CCCD.replace("Văn", "V\ud800n"), ("qr.full_name", "unicode")),  # lone surrogate
        (replace_field(CCCD, 6, "01072024") + "|a\x1bb", ("qr.extras[0]", "control_characters")),
        (CCCD.replace("|Nam|", "|Nam\nx|"), ("qr.sex", "control_characters")),
    ],
)
def test_control_characters_and_invalid_unicode_are_rejected_in_the_field_where_they_are(
    text: str, problem: tuple[str, str]
) -> None:
    assert rejected(text) == [problem]


def test_invalid_utf8_and_non_text_input_are_rejected() -> None:
    assert rejected(CCCD.encode("utf-8")[:30] + b"\xff" + CCCD.encode("utf-8")[30:]) == [("qr", "unicode")]
    assert rejected(None) == [("qr", "type")]
    assert rejected(12345) == [("qr", "type")]


# --------------------------------------------------------------------------- typed values and generation
def test_a_card_built_from_typed_values_checks_the_same_rules() -> None:
    card = parse_card_qr(CCCD, reference=REFERENCE)
    with pytest.raises(DomainValidationError) as exc:
        replace(
            card,
            full_name="nguyễn văn anh",
            date_of_birth=date(1986, 3, 2),
            address="Hà  Nội",
            issue_date=date(2024, 8, 1),
            extras=("a",),
        )
    assert set(problems_of(exc)) == {
        ("qr.full_name", "normalised"),
        ("qr.address", "normalised"),
        ("qr.id_number", "birth_year"),
        ("qr.issue_date", "after_card_type"),
        ("qr", "field_count"),
    }


def test_a_typed_field_holding_the_separator_or_a_control_character_is_rejected() -> None:
    card = parse_card_qr(CCCD, reference=REFERENCE)
    with pytest.raises(DomainValidationError) as exc:
        replace(card, address="Hà Nội|Hà Nam")
    assert problems_of(exc) == [("qr.address", "separator")]
    with pytest.raises(DomainValidationError) as exc:
        replace(card, sex="X", kind="cmnd")
    assert set(problems_of(exc)) == {("qr.sex", "sex"), ("qr.kind", "kind")}


_NAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Đặng", "Thị", "Văn", "Ngọc", "Hòa", "Thủy", "Đức", "Quỳnh", "Ánh"]
_ADDRESS_WORDS = ["Số 5", "ngõ 12", "Phường Quảng An", "Quận Tây Hồ", "Hà Nội", "Thôn Đông", "Xã Tân Lập"]


def age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@st.composite
def cards(draw: st.DrawFn) -> CardQr:
    born = draw(st.dates(date(1930, 1, 1), date(2024, 6, 1)))
    sex = draw(st.sampled_from(["M", "F"]))
    province = draw(st.sampled_from(sorted(LEGACY_PROVINCE_CODES)))
    serial = draw(st.integers(0, 10**6 - 1))
    id_number = id_number_of(born, sex, province=province, serial=serial)
    issued = draw(st.dates(max(born, CCCD_CHIP_FIRST_ISSUE), REFERENCE))
    if issued < CANCUOC_FIRST_ISSUE and age(born, issued) < 14:  # a CCCD from 14: make it a căn cước
        issued = draw(st.dates(CANCUOC_FIRST_ISSUE, REFERENCE))
    kind = "cancuoc_2024" if issued >= CANCUOC_FIRST_ISSUE else "cccd_2021"
    extras = draw(st.lists(st.sampled_from(["", "Trần Văn Bình", "001085012345"]), max_size=4))
    return CardQr(
        kind=kind,  # type: ignore[arg-type]
        id_number=id_number,
        old_id_number=draw(st.sampled_from(["", "123456789", "012345678901"])),
        full_name=" ".join(draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=4))),
        date_of_birth=born,
        sex=sex,  # type: ignore[arg-type]
        address=", ".join(draw(st.lists(st.sampled_from(_ADDRESS_WORDS), min_size=1, max_size=5))),
        issue_date=issued,
        extras=tuple(extras) if kind == "cancuoc_2024" else (),
    )


@settings(max_examples=200)
@given(cards())
def test_every_valid_card_renders_to_a_text_that_parses_back_to_it(card: CardQr) -> None:
    assert parse_card_qr(card.text, reference=REFERENCE) == card
    assert parse_card_qr(card.text.encode("utf-8"), reference=REFERENCE) == card


# --------------------------------------------------------------------------- fuzzing
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_arbitrary_input_is_either_a_card_or_a_domain_validation_error(text: str | bytes) -> None:
    try:
        parse_card_qr(text, reference=REFERENCE)
    except DomainValidationError as exc:
        assert exc.problems and all(p.field.startswith("qr") and p.rule and p.message for p in exc.problems)


_EDITS = helpers.edits("0123456789|| aăĐữ/-\x00\n\ud800\u200b\ufeff", max_position=300)


@settings(max_examples=400)
@given(st.sampled_from([CCCD, CANCUOC]), _EDITS)
def test_mutated_card_qrs_are_either_valid_or_rejected_with_named_problems(
    text: str, changes: list[helpers.Edit]
) -> None:
    helpers.assert_refused_by_name_or_read_back(
        partial(parse_card_qr, reference=REFERENCE), helpers.mutate(text, changes), field="qr"
    )


@settings(max_examples=400)
@given(st.sampled_from([CCCD, CANCUOC]), _EDITS)
def test_every_card_the_parser_returns_is_one_the_checked_constructor_accepts(
    text: str, changes: list[helpers.Edit]
) -> None:
    """The parser builds its result without re-running ``CardQr.__post_init__`` (ADR 0014 hot
    route): what it returns must still pass every check of the checked constructor."""
    try:
        card = parse_card_qr(helpers.mutate(text, changes), reference=REFERENCE)
    except DomainValidationError:
        return
    assert CardQr(**{f.name: getattr(card, f.name) for f in dataclasses.fields(CardQr)}) == card


@pytest.mark.parametrize("name", ["ŉa Văn An", "Nguyễn Văn ŉa"])
def test_a_name_that_normalises_differently_a_second_time_is_still_refused(name: str) -> None:
    """The letter "ŉ" capitalises to "ʼN", which normalises to "ʼn": the parsed name would not be a fixed
    point of ``normalise_name``, so the QR is refused naming the field and the rule."""
    with pytest.raises(DomainValidationError) as exc:
        parse_card_qr(f"001085012345||{name}|02031985|Nam|Hà Nội|01042021", reference=REFERENCE)
    assert [(p.field, p.rule) for p in exc.value.problems] == [("qr.full_name", "normalised")]


# --------------------------------------------------------------------------- rendering
def test_the_qr_symbol_uses_error_correction_level_m_in_byte_mode() -> None:
    symbol = qr_code(parse_card_qr(CCCD, reference=REFERENCE))
    assert ERROR_CORRECTION == "m"
    assert symbol.error == "M"
    assert symbol.mode == "byte"


def test_a_card_rendered_at_another_error_correction_level_decodes_to_the_same_text() -> None:
    """The cards' level is an assumption (ADR 0021): a decoder reads the level from the symbol,
    so a card printed at L, Q or H reads exactly like one at M; an unknown level is refused."""
    card = parse_card_qr(CANCUOC, reference=REFERENCE)
    for level in ("l", "q", "h"):
        symbol = qr_code(card, error=level)
        assert symbol.error == level.upper()
        buffer = io.BytesIO()
        symbol.save(buffer, kind="png", scale=4, border=4)
        assert decode_qr(buffer.getvalue()) == [card.text]
    with pytest.raises(DomainValidationError) as refused:
        qr_code(card, error="x")  # type: ignore[arg-type]
    assert problems_of(refused) == [("qr.error", "level")]


def test_png_pil_and_numpy_renderings_all_decode_to_the_card_text() -> None:
    card = parse_card_qr(CANCUOC, reference=REFERENCE)
    png = qr_png(card, scale=3)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode_qr(png) == [CANCUOC]
    image = qr_image(card)
    assert image.mode == "L"
    assert decode_qr(image) == [CANCUOC]
    pixels = qr_array(card, scale=2, border=4)
    assert pixels.dtype == np.uint8
    assert set(np.unique(pixels)) == {0, 255}
    assert (pixels[:8, :8] == 255).all()  # the quiet zone is light
    assert decode_qr(pixels) == [CANCUOC]


def test_an_empty_or_oversized_qr_text_or_a_bad_scale_is_not_rendered() -> None:
    for content, rule in (("", "required"), ("x" * (MAX_TEXT_LENGTH + 1), "length"), ("\ud800", "unicode")):
        with pytest.raises(DomainValidationError) as exc:
            qr_png(content)
        assert problems_of(exc) == [("qr", rule)]
    with pytest.raises(DomainValidationError) as exc:
        qr_array(CCCD, scale=0)
    assert problems_of(exc) == [("scale", "range")]


# --------------------------------------------------------------------------- camera photos
def _perspective_coefficients(
    output: list[tuple[float, float]], source: list[tuple[float, float]]
) -> tuple[float, ...]:
    """PIL's PERSPECTIVE data: maps each output corner to the source corner it samples."""
    rows: list[list[float]] = []
    rhs: list[float] = []
    for (x, y), (u, v) in zip(output, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return tuple(float(c) for c in np.linalg.solve(np.array(rows), np.array(rhs)))


def camera_photo(
    text: str,
    *,
    angle: float = 20.0,
    dark: int = 90,
    light: int = 140,
    blur: float = 1.2,
    noise: float = 6.0,
    scale: int = 4,
    gradient: float = 0.0,
    skew: float = 0.12,
    seed: int = 0,
    size: tuple[int, int] = (1280, 720),
) -> npt.NDArray[np.uint8]:
    """A synthetic phone photo of a card QR: grey on grey, pasted rotated onto a noisy background,
    perspective-skewed, blurred, optionally lit by a left-to-right gradient, with sensor noise."""
    rng = np.random.default_rng(seed)
    width, height = size
    modules = qr_array(text, scale=scale, border=4)
    code = Image.fromarray(np.where(modules == 0, dark, light).astype(np.uint8), mode="L")
    background = (dark + light) // 2
    frame = Image.fromarray(
        rng.normal(background, 4, (height, width)).clip(0, 255).astype(np.uint8), mode="L"
    )
    rotated = code.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=light)
    mask = Image.new("L", code.size, 255).rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    frame.paste(rotated, ((width - rotated.width) // 2, (height - rotated.height) // 2), mask)
    corners = [(0.0, 0.0), (width, 0.0), (width, height), (0.0, height)]
    dx, dy = skew * width, skew * height
    moved = [(dx, dy * 0.5), (width - dx * 0.3, 0.0), (width, height), (dx * 0.2, height - dy)]
    frame = frame.transform(
        (width, height),
        Image.Transform.PERSPECTIVE,
        _perspective_coefficients(moved, corners),
        Image.Resampling.BICUBIC,
        fillcolor=background,
    )
    if blur:
        frame = frame.filter(ImageFilter.GaussianBlur(blur))
    pixels = np.asarray(frame).astype(np.float32)
    pixels += np.linspace(-gradient, gradient, width, dtype=np.float32)[None, :]
    pixels += rng.normal(0, noise, (height, width)).astype(np.float32)
    return pixels.clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize("angle", [15.0, 20.0, 25.0, -18.0])
def test_a_skewed_low_contrast_blurred_noisy_photo_of_a_card_qr_is_decoded(angle: float) -> None:
    photo = camera_photo(CCCD, angle=angle, seed=int(angle) % 7)
    assert photo.shape == (720, 1280)
    assert decode_qr(photo) == [CCCD]


def test_photos_arrive_as_jpeg_or_png_bytes_rgb_arrays_or_pil_images() -> None:
    photo = camera_photo(CANCUOC)
    rgb = np.stack([photo, photo, photo], axis=-1)
    jpeg = io.BytesIO()
    Image.fromarray(rgb).save(jpeg, format="JPEG", quality=85)
    png = io.BytesIO()
    Image.fromarray(photo).save(png, format="PNG")
    assert decode_qr(jpeg.getvalue()) == [CANCUOC]
    assert decode_qr(png.getvalue()) == [CANCUOC]
    assert decode_qr(rgb) == [CANCUOC]
    assert decode_qr(Image.fromarray(rgb).convert("RGBA")) == [CANCUOC]
    assert decode_qr(np.dstack([rgb, np.full(photo.shape, 255, np.uint8)])) == [CANCUOC]
    assert decode_qr(photo[:, :, None]) == [CANCUOC]


def test_all_codes_in_a_frame_are_returned() -> None:
    frame = np.full((720, 1280), 200, dtype=np.uint8)
    first, second = qr_array(CCCD, scale=3), qr_array(CANCUOC, scale=3)
    frame[40 : 40 + first.shape[0], 40 : 40 + first.shape[1]] = first
    frame[300 : 300 + second.shape[0], 700 : 700 + second.shape[1]] = second
    assert sorted(decode_qr(frame)) == sorted([CCCD, CANCUOC])


def test_a_very_low_contrast_photo_is_read_after_the_contrast_stretch() -> None:
    # 16 grey levels between modules: below zxing-cpp's local dynamic-range floor until stretched
    photo = camera_photo(CCCD, dark=112, light=128, noise=3, blur=1.0, scale=5)
    reading = read_qr(photo)
    assert reading.texts == (CCCD,)
    assert reading.attempt == "contrast"


def test_a_very_noisy_photo_of_a_large_code_is_read_from_the_downscaled_copy() -> None:
    photo = camera_photo(CCCD, noise=30, scale=8, blur=1.5)
    reading = read_qr(photo)
    assert reading.texts == (CCCD,)
    assert reading.attempt == "downscaled"


def test_a_low_contrast_photo_under_a_strong_light_gradient_is_read_from_the_binarised_copy() -> None:
    photo = camera_photo(CCCD, dark=112, light=128, noise=5, blur=1.0, scale=6, gradient=160)
    reading = read_qr(photo)
    assert reading.texts == (CCCD,)
    assert reading.attempt == "binarised"


def test_a_photo_without_a_qr_code_is_reported_as_such() -> None:
    rng = np.random.default_rng(1)
    photo = rng.normal(120, 20, (720, 1280)).clip(0, 255).astype(np.uint8)
    with pytest.raises(DomainValidationError) as exc:
        decode_qr(photo)
    assert problems_of(exc) == [("image", "no_qr")]
    assert "1280×720" in exc.value.problems[0].message


@pytest.mark.parametrize(
    ("image", "rule"),
    [
        (b"", "format"),
        (b"not an image at all", "format"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "format"),  # a truncated PNG
        (b"GIF89a" + b"\x00" * 40, "format"),  # not PNG or JPEG
        (np.zeros((0, 0), dtype=np.uint8), "size"),
        (np.zeros((10, 10), dtype=np.float64), "dtype"),
        (np.zeros((10, 10, 2), dtype=np.uint8), "shape"),
        (np.zeros((2, 2, 2, 2), dtype=np.uint8), "shape"),
        (np.broadcast_to(np.uint8(0), (8000, 6000)), "too_large"),
        ("a string", "type"),
        (None, "type"),
    ],
)
def test_unusable_images_are_rejected_with_the_reason(image: object, rule: str) -> None:
    with pytest.raises(DomainValidationError) as exc:
        decode_qr(image)  # type: ignore[arg-type]
    assert problems_of(exc) == [("image", rule)]


def test_a_gif_and_a_tiny_image_are_handled_without_crashing() -> None:
    gif = io.BytesIO()
    Image.new("L", (30, 30), 255).save(gif, format="GIF")
    with pytest.raises(DomainValidationError) as exc:
        decode_qr(gif.getvalue())
    assert problems_of(exc) == [("image", "format")]
    with pytest.raises(DomainValidationError) as exc:
        decode_qr(np.full((3, 3), 255, dtype=np.uint8))
    assert problems_of(exc) == [("image", "no_qr")]
    assert decode_qr(np.kron(qr_array(CCCD, scale=1) > 0, np.ones((2, 2), dtype=bool))) == [CCCD]
