"""The second public benchmark (issue 8's evaluation harness): pseudopeople's sample population,
bundled in its wheel (nothing downloaded), noised by pseudopeople itself from a fixed seed — the
2020 census against the Social Security number-creation records. The three linkers of the FEBRL
harness are scored on the same data in one run, pairwise and by clusters. On the whole sample
(2026-12-02, docs/benchmarks.md): pipeline F1 0.9718 (B-cubed 0.9905), Splink with default
comparisons 0.9688, exact ID 0 (the census carries no SSN)."""

from __future__ import annotations

import pytest

from dancu.blocks.linkage import evaluation, febrl

SUBSET = 3000  # census people (and their Social Security records): 0.9766 measured on it


@pytest.fixture(scope="module")
def scores() -> dict[str, febrl.ClusterScores]:
    return febrl.evaluate("pseudopeople", limit=SUBSET)


def test_the_two_files_come_from_the_installed_package_noised_the_same_way_each_run() -> None:
    first, second = febrl.pseudopeople_tables(), febrl.pseudopeople_tables()
    census, ssa = first
    assert first == second  # the same seed, the same noise
    assert len(census) > 9000 and len(ssa) > 19000
    assert not any(r["soc_sec_id"] for r in census) and all(r["soc_sec_id"] for r in ssa[:100])
    assert not any(r["address_1"] for r in ssa)
    # the truth is pseudopeople's simulant id; most census people have a Social Security record
    people = {febrl.entity(r["rec_id"]) for r in census}
    assert len(people & {febrl.entity(r["rec_id"]) for r in ssa}) > 0.9 * len(people)
    # the noise is there: some names in the census differ from the same person's SSA record
    names = {febrl.entity(r["rec_id"]): r["given_name"] for r in ssa}
    differ = sum(
        1
        for r in census
        if febrl.entity(r["rec_id"]) in names and names[febrl.entity(r["rec_id"])] != r["given_name"]
    )
    assert differ > 50


def test_the_pipeline_beats_splink_defaults_and_the_exact_id_baseline(
    scores: dict[str, febrl.ClusterScores],
) -> None:
    p, default, exact = scores["pipeline"], scores["splink_default"], scores["exact_id"]
    assert p.f1 >= 0.97 and p.bcubed_f1 >= 0.98
    assert p.f1 > default.f1 and p.bcubed_f1 >= default.bcubed_f1
    assert exact.f1 == 0.0 and exact.predicted_pairs == 0  # nothing to link on: no SSN in the census
    assert p.true_pairs == default.true_pairs == exact.true_pairs > 2500


def test_cluster_scores_count_a_missed_link_against_the_row_and_the_citizen() -> None:
    """The synthetic harness's clusters are the file's rows with their citizens: two rows of
    citizen 7, one of citizen 8, one of nobody."""
    truth = {1: 7, 2: 7, 3: 8, 4: None}
    perfect = evaluation._scores({(1, 7), (2, 7), (3, 8)}, truth, 0)
    assert (perfect.f1, perfect.bcubed_f1, perfect.exact_clusters) == (1.0, 1.0, 1.0)
    missed = evaluation._scores({(1, 7), (2, 7)}, truth, 0)  # row 3 not linked to citizen 8
    assert missed.bcubed_precision == 1.0 and missed.bcubed_recall < 1.0
    assert missed.exact_clusters == pytest.approx(2 / 3)  # {7, 1, 2} and {4} found, {8, 3} split
    wrong = evaluation._scores({(1, 7), (2, 7), (3, 7)}, truth, 0)  # row 3 given to citizen 7
    assert wrong.bcubed_precision < 1.0 and wrong.exact_clusters == pytest.approx(1 / 3)
    # B-cubed by hand (Bagga and Baldwin 1998) on three records: a, b predicted together, b, c truly
    p, r, *_ = febrl.bcubed({"a": 1, "b": 1, "c": 2}, {"a": 1, "b": 2, "c": 2})
    assert p == pytest.approx((1 / 2 + 1 / 2 + 1) / 3) and r == pytest.approx((1 + 1 / 2 + 1 / 2) / 3)
