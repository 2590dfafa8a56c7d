"""Blocking for common names (issue 8): Nguyễn, Trần, Lê … are about 40 % of people, so no rule may
block on the surname alone, and the pairs the rules give stay bounded per sector row on a registry
skewed that way — while the true pairs are kept (recall)."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import duckdb
import pytest

from dancu.blocks.linkage import evaluation, pipeline, scale
from dancu.blocks.linkage import model as m

CITIZENS, ROWS = 4000, 800
PAIRS_PER_ROW = 25  # the bound: pairs scored per sector row on this registry


@pytest.fixture(scope="module")
def skewed() -> Any:
    """A registry where 45 % of people are Nguyễn and half of them are named Anh, Linh or Hùng,
    and a corrupted sector file drawn from it."""
    rng = random.Random(7)
    people = []
    for r in evaluation.synthetic_reference(CITIZENS, seed=2):
        words = r.full_name.split()
        if rng.random() < 0.45:
            words[0] = "Nguyễn"
            if rng.random() < 0.5:
                words[-1] = rng.choice(["Anh", "Linh", "Hùng"])
        people.append(dataclasses.replace(r, full_name=" ".join(words)))
    sector = evaluation.synthetic_sector_file(people, ROWS, seed=3)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    scale.add_citizens(con, people)
    scale.create_reference(con)
    scale.add_sector(con, sector.rows, target="rest")
    return con, sector, people


def _in_memory_tables(con: Any, sector: Any, people: list[Any], cap: int) -> int:
    """The in-memory path's features with its block keys (``model.add_block_keys``) as tables
    ``mem_s`` and ``mem_r``; returns the number of blocks split."""
    import pandas as pd

    rows = [pipeline.sector_features(r)[0] for r in sector.rows]
    refs = [m.reference_features(r) for r in people]
    split = m.add_block_keys(rows, refs, cap=cap)
    cols = ["unique_id", *m.FEATURES, m.BLOCK_KEY]
    for name, data in (("mem_s", rows), ("mem_r", refs)):
        con.register("frame", pd.DataFrame(data, columns=cols))
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM frame")  # noqa: S608
        con.unregister("frame")
    return split


def test_no_rule_blocks_on_the_surname_alone() -> None:
    for rule in (("family_key",), ("family",), ("family_key", "sex")):
        with pytest.raises(ValueError, match="surname alone"):
            scale.check_blocking([rule])
    scale.check_blocking(scale.BLOCKING_AT_SCALE)
    scale.check_blocking(m.BLOCKING)


def test_the_pairs_stay_bounded_on_a_registry_of_common_names(skewed: Any) -> None:
    con, sector, people = skewed
    nguyen = con.execute(
        "SELECT avg(CASE WHEN family = 'nguyen' THEN 1 ELSE 0 END) FROM registry"
    ).fetchall()[0][0]
    assert nguyen > 0.45  # the skew is real (the synthetic population has its own Nguyễn too)
    at_scale = scale.blocked_pairs(con, scale.BLOCKING_AT_SCALE)
    _in_memory_tables(con, sector, people, cap=m.FREQUENT_BLOCK)
    in_memory = scale.blocked_pairs(con, m.BLOCKING, sector="mem_s", registry="mem_r")
    surname_alone = scale.blocked_pairs(con, [("family_key",)])
    assert at_scale <= PAIRS_PER_ROW * ROWS and in_memory <= 3 * PAIRS_PER_ROW * ROWS
    # what the bound guards against: the Nguyễn block alone is about a third of registry × file
    assert surname_alone > 40 * at_scale


def test_the_true_pairs_are_kept(skewed: Any) -> None:
    con, sector, _ = skewed
    rules = [" AND ".join(f"l.{f} = r.{f}" for f in rule) for rule in scale.BLOCKING_AT_SCALE]
    union = " UNION ".join(
        f"SELECT l.unique_id AS k, r.unique_id AS c FROM rest l JOIN registry r ON {cond}"  # noqa: S608
        for cond in [*rules, *scale.custom_rules()]
    )
    blocked = set(con.execute(union).fetchall())
    truth = {(k, c) for k, c in sector.truth.items() if c is not None}
    # blocking recall: the true citizen is among the pairs scored for nearly every row
    assert len(truth & blocked) / len(truth) >= 0.98
    # and the links themselves
    trained = scale.train(con, rest="rest")
    scale.score(con, trained, out="skewed_out")
    found = {
        (k, c)
        for k, c, d in con.execute("SELECT key, citizen_id, decision FROM skewed_out").fetchall()
        if d == pipeline.MATCHED
    }
    tp = len(found & truth)
    assert tp / len(found) >= 0.99 and tp / len(truth) >= 0.9


def test_a_very_frequent_given_name_and_birth_year_is_split_by_birth_month(skewed: Any) -> None:
    """With the cap lowered to this registry's size (4,000 citizens stand for 8.5 million: the
    default cap is 2,000 citizens per block), the frequent (given name, birth year) blocks are
    split: fewer pairs, the largest block smaller, the true pairs kept."""
    con, sector, people = skewed
    truth = {(k, c) for k, c in sector.truth.items() if c is not None}

    def measure(cap: int) -> tuple[int, int, int, float]:
        split = _in_memory_tables(con, sector, people, cap)
        pairs = scale.blocked_pairs(con, m.BLOCKING, sector="mem_s", registry="mem_r")
        largest = con.execute(
            f"SELECT max(n) FROM (SELECT count(*) AS n FROM mem_r GROUP BY {m.BLOCK_KEY})"  # noqa: S608
        ).fetchall()[0][0]
        union = " UNION ".join(
            "SELECT s.unique_id, r.unique_id FROM mem_s s JOIN mem_r r ON "  # noqa: S608
            + " AND ".join(f"s.{f} = r.{f}" for f in rule)
            for rule in m.BLOCKING
        )
        kept = len(truth & set(con.execute(union).fetchall())) / len(truth)
        return split, pairs, largest, kept

    split_none, pairs_whole, largest_whole, kept_whole = measure(cap=10**9)
    split_some, pairs_split, largest_split, kept_split = measure(cap=3)
    assert split_none == 0 and split_some > 20
    assert largest_split < largest_whole and pairs_split < 0.8 * pairs_whole
    assert kept_split >= 0.97 and kept_whole - kept_split <= 0.02


def _reached(sector: dict[str, Any], citizen: dict[str, Any]) -> bool:
    """Whether any scale blocking rule puts this sector row in front of this citizen."""
    con = duckdb.connect()
    cols = ", ".join(f"{f} VARCHAR" for f in ("unique_id", *m.FEATURES))
    for name, row in (("l", sector), ("r", citizen)):
        con.execute(f"CREATE TABLE t_{name} ({cols})")
        con.execute(
            f"INSERT INTO t_{name} VALUES ({', '.join('?' for _ in ('unique_id', *m.FEATURES))})",  # noqa: S608
            [row.get(f) for f in ("unique_id", *m.FEATURES)],
        )
    rules = [" AND ".join(f"l.{f} = r.{f}" for f in rule) for rule in scale.BLOCKING_AT_SCALE]
    cond = " OR ".join(f"({c})" for c in [*rules, *scale.custom_rules()])
    return bool(con.execute(f"SELECT count(*) FROM t_l l, t_r r WHERE {cond}").fetchone()[0])  # noqa: S608


def test_the_place_reaches_a_row_without_a_date_and_a_namesake_only_with_the_middle_name() -> None:
    """ADR 0012 decision 18: surname + given name in one ward (90 of 133 million pairs at full
    scale) is a key only when a date is missing; with a date, the ward key needs the middle name."""
    citizen = {"unique_id": "1", "given": "lan", "family": "nguyen", "family_key": "nguyen",
               "middle": "thi", "dob": "1990-01-11", "dob_ym": "1990-01", "dob_year": "1990",
               "ward_code": "00103"}  # fmt: skip
    no_date = {**citizen, "unique_id": "9", "middle": "ngoc", "dob": None, "dob_ym": None, "dob_year": None}
    assert _reached(no_date, citizen)
    # a year typed wrong (1909): the same person is reached through surname, given, middle and ward
    wrong_year = {**citizen, "unique_id": "9", "dob": "1909-01-11", "dob_ym": "1909-01", "dob_year": "1909"}
    assert _reached(wrong_year, citizen)
    # a namesake of the ward born another year, with another middle name: not a pair to score
    namesake = {**wrong_year, "middle": "ngoc", "dob": "1985-06-02", "dob_ym": "1985-06", "dob_year": "1985"}
    assert not _reached(namesake, citizen)
