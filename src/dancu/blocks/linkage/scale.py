# ruff: noqa: S608 — SQL is assembled from this module's own table and column names, never from input
"""The pipeline at city and national scale, inside DuckDB (issue 8: a million sector rows against
8.5 million citizens): the same passes and decisions as :func:`~dancu.blocks.linkage.pipeline.link`,
with the registry never turned into Python objects.

* the registry's features are computed in SQL from a table ``citizens`` (the columns of
  ``registry.services.cleaning_reference`` plus ``old_ids``, a list of old CMND numbers) — the same
  forms as :func:`~dancu.blocks.linkage.model.reference_features` (names folded with
  ``strip_accents`` and ``đ``→``d``, the street being the address before its ward, district and
  province); ``reference_agreement`` checks the two on a sample;
* the sector rows' features come from the block's own Python normalisers
  (:func:`~dancu.blocks.linkage.pipeline.sector_features`), added in chunks;
* the exact-ID and old-CMND passes are joins, confirmed by the same agreement rule as
  ``pipeline._agrees``;
* the rest go through the Splink model on the same DuckDB connection (tables by name, no copy),
  trained on a sample of the rows (EM on every blocked pair of 8.5 M citizens would be wasted
  work) and scored with **blocking rules for scale**: ``BLOCKING_AT_SCALE`` — every rule names at
  least two fields besides the surname;
* decisions (best citizen, runner-up margin, thresholds) and duplicates are window queries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dancu.blocks.linkage import model as m
from dancu.blocks.linkage.normalise import normalise_id
from dancu.blocks.linkage.pipeline import (
    ACCEPT_WEIGHT,
    AMBIGUITY_MARGIN,
    REVIEW_WEIGHT,
    SectorRow,
    estimate_prior_shift,
    sector_features,
)
from dancu.blocks.registry.names import NAME_VARIANTS

# new → old tone placement (``adminunits.normaliser.tone_style``), lower case
_TONE_OLD = {
    "oà": "òa",
    "oá": "óa",
    "oả": "ỏa",
    "oã": "õa",
    "oạ": "ọa",
    "oè": "òe",
    "oé": "óe",
    "oẻ": "ỏe",
    "oẽ": "õe",
    "oẹ": "ọe",
    "uỳ": "ùy",
    "uý": "úy",
    "uỷ": "ủy",
    "uỹ": "ũy",
    "uỵ": "ụy",
}

# A full date of birth is reached by the date itself, by the month (a wrong day) or swapped; only a
# row whose date is known to the year on one side needs the birth year as a key — a key that, on
# "surname + given name + year", put 37 Nguyễn namesakes per row in front of the model at 850,000
# citizens (370 at 8.5 M). So the year rules are kept for partial dates (``PARTIAL_DOB_RULES``)
# and, for full dates, narrowed to the month or to the middle name (ADR 0012 decision 13: 48 % fewer
# pairs on 100,000 × 850,000, blocking reach of the true citizens 28,303 → 28,289 of 28,363).
BLOCKING_AT_SCALE = (
    ("given", "dob"),
    ("family_key", "given", "middle", "dob_year"),
    ("family_key", "dob"),
    ("family_key", "given", "dob_ym"),
    # the place, for a date wrong beyond the day (a year typed wrong): with the middle name — the
    # same surname key and given name in a ward, without it, were 90 of the 133 million pairs at
    # 1,000,000 × 8,500,000 and reached no true citizen the other rules missed (ADR 0012 decision 18)
    ("family_key", "given", "middle", "ward_code"),
    ("given", "middle", "dob_ym"),  # a typo in the surname
)
# day and month swapped in the file: its swapped reading is the registry's date (one orientation
# of each pair holds; Splink may put either table on the left)
SWAPPED_DOB_RULES = (
    "l.dob_swap = r.dob AND l.family_key = r.family_key",
    "l.dob = r.dob_swap AND l.family_key = r.family_key",
)
# a date known only to the year on one side (typed so, or so recorded): surname + given name, or given
# and middle name (a typo in the surname), + birth year
PARTIAL_DOB_RULES = tuple(
    "(l.dob_ym IS NULL OR r.dob_ym IS NULL) AND " + " AND ".join(f"l.{f} = r.{f}" for f in fields)
    for fields in (("family_key", "given", "dob_year"), ("given", "middle", "dob_year"))
)
# no date on one side (missing, or unreadable in the file): surname + given name in the same ward
NO_DOB_RULES = m.NO_DOB_RULES


def custom_rules() -> tuple[str, ...]:
    """The blocking rules beyond the equality rules of ``BLOCKING_AT_SCALE``, as Splink SQL over
    ``l`` and ``r``."""
    return (*SWAPPED_DOB_RULES, *PARTIAL_DOB_RULES, *NO_DOB_RULES)


TRAIN_SAMPLE = 20_000
# u by random sampling (ADR 0012 decision 15): this many sector rows against as many citizens —
# 1,000,000 random pairs, the budget Splink was given before; both samples drawn here, by a hash
# of the row's id and the seed, so that Splink has nothing left to sample
U_SAMPLE_ROWS = 1_000


def _sql_fold(expr: str) -> str:
    return f"replace(strip_accents(lower({expr})), 'đ', 'd')"


def _sql_toned(word: str) -> str:
    """One word with tones in the "old" style: only an open syllable at the end of the word moves
    its mark (hoà → hòa, but hoàng and quý stay), as ``tone_style`` does."""
    w = f"lower(nfc_normalize({word}))"
    cases = " ".join(
        f"WHEN suffix({w}, '{new}')"
        + (f" AND NOT suffix({w}, 'q{new}')" if new.startswith("u") else "")
        + f" THEN left({w}, length({w}) - 2) || '{old}'"
        for new, old in _TONE_OLD.items()
    )
    return f"CASE {cases} ELSE {w} END"


CITIZEN_COLUMNS = (
    "citizen_id BIGINT",
    "id_number VARCHAR",
    "full_name VARCHAR",
    "date_of_birth DATE",
    "dob_precision VARCHAR",
    "sex VARCHAR",
    "permanent_address_text VARCHAR",
    "permanent_ward_code VARCHAR",
    "permanent_legacy_ward_code VARCHAR",
    "life_status VARCHAR",
    "date_of_death DATE",
    "old_ids VARCHAR[]",
)


def add_citizens(con: Any, records: Iterable[Any], target: str = "citizens", *, append: bool = False) -> None:
    """Table ``target`` from the registry's ``ReferenceRecord`` DTOs (a job's reference, or the
    synthetic population); a national run loads the same columns straight from the database.
    ``append=True`` adds to the table (a registry streamed in pages, ``linkage.services``)."""
    import pandas as pd

    names = [c.split()[0] for c in CITIZEN_COLUMNS]
    frame = pd.DataFrame(
        [
            (
                r.citizen_id,
                r.id_number,
                r.full_name,
                r.date_of_birth,
                r.dob_precision,
                r.sex,
                r.permanent_address_text,
                r.permanent_ward_code,
                r.permanent_legacy_ward_code,
                r.life_status,
                r.date_of_death,
                "|".join(r.old_id_numbers),
            )
            for r in records
        ],
        columns=names,
    )
    if not append:
        con.execute(f"CREATE OR REPLACE TABLE {target} ({', '.join(CITIZEN_COLUMNS)})")
    con.register("citizens_frame", frame)
    casts = ", ".join(
        f"CAST({n} AS {t})"
        if n != "old_ids"
        else "CASE WHEN old_ids = '' THEN []::VARCHAR[] ELSE string_split(old_ids, '|') END"
        for n, t in (c.split() for c in CITIZEN_COLUMNS)
    )
    con.execute(f"INSERT INTO {target} SELECT {casts} FROM citizens_frame")
    con.unregister("citizens_frame")


def create_reference(con: Any, source: str = "citizens", target: str = "registry") -> None:
    """The registry's features as table ``target`` (``unique_id`` = the citizen id)."""
    spaced = f"replace(replace({source}.full_name, '-', ' '), '''', ' ')"
    words = f"string_split(trim(regexp_replace({spaced}, '\\s+', ' ', 'g')), ' ')"
    variants = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in NAME_VARIANTS.items())
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {target} AS
        WITH w AS (
            SELECT {source}.*, {words} AS ws, len({words}) AS n,
                   string_split(permanent_address_text, ', ') AS parts
            FROM {source}
        )
        SELECT
            citizen_id AS unique_id,
            {_sql_fold("ws[n]")} AS given,
            {_sql_toned("ws[n]")} AS given_toned,
            CASE WHEN n > 1 THEN {_sql_fold("ws[1]")} END AS family,
            CASE WHEN n > 1 THEN (CASE {_sql_fold("ws[1]")} {variants} ELSE {_sql_fold("ws[1]")} END) END
                AS family_key,
            CASE WHEN n > 2 THEN {_sql_fold("array_to_string(ws[2:n-1], ' ')")} END AS middle,
            CASE WHEN dob_precision = 'day' THEN strftime(date_of_birth, '%Y-%m-%d') END AS dob,
            CAST(NULL AS VARCHAR) AS dob_swap,
            CASE WHEN dob_precision IN ('day', 'month') THEN strftime(date_of_birth, '%Y-%m') END AS dob_ym,
            strftime(date_of_birth, '%Y') AS dob_year,
            nullif(sex, '') AS sex,
            nullif(permanent_ward_code, '') AS ward_code,
            CASE WHEN len(parts) > 3
                 THEN nullif({_sql_fold("array_to_string(parts[1:len(parts)-3], ', ')")}, '')
                 ELSE nullif({_sql_fold("parts[1]")}, '') END AS street,
            id_number, old_ids, life_status
        FROM w
        """
    )


def reference_agreement(con: Any, records: list[Any], target: str = "registry") -> float:
    """The share of ``records`` (``ReferenceRecord``) whose SQL features equal the Python ones."""
    if not records:
        return 1.0
    cols = ["unique_id", *m.FEATURES]
    ids = [r.citizen_id for r in records]
    got = {
        row[0]: dict(zip(cols, row, strict=True))
        for row in con.execute(
            f"SELECT {', '.join(cols)} FROM {target} WHERE unique_id IN (SELECT unnest(?))", [ids]
        ).fetchall()
    }
    same = sum(1 for r in records if got.get(r.citizen_id) == m.reference_features(r))
    return same / len(records)


# ``problems``: what reading the row found (``pipeline.sector_features``), comma-separated
SECTOR_COLUMNS = ("unique_id", *m.FEATURES, "id_kind", "id_number", "problems")


def _sector_row(r: SectorRow) -> tuple[Any, ...]:
    """One sector row's ``SECTOR_COLUMNS`` (the block's Python normalisers)."""
    feats, problems = sector_features(r)
    nid = normalise_id(r.id_number)
    feats["id_kind"], feats["id_number"] = nid.kind, nid.number or None
    feats["problems"] = ",".join(problems) or None
    return tuple(feats[c] for c in SECTOR_COLUMNS)


# rows sent to a worker at a time: large enough that pickling the rows and their features costs
# little beside the normalisers (about 170 µs a row), small enough to keep both workers busy
WORKER_BATCH = 2_000


def add_sector(
    con: Any,
    rows: Iterable[SectorRow],
    target: str = "sector",
    *,
    chunk: int = 50_000,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> int:
    """The sector rows' features (the block's Python normalisers) as table ``target``.

    ``workers > 1`` runs the normalisers in that many forked processes (ADR 0012 decision 14; the
    same features, in the same order). Only for a caller whose ``rows`` are already in memory
    and that holds no open database cursor (the benchmark, a national run): a fork copies the
    process as it is. Where ``fork`` is not available, the rows are read in this process."""
    import multiprocessing

    import pandas as pd

    con.execute(
        f"CREATE OR REPLACE TABLE {target} (unique_id BIGINT, "
        + ", ".join(f"{c} VARCHAR" for c in SECTOR_COLUMNS[1:])
        + ")"
    )
    buf: list[tuple[Any, ...]] = []
    count = 0

    def flush() -> None:
        if buf:
            frame = pd.DataFrame(buf, columns=list(SECTOR_COLUMNS))
            con.register("sector_chunk", frame)
            con.execute(f"INSERT INTO {target} SELECT * FROM sector_chunk")
            con.unregister("sector_chunk")
            buf.clear()
            if progress:
                progress(count)

    def consume(features: Iterable[tuple[Any, ...]]) -> None:
        nonlocal count
        for f in features:
            buf.append(f)
            count += 1
            if len(buf) >= chunk:
                flush()

    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        from dancu.blocks.adminunits.catalogue import catalogue

        catalogue()  # loaded once, before the fork: the workers share it
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            consume(pool.imap(_sector_row, rows, chunksize=WORKER_BATCH))
    else:
        consume(map(_sector_row, rows))
    flush()
    return count


def _agrees_sql() -> str:
    """``pipeline._agrees`` as SQL over ``s`` (sector) and ``r`` (registry)."""

    def same(c: str) -> str:
        return f"(s.{c} IS NOT NULL AND s.{c} = r.{c})"

    same_dob = "(r.dob IS NOT NULL AND (r.dob = s.dob OR r.dob = s.dob_swap))"
    return (
        f"(({same('given')} AND ({same('family_key')} OR {same('dob_year')}))"
        f" OR ({same_dob} AND ({same('given')} OR {same('family_key')}))"
        f" OR ({same('family_key')} AND {same('middle')} AND {same('dob_year')}))"
    )


def id_passes(con: Any, sector: str = "sector", registry: str = "registry") -> None:
    """Tables ``id_hits`` (confirmed: key, citizen, method) and ``rest`` (the rows for the model)."""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE id_candidates AS
        SELECT s.unique_id AS key, r.unique_id AS citizen_id, 'id' AS method, {_agrees_sql()} AS ok
        FROM {sector} s JOIN {registry} r ON s.id_kind = 'id12' AND s.id_number = r.id_number
        UNION ALL
        SELECT s.unique_id, o.unique_id, 'cmnd', {_agrees_sql()}
        FROM {sector} s
        JOIN (SELECT unique_id, unnest(old_ids) AS old FROM {registry}) o ON s.id_number = o.old
        JOIN {registry} r ON r.unique_id = o.unique_id
        WHERE NOT (s.id_kind = 'id12' AND s.id_number IN (SELECT id_number FROM {registry}))
        """
    )
    con.execute(
        "CREATE OR REPLACE TABLE id_hits AS SELECT key, min(citizen_id) AS citizen_id, min(method) AS method "
        "FROM id_candidates WHERE ok GROUP BY key"
    )
    con.execute(
        f"CREATE OR REPLACE TABLE rest AS SELECT * FROM {sector} "
        "WHERE unique_id NOT IN (SELECT key FROM id_hits)"
    )


