"""Benchmark: residence notification (issue 6) over HTTP, against the population registry.

Targets (issue 6), on 2 cores with 8.5 M citizens in PostgreSQL:

* batch ingest ≥ 1,500 notifications/s, each verified against the registry and screened against
  the police alert list — ``POST /api/v1/residence/notifications/batch`` (500 rows a batch, one
  guest a row, card QR evidence); on PostgreSQL the set-based path of ADR 0018, ``--reference``
  runs the server with ``DANCU_FAST_RESIDENCE_BATCH=0`` (row by row);
* a single notification (``POST /api/v1/residence/notifications``) p99 ≤ 30 ms;
* an alert raised ≤ 2 s after the check-in that triggers it: from the moment the client sends the
  check-in of a listed person until the hit is in ``alerts.services.list_hits`` of the ward police
  unit responsible for the establishment (polled every ``--poll-ms`` from the benchmark process,
  on its own database connection);
* the police live view (``GET /residence/police/?ward=…``, the HTML page) of a ward with 50,000
  guests staying now renders in ≤ 500 ms (the time to the full response body).

What runs, all on 127.0.0.1 of the one machine: the project's WSGI application under uWSGI
(ADR 0023, or gunicorn; DEBUG off; ``dancu.settings``), PostgreSQL, and this script's client threads
(``http.client``, keep-alive, one connection per thread). The guests are random citizens of the
database (``verify_http_bench._sample_qr_texts``: the latest valid card's QR). The 50,000 guests
of the live view are inserted directly (``bulk_create``), not through the API: they are the
fixture of the read measurement, the API write path is measured by the first two figures.

Everything the run adds is its own: organisations ``BENCH-RES-*`` (hotels, police units), their
users, API keys, establishments, stays, submissions, alert entries and hits, verification
receipts and their not-yet-sealed audit events — all deleted at the end (``--keep`` keeps them).
It never drops a database.

    .venv/bin/python bench/residence_bench.py --database dancu_lookup
    .venv/bin/python bench/residence_bench.py --database dancu_lookup --phases batch --reference \
        --batches 1 --batch-size 200   # the row-by-row batch path, for comparison (ADR 0018)
    .venv/bin/python bench/residence_bench.py --database dancu_res --batches 6 --live-guests 5000
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import statistics as st
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _machine import cpu_seconds, machine, pids_of
from _setup import free_port, server_match, wsgi_server
from verify_http_bench import SECRET, _django, _postgres_info, _sample_qr_texts, _start_server

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "BENCH-RES-"
ADDRESS = "Số {n} Đặng Thai Mai, Phường Quảng An, Quận Tây Hồ, Hà Nội"
TARGET = {"batch_per_second": 1500, "single_p99_ms": 30.0, "alert_s": 2.0, "live_view_ms": 500.0}


# --------------------------------------------------------------------------- setup
def _person(username: str, org: Any, role: str) -> Any:
    from django.contrib.auth import get_user_model

    from dancu.blocks.organisations.services import add_member

    user, _ = get_user_model().objects.get_or_create(username=username)
    add_member(user, org, role)
    return user


def _setup(hotels: int) -> dict[str, Any]:
    """Police units of the ward and the city, ``hotels`` hotels with an API key each."""
    from dancu.apps.residence import services
    from dancu.blocks.adminunits import services as adminunits
    from dancu.blocks.organisations.models import Organisation
    from dancu.blocks.organisations.services import issue_api_key

    ward = adminunits.resolve_address_or_error(ADDRESS.format(n=1), "address")
    ward_police, _ = Organisation.objects.get_or_create(
        code=PREFIX + "CA-WARD",
        defaults={
            "name": "Công an phường (benchmark)",
            "kind": "police_commune",
            "jurisdiction_province_code": ward.province_code,
            "jurisdiction_ward_code": ward.ward_code,
        },
    )
    city_police, _ = Organisation.objects.get_or_create(
        code=PREFIX + "CA-CITY",
        defaults={
            "name": "Công an thành phố (benchmark)",
            "kind": "police_city",
            "jurisdiction_province_code": ward.province_code,
        },
    )
    out: dict[str, Any] = {
        "ward_code": ward.ward_code,
        "ward_police_user": _person("bench-res-ward", ward_police, "officer"),
        "city_police_user": _person("bench-res-city", city_police, "officer"),
        "hotels": [],
    }
    for i in range(hotels):
        org, _ = Organisation.objects.get_or_create(
            code=f"{PREFIX}HOTEL-{i}", defaults={"name": f"Khách sạn Benchmark {i}", "kind": "hotel"}
        )
        if not hasattr(org, "establishment"):
            services.register_establishment(
                org.pk,
                kind="hotel",
                name=f"Khách sạn Benchmark {i}",
                address=ADDRESS.format(n=10 + i),
                owner_name="Benchmark",
                rooms=100_000,
                beds=100_000,
            )
        token = issue_api_key(org, f"bench-{uuid.uuid4().hex[:8]}", created_by="bench").token
        out["hotels"].append({"org_id": org.pk, "token": token})
    return out


def _police_session(user: Any) -> str:
    """A session cookie of ``user`` signed in through SSO at level 1 (what the SSO log-in leaves)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from dancu.apps.web.sso import SESSION_KEY as SSO_KEY
    from dancu.blocks.eid.assurance import ACR_L1

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[SSO_KEY] = {"user_id": user.pk, "acr": ACR_L1}
    store.save()
    _SESSIONS.append(str(store.session_key))
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def _cleanup() -> dict[str, int]:
    """Delete every row the run added (see the module docstring)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from dancu.apps.residence.models import Establishment
    from dancu.blocks.organisations.models import Organisation

    orgs = list(Organisation.objects.filter(code__startswith=PREFIX).values_list("pk", flat=True))
    deleted: dict[str, int] = {}
    if not orgs:
        return deleted
    ests = list(Establishment.objects.filter(organisation_id__in=orgs).values_list("pk", flat=True))
    statements = {
        "webhook deliveries": "DELETE FROM residence_webhookdelivery WHERE webhook_id IN "
        "(SELECT id FROM residence_webhook WHERE establishment_id = ANY(%(e)s))",
        "webhooks": "DELETE FROM residence_webhook WHERE establishment_id = ANY(%(e)s)",
        "stay changes": "DELETE FROM residence_staychange WHERE stay_id IN "
        "(SELECT id FROM residence_stay WHERE establishment_id = ANY(%(e)s))",
        "stays (carers, children)": "DELETE FROM residence_stay WHERE (guardian_id IS NOT NULL "
        "OR patient_id IS NOT NULL) AND establishment_id = ANY(%(e)s)",
        "stays": "DELETE FROM residence_stay WHERE establishment_id = ANY(%(e)s)",
        "submissions": "DELETE FROM residence_submission WHERE establishment_id = ANY(%(e)s)",
        "establishments": "DELETE FROM residence_establishment WHERE organisation_id = ANY(%(o)s)",
        "alert hits": "DELETE FROM alerts_alerthit WHERE where_organisation_id = ANY(%(o)s) OR entry_id IN "
        "(SELECT id FROM alerts_alertentry WHERE issuing_organisation_id = ANY(%(o)s))",
        "alert entries": "DELETE FROM alerts_alertentry WHERE issuing_organisation_id = ANY(%(o)s)",
        "verification receipts": "DELETE FROM identity_verificationrecord WHERE organisation_id = ANY(%(o)s)",
        "audit events (unsealed)": "DELETE FROM audit_auditevent "
        "WHERE organisation_id = ANY(%(o)s) AND hash = ''",
        "api keys": "DELETE FROM organisations_apikey WHERE organisation_id = ANY(%(o)s)",
        "memberships": "DELETE FROM organisations_membership WHERE organisation_id = ANY(%(o)s)",
    }
    with transaction.atomic(), connection.cursor() as cur:
        for name, sql in statements.items():
            cur.execute(sql, {"o": orgs, "e": ests})
            deleted[name] = cur.rowcount
        cur.execute("SELECT count(*) FROM audit_auditevent WHERE organisation_id = ANY(%(o)s)", {"o": orgs})
        deleted["audit events left (sealed)"] = cur.fetchone()[0]
    users = list(
        get_user_model().objects.filter(username__startswith="bench-res-").values_list("pk", flat=True)
    )
    deleted["sessions"] = _delete_sessions()
    # Plain DELETEs: the ORM would look for rows of every application, some not migrated here.
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM auth_user WHERE id = ANY(%s)", [users])
        deleted["users"] = cur.rowcount
        cur.execute("DELETE FROM organisations_organisation WHERE id = ANY(%s)", [orgs])
        deleted["organisations"] = cur.rowcount
    return deleted


_SESSIONS: list[str] = []  # session keys this run created (``_police_session``)


def _delete_sessions() -> int:
    from django.contrib.sessions.models import Session

    gone = Session.objects.filter(session_key__in=_SESSIONS).delete()[0]
    _SESSIONS.clear()
    return gone


# --------------------------------------------------------------------------- client
class Client:
    """One keep-alive HTTP connection to the server."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = headers

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        headers = {**self.headers, **({"Content-Type": "application/json"} if data else {})}
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        return resp.status, resp.read()


