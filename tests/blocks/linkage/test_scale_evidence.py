# ruff: noqa: S608 — SQL assembled from the model's own feature names
"""Evidence the model takes from the file itself at scale (ADR 0012 decision 13), as a cleaning
official would state the rules:

* most people of a city's file are in its registry and the file says how many — counted by each
  row's posterior, not only by the rows already linked with confidence (a true link in review is
  not a stranger);
* a date of birth typed as a year only agrees as far as it can: that is its own comparison level,
  worth far more than a full date that agrees only on the year;
* how the file's dates were typed is learnt from the file's own links confirmed by an ID number,
  and only when there are enough of them.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from dancu.blocks.linkage import model, pipeline, scale
from dancu.blocks.linkage.pipeline import SectorRow, estimate_prior_shift, file_prior_shift
from dancu.blocks.registry.dto import ReferenceRecord


def test_true_links_in_review_are_not_counted_as_strangers() -> None:
    # Anh Dũng's commune list: 10,000 rows left for the model; 8,000 certain, 1,000 true links that a
    # large registry's prior leaves in review (2 bits), 1,000 with no candidate at all
    rows = [20.0] * 8_000 + [2.0] * 1_000
    bound = file_prior_shift(10_000, 8_000)  # the old estimate: only the confident rows are "ours"
    shift = estimate_prior_shift(10_000, rows)
    assert bound < shift <= pipeline.MAX_PRIOR_SHIFT
    assert shift - bound > 0.5


def test_a_file_mostly_of_unregistered_people_still_gets_no_boost() -> None:
    # a list of seasonal workers from other provinces: 2,500 of 10,000 found with any confidence
    assert estimate_prior_shift(10_000, [20.0] * 2_500 + [-2.0] * 2_000) == 0.0


def test_no_candidates_means_no_shift() -> None:
    assert estimate_prior_shift(0, []) == 0.0
    assert estimate_prior_shift(500, []) == 0.0


CITIZEN = ReferenceRecord(
    citizen_id=11,
    id_number="001085006789",
    full_name="Trần Văn Dũng",
    date_of_birth=date(1985, 6, 21),
    dob_precision="day",
    sex="M",
    permanent_address_text="Số 5 ngõ 12 phố Chùa Láng, Phường Láng, Thành phố Hà Nội",
    permanent_ward_code="00235",
    permanent_legacy_ward_code="00232",
    life_status="alive",
    date_of_death=None,
)


def _dob_weight(typed: str) -> float:
    """The date comparison's weight for Anh Dũng's row typed ``typed`` (bundled model)."""
    reg = model.reference_features(CITIZEN)
    row, _ = pipeline.sector_features(
        SectorRow(1, "Trần Văn Dũng", typed, "Nam", "", CITIZEN.permanent_address_text)
    )
    preds, _ = model.train_and_predict([row], [reg])
    assert len(preds) == 1
    return preds[0].explanation["dob"]


def test_a_year_only_date_that_agrees_is_strong_evidence() -> None:
    # the commune typed only "1985": the year is all it knows, and it agrees
    assert _dob_weight("1985") > 5.0


def test_a_full_date_that_agrees_only_on_the_year_is_evidence_against() -> None:
    # "03/11/1985" is a full date: its day and month disagree with the registry's 21/06
    assert _dob_weight("03/11/1985") < 0.0


def _confirmed_links(con: duckdb.DuckDBPyConnection, full: int, year_only: int, other_surname: int) -> None:
    """A sector and a registry table with ``full + year_only + other_surname`` links confirmed by an
    ID number: the same person, typed with a full date or with the year only; the last ones with a
    surname that does not agree (their confirmation may have used the birth year: not counted)."""
    cols = ", ".join(f"{f} VARCHAR" for f in model.FEATURES)
    con.execute(f"CREATE TABLE registry (unique_id BIGINT, {cols})")
    con.execute(f"CREATE TABLE sector (unique_id BIGINT, {cols})")
    con.execute("CREATE TABLE id_hits (key BIGINT, citizen_id BIGINT, method VARCHAR)")
    base: dict[str, str | None] = {
        "given": "dung",
        "given_toned": "dũng",
        "family": "tran",
        "family_key": "tran",
        "middle": "van",
    }
    base |= {"dob": "1985-06-21", "dob_swap": None, "dob_ym": "1985-06", "dob_year": "1985", "sex": "M"}
    base |= {"ward_code": "00235", "street": "so 5 ngo 12 pho chua lang"}
    reg, sec = [], []
    for i in range(full + year_only + other_surname):
        reg.append((i, *base.values()))
        row = dict(base)
        if full <= i < full + year_only:
            row |= {"dob": None, "dob_ym": None}
        elif i >= full + year_only:
            row |= {"family": "le", "family_key": "le"}
        sec.append((i, *row.values()))
    holes = ", ".join("?" * (len(model.FEATURES) + 1))
    con.executemany(f"INSERT INTO registry VALUES ({holes})", reg)
    con.executemany(f"INSERT INTO sector VALUES ({holes})", sec)
    con.execute("INSERT INTO id_hits SELECT unique_id, unique_id, 'id' FROM sector")


def _dob_m() -> dict[str, float]:
    trained = model.base_model()
    levels = next(c for c in trained["comparisons"] if c["output_column_name"] == "dob")["comparison_levels"]
    return {lvl["label_for_charts"]: lvl.get("m_probability") for lvl in levels}


def test_the_files_confirmed_links_say_how_its_dates_were_typed() -> None:
    # Chị Hoa's association list: 1,200 links confirmed by ID number, 300 of them typed "1985"
    con = duckdb.connect()
    _confirmed_links(con, full=900, year_only=300, other_surname=500)
    trained = model.base_model()
    assert scale.m_from_confirmed_links(con, trained) == {"dob": 1200}
    levels = next(c for c in trained["comparisons"] if c["output_column_name"] == "dob")["comparison_levels"]
    m = {lvl["label_for_charts"]: lvl.get("m_probability") for lvl in levels}
    assert m["only the year known on one side: same year"] == pytest.approx(0.25, abs=0.01)
    assert m["same day"] == pytest.approx(0.75, abs=0.01)
    # a level no confirmed link showed keeps a floor: one wrong date is not a veto
    assert m["All other comparisons"] >= scale.M_FLOOR * 0.99


def test_too_few_confirmed_links_leave_the_bundled_model_as_it_is() -> None:
    con = duckdb.connect()
    _confirmed_links(con, full=700, year_only=200, other_surname=500)  # 900 < MIN_CONFIRMED
    trained = model.base_model()
    assert scale.m_from_confirmed_links(con, trained) == {}
    levels = next(c for c in trained["comparisons"] if c["output_column_name"] == "dob")["comparison_levels"]
    assert {lvl["label_for_charts"]: lvl.get("m_probability") for lvl in levels} == _dob_m()


def test_without_an_id_pass_there_are_no_labelled_pairs() -> None:
    con = duckdb.connect()
    trained = model.base_model()
    assert scale.confirmed_level_counts(con, trained, "dob") == [0] * 7
