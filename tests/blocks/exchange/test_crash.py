"""Crash safety (issue 5, "Bad input and faults"): killing the server in the middle of a burst of
exchanges loses no acknowledged log record and leaves the chain verifiable.

BHXH Hà Nội's intake system fires a burst of exchanges at a real gateway process (gunicorn, the
production WSGI application) from eight threads; the operator's server is killed with SIGKILL —
the whole process group, no clean shutdown — after the first acknowledgements. Then:

* every exchange BHXH got a 2xx for is in the message log, with the message id and response hash
  BHXH was given;
* ``dancu exchange seal`` and ``dancu exchange verify`` pass;
* BHXH retries the request ids it got no answer for, with the same bodies, on a restarted server:
  each completes, those that had in fact committed are replayed from the log, and no request id
  has two answered records.

PostgreSQL only: the server process and the test share the database (the test commits its data;
SQLite's in-memory test database cannot be shared with another process).
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from dancu.blocks.exchange.models import Message
from tests.blocks.exchange.conftest import World
from tests.server_support import free_port, server_env

pytestmark = pytest.mark.django_db(transaction=True)

BURST = 160  # exchanges in the burst
THREADS = 8
KILL_AFTER = 30  # acknowledgements before the kill
GUNICORN = Path(sys.executable).with_name("gunicorn")
ANSWERED = ("ok", "provider_error")


class Server:
    """A gunicorn process group serving the gateway against the test database."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        env = server_env(
            DANCU_EXCHANGE_RATE_PER_MINUTE="0",  # the burst is not what is tested here
            DANCU_EXCHANGE_LANES="4",  # the production path: group commits (ADR 0010 §13)
        )
        cmd = [
            str(GUNICORN), "dancu.wsgi",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", "2", "--worker-class", "gthread", "--threads", "4",
            "--log-level", "warning", "--preload",  # the app loaded once, then forked
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
        )
        self.log = log
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise AssertionError("gunicorn did not start within 30 s")

    def kill(self) -> None:
        """SIGKILL the whole process group (master and workers): no clean shutdown."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        # The workers may outlive the master for an instant; wait until the group is gone.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def _post(port: int, service_id: str, token: str, client: str, rid: str, body: bytes) -> dict[str, Any]:
    """One exchange as BHXH's system sends it; the answer's status and log headers, or the error
    that kept it from being answered."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request(
            "POST",
            f"/exchange/{service_id}/",
            body=body,
            headers={
                "Content-Type": "application/json",
                "Information-Mediator-Client": client,
                "Authorization": f"Bearer {token}",
                "X-Request-Id": rid,
                "X-Purpose": "public_service.processing",
                "X-End-User": "canbo.nguyenthimai",
                "X-Case-Reference": "HS-BHXH-2026-0042",
            },
        )
        res = conn.getresponse()
        res.read()
        return {
            "status": res.status,
            "message_id": res.getheader("X-Exchange-Message-Id"),
            "response_hash": res.getheader("X-Exchange-Response-Hash"),
            "replayed": res.getheader("X-Exchange-Replayed"),
        }
    except (OSError, http.client.HTTPException) as exc:
        return {"status": None, "error": exc.__class__.__name__}
    finally:
        conn.close()


def _seal_and_verify() -> None:
    time.sleep(2.1)  # ``seal`` chains the messages older than 2 s
    call_command("exchange", "seal", stdout=io.StringIO())
    assert not Message.objects.filter(seq__isnull=True).exists()
    call_command("exchange", "verify", stdout=io.StringIO())  # raises on a finding


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL: the gateway process and the test share the database",
)
def test_killing_the_server_mid_burst_loses_no_acknowledged_exchange(
    world: World, grant: Callable[..., Any], an_tay_ho: Any, binh_hoan_kiem: Any, tmp_path: Path
) -> None:
    assert GUNICORN.exists(), "gunicorn is a dependency (pyproject.toml): run make install"
    started = time.monotonic()
    grant()
    service_id = world.service_id("citizen")
    client, token = world.bhxh.identifier, world.bhxh_token
    people = [an_tay_ho.id_number, binh_hoan_kiem.id_number]
    bodies = {f"crash-{i:04d}": json.dumps({"id_number": people[i % 2]}).encode() for i in range(BURST)}
    results: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    acked = threading.Event()

    server = Server(tmp_path / "gunicorn.log")
    try:
        work = sorted(bodies)

        def fire(mine: list[str]) -> None:
            for rid in mine:
                out = _post(server.port, service_id, token, client, rid, bodies[rid])
                with lock:
                    results[rid] = out
                    if sum(1 for r in results.values() if r["status"] == 200) >= KILL_AFTER:
                        acked.set()

        threads = [threading.Thread(target=fire, args=(work[i::THREADS],)) for i in range(THREADS)]
        for t in threads:
            t.start()
        assert acked.wait(timeout=30), "the first acknowledgements did not come"
        server.kill()  # mid-burst: requests are in flight, others not yet sent
        for t in threads:
            t.join(timeout=30)
    finally:
        server.kill()

    ok = {rid: r for rid, r in results.items() if r["status"] is not None and 200 <= r["status"] < 300}
    unanswered = sorted(set(bodies) - set(ok))
    assert len(ok) >= KILL_AFTER
    assert unanswered, "the kill came after the burst: nothing was interrupted"
    assert all(r["status"] is None for rid, r in results.items() if rid not in ok), results

    # Every acknowledged exchange is in the log, as acknowledged.
    logged = {
        m.request_id: m
        for m in Message.objects.filter(client_id=client, request_id__in=list(ok), outcome__in=ANSWERED)
    }
    assert sorted(logged) == sorted(ok)
    for rid, r in ok.items():
        assert str(logged[rid].pk) == r["message_id"]
        assert logged[rid].response_hash == r["response_hash"]

    _seal_and_verify()

    # BHXH retries what it got no answer for, with the same bodies, on a restarted server.
    restarted = Server(tmp_path / "gunicorn.log")
    try:
        retried = {
            rid: _post(restarted.port, service_id, token, client, rid, bodies[rid]) for rid in unanswered
        }
        again = _post(restarted.port, service_id, token, client, sorted(ok)[0], bodies[sorted(ok)[0]])
    finally:
        restarted.kill()

    assert {r["status"] for r in retried.values()} == {200}, retried
    assert again["replayed"] == "true"
    assert again["message_id"] == ok[sorted(ok)[0]]["message_id"]
    for rid in bodies:  # one answered record per request id: no duplicate
        assert Message.objects.filter(client_id=client, request_id=rid, outcome__in=ANSWERED).count() == 1
    committed_before = [rid for rid, r in retried.items() if r["replayed"] == "true"]
    for rid in committed_before:  # committed but never acknowledged: the retry got the stored answer
        assert Message.objects.get(client_id=client, request_id=rid, outcome__in=ANSWERED).pk == int(
            retried[rid]["message_id"]
        )

    _seal_and_verify()
    assert time.monotonic() - started < 60
