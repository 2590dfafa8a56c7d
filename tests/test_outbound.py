"""``dancu.outbound``: webhook URLs that would reach the platform's own network are refused when
registered and again when delivered (OWASP SSRF Prevention Cheat Sheet; RFC 6890 special-purpose
addresses), the connection goes to the address that was checked, and redirects are not followed."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dancu import outbound
from tests.outbound_support import (
    LITERAL_BYPASSES,
    PRIVATE_NAMES,
    PUBLIC_NAMES,
    fake_dns,
    local_server,
)


@pytest.fixture(autouse=True)
def _dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return fake_dns(monkeypatch, PRIVATE_NAMES | PUBLIC_NAMES | {"hook.test": ["127.0.0.1"]})


@pytest.mark.parametrize("url", LITERAL_BYPASSES)
def test_a_local_or_malformed_url_is_refused_when_registered(url: str) -> None:
    assert outbound.url_problem(url, allow_http_hosts=())


@pytest.mark.parametrize("name", sorted(PRIVATE_NAMES))
def test_a_name_resolving_to_a_private_address_is_refused_when_registered(name: str) -> None:
    assert "resolve" in outbound.url_problem(f"https://{name}/hook", allow_http_hosts=())


def test_a_public_https_url_is_accepted_and_an_unresolvable_one_left_to_delivery() -> None:
    assert outbound.url_problem("https://hooks.example.org/hook?x=1", allow_http_hosts=()) == ""
    assert outbound.url_problem("https://93.184.215.14:8443/hook", allow_http_hosts=()) == ""
    assert (
        outbound.url_problem("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/", allow_http_hosts=()) == ""
    )
    assert outbound.url_problem("https://not-there.invalid/hook", allow_http_hosts=()) == ""


def test_plain_http_and_local_addresses_only_for_the_listed_hosts() -> None:
    assert outbound.url_problem("http://127.0.0.1:8000/h", allow_http_hosts=["127.0.0.1"]) == ""
    assert outbound.url_problem("http://127.0.0.2:8000/h", allow_http_hosts=["127.0.0.1"])
    assert outbound.url_problem("http://hook.test/h", allow_http_hosts=["HOOK.test."]) == ""
    assert outbound.url_problem("https://u:p@127.0.0.1/h", allow_http_hosts=["127.0.0.1"])


@pytest.mark.parametrize("url", LITERAL_BYPASSES)
def test_a_local_or_malformed_url_is_refused_at_delivery(url: str) -> None:
    with pytest.raises(outbound.Refused):
        outbound.post(url, b"{}", {}, 2)


@pytest.mark.parametrize("name", sorted(PRIVATE_NAMES))
def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(name: str) -> None:
    with pytest.raises(outbound.Refused, match="private or local"):
        outbound.post(f"https://{name}/hook", b"{}", {}, 2)


def test_nothing_reaches_a_local_server_behind_a_name() -> None:
    with local_server() as server:
        with pytest.raises(outbound.Refused):
            outbound.post(f"https://loopback.example.org:{server.port}/hook", b"{}", {}, 2)
        with pytest.raises(outbound.Refused):
            outbound.post(f"http://loopback.example.org:{server.port}/hook", b"{}", {}, 2)
    assert server.requests == []


def test_the_checked_address_is_the_one_connected_to_with_the_names_host_header(_dns: list[str]) -> None:
    with local_server(status=204) as server:
        status = outbound.post(
            f"http://hook.test:{server.port}/in?a=1",
            b'{"x": 1}',
            {"Content-Type": "application/json", "Host": "evil.example"},
            2,
            allow_http_hosts=["hook.test"],
        )
    assert status == 204
    ((headers, body),) = server.requests
    assert headers["host"] == f"hook.test:{server.port}" and body == b'{"x": 1}'
    # Resolved once, for the check; the connection used that answer (no second look-up that a
    # rebinding DNS server could answer differently).
    assert _dns == ["hook.test"]


def test_redirects_are_not_followed() -> None:
    with local_server() as target, local_server(status=302, location=target.url) as first:
        status = outbound.post(first.url, b"{}", {}, 2, allow_http_hosts=["127.0.0.1"])
        for code in (301, 303, 307, 308):
            first.status = code
            assert outbound.post(first.url, b"{}", {}, 2, allow_http_hosts=["127.0.0.1"]) == code
    assert status == 302
    assert len(first.requests) == 5 and target.requests == []


def test_an_unreachable_receiver_is_an_os_error() -> None:
    with pytest.raises(OSError):
        outbound.post("http://127.0.0.1:9/closed", b"{}", {}, 2, allow_http_hosts=["127.0.0.1"])


def test_forbidden_addresses_follow_the_special_purpose_registries() -> None:
    forbidden = [
        "198.18.0.1",
        "192.0.0.8",
        "192.0.2.1",
        "240.0.0.1",
        "255.255.255.255",
        "ff02::1",
        "::ffff:10.0.0.1",
    ]
    allowed = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"]
    assert all(outbound.forbidden_address(ipaddress.ip_address(a)) for a in forbidden)
    assert not any(outbound.forbidden_address(ipaddress.ip_address(a)) for a in allowed)


# --- HTTPS: SNI and the certificate are checked against the name, not the address ---


def _certificate(tmp: Path, name: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@dataclass
class TLSServer:
    port: int
    cert_file: Path
    hosts: list[str] = field(default_factory=list)  # Host headers received
    snis: list[str] = field(default_factory=list)  # server names the clients sent


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[TLSServer]:
    cert_file, key_file = _certificate(tmp_path, "hook.test")
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = TLSServer(server.server_address[1], cert_file)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            state.hosts.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    def sni(sock: Any, name: str | None, ctx: Any) -> None:
        state.snis.append(name or "")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = sni
    server.RequestHandlerClass = Handler
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def test_https_goes_to_the_checked_address_with_sni_and_certificate_of_the_name(
    tls_server: TLSServer,
) -> None:
    trust = ssl.create_default_context(cafile=str(tls_server.cert_file))
    url = f"https://hook.test:{tls_server.port}/hook"
    assert outbound.post(url, b"{}", {}, 5, allow_http_hosts=["hook.test"], context=trust) == 200
    assert tls_server.snis == ["hook.test"] and tls_server.hosts == [f"hook.test:{tls_server.port}"]
    # The same address under another name: the certificate does not match it, nothing is posted.
    with pytest.raises(ssl.SSLCertVerificationError):
        outbound.post(
            f"https://127.0.0.1:{tls_server.port}/hook",
            b"{}",
            {},
            5,
            allow_http_hosts=["127.0.0.1"],
            context=trust,
        )
    assert tls_server.hosts == [f"hook.test:{tls_server.port}"]
