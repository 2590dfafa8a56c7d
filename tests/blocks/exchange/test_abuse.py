"""Rate limiting and abuse (issue 5, "Bad input and faults"; ADR 0010 §10).

* BHXH Hà Nội's intake system sends more than its allowance: 429 ``rate_limited`` with
  ``Retry-After``, naming the limit; Sở Lao động's system, calling at the same time, is not held
  back by BHXH's bucket; calls made inside the platform (``gateway.handle`` without the HTTP edge)
  are not limited.
* Someone who is no member floods the gateway: every refusal is answered and counted, but only the
  first few of each minute are logged in full — the log does not grow with the flood, whatever
  client identifiers the flood makes up.
* A member that authenticated and asks beyond its grant is always logged one record per refusal:
  that is evidence about a known member, and its own rate limit bounds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from dancu.blocks.exchange import crypto, gateway
from dancu.blocks.exchange.models import Message, RefusalTally
from tests.blocks.exchange.conftest import Call, World
from tests.blocks.registry.conftest import id_number


@pytest.fixture(autouse=True)
def _one_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tallies' minute stands still during a test (a test may straddle a minute's end)."""
    minute = timezone.now().replace(second=0, microsecond=0)
    monkeypatch.setattr(gateway, "_this_minute", lambda: minute)


@override_settings(DANCU_EXCHANGE_RATE_PER_MINUTE=1, DANCU_EXCHANGE_BURST=3)
def test_a_client_over_its_allowance_gets_429_naming_the_rule_and_others_are_not_held_back(
    world: World, grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any, labour_admin: Any
) -> None:
    grant()
    grant(client=world.labour, requester=labour_admin)
    for i in range(3):
        assert call("citizen", an_tay_ho.id_number, request_id=f"ok-{i}").status == 200

    over = call("citizen", an_tay_ho.id_number, request_id="over")
    assert (over.status, over.rule) == (429, "rate_limited")
    assert over.json["detail"][0]["field"] == "Information-Mediator-Client"
    assert "rate limit (1/min, bursts of 3)" in over.json["detail"][0]["message"]
    assert int(over.response["Retry-After"]) >= 1
    assert RefusalTally.objects.get(rule="rate_limited").client_id == world.bhxh.identifier

    labour = call("citizen", an_tay_ho.id_number, client=world.labour.identifier, token=world.labour_token)
    assert labour.status == 200  # another client's bucket

    inside = gateway.handle(  # in-process callers are not limited (only the HTTP edge is)
        gateway.ExchangeRequest(
            world.service_id("citizen"),
            an_tay_ho.id_number,
            "GET",
            "",
            b"",
            {
                "information-mediator-client": world.bhxh.identifier,
                "authorization": f"Bearer {world.bhxh_token}",
                "x-request-id": "inside-1",
                "x-purpose": "public_service.processing",
                "x-end-user": "canbo.nguyenthimai",
            },
        )
    )
    assert inside.status == 200


@override_settings(DANCU_EXCHANGE_REFUSALS_LOGGED_PER_MINUTE=5)
def test_a_flood_from_non_members_is_counted_not_logged_row_by_row(
    world: World, call: Callable[..., Call]
) -> None:
    answers = [
        call("citizen", id_number(1985, "M"), client=f"VN-HN/GOV/NOBODY{i}/SYS", request_id=f"flood-{i}")
        for i in range(20)
    ]

    assert {(a.status, a.rule) for a in answers} == {(401, "unknown_client")}
    assert Message.objects.filter(rule="unknown_client").count() == 5  # the first five, in full
    tally = RefusalTally.objects.get()  # made-up identifiers share one row
    assert (tally.rule, tally.client_id, tally.count) == ("unknown_client", "", 20)

    counted = answers[-1].response
    assert counted["X-Exchange-Logged"] == "counted"
    assert "X-Exchange-Message-Id" not in counted
    signed = {
        "status": 401,
        "body": answers[-1].json,
        "produced_at": counted["X-Exchange-Produced-At"],
    }
    assert crypto.verify(
        crypto.gateway_public_b64(), counted["X-Exchange-Signature"], crypto.canonical(signed)
    )


@override_settings(DANCU_EXCHANGE_REFUSALS_LOGGED_PER_MINUTE=0)
def test_a_member_asking_beyond_its_grant_is_always_logged(
    grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any
) -> None:
    grant()
    for i in range(3):
        res = call("citizen", an_tay_ho.id_number, request_id=f"beyond-{i}", purpose="data.cleaning")
        assert (res.status, res.rule) == (403, "purpose_not_granted")
    assert Message.objects.filter(rule="purpose_not_granted").count() == 3
    assert not RefusalTally.objects.exists()


@pytest.mark.parametrize("credential", ["xk_00000000_" + "A" * 43, "not-a-token"])
@override_settings(DANCU_EXCHANGE_REFUSALS_LOGGED_PER_MINUTE=1)
def test_a_bad_credential_for_a_real_client_is_counted_as_unauthenticated(
    world: World, grant: Callable[..., Any], call: Callable[..., Call], an_tay_ho: Any, credential: str
) -> None:
    grant()
    for i in range(3):
        assert call("citizen", an_tay_ho.id_number, token=credential, request_id=f"guess-{i}").status == 401
    assert Message.objects.filter(rule="bad_credentials").count() == 1
    assert RefusalTally.objects.get().count == 3
