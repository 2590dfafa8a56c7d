"""Evaluation harness: a synthetic sector file made from the synthetic population with realistic
corruption, and pairwise precision / recall / F1 of the pipeline against the truth.

The registry side is the synthetic population itself (``dancu.synthpop.generator.population``,
deterministic for a seed), turned into the same ``ReferenceRecord`` DTOs that
``registry.services.cleaning_reference`` returns — no database is needed.

Corruption of each sector row (independent draws; rates are in ``RATES``): the ID missing, an old
CMND written instead of the ID, a typo in the ID (two digits swapped, or O for 0 / l for 1 /
spaces); the name without diacritics, in the other tone-placement style, with Huỳnh↔Hoàng or
Võ↔Vũ swapped, with a letter typo, without its middle name; the date of birth with day and month
swapped, only its year, or a wrong day; the sex left empty; the address without diacritics or of a
previous residence (a "moved" person); plus rows repeated (duplicates) and rows of people who are
not in the registry.

Each row's corruptions are recorded by name (``SyntheticFile.corruptions``, the keys of ``RATES``
plus ``dob_partial`` for a registry date known only to the month or year), so that the errors of a
run can be broken down by what was done to the row (``bench/linkage_bench.py``); recording them
draws nothing, so a seed gives the same file as before.
"""

from __future__ import annotations

import random
import string
import time
from dataclasses import dataclass, field
from typing import Any

from dancu.blocks.linkage.febrl import bcubed
from dancu.blocks.linkage.normalise import stripped
from dancu.blocks.linkage.pipeline import DUPLICATE, MATCHED, REVIEW, LinkResult, SectorRow, link
from dancu.blocks.registry.dto import ReferenceRecord

RATES = {
    "id_missing": 0.25,
    "id_cmnd": 0.15,
    "id_typo": 0.08,
    "id_lookalike": 0.05,
    "name_folded": 0.25,
    "name_new_tone_style": 0.10,
    "surname_variant": 0.5,  # of the Huỳnh/Hoàng/Võ/Vũ rows
    "name_typo": 0.08,
    "middle_missing": 0.05,
    "dob_swapped": 0.08,
    "dob_year_only": 0.04,
    "dob_wrong_day": 0.03,
    "sex_missing": 0.4,
    "address_folded": 0.3,
    "moved": 0.06,
    "duplicate": 0.04,
    "stranger": 0.05,
}
SWAPS = {"Huỳnh": "Hoàng", "Hoàng": "Huỳnh", "Võ": "Vũ", "Vũ": "Võ"}
NEW_STYLE = {
    "òa": "oà",
    "óa": "oá",
    "ỏa": "oả",
    "õa": "oã",
    "ọa": "oạ",
    "òe": "oè",
    "óe": "oé",
    "ủy": "uỷ",
    "úy": "uý",
    "ùy": "uỳ",
    "ũy": "uỹ",
    "ụy": "uỵ",
}


def synthetic_reference(citizens: int, *, seed: int = 0) -> list[ReferenceRecord]:
    """The synthetic population as the registry's data-cleaning DTOs (citizen id = index + 1)."""
    from dancu.synthpop.generator import population, to_dates

    chunk = population(citizens, seed=seed)
    c = chunk.citizens
    dobs = to_dates(c.date_of_birth)
    deaths = to_dates(c.date_of_death)
    olds: dict[int, list[str]] = {}
    for idx, number in zip(chunk.old_ids.citizen.tolist(), chunk.old_ids.number, strict=True):
        olds.setdefault(int(idx), []).append(number)
    out = []
    for i in range(len(c)):
        idx = int(c.index[i])
        dob = dobs[i]
        assert dob is not None
        out.append(
            ReferenceRecord(
                citizen_id=idx + 1,
                id_number=c.id_number[i],
                full_name=c.full_name[i],
                date_of_birth=dob,
                dob_precision=c.dob_precision[i],
                sex=c.sex[i],
                permanent_address_text=c.permanent_address_text[i],
                permanent_ward_code=c.permanent_ward_code[i],
                permanent_legacy_ward_code=c.permanent_legacy_ward_code[i],
                life_status=c.life_status[i],
                date_of_death=deaths[i],
                old_id_numbers=tuple(olds.get(idx, ())),
            )
        )
    return out


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word))
    kind = rng.random()
    if kind < 0.4:
        return word[:i] + word[i + 1 :]
    if kind < 0.7 and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice(string.ascii_lowercase) + word[i + 1 :]


