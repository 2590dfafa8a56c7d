"""Shared generated populations (generation only, no database) for the synthetic-population tests."""

from __future__ import annotations

import pytest

from dancu.synthpop.generator import Chunk, population


@pytest.fixture(scope="session")
def hanoi_100k() -> Chunk:
    """100,000 people of Hà Nội (seed 2026), as one chunk."""
    return population(100_000, seed=2026)


@pytest.fixture(scope="session")
def hanoi_20k() -> Chunk:
    """20,000 people of Hà Nội (seed 2026), generated on their own."""
    return population(20_000, seed=2026)
