"""The QR code printed on Vietnamese identity cards: parse, check, generate, render and decode.

Two card types carry it (design note *domain-vn* §2):

* ``cccd_2021`` — the chip citizen identity card (Căn cước công dân gắn chip, model of Circular
  06/2021/TT-BCA), issued from 2021 until 30/06/2024. Exactly 7 ``|``-separated UTF-8 fields:
  ID number | old CMND number or empty | full name | date of birth ``ddmmyyyy`` | sex ``Nam``/``Nữ``
  | permanent address | issue date ``ddmmyyyy``.
* ``cancuoc_2024`` — the identity card (Thẻ căn cước, Law on Identification 2023, model of Circular
  16/2024/TT-BCA), issued from 01/07/2024. The same 7 fields first, then optional extra fields
  (cancelled ID numbers, parents' names on children's cards: names to verify), often empty as seen
  on real scans: ``…|04102024||||``. Extras are kept, in order, as a tuple of strings.

The card type is read from the text: more than 7 fields → ``cancuoc_2024``; exactly 7 fields →
by issue date (before 01/07/2024 → ``cccd_2021``, from then on → ``cancuoc_2024``, since chip
CCCDs stopped being issued when the Law on Identification 2023 took effect).

Every field is checked and cross-checked (:func:`parse_card_qr` lists the rules); every problem is a
:class:`~dancu.errors.DomainValidationError` naming the field (``qr.date_of_birth``) and the rule.
Arbitrary input — too long, control characters, invalid UTF-8, lone surrogates — yields such an
error, never another exception.

Images: :func:`qr_png`, :func:`qr_image`, :func:`qr_array` render a card QR with segno at error
correction level M — an assumption, no public source states the cards' level (``ERROR_CORRECTION``,
ADR 0021); :func:`decode_qr` reads QR codes from camera frames with zxing-cpp, at any level.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import segno
import zxingcpp
from PIL import Image, ImageFilter

from dancu.blocks.registry.idnumber import IdNumberParts, check_consistency, parse_id_number, validate_cmnd
from dancu.blocks.registry.names import is_normal_output, normalise_name
from dancu.errors import DomainValidationError, FieldProblem

Kind = Literal["cccd_2021", "cancuoc_2024"]
QrSex = Literal["M", "F"]
ErrorLevel = Literal["l", "m", "q", "h"]  # QR error correction levels, ISO/IEC 18004 (segno's names)

SEPARATOR = "|"
BASE_FIELDS = 7
# First issue of each card type. The chip CCCD model is that of Circular 06/2021/TT-BCA (January
# 2021): any 2021 date is accepted. The căn cước card exists since the Law on Identification 2023
# took effect, 01/07/2024 (Circular 16/2024/TT-BCA).
CCCD_CHIP_FIRST_ISSUE = date(2021, 1, 1)
CANCUOC_FIRST_ISSUE = date(2024, 7, 1)
# Law on Citizen Identification 2014 (59/2014/QH13) Art. 19: a CCCD is issued from age 14.
# Căn cước cards may be issued at any age (Law 26/2023/QH15 Art. 19): no minimum.
CCCD_MINIMUM_AGE = 14
MAX_TEXT_LENGTH = 1000  # characters of the whole QR text; real card QRs hold about 150–250
MAX_ADDRESS_LENGTH = 300
MAX_EXTRA_FIELDS = 16
MAX_EXTRA_LENGTH = 200
SEX_WORDS: dict[str, QrSex] = {"nam": "M", "nữ": "F"}
SEX_TEXT: dict[str, str] = {"M": "Nam", "F": "Nữ"}

_DATE_RE = re.compile(r"^[0-9]{8}$")


# --------------------------------------------------------------------------- the card QR
@dataclass(frozen=True)
class CardQr:
    """The content of a card QR, typed. ``sex`` is ``"M"`` (Nam) or ``"F"`` (Nữ); ``old_id_number``
    is ``""`` when the card shows none; ``full_name`` is normalised
    (:func:`~dancu.blocks.registry.names.normalise_name`); ``address`` is NFC with single spaces.

    Construction checks every rule of :func:`parse_card_qr` except those needing a reference date
    (nothing in the future): a ``CardQr`` always renders to a QR text that parses back to itself.
    """

    kind: Kind
    id_number: str
    old_id_number: str
    full_name: str
    date_of_birth: date
    sex: QrSex
    address: str
    issue_date: date
    extras: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = _field_problems(self)
        if problems:
            raise DomainValidationError(problems)
        try:
            if normalise_name(self.full_name, field="qr.full_name") != self.full_name:
                problems.append(_NOT_NORMALISED)
        except DomainValidationError as exc:
            problems.extend(exc.problems)
        problems += _form_problems(self)
        values = _Values(
            self.kind,
            self.id_number,
            self.old_id_number,
            self.full_name,
            self.date_of_birth,
            self.sex,
            self.address,
            self.issue_date,
            self.extras,
        )
        problems += _card_problems(values, reference=None)
        if problems:
            raise DomainValidationError(problems)

    @property
    def fields(self) -> tuple[str, ...]:
        """The ``|``-separated fields as printed in the QR, in order."""
        return (
            self.id_number,
            self.old_id_number,
            self.full_name,
            _ddmmyyyy(self.date_of_birth),
            SEX_TEXT[self.sex],
            self.address,
            _ddmmyyyy(self.issue_date),
            *self.extras,
        )

    @property
    def text(self) -> str:
        """The QR text; ``parse_card_qr(card.text) == card``."""
        return SEPARATOR.join(self.fields)


_NOT_NORMALISED = FieldProblem(
    "qr.full_name", "normalised", "must be normalised (NFC, one tone style, capitalised)"
)


def _field_problems(card: CardQr) -> list[FieldProblem]:
    """The rules of single text fields: kind, sex, text, no invalid or control characters, no
    separator."""
    problems: list[FieldProblem] = []
    if card.kind not in ("cccd_2021", "cancuoc_2024"):
        problems.append(FieldProblem("qr.kind", "kind", f"{card.kind!r} is not cccd_2021 or cancuoc_2024"))
    if card.sex not in ("M", "F"):
        problems.append(FieldProblem("qr.sex", "sex", f"{card.sex!r} is not M or F"))
    for name, value in (
        ("id_number", card.id_number),
        ("old_id_number", card.old_id_number),
        ("full_name", card.full_name),
        ("address", card.address),
        *((f"extras[{i}]", extra) for i, extra in enumerate(card.extras)),
    ):
        if not isinstance(value, str):
            problems.append(FieldProblem(f"qr.{name}", "type", "must be text"))
        elif problem := _text_problem(f"qr.{name}", value):
            problems.append(problem)
        elif SEPARATOR in value:
            problems.append(FieldProblem(f"qr.{name}", "separator", "must not contain the separator |"))
    return problems


def _form_problems(card: CardQr) -> list[FieldProblem]:
    """Address and extras in the form the parser gives them: NFC, single spaces."""
    problems: list[FieldProblem] = []
    if card.address != _clean(card.address):
        problems.append(FieldProblem("qr.address", "normalised", "must be NFC with single spaces"))
    if any(extra != _clean(extra) for extra in card.extras):
        problems.append(FieldProblem("qr.extras", "normalised", "must be NFC with single spaces"))
    return problems


def _parsed_card(values: _Values) -> CardQr:
    """The ``CardQr`` of values :func:`parse_card_qr` has checked, without running the
    cross-checks of ``__post_init__`` a second time.

    ``parse_card_qr`` has already found no problem with ``_card_problems`` at its reference date
    (a superset of the reference-free rules ``__post_init__`` applies); the cheap rules of single
    fields (``_field_problems``, ``_form_problems``) are applied here as in ``__post_init__``. The
    name is ``normalise_name``'s output; ``__post_init__`` requires it to be a fixed point of
    ``normalise_name``, which holds for every name written in the Vietnamese alphabet
    (``names.is_normal_output``; ``tests/blocks/registry/test_names.py`` checks it) and is checked
    by calling ``normalise_name`` again for any other name (e.g. ``ŉ`` capitalises to ``ʼN``,
    whose second normalisation is ``ʼn``: such a QR is refused as before). So every ``CardQr``
    this returns is one the checked constructor accepts (``tests/blocks/identity/test_qr.py``
    checks it on generated QR texts)."""
    card = object.__new__(CardQr)
    card.__dict__.update(zip(_Values._fields, values, strict=True))
    problems = _field_problems(card) or _form_problems(card)
    if not problems and not is_normal_output(card.full_name):
        try:
            if normalise_name(card.full_name, field="qr.full_name") != card.full_name:
                problems.append(_NOT_NORMALISED)
        except DomainValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise DomainValidationError(problems)
    return card


def _ddmmyyyy(value: date) -> str:
    return f"{value.day:02d}{value.month:02d}{value.year:04d}"


def _clean(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).split())


def _text_problem(field_name: str, value: str) -> FieldProblem | None:
    """Invalid Unicode (lone surrogates) or control/format/unassigned characters in a field."""
    if value.isprintable():  # none of Cs, Cc, Cf, Co, Cn, Zl, Zp (nor Zs but space): the usual case
        return None
    for i, ch in enumerate(value):
        category = unicodedata.category(ch)
        if category == "Cs":
            return FieldProblem(
                field_name, "unicode", f"invalid Unicode (lone surrogate) at position {i + 1}"
            )
        if category in ("Cc", "Cf", "Co", "Cn", "Zl", "Zp"):
            return FieldProblem(
                field_name,
                "control_characters",
                f"control or invisible character U+{ord(ch):04X} at position {i + 1}",
            )
    return None


class _Values(NamedTuple):
    """The typed fields of a card QR, before the cross-checks (a ``CardQr`` only exists checked)."""

    kind: Kind
    id_number: str
    old_id_number: str
    full_name: str
    date_of_birth: date
    sex: QrSex
    address: str
    issue_date: date
    extras: tuple[str, ...]


def _standalone_problems(
    id_number: str, old_id_number: str, address: str
) -> tuple[list[FieldProblem], IdNumberParts | None]:
    """Rules of single fields that need no other field: ID structure, old number, address. Also
    returns the parsed ID number (None when its structure is wrong), for the cross-field rules."""
    problems: list[FieldProblem] = []
    parts: IdNumberParts | None = None
    try:
        parts = parse_id_number(id_number, field="qr.id_number")
    except DomainValidationError as exc:
        problems += exc.problems
    if old_id_number:
        try:
            validate_cmnd(old_id_number, field="qr.old_id_number")
        except DomainValidationError as exc:
            problems += exc.problems
    if not address:
        problems.append(FieldProblem("qr.address", "required", "must not be empty"))
    elif len(address) > MAX_ADDRESS_LENGTH:
        problems.append(
            FieldProblem("qr.address", "length", f"must be at most {MAX_ADDRESS_LENGTH} characters")
        )
    return problems, parts


def _card_problems(card: _Values, *, reference: date | None) -> list[FieldProblem]:
    """The rules of a card QR (documented on :func:`parse_card_qr`)."""
    problems, parts = _standalone_problems(card.id_number, card.old_id_number, card.address)
    if parts is not None:  # the structure checks: parsed once, as the consistency rules need it
        problems += check_consistency(
            parts, date_of_birth=card.date_of_birth, sex=card.sex, field="qr.id_number"
        )
    if reference is not None:
        for name, value in (("date_of_birth", card.date_of_birth), ("issue_date", card.issue_date)):
            if value > reference:
                problems.append(
                    FieldProblem(
                        f"qr.{name}",
                        "future",
                        f"{value.isoformat()} is after the reference date {reference.isoformat()}",
                    )
                )
    if card.issue_date < card.date_of_birth:
        problems.append(
            FieldProblem(
                "qr.issue_date",
                "before_birth",
                f"issued {card.issue_date.isoformat()}, "
                f"before the date of birth {card.date_of_birth.isoformat()}",
            )
        )
    if card.kind == "cccd_2021":
        if card.issue_date < CCCD_CHIP_FIRST_ISSUE:
            problems.append(
                FieldProblem(
                    "qr.issue_date",
                    "before_card_type",
                    f"issued {card.issue_date.isoformat()}, but chip CCCDs (Circular 06/2021/TT-BCA) "
                    f"exist from {CCCD_CHIP_FIRST_ISSUE.isoformat()}",
                )
            )
        elif card.issue_date >= CANCUOC_FIRST_ISSUE:
            problems.append(
                FieldProblem(
                    "qr.issue_date",
                    "after_card_type",
                    f"issued {card.issue_date.isoformat()}, but CCCDs are no longer issued from "
                    f"{CANCUOC_FIRST_ISSUE.isoformat()} (Law on Identification 2023)",
                )
            )
        if card.extras:
            problems.append(
                FieldProblem(
                    "qr",
                    "field_count",
                    f"a chip CCCD QR (Circular 06/2021/TT-BCA) has exactly {BASE_FIELDS} fields, "
                    f"got {BASE_FIELDS + len(card.extras)}",
                )
            )
        age = _age(card.date_of_birth, card.issue_date)
        if card.issue_date >= card.date_of_birth and age < CCCD_MINIMUM_AGE:
            problems.append(
                FieldProblem(
                    "qr.issue_date",
                    "age_at_issue",
                    f"issued {card.issue_date.isoformat()} at age {age}; "
                    f"a CCCD is issued from age {CCCD_MINIMUM_AGE} (Law 59/2014/QH13 Art. 19)",
                )
            )
    elif card.issue_date < CANCUOC_FIRST_ISSUE:
        problems.append(
            FieldProblem(
                "qr.issue_date",
                "before_card_type",
                f"issued {card.issue_date.isoformat()}, but căn cước cards (Circular 16/2024/TT-BCA) "
                f"exist from {CANCUOC_FIRST_ISSUE.isoformat()}",
            )
        )
    if len(card.extras) > MAX_EXTRA_FIELDS:
        problems.append(
            FieldProblem(
                "qr.extras", "length", f"at most {MAX_EXTRA_FIELDS} extra fields, got {len(card.extras)}"
            )
        )
    for i, extra in enumerate(card.extras):
        if len(extra) > MAX_EXTRA_LENGTH:
            problems.append(
                FieldProblem(f"qr.extras[{i}]", "length", f"must be at most {MAX_EXTRA_LENGTH} characters")
            )
    return problems


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _parse_date(field_name: str, value: str, problems: list[FieldProblem]) -> date | None:
    if not _DATE_RE.match(value):
        problems.append(FieldProblem(field_name, "date", f"{_show(value)} is not a date ddmmyyyy (8 digits)"))
        return None
    try:
        return date(int(value[4:]), int(value[2:4]), int(value[:2]))
    except ValueError:
        problems.append(FieldProblem(field_name, "date", f"{value} is not a calendar date (ddmmyyyy)"))
        return None


def _show(value: str) -> str:
    """Echo input back safely: unprintable characters escaped, at most 20 characters."""
    shown = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        for ch in value[:20]
    )
    return repr(shown + ("…" if len(value) > 20 else ""))


_FIELD_NAMES = ("id_number", "old_id_number", "full_name", "date_of_birth", "sex", "address", "issue_date")


def parse_card_qr(text: object, *, reference: date | None = None) -> CardQr:
    """Parse and check the QR text of a chip CCCD or a căn cước card.

    ``text`` is ``str`` or UTF-8 ``bytes``; whitespace around the whole text (scanners append
    CR/LF) and a leading byte-order mark are dropped, each field is stripped. ``reference``
    (default: today) is the date nothing may be after. Rules, with the rule name reported:

    * ``qr``: at most 1000 characters (``length``); at least 7 fields (``field_count``); valid
      UTF-8 (``unicode``);
    * every field: no lone surrogates (``unicode``), no control, format or unassigned characters
      (``control_characters``);
    * ``qr.id_number``: 12 digits with a known province or country code (Circular 07/2016/TT-BCA
      Art. 7), century/sex and year digits consistent with the date of birth and sex
      (``century``, ``birth_year``, ``sex`` — :func:`~dancu.blocks.registry.idnumber.check_consistency`);
    * ``qr.old_id_number``: empty, or 9 digits (CMND), or 12 digits (CMND issued 2012–2016);
    * ``qr.full_name``: a personal name, NFC-normalised (rules of
      :func:`~dancu.blocks.registry.names.normalise_name`);
    * ``qr.date_of_birth``, ``qr.issue_date``: ``ddmmyyyy`` calendar dates (``date``), not after
      ``reference`` (``future``); the issue date not before the date of birth (``before_birth``);
    * ``qr.sex``: ``Nam`` or ``Nữ``, any case, any Unicode normal form (``sex``);
    * ``qr.address``: not empty, at most 300 characters; NFC, single spaces;
    * card type: a chip CCCD is issued from 2021 (``before_card_type``), not from 01/07/2024
      (then the card is a căn cước), to holders aged 14 or more (``age_at_issue``, Law
      59/2014/QH13 Art. 19), with exactly 7 fields (``field_count``); a căn cước card is issued
      from 01/07/2024 (``before_card_type``), at any age;
    * extras (căn cước only): at most 16, each at most 200 characters, NFC with single spaces.
    """
    ref = reference or date.today()
    if isinstance(text, bytes | bytearray):
        if len(text) > 4 * MAX_TEXT_LENGTH:
            raise DomainValidationError.single(
                "qr", "length", f"must be at most {MAX_TEXT_LENGTH} characters"
            )
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DomainValidationError.single(
                "qr", "unicode", f"is not valid UTF-8 (byte {exc.start + 1})"
            ) from None
    if not isinstance(text, str):
        raise DomainValidationError.single("qr", "type", "must be text (str or UTF-8 bytes)")
    text = text.strip().removeprefix("\ufeff").strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise DomainValidationError.single(
            "qr", "length", f"must be at most {MAX_TEXT_LENGTH} characters, got {len(text)}"
        )
    fields = text.split(SEPARATOR)
    if len(fields) < BASE_FIELDS:
        raise DomainValidationError.single(
            "qr",
            "field_count",
            f"a card QR has at least {BASE_FIELDS} fields separated by |, got {len(fields)}",
        )
    names = [*_FIELD_NAMES, *(f"extras[{i}]" for i in range(len(fields) - BASE_FIELDS))]
    problems = [
        p for name, value in zip(names, fields, strict=True) if (p := _text_problem(f"qr.{name}", value))
    ]
    if problems:
        raise DomainValidationError(problems)
    cleaned = [_clean(value) for value in fields]
    id_number, old_id, raw_name, raw_birth, raw_sex, address, raw_issue = cleaned[:BASE_FIELDS]
    extras = tuple(cleaned[BASE_FIELDS:])
    full_name = ""
    try:
        full_name = normalise_name(raw_name, field="qr.full_name")
    except DomainValidationError as exc:
        problems += exc.problems
    born = _parse_date("qr.date_of_birth", raw_birth, problems)
    issued = _parse_date("qr.issue_date", raw_issue, problems)
    sex = SEX_WORDS.get(raw_sex.casefold())
    if sex is None:
        problems.append(FieldProblem("qr.sex", "sex", f"{_show(raw_sex)} is not Nam or Nữ"))
    if problems or born is None or issued is None or sex is None:
        # The cross-checks need every field typed: report what can be checked field by field.
        raise DomainValidationError(_standalone_problems(id_number, old_id, address)[0] + problems)
    kind: Kind = "cancuoc_2024" if extras or issued >= CANCUOC_FIRST_ISSUE else "cccd_2021"
    values = _Values(kind, id_number, old_id, full_name, born, sex, address, issued, extras)
    problems = _card_problems(values, reference=ref)
    if problems:
        raise DomainValidationError(problems)
    return _parsed_card(values)


# --------------------------------------------------------------------------- rendering
# ASSUMPTION (no public source found, ADR 0021): the error correction level of the QR printed on
# chip CCCD and căn cước cards. Circular 06/2021/TT-BCA and Circular 16/2024/TT-BCA as quoted in
# public pages give the QR's place, size and content, not its error correction level; searches of
# public documentation, code and pages (2026-12-01) found no statement of it. Level M (≈15 % of
# codewords recoverable) is this project's choice for the synthetic cards it renders, fixed and
# not boosted. Reading does not depend on it: a QR symbol carries its own level in its format
# information, which decoders read first (ISO/IEC 18004, as ZXing's ``FormatInformation`` and
# ``ErrorCorrectionLevel`` document it), so a card printed at any level decodes the same. Pass
# ``error=`` to :func:`qr_code` to render at another level.
ERROR_CORRECTION: ErrorLevel = "m"
QrContent = str | CardQr


def qr_code(content: QrContent, *, error: ErrorLevel = ERROR_CORRECTION) -> segno.QRCode:
    """The QR symbol for a card QR text (UTF-8, byte mode), at error correction level ``error``
    (``ERROR_CORRECTION``, M, by default — an assumption, see there)."""
    if error not in ("l", "m", "q", "h"):
        raise DomainValidationError.single("qr.error", "level", f"{error!r} is not one of l, m, q, h")
    text = content.text if isinstance(content, CardQr) else content
    if not isinstance(text, str) or not text:
        raise DomainValidationError.single("qr", "required", "the QR text must be a non-empty string")
    if len(text) > MAX_TEXT_LENGTH:
        raise DomainValidationError.single("qr", "length", f"must be at most {MAX_TEXT_LENGTH} characters")
    try:
        return segno.make_qr(text, error=error, boost_error=False, encoding="utf-8")
    except UnicodeEncodeError:
        raise DomainValidationError.single("qr", "unicode", "contains invalid Unicode") from None
    except segno.DataOverflowError:
        raise DomainValidationError.single(
            "qr", "length", f"too long for one QR code at error correction level {error.upper()}"
        ) from None


def qr_png(content: QrContent, *, scale: int = 4, border: int = 4) -> bytes:
    """PNG bytes of the card QR: ``scale`` pixels per module, ``border`` modules of quiet zone."""
    buffer = io.BytesIO()
    qr_code(content).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def qr_array(content: QrContent, *, scale: int = 4, border: int = 4) -> npt.NDArray[np.uint8]:
    """The card QR as a greyscale array: 0 for dark modules, 255 for light, with the quiet zone."""
    if scale < 1 or border < 0:
        raise DomainValidationError.single("scale", "range", "scale must be ≥ 1 and border ≥ 0")
    modules = np.array([list(row) for row in qr_code(content).matrix], dtype=bool)
    modules = np.pad(modules, border, constant_values=False)
    pixels = np.where(modules, 0, 255).astype(np.uint8)
    return np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)


def qr_image(content: QrContent, *, scale: int = 4, border: int = 4) -> Image.Image:
    """The card QR as a PIL image (mode ``L``)."""
    return Image.fromarray(qr_array(content, scale=scale, border=border), mode="L")


# --------------------------------------------------------------------------- decoding
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
ImageInput = bytes | bytearray | memoryview | npt.NDArray[np.generic] | Image.Image
Attempt = Literal["as_is", "contrast", "downscaled", "binarised"]


@dataclass(frozen=True)
class QrReading:
    """The QR texts found in an image and the attempt that found them."""

    texts: tuple[str, ...]
    attempt: Attempt


def _image_error(rule: str, message: str) -> DomainValidationError:
    return DomainValidationError.single("image", rule, message)


def _check_size(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise _image_error("size", "the image is empty")
    if width * height > MAX_IMAGE_PIXELS:
        raise _image_error(
            "too_large", f"{width}×{height} pixels is more than {MAX_IMAGE_PIXELS // 1_000_000} megapixels"
        )


def _to_grey(image: object) -> npt.NDArray[np.uint8]:
    """A C-contiguous 2-D uint8 greyscale array from PNG/JPEG bytes, a PIL image or a numpy array.

    Arrays: uint8 (or bool), shape (h, w), (h, w, 1), (h, w, 3) or (h, w, 4). Three channels are
    read as RGB; for BGR (OpenCV) frames the grey level differs slightly, which QR detection does
    not mind.
    """
    if isinstance(image, bytes | bytearray | memoryview):
        data = bytes(image)
        if len(data) > MAX_IMAGE_BYTES:
            raise _image_error("too_large", f"more than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                opened = Image.open(io.BytesIO(data), formats=["PNG", "JPEG"])
                _check_size(*opened.size)
                grey = opened.convert("L")
        except DomainValidationError:
            raise
        except Exception:  # Pillow raises many types on corrupt data: all mean "unreadable"
            raise _image_error("format", "not a readable PNG or JPEG image") from None
        return np.ascontiguousarray(np.asarray(grey, dtype=np.uint8))
    if isinstance(image, Image.Image):
        _check_size(*image.size)
        try:
            return np.ascontiguousarray(np.asarray(image.convert("L"), dtype=np.uint8))
        except Exception:  # e.g. a lazily loaded image whose data turns out corrupt
            raise _image_error("format", f"cannot convert a {image.mode} image to greyscale") from None
    if isinstance(image, np.ndarray):
        array = image
        if array.dtype == np.bool_:
            array = array.astype(np.uint8) * 255
        if array.dtype != np.uint8:
            raise _image_error("dtype", f"array must be uint8 (or bool), got {array.dtype}")
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        if array.ndim == 2:
            _check_size(array.shape[1], array.shape[0])
            return np.ascontiguousarray(array)
        if array.ndim == 3 and array.shape[2] in (3, 4):
            _check_size(array.shape[1], array.shape[0])
            mode = "RGB" if array.shape[2] == 3 else "RGBA"
            pil = Image.fromarray(np.ascontiguousarray(array), mode=mode)
            return np.ascontiguousarray(np.asarray(pil.convert("L"), dtype=np.uint8))
        raise _image_error("shape", f"array shape {array.shape} is not (h, w), (h, w, 3) or (h, w, 4)")
    raise _image_error("type", "must be PNG/JPEG bytes, a PIL image or a numpy array")


_BOX_3X3 = ImageFilter.Kernel((3, 3), [1] * 9, scale=9)  # a 3×3 mean filter


def _pil(grey: npt.NDArray[np.uint8]) -> Image.Image:
    return Image.fromarray(grey, mode="L")


def _array(image: Image.Image) -> npt.NDArray[np.uint8]:
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))


def _stretch(grey: npt.NDArray[np.uint8], *, target: int = 255) -> npt.NDArray[np.uint8]:
    """Contrast stretch: the 1st–99th percentile range of the histogram is widened to ``target``
    grey levels around its middle (never narrowed).

    zxing-cpp's local-average binariser treats blocks whose grey-level range is under 24 as flat,
    so a code printed grey on grey, or photographed in dim light, is invisible to it until
    stretched. Percentiles, not the extremes, so that a few specular or noisy pixels do not
    dictate the range."""
    cumulative = np.bincount(grey.ravel(), minlength=256).cumsum()
    total = int(cumulative[-1])
    low = int(np.searchsorted(cumulative, total * 0.01))
    high = int(np.searchsorted(cumulative, total * 0.99))
    gain = target / max(high - low, 1)
    if gain <= 1.0:
        return grey
    levels = (np.arange(256) - (low + high) / 2) * gain + 127.5
    lut = np.clip(levels, 0, 255).astype(np.uint8)
    return _array(_pil(grey).point(lut.tolist()))


def _contrast(grey: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """CLAHE-like contrast enhancement with a gain limit: a 3×3 box filter takes the sensor noise
    down, then the percentile range is widened to 48 grey levels. Limiting the gain matters: a
    full 0–255 stretch lifts background noise above the binariser's flat-block threshold (24)
    and hides the finder patterns in speckle."""
    smooth = _array(_pil(grey).filter(_BOX_3X3))
    return _stretch(smooth, target=48)


def _downscale(grey: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Half size by 2×2 averaging, then a 3×3 box filter (together they average ≈ 36 sensor
    pixels: heavy noise on large modules), stretched like :func:`_contrast`."""
    if min(grey.shape) < 42:  # a QR code needs at least 21 × 21 pixels
        return grey
    return _stretch(_array(_pil(grey).reduce(2).filter(_BOX_3X3)), target=48)


