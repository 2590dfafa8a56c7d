"""The pipeline inside DuckDB (national scale, ``linkage.scale``) gives what the in-memory pipeline
gives: the registry's features computed in SQL equal the Python ones, the ID and CMND passes
confirm the same rows, and on a synthetic corrupted file the links are as good (measured at scale
by ``bench/linkage_bench.py``)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from dancu.blocks.linkage import evaluation, pipeline, scale


@pytest.fixture(scope="module")
def data() -> Any:
    reference = evaluation.synthetic_reference(3000, seed=0)
    sector = evaluation.synthetic_sector_file(reference, 600, seed=1)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    scale.add_citizens(con, reference)
    scale.create_reference(con)
    return con, reference, sector


def test_the_registry_features_in_sql_equal_the_python_ones(data: Any) -> None:
    con, reference, _ = data
    assert scale.reference_agreement(con, reference) == 1.0


def test_the_id_passes_confirm_the_same_rows_as_the_in_memory_pipeline(data: Any) -> None:
    con, reference, sector = data
    scale.add_sector(con, sector.rows)
    scale.id_passes(con)
    in_sql = dict(con.execute("SELECT key, citizen_id FROM id_hits").fetchall())
    in_memory = pipeline.link(sector.rows, reference, use_model=False)
    expected = {o.key: o.citizen_id for o in in_memory.outcomes if o.method in ("id", "cmnd")}
    assert in_sql == expected and len(expected) > 300


def test_the_model_pass_links_the_rest_and_flags_duplicates(data: Any) -> None:
    con, _, sector = data
    trained = scale.train(con)
    scale.score(con, trained, out="model_out")
    counts = scale.decide(con, "model_out", out="outcomes")
    assert counts["duplicate"] > 0 and counts["unmatched"] > 0
    predicted = {
        (k, c)
        for k, c, d in con.execute("SELECT key, citizen_id, decision FROM outcomes").fetchall()
        if d in (pipeline.MATCHED, pipeline.DUPLICATE)
    }
    actual = {(k, c) for k, c in sector.truth.items() if c is not None}
    tp = len(predicted & actual)
    precision, recall = tp / len(predicted), tp / len(actual)
    assert precision >= 0.99 and recall >= 0.97


def test_the_sector_features_in_worker_processes_equal_the_ones_read_here(data: Any) -> None:
    """ADR 0012 decision 14: two processes run the normalisers; the table is the same, row for row
    (in the same order), and a single worker is the plain loop."""
    _, _, sector = data
    here, pooled = duckdb.connect(), duckdb.connect()
    counted: list[int] = []
    n = len(sector.rows)
    assert scale.add_sector(here, sector.rows, workers=1) == n
    assert scale.add_sector(pooled, sector.rows, workers=2, chunk=250, progress=counted.append) == n
    assert counted == [250, 500, 600]
    query = "SELECT * FROM sector"
    assert pooled.execute(query).fetchall() == here.execute(query).fetchall()


def test_scoring_gives_back_the_connections_insertion_order_setting(data: Any) -> None:
    """Scoring lets DuckDB write the pairs in any order, and only while it scores."""
    con, _, _ = data
    scale.score(con, scale.train(con), out="order_out")
    assert con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0] is True
