"""Accuracy of the address resolver on the generated test set (bench/address_accuracy.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
MINIMUM_ACCURACY = 0.95


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("address_accuracy", ROOT / "bench" / "address_accuracy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_test_set_has_at_least_500_legacy_addresses_from_hanoi_and_other_provinces(
    bench: ModuleType,
) -> None:
    cases = bench.read_testset()
    legacy = [c for c in cases if c.legacy_ward_code]
    assert len(legacy) >= 500
    provinces = {bench.catalogue().legacy_wards[c.legacy_ward_code].province_code for c in legacy}
    assert "01" in provinces
    assert len(provinces) >= 40


def test_the_committed_test_set_is_what_the_seeded_generator_produces(bench: ModuleType) -> None:
    """The CSV is not edited by hand: regenerating it gives the same rows."""
    assert bench.generate() == bench.read_testset()


def test_at_least_95_percent_resolve_to_the_right_legacy_and_current_ward(bench: ModuleType) -> None:
    result = bench.measure(bench.read_testset())
    assert result.legacy_accuracy >= MINIMUM_ACCURACY, result.failures[:10]
    assert result.current_accuracy >= MINIMUM_ACCURACY, result.failures[:10]
