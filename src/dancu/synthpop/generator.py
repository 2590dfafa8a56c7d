"""Deterministic synthetic Vietnamese population: people in households, with ID numbers, old CMND
numbers, identity cards and addresses in real wards.

``generate(n, seed=…)`` yields :class:`Chunk` objects lazily (column arrays and lists, whole
households per chunk); the same ``(n, seed, province, as_of)`` always gives the same people, and
the first ``n`` people of a larger population are the population of size ``n`` (up to the last,
possibly cut, household). Nothing here touches the database.

Rules and sources:

* ID number ``PPP G YY RRRRRR`` (Decree 137/2015/NĐ-CP Art. 13, Circular 07/2016/TT-BCA Art. 7):
  ``PPP`` the legacy province where the birth was registered (mostly the seeded province, a
  share born elsewhere), ``G`` century and sex, ``YY`` birth year, ``RRRRRR`` unique per prefix
  from a seeded bijection (:mod:`dancu.synthpop.numbers`).
* Old 9-digit CMND for people who turned 14 before 2016, unique, prefixed by the issuing
  province's police code (Hà Nội "01"; :data:`.reference.CMND_PREFIX_BY_LEGACY_PROVINCE`).
* One identity card for every living person aged 14 or more: chip CCCD (from 2021, Circular
  06/2021/TT-BCA) or "thẻ căn cước" (from 01/07/2024, Law on Identification 2023, Circular
  16/2024/TT-BCA); expiry per Law on Identification 2023 Art. 21 (:func:`card_expiry`).
* Households: composition, ages and sizes shaped to the 2019 census (average 3.5 persons; age
  pyramid :data:`.reference.AGE_BANDS_2019`); children are at least 18 years younger than their
  parents and take their father's surname; spouses' ages are close.
* Names: :mod:`dancu.synthpop.names`; addresses: legacy (pre-01/07/2025) wards of the province as
  printed on cards, with the current ward from the crosswalk (Resolution 202/2025/QH15;
  ``dancu.blocks.adminunits``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import numpy as np
import numpy.typing as npt

from dancu.blocks.registry.names import fold
from dancu.synthpop import names as N
from dancu.synthpop import reference as R
from dancu.synthpop.numbers import KeyedPermutation, NumberSpace, NumberSpaceExhausted

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

AS_OF = date(2026, 11, 26)  # default reference date: ages, card validity and deaths are as of this day
BLOCK = 10_000  # people per internal generation block (the unit of determinism)
DEFAULT_CHUNK = 100_000  # people per chunk handed to the loader (memory ∝ chunk; bigger sorts better)
NO_DATE = np.iinfo(np.int64).min  # "no date" in day-number arrays (no expiry, alive)
_EPOCH = date(1970, 1, 1)
_ID_PREFIXES = 1_000_000  # PPP·1000 + G·100 + YY
_CMND_PREFIXES = 100

# Household types and their shares (assumption, shaped so that the mean size is about 3.5 persons
# and the age pyramid is close to the 2019 census; see tests/synthpop).
SINGLE, COUPLE, NUCLEAR, SINGLE_PARENT, THREE_GEN = range(5)
TYPE_SHARES = (0.09, 0.13, 0.55, 0.07, 0.16)
KIDS_NUCLEAR = (0.0, 0.22, 0.50, 0.20, 0.08)  # P(1..4 children); index = number of children
KIDS_SINGLE_PARENT = (0.0, 0.55, 0.35, 0.10, 0.0)
KIDS_THREE_GEN = (0.10, 0.30, 0.42, 0.18, 0.0)
# Age of the eldest child living at home: piecewise uniform over these bands (calibrated).
ELDEST_CHILD_BANDS: tuple[tuple[float, float, float], ...] = (
    (0, 5, 0.17), (5, 10, 0.19), (10, 15, 0.19), (15, 20, 0.17), (20, 25, 0.13), (25, 30, 0.10),
    (30, 36, 0.05),
)  # fmt: skip
MIN_PARENT_GAP = 19.3  # years; a DOB rounded to month/year moves by < 1 year, leaving ≥ 18 years

HEAD, SPOUSE, CHILD, PARENT = range(4)
RELATIONSHIPS = ("head", "spouse", "child", "parent")
SEXES = ("M", "F")
PRECISIONS = ("day", "month", "year")
CARD_KINDS = ("cccd_chip", "can_cuoc")


class SynthpopError(Exception):
    """A bad generator argument or an impossible request; names the option at fault."""

    def __init__(self, option: str, message: str) -> None:
        self.option = option
        super().__init__(f"{option}: {message}")


# --------------------------------------------------------------------------- dates
def _day(d: date) -> int:
    return (d - _EPOCH).days


def _ymd(days: I64) -> tuple[I64, I64, I64]:
    dt = days.astype("datetime64[D]")
    months = dt.astype("datetime64[M]")
    year = months.astype(np.int64) // 12 + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (dt - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def _from_ymd(year: I64, month: I64, day: I64) -> I64:
    """Day numbers; 29 February in a common year becomes 1 March."""
    month_start = ((year - 1970) * 12 + (month - 1)).astype("datetime64[M]").astype("datetime64[D]")
    return month_start.astype(np.int64) + day - 1


def _birthday(dob: I64, age: int | I64) -> I64:
    year, month, day = _ymd(dob)
    return _from_ymd(year + age, month, day)


def card_expiry_days(dob: I64, issued: I64) -> I64:
    """Expiry (day numbers, ``NO_DATE`` for none) of cards issued on ``issued`` to people born on
    ``dob`` — Law on Identification 2023 Art. 21: a card is renewed on reaching 14, 25, 40 and 60
    (cl. 1), and a card issued within the 2 years before one of those ages stays valid until the
    next one (cl. 2). So the expiry is the first of those birthdays that falls more than 2 years
    after the issue date; a card issued at 58 or later has no expiry.
    """
    year, month, day = _ymd(dob)
    expiry = np.full(dob.shape, NO_DATE, dtype=np.int64)
    for age in reversed(R.CARD_RENEWAL_AGES):
        due = _from_ymd(year + age, month, day)
        grace_start = _from_ymd(year + age - R.CARD_GRACE_YEARS, month, day)
        expiry = np.where(issued < grace_start, due, expiry)
    return expiry


def card_expiry(date_of_birth: date, issued_on: date) -> date | None:
    """Scalar form of :func:`card_expiry_days` (Law on Identification 2023 Art. 21)."""
    out = int(card_expiry_days(np.array([_day(date_of_birth)]), np.array([_day(issued_on)]))[0])
    return None if out == NO_DATE else date.fromordinal(_EPOCH.toordinal() + out)


def to_dates(days: I64) -> list[date | None]:
    """Day numbers → ``date`` objects (``None`` for ``NO_DATE``)."""
    base = _EPOCH.toordinal()
    return [None if d == NO_DATE else date.fromordinal(base + d) for d in days.tolist()]


# --------------------------------------------------------------------------- places
@dataclass(frozen=True)
class Places:
    """Where the generated people live and come from (plain data: picklable, no database).

    ``ward_*`` are the residence wards (legacy wards of the current province, each with its
    current ward); ``origin_*`` every legacy ward in the country, for the place of origin.
    """

    province: str
    province_name: str
    ward_legacy_code: tuple[str, ...]
    ward_code: tuple[str, ...]
    ward_suffix: tuple[str, ...]  # ", Phường Quảng An, Quận Tây Hồ, Thành phố Hà Nội"
    ward_urban: npt.NDArray[np.bool_]
    ward_weight: F64
    ward_birth_code: I64  # legacy province code of the ward, as int (1 = "001")
    origin_code: tuple[str, ...]
    origin_text: tuple[str, ...]
    origin_start: I64  # by legacy province int code: first index into origin_*, and count
    origin_count: I64
    legacy_province_label: dict[int, str] = field(default_factory=dict)  # 1 → "thành phố Hà Nội"


@cache
def load_places(province: str = "01") -> Places:
    """Build :class:`Places` from the administrative-unit data files (no database).

    Raises :class:`SynthpopError` (option ``province``) for a code that is not one of the 34
    current provinces.
    """
    from dancu.blocks.adminunits import services as units
    from dancu.errors import NotFound

    try:
        prov = units.province(province)
    except NotFound:
        known = ", ".join(p.code for p in units.provinces())
        raise SynthpopError("province", f"unknown province code {province!r}; known codes: {known}") from None
    rows = units.hanoi_or_province_ward_table(province)
    if not rows:
        raise SynthpopError("province", f"no wards found for province {province!r}")
    urban = np.array([not r.legacy_ward_name.startswith("Xã ") for r in rows])
    # Assumption: an urban ward (phường, thị trấn) houses about twice as many people as a commune.
    weight = np.where(urban, 2.0, 1.0)
    birth = np.array([int(r.legacy_province_code or "0") for r in rows], dtype=np.int64)
    origin_code: list[str] = []
    origin_text: list[str] = []
    start = np.zeros(1000, dtype=np.int64)
    count = np.zeros(1000, dtype=np.int64)
    labels: dict[int, str] = {}
    for lp in units.provinces(legacy=True):
        wards = units.legacy_wards_of_province(lp.code)
        code = int(lp.code)
        start[code], count[code] = len(origin_code), len(wards)
        labels[code] = lp.full_name[:1].lower() + lp.full_name[1:]
        for w in wards:
            origin_code.append(w.code)
            origin_text.append(units.legacy_ward_label(w.code))
    return Places(
        province=province,
        province_name=prov.full_name,
        ward_legacy_code=tuple(r.legacy_ward_code for r in rows),
        ward_code=tuple(r.ward_code for r in rows),
        ward_suffix=tuple(
            f", {r.legacy_ward_name}, {r.legacy_district_name}, {r.legacy_province_name}" for r in rows
        ),
        ward_urban=urban,
        ward_weight=weight / weight.sum(),
        ward_birth_code=birth,
        origin_code=tuple(origin_code),
        origin_text=tuple(origin_text),
        origin_start=start,
        origin_count=count,
        legacy_province_label=labels,
    )


# --------------------------------------------------------------------------- output
@dataclass
class Households:
    index: I64  # 0-based position in the generated population (the loader adds its id base)
    number: list[str]
    address: list[str]
    legacy_ward_code: list[str]
    ward_code: list[str]


@dataclass
class Citizens:
    index: I64
    household: I64  # household index
    id_number: list[str]
    full_name: list[str]
    family_name: list[str]
    middle_name: list[str]
    given_name: list[str]
    name_folded: list[str]
    date_of_birth: I64  # day numbers since 1970-01-01
    dob_precision: list[str]
    sex: list[str]
    ethnicity: list[str]
    religion: list[str]
    birth_registration_code: list[str]
    origin_text: list[str]
    origin_legacy_ward_code: list[str]
    permanent_address_text: list[str]
    permanent_legacy_ward_code: list[str]
    permanent_ward_code: list[str]
    permanent_province_code: str
    relationship: list[str]
    father: I64  # citizen index, −1 for none
    mother: I64
    spouse: I64
    life_status: list[str]
    date_of_death: I64  # NO_DATE when alive

    def __len__(self) -> int:
        return int(self.index.size)


@dataclass
class OldIds:
    citizen: I64
    number: list[str]
    issued_on: I64
    issue_place: list[str]


@dataclass
class Cards:
    citizen: I64
    kind: list[str]
    card_number: list[str]
    issued_on: I64
    expires_on: I64  # NO_DATE: no expiry


@dataclass
class Chunk:
    """Whole households and their members, old numbers and cards; indexes are 0-based positions in
    the generated population (citizen ``i`` of this chunk is ``citizens.index[i]``)."""

    number: int
    households: Households
    citizens: Citizens
    old_ids: OldIds
    cards: Cards
    first_old_id: int = 0  # population-wide position of this chunk's first old number
    first_card: int = 0  # … and of its first card

    @property
    def rows(self) -> int:
        return (
            len(self.citizens.index)
            + len(self.households.index)
            + len(self.old_ids.citizen)
            + len(self.cards.citizen)
        )


@dataclass(frozen=True)
class Existing:
    """Numbers already in the registry, which an appended population must not reuse."""

    id_numbers: Sequence[int] | I64 = ()
    cmnd_numbers: Sequence[int] | I64 = ()
    next_household_serial: int = 1


# --------------------------------------------------------------------------- tables
def _weighted(items: Sequence[tuple[str, float]]) -> tuple[list[str], F64]:
    w = np.array([p for _, p in items], dtype=np.float64)
    return [s for s, _ in items], w / w.sum()


def _surname_table() -> tuple[list[str], F64]:
    named = list(N.SURNAMES)
    tail_total = sum(p for _, p in N.SURNAME_TAIL)
    scale = (100.0 - N.NAMED_SURNAME_SHARE) / tail_total
    return _weighted(named + [(s, p * scale) for s, p in N.SURNAME_TAIL])


def _zipf(names: Sequence[str]) -> tuple[list[str], F64]:
    w = np.array(N.zipf_weights(len(names)))
    return list(names), w / w.sum()


@dataclass(frozen=True)
class _Tables:
    surnames: list[str]
    surname_p: F64
    male_middle: list[str]  # index 0 = "Văn"
    male_middle_p: F64  # of the non-Văn names
    female_middle: list[str]  # index 0 = "Thị"
    female_middle_p: F64
    male_given: list[str]
    male_given_p: F64
    female_given: list[str]
    female_given_p: F64
    ethnicity: list[str]
    ethnicity_p: F64
    religion: list[str]
    religion_p: F64
    migrant_codes: I64
    migrant_p: F64


def _tables(places: Places) -> _Tables:
    from dancu.blocks.registry.idnumber import LEGACY_PROVINCE_CODES

    hanoi = places.province == "01"
    local = set(places.ward_birth_code.tolist())
    codes = [int(c) for c in LEGACY_PROVINCE_CODES if int(c) not in local]
    weights = [R.HANOI_MIGRANT_ORIGIN_WEIGHTS.get(f"{c:03d}", 1.0) if hanoi else 1.0 for c in codes]
    sur, sur_p = _surname_table()
    mm, mm_p = _zipf(N.MALE_MIDDLE)
    fm, fm_p = _zipf(N.FEMALE_MIDDLE)
    mg, mg_p = _zipf(N.MALE_GIVEN)
    fg, fg_p = _zipf(N.FEMALE_GIVEN)
    eth, eth_p = _weighted(R.ETHNICITY_HANOI if hanoi else R.ETHNICITY_NATIONAL)
    rel, rel_p = _weighted(R.RELIGION_HANOI if hanoi else R.RELIGION_NATIONAL)
    mw = np.array(weights, dtype=np.float64)
    return _Tables(
        sur, sur_p, ["Văn", *mm], mm_p, ["Thị", *fm], fm_p, mg, mg_p, fg, fg_p, eth, eth_p, rel, rel_p,
        np.array(codes, dtype=np.int64), mw / mw.sum(),
    )  # fmt: skip


def _pick(rng: np.random.Generator, p: F64, size: int) -> I64:
    """Indices drawn with probabilities ``p`` (inverse-CDF: faster than ``choice`` for big tables)."""
    cdf = np.cumsum(p)
    return np.minimum(np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right"), p.size - 1).astype(
        np.int64
    )


# --------------------------------------------------------------------------- generator
class _Generator:
    def __init__(self, seed: int, places: Places, as_of: date, existing: Existing | None) -> None:
        self.seed = seed
        self.places = places
        self.as_of = _day(as_of)
        self.as_of_year = as_of.year
        self.t = _tables(places)
        self.ids = NumberSpace(KeyedPermutation(seed, 1000, 1000, purpose=1), _ID_PREFIXES, label="id_number")
        self.cmnd = NumberSpace(KeyedPermutation(seed, 1000, 10_000, purpose=2), _CMND_PREFIXES, label="cmnd")
        self.household_serial = 1
        if existing is not None:
            self.ids.reserve_existing(np.asarray(existing.id_numbers, dtype=np.int64))
            self.cmnd.reserve_existing(np.asarray(existing.cmnd_numbers, dtype=np.int64))
            self.household_serial = existing.next_household_serial
        self.cmnd_prefix = np.zeros(1000, dtype=np.int64)
        for code, prefix in R.CMND_PREFIX_BY_LEGACY_PROVINCE.items():
            self.cmnd_prefix[int(code)] = int(prefix)
        self.street_kind = "phố" if places.province == "01" else "đường"
        self.fold_cache: dict[str, str] = {}
        self.next_citizen = 0
        self.next_household = 0
        self.next_old_id = 0
        self.next_card = 0

    # ..................................................................... households
    def _eldest_child_age(self, rng: np.random.Generator, size: int) -> F64:
        bands = np.array(ELDEST_CHILD_BANDS)
        band = _pick(rng, bands[:, 2] / bands[:, 2].sum(), size)
        return bands[band, 0] + rng.random(size) * (bands[band, 1] - bands[band, 0])

    def block(self, number: int, limit: int) -> Chunk:
        """Generate one block of about ``BLOCK`` people and keep the first ``limit`` of them."""
        rng = np.random.default_rng(
            np.random.SeedSequence([self.seed & (2**63 - 1), int(self.places.province), number])
        )
        t = self.t
        nh = int(BLOCK / 3.3) + 64
        htype = _pick(rng, np.array(TYPE_SHARES), nh)
        kids_p = np.array([KIDS_NUCLEAR, KIDS_SINGLE_PARENT, KIDS_THREE_GEN])
        kid_draw = np.stack([_pick(rng, kids_p[i], nh) for i in range(3)])
        nkids = np.select(
            [htype == NUCLEAR, htype == SINGLE_PARENT, htype == THREE_GEN],
            [kid_draw[0], kid_draw[1], kid_draw[2]],
            0,
        )
        has_spouse = np.isin(htype, (COUPLE, NUCLEAR, THREE_GEN))

        # Ages (years, fractional). The mother's age is the eldest child's age plus her age at
        # that birth; the father is a few years older; everyone at least MIN_PARENT_GAP older
        # than their children.
        c1 = self._eldest_child_age(rng, nh)
        gaps = 1.2 + rng.gamma(2.0, 1.5, (nh, 4))
        gaps[:, 0] = 0.0
        kid_age = c1[:, None] - np.cumsum(gaps, axis=1)
        nkids = np.minimum(nkids, (kid_age >= 0.02).sum(axis=1))
        birth_age = np.clip(rng.normal(25.5, 4.5, nh), MIN_PARENT_GAP, 40.0)
        husband_gap = np.clip(rng.normal(3.0, 3.5, nh), -4.0, 15.0)
        with_kids = nkids > 0
        mother = np.where(with_kids, c1 + birth_age, 24.0 + rng.random(nh) * 18.0)
        father = np.maximum(mother + husband_gap, 20.0)
        father = np.where(with_kids, np.maximum(father, c1 + MIN_PARENT_GAP), father)
        # Couples without children at home: young couples and (mostly) older couples.
        young_couple = rng.random(nh) < 0.30
        husband = np.where(young_couple, 22.0 + rng.random(nh) * 12.0, 50.0 + 40.0 * rng.beta(1.6, 2.4, nh))
        couple = htype == COUPLE
        father = np.where(couple, husband, father)
        mother = np.where(couple, np.maximum(husband - husband_gap, 18.0), mother)
        # People living alone: young adults and (mostly) older people.
        young_single = rng.random(nh) < 0.40
        single_age = np.where(
            young_single, 18.0 + rng.random(nh) * 18.0, 55.0 + 42.0 * rng.beta(1.4, 2.0, nh)
        )
        head_male = np.select(
            [htype == SINGLE, htype == SINGLE_PARENT],
            [rng.random(nh) < np.where(young_single, 0.55, 0.3), rng.random(nh) < 0.2],
            rng.random(nh) < 0.8,
        )
        # Single parents: the parent's age from the eldest child.
        single_parent_age = c1 + birth_age + np.where(head_male, husband_gap.clip(0), 0.0)
        head_age = np.select(
            [htype == SINGLE, htype == SINGLE_PARENT],
            [single_age, single_parent_age],
            np.where(head_male, father, mother),
        )
        spouse_age = np.where(head_male, mother, father)
        # The head's parents (three-generation households).
        gm_age = head_age + np.clip(rng.normal(27.0, 5.0, nh), MIN_PARENT_GAP, 42.0)
        gf_age = np.maximum(gm_age + np.clip(rng.normal(3.0, 3.5, nh), -4.0, 15.0), head_age + MIN_PARENT_GAP)
        three = htype == THREE_GEN
        both = rng.random(nh) < 0.55
        gm_first = rng.random(nh) < 0.7
        gp_present = np.stack([three & (both | ~gm_first), three & (both | gm_first)], axis=1)
        gp_present &= np.stack([gf_age, gm_age], axis=1) <= 100.0
        gp_age = np.stack([gf_age, gm_age], axis=1)
        ngp = gp_present.sum(axis=1)
        head_age = np.minimum(head_age, 100.5)
        spouse_age = np.minimum(spouse_age, 100.5)

        size = 1 + has_spouse + nkids + ngp
        starts = np.cumsum(size) - size
        # Households starting beyond BLOCK people are dropped; the people of the block are cut at
        # ``limit`` at the end, after every draw (so a smaller population is a prefix).
        keep_h = int(np.searchsorted(starts, BLOCK, side="left"))
        size, starts = size[:keep_h], starts[:keep_h]
        total = int(size.sum())

        # ......................................................................... people
        hh = np.repeat(np.arange(keep_h), size)
        pos = np.arange(total) - starts[hh]
        sp = has_spouse[hh]
        kid0 = 1 + sp.astype(np.int64)
        nk = nkids[hh]
        role = np.where(
            pos == 0, HEAD, np.where(sp & (pos == 1), SPOUSE, np.where(pos < kid0 + nk, CHILD, PARENT))
        )
        kid_i = np.clip(pos - kid0, 0, 3)
        gp_slot = np.clip(np.where(gp_present[hh, 0], 0, 1) + (pos - kid0 - nk), 0, 1)
        age = np.select(
            [role == HEAD, role == SPOUSE, role == CHILD],
            [head_age[hh], spouse_age[hh], kid_age[hh, kid_i]],
            gp_age[hh, gp_slot],
        )
        kid_male = rng.random(total) < R.BOY_SHARE
        hm = head_male[hh]
        male = np.select([role == HEAD, role == SPOUSE, role == CHILD], [hm, ~hm, kid_male], gp_slot == 0)

        head_idx = starts[hh]
        spouse_idx = np.where(sp, head_idx + 1, -1)
        gp_base = head_idx + kid0 + nk
        gf_idx = np.where(gp_present[hh, 0], gp_base, -1)
        gm_idx = np.where(gp_present[hh, 1], gp_base + gp_present[hh, 0], -1)
        male_partner = np.where(hm, head_idx, spouse_idx)
        female_partner = np.where(hm, spouse_idx, head_idx)
        is_child = role == CHILD
        father = np.select([is_child, role == HEAD], [male_partner, gf_idx], -1)
        mother = np.select([is_child, role == HEAD], [female_partner, gm_idx], -1)
        spouse = np.select(
            [
                role == HEAD,
                role == SPOUSE,
                (role == PARENT) & (gp_slot == 0),
                (role == PARENT) & (gp_slot == 1),
            ],
            [spouse_idx, head_idx, gm_idx, gf_idx],
            -1,
        )

        # Surnames: head and spouse their own; children their father's (a father absent from the
        # household still gave his); the head's father the head's; the head's mother her own.
        s_head, s_spouse, s_gm, s_absent = (_pick(rng, t.surname_p, keep_h) for _ in range(4))
        child_surname = np.where(
            head_male[:keep_h], s_head, np.where(has_spouse[:keep_h], s_spouse, s_absent)
        )
        family = np.select(
            [role == HEAD, role == SPOUSE, role == CHILD, gp_slot == 0],
            [s_head[hh], s_spouse[hh], child_surname[hh], s_head[hh]],
            s_gm[hh],
        )

        # Dates of birth; older people's sometimes known only to the month or the year.
        dob = self.as_of - np.floor(age * 365.2425).astype(np.int64) - 1
        year = _ymd(dob)[0]
        u = rng.random(total)
        p_year = np.select([year < 1945, year < 1960], [0.10, 0.03], 0.0)
        p_month = np.select([year < 1945, year < 1960], [0.05, 0.03], 0.0)
        precision = np.where(u < p_year, 2, np.where(u < p_year + p_month, 1, 0))
        y, m, d = _ymd(dob)
        one = np.ones_like(d)
        dob = np.select([precision == 2, precision == 1], [_from_ymd(y, one, one), _from_ymd(y, m, one)], dob)
        age_now = (self.as_of - dob) / 365.2425

        # Deaths: only spouses and the head's parents (the household keeps a living head).
        p_death = np.select([age_now >= 85, age_now >= 75, age_now >= 60], [0.08, 0.03, 0.008], 0.0005)
        dead = ((role == SPOUSE) | (role == PARENT)) & (rng.random(total) < p_death)
        dod = np.where(dead, np.maximum(self.as_of - rng.integers(0, 5 * 365, total), dob + 1), NO_DATE)

        # Birth registration province: the seeded province's legacy code(s), or elsewhere.
        ward = _pick(rng, self.places.ward_weight, keep_h)
        local_code = self.places.ward_birth_code[ward][hh]
        share = np.zeros(total)
        for upper, p in reversed(R.MIGRANT_SHARE_BY_AGE):
            share = np.where(age_now < upper, p, share)
        migrant = rng.random(total) < share
        elsewhere = t.migrant_codes[_pick(rng, t.migrant_p, total)]
        birth_code = np.where(migrant, elsewhere, local_code)
        # Children born elsewhere were born where their head of household was born.
        head_code = birth_code[head_idx]
        birth_code = np.where(is_child, np.where(migrant, head_code, local_code), birth_code)

        # Place of origin (quê quán): migrants mostly their birth province, locals mostly the
        # local one; children and the head's father inherit the father's line.
        from_birth = migrant | (rng.random(total) < 0.7)
        origin_prov = np.where(from_birth, birth_code, t.migrant_codes[_pick(rng, t.migrant_p, total)])
        origin = self.places.origin_start[origin_prov] + np.floor(
            rng.random(total) * self.places.origin_count[origin_prov]
        ).astype(np.int64)
        father_origin = np.where(father >= 0, origin[np.maximum(father, 0)], origin)
        origin = np.where(is_child, father_origin, origin)
        origin = np.where((role == PARENT) & (gp_slot == 0), origin[head_idx], origin)

        # Household-level attributes.
        eth = _pick(rng, t.ethnicity_p, keep_h)[hh]
        rel = _pick(rng, t.religion_p, keep_h)[hh]

        # Middle names: Văn/Thị less common in younger cohorts (assumption).
        cohort = np.select([year < 1970, year < 1990], [0, 1], 2)
        p_van = np.array([0.60, 0.40, 0.18])[cohort]
        p_thi = np.array([0.75, 0.55, 0.25])[cohort]
        mid_m = np.where(rng.random(total) < p_van, 0, 1 + _pick(rng, t.male_middle_p, total))
        mid_f = np.where(rng.random(total) < p_thi, 0, 1 + _pick(rng, t.female_middle_p, total))
        given_m = _pick(rng, t.male_given_p, total)
        given_f = _pick(rng, t.female_given_p, total)

        # Uniform draws for the cards, CMND and addresses, and the address pattern per household.
        u = rng.random((9, total))
        addr = self._address_draws(rng, keep_h)

        # Every draw was made on the whole block; now cut (so a smaller population is a prefix).
        cut = min(total, limit)
        keep_h = int(hh[cut - 1]) + 1 if cut else 0
        sl = slice(0, cut)
        return self._assemble(
            u=u[:, sl], addr=[a[:keep_h] for a in addr], cut=cut, keep_h=keep_h, hh=hh[sl], role=role[sl],
            male=male[sl], family=family[sl], mid_m=mid_m[sl], mid_f=mid_f[sl], given_m=given_m[sl],
            given_f=given_f[sl], dob=dob[sl], precision=precision[sl], age_now=age_now[sl], dead=dead[sl],
            dod=dod[sl], birth_code=birth_code[sl], local_code=local_code[sl], migrant=migrant[sl],
            origin=origin[sl], eth=eth[sl], rel=rel[sl], ward=ward[:keep_h], father=father[sl],
            mother=mother[sl], spouse=spouse[sl], number=number,
        )  # fmt: skip

    # ..................................................................... assembly
    def _assemble(
        self,
        *,
        u: F64,
        addr: list[I64],
        cut: int,
        keep_h: int,
        hh: I64,
        role: I64,
        male: B,
        family: I64,
        mid_m: I64,
        mid_f: I64,
        given_m: I64,
        given_f: I64,
        dob: I64,
        precision: I64,
        age_now: F64,
        dead: B,
        dod: I64,
        birth_code: I64,
        local_code: I64,
        migrant: B,
        origin: I64,
        eth: I64,
        rel: I64,
        ward: I64,
        father: I64,
        mother: I64,
        spouse: I64,
        number: int,
    ) -> Chunk:
        t, pl = self.t, self.places
        c0, h0 = self.next_citizen, self.next_household
        # Links to people beyond the cut are dropped; indexes become population-wide.
        father, mother, spouse = (
            np.where((x >= 0) & (x < cut), x + c0, -1) for x in (father, mother, spouse)
        )
        year = _ymd(dob)[0]

        # ID numbers: PPP G YY + unique digits per prefix.
        g = 2 * ((year - 1900) // 100) + (~male).astype(np.int64)
        prefix = birth_code * 1000 + g * 100 + year % 100
        try:
            digits = self.ids.allocate(prefix)
        except NumberSpaceExhausted as exc:
            raise SynthpopError("citizens", str(exc)) from None
        id_values = prefix * 1_000_000 + digits

        # Old CMND: people who turned 14 before Hà Nội switched to 12-digit cards.
        b14 = _birthday(dob, 14)
        has_cmnd = (b14 <= _day(R.CMND_LAST_ISSUE)) & (u[0] < R.CMND_HOLDER_SHARE)
        cm_idx = np.flatnonzero(has_cmnd)
        issuing = np.where(migrant & (u[1] < 0.5), birth_code, local_code)[cm_idx]
        cm_prefix = self.cmnd_prefix[issuing]
        issuing = np.where(cm_prefix > 0, issuing, local_code[cm_idx])
        cm_prefix = np.where(cm_prefix > 0, cm_prefix, 1)
        try:
            cm_digits = self.cmnd.allocate(cm_prefix)
        except NumberSpaceExhausted as exc:
            raise SynthpopError("citizens", str(exc)) from None
        lo = np.maximum(b14[cm_idx], _day(R.CMND_FIRST_ISSUE))
        hi = _day(R.CMND_LAST_ISSUE)
        cm_issued = lo + np.floor(u[2][cm_idx] * (hi - lo + 1)).astype(np.int64)

        # Identity cards for the living aged 14 or more.
        card_idx = np.flatnonzero(~dead & (b14 <= self.as_of))
        issued, expires = self._cards(u[3:9][:, card_idx], dob[card_idx], b14[card_idx])
        kind = np.where(issued >= _day(R.CAN_CUOC_FROM), 1, 0)

        # Text.
        fam = [t.surnames[i] for i in family.tolist()]
        mid = [
            t.male_middle[a] if m else t.female_middle[b]
            for a, b, m in zip(mid_m.tolist(), mid_f.tolist(), male.tolist(), strict=True)
        ]
        giv = [
            t.male_given[a] if m else t.female_given[b]
            for a, b, m in zip(given_m.tolist(), given_f.tolist(), male.tolist(), strict=True)
        ]
        full = [f"{a} {b} {c}" for a, b, c in zip(fam, mid, giv, strict=True)]
        fc = self.fold_cache
        folded = []
        for a, b, c in zip(fam, mid, giv, strict=True):
            fa = fc.get(a) or fc.setdefault(a, fold(a))
            fb = fc.get(b) or fc.setdefault(b, fold(b))
            fg = fc.get(c) or fc.setdefault(c, fold(c))
            folded.append(f"{fa} {fb} {fg}")
        ids = [f"{v:012d}" for v in id_values.tolist()]
        addresses = self._addresses(addr, ward)
        hh_list = hh.tolist()
        ward_list = ward.tolist()
        legacy_codes = [pl.ward_legacy_code[w] for w in ward_list]
        ward_codes = [pl.ward_code[w] for w in ward_list]
        serials = range(self.household_serial + h0, self.household_serial + h0 + keep_h)
        sexes = ["M" if m else "F" for m in male.tolist()]
        places_of_issue = [f"Công an {pl.legacy_province_label.get(c, '')}" for c in issuing.tolist()]

        citizens = Citizens(
            index=np.arange(c0, c0 + cut, dtype=np.int64),
            household=hh + h0,
            id_number=ids,
            full_name=full,
            family_name=fam,
            middle_name=mid,
            given_name=giv,
            name_folded=folded,
            date_of_birth=dob,
            dob_precision=[PRECISIONS[p] for p in precision.tolist()],
            sex=sexes,
            ethnicity=[t.ethnicity[i] for i in eth.tolist()],
            religion=[t.religion[i] for i in rel.tolist()],
            birth_registration_code=[f"{c:03d}" for c in birth_code.tolist()],
            origin_text=[pl.origin_text[i] for i in origin.tolist()],
            origin_legacy_ward_code=[pl.origin_code[i] for i in origin.tolist()],
            permanent_address_text=[addresses[h] for h in hh_list],
            permanent_legacy_ward_code=[legacy_codes[h] for h in hh_list],
            permanent_ward_code=[ward_codes[h] for h in hh_list],
            permanent_province_code=pl.province,
            relationship=[RELATIONSHIPS[r] for r in role.tolist()],
            father=father,
            mother=mother,
            spouse=spouse,
            life_status=["deceased" if x else "alive" for x in dead.tolist()],
            date_of_death=dod,
        )
        households = Households(
            index=np.arange(h0, h0 + keep_h, dtype=np.int64),
            number=[f"HK{pl.province}{s:09d}" for s in serials],
            address=addresses,
            legacy_ward_code=legacy_codes,
            ward_code=ward_codes,
        )
        old_ids = OldIds(
            citizen=cm_idx + c0,
            number=[f"{p:02d}{d:07d}" for p, d in zip(cm_prefix.tolist(), cm_digits.tolist(), strict=True)],
            issued_on=cm_issued,
            issue_place=places_of_issue,
        )
        cards = Cards(
            citizen=card_idx + c0,
            kind=[CARD_KINDS[k] for k in kind.tolist()],
            card_number=[ids[i] for i in card_idx.tolist()],
            issued_on=issued,
            expires_on=expires,
        )
        chunk = Chunk(number, households, citizens, old_ids, cards, self.next_old_id, self.next_card)
        self.next_citizen += cut
        self.next_household += keep_h
        self.next_old_id += cm_idx.size
        self.next_card += card_idx.size
        return chunk

    def _cards(self, u: F64, dob: I64, b14: I64) -> tuple[I64, I64]:
        """The card each person holds today: a chip CCCD from the 2021–2022 campaign (later for
        those who turned 14 after it started), renewed when it expired, and a few re-issued
        (lost, changed data) since the 2023 Law took effect — re-issues are "thẻ căn cước"."""
        chip_from, can_cuoc_from = _day(R.CHIP_CCCD_FROM), _day(R.CAN_CUOC_FROM)
        late_from = _day(date(2023, 1, 1))
        campaign = np.where(
            u[0] < 0.9,
            chip_from + 14 + np.floor(u[1] * 700).astype(np.int64),
            late_from + np.floor(u[1] * (can_cuoc_from - late_from)).astype(np.int64),
        )
        first = np.where(b14 < chip_from, campaign, b14 + np.floor(u[2] * 200).astype(np.int64))
        first = np.minimum(first, self.as_of)
        expiry = card_expiry_days(dob, first)
        renew = (expiry != NO_DATE) & (expiry <= self.as_of)
        second = np.minimum(expiry + np.floor(u[3] * 120).astype(np.int64), self.as_of)
        issued = np.where(renew, second, first)
        start = np.maximum(issued, can_cuoc_from)
        reissue = (u[4] < 0.06) & (self.as_of > start)
        later = start + np.floor(u[5] * np.maximum(self.as_of - start, 0)).astype(np.int64)
        issued = np.where(reissue, later, issued)
        return issued, card_expiry_days(dob, issued)

    @staticmethod
    def _address_draws(rng: np.random.Generator, n: int) -> list[I64]:
        return [
            rng.integers(1, 200, n),  # house number
            rng.integers(1, 300, n),  # lane (ngõ)
            rng.integers(1, 60, n),  # alley (ngách)
            rng.integers(0, len(R.STREETS), n),
            rng.integers(0, len(R.VILLAGE_NAMES), n),
            rng.integers(1, 30, n),  # residential group (tổ dân phố), hamlet (xóm)
            rng.integers(0, 100, n),  # pattern, percent
            rng.integers(0, 100, n),  # < 40: a main road ("đường")
        ]

    def _addresses(self, draws: list[I64], ward: I64) -> list[str]:
        """Permanent addresses as printed on cards before 01/07/2025: house and lane in a ward
        (phường, thị trấn), village or hamlet in a commune, then ward, district and province."""
        pl = self.places
        house, lane, alley, street, village, group, pattern, road = (d.tolist() for d in draws)
        urban = pl.ward_urban.tolist()
        out = []
        for i, w in enumerate(ward.tolist()):
            p = pattern[i]
            kind = "đường" if road[i] < 40 else self.street_kind
            s = R.STREETS[street[i]]
            if urban[w]:
                if p < 30:
                    head = f"Số {house[i]}, {kind} {s}"
                elif p < 70:
                    head = f"Số {house[i]}, ngõ {lane[i]}, {kind} {s}"
                elif p < 85:
                    head = f"Số {house[i]}, ngách {lane[i]}/{alley[i]}, ngõ {lane[i]}, {kind} {s}"
                else:
                    head = f"Tổ dân phố {group[i]}"
            elif p < 60:
                head = f"Thôn {R.VILLAGE_NAMES[village[i]]}"
            elif p < 85:
                head = f"Xóm {group[i]}"
            else:
                head = f"Số {house[i]}, thôn {R.VILLAGE_NAMES[village[i]]}"
            out.append(head + pl.ward_suffix[w])
        return out


def _concat(parts: list[Chunk], number: int) -> Chunk:
    if len(parts) == 1:
        parts[0].number = number
        return parts[0]

    def merge(objs: list[object]) -> object:
        first = objs[0]
        kwargs: dict[str, object] = {}
        for name in first.__dataclass_fields__:  # type: ignore[attr-defined]
            values = [getattr(o, name) for o in objs]
            if isinstance(values[0], np.ndarray):
                kwargs[name] = np.concatenate(values)
            elif isinstance(values[0], list):
                kwargs[name] = [x for v in values for x in v]
            else:
                kwargs[name] = values[0]
        return type(first)(**kwargs)

    return Chunk(
        number,
        merge([p.households for p in parts]),  # type: ignore[arg-type]
        merge([p.citizens for p in parts]),  # type: ignore[arg-type]
        merge([p.old_ids for p in parts]),  # type: ignore[arg-type]
        merge([p.cards for p in parts]),  # type: ignore[arg-type]
        parts[0].first_old_id,
        parts[0].first_card,
    )


def generate(
    n: int,
    *,
    seed: int = 0,
    province: str = "01",
    chunk: int = DEFAULT_CHUNK,
    as_of: date = AS_OF,
    places: Places | None = None,
    existing: Existing | None = None,
) -> Iterator[Chunk]:
    """Yield the population of ``n`` people in chunks of whole households (about ``chunk``
    people each, at least one internal block of 10,000).

    ``places`` defaults to :func:`load_places` of ``province``; ``existing`` lists numbers already
    stored that must not be reused (appending). Raises :class:`SynthpopError` naming the option for
    a negative ``n``/``seed``, an unknown province, or a number space that runs out.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise SynthpopError("citizens", f"must be a whole number ≥ 0, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SynthpopError("seed", f"must be a whole number ≥ 0, got {seed!r}")
    if chunk < 1:
        raise SynthpopError("chunk", f"must be ≥ 1, got {chunk!r}")
    places = places or load_places(province)
    if places.province != province:
        raise SynthpopError("province", f"places are for province {places.province!r}, not {province!r}")
    return _iterate(_Generator(seed, places, as_of, existing), n, max(1, math.ceil(chunk / BLOCK)))


def population(
    n: int,
    *,
    seed: int = 0,
    province: str = "01",
    as_of: date = AS_OF,
    places: Places | None = None,
    existing: Existing | None = None,
) -> Chunk:
    """The whole population as one chunk (for tests and small demos; :func:`generate` streams)."""
    chunks = list(generate(n, seed=seed, province=province, as_of=as_of, places=places, existing=existing))
    if not chunks:
        raise SynthpopError("citizens", "a population needs at least one person")
    return _concat(chunks, 0)


def _iterate(gen: _Generator, n: int, blocks_per_chunk: int) -> Iterator[Chunk]:
    remaining, block_no, chunk_no = n, 0, 0
    parts: list[Chunk] = []
    while remaining > 0:
        part = gen.block(block_no, remaining)
        block_no += 1
        remaining -= len(part.citizens)
        parts.append(part)
        if len(parts) == blocks_per_chunk or remaining == 0:
            yield _concat(parts, chunk_no)
            chunk_no += 1
            parts = []
