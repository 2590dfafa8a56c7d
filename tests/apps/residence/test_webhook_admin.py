"""Webhook management page: the integrator (administrator) of Khách sạn Hòa Bình registers a URL,
sees the secret once, rotates it, disables and enables the webhook, sees its deliveries and
retries a failing one — every step audited. A clerk of the same hotel, another establishment's
integrator and a police officer are refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dancu.apps.residence import services, webhook_admin, webhooks
from dancu.apps.residence.models import Webhook, WebhookDelivery
from dancu.blocks.audit.models import AuditEvent
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.apps.residence.conftest import an_by_qr, stay_of
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("residents")
NOTIFY = "residence.notification"
URL = "http://127.0.0.1:9/hook"


@pytest.fixture(autouse=True)
def _plain_http_to_loopback(settings: Any) -> None:
    settings.DANCU_RESIDENCE_WEBHOOK_HTTP_HOSTS = ["127.0.0.1"]


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_the_integrator_registers_rotates_disables_and_enables(
    hotel: services.EstablishmentView, hotel_integrator: Person
) -> None:
    ctx = hotel_integrator.ctx(NOTIFY)
    hook = webhook_admin.register(ctx, URL)
    assert len(hook.secret) == 64
    rotated = webhook_admin.rotate_secret(ctx, hook.webhook_id)
    assert rotated.secret != hook.secret and Webhook.objects.get().secret == rotated.secret
    assert not webhook_admin.set_active(ctx, hook.webhook_id, False).active
    assert webhook_admin.set_active(ctx, hook.webhook_id, True).active
    [(view, deliveries)] = webhook_admin.overview(ctx)
    assert view.secret == "" and deliveries == []  # the secret is never shown again
    for action in ("residence.webhook_register", "residence.webhook_rotate", "residence.webhook_disable",
                   "residence.webhook_enable", "residence.webhooks"):  # fmt: skip
        assert [e.result for e in _events(action)] == ["ok"], action


def test_a_disabled_webhook_receives_nothing_new_and_its_deliveries_wait(
    hotel: services.EstablishmentView, hotel_integrator: Person, hotel_clerk: Person
) -> None:
    ctx = hotel_integrator.ctx(NOTIFY)
    hook = webhook_admin.register(ctx, URL)
    services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr()))
    webhook_admin.set_active(ctx, hook.webhook_id, False)
    assert webhooks.deliver_due().attempted == 0  # the queued result waits
    assert WebhookDelivery.objects.filter(delivered_at__isnull=True).count() == 1


def test_a_failing_delivery_is_retried_now_on_request(
    hotel: services.EstablishmentView, hotel_integrator: Person, hotel_clerk: Person
) -> None:
    ctx = hotel_integrator.ctx(NOTIFY)
    webhook_admin.register(ctx, URL)
    services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr()))
    later = timezone.now() + timedelta(hours=1)
    WebhookDelivery.objects.update(attempts=3, last_status=503, last_error="HTTP 503", next_attempt_at=later)
    [(_hook, [delivery])] = webhook_admin.overview(ctx)
    assert (delivery.status, delivery.attempts, delivery.last_status) == ("failing", 3, 503)
    retried = webhook_admin.retry(ctx, delivery.delivery_id)
    assert retried.next_attempt_at <= timezone.now()
    assert [e.detail["delivery"] for e in _events("residence.webhook_retry")] == [delivery.delivery_id]
    WebhookDelivery.objects.update(delivered_at=timezone.now())
    with pytest.raises(DomainValidationError) as err:
        webhook_admin.retry(ctx, delivery.delivery_id)
    assert err.value.problems[0].rule == "delivered"


def test_a_delivery_a_worker_is_sending_is_not_retried_twice(
    hotel: services.EstablishmentView, hotel_integrator: Person, hotel_clerk: Person
) -> None:
    """While a worker holds the delivery's lease, a manual retry would make it due again and a
    second worker would send it too: the retry is refused, and allowed once the attempt ended
    (or the lease of a worker that died lapsed)."""
    ctx = hotel_integrator.ctx(NOTIFY)
    webhook_admin.register(ctx, URL)
    services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr()))
    [claimed] = webhooks._claim(timezone.now(), 10)  # a worker took it and is sending it
    leased = WebhookDelivery.objects.get().next_attempt_at
    with pytest.raises(DomainValidationError) as err:
        webhook_admin.retry(ctx, claimed.pk)
    assert err.value.problems[0].rule == "in_progress"
    assert WebhookDelivery.objects.get().next_attempt_at == leased  # still the worker's
    assert not webhooks._claim(timezone.now(), 10)  # no second worker sends it
    assert _events("residence.webhook_retry") == []
    WebhookDelivery.objects.update(leased_until=timezone.now() - timedelta(seconds=1))  # it died
    assert webhook_admin.retry(ctx, claimed.pk).next_attempt_at <= timezone.now()
    report = webhooks.deliver_due()  # nothing listens on port 9: the attempt fails
    assert (report.attempted, report.failed) == (1, 1)
    assert WebhookDelivery.objects.get().leased_until is None  # the attempt ended
    assert webhook_admin.retry(ctx, claimed.pk).next_attempt_at <= timezone.now()


def test_a_clerk_may_notify_but_not_manage_webhooks(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    with pytest.raises(AccessDenied) as err:
        webhook_admin.register(hotel_clerk.ctx(NOTIFY), URL)
    assert err.value.rule == "role"
    with pytest.raises(AccessDenied):
        webhook_admin.overview(hotel_clerk.ctx(NOTIFY))
    assert [e.result for e in _events("residence.webhook_register")] == ["denied"]
    assert not Webhook.objects.exists()


def test_another_establishments_webhook_is_not_found(
    hotel: services.EstablishmentView,
    hotel_integrator: Person,
    guest_house: services.EstablishmentView,
    make_person: Any,
) -> None:
    hook = webhook_admin.register(hotel_integrator.ctx(NOTIFY), URL)
    stranger = make_person("admin.hangbac", org_code="NN-HANGBAC", kind="hotel", role="admin")
    for call in (
        lambda: webhook_admin.rotate_secret(stranger.ctx(NOTIFY), hook.webhook_id),
        lambda: webhook_admin.set_active(stranger.ctx(NOTIFY), hook.webhook_id, False),
        lambda: webhook_admin.retry(stranger.ctx(NOTIFY), 999_999),
    ):
        with pytest.raises(NotFound):
            call()
    assert Webhook.objects.get().active and Webhook.objects.get().secret == hook.secret
    assert {e.result for e in _events("residence.webhook_rotate")} == {"not_found"}


def test_the_police_may_not_manage_webhooks(hotel: services.EstablishmentView, ward_police: Person) -> None:
    with pytest.raises(AccessDenied):
        webhook_admin.overview(ward_police.ctx("security.investigation"))


def test_the_page_shows_the_secret_once_and_the_deliveries(
    client: Client, hotel: services.EstablishmentView, hotel_integrator: Person, hotel_clerk: Person
) -> None:
    client.force_login(hotel_integrator.user)
    page = reverse("residence:webhooks")
    answer = client.post(page, {"action": "register", "url": URL})
    assert answer.status_code == 200
    secret = Webhook.objects.get().secret
    assert secret in answer.content.decode() and "Khóa ký — chỉ hiển thị một lần" in answer.content.decode()
    services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr()))
    listing = client.get(page).content.decode()
    assert secret not in listing and 'data-testid="delivery-' in listing
    hook_id = Webhook.objects.get().pk
    rotated = client.post(page, {"action": "rotate", "id": hook_id}).content.decode()
    assert Webhook.objects.get().secret in rotated
    assert client.post(page, {"action": "disable", "id": hook_id}).status_code == 200
    assert not Webhook.objects.get().active
    bad = client.post(page, {"action": "register", "url": "ftp://example.com/x"})
    assert bad.status_code == 400 and Webhook.objects.count() == 1
    assert client.post(page, {"action": "retry", "id": "x"}).status_code == 400


def test_the_page_refuses_a_clerk(
    client: Client, hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    client.force_login(hotel_clerk.user)
    assert client.get(reverse("residence:webhooks")).status_code == 403
