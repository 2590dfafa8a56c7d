"""The change-notification subscriptions page (issue 5 item 8, item 7): BHXH Hà Nội's
administrator subscribes its intake system to the registry's life-status events under its grant,
sees the notifications waiting, and ends the subscription; the registry's owner (Công an thành
phố Hà Nội) sees who follows its service but cannot end another member's subscription; nobody
subscribes without a grant, nor subscribes another member's system."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.test import Client

from dancu.blocks.exchange.models import Subscription
from dancu.blocks.registry.services import record_death
from tests.blocks.exchange.conftest import World
from tests.conftest import Person
from tests.outbound_support import PRIVATE_NAMES, fake_dns

PURPOSE = "public_service.processing"


def _client(person: Person) -> Client:
    c = Client()
    c.force_login(person.user)
    return c


def _subscribe(c: Client, world: World, client: Any, service: str, url: str = "") -> Any:
    return c.post(
        "/exchange-admin/subscriptions/",
        {
            "action": "subscribe",
            "client": client.pk,
            "service": world.services[service].pk,
            "purpose": PURPOSE,
            "callback_url": url,
        },
    )


def test_a_member_subscribes_under_its_grant_sees_what_waits_and_ends_it(
    world: World,
    grant: Callable[..., Any],
    bhxh_admin: Person,
    registrar: Person,
    register: Callable[..., Any],
) -> None:
    an = register(
        id_number="001085012345", full_name="Nguyễn Văn An", date_of_birth=date(1985, 3, 2), sex="M"
    )
    grant(service="life-status", purposes={PURPOSE: ["id_number", "life_status"]})
    c = _client(bhxh_admin)
    assert _subscribe(c, world, world.bhxh, "life-status").status_code == 302
    sub = Subscription.objects.get(client=world.bhxh)
    assert (sub.purpose, sub.callback_url, sub.active) == (PURPOSE, "", True)

    record_death(
        registrar.ctx("registry.administration"),
        an.id_number,
        date_of_death=date(2026, 11, 29),
        reason="Trích lục khai tử số 88/2026",
        legal_basis="Luật Hộ tịch 2014 Điều 33",
    )
    page = c.get("/exchange-admin/subscriptions/").content.decode()
    assert f'data-testid="subscription-{sub.pk}"' in page
    assert '<td data-testid="pending">1</td>' in page

    assert (
        c.post(
            "/exchange-admin/subscriptions/", {"action": "unsubscribe", "subscription": sub.pk}
        ).status_code
        == 302
    )
    sub.refresh_from_db()
    assert not sub.active


def test_no_subscription_without_a_grant(world: World, bhxh_admin: Person) -> None:
    res = _subscribe(_client(bhxh_admin), world, world.bhxh, "household")
    assert res.status_code == 403
    assert "no grant in force" in res.content.decode()
    assert not Subscription.objects.exists()


def test_nobody_subscribes_another_members_system(
    world: World, grant: Callable[..., Any], labour_admin: Person
) -> None:
    grant(service="life-status", purposes={PURPOSE: ["id_number", "life_status"]})
    res = _subscribe(_client(labour_admin), world, world.bhxh, "life-status")  # BHXH's, not theirs
    assert res.status_code == 400  # not among the form's choices
    assert not Subscription.objects.exists()


def test_the_provider_sees_its_followers_but_cannot_end_their_subscription(
    world: World, grant: Callable[..., Any], bhxh_admin: Person, police_admin: Person
) -> None:
    grant(service="life-status", purposes={PURPOSE: ["id_number", "life_status"]})
    _subscribe(_client(bhxh_admin), world, world.bhxh, "life-status", url="https://tiepnhan.example/hook")
    sub = Subscription.objects.get()

    police = _client(police_admin)
    page = police.get("/exchange-admin/subscriptions/").content.decode()
    assert world.bhxh.identifier in page
    assert "https://tiepnhan.example/hook" in page
    assert f"unsubscribe-{sub.pk}" not in page
    res = police.post("/exchange-admin/subscriptions/", {"action": "unsubscribe", "subscription": sub.pk})
    assert res.status_code == 403
    sub.refresh_from_db()
    assert sub.active


def test_staff_of_a_non_member_organisation_see_no_subscriptions(world: World, hotel_clerk: Person) -> None:
    assert _client(hotel_clerk).get("/exchange-admin/subscriptions/").status_code == 403


def test_a_webhook_to_a_local_address_is_refused(
    world: World, grant: Callable[..., Any], bhxh_admin: Person, monkeypatch: Any
) -> None:
    """OWASP SSRF Prevention Cheat Sheet: the page refuses what ``dancu.outbound`` refuses."""
    fake_dns(monkeypatch, PRIVATE_NAMES)
    grant(service="life-status", purposes={PURPOSE: ["id_number", "life_status"]})
    c = _client(bhxh_admin)
    for url in (
        "https://127.1/hook",
        "https://2130706433/hook",
        "https://localhost./hook",
        "https://169.254.169.254/latest",
        "https://internal.example.org/hook",
        "http://tiepnhan.example/hook",
    ):
        res = _subscribe(c, world, world.bhxh, "life-status", url=url)
        assert res.status_code == 400, url
    assert not Subscription.objects.exists()
