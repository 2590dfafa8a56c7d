"""Benchmark: look-up by ID number through the registry's service layer at Hà Nội scale.

Target (issue: platform foundation): ≥ 5,000 look-ups/s on one core with p99 ≤ 5 ms at 8.5 M rows.

What one look-up is: ``dancu.blocks.registry.services.get_by_id_number(ctx, id_number)`` for a
city police officer with purpose ``registry.lookup`` — the purpose check, the jurisdiction check,
the record with household, cards, old CMND numbers and previous numbers, the DTO for the purpose,
and the audit event written to the database. The client process is pinned to one core; the
PostgreSQL server runs beside it on the same 2-core machine.

Each run has ``--threads`` concurrent callers in the one client process (as the request threads
of a threaded web worker): concurrent look-ups are grouped into shared statements by the
registry's coalescer (ADR 0006), so the run with one thread shows the latency of a lone look-up
and the runs with more show the throughput of the one core. The target is met when one run
reaches both figures.

    .venv/bin/python bench/lookup_bench.py                     # 8.5 M citizens in dancu_lookup
    .venv/bin/python bench/lookup_bench.py --citizens 1000000 --lookups 20000
    .venv/bin/python bench/lookup_bench.py --reuse             # keep an already loaded database
    .venv/bin/python bench/seed_bench.py --full --keep-full dancu_lookup   # then --reuse here
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _machine import cpu_seconds, pids_of

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    ap.add_argument("--database", default="dancu_lookup")
    ap.add_argument("--citizens", type=int, default=8_500_000)
    ap.add_argument("--lookups", type=int, default=50_000)
    ap.add_argument(
        "--reuse", action="store_true", help="reuse the database if it already holds the citizens"
    )
    ap.add_argument("--seed", type=int, default=85)
    ap.add_argument(
        "--threads",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[1, 8, 12, 16, 24],
        help="concurrent callers per run, comma-separated (default 1,8,12,16,24)",
    )
    args = ap.parse_args()

    url = f"{args.server}/{args.database}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-0123456789abcdef")
    os.environ["DJANGO_SETTINGS_MODULE"] = "dancu.settings"
    sys.path.insert(0, str(ROOT / "src"))

    import psycopg

    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (args.database,)).fetchone()
        if exists and not args.reuse:
            admin.execute(f'DROP DATABASE "{args.database}" WITH (FORCE)')
            exists = None
        if not exists:
            admin.execute(f'CREATE DATABASE "{args.database}"')

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("load_adminunits", verbosity=0)
    from dancu.blocks.registry.models import Citizen

    have = Citizen.objects.count()
    load_seconds = None
    if have < args.citizens:
        if have:
            sys.exit(
                f"database {args.database} holds {have} citizens, fewer than {args.citizens}: drop it first"
            )
        t0 = time.perf_counter()
        call_command("seed", citizens=args.citizens, seed=args.seed, province="01")
        load_seconds = time.perf_counter() - t0
        have = Citizen.objects.count()
    with connection.cursor() as cur:
        # Fresh statistics for every table the look-up reads (as autovacuum would have by then).
        cur.execute(
            "VACUUM ANALYZE registry_citizen, registry_household, registry_oldidnumber, "
            "registry_identitycard, registry_idnumberchange, audit_auditevent"
        )

    from django.contrib.auth import get_user_model

    from dancu.blocks.audit.context import AccessContext
    from dancu.blocks.organisations.models import Organisation
    from dancu.blocks.organisations.services import actor_for, add_member
    from dancu.blocks.registry.services import get_by_id_number

    user, _ = get_user_model().objects.get_or_create(username="bench.officer")
    org, _ = Organisation.objects.get_or_create(
        code="CA-HN-BENCH",
        defaults={
            "name": "Công an thành phố Hà Nội",
            "kind": "police_city",
            "jurisdiction_province_code": "01",
        },
    )
    add_member(user, org, "officer")
    ctx = AccessContext(actor=actor_for(user), purpose="registry.lookup", case_reference="bench")

    # Sample ID numbers spread over the whole table (random primary keys, not the first rows).
    lo, hi = (
        Citizen.objects.order_by("id").values_list("id", flat=True).first(),
        Citizen.objects.order_by("-id").values_list("id", flat=True).first(),
    )
    rng = random.Random(args.seed)
    wanted = [rng.randint(lo, hi) for _ in range(args.lookups * 2)]
    ids: list[str] = []
    for start in range(0, len(wanted), 5000):
        ids += list(
            Citizen.objects.filter(id__in=wanted[start : start + 5000]).values_list("id_number", flat=True)
        )
    rng.shuffle(ids)
    ids = ids[: args.lookups]

    os.sched_setaffinity(0, {0})  # the client on one core
    for id_number in ids[:2000]:  # warm-up: connection, caches, code paths
        get_by_id_number(ctx, id_number)
    server_version = connection.cursor().connection.info.parameter_status("server_version")
    with connection.cursor() as cur:
        server_settings = {}
        for name in ("shared_buffers", "effective_cache_size", "max_wal_size", "jit"):
            cur.execute(f"SHOW {name}")
            server_settings[name] = cur.fetchone()[0]
    connection.close()  # the threads open their own; the look-ups themselves run on the lanes
    time.sleep(1)  # let its server process exit, or its CPU time would vanish from the first run's sum

    runs = [_run(get_by_id_number, ctx, ids, threads) for threads in args.threads]
    for run in runs:
        print(
            f"{run['threads']:>3} threads: {run['per_second']:>7,.0f}/s  p50 {run['p50_ms']:.2f} ms  "
            f"p99 {run['p99_ms']:.2f} ms  client CPU {run['client_cpu_us']:.0f} µs, "
            f"server CPU {run['server_cpu_us']:.0f} µs per look-up",
            flush=True,
        )
    passing = [r for r in runs if r["per_second"] >= 5000 and r["p99_ms"] <= 5]
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "database": f"PostgreSQL {server_version}",
        "server_settings": server_settings,
        "citizens": have,
        "seed_seconds": round(load_seconds, 1) if load_seconds else None,
        "lookups_per_run": len(ids),
        "runs": runs,
        "targets": {"per_second": 5000, "p99_ms": 5},
        "meets_targets": bool(passing),
        "passing_runs": [r["threads"] for r in passing],
    }
    out = ROOT / "bench" / "results" / f"lookup-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, indent=2, ensure_ascii=False))


def _run(lookup: Callable[..., Any], ctx: Any, ids: list[str], threads: int) -> dict[str, Any]:
    """``threads`` callers (a threaded web worker's request threads) share the one client core,
    each looking up its share of ``ids`` one after another. Measures throughput, latency per
    look-up, and the CPU time per look-up of this process and of the PostgreSQL server."""
    per = len(ids) // threads
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def work(k: int) -> None:
        mine = latencies[k]
        try:
            for id_number in ids[k * per : (k + 1) * per]:
                t0 = time.perf_counter_ns()
                view = lookup(ctx, id_number)
                mine.append((time.perf_counter_ns() - t0) / 1e6)
                assert view.id_number == id_number
        except BaseException as exc:  # reported after the run
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    server0, client0, t0 = _server_cpu(), time.process_time(), time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - t0
    client, server = time.process_time() - client0, _server_cpu() - server0
    if errors:
        raise errors[0]
    lat = sorted(x for part in latencies for x in part)
    n = len(lat)

    def pct(p: float) -> float:
        return lat[min(n - 1, int(p / 100 * n))]

    return {
        "threads": threads,
        "lookups": n,
        "per_second": round(n / elapsed, 1),
        "p50_ms": round(pct(50), 3),
        "p95_ms": round(pct(95), 3),
        "p99_ms": round(pct(99), 3),
        "max_ms": round(lat[-1], 3),
        "mean_ms": round(statistics.fmean(lat), 3),
        "client_cpu_us": round(client / n * 1e6, 1),
        "server_cpu_us": round(server / n * 1e6, 1),
    }


def _server_cpu() -> float:
    """CPU seconds used so far by every PostgreSQL process on this machine (/proc)."""
    return cpu_seconds(pids_of(b"postgres"))


def _machine() -> str:
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next(
            (ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")), ""
        )
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = model or platform.processor()
    return f"{os.cpu_count()} cores, {cpu}, {mem_gib:.0f} GiB RAM, {platform.platform()}"


if __name__ == "__main__":
    main()
