"""Loading the data files into the database: counts, one transaction, idempotence."""

from __future__ import annotations

import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from dancu.blocks.adminunits import models as m
from dancu.blocks.adminunits.catalogue import data_version
from dancu.blocks.adminunits.loader import stored_version
from dancu.blocks.adminunits.services import ensure_loaded

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple[int, ...]:
    return (
        m.Province.objects.count(),
        m.Ward.objects.count(),
        m.LegacyProvince.objects.count(),
        m.LegacyDistrict.objects.count(),
        m.LegacyWard.objects.count(),
        m.WardCrosswalk.objects.count(),
    )


def test_loading_fills_every_table_with_the_counts_of_resolution_202_2025(db: Any) -> None:
    assert ensure_loaded(force=True) is True
    provinces, wards, legacy_provinces, legacy_districts, legacy_wards, pairs = _snapshot()
    assert (provinces, wards, legacy_provinces) == (34, 3321, 63)
    assert (legacy_districts, legacy_wards) == (696, 10051)
    assert pairs == 10554
    assert m.Ward.objects.filter(province_id="01").count() == 126
    assert m.Ward.objects.filter(province_id="01", type="ward").count() == 51
    assert stored_version() == data_version()


def test_the_database_agrees_with_the_crosswalk_of_the_services(db: Any) -> None:
    ensure_loaded(force=True)
    pairs = m.WardCrosswalk.objects.filter(legacy_ward_id="00100").order_by("-is_primary", "ward_id")
    assert [(p.ward_id, p.is_primary, p.primary_basis) for p in pairs] == [
        ("00103", True, "heuristic"),
        ("00097", False, ""),
    ]
    assert str(m.LegacyWard.objects.get(code="00100")) == "Phường Quảng An"
    assert m.LegacyWard.objects.get(code="00100").district.full_name == "Quận Tây Hồ"


def test_a_second_load_of_the_same_version_changes_nothing_and_costs_one_query(
    db: Any, django_assert_num_queries: Any
) -> None:
    ensure_loaded(force=True)
    before = _snapshot()
    started = time.perf_counter()
    with django_assert_num_queries(1):
        assert ensure_loaded() is False
    assert time.perf_counter() - started < 0.5
    assert _snapshot() == before


def test_a_different_stored_version_is_replaced_by_a_full_reload(db: Any) -> None:
    ensure_loaded(force=True)
    m.DataVersion.objects.filter(key="adminunits").update(version="older")
    m.Province.objects.filter(code="01").update(name="changed by hand")
    assert ensure_loaded() is True
    assert m.Province.objects.get(code="01").name == "Hà Nội"
    assert stored_version() == data_version()


def test_the_management_command_reports_what_it_did_and_is_idempotent(db: Any) -> None:
    out = StringIO()
    call_command("load_adminunits", "--force", stdout=out)
    assert "34 provinces, 3321 wards" in out.getvalue()
    out = StringIO()
    call_command("load_adminunits", stdout=out)
    assert "already loaded, nothing to do" in out.getvalue()
