"""Profile: the CPU the verification hot route (``identity.fasthttp``, ADR 0014) spends per request,
in process, part by part — no HTTP server, no load generator.

Each part is called ``--calls`` times per round in a loop timed with ``time.thread_time_ns`` (the
CPU time of this thread: waits for PostgreSQL and time taken by other processes of a shared machine
are not counted); the figure reported is the median over ``--rounds`` rounds of the mean per call,
in µs. Parts:

* ``request``  — ``fasthttp._request``: Django's ``WSGIRequest`` over the environ, host check;
* ``body``     — ``fasthttp._verify_body``: the JSON body read and validated (``VerifyIn``);
* ``key``      — ``keycache.authenticate``: the API key from the per-process cache;
* ``rate``     — ``ratelimit.take``: the token bucket;
* ``qr``       — ``qr.parse_card_qr``: the card QR parsed and cross-checked;
* ``answer``   — ``fasthttp._respond`` of a match: the JSON answer and its headers;
* ``ping``     — the whole empty endpoint through ``FastRoutes`` (signals included);
* ``verify``   — the whole yes/no verification through ``FastRoutes``: every request a QR of a
  different citizen with a new ``request_id``, so the statement writes its receipt and audit event
  (client CPU of the statement included, PostgreSQL's not); ``verify_wall`` is its wall time.

``--in-route`` times the route's functions *inside* whole verifications instead (each wrapped in
a timer where the route looks it up): the caches are then as the request leaves them, and each
part costs several times its figure in a loop of its own.

``--compare OLD_SRC`` runs this script on ``OLD_SRC`` (e.g. an export of the last commit's
``src``) and on this tree alternately, ``--repeat`` times each, and prints both; the figures of
the two trees are then from the same run, on the same database, under the same load.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dancu_x .venv/bin/python bench/verify_route_profile.py
    git archive HEAD src | tar -x -C /tmp/before
    DATABASE_URL=… .venv/bin/python bench/verify_route_profile.py --compare /tmp/before/src

Writes receipts and audit events like the HTTP benchmark (request ids ``profile-<tag>-<n>``) and
deletes them and its API key afterwards, also after a failure (``verify_http_bench.cleanup_run``);
run it on a database of your own (it refuses ``dancu_lookup``
unless ``--allow-lookup``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SECRET = "profile-only-secret-key-0123456789abcdef-verify-route"  # noqa: S105 — in-process profile
PARTS = ("request", "body", "key", "rate", "qr", "answer", "ping", "verify", "verify_wall")


def _setup(src: Path) -> None:
    os.environ.setdefault("SECRET_KEY", SECRET)
    os.environ["DJANGO_SETTINGS_MODULE"] = "dancu.settings"
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    os.environ.setdefault("DEBUG", "0")
    os.environ["DANCU_API_RATE_PER_MINUTE"] = "10000000"
    os.environ["DANCU_API_BURST"] = "10000000"
    os.environ.pop("CACHE_URL", None)
    sys.path.insert(0, str(src))
    sys.path.insert(1, str(ROOT / "bench"))
    import django

    django.setup()


def _environ(path: str, token: str, body: bytes) -> dict[str, Any]:
    """A request as gunicorn hands it over (wrk's headers)."""
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
    }


def _time(fn: Callable[[int], object], calls: int) -> tuple[float, float]:
    """Mean CPU µs and mean wall µs per call of ``fn(i)``, i = 0 … calls-1."""
    c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
    for i in range(calls):
        fn(i)
    c1, w1 = time.thread_time_ns(), time.perf_counter_ns()
    return (c1 - c0) / calls / 1000, (w1 - w0) / calls / 1000


def profile(
    calls: int, rounds: int, qr_count: int, verify_calls: int, in_route: bool = False
) -> dict[str, float]:
    from verify_http_bench import _api_key, _event_marker, _sample_qr_texts, cleanup_run

    texts, _skipped = _sample_qr_texts(qr_count, seed=5)
    marker = _event_marker()
    token, key_id, org_id = _api_key()
    tag = uuid.uuid4().hex[:10]
    try:
        return _profile(calls, rounds, verify_calls, in_route, texts, token, org_id, tag)
    finally:  # the receipts, audit events and key the run added (``verify_http_bench.cleanup_run``)
        cleanup_run(org_id, key_id, f"profile-{tag}", marker)


