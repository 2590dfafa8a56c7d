"""Shared by the SSRF tests of ``dancu.outbound`` and of the two webhook features (residence,
exchange): the URLs that must be refused, a fake DNS for names that resolve to private addresses,
and a local HTTP server that records what it receives."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

# Address literals that reach the platform's own network (OWASP SSRF cheat sheet; RFC 6890), in
# the encodings the lenient C parser accepts, and URLs that break the other rules.
LITERAL_BYPASSES = (
    "https://127.1/",
    "https://0x7f000001/",
    "https://2130706433/",
    "https://169.254.43518/",
    "https://0177.0.0.1/",
    "https://localhost./",
    "https://localhost/",
    "https://api.localhost/",
    "https://127.0.0.1/",
    "https://10.0.0.5/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/",
    "https://0.0.0.0/",
    "https://224.0.0.1/",
    "https://[::1]/",
    "https://[::]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:a9fe:a9fe]/",
    "https://[fe80::1]/",
    "https://[fc00::1]/",
    "https://[2002:7f00:1::]/",
    "https://[64:ff9b::a00:5]/",
    "http://hooks.example.org/",
    "ftp://hooks.example.org/",
    "https://u:p@hooks.example.org/",
    "https://hooks.example.org@127.0.0.1/",
    "https://hooks.example.org:0/",
    "https://hooks.example.org:99999/",
    "https://hooks_example.org/",
)

# Names and what the fake DNS answers for them: each has a private or local address.
PRIVATE_NAMES = {
    "internal.example.org": ["10.1.2.3"],
    "loopback.example.org": ["127.0.0.1"],
    "metadata.example.org": ["169.254.169.254"],
    "mixed.example.org": ["93.184.215.14", "127.0.0.1"],
    "mapped.example.org": ["::ffff:192.168.0.1"],
}
PUBLIC_NAMES = {"hooks.example.org": ["93.184.215.14"]}


def fake_dns(monkeypatch: pytest.MonkeyPatch, names: dict[str, list[str]]) -> list[str]:
    """Make ``socket.getaddrinfo`` answer ``names`` (other hosts resolve as usual); returns the
    list of the faked names looked up, in order."""
    real = socket.getaddrinfo
    looked_up: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in names:
            return real(host, port, *args, **kwargs)
        looked_up.append(name)
        answers: list[Any] = []
        for ip in names[name]:
            if ":" in ip:
                answers.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0)))
            else:
                answers.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)))
        return answers

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


@dataclass
class LocalServer:
    """A local HTTP server on 127.0.0.1: answers ``status`` (with ``location``) and records each
    request's headers and body."""

    port: int = 0
    status: int = 200
    location: str = ""
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@contextmanager
def local_server(status: int = 200, location: str = "") -> Iterator[LocalServer]:
    state = LocalServer(status=status, location=location)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.status)
            if state.location:
                self.send_header("Location", state.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