def _inputs(con: Any, *tables: str) -> list[str]:
    """Views of ``tables`` with the model's columns only (Splink stacks its inputs, so their
    columns must be the same)."""
    cols = ", ".join(("unique_id", *m.FEATURES))
    names = []
    for t in tables:
        con.execute(f"CREATE OR REPLACE VIEW {t}_in AS SELECT {cols} FROM {t}")
        names.append(f"{t}_in")
    return names


# a surname (14 of them cover 90 % of people, Nguyễn alone about 38 %) or a sex says too little to
# block on; a rule must name at least one field outside these
WEAK_BLOCKING_FIELDS = frozenset({"family", "family_key", "sex"})


def check_blocking(rules: Iterable[tuple[str, ...]]) -> None:
    """Refuse a blocking rule that would block on the surname alone (or on the surname and the
    sex): on 8.5 M citizens its Nguyễn block alone is 3.2 M people, 10^12 pairs per Nguyễn row."""
    for rule in rules:
        if not set(rule) - WEAK_BLOCKING_FIELDS:
            raise ValueError(f"blocking rule {rule!r} blocks on the surname alone")


def blocked_pairs(
    con: Any, rules: Iterable[tuple[str, ...]], *, sector: str = "rest", registry: str = "registry"
) -> int:
    """How many (sector row, citizen) pairs the equality ``rules`` give together (the union), as
    Splink will score them; counted in SQL from the block sizes, nothing materialised per pair
    beyond one rule's join at a time."""
    parts = [
        f"SELECT s.unique_id AS k, r.unique_id AS c FROM {sector} s JOIN {registry} r ON "
        + " AND ".join(f"s.{f} = r.{f}" for f in rule)
        for rule in rules
    ]
    query = f"SELECT count(*) FROM ({' UNION '.join(parts)})"
    return int(con.execute(query).fetchall()[0][0])


