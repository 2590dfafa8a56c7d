"""Benchmark: online public services over HTTP (issue 7, "Speed").

Targets, on a 2-core machine:

* opening a prefilled form (``GET /dich-vu-cong/nop/<code>/``: the citizen's registry record read
  through the data-exchange gateway — signed, logged and audited — the eID account's contacts, the
  form) ≤ 300 ms at the 95th percentile;
* 200 citizens submitting dossiers at the same moment: no errors, exactly one dossier each (and a
  retry of every submission with the same form key creates none);
* an official's work queue (``GET /dich-vu-cong/can-bo/``) over 100,000 open dossiers of their
  office ≤ 500 ms at the 95th percentile.

What runs, all on 127.0.0.1 of the one machine:

* the project's WSGI application under uWSGI (ADR 0023; or gunicorn), DEBUG off, the production
  settings module, PostgreSQL database ``dancu_psbench`` (created, migrated and filled if missing:
  ``--citizens`` citizens of Phường Tây Hồ with active level-1 eID accounts, and 100,000 open
  dossiers of Công an phường Hoàn Kiếm, bulk-created with spread deadlines and statuses);
* clients: Python threads with ``requests`` sessions. Log-ins are not measured: each client's
  session is created in the database beforehand (citizens: a Django log-in session; the official:
  also the staff SSO mark that ``/login/`` would set after the provider's sign-in).

    DANCU_BENCH_DSN=postgres://postgres@127.0.0.1:5432 .venv/bin/python bench/public_services_bench.py
    .venv/bin/python bench/public_services_bench.py --form-requests 400 --concurrent 200

Results: printed, and as JSON in ``bench/results/public-services-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from _machine import machine
from _setup import create_database, free_port, start_django, start_server, wsgi_server

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
VENV_BIN = Path(sys.executable).parent
SECRET = "benchmark-only-secret-key-0123456789abcdef-public-services"  # noqa: S105 — loopback
TARGET = {"form_p95_ms": 300.0, "concurrent_citizens": 200, "queue_p95_ms": 500.0, "queue_open": 100_000}
TAY_HO_ADDRESS = "Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội"
HOAN_KIEM_ADDRESS = "Số 10 phố Hàng Bạc, Phường Hàng Bạc, Quận Hoàn Kiếm, Hà Nội"
HOAN_KIEM_WARD = "00070"
QUEUE_ORG = "CA-P-HOANKIEM-BENCH"
FORM_SERVICE = "temporary-absence"
_KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')
_CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


# --------------------------------------------------------------------------- set-up
def _session(user: Any, extra: dict[str, Any] | None = None) -> str:
    """A logged-in session of ``user`` in the session store; its key (the cookie's value)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    for k, v in (extra or {}).items():
        store[k] = v
    store.create()
    return str(store.session_key)


def _citizens(n: int) -> list[str]:
    """``n`` citizens of Phường Tây Hồ, each with an active level-1 eID account; their sessions."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from dancu.blocks.audit.context import AccessContext, Actor
    from dancu.blocks.eid.models import Account
    from dancu.blocks.registry import services as registry

    ctx = AccessContext(
        Actor(
            user_id=None,
            label="bench",
            allowed_purposes=frozenset({"registry.administration"}),
            is_system=True,
        ),
        "registry.administration",
    )
    user_model = get_user_model()
    sessions = []
    for i in range(n):
        number = f"001085{700000 + i:06d}"
        user = user_model.objects.filter(username=f"bench-citizen-{i}").first()
        if user is None:
            view = registry.register_citizen(
                ctx,
                registry.NewCitizen(
                    id_number=number,
                    full_name=f"Nguyễn Văn {_letters(i)}",
                    date_of_birth=date(1985, 3, 2),
                    sex="M",
                    permanent_address_text=TAY_HO_ADDRESS,
                ),
                reason="Benchmark",
                legal_basis="Benchmark",
            )
            user = user_model.objects.create_user(username=f"bench-citizen-{i}", password=None)
            Account.objects.create(
                user=user,
                id_number=number,
                citizen_id=view.citizen_id,
                ward_code="00103",
                level=1,
                status=Account.Status.ACTIVE,
                phone=f"09{i:08d}",
                phone_verified_at=timezone.now(),
            )
        sessions.append(_session(user))
    return sessions


def _letters(i: int) -> str:
    return "A" + "".join(chr(ord("a") + int(d)) for d in str(i))


def _official() -> str:
    """An officer of the bench's Công an phường Hoàn Kiếm, signed in through SSO; the session."""
    from django.contrib.auth import get_user_model

    from dancu.apps.web import sso
    from dancu.blocks.eid.assurance import ACR_L1
    from dancu.blocks.organisations.models import Organisation
    from dancu.blocks.organisations.services import add_member

    org, _ = Organisation.objects.get_or_create(
        code=QUEUE_ORG,
        defaults={
            "name": "Công an phường Hoàn Kiếm (bench)",
            "kind": "police_commune",
            "jurisdiction_province_code": "01",
            "jurisdiction_ward_code": HOAN_KIEM_WARD,
        },
    )
    user, _ = get_user_model().objects.get_or_create(username="bench-officer")
    add_member(user, org, "officer")
    return _session(user, {sso.SESSION_KEY: {"user_id": user.pk, "acr": ACR_L1}})


def _queue_dossiers(n: int) -> tuple[int, float]:
    """Make sure the bench office has ``n`` open dossiers (bulk-created); (count, seconds spent)."""
    from dancu.apps.public_services.models import Dossier

    started = time.monotonic()
    have = Dossier.objects.filter(
        authority_kind="police_commune", authority_ward_code=HOAN_KIEM_WARD, status__in=Dossier.OPEN
    ).count()
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    statuses = [
        Dossier.Status.SUBMITTED,
        Dossier.Status.RECEIVED,
        Dossier.Status.PROCESSING,
        Dossier.Status.SENT_BACK,
    ]
    today = date.today()
    batch: list[Dossier] = []
    for i in range(have, n):
        code = "".join(alphabet[(i >> (5 * k)) & 31] for k in range(8))
        batch.append(
            Dossier(
                tracking_code=f"DVC-0001-{code}",
                service_code="temporary-residence",
                applicant_user_id=10_000_000 + i,
                applicant_id_number=f"001090{i % 1_000_000:06d}",
                applicant_name="Trần Thị Bench",
                idempotency_key=f"bench-queue-{i:012d}",
                status=statuses[i % len(statuses)],
                authority_kind="police_commune",
                authority_ward_code=HOAN_KIEM_WARD,
                items={"temporary_address": {"value": HOAN_KIEM_ADDRESS, "source": "citizen"}},
                submitted_at=datetime.now(UTC) - timedelta(minutes=i % 50_000),
                due_on=today + timedelta(days=(i % 90) - 20),
            )
        )
        if len(batch) == 5000:
            Dossier.objects.bulk_create(batch)
            batch = []
    if batch:
        Dossier.objects.bulk_create(batch)
    return max(have, n), time.monotonic() - started


# --------------------------------------------------------------------------- the server
def _client(session_key: str) -> Any:
    import requests

    c = requests.Session()
    c.cookies.set("sessionid", session_key, domain="127.0.0.1", path="/")
    return c


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def _summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": round(_pct(ms, 50), 1),
        "p95_ms": round(_pct(ms, 95), 1),
        "p99_ms": round(_pct(ms, 99), 1),
        "max_ms": round(max(ms), 1),
        "mean_ms": round(statistics.fmean(ms), 1),
    }