def _row(text: str, now: datetime, room: int) -> dict[str, Any]:
    return {
        "room": str(room),
        "arrival": (now - timedelta(minutes=30)).isoformat(),
        "expected_departure": (now + timedelta(days=2)).isoformat(),
        "reason": "Du lịch",
        "guests": [{"kind": "qr", "text": text}],
    }


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2) if ordered else 0.0


_SERVER_PIDS: list[int] = []  # this run's gunicorn master and workers (other helpers run theirs)


def _cpu() -> float:
    return cpu_seconds(_SERVER_PIDS)


def _children(pid: int) -> list[int]:
    out = []
    for p in pids_of(server_match()):
        try:
            with open(f"/proc/{p}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(p)
        except OSError:
            pass
    return out


def _in_threads(worker: Callable[[int], None], n: int) -> float:
    """Run ``worker(0)`` … ``worker(n - 1)`` in threads at once; the wall time until all end."""
    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(c,)) for c in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def _batch_phase(
    port: int, setup: dict[str, Any], texts: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """``--clients`` threads, each a hotel of its own, each sending ``--batches`` batches."""
    per = args.batch_size
    chunks = [texts[i * per : (i + 1) * per] for i in range(args.clients * args.batches)]
    lock = threading.Lock()
    latencies: list[float] = []
    stored = errors = 0

    def worker(c: int) -> None:
        nonlocal stored, errors
        client = Client(port, {"Authorization": f"Bearer {setup['hotels'][c]['token']}"})
        for b in range(args.batches):
            now = datetime.now(UTC)
            rows = [_row(t, now, 1000 + j) for j, t in enumerate(chunks[c * args.batches + b])]
            t0 = time.perf_counter()
            status, body = client.call(
                "POST",
                "/api/v1/residence/notifications/batch",
                {"idempotency_key": f"bench-{uuid.uuid4().hex[:20]}", "notifications": rows},
            )
            took = time.perf_counter() - t0
            answer = json.loads(body) if status == 200 else {}
            with lock:
                latencies.append(took * 1000)
                stored += int(answer.get("stored", 0))
                errors += len(rows) - int(answer.get("stored", 0))
                if status != 200 or answer.get("failed"):
                    print(f"batch {c}/{b}: HTTP {status} {body[:300]!r}", flush=True)

    cpu0 = _cpu()
    wall = _in_threads(worker, args.clients)
    cpu1 = _cpu()
    return {
        "clients": args.clients,
        "batch_size": per,
        "batches": len(latencies),
        "notifications_stored": stored,
        "notifications_failed": errors,
        "seconds": round(wall, 2),
        "per_second": round(stored / wall, 1),
        "batch_p50_ms": _pct(latencies, 50),
        "batch_max_ms": round(max(latencies), 1),
        # CPU of this run's gunicorn processes (PostgreSQL's cannot be told from other helpers' here)
        "server_cpu_ms_per_notification": round((cpu1 - cpu0) / max(stored, 1) * 1000, 3),
    }


def _placement(port: int) -> dict[str, int]:
    """How many of the server's established connections each gunicorn process holds (``ss -tnp``,
    the server side of each connection on ``port``). gthread keeps a keep-alive connection in the
    process that accepted it; two clients whose connections one process accepted share its GIL
    while the other process idles (docs/benchmarks.md, 2026-12-02) — the figure tells the runs apart."""
    try:
        out = subprocess.run(
            ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout  # fmt: skip
    except OSError:
        return {}
    counts: dict[str, int] = {}
    for line in out.splitlines():
        for pid in line.split("pid=")[1:]:
            key = pid.split(",", 1)[0]
            counts[key] = counts.get(key, 0) + 1
    return counts


def _single_phase(
    port: int, setup: dict[str, Any], texts: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """``--single-clients`` threads sending one notification at a time (closed loop)."""
    lock = threading.Lock()
    latencies: list[float] = []
    bad = 0
    per = len(texts) // args.single_clients
    placement: dict[str, int] = {}

    def worker(c: int) -> None:
        nonlocal bad
        client = Client(port, {"Authorization": f"Bearer {setup['hotels'][c]['token']}"})
        for j, text in enumerate(texts[c * per : (c + 1) * per]):
            body = {"idempotency_key": f"bench-{uuid.uuid4().hex[:20]}", **_row(text, datetime.now(UTC), j)}
            t0 = time.perf_counter()
            status, _ = client.call("POST", "/api/v1/residence/notifications", body)
            took = (time.perf_counter() - t0) * 1000
            with lock:
                if j >= args.single_warmup:
                    latencies.append(took)
                bad += status != 200
            if c == 0 and j == args.single_warmup:  # every client has connected by now
                placement.update(_placement(port))

    wall = _in_threads(worker, args.single_clients)
    return {
        "clients": args.single_clients,
        "connections_per_server_process": placement,
        "requests_measured": len(latencies),
        "warmup_per_client": args.single_warmup,
        "non_200": bad,
        "per_second": round((len(latencies) + args.single_warmup * args.single_clients) / wall, 1),
        "p50_ms": _pct(latencies, 50),
        "p90_ms": _pct(latencies, 90),
        "p99_ms": _pct(latencies, 99),
        "max_ms": round(max(latencies), 2),
    }


def _alert_phase(
    port: int, setup: dict[str, Any], texts: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """List each person (city police), check them in at a hotel of the ward, and poll the ward
    unit's hits until the hit shows."""
    from django.db import connection

    from dancu.blocks.alerts import services as alerts
    from dancu.blocks.audit.context import AccessContext
    from dancu.blocks.identity.qr import parse_card_qr
    from dancu.blocks.organisations.services import actor_for

    city = AccessContext(actor_for(setup["city_police_user"]), "security.investigation", "bench")
    ward = AccessContext(actor_for(setup["ward_police_user"]), "security.investigation", "bench")
    for text in texts:
        alerts.add_alert(
            city,
            parse_card_qr(text).id_number,
            kind="wanted",
            reference="BENCH-QD-1",
            legal_basis="Bộ luật Tố tụng hình sự 2015 Điều 231 (benchmark)",
        )
    connection.close()
    client = Client(port, {"Authorization": f"Bearer {setup['hotels'][0]['token']}"})
    delays: list[float] = []
    checkins: list[float] = []
    known = {h.hit_id for h in alerts.list_hits(ward)}
    for j, text in enumerate(texts):
        body = {
            "idempotency_key": f"bench-{uuid.uuid4().hex[:20]}",
            **_row(text, datetime.now(UTC), 5000 + j),
        }
        t0 = time.perf_counter()

        def send(b: dict[str, Any] = body, started: float = t0) -> None:
            status, raw = client.call("POST", "/api/v1/residence/notifications", b)
            assert status == 200, raw[:300]
            checkins.append((time.perf_counter() - started) * 1000)

        sender = threading.Thread(target=send)
        sender.start()
        seen = None
        while time.perf_counter() - t0 < 30:
            new = [h for h in alerts.list_hits(ward) if h.hit_id not in known]
            if new:
                seen = time.perf_counter() - t0
                known.update(h.hit_id for h in new)
                break
            time.sleep(args.poll_ms / 1000)
        sender.join()
        delays.append(seen if seen is not None else float("inf"))
    connection.close()
    return {
        "listed_people": len(texts),
        "poll_ms": args.poll_ms,
        "check_in_to_visible_s": [round(d, 3) for d in delays],
        "max_s": round(max(delays), 3),
        "p50_s": round(st.median(delays), 3),
        "check_in_response_ms_p50": round(st.median(checkins), 1),
    }


def _live_phase(
    port: int, setup: dict[str, Any], texts: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    """Insert guests staying now at the hotels until the ward has ``--live-guests``; GET the page."""
    from django.db import connection
    from django.utils import timezone

    from dancu.apps.residence import rules
    from dancu.apps.residence.models import Establishment, Stay
    from dancu.blocks.identity.qr import parse_card_qr

    ests = list(Establishment.objects.filter(organisation__code__startswith=PREFIX + "HOTEL-"))
    now = timezone.now()
    present = Stay.objects.filter(
        establishment__ward_code=setup["ward_code"], departed_at__isnull=True, arrival__lte=now
    ).count()
    cards = [parse_card_qr(t) for t in texts[:2000]]
    rng = random.Random(7)
    todo = max(0, args.live_guests - present)
    t0 = time.perf_counter()
    for start in range(0, todo, 5000):
        batch = []
        for i in range(start, min(todo, start + 5000)):
            card = cards[i % len(cards)]
            arrival = now - timedelta(minutes=rng.randint(5, 60 * 24 * 6))
            batch.append(
                Stay(
                    establishment=ests[i % len(ests)],
                    group_reference=f"bench{i:07d}",
                    guest_kind="citizen",
                    id_number=card.id_number,
                    full_name=card.full_name,
                    date_of_birth=card.date_of_birth,
                    sex=card.sex[:1],
                    permanent_address=card.address[:500],
                    evidence_kind="qr",
                    room=str(i % 3000),
                    arrival=arrival,
                    expected_departure=arrival + timedelta(days=3),
                    reason="Du lịch",
                    deadline=rules.notification_deadline(arrival, foreigner=False),
                    notified_at=arrival + timedelta(minutes=5),
                    created_by="bench",
                )
            )
        Stay.objects.bulk_create(batch)
    inserted = time.perf_counter() - t0
    with connection.cursor() as cur:
        # What autovacuum does to a table in use (visibility map, statistics) — here at once.
        cur.execute("VACUUM ANALYZE residence_stay")
        cur.execute("ANALYZE residence_establishment")
    guests = Stay.objects.filter(
        establishment__ward_code=setup["ward_code"], departed_at__isnull=True, arrival__lte=timezone.now()
    ).count()
    cookie = _police_session(setup["ward_police_user"])
    connection.close()
    client = Client(port, {"Cookie": cookie})
    path = f"/residence/police/?ward={setup['ward_code']}"
    times: list[float] = []
    size = 0
    for i in range(args.live_renders + 2):
        t1 = time.perf_counter()
        status, body = client.call("GET", path)
        took = (time.perf_counter() - t1) * 1000
        assert status == 200, (status, body[:500])
        if i >= 2:  # two warm-up renders
            times.append(took)
        size = len(body)
    page = body.decode()
    return {
        "guests_in_ward": guests,
        "inserted_for_the_run": todo,
        "insert_seconds": round(inserted, 1),
        "renders": len(times),
        "page_bytes": size,
        "count_shown": f"{guests:,}".replace(",", ".") in page or str(guests) in page,
        "p50_ms": _pct(times, 50),
        "p99_ms": _pct(times, 99),
        "max_ms": round(max(times), 1),
    }


# --------------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--database", default="dancu_lookup")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--clients", type=int, default=2, help="concurrent batch clients (one hotel each)")
    ap.add_argument("--batches", type=int, default=10, help="batches per client")
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--single-clients", type=int, default=2)
    ap.add_argument("--single", type=int, default=1000, help="single notifications in all")
    ap.add_argument("--single-warmup", type=int, default=20, help="discarded per client")
    ap.add_argument("--alerts", type=int, default=20, help="listed people checked in")
    ap.add_argument("--poll-ms", type=int, default=20)
    ap.add_argument("--live-guests", type=int, default=50_000)
    ap.add_argument("--live-renders", type=int, default=30)
    ap.add_argument("--phases", default="batch,single,alert,live")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--keep", action="store_true", help="keep the rows the run added")
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--reference",
        action="store_true",
        help="the server runs the reference batch path (DANCU_FAST_RESIDENCE_BATCH=0), row by row",
    )
    args = ap.parse_args()
    if args.reference:
        os.environ["DANCU_FAST_RESIDENCE_BATCH"] = "0"  # inherited by the server
    phases = args.phases.split(",")

    url = f"{args.server}/{args.database}"
    _django(url)
    from django.core.management import call_command
    from django.db import connection

    for app in ("residence", "sessions"):  # the tables this benchmark adds to, if missing
        call_command("migrate", app, verbosity=0)

    from dancu.blocks.registry.models import Citizen

    started = datetime.now(UTC)
    load_start = os.getloadavg()[0]
    print(f"load average at start: {load_start:.2f}", flush=True)
    _cleanup()  # what an interrupted earlier run left
    citizens = Citizen.objects.count()
    n_batch = args.clients * args.batches * args.batch_size if "batch" in phases else 0
    n_single = args.single if "single" in phases else 0
    n_alert = args.alerts if "alert" in phases else 0
    t0 = time.perf_counter()
    texts, skipped = _sample_qr_texts(max(2000, n_batch + n_single + n_alert), args.seed)
    print(f"{len(texts):,} QR texts of random citizens in {time.perf_counter() - t0:.1f} s; "
          f"{citizens:,} citizens", flush=True)  # fmt: skip
    setup = _setup(max(args.clients, args.single_clients, 8))
    pg = _postgres_info()
    connection.close()

    tmp = Path(tempfile.mkdtemp(prefix="residence-bench-"))
    port = free_port()
    server = _start_server(url, port, args.workers, args.threads, tmp / "server.log")
    results: dict[str, Any] = {}
    _SERVER_PIDS[:] = [server.pid, *_children(server.pid)]
    try:
        if "batch" in phases:
            # One small batch first: the workers import, connect and prepare (discarded).
            warm = argparse.Namespace(**{**vars(args), "batches": 1, "batch_size": 20})
            _batch_phase(port, setup, texts[-40 * args.clients :], warm)
            results["batch"] = _batch_phase(port, setup, texts[:n_batch], args)
            print("batch:", results["batch"], flush=True)
        if "single" in phases:
            results["single"] = _single_phase(port, setup, texts[n_batch : n_batch + n_single], args)
            print("single:", results["single"], flush=True)
        if "alert" in phases:
            results["alert"] = _alert_phase(
                port, setup, texts[n_batch + n_single : n_batch + n_single + n_alert], args
            )
            print(
                "alert:",
                {k: v for k, v in results["alert"].items() if k != "check_in_to_visible_s"},
                flush=True,
            )
        if "live" in phases:
            results["live"] = _live_phase(port, setup, texts, args)
            print("live view:", results["live"], flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log_tail = (tmp / "server.log").read_text(errors="replace")[-2000:]
        cleaned = {} if args.keep else _cleanup()
    met = {
        "batch": results.get("batch", {}).get("per_second", 0) >= TARGET["batch_per_second"],
        "single": results.get("single", {}).get("p99_ms", 1e9) <= TARGET["single_p99_ms"],
        "alert": results.get("alert", {}).get("max_s", 1e9) <= TARGET["alert_s"],
        "live": results.get("live", {}).get("p99_ms", 1e9) <= TARGET["live_view_ms"],
    }
    result = {
        "date": started.isoformat(timespec="seconds"),
        "machine": asdict(machine()),
        "load_average_1min_start": load_start,
        "load_average_1min_end": os.getloadavg()[0],
        "shared_machine": "other helpers' jobs ran on the same 2 cores",
        "postgres": pg,
        "database": args.database,
        "citizens": citizens,
        "qr_sampled_skipped": skipped,
        "server": f"{wsgi_server()} (bench/_setup.py), {args.workers} processes × {args.threads} threads; "
        f"dancu.settings, DEBUG=0, secret {SECRET[:9]}…",
        "batch_path": "reference (row by row)" if args.reference else "set-based (ADR 0018)",
        "server_log_tail": log_tail,
        "results": results,
        "targets": TARGET,
        "met": {k: v for k, v in met.items() if k in results},
        "cleanup": cleaned,
    }
    out = args.json or ROOT / "bench" / "results" / f"residence-{started:%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    print(
        f"met: {result['met']}; load {load_start:.2f} → {result['load_average_1min_end']:.2f}; written {out}"
    )


if __name__ == "__main__":
    main()
