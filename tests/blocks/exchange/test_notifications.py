"""Change notifications (issue 5 item 8): the registry's provider publishes "citizen.died"; BHXH
(subscribed by pull) and Sở Lao động (by webhook) each receive it with only the fields their grant
gives their purpose, signed by the provider; a webhook that fails is retried with back-off and the
event is kept until delivered; nobody subscribes without a grant."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dancu.blocks.exchange import notifications as nt
from dancu.blocks.exchange.models import Delivery
from dancu.errors import AccessDenied
from tests.blocks.exchange.conftest import World
from tests.conftest import Person

DIED = {
    "id_number": "001085012345",
    "full_name": "Nguyễn Văn An",
    "life_status": "deceased",
    "date_of_death": "2026-11-29",
}


@pytest.fixture
def subscribed(
    world: World, grant: Callable[..., Any], bhxh_admin: Person, labour_admin: Person
) -> dict[str, Any]:
    grant(service="life-status", purposes={"public_service.processing": ["id_number", "life_status"]})
    grant(
        client=world.labour,
        service="life-status",
        purposes={"public_service.processing": ["id_number", "full_name", "life_status", "date_of_death"]},
        requester=labour_admin,
    )
    svc = world.services["life-status"]
    return {
        "service": svc,
        "bhxh": nt.subscribe(bhxh_admin.actor, world.bhxh, svc, "public_service.processing"),
        "labour": nt.subscribe(
            labour_admin.actor,
            world.labour,
            svc,
            "public_service.processing",
            callback_url="https://ansinh.example/hook",
        ),
    }


def test_no_subscription_without_a_grant(world: World, bhxh_admin: Person) -> None:
    with pytest.raises(AccessDenied) as err:
        nt.subscribe(bhxh_admin.actor, world.bhxh, world.services["household"], "public_service.processing")
    assert err.value.rule == "no_grant"


def test_each_subscriber_gets_its_granted_fields_signed_by_the_provider(
    world: World, subscribed: dict[str, Any], police_admin: Person, bhxh_admin: Person
) -> None:
    with pytest.raises(AccessDenied):  # only the provider publishes
        nt.publish(bhxh_admin.actor, subscribed["service"], "citizen.died", DIED)
    nt.publish(police_admin.actor, subscribed["service"], "citizen.died", DIED)

    by_client = {d.subscription.client_id: d for d in Delivery.objects.select_related("subscription")}
    assert by_client[world.bhxh.pk].body["data"] == {"id_number": "001085012345", "life_status": "deceased"}
    assert by_client[world.labour.pk].body["data"] == DIED
    for d in by_client.values():
        assert nt.verify_delivery(world.registry.public_key, d.body, d.signature)


def test_pull_then_acknowledge_over_http(
    world: World, subscribed: dict[str, Any], police_admin: Person
) -> None:
    nt.publish(police_admin.actor, subscribed["service"], "citizen.died", DIED)
    http = Client()
    headers = {
        "Information-Mediator-Client": world.bhxh.identifier,
        "Authorization": f"Bearer {world.bhxh_token}",
    }
    url = f"/exchange/r1/{world.bhxh.identifier}/events"

    got = http.get(url, headers=headers).json()["deliveries"]
    assert [d["body"]["kind"] for d in got] == ["citizen.died"]
    assert nt.verify_delivery(world.registry.public_key, got[0]["body"], got[0]["signature"])
    assert http.get(url, headers=headers).json()["deliveries"] == got  # kept until acknowledged
    ack = http.post(
        f"{url}/ack",
        data=json.dumps({"ids": [got[0]["id"]]}),
        content_type="application/json",
        headers=headers,
    )
    assert ack.json() == {"acknowledged": 1}
    assert http.get(url, headers=headers).json()["deliveries"] == []
    # Another client may not read BHXH's deliveries, even with its own valid credential.
    other = {
        "Information-Mediator-Client": world.labour.identifier,
        "Authorization": f"Bearer {world.labour_token}",
    }
    assert http.get(url, headers=other).status_code == 403


def test_a_failing_webhook_is_retried_with_back_off_and_never_dropped(
    world: World, subscribed: dict[str, Any], police_admin: Person
) -> None:
    nt.publish(police_admin.actor, subscribed["service"], "citizen.died", DIED)
    sent: list[tuple[str, dict[str, Any], dict[str, str]]] = []
    answers = iter([503, 500, 200])

    def send(url: str, body: bytes, headers: dict[str, str]) -> int:
        sent.append((url, json.loads(body), headers))
        return next(answers)

    now = timezone.now()
    assert nt.deliver_due(now=now, send=send) == (0, 1)
    d = Delivery.objects.get(subscription=subscribed["labour"])
    assert (d.status, d.attempts, d.last_error) == ("pending", 1, "HTTP 503")
    assert nt.deliver_due(now=now + timedelta(seconds=30), send=send) == (0, 0)  # not due yet
    assert nt.deliver_due(now=now + timedelta(minutes=1), send=send) == (0, 1)
    assert nt.deliver_due(now=now + timedelta(minutes=4), send=send) == (1, 0)
    d.refresh_from_db()
    assert (d.status, d.attempts) == ("delivered", 3)
    url, body, headers = sent[-1]
    assert url == "https://ansinh.example/hook"
    assert nt.verify_delivery(world.registry.public_key, body, headers["X-Exchange-Signature"])
    # BHXH pulls: its delivery was never pushed and is still waiting for it.
    assert Delivery.objects.get(subscription=subscribed["bhxh"]).status == "pending"


def test_a_revoked_grant_stops_new_deliveries(
    world: World, subscribed: dict[str, Any], police_admin: Person
) -> None:
    from dancu.blocks.exchange import services as ex
    from dancu.blocks.exchange.models import Grant

    g = Grant.objects.get(client=world.bhxh, service=subscribed["service"])
    ex.revoke_grant(police_admin.actor, g.pk)
    nt.publish(police_admin.actor, subscribed["service"], "citizen.died", DIED)
    assert not Delivery.objects.filter(subscription=subscribed["bhxh"]).exists()
    assert Delivery.objects.filter(subscription=subscribed["labour"]).exists()


def test_the_deliver_command_runs_the_due_deliveries(capsys: pytest.CaptureFixture[str], db: None) -> None:
    from django.core.management import call_command

    call_command("exchange", "deliver")
    assert "delivered 0, rescheduled 0" in capsys.readouterr().out
