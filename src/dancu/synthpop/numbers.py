"""Unique, random-looking numbers without keeping a set of all numbers issued.

The 6 random digits of a 12-digit ID number (``PPP G YY RRRRRR``, Circular 07/2016/TT-BCA Art. 7)
and the 7 digits after the province prefix of a 9-digit CMND are drawn as ``π_prefix(k)`` where
``k`` counts the numbers already issued under that prefix and ``π_prefix`` is a seeded bijection
of ``0 … size−1`` (a keyed Feistel network over two mixed-radix halves, with per-prefix round
keys). A bijection never repeats, so numbers are unique as long as each prefix's counter only
moves forward; memory is one counter per prefix.

Appending to a registry that already holds numbers: :meth:`NumberSpace.reserve_existing` maps the
stored numbers back through ``π⁻¹`` and the counters then skip those positions, so a new number can
never equal a stored one, whatever seed produced it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
_U64 = np.uint64


class NumberSpaceExhausted(Exception):
    """A prefix has no unused number left (e.g. more than 1,000,000 people born in one year,
    of one sex, registered in one province)."""


def _mix64(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """A 64-bit finaliser (the "splitmix64" constants): spreads every input bit over the output."""
    with np.errstate(over="ignore"):
        z = x + _U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


class KeyedPermutation:
    """A bijection of ``0 … a·b−1`` for every prefix, keyed by ``seed`` and the prefix.

    A value ``x`` is split into ``(L, R) = (x // b, x % b)``; each round maps ``(L, R)`` to
    ``(R, (L + F(R)) mod |L|)``, which swaps the two radices, so an even number of rounds returns to
    the ``(a, b)`` shape. Every round is invertible whatever ``F`` is; ``F`` is a seeded lookup
    table shifted by a per-prefix key.
    """

    def __init__(self, seed: int, a: int, b: int, *, purpose: int, rounds: int = 6) -> None:
        if rounds % 2:
            raise ValueError("rounds must be even")
        self.a, self.b, self.size, self.rounds = a, b, a * b, rounds
        rng = np.random.default_rng([seed & 0xFFFFFFFFFFFFFFFF, purpose])
        # Round i maps a value of radix in_i to an offset of radix out_i.
        self._in = [b if i % 2 == 0 else a for i in range(rounds)]
        self._out = [a if i % 2 == 0 else b for i in range(rounds)]
        self._tables = [rng.integers(0, self._out[i], self._in[i], dtype=np.int64) for i in range(rounds)]
        self._key = _U64(int(rng.integers(0, 2**63, dtype=np.int64)))

    def _round_keys(self, prefix: I64, i: int) -> tuple[I64, I64]:
        h = _mix64((prefix.astype(np.uint64) * _U64(64) + _U64(i)) ^ self._key)
        shift = (h % _U64(self._in[i])).astype(np.int64)
        add = ((h >> _U64(32)) % _U64(self._out[i])).astype(np.int64)
        return shift, add

    def _f(self, i: int, v: I64, prefix: I64) -> I64:
        shift, add = self._round_keys(prefix, i)
        return (self._tables[i][(v + shift) % self._in[i]] + add) % self._out[i]

    def forward(self, k: I64, prefix: I64) -> I64:
        """``π_prefix(k)`` element-wise (``k`` in ``0 … size−1``)."""
        left, right = k // self.b, k % self.b
        for i in range(self.rounds):
            left, right = right, (left + self._f(i, right, prefix)) % self._out[i]
        return left * self.b + right

    def inverse(self, r: I64, prefix: I64) -> I64:
        """``π_prefix⁻¹(r)`` element-wise."""
        left, right = r // self.b, r % self.b
        for i in reversed(range(self.rounds)):
            left, right = (right - self._f(i, left, prefix)) % self._out[i], left
        return left * self.b + right


class NumberSpace:
    """Per-prefix counters over a :class:`KeyedPermutation`: ``allocate`` hands out numbers that
    are unique within the space (and distinct from every reserved number)."""

    def __init__(self, perm: KeyedPermutation, prefix_count: int, *, label: str) -> None:
        self.perm = perm
        self.label = label
        self.counters = np.zeros(prefix_count, dtype=np.int64)
        # prefix → sorted reserved positions minus their rank: position j of the free list is
        # j + (number of reserved positions ≤ that slot) = j + searchsorted(adjusted, j, "right").
        self._reserved: dict[int, I64] = {}

    def reserve_existing(self, numbers: Iterable[int]) -> int:
        """Mark stored numbers (``prefix·size + digits``) as taken; returns how many were new."""
        values = np.fromiter(numbers, dtype=np.int64)
        if values.size == 0:
            return 0
        values = values[(values >= 0) & (values < self.counters.size * self.perm.size)]
        prefix, digits = values // self.perm.size, values % self.perm.size
        positions = self.perm.inverse(digits, prefix)
        order = np.lexsort((positions, prefix))
        prefix, positions = prefix[order], positions[order]
        added = 0
        for p, start, count in zip(*np.unique(prefix, return_index=True, return_counts=True), strict=True):
            old = self._reserved.get(int(p))
            new = positions[start : start + count]
            if old is not None:
                previous = old + np.arange(old.size)  # undo the rank adjustment
                new = np.union1d(previous, new)
            else:
                new = np.unique(new)
            added += new.size - (0 if old is None else old.size)
            self._reserved[int(p)] = new - np.arange(new.size)
        return added

    def allocate(self, prefix: I64) -> I64:
        """Next unused digits for each element's prefix, in element order."""
        if prefix.size == 0:
            return np.zeros(0, dtype=np.int64)
        order = np.argsort(prefix, kind="stable")
        sorted_prefix = prefix[order]
        uniq, start, counts = np.unique(sorted_prefix, return_index=True, return_counts=True)
        rank = np.arange(sorted_prefix.size) - np.repeat(start, counts)
        free_index = np.repeat(self.counters[uniq], counts) + rank
        self.counters[uniq] += counts
        position = free_index.copy()
        if self._reserved:
            for p, s, c in zip(uniq.tolist(), start.tolist(), counts.tolist(), strict=True):
                adjusted = self._reserved.get(p)
                if adjusted is not None:
                    j = free_index[s : s + c]
                    position[s : s + c] = j + np.searchsorted(adjusted, j, side="right")
        if position.size and int(position.max()) >= self.perm.size:
            full = sorted({int(p) for p in sorted_prefix[position >= self.perm.size]})
            raise NumberSpaceExhausted(
                f"{self.label}: no unused number left under prefix(es) {', '.join(map(str, full[:5]))}"
            )
        digits = self.perm.forward(position, sorted_prefix)
        out = np.empty_like(digits)
        out[order] = digits
        return out