def blocking_at_scale() -> list[Any]:
    from splink import block_on
    from splink.blocking_rule_library import CustomRule

    check_blocking(BLOCKING_AT_SCALE)
    return [block_on(*cols) for cols in BLOCKING_AT_SCALE] + [CustomRule(r) for r in custom_rules()]


# m of a comparison from the file's own links (``m_from_confirmed_links``): the comparisons whose
# levels depend on how the file was typed (a file of year-only dates puts most of its true pairs in
# "only the year known"), and the least number of confirmed links to estimate them from
M_FROM_FILE = ("dob",)
MIN_CONFIRMED = 1000
M_FLOOR = 0.001  # a level no confirmed link showed is kept at 0.1 %: one disagreement is not a veto


def confirmed_level_counts(
    con: Any, trained: dict[str, Any], name: str, *, sector: str = "sector", registry: str = "registry"
) -> list[int]:
    """How the file's links confirmed by an ID number (``id_hits``) fall in the levels of comparison
    ``name`` (its non-null levels, in order) — only links whose given name and surname key agree, so
    that the ID pass's confirmation rule (which may use the birth year) says nothing about the
    comparison. These are pairs of the same person found without the model: labelled pairs."""
    comparison = next(c for c in trained["comparisons"] if c["output_column_name"] == name)
    levels = comparison["comparison_levels"]
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'id_hits'").fetchone()[0]:
        return [0 for lvl in levels if not lvl.get("is_null_level")]  # no ID pass run: no labelled pairs
    cols = ", ".join(f's.{f} AS "{f}_l", r.{f} AS "{f}_r"' for f in m.FEATURES)
    cases = " ".join(
        f"WHEN {lvl['sql_condition']} THEN {i}"
        for i, lvl in enumerate(levels)
        if lvl["sql_condition"] != "ELSE"
    )
    rows = con.execute(
        f"""
        SELECT CASE {cases} ELSE {len(levels) - 1} END AS level, count(*)
        FROM (SELECT {cols} FROM id_hits h JOIN {sector} s ON s.unique_id = h.key
              JOIN {registry} r ON r.unique_id = h.citizen_id
              WHERE s.given = r.given AND s.family_key = r.family_key)
        GROUP BY 1
        """
    ).fetchall()
    got = dict(rows)
    return [int(got.get(i, 0)) for i, lvl in enumerate(levels) if not lvl.get("is_null_level")]


