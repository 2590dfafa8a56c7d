"""Per-step cost of the OpenID Connect provider, in one process (issue 4, "Speed"; companion of
``oidc_bench.py``): for each request of a full authorisation-code + PKCE flow (authorize →
log-in page → log-in POST → authorize to code → token → userinfo), and for a refresh and a
client-credentials request, the median CPU time of this process and the number of SQL statements.

The requests go through the whole WSGI stack (``django.test.Client``: middlewares, sessions, CSRF)
on the production settings, PostgreSQL database ``dancu_oidcbench`` by default (created and
migrated if missing, the accounts and relying parties of ``oidc_bench.py``). The token, userinfo,
refresh and client-credentials requests go through ``dancu.wsgi.application`` — what gunicorn
serves, with the fast layers of ADR 0014 and ADR 0009 §12 in front of Django — by a WSGI environ
built here (``served``); the pages through the test client (sessions, cookies). The Argon2 password
check of the log-in POST is replaced by a stub during the measurement (``--real-hash`` keeps it),
so the log-in figure is the non-hash work; the hash's own cost is measured separately.

    .venv/bin/python bench/oidc_steps.py --database dancu_oidc --flows 60
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import io
import json
import re
import secrets
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlencode, urlsplit

from _setup import create_database, start_django

ROOT = Path(__file__).resolve().parents[1]
ISSUER = "http://127.0.0.1"
FORM = "application/x-www-form-urlencoded"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--database", default="dancu_oidcbench")
    ap.add_argument("--flows", type=int, default=60)
    ap.add_argument("--accounts", type=int, default=8)
    ap.add_argument("--real-hash", action="store_true", help="keep the Argon2 check in the log-in")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--sql", action="store_true", help="print the statements of each step's last run")
    ap.add_argument("--profile", type=Path, help="write a cProfile file per step into this folder")
    args = ap.parse_args()

    import os

    os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["DEBUG"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    create_database(args.server, args.database)
    start_django(f"{args.server}/{args.database}", "benchmark-only-secret-key-0123456789abcdef-oidc",
                 DANCU_OIDC_ISSUER=ISSUER)  # fmt: skip
    from django.contrib.auth.hashers import Argon2PasswordHasher
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    import oidc_bench

    numbers = oidc_bench._accounts(args.accounts)
    client_id, secret, machine_id, machine_secret = oidc_bench._relying_parties(ISSUER, numbers)
    password = oidc_bench.PASSWORD
    cpu: dict[str, list[float]] = defaultdict(list)
    stmts: dict[str, list[int]] = defaultdict(list)

    profiles: dict[str, Any] = {}
    last_sql: dict[str, list[str]] = {}

    from _machine import cpu_seconds, pids_of

    pg_match = f" {args.database} ".encode()
    pg_cpu: dict[str, list[float]] = defaultdict(list)

    def pg_seconds() -> dict[int, float]:
        return {pid: cpu_seconds([pid]) for pid in pids_of(pg_match)}

    def step(name: str, fn: Any) -> Any:
        pg0 = pg_seconds()
        with CaptureQueriesContext(connection) as q:
            if args.profile:
                prof = profiles.setdefault(name, cProfile.Profile(time.process_time))
                prof.enable()
            t0 = time.process_time()
            r = fn()
            cpu[name].append((time.process_time() - t0) * 1000)
            if args.profile:
                prof.disable()
        pg1 = pg_seconds()
        pg_cpu[name].append(sum(max(0.0, v - pg0.get(pid, 0.0)) for pid, v in pg1.items()) * 1000)
        stmts[name].append(len(q.captured_queries))
        last_sql[name] = [x["sql"] for x in q.captured_queries]
        return r

    from dancu.wsgi import application as served_app

    class Served:
        """An answer of the served application (status, headers, body) with the test client's
        ``status_code``/``json()``/``[]`` so the flow reads it the same way."""

        def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
            self.status_code = int(status.split()[0])
            self.headers = dict(headers)
            self.content = body

        def json(self) -> Any:
            return json.loads(self.content)

        def __getitem__(self, name: str) -> str:
            return self.headers[name]

    def served(method: str, path: str, body: str = "", auth: str = "", query: str = "") -> Served:
        data = body.encode()
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(data),
            "wsgi.errors": sys.stderr, "CONTENT_LENGTH": str(len(data)), "CONTENT_TYPE": FORM if data else "",
            "HTTP_AUTHORIZATION": auth,
        }  # fmt: skip
        seen: list[Any] = []
        content = b"".join(
            served_app(environ, lambda status, headers, exc=None: seen.extend((status, headers)))
        )
        return Served(seen[0], seen[1], content)

    basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    machine = "Basic " + base64.b64encode(f"{machine_id}:{machine_secret}".encode()).decode()
    refresh_tokens: list[str] = []

    def flow(i: int) -> None:
        c = Client(HTTP_HOST="127.0.0.1")
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        redirect = f"{ISSUER}/bench/callback"
        params = {
            "response_type": "code", "client_id": client_id, "redirect_uri": redirect,
            "scope": "openid profile", "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(16), "code_challenge": challenge,
            "code_challenge_method": "S256",
        }  # fmt: skip
        # No cookie yet: served as uWSGI serves it (the anonymous redirect ahead of Django, ADR 0009 §15).
        r = step("1 authorize (anonymous)", lambda: served("GET", "/oidc/authorize", query=urlencode(params)))
        assert r.status_code == 302 and "/eid/login/" in r["Location"], r.status_code
        login_url = r["Location"]
        page = step("2 log-in page", lambda: c.get(login_url))
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
        assert csrf
        data = {
            "csrfmiddlewaretoken": csrf.group(1),
            "username": numbers[i % len(numbers)],
            "password": password,
        }
        r = step("3 log-in POST", lambda: c.post(login_url, urlencode(data), content_type=FORM))
        assert r.status_code == 302 and "/oidc/authorize" in r["Location"], (r.status_code, r.content[-300:])
        nxt = r["Location"]
        r = step("4 authorize -> code", lambda: c.get(nxt))
        code = parse_qs(urlsplit(r["Location"]).query)["code"][0]
        body = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "code_verifier": verifier,
        }
        r = step("5 token (code)", lambda: served("POST", "/oidc/token", urlencode(body), basic))
        tok = r.json()
        refresh_tokens.append(tok["refresh_token"])
        r = step("6 userinfo", lambda: served("GET", "/oidc/userinfo", "", f"Bearer {tok['access_token']}"))
        assert r.json()["name"].startswith("Nguyễn Văn Thử"), r.content

    real_verify = Argon2PasswordHasher.verify

    def stub_verify(self: Any, pw: str, encoded: str) -> bool:
        return pw == password

    patcher = None if args.real_hash else mock.patch.object(Argon2PasswordHasher, "verify", stub_verify)
    if patcher:
        patcher.start()
    for i in range(5):  # warm-up
        flow(i)
    for k in list(cpu):
        cpu[k].clear()
        stmts[k].clear()
        pg_cpu[k].clear()
    for i in range(args.flows):
        flow(i)
    if patcher:
        patcher.stop()

    for _ in range(5):
        served("POST", "/oidc/token", "grant_type=client_credentials", machine)
    for _ in range(args.flows):
        r = step(
            "7 client credentials",
            lambda: served("POST", "/oidc/token", "grant_type=client_credentials", machine),
        )
        assert r.status_code == 200, r.content
    for t in refresh_tokens:
        form = urlencode({"grant_type": "refresh_token", "refresh_token": t})
        r = step("8 refresh", lambda form=form: served("POST", "/oidc/token", form, basic))
        assert r.status_code == 200, r.content
    r = step("9 discovery", lambda: served("GET", "/.well-known/openid-configuration"))

    encoded = Argon2PasswordHasher().encode(password, Argon2PasswordHasher().salt())
    hash_ms = []
    for _ in range(5):
        t0 = time.process_time()
        real_verify(Argon2PasswordHasher(), password, encoded)
        hash_ms.append((time.process_time() - t0) * 1000)

    out: dict[str, Any] = {"flows": args.flows, "steps": {}}
    total_cpu = total_q = total_pg = 0.0
    for name in sorted(cpu):
        med = statistics.median(cpu[name])
        q = statistics.median(stmts[name])
        # PostgreSQL's CPU: the mean, as /proc counts in clock ticks (10 ms) and most steps' median is 0.
        pg = statistics.fmean(pg_cpu[name]) if pg_cpu[name] else 0.0
        out["steps"][name] = {
            "cpu_ms_median": round(med, 2),
            "statements": q,
            "postgres_cpu_ms_mean": round(pg, 2),
        }
        if name[0] in "123456":
            total_cpu += med
            total_q += q
            total_pg += pg
        print(f"{name:28s} {med:7.2f} ms  {q:4.0f} statements  PostgreSQL {pg:5.2f} ms")
    if args.sql:
        for name in sorted(last_sql):
            print(f"--- {name}")
            for sql in last_sql[name]:
                print("   ", sql[:220])
    out["flow_total"] = {
        "cpu_ms": round(total_cpu, 2),
        "statements": total_q,
        "postgres_cpu_ms": round(total_pg, 2),
    }
    out["argon2_verify_cpu_ms_median"] = round(statistics.median(hash_ms), 1)
    print(
        f"{'flow total (no hash)':28s} {total_cpu:7.2f} ms  {total_q:4.0f} statements"
        f"  PostgreSQL {total_pg:5.2f} ms"
    )
    print(f"argon2 verify (process CPU, all lanes): {out['argon2_verify_cpu_ms_median']} ms")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        for name, prof in profiles.items():
            prof.dump_stats(args.profile / (name.split()[0] + ".pstats"))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
