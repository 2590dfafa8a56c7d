"""Forwarding to an external provider over HTTP: Sở Lao động's system asks BHXH's own system
(a provider outside the platform) for a person's insurance status. The answer is filtered to the
granted fields; a provider that refuses is passed on; one that hangs, fails or answers garbage is
reported precisely (502/504), logged, and the client may retry under the same request id."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from dancu.blocks.exchange import crypto
from dancu.blocks.exchange.models import Message
from tests.blocks.exchange.conftest import Call, World
from tests.conftest import Person

SEEN: list[dict[str, str]] = []


class Provider(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        SEEN.append({k.lower(): v for k, v in self.headers.items()} | {"path": self.path})
        kind = self.path.strip("/").split("/")[1].split("?")[0] if "/" in self.path.strip("/") else ""
        if kind == "slow":
            time.sleep(2.5)
        if kind == "redirect":  # to the provider's own "ok" answer: a client that follows would get data
            self.send_response(302)
            self.send_header("Location", self.path.replace("redirect", "ok"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if kind == "garbage":
            self._send(200, b"<html>oops</html>")
        elif kind == "refuse":
            self._send(
                404,
                json.dumps(
                    {"detail": [{"field": "id_number", "rule": "not_insured", "message": "x"}]}
                ).encode(),
            )
        elif kind == "fail":
            self._send(500, b"boom")
        else:
            body = {
                "data": {
                    "id_number": "001085012345",
                    "insured": True,
                    "book_number": "0123456789",
                    "salary": 12_000_000,
                }
            }
            self._send(200, json.dumps(body).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def provider_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    SEEN.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/bhxh"
    finally:
        server.shutdown()
        server.server_close()


def _register(operator: Person, world: World, url: str, fields: list[str]) -> Any:
    """BHXH's own insurance-status service, registered by the platform operator."""
    from dancu.blocks.exchange import services as ex

    return ex.register_external_service(
        operator.actor,
        world.bhxh,
        code="insurance-status",
        title_vi="Tình trạng tham gia bảo hiểm xã hội",
        title_en="Social insurance status",
        legal_basis="Luật Bảo hiểm xã hội 2024",
        endpoint_url=url,
        fields_by_purpose={"public_service.processing": fields},
    )


@pytest.fixture
def insurance(
    world: World, operator: Person, provider_url: str, labour_admin: Person, bhxh_admin: Person, settings: Any
) -> Any:
    from dancu.blocks.exchange import services as ex

    settings.DANCU_EXCHANGE_PROVIDER_TIMEOUT = 1
    settings.DANCU_EXCHANGE_PROVIDER_HOSTS = ["127.0.0.1"]  # the operator's allow-list: this test provider
    svc = _register(operator, world, provider_url, ["id_number", "insured", "book_number"])
    now = timezone.now()
    g = ex.request_grant(
        labour_admin.actor,
        client=world.labour,
        service=svc,
        purposes={"public_service.processing": ["id_number", "insured"]},
        legal_basis="Nghị định 47/2020/NĐ-CP",
        valid_from=now - timedelta(minutes=1),
        valid_until=now + timedelta(days=30),
    )
    ex.approve_grant(bhxh_admin.actor, g.pk)
    return svc


def _as_labour(call: Callable[..., Call], world: World, path: str, request_id: str) -> Call:
    return call(
        service_id="VN-HN/GOV/BHXH-HN/TIEPNHAN/insurance-status",
        path=path,
        client=world.labour.identifier,
        token=world.labour_token,
        request_id=request_id,
    )


def test_an_external_answer_is_filtered_signed_and_the_provider_gets_the_signed_request(
    world: World, insurance: Any, call: Callable[..., Call]
) -> None:
    res = _as_labour(call, world, "ok/001085012345", "x-1")

    assert res.status == 200, res.json
    assert res.json["data"] == {"id_number": "001085012345", "insured": True}
    assert res.json["fields_withheld"] == ["book_number", "salary"]
    msg = Message.objects.get()
    assert msg.outcome == "ok"
    assert crypto.verify(world.bhxh.public_key, msg.response_signature, crypto.canonical(msg.response))
    sent = SEEN[0]
    assert sent["path"] == "/bhxh/ok/001085012345"
    assert sent["information-mediator-client"] == world.labour.identifier
    assert sent["x-exchange-request-hash"] == msg.request_hash
    assert crypto.verify(
        world.labour.public_key, sent["x-exchange-request-signature"], crypto.canonical(msg.request)
    )


@pytest.mark.parametrize(
    ("path", "status", "rule", "outcome"),
    [
        ("garbage/1", 502, "provider_garbage", "failed"),
        ("fail/1", 502, "provider_failed", "failed"),
        ("slow/1", 504, "provider_timeout", "failed"),
        ("refuse/1", 404, "not_insured", "provider_error"),
        ("redirect/1", 502, "provider_redirect", "failed"),
    ],
)
def test_provider_faults_are_reported_precisely_and_logged(
    world: World, insurance: Any, call: Callable[..., Call], path: str, status: int, rule: str, outcome: str
) -> None:
    res = _as_labour(call, world, path, "x-2")
    assert (res.status, res.rule) == (status, rule), res.json
    msg = Message.objects.get()
    assert (msg.outcome, msg.status) == (outcome, status)


def test_after_a_failure_the_same_request_id_may_be_retried(
    world: World, insurance: Any, call: Callable[..., Call]
) -> None:
    assert _as_labour(call, world, "fail/1", "retry-me").status == 502
    assert _as_labour(call, world, "fail/1", "retry-me").status == 502  # asked again, not replayed
    assert len(SEEN) == 2


def test_a_redirect_is_not_followed(world: World, insurance: Any, call: Callable[..., Call]) -> None:
    res = _as_labour(call, world, "redirect/001085012345", "x-3")
    assert (res.status, res.rule) == (502, "provider_redirect")
    assert [s["path"] for s in SEEN] == ["/bhxh/redirect/001085012345"]  # the target was never asked
    assert "data" not in res.json


def test_a_private_address_not_on_the_operators_allow_list_is_never_contacted(
    world: World, insurance: Any, call: Callable[..., Call], settings: Any
) -> None:
    settings.DANCU_EXCHANGE_PROVIDER_HOSTS = []  # the operator took the host off the list
    res = _as_labour(call, world, "ok/001085012345", "x-4")
    assert (res.status, res.rule) == (502, "provider_address_refused")
    assert SEEN == []
    assert Message.objects.get().outcome == "failed"


def test_registering_a_provider_at_a_private_address_needs_the_allow_list(
    world: World, operator: Person, settings: Any
) -> None:
    from dancu.errors import DomainValidationError

    settings.DANCU_EXCHANGE_PROVIDER_HOSTS = []
    for url in ("http://10.1.2.3/bhxh", "https://10.1.2.3/bhxh", "https://169.254.169.254/latest"):
        with pytest.raises(DomainValidationError) as err:
            _register(operator, world, url, ["id_number"])
        assert err.value.problems[0].field == "endpoint_url"
    settings.DANCU_EXCHANGE_PROVIDER_HOSTS = ["10.1.2.3"]
    assert (
        _register(operator, world, "https://10.1.2.3/bhxh", ["id_number"]).endpoint_url
        == "https://10.1.2.3/bhxh"
    )
