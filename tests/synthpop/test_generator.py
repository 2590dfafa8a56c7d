"""The synthetic population generator: deterministic, realistic Vietnamese people in households.

Each test states one rule of the generated data and the source it follows (design/domain-vn.md,
Circular 07/2016/TT-BCA, Law on Identification 2023 Art. 21, the 2019 census).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from datetime import date

import numpy as np
import pytest

from dancu.blocks.adminunits import services as units
from dancu.blocks.registry.idnumber import LEGACY_PROVINCE_CODES, validate_cmnd, validate_id_number
from dancu.blocks.registry.names import fold
from dancu.synthpop import reference as R
from dancu.synthpop.generator import (
    AS_OF,
    NO_DATE,
    Chunk,
    Existing,
    SynthpopError,
    card_expiry,
    generate,
    population,
    to_dates,
)

AS_OF_DAY = (AS_OF - date(1970, 1, 1)).days


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _age(dob: date, on: date = AS_OF) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


# --------------------------------------------------------------------------- determinism
def test_the_same_seed_gives_the_same_people() -> None:
    a, b = population(3_000, seed=7), population(3_000, seed=7)
    assert a.citizens.id_number == b.citizens.id_number
    assert a.citizens.full_name == b.citizens.full_name
    assert a.citizens.permanent_address_text == b.citizens.permanent_address_text
    assert np.array_equal(a.citizens.date_of_birth, b.citizens.date_of_birth)
    assert a.old_ids.number == b.old_ids.number
    assert np.array_equal(a.cards.expires_on, b.cards.expires_on)


def test_a_different_seed_gives_different_people() -> None:
    a, b = population(3_000, seed=7), population(3_000, seed=8)
    assert len(set(a.citizens.id_number) & set(b.citizens.id_number)) < 30
    same_name = sum(x == y for x, y in zip(a.citizens.full_name, b.citizens.full_name, strict=True))
    assert same_name < 100


def test_a_smaller_population_is_the_start_of_a_larger_one(hanoi_20k: Chunk, hanoi_100k: Chunk) -> None:
    """Generation is blockwise from the seed, so N people are the first N of any larger run."""
    small, big = hanoi_20k.citizens, hanoi_100k.citizens
    n = len(small)
    assert n == 20_000
    assert small.id_number == big.id_number[:n]
    assert small.full_name == big.full_name[:n]
    assert hanoi_20k.old_ids.number == hanoi_100k.old_ids.number[: len(hanoi_20k.old_ids.number)]


def test_exactly_n_people_in_whole_chunks_of_households() -> None:
    chunks = list(generate(25_001, seed=3, chunk=10_000))
    assert sum(len(c.citizens) for c in chunks) == 25_001
    seen: set[int] = set()
    for c in chunks:
        households = set(c.citizens.household.tolist())
        assert households == set(c.households.index.tolist()), "a chunk holds its people's households"
        assert not households & seen, "a household is never split across chunks"
        seen |= households


# --------------------------------------------------------------------------- ID numbers
def test_every_id_number_is_valid_for_its_date_of_birth_and_sex(hanoi_100k: Chunk) -> None:
    """Circular 07/2016/TT-BCA Art. 7: PPP (a legacy province code) G (century and sex) YY (year)."""
    c = hanoi_100k.citizens
    for number, dob, sex, place in zip(
        c.id_number, to_dates(c.date_of_birth), c.sex, c.birth_registration_code, strict=True
    ):
        assert dob is not None
        parts = validate_id_number(number, date_of_birth=dob, sex=sex)
        assert parts.place_code == place
        assert place in LEGACY_PROVINCE_CODES


def test_most_people_of_hanoi_had_their_birth_registered_there_and_some_elsewhere(hanoi_100k: Chunk) -> None:
    places = Counter(hanoi_100k.citizens.birth_registration_code)
    local = places["001"] / len(hanoi_100k.citizens)
    assert 0.70 < local < 0.92
    assert len(places) > 40, "migrants come from many provinces"
    assert places["036"] > places["096"], "more from nearby Nam Định than from Cà Mau"


def test_id_and_cmnd_numbers_are_unique_over_300k_people() -> None:
    """The 6 random digits come from a seeded bijection per PPP+G+YY prefix: never repeated."""
    ids: list[np.ndarray] = []
    cmnd: list[np.ndarray] = []
    for chunk in generate(300_000, seed=11):
        ids.append(np.array(chunk.citizens.id_number, dtype=np.int64))
        cmnd.append(np.array(chunk.old_ids.number, dtype=np.int64))
    all_ids, all_cmnd = np.concatenate(ids), np.concatenate(cmnd)
    assert all_ids.size == 300_000
    assert np.unique(all_ids).size == all_ids.size
    assert np.unique(all_cmnd).size == all_cmnd.size
    assert all_cmnd.size > 150_000


def test_appended_people_never_reuse_a_stored_number() -> None:
    """Numbers already in the registry are reserved, whatever seed made them."""
    first = population(20_000, seed=1)
    existing = Existing(
        id_numbers=np.array(first.citizens.id_number, dtype=np.int64),
        cmnd_numbers=np.array(first.old_ids.number, dtype=np.int64),
        next_household_serial=len(first.households.index) + 1,
    )
    second = population(20_000, seed=2, existing=existing)
    assert not set(first.citizens.id_number) & set(second.citizens.id_number)
    assert not set(first.old_ids.number) & set(second.old_ids.number)
    assert not set(first.households.number) & set(second.households.number)
    # the same seed again would produce exactly the stored numbers: all of them are skipped
    again = population(20_000, seed=1, existing=existing)
    assert not set(first.citizens.id_number) & set(again.citizens.id_number)


# --------------------------------------------------------------------------- old CMND
def test_old_cmnd_numbers_only_for_people_who_turned_14_before_2016(hanoi_100k: Chunk) -> None:
    c, o = hanoi_100k.citizens, hanoi_100k.old_ids
    dobs = to_dates(c.date_of_birth)
    holders = set(o.citizen.tolist())
    for i, number, issued in zip(o.citizen.tolist(), o.number, to_dates(o.issued_on), strict=True):
        dob = dobs[i]
        assert dob is not None and issued is not None
        assert validate_cmnd(number) == number and len(number) == 9
        assert _add_years(dob, 14) <= issued <= R.CMND_LAST_ISSUE
    too_young = [i for i, d in enumerate(dobs) if d is not None and _add_years(d, 14) > R.CMND_LAST_ISSUE]
    assert too_young and not holders & set(too_young)
    eligible = len(dobs) - len(too_young)
    assert len(holders) / eligible > 0.9


def test_cmnd_issued_in_hanoi_start_with_01(hanoi_100k: Chunk) -> None:
    o = hanoi_100k.old_ids
    by_hanoi = "Công an thành phố Hà Nội"
    hanoi = [n for n, place in zip(o.number, o.issue_place, strict=True) if place == by_hanoi]
    assert len(hanoi) / len(o.number) > 0.8
    assert all(n.startswith("01") for n in hanoi)


# --------------------------------------------------------------------------- identity cards
@pytest.mark.parametrize(
    ("issued", "expected", "rule"),
    [
        (date(2021, 3, 1), date(2030, 5, 10), "issued at 30: valid until 40"),
        (date(2028, 6, 1), date(2050, 5, 10), "issued at 38, within 2 years before 40: valid until 60"),
        (date(2013, 11, 9), date(2030, 5, 10), "issued at 23½, within 2 years before 25: valid until 40"),
        (date(2013, 5, 9), date(2015, 5, 10), "issued the day before turning 23: valid until 25"),
        (date(2048, 5, 9), date(2050, 5, 10), "issued the day before turning 58: valid until 60"),
        (date(2048, 5, 10), None, "issued at 58: no expiry"),
        (date(2052, 1, 1), None, "issued at 61: no expiry"),
        (date(2004, 5, 10), date(2015, 5, 10), "issued at 14: valid until 25"),
    ],
)
def test_card_expiry_follows_law_on_identification_2023_art_21(
    issued: date, expected: date | None, rule: str
) -> None:
    """Renew at 14, 25, 40, 60 (cl. 1); a card issued within the 2 years before one of those ages
    stays valid until the next one (cl. 2); so a card issued at 58 or later has no expiry."""
    born = date(1990, 5, 10)
    assert card_expiry(born, issued) == expected, rule


def test_every_living_person_aged_14_or_more_holds_one_card_and_nobody_younger(hanoi_100k: Chunk) -> None:
    c, k = hanoi_100k.citizens, hanoi_100k.cards
    dobs = to_dates(c.date_of_birth)
    holders = k.citizen.tolist()
    assert len(holders) == len(set(holders))
    expected = {i for i, d in enumerate(dobs) if d and _age(d) >= 14 and c.life_status[i] == "alive"}
    assert set(holders) == expected


def test_cards_are_chip_cccd_before_july_2024_and_can_cuoc_after_with_the_lawful_expiry(
    hanoi_100k: Chunk,
) -> None:
    c, k = hanoi_100k.citizens, hanoi_100k.cards
    dobs = to_dates(c.date_of_birth)
    kinds = Counter(k.kind)
    assert kinds["cccd_chip"] > kinds["can_cuoc"] > 0
    for i, kind, number, issued, expires in zip(
        k.citizen.tolist(), k.kind, k.card_number, to_dates(k.issued_on), to_dates(k.expires_on), strict=True
    ):
        dob = dobs[i]
        assert dob is not None and issued is not None
        assert number == c.id_number[i], "the card number is the personal ID number"
        assert _add_years(dob, 14) <= issued <= AS_OF
        assert kind == ("can_cuoc" if issued >= R.CAN_CUOC_FROM else "cccd_chip")
        assert issued >= R.CHIP_CCCD_FROM
        assert expires == card_expiry(dob, issued)
        assert expires is None or expires > AS_OF, "everyone holds a card that is still valid"


# --------------------------------------------------------------------------- households
def test_every_household_has_exactly_one_head(hanoi_100k: Chunk) -> None:
    c = hanoi_100k.citizens
    heads = Counter(h for h, r in zip(c.household.tolist(), c.relationship, strict=True) if r == "head")
    assert set(heads) == set(c.household.tolist())
    assert set(heads.values()) == {1}


def test_children_are_at_least_18_years_younger_than_their_parents(hanoi_100k: Chunk) -> None:
    c = hanoi_100k.citizens
    dobs = to_dates(c.date_of_birth)
    start = int(c.index[0])
    links = 0
    for i, (father, mother) in enumerate(zip(c.father.tolist(), c.mother.tolist(), strict=True)):
        child = dobs[i]
        assert child is not None
        for parent in (father, mother):
            if parent >= 0:
                parent_dob = dobs[parent - start]
                assert parent_dob is not None
                assert _add_years(parent_dob, 18) <= child
                assert c.household[parent - start] == c.household[i], "parents live in the household"
                links += 1
    assert links > 40_000


def test_fathers_are_men_and_mothers_women(hanoi_100k: Chunk) -> None:
    c = hanoi_100k.citizens
    start = int(c.index[0])
    assert all(c.sex[f - start] == "M" for f in c.father.tolist() if f >= 0)
    assert all(c.sex[m - start] == "F" for m in c.mother.tolist() if m >= 0)


def test_spouse_links_are_symmetric_and_spouses_close_in_age(hanoi_100k: Chunk) -> None:
    c = hanoi_100k.citizens
    start = int(c.index[0])
    spouses = c.spouse.tolist()
    gaps = []
    for i, s in enumerate(spouses):
        if s >= 0:
            j = s - start
            assert spouses[j] == i + start
            assert c.sex[j] != c.sex[i]
            assert c.household[j] == c.household[i]
            gaps.append(abs(int(c.date_of_birth[i]) - int(c.date_of_birth[j])) / 365.25)
    assert len(gaps) > 30_000
    assert max(gaps) <= 16
    assert np.median(gaps) < 5


def test_children_take_their_fathers_surname(hanoi_100k: Chunk) -> None:
    c = hanoi_100k.citizens
    start = int(c.index[0])
    with_father = [(i, f - start) for i, f in enumerate(c.father.tolist()) if f >= 0]
    assert with_father
    assert all(c.family_name[i] == c.family_name[f] for i, f in with_father)


def test_household_members_share_the_address_and_household_number(hanoi_100k: Chunk) -> None:
    c, h = hanoi_100k.citizens, hanoi_100k.households
    first = int(h.index[0])
    for i, hh in enumerate(c.household.tolist()):
        assert c.permanent_address_text[i] == h.address[hh - first]
        assert c.permanent_legacy_ward_code[i] == h.legacy_ward_code[hh - first]
        assert c.permanent_ward_code[i] == h.ward_code[hh - first]
    assert len(set(h.number)) == len(h.number)
    assert all(re.fullmatch(r"HK01\d{9}", n) for n in h.number)


def test_mean_household_size_is_about_3_5_as_in_the_2019_census(hanoi_100k: Chunk) -> None:
    sizes = np.bincount(hanoi_100k.citizens.household - hanoi_100k.households.index[0])
    assert 3.3 < sizes.mean() < 3.7
    assert 0.05 < (sizes == 1).mean() < 0.15, "some people live alone"
    assert sizes.max() <= 8


def test_age_pyramid_is_close_to_the_2019_census(hanoi_100k: Chunk) -> None:
    """Each five-year band within 1.5 percentage points of the 2019 census share."""
    ages = (AS_OF_DAY - hanoi_100k.citizens.date_of_birth) / 365.2425
    total = sum(p for _, _, p in R.AGE_BANDS_2019)
    for lo, hi, share in R.AGE_BANDS_2019:
        got = ((ages >= lo) & (ages < hi)).mean() * 100
        assert abs(got - share * 100 / total) < 1.5, f"ages {lo}–{hi - 1}: {got:.1f} % vs {share} %"
    assert ages.min() >= 0 and ages.max() < 101.5


# --------------------------------------------------------------------------- names
SURNAME_TARGETS = {"Nguyễn": 38.0, "Trần": 11.0, "Lê": 9.5, "Phạm": 7.0, "Phan": 4.5, "Đặng": 2.1, "Bùi": 2.0}


def test_surname_shares_are_close_to_the_published_shares(hanoi_100k: Chunk) -> None:
    """domain-vn §7: Nguyễn ~38 %, Trần 11 %, Lê 9.5 %, Phạm 7 %, Hoàng/Huỳnh 5 %, Vũ/Võ 3.9 % …"""
    counts = Counter(hanoi_100k.citizens.family_name)
    n = len(hanoi_100k.citizens)
    for name, share in SURNAME_TARGETS.items():
        assert abs(counts[name] / n * 100 - share) < max(1.5, share * 0.1), name
    assert abs((counts["Hoàng"] + counts["Huỳnh"]) / n * 100 - 5.0) < 0.8
    assert abs((counts["Vũ"] + counts["Võ"]) / n * 100 - 3.9) < 0.8
    top14 = sum(c for _, c in counts.most_common(14)) / n
    assert 0.85 < top14 < 0.93, "14 surnames cover about 90 % of people"


def test_names_are_nfc_in_family_middle_given_order_and_folded_for_search(hanoi_20k: Chunk) -> None:
    c = hanoi_20k.citizens
    for full, fam, mid, giv, folded in zip(
        c.full_name, c.family_name, c.middle_name, c.given_name, c.name_folded, strict=True
    ):
        assert unicodedata.is_normalized("NFC", full)
        assert full == f"{fam} {mid} {giv}"
        assert folded == fold(full)


def test_van_is_a_male_and_thi_a_female_middle_name(hanoi_100k: Chunk) -> None:
    c = hanoi_100k.citizens
    middles = list(zip(c.middle_name, c.sex, strict=True))
    assert all(sex == "M" for mid, sex in middles if mid == "Văn")
    assert all(sex == "F" for mid, sex in middles if mid.startswith("Thị"))
    days = c.date_of_birth.tolist()
    older = [m in ("Văn", "Thị") for m, d in zip(c.middle_name, days, strict=True) if d < -3650]  # < 1960
    younger = [m in ("Văn", "Thị") for m, d in zip(c.middle_name, days, strict=True) if d > 11_000]  # > 2000
    assert np.mean(older) > np.mean(younger) + 0.2, "Văn/Thị are less common in younger cohorts"


# --------------------------------------------------------------------------- other attributes
def test_date_of_birth_is_mostly_exact_and_only_older_people_have_month_or_year(hanoi_100k: Chunk) -> None:
    c = hanoi_100k.citizens
    precision = Counter(c.dob_precision)
    assert precision["day"] / len(c) > 0.98
    assert precision["month"] > 0 and precision["year"] > 0
    for p, dob in zip(c.dob_precision, to_dates(c.date_of_birth), strict=True):
        assert dob is not None
        if p != "day":
            assert dob.year < 1960 and dob.day == 1
        if p == "year":
            assert dob.month == 1


def test_a_small_share_is_deceased_after_birth_and_before_today(hanoi_100k: Chunk) -> None:
    c = hanoi_100k.citizens
    dead = [i for i, s in enumerate(c.life_status) if s == "deceased"]
    assert 0.001 < len(dead) / len(c) < 0.02
    assert all(c.relationship[i] != "head" for i in dead)
    for i in dead:
        assert c.date_of_birth[i] < c.date_of_death[i] <= AS_OF_DAY
    alive = np.array([s == "alive" for s in c.life_status])
    assert (c.date_of_death[alive] == NO_DATE).all()


def test_ethnicity_is_mostly_kinh_and_religion_mostly_none(hanoi_100k: Chunk) -> None:
    eth, rel = Counter(hanoi_100k.citizens.ethnicity), Counter(hanoi_100k.citizens.religion)
    n = len(hanoi_100k.citizens)
    assert eth["Kinh"] / n > 0.95 and {"Mường", "Tày"} <= set(eth)
    assert rel["Không"] / n > 0.8 and rel["Phật giáo"] > 0 and rel["Công giáo"] > 0


# --------------------------------------------------------------------------- places
def test_addresses_are_in_real_wards_of_hanoi_and_agree_with_the_crosswalk(hanoi_100k: Chunk) -> None:
    """Legacy ward as printed on cards, its primary current ward (Resolution 202/2025/QH15)."""
    h = hanoi_100k.households
    legacy = {w.code for w in units.legacy_wards_of_province("01")}
    current = {w.code for w in units.wards_of_province("01")}
    for address, old, new in set(zip(h.address, h.legacy_ward_code, h.ward_code, strict=True)):
        assert old in legacy and new in current
        assert units.crosswalk(old)[0] == new
        assert address.endswith(", " + units.legacy_ward_label(old))
    assert len(set(h.legacy_ward_code)) > 400, "people live all over the city"
    assert hanoi_100k.citizens.permanent_province_code == "01"


def test_addresses_are_in_the_legacy_printed_form(hanoi_20k: Chunk) -> None:
    pattern = re.compile(
        r"^(Số \d+, (ngách \d+/\d+, )?(ngõ \d+, )?(phố|đường) [^,]+|Tổ dân phố \d+|Thôn [^,]+|Xóm \d+|"
        r"Số \d+, thôn [^,]+), (Phường|Xã|Thị trấn) [^,]+, (Quận|Huyện|Thị xã) [^,]+, Thành phố Hà Nội$"
    )
    for address in hanoi_20k.households.address:
        assert pattern.match(address), address


def test_place_of_origin_is_a_real_legacy_ward(hanoi_20k: Chunk) -> None:
    c = hanoi_20k.citizens
    for code, text in set(zip(c.origin_legacy_ward_code, c.origin_text, strict=True)):
        assert text == units.legacy_ward_label(code)


def test_generated_text_needs_no_copy_escaping(hanoi_20k: Chunk) -> None:
    c = hanoi_20k.citizens
    for column in (c.full_name, c.origin_text, c.permanent_address_text, c.ethnicity, c.religion):
        assert not any(ch in value for value in column for ch in "\t\n\r\\")


def test_another_province_uses_its_own_wards_and_birth_codes() -> None:
    """--province 79: TP Hồ Chí Minh since 2025 = legacy 074 Bình Dương, 077 Bà Rịa-Vũng Tàu, 079."""
    p = population(5_000, seed=5, province="79")
    legacy = {r.legacy_ward_code for r in units.hanoi_or_province_ward_table("79")}
    assert set(p.households.legacy_ward_code) <= legacy
    assert p.citizens.permanent_province_code == "79"
    local = Counter(p.citizens.birth_registration_code)
    assert (local["079"] + local["074"] + local["077"]) / len(p.citizens) > 0.7
    assert all(n.startswith("HK79") for n in p.households.number)


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [({"n": -1}, "citizens"), ({"n": 10, "seed": -5}, "seed"), ({"n": 10, "province": "99"}, "province")],
)
def test_bad_arguments_name_the_option(kwargs: dict[str, object], option: str) -> None:
    n = kwargs.pop("n")
    with pytest.raises(SynthpopError) as err:
        list(generate(n, **kwargs))  # type: ignore[arg-type]
    assert err.value.option == option
