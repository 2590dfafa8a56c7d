"""Where an exchange's CPU goes: per part in the client, and in the database's backends (issue 5).

Companion of ``bench/exchange_bench.py`` (run that first: it creates and fills the database;
this script reuses it). Two measurements, both in CPU time so that a shared machine's load moves
them less than it moves throughput:

* ``--threads``: N direct calls (``get_by_id_number``) and N exchanges (``gateway.handle``) in T
  threads of this process; per call, this process's CPU (``time.process_time``) and the CPU of
  the database's backends of this database (``/proc/<pid>/stat`` of the ``pg_stat_activity``
  pids, same machine), and the same-run ratio of throughputs.
* ``--parts``: N exchanges in one thread with the gateway's steps wrapped in timers of the
  thread's CPU (``time.thread_time``): µs per exchange per part (the wrappers' own cost, ~1 µs
  each, is included; the parts nest, see the indentation).

    .venv/bin/python bench/exchange_profile.py --database dancu_exchange --calls 2000 --threads 8
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICK


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--database", default="dancu_exchange")
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=1, help="direct/gateway pairs, alternated")
    ap.add_argument("--parts", action="store_true", help="also time the parts in one thread")
    ap.add_argument("--cprofile", type=int, default=0, help="cProfile this many exchanges (one thread)")
    args = ap.parse_args()

    os.environ["DATABASE_URL"] = f"{args.server}/{args.database}"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-0123456789abcdef")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dancu.settings")
    sys.path.insert(0, os.environ.get("DANCU_PROFILE_SRC", str(ROOT / "src")))  # another tree: before/after
    sys.path.insert(0, str(ROOT / "bench"))
    import django

    django.setup()
    import psycopg
    from django.db import connection

    from dancu.blocks.audit.context import AccessContext
    from dancu.blocks.exchange import gateway
    from dancu.blocks.exchange import services as ex
    from dancu.blocks.exchange.models import Grant
    from dancu.blocks.registry.models import Citizen
    from dancu.blocks.registry.services import get_by_id_number

    grant = Grant.objects.select_related("client__member", "service__subsystem__member").get(
        client__code="TIEPNHAN", service__code="citizen", status="approved"
    )
    client, service = grant.client, grant.service
    from dancu.blocks.audit.context import Actor

    token = ex.issue_credential(Actor.system("bench"), client).token
    ctx = AccessContext(
        actor=gateway._actor(client, grant, "bench.official"), purpose="public_service.processing"
    )
    ids = list(Citizen.objects.values_list("id_number", flat=True)[: args.calls])
    headers = {
        "information-mediator-client": client.identifier,
        "authorization": f"Bearer {token}",
        "x-purpose": "public_service.processing",
        "x-end-user": "bench.official",
    }
    stamp = f"p{int(time.time())}-"
    counter = iter(range(10**9))

    def exchange(n: str) -> None:
        r = gateway.handle(
            gateway.ExchangeRequest(
                service.identifier, n, "GET", "", b"", {**headers, "x-request-id": f"{stamp}{next(counter)}"}
            )
        )
        if r.status != 200:
            raise SystemExit(f"exchange failed: {r.status} {r.body}")

    def direct(n: str) -> None:
        get_by_id_number(ctx, n)

    def backends() -> list[int]:
        with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
            rows = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (args.database,)
            ).fetchall()
        return [int(r[0]) for r in rows]

    def run(call: Callable[[str], None], threads: int, work: list[str]) -> dict[str, float]:
        chunks = [work[i::threads] for i in range(threads)]
        errors: list[BaseException] = []

        def worker(items: list[str]) -> None:
            try:
                for item in items:
                    call(item)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        for item in work[:20]:  # warm: lanes opened, statements prepared, routes cached
            call(item)
        pids = backends()
        b0, c0, t0 = _backend_cpu(pids), time.process_time(), time.perf_counter()
        pool = [threading.Thread(target=worker, args=(c,)) for c in chunks]
        for th in pool:
            th.start()
        for th in pool:
            th.join()
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        backend = _backend_cpu(pids) - b0
        if errors:
            raise SystemExit(f"a call failed: {errors[0]}")
        n = len(work)
        return {
            "per_s": round(n / wall),
            "client_us": round(cpu / n * 1e6),
            "backend_us": round(backend / n * 1e6),
            "total_cpu_us": round((cpu + backend) / n * 1e6),
        }

    out: dict[str, Any] = {
        "database": args.database,
        "calls": args.calls,
        "threads": args.threads,
        "code": str(Path(gateway.__file__).parents[3]),
        "rounds": [],
    }
    print(json.dumps({k: v for k, v in out.items() if k != "rounds"}), flush=True)
    for _ in range(args.rounds):
        load = os.getloadavg()[0]
        d = run(direct, args.threads, ids)
        g = run(exchange, args.threads, ids)
        row = {
            "direct": d,
            "exchange": g,
            "ratio": round(g["per_s"] / d["per_s"], 3),
            "cpu_ratio": round(d["total_cpu_us"] / g["total_cpu_us"], 3),
            "load_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
        }
        out["rounds"].append(row)
        print(json.dumps(row), flush=True)

    if args.cprofile:
        import cProfile
        import pstats

        for item in ids[:20]:
            exchange(item)
        prof = cProfile.Profile(time.thread_time)
        prof.enable()
        for item in ids[: args.cprofile]:
            exchange(item)
        prof.disable()
        pstats.Stats(prof).sort_stats(os.environ.get("DANCU_PROFILE_SORT", "tottime")).print_stats(60)
    if args.parts:
        out["parts_us"] = _parts(exchange, ids)
        for name, us in out["parts_us"].items():
            print(f"{us:8.1f}  {name}")
    print(json.dumps({k: v for k, v in out.items() if k != "rounds"}) if args.parts else "")


def _parts(exchange: Callable[[str], None], ids: list[str]) -> dict[str, float]:
    """µs of the thread's CPU per exchange in each wrapped step (one thread)."""
    from dancu.blocks.exchange import crypto, fast, gateway
    from dancu.blocks.registry import pg_read

    spent: dict[str, float] = defaultdict(float)

    def wrap(owner: Any, name: str, label: str) -> None:
        real = getattr(owner, name, None)
        if real is None:  # a step the measured code does not have (an older tree)
            return

        def timed(*a: Any, **k: Any) -> Any:
            t = time.thread_time()
            try:
                return real(*a, **k)
            finally:
                spent[label] += time.thread_time() - t

        setattr(owner, name, timed)

    plan = [
        (gateway, "handle", "handle (all)"),
        (gateway, "_request_doc", "  request document"),
        (gateway, "parse_headers", "  headers"),
        (fast, "route", "  route (cached grants)"),
        (gateway, "authenticate", "  authenticate (credential digest)"),
        (gateway, "find_grant", "  grant check"),
        (gateway, "_fingerprint", "  fingerprint (canonical + SHA-256)"),
        (gateway, "_actor", "  actor"),
        (fast, "submit", "  group (submit → commit)"),
        (gateway, "_forward", "    provider answer + field filter"),
        (gateway, "_signed_columns", "    sign and build the log row"),
        (crypto, "canonical", "      canonical JSON (all calls)"),
        (crypto, "sign", "      Ed25519 sign (all calls)"),
        (crypto, "sha256_hex", "      SHA-256 (all calls)"),
        (fast, "_rows_json", "    rows JSON"),
        (fast, "run_group", "    run_group (all)"),
        (pg_read, "run_batch", "      look-up statement in the pipeline (older code)"),
        (fast, "_send", "      round trips (send, wait, load rows)"),
        (fast, "_prepare", "      prepare check"),
        (pg_read, "requests_json", "      look-up requests JSON"),
        (pg_read, "outcomes_of", "      look-up outcomes"),
        (fast, "_literal", "      literals"),
        (gateway, "_response", "  response"),
    ]
    saved = [(o, n, getattr(o, n)) for o, n, _ in plan if hasattr(o, n)]
    for owner, name, label in plan:
        wrap(owner, name, label)
    for item in ids[:50]:
        exchange(item)
    spent.clear()
    n = len(ids)
    t = time.thread_time()
    for item in ids:
        exchange(item)
    total = time.thread_time() - t
    for owner, name, real in saved:
        setattr(owner, name, real)
    result = {label: round(spent[label] / n * 1e6, 1) for _, _, label in plan}
    result["thread CPU per exchange (with wrappers)"] = round(total / n * 1e6, 1)
    return result


if __name__ == "__main__":
    main()