def _corrupt(
    rng: random.Random, r: ReferenceRecord, other_address: str, tags: list[str] | None = None
) -> dict[str, str]:
    """The row's fields as a sector file might have them; the corruptions applied are appended to
    ``tags`` (nothing is drawn for that: the same seed gives the same rows)."""
    p = RATES
    done = tags if tags is not None else []
    # the ID
    if rng.random() < p["id_missing"]:
        number = ""
        done.append("id_missing")
    elif r.old_id_numbers and rng.random() < p["id_cmnd"] / 0.6:
        number = r.old_id_numbers[0]
        done.append("id_cmnd")
    else:
        number = r.id_number
        if not number:
            pass
        elif rng.random() < p["id_typo"]:
            i = rng.randrange(6, 11)
            number = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
            done.append("id_typo")
        elif rng.random() < p["id_lookalike"]:
            number = f"{number[:3]} {number[3:6]} {number[6:]}".replace("0", "O", 1).replace("1", "l", 1)
            done.append("id_lookalike")
    # the name
    words = r.full_name.split()
    if words[0] in SWAPS and rng.random() < p["surname_variant"]:
        words[0] = SWAPS[words[0]]
        done.append("surname_variant")
    if len(words) > 2 and rng.random() < p["middle_missing"]:
        words = [words[0], words[-1]]
        done.append("middle_missing")
    if rng.random() < p["name_typo"]:
        j = rng.randrange(len(words))
        typed = _typo(rng, words[j])
        if typed != words[j]:
            done.append("name_typo")
        words[j] = typed
    name = " ".join(words)
    if rng.random() < p["name_new_tone_style"]:
        for old, new in NEW_STYLE.items():
            name = name.replace(old, new)
        done.append("name_new_tone_style")
    if rng.random() < p["name_folded"]:
        name = stripped(name).title() if rng.random() < 0.7 else stripped(name).upper()
        done.append("name_folded")
    # the date of birth
    d = r.date_of_birth
    if r.dob_precision == "year" or rng.random() < p["dob_year_only"]:
        dob = f"{d.year}"
        done.append("dob_partial" if r.dob_precision == "year" else "dob_year_only")
    elif r.dob_precision == "month":
        dob = f"{d.month:02d}/{d.year}"
        done.append("dob_partial")
    elif rng.random() < p["dob_swapped"] and d.day <= 12:
        dob = f"{d.month:02d}/{d.day:02d}/{d.year}"
        done.append("dob_swapped")
    elif rng.random() < p["dob_wrong_day"]:
        dob = f"{min(28, max(1, d.day + rng.choice((-1, 1, 10)))):02d}/{d.month:02d}/{d.year}"
        done.append("dob_wrong_day")
    else:
        dob = d.strftime("%d/%m/%Y")
    sex = "" if rng.random() < p["sex_missing"] else ("Nam" if r.sex == "M" else "Nữ")
    if not sex:
        done.append("sex_missing")
    moved = rng.random() < p["moved"]
    address = other_address if moved else r.permanent_address_text
    if moved:
        done.append("moved")
    if rng.random() < p["address_folded"]:
        address = stripped(address)
        done.append("address_folded")
    return {"full_name": name, "date_of_birth": dob, "sex": sex, "id_number": number, "address": address}


@dataclass
class SyntheticFile:
    rows: list[SectorRow]
    truth: dict[int, int | None]  # row key → citizen id (None: not in the registry)
    corruptions: dict[int, tuple[str, ...]] = field(default_factory=dict)  # row key → what was done


