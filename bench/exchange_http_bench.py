"""Benchmark: the registry's "citizen by ID number" service called directly and through the
data-exchange gateway, both over the same HTTP stack, in the same run (issue 5).

The issue's ratio target (≥ 50 % of the throughput of calling the same service directly; "a
published X-Road deployment reached about 11 %") compares, as X-Road's measurements do, a client
calling the provider's service over HTTP with the same client calling it through the gateway.
``exchange_bench.py`` compares two *in-process* calls instead (``gateway.handle`` against the
registry's ``get_by_id_number``, no HTTP on either side) — a stricter measure, kept. This script
measures the HTTP form, with one server for both:

* **direct**: ``GET /api/v1/registry/citizens/{id}?purpose=public_service.processing`` — the
  registry's own API, as an official of BHXH Hà Nội (session log-in, the organisation's purposes
  and jurisdiction; the registry's audit event, committed asynchronously as every registry read,
  ADR 0005);
* **through the gateway**: ``GET /exchange/VN-HN/GOV/CA-HN/DANCU-REGISTRY/citizen/{id}`` — BHXH's
  subsystem with its credential, purpose and official (the headers of ADR 0010), the grant of
  ``exchange_bench.py`` (five fields): authenticated, checked, signed twice, logged with its
  tracker row and committed durably (by default) before the answer.

The server: the production settings under uWSGI (ADR 0023; or gunicorn), DEBUG off, the per-client
rate limit off (it would refuse a benchmark); clients: Python threads with keep-alive
``requests`` sessions on the same machine (they take CPU from the server on both sides alike).
The 1-minute load average is recorded at the start and end of each row.

    .venv/bin/python bench/exchange_bench.py --database dancu_exchange --calls 200 --threads 1  # seeds
    .venv/bin/python bench/exchange_http_bench.py --database dancu_exchange --calls 3000 --threads 4,16,32

``--client wrk`` replaces the Python clients by ``wrk`` (Debian package; one thread, closed loop,
``--threads`` connections, ``--duration`` seconds per side after ``--warmup`` seconds), so that the
rows measure the server rather than clients competing with it for the two cores: each request
names the next ID number of the list, and each exchange a request id unique to the run, the
connection's thread and the request. wrk's own CPU per request is recorded, as are the server's
and PostgreSQL's. The sides alternate per row (direct first in odd rows, the gateway first in
even ones), so a drifting host does not favour one side. A gateway answer without its
``X-Exchange-Signature`` header counts as an error.

    .venv/bin/python bench/exchange_http_bench.py --database dancu_exchange --client wrk --threads 8,16,32
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pg_config
from _machine import cpu_seconds, machine, pids_of
from _setup import free_port, server_match, start_django, start_server, wsgi_server

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SECRET = "benchmark-only-secret-key-0123456789abcdef"  # noqa: S105 — exchange_bench's, loopback only
PURPOSE = "public_service.processing"


def _session(user: Any) -> str:
    """A logged-in session of ``user`` in the session store; its key (the cookie's value)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return str(store.session_key)


def _actors() -> tuple[str, str, dict[str, str], list[str]]:
    """(service id, the official's session, the gateway headers, ID numbers) from the database
    ``exchange_bench.py`` seeded."""
    from django.contrib.auth import get_user_model

    from dancu.blocks.audit.context import Actor
    from dancu.blocks.exchange import services as ex
    from dancu.blocks.exchange.models import Grant, Service, Subsystem
    from dancu.blocks.organisations.models import Organisation
    from dancu.blocks.organisations.services import add_member
    from dancu.blocks.registry.models import Citizen

    client = Subsystem.objects.filter(member__member_code="BHXH-HN", code="TIEPNHAN").first()
    service = Service.objects.filter(subsystem__member__member_code="CA-HN", code="citizen").first()
    if client is None or service is None or not Grant.objects.filter(client=client, service=service).exists():
        raise SystemExit("run bench/exchange_bench.py on this database first (members, grant, citizens)")
    token = ex.issue_credential(Actor.system("bench"), client).token
    user, _ = get_user_model().objects.get_or_create(username="bench-bhxh-officer")
    add_member(user, Organisation.objects.get(code="BHXH-HN"), "officer")
    headers = {
        "Information-Mediator-Client": client.identifier,
        "Authorization": f"Bearer {token}",
        "X-Purpose": PURPOSE,
        "X-End-User": "bench.official",
    }
    ids = list(Citizen.objects.values_list("id_number", flat=True)[:20_000])
    return service.identifier, _session(user), headers, ids


# --------------------------------------------------------------------------- wrk
_LUA = r"""
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
local side = os.getenv("BENCH_SIDE")
local prefix = os.getenv("BENCH_PREFIX")
local suffix = os.getenv("BENCH_SUFFIX") or ""
local tag = os.getenv("BENCH_TAG")
local next_thread = 0
local n, counter, unsigned = 0, 0, 0

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  n = ((thread_id or 0) * 7919) % #ids
  wrk.headers["Connection"] = "keep-alive"
  for k, v in string.gmatch(os.getenv("BENCH_HEADERS"), "([^\n:]+): ([^\n]+)") do wrk.headers[k] = v end
end

function request()
  n = n % #ids + 1
  counter = counter + 1
  if side == "exchange" then  -- wrk.format takes the table given instead of wrk.headers
    wrk.headers["X-Request-Id"] = tag .. "-" .. thread_id .. "-" .. counter
  end
  return wrk.format("GET", prefix .. ids[n] .. suffix)
end

function response(status, headers, body)
  if side == "exchange" and status == 200 and headers["X-Exchange-Signature"] == nil then
    unsigned = unsigned + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,'
    .. '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def _wrk(base: str, connections: int, seconds: int, env: dict[str, str], script: Path) -> dict[str, Any]:
    """One wrk run; rates, latencies and the CPU of the server, PostgreSQL and wrk per request."""
    server_pids, pg_pids = pids_of(server_match()), pids_of(b"postgres")
    server0, pg0 = cpu_seconds(server_pids), cpu_seconds(pg_pids)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        base,
    ]
    done = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, check=True)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu, pg_cpu = cpu_seconds(server_pids) - server0, cpu_seconds(pg_pids) - pg0
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON "))
    raw = json.loads(line.removeprefix("WRKJSON "))
    n = raw["requests"]
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    wrk_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return {
        "requests": n,
        "per_second": round(n / (raw["duration_us"] / 1e6), 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": errors,
        "server_cpu_us_per_request": round(server_cpu / max(n, 1) * 1e6, 1),
        "postgres_cpu_us_per_request": round(pg_cpu / max(n, 1) * 1e6, 1) if pg_cpu >= 0 else None,
        "wrk_cpu_us_per_request": round(wrk_cpu / max(n, 1) * 1e6, 1),
    }


def _wrk_rows(
    base: str,
    service_id: str,
    session_key: str,
    headers: dict[str, str],
    ids: list[str],
    connections: list[int],
    seconds: int,
    warmup: int,
    stamp: str,
) -> list[dict[str, Any]]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: make wrk (apt-get install -y wrk)")
    tmp = Path(tempfile.mkdtemp(prefix="exchange-wrk-"))
    script, id_file = tmp / "exchange.lua", tmp / "ids.txt"
    script.write_text(_LUA)
    id_file.write_text("\n".join(random.Random(5).sample(ids, len(ids))) + "\n")
    sides = {
        "direct": {
            "BENCH_PREFIX": "/api/v1/registry/citizens/",
            "BENCH_SUFFIX": f"?purpose={PURPOSE}",
            "BENCH_HEADERS": f"Cookie: sessionid={session_key}\n",
        },
        "exchange": {
            "BENCH_PREFIX": f"/exchange/{service_id}/",
            "BENCH_SUFFIX": "",
            "BENCH_HEADERS": "".join(f"{k}: {v}\n" for k, v in headers.items()),
        },
    }
    rows = []
    for i, conns in enumerate(connections):
        order = ["direct", "exchange"] if i % 2 == 0 else ["exchange", "direct"]
        result: dict[str, Any] = {}
        load_start = os.getloadavg()[0]
        for side in order:
            env = {"BENCH_IDS": str(id_file), "BENCH_SIDE": side, **sides[side]}
            if warmup:
                _wrk(base, conns, warmup, {**env, "BENCH_TAG": f"w{stamp}-{conns}-{side}"}, script)
            result[side] = _wrk(base, conns, seconds, {**env, "BENCH_TAG": f"r{stamp}-{conns}"}, script)
        direct, gw = result["direct"], result["exchange"]
        row = {
            "connections": conns,
            "order": order,
            "direct": direct,
            "exchange": gw,
            "direct_per_s": direct["per_second"],
            "exchange_per_s": gw["per_second"],
            "ratio": round(gw["per_second"] / max(direct["per_second"], 1e-9), 3),
            "added_p50_ms": round(gw["p50_ms"] - direct["p50_ms"], 3),
            "load_1min_start": round(load_start, 2),
            "load_1min_end": round(os.getloadavg()[0], 2),
        }
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k not in ("direct", "exchange")}), flush=True)
    return rows


def _run(threads: int, work: list[str], make: Callable[[], Any], call: Callable[[Any, str], None]) -> Any:
    """``work`` over ``threads`` threads, each with its own keep-alive session: (s, latencies)."""
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(items: list[str]) -> None:
        http = make()
        mine = []
        try:
            for item in items:
                t = time.perf_counter()
                call(http, item)
                mine.append(time.perf_counter() - t)
        except BaseException as exc:  # reported after the join
            errors.append(exc)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(work[i::threads],)) for i in range(threads)]
    t0 = time.perf_counter()
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    if errors:
        raise SystemExit(f"a call failed ({getattr(call, '__name__', 'call')}): {errors[0]}")
    return time.perf_counter() - t0, latencies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--database", default="dancu_exchange")
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--threads", type=lambda v: [int(x) for x in v.split(",")], default=[4, 16, 32])
    ap.add_argument("--workers", type=int, default=2, help="server worker processes")
    ap.add_argument("--server-threads", type=int, default=8, help="server threads per worker")
    ap.add_argument("--client", choices=["python", "wrk"], default="python")
    ap.add_argument("--duration", type=int, default=15, help="wrk: seconds per side and row")
    ap.add_argument("--warmup", type=int, default=3, help="wrk: warm-up seconds per side and row")
    args = ap.parse_args()

    import requests

    url = f"{args.server}/{args.database}"
    start_django(url, SECRET)
    from django.conf import settings

    service_id, session_key, headers, ids = _actors()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="exchange-http-")) / "server.log"
    proc = start_server(
        url,
        SECRET,
        port,
        args.workers,
        args.server_threads,
        log,
        timeout=120,
        DANCU_EXCHANGE_RATE_PER_MINUTE="0",
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    counter = iter(range(10**9))
    lock = threading.Lock()

    def direct_session() -> Any:
        s = requests.Session()
        s.cookies.set("sessionid", session_key, domain="127.0.0.1", path="/")
        return s

    def direct(http: Any, number: str) -> None:
        r = http.get(f"{base}/api/v1/registry/citizens/{number}", params={"purpose": PURPOSE}, timeout=120)
        if r.status_code != 200:
            raise RuntimeError(f"direct {r.status_code}: {r.text[:300]}")

    def exchange(http: Any, number: str) -> None:
        with lock:
            n = next(counter)
        r = http.get(
            f"{base}/exchange/{service_id}/{number}",
            headers={**headers, "X-Request-Id": f"h{stamp}-{n}"},
            timeout=120,
        )
        if r.status_code != 200 or "X-Exchange-Signature" not in r.headers:
            raise RuntimeError(f"exchange {r.status_code}: {r.text[:300]}")

    rng = random.Random(5)

    def python_rows() -> list[dict[str, Any]]:
        rows = []
        warm = [rng.choice(ids) for _ in range(200)]
        _run(4, warm, direct_session, direct)
        _run(4, warm, requests.Session, exchange)
        for threads in args.threads:
            load_start = os.getloadavg()[0]
            work = [rng.choice(ids) for _ in range(args.calls)]
            direct_s, direct_lat = _run(threads, work, direct_session, direct)
            gw_s, gw_lat = _run(threads, work, requests.Session, exchange)
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
            rows.append(row)
            print(json.dumps(row), flush=True)
        return rows

    try:
        if args.client == "wrk":
            runs = _wrk_rows(
                base, service_id, session_key, headers, ids, args.threads, args.duration, args.warmup, stamp
            )
        else:
            runs = python_rows()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    m = machine()
    out = {
        "benchmark": "exchange-http",
        "client": args.client,
        "at": stamp,
        "calls": args.calls,
        "database": args.database,
        "server": {"wsgi_server": wsgi_server(), "workers": args.workers, "threads": args.server_threads},
        "durable_commit": bool(settings.DANCU_EXCHANGE_DURABLE_COMMIT),
        "exchange_lanes": int(settings.DANCU_EXCHANGE_LANES),
        "machine": {"cpu": m.cpu, "nproc": m.nproc, "python": m.python, "load": m.load_text},
        "postgres": pg_config.settings(args.server),
        "runs": runs,
    }
    suffix = "-wrk" if args.client == "wrk" else ""
    path = ROOT / "bench" / "results" / f"exchange-http{suffix}-{stamp}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"written {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