def _timed_gets(
    base: str, path: str, sessions: list[str], count: int, clients: int, marker: str
) -> dict[str, Any]:
    """``count`` GETs of ``path`` spread over ``clients`` threads (closed loop); each answer must be
    200 and contain ``marker``."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    per = count // clients

    def run(t: int) -> None:
        for j in range(per):
            c = _client(sessions[(t * per + j) % len(sessions)])
            t0 = time.perf_counter()
            r = c.get(base + path, allow_redirects=False, timeout=60)
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                if r.status_code == 200 and marker in r.text:
                    latencies.append(ms)
                else:
                    errors.append(f"{r.status_code}")

    threads = [threading.Thread(target=run, args=(t,)) for t in range(clients)]
    started = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - started
    out: dict[str, Any] = {"clients": clients, "errors": len(errors), "error_samples": errors[:5]}
    out.update(_summary(latencies) if latencies else {"n": 0})
    out["per_second"] = round(len(latencies) / wall, 1)
    return out


def _payload(today: date) -> dict[str, str]:
    return {
        "absent_from": (today + timedelta(days=3)).strftime("%d/%m/%Y"),
        "absent_until": (today + timedelta(days=40)).strftime("%d/%m/%Y"),
        "destination": HOAN_KIEM_ADDRESS,
        "reason": "Đi công tác",
    }


def _warm_submissions(base: str, sessions: list[str], n: int) -> None:
    """Warm every server thread's submission path (the address resolver loads its index once per
    process) with submissions refused by a rule (the absence ends before it starts): no dossier."""
    path = f"/dich-vu-cong/nop/{FORM_SERVICE}/"
    for i in range(n):
        c = _client(sessions[i % len(sessions)])
        form = c.get(base + path, timeout=120)
        key, csrf = _KEY_RE.search(form.text), _CSRF_RE.search(form.text)
        data = {**_payload(date.today()), "absent_until": date.today().strftime("%d/%m/%Y")}
        data.update(
            idempotency_key=key.group(1) if key else "", csrfmiddlewaretoken=csrf.group(1) if csrf else ""
        )
        r = c.post(
            base + path, data=data, headers={"Referer": base + path}, allow_redirects=False, timeout=120
        )
        assert r.status_code == 422, r.status_code


def _concurrent_submissions(base: str, sessions: list[str]) -> dict[str, Any]:
    """Every citizen opens the form, then all submit at the same moment (a barrier), then every
    submission is retried with the same form key (a double click / network retry)."""
    n = len(sessions)
    barrier = threading.Barrier(n)
    results: list[tuple[int, float, str]] = [(0, 0.0, "")] * n
    retries: list[str] = [""] * n
    payload = _payload(date.today())
    path = f"/dich-vu-cong/nop/{FORM_SERVICE}/"

    def run(i: int) -> None:
        c = _client(sessions[i])
        # "Connection: close": the POST after the barrier opens a fresh connection, rather than
        # reuse one that gunicorn's 2 s keep-alive closed meanwhile (requests does not retry a POST).
        form = c.get(base + path, headers={"Connection": "close"}, timeout=120)
        key, csrf = _KEY_RE.search(form.text), _CSRF_RE.search(form.text)
        data = {
            **payload,
            "idempotency_key": key.group(1) if key else "",
            "csrfmiddlewaretoken": csrf.group(1) if csrf else "",
        }
        headers = {"Referer": base + path}
        barrier.wait()
        t0 = time.perf_counter()
        r = c.post(base + path, data=data, headers=headers, allow_redirects=False, timeout=120)
        results[i] = (r.status_code, (time.perf_counter() - t0) * 1000, r.headers.get("Location", ""))
        again = c.post(base + path, data=data, headers=headers, allow_redirects=False, timeout=120)
        retries[i] = again.headers.get("Location", str(again.status_code))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    ok = [r for r in results if r[0] == 302 and "/dich-vu-cong/ho-so/DVC-" in r[2]]
    same = sum(
        1 for (code, _, loc), again in zip(results, retries, strict=True) if code == 302 and loc == again
    )
    out: dict[str, Any] = {
        "citizens": n,
        "created": len(ok),
        "errors": n - len(ok),
        "error_samples": [r[0] for r in results if r not in ok][:5],
        "distinct_tracking_codes": len({r[2] for r in ok}),
        "retries_returning_the_same_dossier": same,
    }
    out.update(_summary([r[1] for r in ok]) if ok else {})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database", default="dancu_psbench")
    ap.add_argument("--citizens", type=int, default=200)
    ap.add_argument("--queue", type=int, default=TARGET["queue_open"])
    ap.add_argument("--form-requests", type=int, default=300)
    ap.add_argument("--queue-requests", type=int, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    server = os.environ.get("DANCU_BENCH_DSN", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    url = f"{server}/{args.database}"
    load_start = os.getloadavg()[0]
    create_database(server, args.database)
    start_django(url, SECRET)
    t0 = time.monotonic()
    citizens = _citizens(args.citizens)
    setup_citizens = time.monotonic() - t0
    official = _official()
    # The portal reads the applicant's record through the data-exchange gateway (ADR 0016 amended):
    # the registry published as a provider, the portal connected as a member system.
    from dancu.apps.exchange_admin.demo import seed_demo as seed_exchange
    from dancu.apps.public_services.demo import connect_portal

    seed_exchange()
    connect_portal()
    queue_count, queue_seconds = _queue_dossiers(args.queue)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    connection.close()

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start_server(url, SECRET, port, args.workers, args.threads, Path(tmp) / "server.log")
        base = f"http://127.0.0.1:{port}"
        try:
            form_path = f"/dich-vu-cong/nop/{FORM_SERVICE}/"
            _timed_gets(base, form_path, citizens, 20, 1, 'data-testid="prefilled"')  # warm-up
            form_1 = _timed_gets(base, form_path, citizens, args.form_requests, 1, 'data-testid="prefilled"')
            form_4 = _timed_gets(base, form_path, citizens, args.form_requests, 4, 'data-testid="prefilled"')
            _warm_submissions(base, citizens, 4 * args.workers)
            submissions = _concurrent_submissions(base, citizens)
            _timed_gets(base, "/dich-vu-cong/can-bo/", [official], 3, 1, "DVC-0001-")  # warm-up
            queue = _timed_gets(
                base, "/dich-vu-cong/can-bo/", [official], args.queue_requests, 1, "DVC-0001-"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log_tail = (Path(tmp) / "server.log").read_text()[-2000:]
    m = machine()
    passed = {
        "form_p95": form_1.get("p95_ms", 1e9) <= TARGET["form_p95_ms"] and form_1["errors"] == 0,
        "concurrent": submissions["created"] == args.citizens
        and submissions["errors"] == 0
        and submissions["distinct_tracking_codes"] == args.citizens
        and submissions["retries_returning_the_same_dossier"] == args.citizens,
        "queue_p95": queue.get("p95_ms", 1e9) <= TARGET["queue_p95_ms"] and queue["errors"] == 0,
    }
    report: dict[str, Any] = {
        "benchmark": "public_services",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpu": m.cpu,
            "nproc": m.nproc,
            "usable_cpus": m.usable_cpus,
            "python": m.python,
            "platform": m.platform,
            "load_1min_start": round(load_start, 2),
            "load_1min_end": round(os.getloadavg()[0], 2),
        },
        "server": {"wsgi_server": wsgi_server(), "workers": args.workers, "threads": args.threads,
                   "database": "PostgreSQL " + args.database},
        "setup": {"citizens": args.citizens, "citizens_seconds": round(setup_citizens, 1),
                  "queue_open_dossiers": queue_count, "queue_bulk_seconds": round(queue_seconds, 1)},
        "form_open_1_client": form_1,
        "form_open_4_clients": form_4,
        "concurrent_submissions": submissions,
        "queue_100k": queue,
        "targets": TARGET,
        "pass": passed,
        "gunicorn_log_tail": log_tail if "Error" in log_tail or "Traceback" in log_tail else "",
    }  # fmt: skip
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"public-services-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(report, ensure_ascii=False, indent=2))
    for name, ok in passed.items():
        print(f"{'PASS' if ok else 'FAIL'} {name}")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