def m_from_confirmed_links(
    con: Any, trained: dict[str, Any], *, sector: str = "sector", registry: str = "registry"
) -> dict[str, int]:
    """Set m of the ``M_FROM_FILE`` comparisons of ``trained`` (in place) from the file's links
    confirmed by an ID number (:func:`confirmed_level_counts`), each level at least ``M_FLOOR``,
    when there are ``MIN_CONFIRMED`` of them; else the bundled m stays. u is the file's already
    (random sampling), so m and u then describe the same file: how many of its dates are year-only
    is a property of the file, not of the model. Returns the number of links used per comparison."""
    used: dict[str, int] = {}
    for name in M_FROM_FILE:
        counts = confirmed_level_counts(con, trained, name, sector=sector, registry=registry)
        total = sum(counts)
        if total < MIN_CONFIRMED:
            continue
        shares = [max(c / total, M_FLOOR) for c in counts]
        norm = sum(shares)
        comparison = next(c for c in trained["comparisons"] if c["output_column_name"] == name)
        values = iter(shares)
        for lvl in comparison["comparison_levels"]:
            if not lvl.get("is_null_level"):
                lvl["m_probability"] = next(values) / norm
        used[name] = total
    return used


def _splink_tables(con: Any) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, '__splink')"
        ).fetchall()
    }