def _profile(
    calls: int,
    rounds: int,
    verify_calls: int,
    in_route: bool,
    texts: list[str],
    token: str,
    org_id: int,
    tag: str,
) -> dict[str, float]:
    from django.conf import settings
    from django.utils import timezone

    from dancu.blocks.identity import fasthttp
    from dancu.blocks.identity.qr import parse_card_qr
    from dancu.blocks.organisations import keycache
    from dancu.ratelimit import Rate, take

    today = timezone.localdate()
    app = fasthttp.FastRoutes(lambda environ, start_response: [b"passed on"])
    statuses: dict[str, int] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        statuses[status] = statuses.get(status, 0) + 1

    counter = iter(range(10**9))

    def verify_body() -> bytes:
        n = next(counter)
        return json.dumps(
            {
                "request_id": f"profile-{tag}-{n}",
                "purpose": "identity.verification",
                "mode": "yes_no",
                "evidence": {"kind": "qr", "text": texts[n % len(texts)]},
            },
            ensure_ascii=False,
        ).encode()

    bodies = [verify_body() for _ in range(calls)]  # for the parts that do not write
    rate = Rate(settings.DANCU_API_RATE_PER_MINUTE, settings.DANCU_API_BURST)
    keycache.authenticate(token)
    client = keycache.authenticate(token)
    request = fasthttp._request(_environ(fasthttp.VERIFY, token, bodies[0]))
    from dancu.blocks.identity import services

    result = services.VerificationResult(
        str(uuid.uuid4()), timezone.now(), "identity.verification", "yes_no", "qr", "match", (), 1.0, None
    )

    def p_request(i: int) -> object:
        return fasthttp._request(_environ(fasthttp.VERIFY, token, bodies[i]))

    envs: list[dict[str, Any]] = []
    reqs: list[Any] = []

    def prep_body() -> None:
        envs[:] = [_environ(fasthttp.VERIFY, token, b) for b in bodies]
        reqs[:] = [fasthttp._request(e) for e in envs]

    def p_body(i: int) -> object:
        return fasthttp._verify_body(envs[i], reqs[i])

    def p_key(i: int) -> object:
        return keycache.authenticate(token)

    def p_rate(i: int) -> object:
        return take(f"apikey:{client.key_id}", rate)

    def p_qr(i: int) -> object:
        return parse_card_qr(texts[i % len(texts)], reference=today)

    def p_answer(i: int) -> object:
        return fasthttp._respond(request, 200, fasthttp._out(result), [])

    def p_ping(i: int) -> object:
        return app(_environ(fasthttp.PING, token, b""), start_response)

    venvs: list[dict[str, Any]] = []

    def prep_verify() -> None:
        venvs[:] = [_environ(fasthttp.VERIFY, token, verify_body()) for _ in range(verify_calls)]

    def p_verify(i: int) -> object:
        return app(venvs[i], start_response)

    if in_route:  # the parts timed inside the whole verification, as the route calls them
        return _in_route(app, start_response, prep_verify, venvs, verify_calls, rounds, org_id, tag)
    samples: dict[str, list[float]] = {p: [] for p in PARTS}
    for _ in range(rounds + 1):  # the first round warms up and is discarded
        keycache.clear()
        keycache.authenticate(token)
        got: dict[str, float] = {}
        got["request"] = _time(p_request, calls)[0]
        prep_body()
        got["body"] = _time(p_body, calls)[0]
        got["key"] = _time(p_key, calls)[0]
        got["rate"] = _time(p_rate, calls)[0]
        got["qr"] = _time(p_qr, calls)[0]
        got["answer"] = _time(p_answer, calls)[0]
        got["ping"] = _time(p_ping, calls)[0]
        prep_verify()
        got["verify"], got["verify_wall"] = _time(p_verify, verify_calls)
        for part, value in got.items():
            samples[part].append(value)
    for part in PARTS:
        samples[part] = samples[part][1:]
    out = {part: round(statistics.median(values), 1) for part, values in samples.items()}
    out["statuses"] = statuses  # type: ignore[assignment]
    return out


