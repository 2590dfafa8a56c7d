"""Per-part profile of the residence notification (issue 6; ADR 0018): the batch and the single
notification in-process (``django.test.Client`` on ``dancu.settings``, DEBUG off), each statement
and each commit timed where ``psycopg`` executes it, the process's CPU (``process_time``: the
Python only — PostgreSQL is another process) per notification.

    .venv/bin/python bench/residence_profile.py --database dancu_lookup --batches 3 --single 150
    .venv/bin/python bench/residence_profile.py --database dancu_res --explain   # EXPLAIN the big ones
    .venv/bin/python bench/residence_profile.py --cprofile                         # CPU-clock cProfile

Like ``residence_bench.py`` it adds ``BENCH-RES-*`` hotels, their stays, receipts and events, and
deletes them at the end (its ``_cleanup``). ``--explain``: each statement starting with ``WITH``
whose parameters exceed 100 kB (a 500-row batch's) is first run under ``EXPLAIN (ANALYZE,
BUFFERS, TIMING OFF)`` in a savepoint rolled back. To profile another tree, put its ``src`` first:
``PYTHONPATH=<tree>/src``.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import json
import os
import pstats
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STATS: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
ON = [False]


def _instrument(explain: bool) -> None:
    import psycopg

    execute, commit = psycopg.Cursor.execute, psycopg.Connection.commit

    def timed_execute(self: Any, query: Any, params: Any = None, **kw: Any) -> Any:
        if not ON[0]:
            return execute(self, query, params, **kw)
        text = query if isinstance(query, str) else str(query)
        if explain and text.lstrip().startswith("WITH") and len(str(params)) > 100_000:
            with psycopg.Cursor(self.connection) as c:
                c.execute("SAVEPOINT profile_explain")
                c.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " + text, params)
                print("\n".join(r[0] for r in c.fetchall()), flush=True)
                c.execute("ROLLBACK TO SAVEPOINT profile_explain")
        key = " ".join(text.split())[:90]
        t = time.perf_counter()
        try:
            return execute(self, query, params, **kw)
        finally:
            s = STATS[key]
            s[0] += 1
            s[1] += time.perf_counter() - t

    def timed_commit(self: Any) -> Any:
        t = time.perf_counter()
        try:
            return commit(self)
        finally:
            if ON[0]:
                s = STATS["COMMIT"]
                s[0] += 1
                s[1] += time.perf_counter() - t

    psycopg.Cursor.execute = timed_execute  # type: ignore[method-assign]
    psycopg.Connection.commit = timed_commit  # type: ignore[method-assign]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--database", default="dancu_lookup")
    ap.add_argument("--batches", type=int, default=3, help="batches of 500")
    ap.add_argument("--single", type=int, default=150, help="single notifications")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--explain", action="store_true")
    ap.add_argument("--cprofile", action="store_true")
    args = ap.parse_args()
    os.environ.update(
        DATABASE_URL=f"{args.server}/{args.database}",
        SECRET_KEY="residence-profile-secret-key-0123456789abcdef",  # noqa: S106 — a local benchmark
        DJANGO_SETTINGS_MODULE="dancu.settings",
        ALLOWED_HOSTS="testserver",
        DEBUG="0",
        SECURE_COOKIES="0",
        LOG_LEVEL="WARNING",
    )
    sys.path.insert(0, str(ROOT / "bench"))
    import django

    django.setup()
    _instrument(args.explain)
    from django.db import connection
    from django.test import Client

    import dancu
    import residence_bench as rb
    from verify_http_bench import _sample_qr_texts

    print("code:", dancu.__file__, flush=True)
    rb._cleanup()
    setup = rb._setup(2)
    texts, _ = _sample_qr_texts(args.batches * 500 + args.single + 50, args.seed)
    connection.close()
    from dancu.wsgi import application  # noqa: F401 — what the server does at start (gc.freeze)

    client = Client(HTTP_AUTHORIZATION=f"Bearer {setup['hotels'][0]['token']}")

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = client.post(path, json.dumps(body, ensure_ascii=False), content_type="application/json")
        assert r.status_code == 200, r.content[:300]
        return dict(r.json())

    def batch(chunk: list[str]) -> None:
        now = datetime.now(UTC)
        rows = [rb._row(t, now, 1000 + j) for j, t in enumerate(chunk)]
        key = f"p-{uuid.uuid4().hex[:20]}"
        body = {"idempotency_key": key, "notifications": rows}
        answer = post("/api/v1/residence/notifications/batch", body)
        assert answer["stored"] == len(chunk), answer

    def single(text: str, j: int) -> None:
        body = {"idempotency_key": f"p-{uuid.uuid4().hex[:20]}", **rb._row(text, datetime.now(UTC), j)}
        post("/api/v1/residence/notifications", body)

    batch(texts[-40:-20])  # warm-up: imports, connection, prepared statements
    single(texts[-10], 1)
    single(texts[-9], 2)
    try:
        for name, n in (("batch", args.batches), ("single", args.single)):
            if n <= 0:
                continue
            STATS.clear()
            prof = cProfile.Profile(time.process_time) if args.cprofile else None
            ON[0] = True
            t0, c0 = time.perf_counter(), time.process_time()
            if prof:
                prof.enable()
            if name == "batch":
                for b in range(n):
                    batch(texts[b * 500 : (b + 1) * 500])
                count = n * 500
            else:
                for j in range(n):
                    single(texts[args.batches * 500 + j], j)
                count = n
            if prof:
                prof.disable()
            cpu, wall = time.process_time() - c0, time.perf_counter() - t0
            ON[0] = False
            in_db = sum(v[1] for v in STATS.values())
            print(
                f"\n== {name}: {count} notifications, wall {wall * 1000 / count:.3f} ms, "
                f"CPU (Python) {cpu * 1e6 / count:.0f} µs, statements + commit {in_db * 1000 / count:.3f} ms "
                f"per notification; load {os.getloadavg()[0]:.2f}"
            )
            for key, (calls, spent) in sorted(STATS.items(), key=lambda kv: -kv[1][1]):
                print(f"  {calls / n:5.1f}/request {spent * 1000 / calls:8.3f} ms each  {key}")
            if prof:
                pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
    finally:
        connection.close()
        rb._cleanup()


if __name__ == "__main__":
    main()
