"""The production application server keeps what ``docs/deploy/uwsgi.ini`` promises (ADR 0023).

A real uWSGI process group (master and two workers of four threads, the configuration file as
shipped) serves the platform against the test database; the tests talk HTTP to it:

* keep-alive: one connection carries a page of Django's stack and a token answered by the fast
  layer ahead of it (``sso.fasthttp``) — a machine client's requests do not pay a TCP handshake each;
* request headers of 30 KiB are taken (the file allows 32 KiB; uWSGI's own default of 4 KiB
  drops a request with a few large cookies);
* a request body is streamed: the application answers a 50 MB upload it refuses before the client
  has sent more than its first 64 KiB (with buffering the server would wait for the whole body);
* no request line reaches the server's output: a refused call naming an ID number leaves neither
  the number (Django's own 4xx line is masked, ``dancu.logredact``) nor an access-log line.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.server_support import free_port, server_env

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="needs PostgreSQL: the server process and the test share the database",
    ),
]

UWSGI = Path(sys.executable).with_name("uwsgi")
INI = Path(__file__).resolve().parents[2] / "docs" / "deploy" / "uwsgi.ini"
AN = "001085000001"  # an ID number in a path


class Server:
    """uWSGI with the shipped configuration on a free port, against the test database."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        env = server_env()
        cmd = [str(UWSGI), "--ini", str(INI), "--http11-socket", f"127.0.0.1:{self.port}"]
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"uwsgi exited:\n{log.read_text()[-3000:]}")
            if log.read_text(errors="replace").count("(default app)") >= 2:  # both workers loaded
                return
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"uwsgi did not load the application within 60 s:\n{log.read_text()[-3000:]}")

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, django_db_setup: None, django_db_blocker: Any
) -> Iterator[Server]:
    """One server for the module (its start-up, two workers loading the platform, is the slow part)."""
    assert UWSGI.exists(), "uWSGI is the server extra (pyproject.toml): run make install"
    with django_db_blocker.unblock():
        s = Server(tmp_path_factory.mktemp("uwsgi") / "uwsgi.log")
    try:
        yield s
    finally:
        s.stop()


def test_one_connection_carries_a_page_and_a_fast_token(server: Server) -> None:
    """A machine client of the city's document system asks for the discovery document (Django)
    and then for a token (client credentials, answered by the fast layer) on one connection."""
    from dancu.blocks.sso.services import register_client

    machine = register_client(name_vi="Hệ thống quản lý văn bản", machine=True, scopes=["openid"])
    basic = base64.b64encode(f"{machine.client_id}:{machine.client_secret}".encode()).decode()
    conn = server.connect()

    conn.request("GET", "/.well-known/openid-configuration")
    discovery = conn.getresponse()
    document = json.loads(discovery.read())
    first_socket = conn.sock
    conn.request(
        "POST",
        "/oidc/token",
        body=urlencode({"grant_type": "client_credentials"}),
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    token = conn.getresponse()
    answer = json.loads(token.read())

    assert discovery.status == 200 and document["token_endpoint"].endswith("/oidc/token")
    assert token.status == 200, answer
    assert answer["token_type"] == "Bearer" and len(answer["access_token"]) == 30
    assert conn.sock is first_socket  # the same TCP connection (HTTP/1.1 keep-alive)
    conn.close()


def test_request_headers_of_30_kib_are_taken(server: Server) -> None:
    conn = server.connect()
    conn.request("GET", "/.well-known/openid-configuration", headers={"Cookie": "pref=" + "a" * 30 * 1024})
    res = conn.getresponse()
    res.read()
    assert res.status == 200
    conn.close()


def test_a_refused_upload_is_answered_before_its_body_has_been_sent(server: Server) -> None:
    """A 50 MB form posted without a CSRF token: the application refuses it (403) as soon as it is
    called; the server calls it without waiting for the body (``post-buffering = 0``), so the
    answer arrives while the client has sent only 64 KiB."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    head = (
        "POST /i18n/setlang/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {50 * 1024 * 1024}\r\n\r\n"
    )
    sock.sendall(head.encode() + b"a" * 64 * 1024)
    sock.settimeout(15)
    received = sock.recv(65536)
    sock.close()
    assert received.startswith(b"HTTP/1.1 403"), received[:200]


def test_no_request_line_and_no_id_number_reach_the_servers_output(server: Server) -> None:
    conn = server.connect()
    conn.request("GET", f"/api/v1/registry/citizens/{AN}?purpose=health.checkin")
    res = conn.getresponse()
    res.read()
    conn.close()
    assert res.status == 401
    time.sleep(0.5)  # the worker's log line is written after the answer

    out = server.log.read_text(errors="replace")
    assert "Unauthorized: /api/v1/registry/citizens/001*********" in out  # Django's line, masked
    assert AN not in out
    assert "GET /api/v1/registry" not in out  # no access-log line
