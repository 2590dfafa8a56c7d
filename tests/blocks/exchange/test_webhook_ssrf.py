"""Change-notification webhooks and server-side request forgery (OWASP SSRF Prevention Cheat
Sheet; ``dancu.outbound``): Sở Lao động cannot subscribe a URL that reaches the platform's own
network — an address literal in any encoding, ``localhost``, or a name resolving to a private
address; a delivery checks again (the row may predate the rule, or the name be rebound since), and
a redirect is a failed delivery, retried later, never followed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from dancu.blocks.exchange import notifications as nt
from dancu.blocks.exchange.models import Delivery, Subscription
from dancu.errors import DomainValidationError
from tests.blocks.exchange.conftest import World
from tests.conftest import Person
from tests.outbound_support import LITERAL_BYPASSES, PRIVATE_NAMES, PUBLIC_NAMES, fake_dns, local_server

PURPOSE = "public_service.processing"
DIED = {"id_number": "001085012345", "life_status": "deceased"}


@pytest.fixture
def granted(world: World, grant: Callable[..., Any], labour_admin: Person) -> Any:
    grant(
        client=world.labour,
        service="life-status",
        purposes={PURPOSE: ["id_number", "life_status"]},
        requester=labour_admin,
    )
    return world.services["life-status"]


def _subscribe(world: World, admin: Person, service: Any, url: str) -> Subscription:
    return nt.subscribe(admin.actor, world.labour, service, PURPOSE, callback_url=url)


@pytest.mark.parametrize("url", LITERAL_BYPASSES)
def test_a_local_address_in_any_form_is_refused_at_subscription(
    world: World, granted: Any, labour_admin: Person, url: str
) -> None:
    with pytest.raises(DomainValidationError) as err:
        _subscribe(world, labour_admin, granted, url)
    assert err.value.problems[0].field == "callback_url"
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("name", sorted(PRIVATE_NAMES))
def test_a_name_resolving_to_a_private_address_is_refused_at_subscription(
    world: World, granted: Any, labour_admin: Person, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    fake_dns(monkeypatch, PRIVATE_NAMES)
    with pytest.raises(DomainValidationError) as err:
        _subscribe(world, labour_admin, granted, f"https://{name}/hook")
    assert "resolve" in err.value.problems[0].message


def test_plain_http_only_to_the_listed_hosts(
    world: World, granted: Any, labour_admin: Person, settings: Any
) -> None:
    with pytest.raises(DomainValidationError):
        _subscribe(world, labour_admin, granted, "http://127.0.0.1:8000/hook")
    settings.DANCU_EXCHANGE_WEBHOOK_HTTP_HOSTS = ["127.0.0.1"]
    assert _subscribe(world, labour_admin, granted, "http://127.0.0.1:8000/hook").callback_url


def test_a_local_address_is_refused_at_delivery_and_kept(
    world: World,
    granted: Any,
    labour_admin: Person,
    police_admin: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(monkeypatch, PUBLIC_NAMES)
    sub = _subscribe(world, labour_admin, granted, "https://hooks.example.org/hook")
    with local_server() as server:
        fake_dns(monkeypatch, {"hooks.example.org": ["127.0.0.1"], **PRIVATE_NAMES})  # rebound
        urls = [*LITERAL_BYPASSES, f"https://hooks.example.org:{server.port}/hook"]
        urls += [f"http://{n}:{server.port}/hook" for n in PRIVATE_NAMES]
        for url in urls:
            Subscription.objects.filter(pk=sub.pk).update(callback_url=url)  # stored before the rule
            nt.publish(police_admin.actor, granted, "citizen.died", DIED)
            assert nt.deliver_due(now=timezone.now() + timedelta(days=1)) == (0, 1), url
    assert server.requests == []
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == len(urls)
    assert all(d.last_error.startswith("Refused") for d in Delivery.objects.all())


def test_a_redirect_is_not_followed_and_the_delivery_retried(
    world: World, granted: Any, labour_admin: Person, police_admin: Person, settings: Any
) -> None:
    settings.DANCU_EXCHANGE_WEBHOOK_HTTP_HOSTS = ["127.0.0.1"]
    with local_server() as target, local_server(status=302, location=target.url) as first:
        _subscribe(world, labour_admin, granted, first.url)
        nt.publish(police_admin.actor, granted, "citizen.died", DIED)
        now = timezone.now()
        assert nt.deliver_due(now=now) == (0, 1)
        d = Delivery.objects.get()
        assert (d.status, d.last_error) == ("pending", "HTTP 302")
        first.status = 204
        assert nt.deliver_due(now=now + timedelta(minutes=1)) == (1, 0)
    assert len(first.requests) == 2 and target.requests == []
    headers, _ = first.requests[-1]
    assert headers["x-exchange-delivery"] == str(d.pk)
