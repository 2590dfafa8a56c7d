"""The 12-digit personal identification number (số định danh cá nhân).

Decree 137/2015/NĐ-CP Art. 13 and Circular 07/2016/TT-BCA Art. 7, still in force under the Law
on Identification 2023: ``PPP G YY RRRRRR``.

* ``PPP`` — where the birth was registered: one of the 63 legacy province codes (Circular 07/2016
  Appendix 1), or a country code 101–295 for births registered abroad. Never validate against
  the 34 provinces of 2025.
* ``G`` — century and sex: 0/1 born 1900–1999 male/female, 2/3 2000–2099, … 8/9 2300–2399.
* ``YY`` — last two digits of the birth year; ``RRRRRR`` random. There is no checksum.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from dancu.errors import DomainValidationError, FieldProblem

# Circular 07/2016/TT-BCA Appendix 1: legacy province codes (= statistics office codes with a 0).
LEGACY_PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
    "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
    "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu",
    "079": "TP Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh",
    "086": "Vĩnh Long", "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ",
    "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}  # fmt: skip

FOREIGN_CODE_RANGE = range(101, 296)  # births registered abroad: country codes 101–295
_ID_RE = re.compile(r"^[0-9]{12}$")
_CMND_RE = re.compile(r"^[0-9]{9}$")


@dataclass(frozen=True)
class IdNumberParts:
    number: str
    place_code: str
    born_abroad: bool
    century_sex_digit: int
    birth_year: int
    sex: str  # "M" or "F"

    @property
    def place_name(self) -> str:
        return LEGACY_PROVINCE_CODES.get(self.place_code, "nước ngoài / abroad")


def century_sex_digit(birth_year: int, sex: str) -> int:
    """The ``G`` digit for a birth year (1900–2399) and sex ("M"/"F")."""
    if not 1900 <= birth_year <= 2399:
        raise DomainValidationError.single(
            "date_of_birth", "year_range", f"birth year {birth_year} is outside 1900–2399"
        )
    return 2 * ((birth_year - 1900) // 100) + (0 if sex == "M" else 1)


def parse_id_number(value: object, *, field: str = "id_number") -> IdNumberParts:
    """Parse and check the structure; raises ``DomainValidationError`` naming ``field`` and the rule."""
    if not isinstance(value, str):
        raise DomainValidationError.single(field, "type", "must be a string of 12 digits")
    if not value.isascii() or not value.isdigit():
        raise DomainValidationError.single(
            field, "digits", f"{_safe(value)} must contain only the digits 0–9"
        )
    if not _ID_RE.match(value):
        raise DomainValidationError.single(field, "length", f"must have 12 digits, got {len(value)}")
    place = value[:3]
    place_int = int(place)
    abroad = place_int in FOREIGN_CODE_RANGE
    if place not in LEGACY_PROVINCE_CODES and not abroad:
        raise DomainValidationError.single(
            field,
            "province_code",
            f"{value}: {place} is neither one of the 63 province codes of Circular 07/2016 "
            "nor a country code 101–295",
        )
    g = int(value[3])
    yy = int(value[4:6])
    year = 1900 + 100 * (g // 2) + yy
    return IdNumberParts(value, place, abroad, g, year, "M" if g % 2 == 0 else "F")


def check_consistency(
    parts: IdNumberParts, *, date_of_birth: date, sex: str, field: str = "id_number"
) -> list[FieldProblem]:
    """Problems between the number and the recorded birth year and sex (empty when consistent)."""
    problems: list[FieldProblem] = []
    century_start = 1900 + 100 * (parts.century_sex_digit // 2)
    if not century_start <= date_of_birth.year < century_start + 100:
        problems.append(
            FieldProblem(
                field,
                "century",
                f"{parts.number}: century/sex digit {parts.century_sex_digit} means born "
                f"{century_start}–{century_start + 99}, but date of birth is {date_of_birth.isoformat()}",
            )
        )
    elif parts.birth_year != date_of_birth.year:
        problems.append(
            FieldProblem(
                field,
                "birth_year",
                f"{parts.number}: digits 5–6 ({parts.number[4:6]}) say born {parts.birth_year}, "
                f"but date of birth is {date_of_birth.isoformat()}",
            )
        )
    if parts.sex != sex:
        problems.append(
            FieldProblem(
                field,
                "sex",
                f"{parts.number}: century/sex digit {parts.century_sex_digit} means "
                f"{'male' if parts.sex == 'M' else 'female'}, but sex is recorded as "
                f"{'male' if sex == 'M' else 'female'}",
            )
        )
    return problems


def validate_id_number(
    value: object, *, date_of_birth: date, sex: str, field: str = "id_number"
) -> IdNumberParts:
    """Structure plus consistency with date of birth and sex; raises on any problem."""
    parts = parse_id_number(value, field=field)
    problems = check_consistency(parts, date_of_birth=date_of_birth, sex=sex, field=field)
    if problems:
        raise DomainValidationError(problems)
    return parts


def validate_cmnd(value: object, *, field: str = "old_id_number") -> str:
    """The old identity-card number: 9 digits (CMND), or 12 digits (CMND issued 2012–2016)."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        raise DomainValidationError.single(field, "digits", "must contain only the digits 0–9")
    if not (_CMND_RE.match(value) or _ID_RE.match(value)):
        raise DomainValidationError.single(field, "length", f"must have 9 or 12 digits, got {len(value)}")
    return value


def _safe(value: str) -> str:
    """Echo input back without control characters or unbounded length."""
    printable = "".join(ch if ch.isprintable() else "?" for ch in value[:20])
    return repr(printable + ("…" if len(value) > 20 else ""))
