"""Benchmark: signed and logged exchanges through the data exchange gateway (issue 5).

Target: on 2 cores, ≥ 1,000 signed and logged exchanges/s through the gateway for an in-process
registry service, ≥ 50 % of the throughput of calling the same service directly measured in the
same run, added p50 latency ≤ 2 ms.

What one exchange is: ``dancu.blocks.exchange.gateway.handle`` for BHXH Hà Nội's subsystem calling
the registry's ``citizen`` service with purpose ``public_service.processing`` — header parsing,
client authentication (credential digest), grant check, idempotency check, the registry's
look-up with its audit event, field filtering, two Ed25519 signatures, the message log row with
its tracker (subject) rows, committed before the answer (durably by default,
``DANCU_EXCHANGE_DURABLE_COMMIT``). On PostgreSQL this is the fast path (ADR 0010 §13: cached
routes, group transactions on ``DANCU_EXCHANGE_LANES`` connections). What one direct call is: the
same ``get_by_id_number`` with the same ``AccessContext`` (the registry's own coalesced statement,
ADR 0006). Both run in ``--threads`` threads of one process against PostgreSQL on the same
machine (HTTP parsing is not included in either). The 1-minute load average is recorded at the
start and the end of each row (the machine may be shared).

    .venv/bin/python bench/exchange_bench.py                       # 20,000 citizens in dancu_exchange
    .venv/bin/python bench/exchange_bench.py --calls 20000 --threads 1,4,8,32 --reuse
    DANCU_EXCHANGE_DURABLE_COMMIT=false .venv/bin/python bench/exchange_bench.py --reuse   # async commit
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pg_config
from _machine import machine

ROOT = Path(__file__).resolve().parents[1]


def _run(threads: int, work: list[Any], call: Callable[[Any], object]) -> tuple[float, list[float]]:
    """Spread ``work`` over ``threads`` threads; (seconds, per-call latencies)."""
    from django.db import connection

    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    chunks = [work[i::threads] for i in range(threads)]

    def worker(items: list[Any]) -> None:
        mine = []
        try:
            for item in items:
                t = time.perf_counter()
                call(item)
                mine.append(time.perf_counter() - t)
        except BaseException as exc:  # a thread's SystemExit would vanish: reported after the join
            errors.append(exc)
        finally:
            connection.close()
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    t0 = time.perf_counter()
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    if errors:
        raise SystemExit(f"a call failed: {errors[0]}")
    return time.perf_counter() - t0, latencies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--database", default="dancu_exchange")
    ap.add_argument("--citizens", type=int, default=20_000)
    ap.add_argument("--calls", type=int, default=5_000)
    ap.add_argument("--threads", type=lambda v: [int(x) for x in v.split(",")], default=[1, 4, 8])
    ap.add_argument("--reuse", action="store_true")
    args = ap.parse_args()

    os.environ["DATABASE_URL"] = f"{args.server}/{args.database}"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-0123456789abcdef")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dancu.settings")
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
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    call_command("load_adminunits", verbosity=0)
    from dancu.blocks.registry.models import Citizen

    if not Citizen.objects.exists():
        call_command("seed", citizens=args.citizens, seed=2026, province="01")

    from dancu.blocks.audit.context import AccessContext, Actor
    from dancu.blocks.exchange import gateway
    from dancu.blocks.exchange import services as ex
    from dancu.blocks.exchange.models import Grant, Member, Subsystem
    from dancu.blocks.organisations.models import Organisation
    from dancu.blocks.registry.services import get_by_id_number

    system = Actor.system("bench")
    police, _ = Organisation.objects.get_or_create(
        code="CA-HN",
        defaults={
            "name": "Công an thành phố Hà Nội",
            "kind": "police_city",
            "jurisdiction_province_code": "01",
        },
    )
    bhxh_org, _ = Organisation.objects.get_or_create(
        code="BHXH-HN",
        defaults={"name": "BHXH Hà Nội", "kind": "department", "jurisdiction_province_code": "01"},
    )

    def member(org: Organisation) -> Member:
        return Member.objects.filter(member_code=org.code).first() or ex.create_member(
            system, member_class="GOV", member_code=org.code, name=org.name, organisation=org
        )

    def subsystem(m: Member, code: str) -> Subsystem:
        return Subsystem.objects.filter(member=m, code=code).first() or ex.create_subsystem(
            system, m, code=code, name=code
        )

    registry = subsystem(member(police), "DANCU-REGISTRY")
    client = subsystem(member(bhxh_org), "TIEPNHAN")
    service = {s.code: s for s in ex.publish_registry_services(system, registry)}["citizen"]
    fields = ["id_number", "full_name", "date_of_birth", "sex", "life_status"]
    grant = Grant.objects.filter(client=client, service=service, status="approved").first()
    if grant is None:
        now = timezone.now()
        grant = ex.approve_grant(
            system,
            ex.request_grant(
                system,
                client=client,
                service=service,
                purposes={"public_service.processing": fields},
                legal_basis="bench",
                valid_from=now - timedelta(minutes=1),
                valid_until=now + timedelta(days=1),
            ).pk,
        )
    token = ex.issue_credential(system, client).token
    ctx = AccessContext(
        actor=gateway._actor(client, grant, "bench.official"), purpose="public_service.processing"
    )

    ids = list(Citizen.objects.values_list("id_number", flat=True)[: args.calls])
    rng = random.Random(5)
    headers = {
        "information-mediator-client": client.identifier,
        "authorization": f"Bearer {token}",
        "x-purpose": "public_service.processing",
        "x-end-user": "bench.official",
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    runs = []
    for threads in args.threads:
        load_start = os.getloadavg()[0]
        work = [rng.choice(ids) for _ in range(args.calls)]
        direct_s, direct_lat = _run(threads, work, lambda n: get_by_id_number(ctx, n))
        prefix = f"b{stamp}-{threads}-"
        counter = iter(range(10**9))

        def exchange(n: str, prefix: str = prefix, counter: Any = counter) -> None:
            r = gateway.handle(
                gateway.ExchangeRequest(
                    service.identifier,
                    n,
                    "GET",
                    "",
                    b"",
                    {**headers, "x-request-id": f"{prefix}{next(counter)}"},
                )
            )
            if r.status != 200:
                raise SystemExit(f"exchange failed: {r.status} {r.body}")

        gw_s, gw_lat = _run(threads, work, exchange)
        row = {
            "threads": threads,
            "direct_per_s": round(args.calls / direct_s),
            "exchange_per_s": round(args.calls / gw_s),
            "ratio": round(direct_s / gw_s, 3),
            "direct_p50_ms": round(statistics.median(direct_lat) * 1e3, 3),
            "exchange_p50_ms": round(statistics.median(gw_lat) * 1e3, 3),
            "added_p50_ms": round((statistics.median(gw_lat) - statistics.median(direct_lat)) * 1e3, 3),
            "load_1min_start": round(load_start, 2),
            "load_1min_end": round(os.getloadavg()[0], 2),
        }
        runs.append(row)
        print(json.dumps(row))
    m = machine()
    out = {
        "benchmark": "exchange",
        "at": stamp,
        "calls": args.calls,
        "citizens": Citizen.objects.count(),
        "durable_commit": bool(settings.DANCU_EXCHANGE_DURABLE_COMMIT),
        "exchange_lanes": int(settings.DANCU_EXCHANGE_LANES),
        "lookup_lanes": int(settings.DANCU_LOOKUP_LANES),
        "machine": {"cpu": m.cpu, "nproc": m.nproc, "python": m.python, "load": m.load_text},
        "postgres": pg_config.settings(args.server),
        "runs": runs,
    }
    path = ROOT / "bench" / "results" / f"exchange-{stamp}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"written {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
