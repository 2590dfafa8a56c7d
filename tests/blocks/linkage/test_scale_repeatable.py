"""Training at scale is repeatable (ADR 0012 decision 15): for one seed and one set of rows, the
model's m and u and every decision are the same however often it is trained, whatever order the
rows were stored in and however many threads DuckDB runs. At full scale the seeded samples were
not: Splink's Bernoulli sample follows a sort in which sector rows and citizens share ids, and a
parallel sort broke those ties differently from one run to the next."""

from __future__ import annotations

import random
from typing import Any

import duckdb
import pytest

from dancu.blocks.linkage import evaluation, scale


@pytest.fixture(scope="module")
def population() -> Any:
    reference = evaluation.synthetic_reference(3000, seed=0)
    return reference, evaluation.synthetic_sector_file(reference, 600, seed=1)


def _connection(threads: int, reference: list[Any], rows: list[Any]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET threads = {threads}")
    scale.add_citizens(con, reference)
    scale.create_reference(con)
    scale.add_sector(con, rows)
    scale.id_passes(con)
    return con


def _parameters(trained: dict[str, Any]) -> list[Any]:
    return [
        [
            c["output_column_name"],
            [(lvl.get("m_probability"), lvl.get("u_probability")) for lvl in c["comparison_levels"]],
        ]
        for c in trained["comparisons"]
    ]


def _decisions(con: duckdb.DuckDBPyConnection, trained: dict[str, Any]) -> list[tuple[Any, ...]]:
    scale.score(con, trained, out="model_out")
    scale.decide(con, "model_out", out="outcomes")
    return con.execute(
        "SELECT key, citizen_id, method, decision, match_weight FROM outcomes ORDER BY key"
    ).fetchall()


def test_the_same_rows_and_seed_give_the_same_model_and_decisions_on_one_or_two_threads(
    population: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference, sector = population
    # samples smaller than the tables, so that which rows are drawn matters
    monkeypatch.setattr(scale, "TRAIN_SAMPLE", 150)
    monkeypatch.setattr(scale, "U_SAMPLE_ROWS", 120)
    one = _connection(1, reference, sector.rows)
    assert one.execute("SELECT count(*) FROM rest").fetchall()[0][0] > 150
    first = scale.train(one, seed=4)
    again = scale.train(one, seed=4)

    shuffled_reference, shuffled_rows = list(reference), list(sector.rows)
    random.Random(5).shuffle(shuffled_reference)
    random.Random(6).shuffle(shuffled_rows)
    two = _connection(2, shuffled_reference, shuffled_rows)
    other = scale.train(two, seed=4)

    assert _parameters(first) == _parameters(again) == _parameters(other)
    decided = _decisions(one, first)
    assert decided == _decisions(two, other)
    assert {d for *_, d, _ in decided} >= {"matched", "unmatched"}


def test_another_seed_draws_another_sample(population: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed is used: the sample is not the same rows whatever the seed."""
    reference, sector = population
    monkeypatch.setattr(scale, "U_SAMPLE_ROWS", 120)
    con = _connection(2, reference, sector.rows)
    scale.train(con, seed=4)
    drawn_4 = con.execute("SELECT unique_id FROM u_citizens ORDER BY 1").fetchall()
    scale.train(con, seed=5)
    drawn_5 = con.execute("SELECT unique_id FROM u_citizens ORDER BY 1").fetchall()
    assert len(drawn_4) == len(drawn_5) == 120 and drawn_4 != drawn_5


def test_the_sample_depends_on_the_ids_not_on_the_stored_order_or_the_threads() -> None:
    """A million rows in many row groups, stored in two orders and read on one and two threads:
    the same rows drawn. (DuckDB's ``USING SAMPLE reservoir(…) REPEATABLE`` draws other rows when
    the stored order changes, which is why it is not used.)"""
    drawn = []
    for threads, order in ((1, "i"), (2, "hash(i)"), (2, "-i")):
        con = duckdb.connect()
        con.execute(f"SET threads = {threads}")
        con.execute(f"CREATE TABLE t AS SELECT i AS unique_id FROM range(1000000) r(i) ORDER BY {order}")  # noqa: S608 — the test's own orders
        scale.hash_sample(con, "t", "s", 1000, seed=9)
        drawn.append(con.execute("SELECT unique_id FROM s ORDER BY 1").fetchall())
        reservoir = con.execute(
            "SELECT unique_id FROM t USING SAMPLE reservoir(1000 ROWS) REPEATABLE (9) ORDER BY 1"
        )
        drawn.append(reservoir.fetchall())
    ours, theirs = drawn[0::2], drawn[1::2]
    assert ours[0] == ours[1] == ours[2] and len(ours[0]) == 1000
    assert theirs[0] != theirs[2]


def test_training_and_scoring_leave_none_of_splinks_tables_behind(population: Any) -> None:
    """Splink's copies of the registry and its predictions are gigabytes at 8.5 M citizens: the
    next training or scoring on the connection (a baseline, the next job) must not find them in
    its memory. The pipeline's own tables stay."""
    reference, sector = population
    con = _connection(2, reference, sector.rows)
    _decisions(con, scale.train(con, seed=4))
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert not {t for t in tables if t.startswith("__splink")}
    assert {"registry", "sector", "id_hits", "train_rows", "model_out", "outcomes"} <= tables
