"""The probabilistic model (Fellegi–Sunter on Splink 4 with DuckDB): features, comparisons designed
for Vietnamese names and addresses, blocking rules, EM training, a versioned JSON model.

Comparisons (each level is one Fellegi–Sunter agreement pattern with its own m and u):

* ``given`` — with tones; stripped (term-frequency adjusted: "an" agrees less than "khuê");
  Jaro–Winkler ≥ 0.88 on the stripped form (typos); else.
* ``family`` — stripped; the same surname written two ways (Huỳnh≡Hoàng, Võ≡Vũ) — kept as its own
  level because the two spellings are a weaker agreement than the same spelling; Jaro–Winkler;
  else. Term-frequency adjusted: Nguyễn (38 %) says little, Khổng says a lot.
* ``middle`` — stripped; Jaro–Winkler; else (a missing middle name is "null", not a disagreement).
* ``dob`` — the same day; day and month swapped; only the month known on one side and it agrees;
  the same month (a wrong day); only the year known on one side and it agrees; the same year; else.
* ``sex`` — exact. ``ward`` — the same current ward after the 2025 crosswalk. ``street`` — the
  stripped house number / lane / street, exact or Jaro–Winkler ≥ 0.9, compared only within the
  same ward (a moved person's old street is not a second disagreement: ``STREET_NOT_COMPARED``).

Blocking never uses the surname alone (14 surnames cover 90 % of people): given name + birth
year (+ birth month for a very frequent pair, :func:`add_block_keys`); full date of birth; surname
key + given name + current ward.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dancu.blocks.linkage.normalise import normalise_address, normalise_name
from dancu.blocks.registry.dto import ReferenceRecord

MODEL_NAME = "vn-person"
COMPARED = ("given", "family", "middle", "dob", "sex", "ward", "street")
FEATURES = (
    "given",
    "given_toned",
    "family",
    "family_key",
    "middle",
    "dob",
    "dob_swap",
    "dob_ym",
    "dob_year",
    "sex",
    "ward_code",
    "street",
)
EM_SEED = 6
# EM needs enough pairs to estimate every level: a smaller job is scored with the bundled model
# (trained by ``dancu linkage evaluate --records 5000 --citizens 20000 --save-model``, seed 0),
# its prior re-set for the job's sizes.
MIN_TRAIN_ROWS = 300
MIN_TRAIN_REFERENCE = 1000
BASE_MODEL = Path(__file__).with_name("data") / "vn-person-base.json"


# The in-memory path's blocking (never the surname alone: ``scale.check_blocking``). The first rule
# is "given name + birth year", split by birth month where that block is very frequent
# (:func:`add_block_keys`): Anh, Linh, Hùng … born the same year are thousands in a city.
BLOCK_KEY = "block_given_year"
FREQUENT_BLOCK = 2000  # registry citizens sharing a (given name, birth year) beyond which it is split
# The place is a key with the middle name, or for a row without a date: surname + given name in one
# ward alone put namesakes of other ages in front of the model (a stranger of a commune list was
# linked to the only Nguyễn … Hương of the address) and, at scale, 90 of 133 million pairs
# (ADR 0012 decision 18). The same rules as the scale path's (``scale.BLOCKING_AT_SCALE``).
BLOCKING: tuple[tuple[str, ...], ...] = (
    (BLOCK_KEY,),
    ("dob",),
    ("family_key", "given", "middle", "ward_code"),
)
# no date on one side (missing, or unreadable in the file): surname + given name in the same ward
NO_DOB_RULES = (
    "(l.dob_year IS NULL OR r.dob_year IS NULL) AND l.family_key = r.family_key AND l.given = r.given "
    "AND l.ward_code = r.ward_code",
)


def prediction_blocking() -> list[Any]:
    """Splink's blocking rules for the in-memory path's predictions: ``BLOCKING`` and
    ``NO_DOB_RULES``."""
    from splink import block_on
    from splink.blocking_rule_library import CustomRule

    return [block_on(*rule) for rule in BLOCKING] + [CustomRule(r) for r in NO_DOB_RULES]


def add_block_keys(
    sector: list[dict[str, Any]], reference: list[dict[str, Any]], *, cap: int = FREQUENT_BLOCK
) -> int:
    """Set ``BLOCK_KEY`` on every row (in place): "given name|birth year", or — when more than
    ``cap`` registry citizens share that pair — "given name|birth year|birth month", on both sides
    alike, so that the comparisons of a frequent name stay bounded (a row of such a block whose
    month is unknown or swapped is still reached by the full date of birth or by surname + given
    name + ward). Returns the number of blocks split."""
    counts: dict[tuple[Any, Any], int] = {}
    for r in reference:
        k = (r["given"], r["dob_year"])
        counts[k] = counts.get(k, 0) + 1
    frequent = {k for k, n in counts.items() if n > cap}
    for r in (*sector, *reference):
        given, year = r["given"], r["dob_year"]
        if given is None or year is None:
            r[BLOCK_KEY] = None
        elif (given, year) in frequent:
            r[BLOCK_KEY] = f"{given}|{year}|{(r['dob_ym'] or '')[5:]}"
        else:
            r[BLOCK_KEY] = f"{given}|{year}"
    return len(frequent)


def base_model() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(BASE_MODEL.read_text(encoding="utf-8"))
    return data


def blank(value: str | None) -> str | None:
    return value or None


def name_features(full_name: str) -> dict[str, str | None]:
    n = normalise_name(full_name)
    return {
        "given": blank(n.given),
        "given_toned": blank(n.given_toned),
        "family": blank(n.family),
        "family_key": blank(n.family_key),
        "middle": blank(n.middle),
    }


def reference_features(r: ReferenceRecord) -> dict[str, Any]:
    """Features of a registry record (its ward codes are already resolved; the street is what the
    address resolver leaves before the ward)."""
    d = r.date_of_birth
    precision = r.dob_precision
    row: dict[str, Any] = {"unique_id": r.citizen_id, **name_features(r.full_name)}
    row["dob"] = d.isoformat() if precision == "day" else None
    row["dob_swap"] = None
    row["dob_ym"] = f"{d.year:04d}-{d.month:02d}" if precision in ("day", "month") else None
    row["dob_year"] = f"{d.year:04d}"
    row["sex"] = r.sex or None
    row["ward_code"] = blank(r.permanent_ward_code)
    row["street"] = (
        blank(normalise_address(r.permanent_address_text).street) if r.permanent_address_text else None
    )
    return row


# A sector file's address is one fact — where the person lived when the file was made — so a row of
# someone who has moved since disagrees on the ward *and* the street. Counting both as evidence
# against counts one move twice (the comparisons are assumed independent); the street of another
# ward says nothing the ward has not said, so it is compared only within the same ward (or when a
# ward is unknown) and is otherwise "no information", like a missing street. ADR 0012 decision 12.
STREET_NOT_COMPARED = '"street_l" IS NULL OR "street_r" IS NULL OR "ward_code_l" <> "ward_code_r"'


# A date known only to the year (or the month) — typed so in the file, or so recorded in the registry
# — is not a date that disagrees on the day: what can be compared agrees, and that is all the row
# says. Its agreement is its own level, so that its m is P(the year agrees | same person, the year is
# all that is known), near 1, not the share of true pairs whose full dates agree only on the year
# (ADR 0012 decision 13). Before, a year-only row agreeing on the year got the "same year" level's
# 1.7 bits; its own level gives about 6 at scale.
DOB_MONTH_ONLY = '("dob_l" IS NULL OR "dob_r" IS NULL) AND "dob_ym_l" = "dob_ym_r"'
DOB_YEAR_ONLY = '("dob_ym_l" IS NULL OR "dob_ym_r" IS NULL) AND "dob_year_l" = "dob_year_r"'


def _settings(prior: float) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator

    def null(col: str) -> Any:
        return cll.NullLevel(col)

    given = cl.CustomComparison(
        output_column_name="given",
        comparison_levels=[
            null("given"),
            cll.ExactMatchLevel("given_toned").configure(label_for_charts="same, with tones"),
            cll.ExactMatchLevel("given", term_frequency_adjustments=True).configure(
                label_for_charts="same without tones"
            ),
            cll.JaroWinklerLevel("given", 0.88),
            cll.ElseLevel(),
        ],
    )
    family = cl.CustomComparison(
        output_column_name="family",
        comparison_levels=[
            null("family"),
            cll.ExactMatchLevel("family", term_frequency_adjustments=True),
            cll.ExactMatchLevel("family_key").configure(label_for_charts="Huỳnh/Hoàng, Võ/Vũ"),
            cll.JaroWinklerLevel("family", 0.88),
            cll.ElseLevel(),
        ],
    )
    middle = cl.CustomComparison(
        output_column_name="middle",
        comparison_levels=[
            null("middle"),
            cll.ExactMatchLevel("middle"),
            cll.JaroWinklerLevel("middle", 0.85),
            cll.ElseLevel(),
        ],
    )
    dob = cl.CustomComparison(
        output_column_name="dob",
        comparison_levels=[
            null("dob_year"),
            cll.ExactMatchLevel("dob").configure(label_for_charts="same day"),
            cll.CustomLevel("dob_swap_l = dob_r OR dob_l = dob_swap_r", "day and month swapped"),
            cll.CustomLevel(DOB_MONTH_ONLY, "only the month known on one side: same month"),
            cll.ExactMatchLevel("dob_ym").configure(label_for_charts="same month"),
            cll.CustomLevel(DOB_YEAR_ONLY, "only the year known on one side: same year"),
            cll.ExactMatchLevel("dob_year").configure(label_for_charts="same year"),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=prior,
        comparisons=[
            given,
            family,
            middle,
            dob,
            cl.ExactMatch("sex"),
            cl.CustomComparison(
                output_column_name="ward",
                comparison_levels=[null("ward_code"), cll.ExactMatchLevel("ward_code"), cll.ElseLevel()],
            ),
            cl.CustomComparison(
                output_column_name="street",
                comparison_levels=[
                    # the street is compared within the same ward only (``STREET_NOT_COMPARED``)
                    cll.CustomLevel(STREET_NOT_COMPARED, "street is NULL, or in another ward").configure(
                        is_null_level=True
                    ),
                    cll.ExactMatchLevel("street"),
                    cll.JaroWinklerLevel("street", 0.9),
                    cll.ElseLevel(),
                ],
            ),
        ],
        blocking_rules_to_generate_predictions=prediction_blocking(),
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
        em_convergence=0.001,
        max_iterations=20,
    )


def _quiet() -> None:
    """Splink reports training progress at INFO on its own handler: keep it to warnings."""
    for name in list(logging.root.manager.loggerDict):
        if name == "splink" or name.startswith("splink."):
            logging.getLogger(name).setLevel(logging.WARNING)


def duckdb_api() -> Any:
    """Splink's DuckDB backend on an in-memory connection, without DuckDB's terminal progress bar."""
    import duckdb
    from splink import DuckDBAPI

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return DuckDBAPI(connection=con)


# DuckDB's names of the similarity functions → Splink's Spark UDFs (``splink.internals.dialects``)
# (sqlglot writes DuckDB's ``jaro_winkler_similarity`` as ``JAROWINKLER_SIMILARITY``)
SPARK_FUNCTIONS = {"JAROWINKLER_SIMILARITY(": "jaro_winkler(", "DAMERAU_LEVENSHTEIN(": "damerau_levenshtein("}


def for_dialect(model: dict[str, Any], dialect: str) -> dict[str, Any]:
    """A saved model (its SQL written for DuckDB) with every condition and blocking rule transpiled
    to ``dialect`` by sqlglot (Splink's own SQL translator): in Spark SQL a double-quoted name is a
    string, so the DuckDB text cannot be run as it is. The parameters are untouched."""
    import sqlglot

    if dialect == "duckdb":
        return model

    def sql(text: str) -> str:
        if text == "ELSE":
            return text
        out: str = sqlglot.transpile(text, read="duckdb", write=dialect)[0]
        if dialect == "spark":
            for old, new in SPARK_FUNCTIONS.items():
                out = out.replace(old, new)
        return out

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: sql(v)
                if k in ("sql_condition", "blocking_rule") and isinstance(v, str)
                else (dialect if k == "sql_dialect" else walk(v))
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    translated: dict[str, Any] = walk(model)
    return translated


def inputs(db_api: Any, *frames: Any) -> list[Any]:
    """The input tables for the backend: pandas for DuckDB, Spark DataFrames for Spark."""
    from dancu.blocks.linkage import spark

    return [spark.to_spark(db_api, f) for f in frames] if spark.is_spark(db_api) else list(frames)


@dataclass
class Prediction:
    record_key: int
    citizen_id: int
    match_weight: float
    probability: float
    explanation: dict[str, float]  # field → match weight (log2 Bayes factor, tf included)


@dataclass
class TrainedModel:
    version: str
    settings: dict[str, Any]


def _frames(sector: list[dict[str, Any]], reference: list[dict[str, Any]]) -> tuple[Any, Any]:
    import pandas as pd

    cols = ["unique_id", *FEATURES, BLOCK_KEY]
    return pd.DataFrame(sector, columns=cols), pd.DataFrame(reference, columns=cols)


def train_and_predict(
    sector: list[dict[str, Any]],
    reference: list[dict[str, Any]],
    *,
    threshold: float = -5.0,
    model: dict[str, Any] | None = None,
    db_api: Any = None,
) -> tuple[list[Prediction], TrainedModel]:
    """Train (u by random sampling, m by EM on two blocking passes) unless ``model`` is given or the
    job is too small to train on (then the bundled model), then score the blocked pairs; pairs below
    ``threshold`` (match weight) are dropped. The model's version is a hash of its parameters.
    ``db_api`` is Splink's backend: embedded DuckDB unless another is given (``linkage.spark``)."""
    from splink import Linker, block_on

    _quiet()
    if not sector or not reference:
        return [], TrainedModel("", {})
    db = db_api or duckdb_api()
    add_block_keys(sector, reference)
    left, right = inputs(db, *_frames(sector, reference))
    expected_matches = max(1, len(sector))
    prior = min(0.5, expected_matches / (len(sector) * len(reference)))
    if model is None and (len(sector) < MIN_TRAIN_ROWS or len(reference) < MIN_TRAIN_REFERENCE):
        model = base_model()
    if model is not None:
        model = {
            **for_dialect(model, db.sql_dialect.sql_dialect_str),
            "probability_two_random_records_match": prior,
            "blocking_rules_to_generate_predictions": prediction_blocking(),
        }
        linker = Linker([left, right], model, db_api=db, input_table_aliases=["sector", "registry"])
    else:
        linker = Linker(
            [left, right], _settings(prior), db_api=db, input_table_aliases=["sector", "registry"]
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=2e5, seed=EM_SEED)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("dob"), fix_probability_two_random_records_match=True
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("given", "family_key"), fix_probability_two_random_records_match=True
        )
    saved = linker.misc.save_model_to_json()
    version = model_version(saved)
    frame = linker.inference.predict(threshold_match_weight=threshold).as_pandas_dataframe()
    out: list[Prediction] = []
    if len(frame):
        sector_on_left = frame["source_dataset_l"] == "sector"
        for i, row in enumerate(frame.to_dict("records")):
            left_is_sector = bool(sector_on_left.iloc[i])
            rec = int(row["unique_id_l" if left_is_sector else "unique_id_r"])
            cit = int(row["unique_id_r" if left_is_sector else "unique_id_l"])
            out.append(
                Prediction(
                    rec, cit, float(row["match_weight"]), float(row["match_probability"]), _explain(row)
                )
            )
    return out, TrainedModel(version, saved)


