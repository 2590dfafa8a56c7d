"""The look-up coalescer (ADR 0006): concurrent callers share statements, a lone caller never
waits for company, every caller gets its own outcome or the error of its own batch, and nothing
is lost or stranded under load. A *lane* stands in for a connection running the statement."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest

from dancu.blocks.registry.pg_read import Coalescer

JOIN_TIMEOUT = 20  # seconds: a stranded caller fails the test instead of hanging it


class RecordingLane:
    """Answers each request with ("ok", request) and records the batches it was given; can be
    held closed so that callers pile up behind it."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.batches: list[list[Any]] = []
        self.open = threading.Event()
        self.open.set()
        self.entered = threading.Event()
        self.delay = delay
        self.running = 0
        self.most_running = 0
        self._lock = threading.Lock()

    def __call__(self, requests: list[Any]) -> list[tuple[str, Any]]:
        with self._lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        self.entered.set()
        self.open.wait()
        if self.delay:
            time.sleep(random.uniform(0, self.delay))
        self.batches.append(list(requests))
        with self._lock:
            self.running -= 1
        return [("ok", r) for r in requests]


def in_threads(coalescer: Coalescer, requests: list[Any]) -> tuple[dict[Any, Any], list[threading.Thread]]:
    results: dict[Any, Any] = {}

    def call(r: Any) -> None:
        try:
            results[r] = coalescer.submit(r)
        except Exception as exc:
            results[r] = exc

    threads = [threading.Thread(target=call, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    return results, threads


def join(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.join(JOIN_TIMEOUT)
        assert not t.is_alive(), "a caller was stranded"


def test_a_lone_caller_runs_at_once_in_a_batch_of_its_own() -> None:
    lane = RecordingLane()
    coalescer = Coalescer([lane])
    assert coalescer.submit("001085012345") == ("ok", "001085012345")
    assert coalescer.submit("001190222222") == ("ok", "001190222222")
    assert lane.batches == [["001085012345"], ["001190222222"]]


def test_callers_arriving_while_the_lane_is_busy_share_the_next_statement() -> None:
    lane = RecordingLane()
    lane.open.clear()
    coalescer = Coalescer([lane])
    first, first_threads = in_threads(coalescer, ["first"])
    assert lane.entered.wait(JOIN_TIMEOUT)
    waiting = [f"caller-{i}" for i in range(10)]
    results, threads = in_threads(coalescer, waiting)
    time.sleep(0.2)  # let all ten queue behind the busy lane
    lane.open.set()
    join(first_threads + threads)
    assert first == {"first": ("ok", "first")}
    assert results == {r: ("ok", r) for r in waiting}
    assert lane.batches[0] == ["first"]
    assert sorted(lane.batches[1]) == sorted(waiting)
    assert len(lane.batches) == 2


def test_a_batch_never_exceeds_max_batch_and_the_rest_follows_in_the_next() -> None:
    lane = RecordingLane()
    lane.open.clear()
    coalescer = Coalescer([lane], max_batch=4)
    _, first_threads = in_threads(coalescer, ["first"])
    assert lane.entered.wait(JOIN_TIMEOUT)
    results, threads = in_threads(coalescer, [f"c{i}" for i in range(10)])
    time.sleep(0.2)
    lane.open.set()
    join(first_threads + threads)
    assert [len(b) for b in lane.batches] == [1, 4, 4, 2]
    assert all(results[r] == ("ok", r) for r in results)


def test_two_lanes_run_two_statements_at_the_same_time() -> None:
    lane = RecordingLane()
    lane.open.clear()
    coalescer = Coalescer([lane, lane])
    _, threads = in_threads(coalescer, ["a", "b"])
    deadline = time.monotonic() + JOIN_TIMEOUT
    while lane.running < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lane.running == 2
    lane.open.set()
    join(threads)
    assert lane.most_running == 2


def test_a_failing_statement_fails_every_caller_of_its_batch_and_the_next_batch_still_runs() -> None:
    calls = {"n": 0}
    gate = threading.Event()
    entered = threading.Event()

    def lane(requests: list[Any]) -> list[tuple[str, Any]]:
        calls["n"] += 1
        if calls["n"] == 1:
            entered.set()
            gate.wait()
            return [("ok", r) for r in requests]
        if calls["n"] == 2:
            raise ConnectionError("server closed the connection")
        return [("ok", r) for r in requests]

    coalescer = Coalescer([lane])
    _, first_threads = in_threads(coalescer, ["first"])
    assert entered.wait(JOIN_TIMEOUT)
    results, threads = in_threads(coalescer, ["x", "y", "z"])
    time.sleep(0.2)
    gate.set()
    join(first_threads + threads)
    assert all(isinstance(results[r], ConnectionError) for r in ("x", "y", "z"))
    assert coalescer.submit("after") == ("ok", "after")


def test_a_statement_returning_the_wrong_number_of_outcomes_is_an_error_not_a_mix_up() -> None:
    coalescer = Coalescer([lambda requests: []])
    with pytest.raises(RuntimeError, match="wrong number of outcomes"):
        coalescer.submit("001085012345")


def test_under_load_every_caller_gets_exactly_its_own_outcome_and_none_is_stranded() -> None:
    lane = RecordingLane(delay=0.002)
    coalescer = Coalescer([lane, lane], max_batch=32)
    got: dict[tuple[int, int], Any] = {}

    def caller(k: int) -> None:
        for i in range(150):
            got[(k, i)] = coalescer.submit((k, i))

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    join(threads)
    assert got == {(k, i): ("ok", (k, i)) for k in range(16) for i in range(150)}
    carried = [r for batch in lane.batches for r in batch]
    assert sorted(carried) == sorted(got)  # each request ran exactly once
    assert max(len(b) for b in lane.batches) > 1  # and concurrency did produce shared statements


def test_a_coalescer_without_lanes_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one lane"):
        Coalescer([])