def _drop_splink_tables(con: Any, keep: set[str]) -> None:
    """Drop the tables Splink made since ``keep`` was listed: its copy of both inputs with their
    term frequencies, the blocked pairs, the predictions — at 8.5 M citizens gigabytes that the
    next training or scoring on the connection would otherwise find in its memory (ADR 0012
    decision 15)."""
    for name in sorted(_splink_tables(con) - keep):
        con.execute(f'DROP TABLE IF EXISTS "{name}"')


def hash_sample(con: Any, source: str, target: str, rows: int, seed: int) -> None:
    """Table ``target``: the ``rows`` rows of ``source`` whose ``hash(unique_id, seed)`` is least
    (ties by ``unique_id``) — a sample that depends on the rows' ids and the seed only, not on the
    order in which the rows were stored or read, nor on how many threads DuckDB runs (ADR 0012
    decision 15). DuckDB's seeded ``USING SAMPLE`` is repeatable only for one physical order."""
    con.execute(
        f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {source} "
        f"ORDER BY hash(unique_id, {int(seed)}), unique_id LIMIT {int(rows)}"
    )


def train(
    con: Any,
    settings: Any = None,
    *,
    rest: str = "rest",
    registry: str = "registry",
    sector: str = "sector",
    seed: int = 0,
    train_rows: int = TRAIN_SAMPLE,
) -> dict[str, Any]:
    """The model for this registry, as Splink JSON. By default the bundled model's m probabilities
    (P(agreement | same person): a property of how sector files are typed, measured by EM on the
    synthetic population) with u re-estimated by random sampling over this registry (P(agreement |
    different people) grows with the registry: more namesakes). EM over a registry of millions is
    not run: in a date-of-birth block of 8.5 M citizens one pair in thirty is a match, and EM then
    settles on households (same ward and street) instead of people — measured F1 0.978 against
    0.9895 on 20,000 rows × 1,000,000 citizens. With ``settings`` (a baseline's), m is trained by EM
    on a sample of ``train_rows`` rows (``TRAIN_SAMPLE`` by default) as Splink's documentation
    does. Without ``settings``, the date comparison's m is then the file's own, from its links
    confirmed by an ID number (:func:`m_from_confirmed_links`; ADR 0012 decision 13).

    The same ``seed`` and the same rows give the same parameters, whatever the rows' order and
    DuckDB's threads (ADR 0012 decision 15): the samples are drawn by :func:`hash_sample`, and u
    is counted over every pair of ``U_SAMPLE_ROWS`` sector rows × ``U_SAMPLE_ROWS`` citizens, so
    Splink samples nothing itself (its seeded Bernoulli sample follows an ``ORDER BY unique_id``
    in which a sector row and a citizen may share an id: a parallel sort breaks those ties
    differently from run to run, and different rows were drawn)."""
    keep = _splink_tables(con)
    try:
        return _train(
            con, settings, rest=rest, registry=registry, sector=sector, seed=seed, train_rows=train_rows
        )
    finally:
        _drop_splink_tables(con, keep)


