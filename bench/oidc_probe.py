"""Where a sign-in's CPU goes over HTTP (issue 4, "Speed"; companion of ``oidc_bench.py``).

Two measurements against the project's server (uWSGI, ``docs/deploy/uwsgi.ini``, 2 × 4), on the
benchmark's database and accounts (``oidc_bench.py``'s set-up):

* ``--wrk``: the requests a visitor without a session makes (``GET /oidc/authorize``, the log-in
  page), discovery and a 404 for reference — wrk, 8 connections; the server's and PostgreSQL's
  CPU per request;
* ``--sequential N``: N complete flows by one client, the server's and PostgreSQL's CPU read
  around each of the six requests (``/proc``, 10-ms ticks: means over many flows), and the CPU of
  one Argon2 verification alone in this process for comparison (the log-in POST includes one).

    .venv/bin/python bench/oidc_probe.py --wrk --sequential 110
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import signal
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import oidc_bench as ob
from _machine import cpu_seconds, pids_of
from _setup import free_port, server_match, start_django, start_server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--database", default="dancu_oidcbench")
    ap.add_argument("--wrk", action="store_true")
    ap.add_argument("--sequential", type=int, default=0, help="flows of one client, CPU per request")
    ap.add_argument("--seconds", type=int, default=6)
    args = ap.parse_args()
    url = f"{args.server}/{args.database}"
    ob._PG_MATCH[0] = f" {args.database} ".encode()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ob.create_database(args.server, args.database)
    start_django(url, ob.SECRET, DANCU_OIDC_ISSUER=base)
    numbers = ob._accounts(32)
    client_id, secret, _, _ = ob._relying_parties(base, numbers)
    from django.db import connection

    connection.close()
    tmp = Path(tempfile.mkdtemp(prefix="oidc-probe-"))
    server = start_server(url, ob.SECRET, port, 2, 4, tmp / "server.log", DANCU_OIDC_ISSUER=base)
    out: dict[str, object] = {}
    try:
        if args.wrk:
            params, _ = ob._authorization(base, client_id)
            query = urlencode(params)
            get = tmp / "get.lua"
            get.write_text(ob._LUA_GET)
            for name, path in (
                ("discovery", "/.well-known/openid-configuration"),
                ("authorize, no session", "/oidc/authorize?" + query),
                ("log-in page, no session", "/eid/login/?" + urlencode({"next": "/oidc/authorize?" + query})),
                ("404", "/nothing-here/"),
            ):
                ob._wrk(port, path, get, 8, 2, {})
                r = ob._wrk(port, path, get, 8, args.seconds, {})
                out[name] = r
                print(
                    f"{name:28s} {r['per_second']:8.1f}/s  server {r['server_cpu_us_per_request']:7.1f} µs"
                    f"  PostgreSQL {r['postgres_cpu_us_per_request']:6.1f} µs",
                    flush=True,
                )
        if args.sequential:
            out["sequential"] = _sequential(base, client_id, secret, numbers, args.sequential)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(json.dumps(out, default=str)[:200], "…")


def _sequential(base: str, client_id: str, secret: str, numbers: list[str], flows: int) -> dict[str, object]:
    servers = pids_of(server_match())
    names = [
        "authorize",
        "log-in page",
        "log-in POST (with the hash)",
        "authorize -> code",
        "token",
        "userinfo",
    ]
    cpu: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in names}
    auth = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()

    def snap() -> tuple[float, float]:
        return cpu_seconds(servers), cpu_seconds(pids_of(ob._PG_MATCH[0]))

    for i in range(flows):
        b = ob._Browser(base)
        step = iter(names)

        def req(
            *a: object, b: ob._Browser = b, step: object = step, **k: object
        ) -> tuple[int, dict[str, str], bytes]:
            s0 = snap()
            r = b.request(*a, **k)  # type: ignore[arg-type]
            s1 = snap()
            name = next(step)  # type: ignore[call-overload]
            cpu[name][0].append(s1[0] - s0[0])
            cpu[name][1].append(s1[1] - s0[1])
            return r

        params, verifier = ob._authorization(base, client_id)
        _, h, _ = req("GET", f"/oidc/authorize?{urlencode(params)}")
        login = h["Location"]
        _, h, body = req("GET", login)
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert found
        form = {
            "csrfmiddlewaretoken": found.group(1).decode(),
            "username": numbers[i % 32],
            "password": ob.PASSWORD,
        }
        _, h, _ = req("POST", login, urlencode(form), {"Referer": base + login})
        _, h, _ = req("GET", h["Location"])
        code = parse_qs(urlsplit(h["Location"]).query)["code"][0]
        exchange = urlencode(ob._code_exchange(params, verifier, code))
        _, _, body = req("POST", "/oidc/token", exchange, {"Authorization": auth})
        status, _, _ = req(
            "GET", "/oidc/userinfo", None, {"Authorization": "Bearer " + json.loads(body)["access_token"]}
        )
        assert status == 200
        b.close()
    result: dict[str, object] = {}
    for name, (server_cpu, pg_cpu) in cpu.items():
        s, p = statistics.fmean(server_cpu[10:]) * 1000, statistics.fmean(pg_cpu[10:]) * 1000
        result[name] = {"server_cpu_ms": round(s, 2), "postgres_cpu_ms": round(p, 2)}
        print(f"{name:28s} server {s:7.2f} ms  PostgreSQL {p:5.2f} ms", flush=True)
    from django.contrib.auth.hashers import Argon2PasswordHasher

    hasher = Argon2PasswordHasher()
    encoded = hasher.encode(ob.PASSWORD, hasher.salt())
    alone = []
    for _ in range(20):
        t0 = time.process_time()
        hasher.verify(ob.PASSWORD, encoded)
        alone.append(time.process_time() - t0)
    result["argon2_verify_alone_cpu_ms"] = round(statistics.fmean(alone) * 1000, 1)
    print(f"Argon2 verification alone, process CPU: {result['argon2_verify_alone_cpu_ms']} ms")
    return result


if __name__ == "__main__":
    main()
