"""The same model on Spark (local mode) as on the embedded DuckDB (issue 8: national scale): a
saved model's SQL is transpiled for Spark, and scoring a small sector file gives the same decisions,
the same citizens, the same match weights and the same model version on both backends. One Spark
session for the module (it takes seconds to start). Needs Java: ``make java``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dancu.blocks.linkage import evaluation, model, pipeline, spark

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    s = spark.local_session(threads=1, partitions=1, app="dancu-linkage-test")
    yield s
    s.stop()


def _view(result: pipeline.LinkResult) -> dict[int, tuple[Any, ...]]:
    return {
        o.key: (o.decision, o.citizen_id, o.method, o.match_weight, tuple(o.candidates), tuple(o.flags))
        for o in result.outcomes
    }


def test_the_bundled_model_scores_a_sector_file_on_spark_as_on_duckdb(session: Any) -> None:
    reference = evaluation.synthetic_reference(400, seed=0)
    sector = evaluation.synthetic_sector_file(reference, 120, seed=1)
    on_duckdb = pipeline.link(sector.rows, reference, model=model.base_model())
    on_spark = pipeline.link(
        sector.rows, reference, model=model.base_model(), db_api=spark.spark_api(session, partitions=1)
    )
    assert _view(on_spark) == _view(on_duckdb)
    assert on_spark.model_version == on_duckdb.model_version
    counts = on_spark.counts()
    assert counts["matched"] > 100 and counts["duplicate"] > 0
    # the model pass did real work on Spark: rows without a usable ID were linked by their scores
    assert any(o.method == "model" and o.decision == pipeline.MATCHED for o in on_spark.outcomes)
    scores = evaluation.pairwise(on_spark, sector.truth)
    assert scores.f1 >= 0.97


def test_a_saved_model_is_transpiled_for_spark_without_changing_its_parameters() -> None:
    base = model.base_model()
    for_spark = model.for_dialect(base, "spark")
    conditions = [lvl["sql_condition"] for c in for_spark["comparisons"] for lvl in c["comparison_levels"]]
    assert not any('"' in c for c in conditions)  # a double-quoted name is a string in Spark SQL
    assert any(c.startswith("jaro_winkler(`given_l`") for c in conditions)
    assert all(r["sql_dialect"] == "spark" for r in for_spark["blocking_rules_to_generate_predictions"])
    assert model.model_version(for_spark) == model.model_version(base)
    assert model.for_dialect(base, "duckdb") is base
