"""Unique random-looking digits without a set of all numbers: keyed bijections and counters."""

from __future__ import annotations

import numpy as np
import pytest

from dancu.synthpop.numbers import KeyedPermutation, NumberSpace, NumberSpaceExhausted


@pytest.mark.parametrize(("a", "b"), [(1000, 1000), (1000, 10_000), (7, 11)])
def test_the_keyed_permutation_is_a_bijection_with_an_inverse(a: int, b: int) -> None:
    perm = KeyedPermutation(42, a, b, purpose=1)
    k = np.arange(a * b, dtype=np.int64)
    prefix = np.full(k.size, 1_095, dtype=np.int64)
    out = perm.forward(k, prefix)
    assert np.unique(out).size == k.size and out.min() >= 0 and out.max() < a * b
    assert np.array_equal(perm.inverse(out, prefix), k)


def test_each_prefix_and_seed_has_its_own_permutation() -> None:
    k = np.arange(1000, dtype=np.int64)
    one = KeyedPermutation(1, 1000, 1000, purpose=1)
    other_seed = KeyedPermutation(2, 1000, 1000, purpose=1)
    a = one.forward(k, np.full(1000, 1_090))
    b = one.forward(k, np.full(1000, 1_091))
    c = other_seed.forward(k, np.full(1000, 1_090))
    assert (a != b).mean() > 0.99 and (a != c).mean() > 0.99
    assert abs(np.corrcoef(k, a)[0, 1]) < 0.1, "consecutive counters give unrelated digits"


def test_counters_hand_out_each_number_once_across_calls() -> None:
    space = NumberSpace(KeyedPermutation(3, 10, 10, purpose=1), 5, label="test")
    first = space.allocate(np.array([2] * 60, dtype=np.int64))
    second = space.allocate(np.array([2] * 40 + [3] * 5, dtype=np.int64))
    assert np.unique(np.concatenate([first, second[:40]])).size == 100
    with pytest.raises(NumberSpaceExhausted):
        space.allocate(np.array([2], dtype=np.int64))


def test_reserved_numbers_are_skipped() -> None:
    perm = KeyedPermutation(3, 10, 10, purpose=1)
    space = NumberSpace(perm, 5, label="test")
    taken = [4 * 100 + d for d in (5, 17, 99)]  # prefix 4, digits 5, 17, 99
    assert space.reserve_existing(taken) == 3
    got = space.allocate(np.array([4] * 97, dtype=np.int64))
    assert set(got.tolist()) == set(range(100)) - {5, 17, 99}
