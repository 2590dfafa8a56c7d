"""Benchmark: yes/no identity verification by card QR over HTTP, against an empty endpoint.

Target (issue 3): on a 2-core machine with 8.5 M citizens in PostgreSQL, ``POST
/api/v1/identity/verify`` (card QR, ``yes_no`` mode) ≥ 2,000 requests/s with p99 ≤ 20 ms, and
≥ 70 % of the throughput of an empty endpoint of the same stack measured in the same run.

What runs, all on 127.0.0.1 of the one machine:

* the project's WSGI application (``dancu.wsgi``) under uWSGI (ADR 0023; or gunicorn), DEBUG
  off, ``ALLOWED_HOSTS=127.0.0.1``, the production settings module ``dancu.settings``;
* PostgreSQL with the citizens (database ``dancu_lookup``, loaded by ``seed_bench.py --full
  --keep-full dancu_lookup``; migrated here if needed, never dropped);
* ``wrk`` (Debian package) as the load generator, one thread, closed loop, with a Lua script.

The empty endpoint is ``POST /api/v1/identity/ping``: on PostgreSQL both endpoints are served by
the same WSGI dispatch ahead of Django's middleware (``identity.fasthttp``, ADR 0014), with the
same API-key cache (the database is asked once per key every 2 s per process) and the same rate
limiter; ping answers ``{"ok": true}``. Verify runs the one prepared statement of
``identity.pg_verify`` (every sampled QR is an exact match, so no request takes the ORM path).
Each verify request is a QR of a different random citizen (random primary keys across the whole
table, the citizen's latest card, valid and unexpired), with a **unique** ``request_id``
(required by the API), so every request also stores its answer for idempotent replays, writes
the audit event and the receipt, screens the alert list, and commits (asynchronously, ADR 0014
§7) — exactly what a hospital's system causes. The runs alternate (empty, verify, empty, verify, …) at each
concurrency after one discarded warm-up of each; the ratio is verify ÷ empty of the same round.

The rate limit is raised for the run (``DANCU_API_RATE_PER_MINUTE`` and ``DANCU_API_BURST``
10,000,000, the maximum the settings accept) and kept per process in ``ratelimit.ProcessCache``
(``LocMemCache``, no ``CACHE_URL``): each worker has its own bucket, so the limit never refuses a
request here. (Until 2026-12-03 the maximum was 100,000 a minute: the empty endpoint's 10,000
requests a second emptied a 100,000-token bucket within its 20 s, and the cheap 429s that followed
counted as errors and inflated its rate.) Every answer's decision is counted afterwards
from the receipts (``identity_verificationrecord``) of the run: all must be ``match``; every
non-2xx counts as an error.

Clean-up: at the end of the run — also after a failure or Ctrl-C — ``cleanup_run`` deletes exactly
the rows the run added: its receipts (request ids ``vb<start>-…``), their audit events and alert
hits (audit events only while unsealed, ADR 0004; a sealed one is kept and counted), and the run's
API key. ``--keep`` keeps them.

    .venv/bin/python bench/verify_http_bench.py                       # defaults below
    .venv/bin/python bench/verify_http_bench.py --connections 8,16,32 --workers 2 --threads 8
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _machine import cpu_seconds, machine, pids_of
from _setup import free_port, server_match, start_server, wsgi_server

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
VENV_BIN = Path(sys.executable).parent
SECRET = "benchmark-only-secret-key-0123456789abcdef-verify-http"  # noqa: S105 — loopback benchmark
ORG_CODE = "BENCH-CLINIC"
KEY_NAME = "verify-http-bench"
TARGET = {"per_second": 2000, "p99_ms": 20.0, "ratio": 0.70}

# --------------------------------------------------------------------------- wrk scripts
_LUA_COMMON = r"""
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,'
    .. '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,'
    .. '"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
"""

_LUA_PING = _LUA_COMMON

# One body per request: the next QR text of the list (each thread starts elsewhere) and a request
# id unique to the run, the thread and the request: "<tag>-<thread>-<n>".
_LUA_VERIFY = (
    _LUA_COMMON
    + r"""