def model_version(saved: dict[str, Any]) -> str:
    """The version names the trained parameters — each comparison's levels (label, m, u, term
    frequencies) — and not how they are written: not the SQL dialect (the same model on DuckDB and
    on Spark has one version), not the prior (it follows each job's sizes), not the random id
    Splink gives each linker."""
    params = [
        [
            c.get("output_column_name"),
            [
                [
                    lvl.get("label_for_charts"),
                    lvl.get("m_probability"),
                    lvl.get("u_probability"),
                    lvl.get("tf_adjustment_column"),
                    lvl.get("tf_adjustment_weight"),
                    lvl.get("is_null_level", False),
                ]
                for lvl in c.get("comparison_levels", [])
            ],
        ]
        for c in saved.get("comparisons", [])
    ]
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    return f"{MODEL_NAME}-{digest}"


def _explain(row: dict[str, Any]) -> dict[str, float]:
    import math

    weights: dict[str, float] = {}
    for name in COMPARED:
        bf = row.get(f"bf_{name}")
        if bf is None or (isinstance(bf, float) and math.isnan(bf)):
            continue
        tf = row.get(f"bf_tf_adj_{name}")
        if tf is not None and not (isinstance(tf, float) and math.isnan(tf)):
            bf = bf * tf
        weights[name] = round(math.log2(bf), 2) if bf > 0 else -99.0
    return weights
