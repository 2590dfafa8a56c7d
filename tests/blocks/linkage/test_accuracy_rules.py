"""The accuracy rules of issue 8 at scale (ADR 0012 decision 12), as a cleaning official would state
them:

* a person who has moved since the sector file was made disagrees with the registry on the ward
  *and* the street — one fact, counted once: the street is compared only within the same ward;
* most people of a city's sector file are in the city's registry, and the file itself says how
  many: the model's weights carry that prior (``pipeline.file_prior_shift``), never stricter than
  the model's own and at most 8×; a file mostly of unregistered people gets no boost;
* the synthetic file records what was done to each row, so that a run's errors can be broken down
  by corruption (``bench/linkage_bench.py``) without changing the file a seed gives.
"""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from dancu.blocks.linkage import evaluation, model, pipeline
from dancu.blocks.linkage.pipeline import SectorRow, file_prior_shift
from dancu.blocks.registry.dto import ReferenceRecord


def test_a_file_whose_rows_are_mostly_registered_raises_the_prior_of_its_rows() -> None:
    # Chị Lan's health-insurance file: of 45,000 rows left for the model, 40,000 were linked with
    # confidence — at most 11 % of its people can be strangers to the registry
    shift = file_prior_shift(45_000, 40_000)
    assert 2.5 < shift < pipeline.MAX_PRIOR_SHIFT


def test_the_prior_shift_is_capped_at_eight_times() -> None:
    assert file_prior_shift(10_000, 10_000) == pipeline.MAX_PRIOR_SHIFT


def test_a_file_mostly_of_unregistered_people_gets_no_boost() -> None:
    # a file of migrant workers from other provinces: only 30 % found in Hà Nội's registry
    assert file_prior_shift(10_000, 3_000) == 0.0
    # exactly half: still none (the shift is never negative either)
    assert file_prior_shift(10_000, 5_000) == 0.0


def test_nothing_to_learn_from_means_no_shift() -> None:
    assert file_prior_shift(0, 0) == 0.0
    assert file_prior_shift(500, 0) == 0.0


MOVED_CITIZEN = ReferenceRecord(
    citizen_id=7,
    id_number="001090004321",
    full_name="Nguyễn Thị Khuê",
    date_of_birth=date(1990, 4, 17),
    dob_precision="day",
    sex="F",
    permanent_address_text="Số 18 ngõ 41 phố Thái Hà, Phường Đống Đa, Thành phố Hà Nội",
    permanent_ward_code="00229",
    permanent_legacy_ward_code="00226",
    life_status="alive",
    date_of_death=None,
)


def _street_weight(address: str, ward: str) -> float:
    """The street comparison's weight for Chị Khuê's row (bundled model: a small job)."""
    reg = model.reference_features(MOVED_CITIZEN)
    row, _ = pipeline.sector_features(SectorRow(1, "Nguyễn Thị Khuê", "17/04/1990", "Nữ", "", address))
    row["ward_code"] = ward  # the ward the file's address resolves to
    preds, _ = model.train_and_predict([row], [reg])
    assert len(preds) == 1
    return preds[0].explanation["street"]


def test_the_street_of_another_ward_is_no_second_disagreement() -> None:
    # Chị Khuê moved: the file has her old address, in another ward and on another street
    assert _street_weight("Số 3 phố Lò Đúc, Phường Hai Bà Trưng, Thành phố Hà Nội", "00256") == 0.0


def test_another_street_in_the_same_ward_still_counts_against() -> None:
    # the same ward but another street: that is evidence against, as before
    assert _street_weight("Số 90 phố Láng Hạ, Phường Đống Đa, Thành phố Hà Nội", "00229") < -1.0


def test_the_same_street_in_the_same_ward_counts_for() -> None:
    assert _street_weight(MOVED_CITIZEN.permanent_address_text, "00229") > 1.0


@pytest.fixture(scope="module")
def synthetic() -> evaluation.SyntheticFile:
    return evaluation.synthetic_sector_file(evaluation.synthetic_reference(1500, seed=0), 600, seed=2)


def test_each_row_of_the_synthetic_file_names_its_corruptions(synthetic: evaluation.SyntheticFile) -> None:
    rows = {r.key: r for r in synthetic.rows}
    assert set(synthetic.corruptions) == set(synthetic.truth)
    for key, tags in synthetic.corruptions.items():
        assert ("stranger" in tags) == (synthetic.truth[key] is None)
        if "id_missing" in tags:
            assert rows[key].id_number == ""
        if "sex_missing" in tags:
            assert rows[key].sex == ""
    moved = [k for k, t in synthetic.corruptions.items() if "moved" in t]
    second = [k for k, t in synthetic.corruptions.items() if "second_copy" in t]
    assert moved and second
    # a second copy follows its first, of the same citizen
    assert all(synthetic.truth[k] == synthetic.truth[k - 1] for k in second)


# the digest of (rows, truth) for this seed, computed with the generator before it recorded
# corruptions (git HEAD 9519a4b): recording them draws nothing
DIGEST_BEFORE_TAGS = "16361e1c5c60754e"


def test_recording_the_corruptions_does_not_change_the_file(synthetic: evaluation.SyntheticFile) -> None:
    digest = hashlib.sha256(repr((synthetic.rows, sorted(synthetic.truth.items()))).encode()).hexdigest()
    assert digest[:16] == DIGEST_BEFORE_TAGS