IN_ROUTE = (
    ("fasthttp", "_request"),
    ("fasthttp", "_verify_body"),
    ("keycache", "authenticate"),
    ("fasthttp", "take"),
    ("fasthttp", "_exact_claim"),
    ("services", "_fingerprint"),
    ("pg_verify", "submit"),
    ("fasthttp", "_verify"),
    ("fasthttp", "_respond"),
)


def _in_route(
    app: Any,
    start_response: Callable[..., None],
    prepare: Callable[[], None],
    venvs: list[dict[str, Any]],
    verify_calls: int,
    rounds: int,
    org_id: int,
    tag: str,
) -> dict[str, float]:
    """CPU µs per verification of each function of ``IN_ROUTE`` (wrapped in a timer where the
    route looks it up), measured while whole verifications run: with the route's own cache state
    between its parts, unlike the loops of one part. ``_verify`` includes ``_exact_claim``,
    ``_fingerprint`` and ``submit`` (the statement's client CPU); ``total`` is the whole request."""

    from dancu.blocks.identity import fasthttp, pg_verify, services
    from dancu.blocks.organisations import keycache

    modules = {"fasthttp": fasthttp, "keycache": keycache, "services": services, "pg_verify": pg_verify}
    spent: dict[str, int] = {}

    def timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            t0 = time.thread_time_ns()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0) + time.thread_time_ns() - t0

        return call

    for module, name in IN_ROUTE:
        setattr(modules[module], name, timed(name, getattr(modules[module], name)))
    samples: dict[str, list[float]] = {}
    for round_ in range(rounds + 1):
        prepare()
        spent.clear()
        cpu = _time(lambda i: app(venvs[i], start_response), verify_calls)[0]
        if round_:
            samples.setdefault("total", []).append(cpu)
            for label, ns in spent.items():
                samples.setdefault(label, []).append(ns / verify_calls / 1000)
    return {label: round(statistics.median(values), 1) for label, values in samples.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--verify-calls", type=int, default=300, help="writing verifications per round")
    ap.add_argument("--qr", type=int, default=2000, help="distinct citizens' QR texts")
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="the source tree to profile")
    ap.add_argument("--compare", type=Path, help="another source tree, profiled alternately with --src")
    ap.add_argument("--repeat", type=int, default=2, help="with --compare: runs of each tree")
    ap.add_argument("--allow-lookup", action="store_true", help="allow the shared dancu_lookup database")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--in-route", action="store_true", help="time the parts inside whole verifications")
    args = ap.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if url.rstrip("/").endswith("/dancu_lookup") and not args.allow_lookup:
        raise SystemExit("refusing to write profile receipts to dancu_lookup (use your own database)")
    if args.compare is None:
        _setup(args.src)
        print(json.dumps(profile(args.calls, args.rounds, args.qr, args.verify_calls, args.in_route)))
        return
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(args.repeat):
        for name, src in (("before", args.compare), ("after", args.src)):
            cmd = [sys.executable, __file__, "--src", str(src), "--calls", str(args.calls)]
            cmd += [
                "--rounds",
                str(args.rounds),
                "--qr",
                str(args.qr),
                "--verify-calls",
                str(args.verify_calls),
            ]
            cmd += ["--allow-lookup"] if args.allow_lookup else []
            cmd += ["--in-route"] if args.in_route else []
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            runs[name].append(json.loads(out.strip().splitlines()[-1]))
            print(name, runs[name][-1], file=sys.stderr)
    parts = [p for p in runs["after"][0] if p != "statuses"]
    table = {
        part: {name: round(statistics.median(r.get(part, 0.0) for r in rs), 1) for name, rs in runs.items()}
        for part in parts
    }
    print(f"{'part':<12}{'before µs':>12}{'after µs':>12}")
    for part, row in table.items():
        print(f"{part:<12}{row['before']:>12}{row['after']:>12}")
    if args.json:
        args.json.write_text(json.dumps({"parts": table, "runs": runs}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