def synthetic_sector_file(reference: list[ReferenceRecord], records: int, *, seed: int = 0) -> SyntheticFile:
    """``records`` sector rows drawn from ``reference`` (deceased people included as they come), with
    duplicates and strangers; deterministic for ``seed``."""
    rng = random.Random(seed)
    rows: list[SectorRow] = []
    truth: dict[int, int | None] = {}
    done: dict[int, tuple[str, ...]] = {}
    people = rng.sample(reference, min(records, len(reference)))
    key = 0
    for r in people:
        if len(rows) >= records:
            break
        if rng.random() < RATES["stranger"]:
            # someone who is not in the registry: a surname, a given name, a birth date and an
            # address each borrowed from a different resident
            donor, other, born, home = (rng.choice(reference) for _ in range(4))
            fake = ReferenceRecord(
                citizen_id=0,
                id_number="",
                full_name=f"{donor.full_name.split()[0]} {other.full_name.split()[-1]}",
                date_of_birth=born.date_of_birth.replace(day=rng.randint(1, 28)),
                dob_precision="day",
                sex=other.sex,
                permanent_address_text=home.permanent_address_text,
                permanent_ward_code="",
                permanent_legacy_ward_code="",
                life_status="alive",
                date_of_death=None,
            )
            tags = ["stranger"]
            rows.append(SectorRow(key, **_corrupt(rng, fake, home.permanent_address_text, tags)))
            truth[key], done[key] = None, tuple(tags)
            key += 1
            continue
        copies = 2 if rng.random() < RATES["duplicate"] else 1
        for copy in range(copies):
            tags = ["duplicate"] if copies > 1 else []
            if copy:
                tags.append("second_copy")
            previous = rng.choice(reference).permanent_address_text
            rows.append(SectorRow(key, **_corrupt(rng, r, previous, tags)))
            truth[key], done[key] = r.citizen_id, tuple(tags)
            key += 1
    kept = range(min(records, len(rows)))
    return SyntheticFile(rows[:records], {k: truth[k] for k in kept}, {k: done[k] for k in kept})


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    true_positives: int
    predicted: int
    actual: int
    review: int
    # clusters of the file's rows and their citizens (:func:`_scores`): B-cubed precision / recall
    # / F1 and the share of true clusters found exactly
    bcubed_precision: float = 0.0
    bcubed_recall: float = 0.0
    bcubed_f1: float = 0.0
    exact_clusters: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def pairwise(result: LinkResult, truth: dict[int, int | None]) -> Scores:
    """Pairwise scores over (sector row, citizen) links: a link predicted is a row decided
    ``matched`` or ``duplicate`` (rows sent to review count as not linked, and are reported)."""
    predicted = {(o.key, o.citizen_id) for o in result.outcomes if o.decision in (MATCHED, DUPLICATE)}
    return _scores(predicted, truth, sum(1 for o in result.outcomes if o.decision == REVIEW))


def exact_id_baseline(
    rows: list[SectorRow], reference: list[ReferenceRecord], truth: dict[int, int | None]
) -> Scores:
    """The baseline: a row is linked when its ID cell equals a registry ID number exactly."""
    by_number = {r.id_number: r.citizen_id for r in reference}
    predicted: set[tuple[int, int | None]] = {
        (row.key, by_number[row.id_number]) for row in rows if row.id_number in by_number
    }
    return _scores(predicted, truth, 0)


def _scores(predicted: set[tuple[int, int | None]], truth: dict[int, int | None], review: int) -> Scores:
    actual = {(k, c) for k, c in truth.items() if c is not None}
    tp = len(predicted & actual)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(actual) if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    # the records clustered are the file's rows and the citizens any of them is (or was said to
    # be) linked to: a citizen's cluster is the citizen with their rows, a row linked to nobody is
    # alone — so a missed link costs both the row and the citizen, a wrong one both clusters
    linked = dict(predicted)
    citizens = {c for c in linked.values() if c is not None} | {c for c in truth.values() if c is not None}
    clusters: dict[Any, Any] = {("citizen", c): c for c in citizens}
    real: dict[Any, Any] = dict(clusters)
    for k, c in truth.items():
        clusters[("row", k)] = linked[k] if linked.get(k) is not None else ("row", k)
        real[("row", k)] = c if c is not None else ("row", k)
    bp, br, bf, exact, _ = bcubed(clusters, real)
    return Scores(precision, recall, f1, tp, len(predicted), len(actual), review, bp, br, bf, exact)


@dataclass
class Evaluation:
    citizens: int
    records: int
    seconds: float
    pipeline: Scores
    baseline: Scores
    counts: dict[str, int]
    model_version: str
    model_settings: dict[str, Any]


def evaluate(citizens: int, records: int, *, seed: int = 0) -> Evaluation:
    """Generate, corrupt, link and score; the exact-ID-only baseline is scored on the same run."""
    reference = synthetic_reference(citizens, seed=seed)
    sector = synthetic_sector_file(reference, records, seed=seed + 1)
    started = time.perf_counter()
    result = link(sector.rows, reference)
    seconds = time.perf_counter() - started
    return Evaluation(
        citizens,
        len(sector.rows),
        round(seconds, 2),
        pairwise(result, sector.truth),
        exact_id_baseline(sector.rows, reference, sector.truth),
        result.counts(),
        result.model_version,
        result.model_settings,
    )
