"""Webhooks: Khách sạn Hòa Bình registers a URL; each notification result is POSTed to it, signed
with HMAC-SHA256, retried with backoff while the receiver fails, and kept until delivered. Tested
against a real HTTP server on 127.0.0.1 (the only plain-HTTP host allowed, by setting)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from dancu.apps.residence import services, webhooks
from dancu.apps.residence.models import WebhookDelivery
from dancu.errors import DomainValidationError
from tests.apps.residence.conftest import an_by_qr, stay_of
from tests.conftest import Person
from tests.outbound_support import LITERAL_BYPASSES, PRIVATE_NAMES, PUBLIC_NAMES, fake_dns, local_server

pytestmark = pytest.mark.usefixtures("residents")
NOTIFY = "residence.notification"


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []  # answers to give, then 200


@pytest.fixture
def receiver(settings: Any) -> Iterator[tuple[Receiver, str]]:
    settings.DANCU_RESIDENCE_WEBHOOK_HTTP_HOSTS = ["127.0.0.1"]
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.statuses.pop(0) if state.statuses else 200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_a_result_is_posted_signed_and_delivered_once(
    hotel: services.EstablishmentView, hotel_clerk: Person, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    hook = services.register_webhook(hotel_clerk.ctx(NOTIFY), url)
    assert len(hook.secret) == 64
    data = stay_of(an_by_qr())
    result = services.check_in(hotel_clerk.ctx(NOTIFY), data, idempotency_key="k-1")
    services.check_in(hotel_clerk.ctx(NOTIFY), data, idempotency_key="k-1")  # a replay: no new result
    report = webhooks.deliver_due()
    assert (report.attempted, report.delivered) == (1, 1)
    ((headers, body),) = state.requests
    expected = hmac.new(
        hook.secret.encode(), headers["x-dancu-timestamp"].encode() + b"." + body, hashlib.sha256
    )
    assert headers["x-dancu-signature"] == "sha256=" + expected.hexdigest()
    payload = json.loads(body)
    assert payload["event"] == "notification.result" and payload["group_reference"] == result.group_reference
    assert payload["stays"][0]["status"] == "on_time" and "full_name" not in body.decode()
    assert webhooks.deliver_due().attempted == 0  # delivered: not sent again


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(
    hotel: services.EstablishmentView, hotel_clerk: Person, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    state.statuses = [500, 503]
    services.register_webhook(hotel_clerk.ctx(NOTIFY), url)
    services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr()))
    assert webhooks.deliver_due().failed == 1
    d = WebhookDelivery.objects.get()
    assert d.attempts == 1 and d.last_status == 500 and d.delivered_at is None
    assert d.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert webhooks.deliver_due().attempted == 0  # not due yet
    later = timezone.now() + timedelta(minutes=5)
    assert webhooks.deliver_due(now=later).failed == 1
    d.refresh_from_db()
    assert d.attempts == 2 and d.next_attempt_at > timezone.now() + timedelta(seconds=50)
    call_command("residence_webhooks", "--once", stdout=io.StringIO())
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    call_command("residence_webhooks", "--once", stdout=io.StringIO())
    d.refresh_from_db()
    assert d.delivered_at is not None and d.attempts == 3 and len(state.requests) == 3
    assert len({h["x-dancu-delivery"] for h, _ in state.requests}) == 1


def test_an_unreachable_receiver_keeps_the_result(
    hotel: services.EstablishmentView, hotel_clerk: Person, settings: Any
) -> None:
    settings.DANCU_RESIDENCE_WEBHOOK_HTTP_HOSTS = ["127.0.0.1"]
    services.register_webhook(hotel_clerk.ctx(NOTIFY), "http://127.0.0.1:9/closed")
    services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr()))
    assert webhooks.deliver_due().failed == 1
    d = WebhookDelivery.objects.get()
    assert d.delivered_at is None and d.last_status is None and d.last_error


def test_only_https_public_urls_are_registered_and_only_by_the_establishment(
    hotel: services.EstablishmentView, hotel_clerk: Person, ward_police: Person
) -> None:
    for url in (
        "http://pms.example.vn/x",
        "https://10.0.0.5/x",
        "https://127.0.0.1/x",
        "ftp://x",
        "https://u:p@x.vn/",
    ):
        with pytest.raises(DomainValidationError) as exc:
            services.register_webhook(hotel_clerk.ctx(NOTIFY), url)
        assert exc.value.problems[0].field == "url"
    assert services.register_webhook(hotel_clerk.ctx(NOTIFY), "https://pms.example.vn/dancu").url
    from dancu.errors import AccessDenied

    with pytest.raises(AccessDenied):
        services.register_webhook(ward_police.ctx(NOTIFY), "https://pms.example.vn/dancu")


def test_backoff_doubles_up_to_six_hours() -> None:
    assert [webhooks.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert webhooks.backoff(30) == timedelta(hours=6)


def test_the_api_registers_and_lists_webhooks(
    client: Client, hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    client.force_login(hotel_clerk.user)
    created = client.post(
        "/api/v1/residence/webhooks", {"url": "https://pms.example.vn/r"}, content_type="application/json"
    )
    assert created.status_code == 200 and len(created.json()["secret"]) == 64
    (listed,) = client.get("/api/v1/residence/webhooks").json()
    assert listed["secret"] == "" and listed["pending"] == 0


def test_a_rejected_batch_row_is_a_result_too(hotel: services.EstablishmentView, hotel_clerk: Person) -> None:
    services.register_webhook(hotel_clerk.ctx(NOTIFY), "https://pms.example.vn/r")
    bad = services.CheckIn(
        guests=(an_by_qr(),),
        room="",
        arrival=timezone.now(),
        expected_departure=timezone.now() + timedelta(days=1),
    )
    services.check_in_batch(
        hotel_clerk.ctx(NOTIFY), [bad, stay_of(an_by_qr())], idempotency_key="b-1", fingerprint="f"
    )
    payloads = sorted((d.payload["status"], d.payload.get("index")) for d in WebhookDelivery.objects.all())
    assert payloads == [("rejected", 0), ("stored", None)]


# --- Server-side request forgery (OWASP SSRF Prevention Cheat Sheet; dancu.outbound) ---


@pytest.mark.parametrize("url", [u for u in LITERAL_BYPASSES if not u.startswith("ftp")])
def test_a_local_address_in_any_form_is_refused_at_registration(
    hotel: services.EstablishmentView, hotel_clerk: Person, url: str
) -> None:
    with pytest.raises(DomainValidationError) as exc:
        services.register_webhook(hotel_clerk.ctx(NOTIFY), url)
    assert exc.value.problems[0].field == "url"


@pytest.mark.parametrize("name", sorted(PRIVATE_NAMES))
def test_a_name_resolving_to_a_private_address_is_refused_at_registration(
    hotel: services.EstablishmentView, hotel_clerk: Person, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    fake_dns(monkeypatch, PRIVATE_NAMES)
    with pytest.raises(DomainValidationError) as exc:
        services.register_webhook(hotel_clerk.ctx(NOTIFY), f"https://{name}/hook")
    assert "resolve" in exc.value.problems[0].message


def test_a_local_address_is_refused_at_delivery_and_nothing_is_sent(
    hotel: services.EstablishmentView,
    hotel_clerk: Person,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    """Rows stored before the rules (or a name whose DNS answer changed since registration: the
    rebinding case) are checked again at each delivery."""
    from dancu.apps.residence.models import Webhook

    settings.DANCU_RESIDENCE_WEBHOOK_HTTP_HOSTS = []
    fake_dns(monkeypatch, PUBLIC_NAMES)
    services.register_webhook(hotel_clerk.ctx(NOTIFY), "https://hooks.example.org/hook")
    with local_server() as server:
        fake_dns(monkeypatch, {"hooks.example.org": ["127.0.0.1"], **PRIVATE_NAMES})  # rebound
        Webhook.objects.update(url=f"https://hooks.example.org:{server.port}/hook")
        est = Webhook.objects.get().establishment
        urls = [u for u in LITERAL_BYPASSES if not u.startswith("ftp")]
        urls += [f"https://{n}:{server.port}/hook" for n in PRIVATE_NAMES]
        urls += [f"http://{n}:{server.port}/hook" for n in PRIVATE_NAMES]
        Webhook.objects.bulk_create(
            [Webhook(establishment=est, url=u, secret="0" * 64, created_by="before the fix") for u in urls]
        )
        services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr()))
        report = webhooks.deliver_due()
    assert (report.attempted, report.delivered, report.failed) == (len(urls) + 1, 0, len(urls) + 1)
    assert server.requests == []
    for d in WebhookDelivery.objects.select_related("webhook"):
        assert d.last_status is None and d.last_error.startswith("URL not allowed"), d.webhook.url
        assert d.delivered_at is None  # kept, retried later


def test_a_redirect_is_not_followed_and_the_delivery_retried(
    hotel: services.EstablishmentView, hotel_clerk: Person, settings: Any
) -> None:
    settings.DANCU_RESIDENCE_WEBHOOK_HTTP_HOSTS = ["127.0.0.1"]
    with local_server() as target, local_server(status=302, location=target.url) as first:
        services.register_webhook(hotel_clerk.ctx(NOTIFY), first.url)
        services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr()))
        assert webhooks.deliver_due().failed == 1
        d = WebhookDelivery.objects.get()
        assert d.last_status == 302 and "redirect" in d.last_error and d.delivered_at is None
        first.status = 200
        assert webhooks.deliver_due(now=timezone.now() + timedelta(minutes=5)).delivered == 1
    assert len(first.requests) == 2 and target.requests == []
