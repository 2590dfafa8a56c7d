"""Address-resolver accuracy benchmark and the generator of its test set.

The test set (``tests/blocks/adminunits/address_testset.csv``) is generated deterministically
(seeded) from the real legacy units: legacy addresses of Hà Nội wards and of wards of every other
province, written the many ways they are seen on cards and forms — with and without diacritics,
either tone-placement style (hoà/hòa), abbreviated designators (P., Q., X., H., TX, TT, TP),
upper/lower case, extra commas and spaces, "Hà Nội"/"TP Hà Nội"/"Thành phố Hà Nội"/"HN", a house
number and street in front, a few typos — plus a smaller group written in current units. The
expected legacy ward is the one the address was built from; the expected current ward is its
primary crosswalk target.

Usage (from the repository root)::

    PYTHONPATH=src .venv/bin/python bench/address_accuracy.py --generate   # rewrite the CSV, measure
    PYTHONPATH=src .venv/bin/python bench/address_accuracy.py              # measure only

It prints the share of addresses resolved to the correct legacy ward and to the correct current
ward, per variant, and the resolution rate per second (one process, warm index).
"""

from __future__ import annotations

import argparse
import csv
import platform
import random
import sys
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dancu.blocks.adminunits.catalogue import AdminUnit, Catalogue, catalogue  # noqa: E402
from dancu.blocks.adminunits.normaliser import tone_style  # noqa: E402

TESTSET = ROOT / "tests" / "blocks" / "adminunits" / "address_testset.csv"
SEED = 20250701
N_HANOI = 320
N_OTHER = 280
N_CURRENT = 80
FIELDS = ["input", "expected_legacy_ward_code", "expected_ward_code", "variant"]

STREETS = [
    "Số 12 ngõ 34",
    "Số 5, ngách 3/12, ngõ 45",
    "12 Phố Huế",
    "số 101 đường Trần Hưng Đạo",
    "Thôn 3",
    "Tổ 7",
    "Xóm Đình",
    "Khu phố 4",
    "Số 27A, tổ dân phố số 2",
    "P.1204 tòa B2",
    "Ấp Tân Phú",
    "Bản Na Hang",
    "Số 8/15 hẻm 44",
    "Đội 6",
    "",
    "",
]

WARD_DESIGNATORS = {
    "ward": ["Phường", "P.", "P", "p.", "F"],
    "commune": ["Xã", "X.", "xã", "X"],
    "township": ["Thị trấn", "TT", "TT.", "T.T"],
}
DISTRICT_DESIGNATORS = {
    "urban_district": ["Quận", "Q.", "Q", "quận"],
    "rural_district": ["Huyện", "H.", "huyện", "H"],
    "town": ["Thị xã", "TX", "TX.", "T.X"],
    "provincial_city": ["Thành phố", "TP", "TP.", "Tp", "Tp."],
}


@dataclass(frozen=True)
class Case:
    text: str
    legacy_ward_code: str
    ward_code: str
    variant: str