wrk.headers["Content-Type"] = "application/json"
local texts = {}
local n = 0
local tag = os.getenv("BENCH_TAG")
local counter = 0
for line in io.lines(os.getenv("BENCH_QR_FILE")) do texts[#texts + 1] = line end
local next_thread = 0

function setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  n = ((thread_id or 0) * 7919) % #texts
end

function request()
  n = n % #texts + 1
  counter = counter + 1
  local body = '{"request_id":"' .. tag .. '-' .. thread_id .. '-' .. counter
    .. '","purpose":"identity.verification","mode":"yes_no","evidence":{"kind":"qr","text":'
    .. texts[n] .. '}}'
  return wrk.format(nil, nil, nil, body)
end
"""
)


# --------------------------------------------------------------------------- setup
def _django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["SECRET_KEY"] = SECRET
    os.environ["DJANGO_SETTINGS_MODULE"] = "dancu.settings"
    sys.path.insert(0, str(SRC))
    import django

    django.setup()
    from django.core.management import call_command

    # The tables the verification touches (and what they depend on), if missing; other apps'
    # migrations are not the benchmark's business.
    for app in ("registry", "organisations", "audit", "alerts", "identity"):
        call_command("migrate", app, verbosity=0)


def _sample_qr_texts(count: int, seed: int) -> tuple[list[str], int]:
    """QR texts of ``count`` random citizens (random primary keys) alive, born on a known day, whose
    latest card is valid and unexpired; each checked with ``parse_card_qr``. Returns the texts and
    how many sampled citizens were skipped (no such card, or a record no card QR could show)."""
    from django.db import connection
    from django.utils import timezone

    from dancu.blocks.identity.qr import CardQr, parse_card_qr
    from dancu.errors import DomainValidationError

    today = timezone.localdate()
    with connection.cursor() as cur:
        cur.execute("SELECT min(id), max(id) FROM registry_citizen")
        lo, hi = cur.fetchone()
    rng = random.Random(seed)
    texts: list[str] = []
    seen: set[int] = set()
    skipped = 0
    while len(texts) < count:
        wanted = [rng.randint(lo, hi) for _ in range(min(5000, 2 * (count - len(texts))))]
        wanted = [pk for pk in wanted if pk not in seen]
        seen.update(wanted)
        with connection.cursor() as cur:
            cur.execute(
                """
                SELECT c.id_number, c.full_name, c.date_of_birth, c.dob_precision, c.sex,
                       c.permanent_address_text, c.life_status, k.kind, k.issued_on, k.expires_on,
                       k.status,
                       (SELECT o.number FROM registry_oldidnumber o WHERE o.citizen_id = c.id
                        ORDER BY o.id LIMIT 1)
                  FROM registry_citizen c
                  LEFT JOIN LATERAL (
                       SELECT kind, issued_on, expires_on, status FROM registry_identitycard i
                        WHERE i.citizen_id = c.id ORDER BY i.issued_on DESC, i.id DESC LIMIT 1
                  ) k ON true
                 WHERE c.id = ANY(%s)
                """,
                [wanted],
            )
            rows = cur.fetchall()
        for id_number, name, dob, precision, sex, address, life, kind, issued, expires, status, old in rows:
            usable = (
                kind in ("cccd_chip", "can_cuoc")
                and status == "valid"
                and (expires is None or expires >= today)
                and life == "alive"
                and precision == "day"
            )
            if not usable:
                skipped += 1
                continue
            qr_kind = "cccd_2021" if kind == "cccd_chip" else "cancuoc_2024"
            card = None
            for old_number in [old, ""] if old else [""]:
                try:
                    card = CardQr(
                        kind=qr_kind,
                        id_number=id_number,
                        old_id_number=old_number,
                        full_name=name,
                        date_of_birth=dob,
                        sex=sex,
                        address=" ".join(address.split()),
                        issue_date=issued,
                    )
                    break
                except DomainValidationError:
                    continue
            if card is None:
                skipped += 1
                continue
            assert parse_card_qr(card.text, reference=today) == card, card.text
            texts.append(card.text)
            if len(texts) == count:
                break
    return texts, skipped


def _api_key() -> tuple[str, int, int]:
    """A clinic (hospital) organisation and a fresh API key for it; earlier benchmark keys are
    revoked. Returns the token, the key id and the organisation id."""
    from dancu.blocks.organisations.models import ApiKey, Organisation
    from dancu.blocks.organisations.services import issue_api_key

    org, _ = Organisation.objects.get_or_create(
        code=ORG_CODE, defaults={"name": "Bệnh viện Benchmark (HTTP verify)", "kind": "clinic"}
    )
    ApiKey.objects.filter(organisation=org, name=KEY_NAME, revoked_at__isnull=True).update(
        revoked_at=datetime.now(UTC)
    )
    issued = issue_api_key(org, KEY_NAME, created_by="bench/verify_http_bench.py")
    return issued.token, issued.key_id, org.pk


def _decisions(org_id: int, tag: str) -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT decision, count(*) FROM identity_verificationrecord "
            "WHERE organisation_id = %s AND request_id LIKE %s GROUP BY decision",
            [org_id, tag + "-%"],
        )
        return dict(cur.fetchall())


def _event_marker() -> int:
    """The newest audit event id now: the run's events all come after it (ids only grow)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM audit_auditevent")
        return int(cur.fetchone()[0])


def cleanup_run(org_id: int, key_id: int | None, tag: str, marker: int) -> dict[str, int]:
    """Delete exactly what a run added: its receipts (request ids ``<tag>-…``), the audit events
    after ``marker`` that name one of them (the ``identity.verify`` event, and the ``alerts.hit``
    event of a police alert, filed in the police unit's name), any other event of the bench's
    organisation after ``marker`` that names no receipt (a refusal), the alert hits of those
    receipts and the run's API key (``key_id``). Audit events are deleted only while unsealed
    (``hash = ''``): the sealer (ADR 0004) has not yet linked them, so the chain and its
    checkpoints do not know them; a sealed event is kept (deleting it would break
    ``verify_chain``) and counted as ``audit events left (sealed)``. One transaction."""
    from django.db import connection, transaction

    p = {"org": org_id, "like": tag + "-%", "marker": marker, "key": key_id}
    receipts = (
        "SELECT receipt_id::text FROM identity_verificationrecord "
        "WHERE organisation_id = %(org)s AND request_id LIKE %(like)s"
    )
    ours = (
        f"id > %(marker)s AND (detail->>'receipt' IN ({receipts}) "
        "OR (organisation_id = %(org)s AND NOT detail ? 'receipt'))"
    )
    statements = {
        "audit events (unsealed)": f"DELETE FROM audit_auditevent WHERE hash = '' AND {ours}",  # noqa: S608
        "alert hits": f"DELETE FROM alerts_alerthit WHERE receipt_id IN ({receipts})",  # noqa: S608
        "verification receipts": "DELETE FROM identity_verificationrecord "
        "WHERE organisation_id = %(org)s AND request_id LIKE %(like)s",
        "api keys": "DELETE FROM organisations_apikey WHERE id = %(key)s AND organisation_id = %(org)s",
    }
    deleted: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM audit_auditevent WHERE hash <> '' AND {ours}", p)  # noqa: S608
        deleted["audit events left (sealed)"] = int(cur.fetchone()[0])
        for name, sql in statements.items():
            cur.execute(sql, p)
            deleted[name] = cur.rowcount
    return deleted


def _postgres_info() -> dict[str, Any]:
    """The server's settings (``pg_config.describe``: production or defaults) and its
    ``max_connections``."""
    from django.db import connection

    from pg_config import describe

    with connection.cursor() as cur:

        def current(name: str) -> str:
            cur.execute("SELECT current_setting(%s)", [name])
            return str(cur.fetchone()[0])

        return {**describe(current), "max_connections": current("max_connections")}


# --------------------------------------------------------------------------- server
def _start_server(url: str, port: int, workers: int, threads: int, log: Path) -> subprocess.Popen[bytes]:
    """The server of the verification and residence benchmarks: the API's rate limit lifted (it
    would refuse a benchmark)."""
    return start_server(
        url,
        SECRET,
        port,
        workers,
        threads,
        log,
        DANCU_API_RATE_PER_MINUTE="10000000",
        DANCU_API_BURST="10000000",
    )


def _call(port: int, path: str, token: str, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else b""
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 — workers may still be booting on a loaded machine
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


# --------------------------------------------------------------------------- load
def _wrk(
    port: int, endpoint: str, script: Path, connections: int, seconds: int, env: dict[str, str]
) -> dict[str, Any]:
    path = "/api/v1/identity/ping" if endpoint == "empty" else "/api/v1/identity/verify"
    server_pids, pg_pids = pids_of(server_match()), pids_of(b"postgres")
    server0, pg0 = cpu_seconds(server_pids), cpu_seconds(pg_pids)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency",
        "-s", str(script), f"http://127.0.0.1:{port}{path}",
    ]  # fmt: skip
    out = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu, pg_cpu = cpu_seconds(server_pids) - server0, cpu_seconds(pg_pids) - pg0
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    raw = json.loads(line.removeprefix("WRKJSON "))
    n = raw["requests"]
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    wrk_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    return {
        "endpoint": endpoint,
        "connections": connections,
        "seconds": round(raw["duration_us"] / 1e6, 2),
        "requests": n,
        "per_second": round(n / (raw["duration_us"] / 1e6), 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "p999_ms": raw["p999_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "mean_ms": round(raw["mean_us"] / 1000, 3),
        "non_2xx": raw["status"],
        "socket_errors": errors - raw["status"],
        "server_cpu_us_per_request": round(server_cpu / max(n, 1) * 1e6, 1),
        # None when PostgreSQL processes ended during the run (their CPU time leaves the sum)
        "postgres_cpu_us_per_request": round(pg_cpu / max(n, 1) * 1e6, 1) if pg_cpu >= 0 else None,
        "wrk_cpu_us_per_request": round(wrk_cpu / max(n, 1) * 1e6, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    ap.add_argument("--database", default="dancu_lookup")
    ap.add_argument("--qr", type=int, default=20_000, help="distinct citizens (QR texts) to cycle through")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2, help="server worker processes")
    ap.add_argument("--threads", type=int, default=8, help="server threads per worker")
    ap.add_argument(
        "--connections",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[16],
        help="wrk connections (concurrent clients), comma-separated; each gets its own rounds",
    )
    ap.add_argument("--rounds", type=int, default=2, help="empty+verify pairs per concurrency")
    ap.add_argument("--duration", type=int, default=20, help="seconds per measured run")
    ap.add_argument("--warmup", type=int, default=5, help="seconds of discarded warm-up per endpoint")
    ap.add_argument("--json", type=Path, help="result file (default bench/results/verify-http-<date>.json)")
    ap.add_argument("--keep", action="store_true", help="keep the run's receipts, events and key")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")

    url = f"{args.server}/{args.database}"
    _django(url)
    from django.db import connection

    from dancu.blocks.registry.models import Citizen

    citizens = Citizen.objects.count()
    t0 = time.perf_counter()
    texts, skipped = _sample_qr_texts(args.qr, args.seed)
    print(f"{len(texts)} QR texts of random citizens ({skipped} sampled skipped) "
          f"in {time.perf_counter() - t0:.1f} s; {citizens:,} citizens", flush=True)  # fmt: skip
    started = datetime.now(UTC)
    run_tag = f"vb{started:%Y%m%dT%H%M%S}"
    marker = _event_marker()  # before the key: everything the run writes comes after it
    token, key_id, org_id = _api_key()
    pg = _postgres_info()
    connection.close()
    try:
        _measure(args, url, texts, skipped, citizens, pg, token, org_id, started, run_tag)
    finally:  # also on Ctrl-C or a failed run: the rows the run added go
        if args.keep:
            print(f"kept the run's rows (request ids {run_tag}-…, audit events after id {marker})")
        else:
            cleaned = cleanup_run(org_id, key_id, run_tag, marker)
            print(f"cleaned up: {cleaned}", flush=True)


def _measure(
    args: argparse.Namespace,
    url: str,
    texts: list[str],
    skipped: int,
    citizens: int,
    pg: dict[str, str],
    token: str,
    org_id: int,
    started: datetime,
    run_tag: str,
) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="verify-http-bench-"))
    qr_file = tmp / "qr.txt"
    qr_file.write_text("\n".join(json.dumps(t, ensure_ascii=False) for t in texts) + "\n", encoding="utf-8")
    ping_lua, verify_lua = tmp / "ping.lua", tmp / "verify.lua"
    ping_lua.write_text(_LUA_PING)
    verify_lua.write_text(_LUA_VERIFY)
    port = free_port()
    server = _start_server(url, port, args.workers, args.threads, tmp / "server.log")
    runs: list[dict[str, Any]] = []
    try:
        status, answer = _call(port, "/api/v1/identity/ping", token, None)
        assert (status, answer) == (200, {"ok": True}), (status, answer)
        sample = {
            "request_id": f"{run_tag}-sample",
            "purpose": "identity.verification",
            "mode": "yes_no",
            "evidence": {"kind": "qr", "text": texts[0]},
        }
        status, answer = _call(port, "/api/v1/identity/verify", token, sample)
        assert status == 200 and answer["decision"] == "match", (status, answer)
        print(f"sample answer: {json.dumps(answer, ensure_ascii=False)}", flush=True)

        counter = 0

        def run(endpoint: str, connections: int, seconds: int) -> dict[str, Any]:
            nonlocal counter
            counter += 1
            env = {"BENCH_TOKEN": token, "BENCH_TAG": f"{run_tag}-{counter}", "BENCH_QR_FILE": str(qr_file)}
            script = ping_lua if endpoint == "empty" else verify_lua
            return _wrk(port, endpoint, script, connections, seconds, env)

        for connections in args.connections:
            for endpoint in ("empty", "verify"):  # warm-up, discarded
                run(endpoint, connections, args.warmup)
            for rnd in range(1, args.rounds + 1):
                pair = []
                for endpoint in ("empty", "verify"):
                    r = run(endpoint, connections, args.duration)
                    r["round"] = rnd
                    pair.append(r)
                    runs.append(r)
                    print(
                        f"c={connections:>3} round {rnd} {endpoint:>6}: {r['per_second']:>8,.1f}/s  "
                        f"p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  max {r['max_ms']:.1f} ms  "
                        f"non-2xx {r['non_2xx']}  socket errors {r['socket_errors']}  CPU/request: "
                        f"server {r['server_cpu_us_per_request']:.0f} µs, PostgreSQL "
                        f"{r['postgres_cpu_us_per_request'] or '?'} µs, "
                        f"wrk {r['wrk_cpu_us_per_request']:.0f} µs",
                        flush=True,
                    )
                pair[1]["ratio_to_empty"] = round(pair[1]["per_second"] / pair[0]["per_second"], 3)
                print(f"c={connections:>3} round {rnd} ratio verify/empty: {pair[1]['ratio_to_empty']:.1%}")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        server_log = (tmp / "server.log").read_text(errors="replace")[-2000:]
        shutil.rmtree(tmp, ignore_errors=True)

    decisions = _decisions(org_id, run_tag)
    by_conn: dict[int, dict[str, Any]] = {}
    for c in args.connections:
        ours = [r for r in runs if r["connections"] == c]
        v = [r for r in ours if r["endpoint"] == "verify"]
        e = [r for r in ours if r["endpoint"] == "empty"]
        v_rate = sum(r["requests"] for r in v) / sum(r["seconds"] for r in v)
        e_rate = sum(r["requests"] for r in e) / sum(r["seconds"] for r in e)
        by_conn[c] = {
            "verify_per_second": round(v_rate, 1),
            "empty_per_second": round(e_rate, 1),
            "ratio": round(v_rate / e_rate, 3),
            "verify_p99_ms_worst": max(r["p99_ms"] for r in v),
            "errors": sum(r["non_2xx"] + r["socket_errors"] for r in ours),
        }
    all_match = set(decisions) == {"match"}
    errors = sum(r["non_2xx"] + r["socket_errors"] for r in runs)
    passing = [
        c
        for c, s in by_conn.items()
        if s["verify_per_second"] >= TARGET["per_second"]
        and s["verify_p99_ms_worst"] <= TARGET["p99_ms"]
        and s["ratio"] >= TARGET["ratio"]
        and s["errors"] == 0
    ]
    # The rate and p99 targets on their own (the ratio is a separate target of the issue): which
    # concurrencies reach ≥ 2,000/s with p99 ≤ 20 ms, whatever the empty endpoint did.
    rate_and_p99 = [
        c
        for c, s in by_conn.items()
        if s["verify_per_second"] >= TARGET["per_second"]
        and s["verify_p99_ms_worst"] <= TARGET["p99_ms"]
        and s["errors"] == 0
    ]
    result = {
        "date": started.isoformat(timespec="seconds"),
        "machine": asdict(machine()),
        "postgres": pg,
        "citizens": citizens,
        "qr_texts": len(texts),
        "qr_sampled_skipped": skipped,
        "server": {
            "wsgi_server": wsgi_server(),
            "command": (
                "uwsgi --ini docs/deploy/uwsgi.ini --http11-socket 127.0.0.1:<port> "
                f"--processes {args.workers} --threads {args.threads}"
                if wsgi_server() == "uwsgi"
                else f"gunicorn dancu.wsgi --bind 127.0.0.1:<port> --workers {args.workers} "
                f"--worker-class gthread --threads {args.threads} --backlog 2048"
            ),
            "settings": "dancu.settings, DEBUG=0, ALLOWED_HOSTS=127.0.0.1, CACHE_URL unset (per process), "
            "DANCU_API_RATE_PER_MINUTE=100000, DANCU_API_BURST=100000, CONN_MAX_AGE 60",
            "log_tail": server_log,
        },
        "load": f"wrk 1 thread, closed loop, {args.duration} s per run, {args.warmup} s warm-up per "
        "endpoint and concurrency (discarded); verify bodies cycle through the QR texts, unique request_id",
        "runs": runs,
        "summary_by_connections": by_conn,
        "verify_decisions": decisions,
        "all_decisions_match": all_match,
        "errors": errors,
        "targets": TARGET,
        "meets_targets": bool(passing) and all_match,
        "passing_connections": passing,
        "rate_and_p99_connections": rate_and_p99,
    }
    out = args.json or ROOT / "bench" / "results" / f"verify-http-{started:%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print()
    for c, s in by_conn.items():
        print(
            f"c={c:>3}: verify {s['verify_per_second']:,.1f}/s "
            f"(worst p99 {s['verify_p99_ms_worst']:.2f} ms), "
            f"empty {s['empty_per_second']:,.1f}/s, ratio {s['ratio']:.1%}, errors {s['errors']}"
        )
    print(f"decisions of the run's verifications: {decisions}")
    verdict = "MET" if result["meets_targets"] else "NOT MET"
    print(
        f"targets ≥ {TARGET['per_second']}/s, p99 ≤ {TARGET['p99_ms']} ms, ratio ≥ {TARGET['ratio']:.0%}: "
        f"{verdict} (passing concurrencies: {passing}; ≥ {TARGET['per_second']}/s with p99 ≤ "
        f"{TARGET['p99_ms']} ms at: {rate_and_p99})"
    )
    print(f"written {out}")


if __name__ == "__main__":
    main()