def _binarise(grey: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Adaptive threshold of a denoised half-size copy (3×3 box filter, then 2×2 averaging): black
    where a pixel is darker than the bilinearly interpolated mean of its tile (≈ 1/40 of the
    short side) by 2 levels, white elsewhere. Copes with strong illumination gradients combined
    with low contrast, where no global stretch helps."""
    image = _pil(grey).filter(_BOX_3X3)
    if min(grey.shape) >= 84:
        image = image.reduce(2)
    tile = max(4, min(image.size) // 40)
    small = (max(1, image.width // tile), max(1, image.height // tile))
    mean = image.resize(small, Image.Resampling.BOX).resize(image.size, Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.int16)
    threshold = np.asarray(mean, dtype=np.int16) - 2
    return np.ascontiguousarray(np.where(pixels < threshold, 0, 255).astype(np.uint8))


_QR_FORMATS = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def _read(grey: npt.NDArray[np.uint8]) -> tuple[str, ...]:
    found: list[str] = []
    for barcode in zxingcpp.read_barcodes(grey, formats=_QR_FORMATS):
        try:
            text = barcode.bytes.decode("utf-8")
        except UnicodeDecodeError:
            text = barcode.text
        if text not in found:
            found.append(text)
    return tuple(found)


def read_qr(image: ImageInput) -> QrReading:
    """Find QR codes in a photo or scan, trying in turn (and stopping at the first that finds any):

    1. ``as_is`` — the image in greyscale, as zxing-cpp reads it anyway (local-average
       binariser, rotations, inverted codes, its own downscaling);
    2. ``contrast`` — 3×3 denoising and a gain-limited percentile stretch: grey-on-grey codes,
       dim light, sensor noise on small modules;
    3. ``downscaled`` — half size by 2×2 averaging, smoothed, stretched: heavy sensor noise on
       large modules;
    4. ``binarised`` — an adaptive (tile-mean) threshold of a half-size copy: strong lighting
       gradients with low contrast.

    Each attempt costs one zxing-cpp pass (≈ 5–10 ms for a 1280×720 frame on one core); the
    preparation of attempts 2–4 costs a few ms (histogram, PIL box reductions, no per-pixel
    Python).

    Raises ``DomainValidationError`` on field ``image``: ``no_qr`` when no attempt finds a code;
    ``format``, ``type``, ``dtype``, ``shape``, ``size`` or ``too_large`` for unusable input.
    """
    grey = _to_grey(image)
    steps: tuple[tuple[Attempt, Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]]], ...] = (
        ("as_is", lambda g: g),
        ("contrast", _contrast),
        ("downscaled", _downscale),
        ("binarised", _binarise),
    )
    for attempt, prepare in steps:
        texts = _read(np.ascontiguousarray(prepare(grey)))
        if texts:
            return QrReading(texts=texts, attempt=attempt)
    raise _image_error(
        "no_qr",
        f"no QR code found in the {grey.shape[1]}×{grey.shape[0]} image "
        "(tried as-is, contrast-stretched, downscaled and binarised)",
    )


def decode_qr(image: ImageInput) -> list[str]:
    """The texts of all QR codes found in ``image`` (PNG/JPEG bytes, PIL image or numpy array);
    see :func:`read_qr` for the attempts made. Raises ``DomainValidationError("image", "no_qr")``."""
    return list(read_qr(image).texts)