def strip_diacritics(text: str) -> str:
    """Remove tones and vowel marks, keeping case: "Đống Đa" → "Dong Da"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


def typo(rng: random.Random, name: str) -> str:
    """One realistic keying error in a name: a letter dropped, doubled, swapped, or a tone lost."""
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if len(letters) < 6:
        return name
    i = rng.choice(letters[1:-1])
    op = rng.choice(["drop", "double", "swap", "tone"])
    if op == "drop":
        return name[:i] + name[i + 1 :]
    if op == "double":
        return name[:i] + name[i] + name[i:]
    if op == "swap" and name[i + 1].isalpha():
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    words = name.split(" ")
    j = rng.randrange(len(words))
    words[j] = strip_diacritics(words[j])
    return " ".join(words)


def province_text(rng: random.Random, province: AdminUnit) -> tuple[str, str]:
    if province.name == "Hà Nội":
        options = [
            "Hà Nội",
            "TP Hà Nội",
            "Thành phố Hà Nội",
            "HN",
            "TP. Hà Nội",
            "Tp Hà Nội",
            "Hà Nội, Việt Nam",
        ]
    elif province.name == "Hồ Chí Minh":
        options = ["TP Hồ Chí Minh", "TP HCM", "TPHCM", "Thành phố Hồ Chí Minh", "Tp.HCM", "Hồ Chí Minh"]
    elif province.type == "city":
        options = [province.full_name, province.name, f"TP {province.name}", f"TP. {province.name}"]
    else:
        options = [province.full_name, province.name, province.name, f"T. {province.name}"]
    choice = rng.choice(options)
    return choice, "province=" + str(options.index(choice))


def legacy_case(rng: random.Random, cat: Catalogue, ward: AdminUnit) -> Case:
    district = cat.legacy_districts[ward.district_code]
    province = cat.legacy_provinces[ward.province_code]
    primary = cat.primary_pair(ward.code)
    assert primary is not None
    tags: list[str] = []

    numeric_ward = ward.name.isdigit()
    numeric_district = district.name.isdigit()
    ward_name = ward.name
    if rng.random() < 0.06 and not numeric_ward:
        ward_name = typo(rng, ward_name)
        if ward_name != ward.name:
            tags.append("typo")
    district_name = district.name
    if rng.random() < 0.03 and not numeric_district:
        district_name = typo(rng, district_name)
        if district_name != district.name:
            tags.append("district-typo")
    w_designator = rng.choice(WARD_DESIGNATORS[ward.type])
    if not numeric_ward and rng.random() < 0.12:
        w_designator = ""
        tags.append("no-ward-designator")
    d_designator = rng.choice(DISTRICT_DESIGNATORS[district.type])
    if not numeric_district and rng.random() < 0.12:
        d_designator = ""
        tags.append("no-district-designator")

    def join(designator: str, name: str) -> str:
        if not designator:
            return name
        if designator.endswith(".") and rng.random() < 0.5:
            return designator + name
        if len(designator) <= 2 and name.isdigit() and rng.random() < 0.5:
            return designator + name  # "P12", "Q3"
        return f"{designator} {name}"

    parts = [join(w_designator, ward_name), join(d_designator, district_name)]
    p_text, p_tag = province_text(rng, province)
    if rng.random() < 0.05:
        tags.append("no-province")
    else:
        parts.append(p_text)
        tags.append(p_tag)
    street = rng.choice(STREETS)
    if street:
        parts.insert(0, street)
        tags.append("street")

    separator = rng.choices([", ", ",", " , ", ",  ", " - ", " ", ", , "], [50, 10, 8, 8, 5, 12, 3])[0]
    if separator != ", ":
        tags.append("separator")
    text = separator.join(parts)
    if rng.random() < 0.15:
        styled = tone_style(text, "new")
        if styled == text:
            styled = tone_style(text, "old")
        if styled != text:
            tags.append("tone-style")
            text = styled
    if rng.random() < 0.3:
        text = strip_diacritics(text)
        tags.append("no-diacritics")
    case_roll = rng.random()
    if case_roll < 0.1:
        text = text.upper()
        tags.append("upper")
    elif case_roll < 0.25:
        text = text.lower()
        tags.append("lower")
    if rng.random() < 0.1:
        text = "  " + text.replace(" ", "  ", 1) + " "
        tags.append("spaces")
    return Case(text, ward.code, primary.ward_code, " ".join(tags))


def current_case(rng: random.Random, cat: Catalogue, ward: AdminUnit) -> Case:
    province = cat.provinces[ward.province_code]
    designator = {"ward": ["Phường", "P."], "commune": ["Xã", "X."], "special_zone": ["Đặc khu"]}[ward.type]
    p_text, p_tag = province_text(rng, province)
    street = rng.choice(STREETS)
    text = ", ".join(p for p in [street, f"{rng.choice(designator)} {ward.name}", p_text] if p)
    tags = ["current", p_tag]
    if rng.random() < 0.3:
        text = strip_diacritics(text)
        tags.append("no-diacritics")
    return Case(text, "", ward.code, " ".join(tags))


def generate(seed: int = SEED) -> list[Case]:
    """The test set: legacy addresses (Hà Nội and elsewhere) and current-unit addresses."""
    rng = random.Random(seed)
    cat = catalogue()
    crosswalked = [w for code, w in sorted(cat.legacy_wards.items()) if code in cat.crosswalk]
    hanoi = [w for w in crosswalked if w.province_code == "01"]
    other = [w for w in crosswalked if w.province_code != "01"]
    cases = [legacy_case(rng, cat, w) for w in rng.sample(hanoi, N_HANOI)]
    cases += [legacy_case(rng, cat, w) for w in rng.sample(other, N_OTHER)]
    current = [cat.wards[c] for c in sorted(cat.wards)]
    current_hanoi = [w for w in current if w.province_code == "01"]
    cases += [current_case(rng, cat, w) for w in rng.sample(current_hanoi, N_CURRENT // 2)]
    cases += [current_case(rng, cat, w) for w in rng.sample(current, N_CURRENT // 2)]
    return cases


def write_testset(cases: list[Case], path: Path = TESTSET) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(FIELDS)
        for c in cases:
            writer.writerow([c.text, c.legacy_ward_code, c.ward_code, c.variant])


def read_testset(path: Path = TESTSET) -> list[Case]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [
            Case(r["input"], r["expected_legacy_ward_code"], r["expected_ward_code"], r["variant"])
            for r in csv.DictReader(fh)
        ]


@dataclass
class Result:
    total: int
    legacy_correct: int
    current_correct: int
    unresolved: int
    seconds: float
    failures: list[tuple[Case, str, str]]

    @property
    def legacy_accuracy(self) -> float:
        return self.legacy_correct / self.total

    @property
    def current_accuracy(self) -> float:
        return self.current_correct / self.total

    @property
    def rate(self) -> float:
        return self.total / self.seconds if self.seconds else float("inf")


def measure(cases: list[Case]) -> Result:
    """Resolve every case (warm index) and count correct legacy and current wards."""
    from dancu.blocks.adminunits.services import resolve_address

    resolve_address("Phường Quảng An, Quận Tây Hồ, Hà Nội")  # build the index outside the timing
    legacy_ok = current_ok = unresolved = 0
    failures = []
    started = time.perf_counter()
    results = [resolve_address(c.text) for c in cases]
    seconds = time.perf_counter() - started
    for case, got in zip(cases, results, strict=True):
        got_legacy = got.legacy_ward_code if got else None
        got_current = got.ward_code if got else None
        unresolved += got is None
        legacy_ok += got_legacy == case.legacy_ward_code
        current_ok += got_current == case.ward_code
        if got_legacy != case.legacy_ward_code or got_current != case.ward_code:
            failures.append((case, str(got_legacy), str(got_current)))
    return Result(len(cases), legacy_ok, current_ok, unresolved, seconds, failures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--generate", action="store_true", help="regenerate the test set first")
    parser.add_argument(
        "--seed",
        type=int,
        help="measure a fresh set generated with this seed instead (held out, not written)",
    )
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args(argv)
    if args.generate:
        write_testset(generate())
        print(f"wrote {TESTSET.relative_to(ROOT)}")
    cases = generate(args.seed) if args.seed is not None else read_testset()
    started = time.perf_counter()
    from dancu.blocks.adminunits.resolver import index

    index()
    print(f"index build: {time.perf_counter() - started:.2f} s; data {catalogue().version}")
    groups: dict[str, list[Case]] = defaultdict(list)
    for c in cases:
        groups["all"].append(c)
        if c.legacy_ward_code:
            groups["legacy"].append(c)
            groups["legacy, Hà Nội" if _is_hanoi(c) else "legacy, other provinces"].append(c)
        else:
            groups["current units"].append(c)
        for tag in c.variant.split():
            groups["variant " + tag.split("=")[0]].append(c)
    total = measure(cases)
    print(f"{'group':32} {'n':>5} {'legacy ward':>12} {'current ward':>13}")
    for name in sorted(groups, key=lambda g: (g != "all", not g.startswith("legacy"), g)):
        r = total if name == "all" else measure(groups[name])
        print(f"{name:32} {r.total:5d} {r.legacy_accuracy:12.3f} {r.current_accuracy:13.3f}")
    print(
        f"rate: {total.rate:,.0f} addresses/s ({total.seconds * 1000 / total.total:.2f} ms each), "
        f"unresolved {total.unresolved}; {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}"
    )
    if args.show_failures:
        for case, legacy, current in total.failures:
            print(
                f"  {case.text!r}: expected {case.legacy_ward_code}/{case.ward_code}, got {legacy}/{current}"
            )
    return 0


def _is_hanoi(case: Case) -> bool:
    cat = catalogue()
    if case.legacy_ward_code:
        return cat.legacy_wards[case.legacy_ward_code].province_code == "01"
    return cat.wards[case.ward_code].province_code == "01"


if __name__ == "__main__":
    sys.exit(main())