def _train(
    con: Any, settings: Any, *, rest: str, registry: str, sector: str, seed: int, train_rows: int
) -> dict[str, Any]:
    from splink import DuckDBAPI, Linker, block_on

    hash_sample(con, rest, "train_rows", train_rows, seed)
    hash_sample(con, "train_rows", "u_rows", U_SAMPLE_ROWS, seed)
    hash_sample(con, registry, "u_citizens", U_SAMPLE_ROWS, seed)
    start = (
        settings if settings is not None else {**m.base_model(), "probability_two_random_records_match": 1e-6}
    )
    db_api = DuckDBAPI(connection=con)
    u_linker = Linker(_inputs(con, "u_rows", "u_citizens"), start, db_api=db_api)
    u_linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_ROWS**2, seed=m.EM_SEED)
    with_u = u_linker.misc.save_model_to_json()
    linker = Linker(_inputs(con, "train_rows", registry), with_u, db_api=db_api)
    if settings is not None:
        for rule in (block_on("dob"), block_on("given", "family_key", "dob_year")):
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, fix_probability_two_random_records_match=True
            )
    trained: dict[str, Any] = linker.misc.save_model_to_json()
    if settings is None:
        m_from_confirmed_links(con, trained, sector=sector, registry=registry)
    return trained


def score(
    con: Any,
    trained: dict[str, Any],
    *,
    out: str,
    rest: str = "rest",
    registry: str = "registry",
    explain: bool = False,
) -> dict[str, Any]:
    """Score every blocked pair of ``rest`` × ``registry`` with ``trained`` and decide: table ``out``
    (key, decision, citizen_id, match_weight, match_probability) with the pipeline's thresholds and
    margin, the weights carrying the file's prior (``pipeline.file_prior_shift``). ``explain=True``
    keeps each comparison's Bayes factors (``bf_<field>``, ``bf_tf_adj_<field>``) of the best pair,
    for the per-field explanation of the review queue.

    The order in which DuckDB writes the pairs means nothing here (the decisions are window
    queries ordered by weight and citizen), so it is told not to keep it while scoring
    (``preserve_insertion_order``; ADR 0012 decision 14). Splink's own tables (the inputs with
    their term frequencies, the predictions) are dropped once ``out`` is written, as after
    :func:`train` (decision 15)."""
    keep = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    tables = _splink_tables(con)
    con.execute("SET preserve_insertion_order = false")
    try:
        return _score(con, trained, out=out, rest=rest, registry=registry, explain=explain)
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if keep else 'false'}")
        _drop_splink_tables(con, tables)


def _score(
    con: Any, trained: dict[str, Any], *, out: str, rest: str, registry: str, explain: bool
) -> dict[str, Any]:
    from splink import DuckDBAPI, Linker

    rows = con.execute(f"SELECT count(*) FROM {rest}").fetchone()[0]
    citizens = con.execute(f"SELECT count(*) FROM {registry}").fetchone()[0]
    settings = {
        **trained,
        "probability_two_random_records_match": min(0.5, max(rows, 1) / max(rows * citizens, 1)),
        "blocking_rules_to_generate_predictions": blocking_at_scale(),
        "retain_intermediate_calculation_columns": explain,
        "retain_matching_columns": False,
    }
    linker = Linker(
        _inputs(con, rest, registry),
        settings,
        db_api=DuckDBAPI(connection=con),
        input_table_aliases=["sector", "registry"],
    )
    pred = linker.inference.predict(threshold_match_weight=REVIEW_WEIGHT - AMBIGUITY_MARGIN)
    table = pred.physical_name
    present = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    factors = (
        "".join(f", {c}" for name in m.COMPARED for c in (f"bf_{name}", f"bf_tf_adj_{name}") if c in present)
        if explain
        else ""
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {out}_best AS
        WITH p AS (
            SELECT CASE WHEN source_dataset_l = 'sector' THEN unique_id_l ELSE unique_id_r END AS key,
                   CASE WHEN source_dataset_l = 'sector' THEN unique_id_r ELSE unique_id_l END AS citizen_id,
                   match_weight{factors}
            FROM {table}
        ), ranked AS (
            SELECT *, row_number() OVER best AS rk, lead(match_weight) OVER best AS runner_up,
                   log2(sum(pow(2.0, match_weight)) OVER whole) AS row_log2_odds
            FROM p
            WINDOW best AS (PARTITION BY key ORDER BY match_weight DESC, citizen_id),
                   whole AS (PARTITION BY key ORDER BY match_weight DESC, citizen_id
                             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        )
        SELECT * EXCLUDE (rk), runner_up IS NULL OR runner_up <= match_weight - {AMBIGUITY_MARGIN} AS clear
        FROM ranked WHERE rk = 1
        """
    )
    # the file's prior, as the in-memory pipeline: EM on the share of the file's people registered
    # (the sums in a fixed order, each row's over its candidates by weight and the file's by key:
    # a floating-point sum in another order may differ in its last bit; ADR 0012 decision 15)
    odds = con.execute(f"SELECT row_log2_odds FROM {out}_best ORDER BY key").fetchnumpy()["row_log2_odds"]
    shift = estimate_prior_shift(rows, odds)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {out} AS
        WITH b AS (SELECT * EXCLUDE (match_weight, row_log2_odds), match_weight + {shift} AS match_weight
                   FROM {out}_best)
        SELECT key, citizen_id, match_weight,
               pow(2, match_weight) / (1 + pow(2, match_weight)) AS match_probability{factors},
               CASE WHEN match_weight < {REVIEW_WEIGHT} THEN 'unmatched'
                    WHEN match_weight >= {ACCEPT_WEIGHT} AND clear THEN 'matched'
                    ELSE 'review' END AS decision
        FROM b
        """
    )
    con.execute(f"DROP TABLE {out}_best")
    return {"rows": int(rows), "prior_shift": shift}


def decide(con: Any, model_table: str, *, sector: str = "sector", out: str = "outcomes") -> dict[str, int]:
    """Table ``out``: every sector row's decision (the ID passes first, then the model's), and
    ``duplicate`` for a later row linked to the same citizen. Returns the counts."""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {out} AS
        WITH d AS (
            SELECT s.unique_id AS key,
                   coalesce(h.citizen_id, CASE WHEN mo.decision <> 'unmatched' THEN mo.citizen_id END)
                       AS citizen_id,
                   CASE WHEN h.key IS NOT NULL THEN h.method WHEN mo.decision IS NOT NULL THEN 'model'
                        ELSE '' END AS method,
                   CASE WHEN h.key IS NOT NULL THEN 'matched' ELSE coalesce(mo.decision, 'unmatched') END
                       AS decision,
                   mo.match_weight
            FROM {sector} s
            LEFT JOIN id_hits h ON h.key = s.unique_id
            LEFT JOIN {model_table} mo ON mo.key = s.unique_id
        )
        SELECT key, citizen_id, method, match_weight,
               CASE WHEN decision = 'matched'
                         AND row_number() OVER (PARTITION BY citizen_id, decision = 'matched' ORDER BY key)
                             > 1
                    THEN 'duplicate' ELSE decision END AS decision
        FROM d
        """
    )
    return dict(con.execute(f"SELECT decision, count(*) FROM {out} GROUP BY 1").fetchall())
