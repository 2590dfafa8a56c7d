"""The registry publishes its own changes as change notifications (issue 5 item 8).

Công an thành phố Hà Nội's registrar records a death, a move, a new ID number or a correction.
BHXH Hà Nội follows life status (pull); Sở Lao động follows residence (webhook). Each hears of
the changes that concern the service it follows — the kind of change and the ID number, nothing
else, signed by the registry — and fetches the details through the gateway under its own grant.
A change that does not happen (refused, rolled back) is never published; a registry without
subscribers writes no event at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import transaction

from dancu.blocks.exchange import notifications as nt
from dancu.blocks.exchange import services as ex
from dancu.blocks.exchange.models import Delivery, Event
from dancu.blocks.registry.services import change_id_number, correct_citizen, move_residence, record_death
from dancu.errors import DomainValidationError
from tests.blocks.exchange.conftest import Call, World
from tests.blocks.registry.conftest import HCM_ADDRESS, HOAN_KIEM_ADDRESS, LEGAL_BASIS, id_number
from tests.conftest import Person

WHY = {"reason": "Theo trích lục khai tử số 88/2026", "legal_basis": LEGAL_BASIS}
PURPOSE = "public_service.processing"


@pytest.fixture
def following(
    world: World, grant: Callable[..., Any], bhxh_admin: Person, labour_admin: Person
) -> dict[str, Any]:
    """BHXH follows life status by pull; Sở Lao động follows residence by webhook."""
    life = grant(service="life-status", purposes={PURPOSE: ["id_number", "life_status"]})
    grant(
        client=world.labour,
        service="residence",
        purposes={PURPOSE: ["id_number", "permanent_address"]},
        requester=labour_admin,
    )
    return {
        "life_grant": life,
        "bhxh": nt.subscribe(bhxh_admin.actor, world.bhxh, world.services["life-status"], PURPOSE),
        "labour": nt.subscribe(
            labour_admin.actor,
            world.labour,
            world.services["residence"],
            PURPOSE,
            callback_url="https://ansinh.example/hook",
        ),
    }


def received(client: Any) -> list[dict[str, Any]]:
    return [
        d.body for d in Delivery.objects.filter(subscription__client=client).order_by("id").select_related()
    ]


def test_a_recorded_death_reaches_the_life_status_subscriber_with_the_id_number_only(
    world: World, following: dict[str, Any], registrar: Person, an_tay_ho: Any
) -> None:
    record_death(
        registrar.ctx("registry.administration"), an_tay_ho.id_number, date_of_death=date(2026, 11, 29), **WHY
    )

    [body] = received(world.bhxh)
    assert (body["kind"], body["service"], body["purpose"]) == (
        "citizen.died",
        world.service_id("life-status"),
        PURPOSE,
    )
    assert body["data"] == {"change": "citizen.died", "id_number": an_tay_ho.id_number}  # least data
    delivery = Delivery.objects.get(subscription=following["bhxh"])
    assert nt.verify_delivery(world.registry.public_key, delivery.body, delivery.signature)
    assert received(world.labour) == []  # residence did not change


def test_a_move_reaches_the_residence_subscriber_not_the_life_status_one(
    world: World, following: dict[str, Any], registrar: Person, an_tay_ho: Any
) -> None:
    move_residence(
        registrar.ctx("registry.administration"),
        an_tay_ho.id_number,
        permanent_address_text=HOAN_KIEM_ADDRESS,
        **WHY,
    )
    assert [b["data"] for b in received(world.labour)] == [
        {"change": "citizen.moved", "id_number": an_tay_ho.id_number}
    ]
    assert received(world.bhxh) == []
    assert nt.deliver_due(send=lambda url, body, headers: 204) == (1, 0)  # the webhook took it


def test_a_new_id_number_reaches_every_follower_with_the_previous_number(
    world: World, following: dict[str, Any], registrar: Person, an_tay_ho: Any
) -> None:
    new = id_number(1985, "M", serial=777)
    change_id_number(registrar.ctx("registry.administration"), an_tay_ho.id_number, new_id_number=new, **WHY)

    expected = {
        "change": "citizen.id_number_changed",
        "id_number": new,
        "previous_id_number": an_tay_ho.id_number,
    }
    assert [b["data"] for b in received(world.bhxh)] == [expected]
    assert [b["data"] for b in received(world.labour)] == [expected]


def test_a_correction_reaches_the_citizen_service_subscriber_who_fetches_the_details_with_its_grant(
    world: World,
    grant: Callable[..., Any],
    bhxh_admin: Person,
    registrar: Person,
    an_tay_ho: Any,
    call: Callable[..., Call],
) -> None:
    grant()  # citizen: id_number, full_name, date_of_birth, life_status
    nt.subscribe(bhxh_admin.actor, world.bhxh, world.services["citizen"], PURPOSE)
    correct_citizen(
        registrar.ctx("registry.administration"), an_tay_ho.id_number, {"full_name": "Nguyễn Văn Ân"}, **WHY
    )

    [body] = received(world.bhxh)
    assert body["data"] == {"change": "citizen.corrected", "id_number": an_tay_ho.id_number}
    details = call("citizen", body["data"]["id_number"], request_id="after-correction")
    assert details.status == 200
    assert details.json["data"]["full_name"] == "Nguyễn Văn Ân"
    assert "religion" not in details.json["data"]  # the grant's fields, not the event's


def test_a_refused_or_rolled_back_change_publishes_nothing(
    world: World, following: dict[str, Any], registrar: Person, an_tay_ho: Any
) -> None:
    admin = registrar.ctx("registry.administration")
    with pytest.raises(DomainValidationError):  # before the date of birth: refused
        record_death(admin, an_tay_ho.id_number, date_of_death=date(1900, 1, 1), **WHY)
    with pytest.raises(RuntimeError), transaction.atomic():  # the caller's transaction fails after
        record_death(admin, an_tay_ho.id_number, date_of_death=date(2026, 11, 29), **WHY)
        raise RuntimeError("the surrounding work failed")
    assert not Event.objects.exists()
    assert not Delivery.objects.exists()


def test_no_event_without_a_subscriber_nor_for_a_grant_no_longer_in_force(
    world: World, following: dict[str, Any], police_admin: Person, registrar: Person, an_tay_ho: Any
) -> None:
    ex.revoke_grant(police_admin.actor, following["life_grant"].pk)
    record_death(
        registrar.ctx("registry.administration"), an_tay_ho.id_number, date_of_death=date(2026, 11, 29), **WHY
    )
    assert received(world.bhxh) == []  # subscribed, but the grant is revoked

    following["labour"].active = False
    following["labour"].save()
    following["bhxh"].active = False
    following["bhxh"].save()
    before = Event.objects.count()
    correct_citizen(
        registrar.ctx("registry.administration"), an_tay_ho.id_number, {"full_name": "Nguyễn Văn Ân"}, **WHY
    )
    assert Event.objects.count() == before


def test_only_members_whose_jurisdiction_covers_the_change_hear_of_it(
    world: World,
    following: dict[str, Any],
    registrar: Person,
    system_ctx: Callable[[str], Any],
    cuong_hcm: Any,
    an_tay_ho: Any,
) -> None:
    """BHXH and Sở Lao động are Hà Nội's: a death in TP Hồ Chí Minh (recorded by the national
    system) is none of their business; a Hà Nội resident moving away is (the old residence is
    theirs)."""
    admin = registrar.ctx("registry.administration")
    record_death(
        system_ctx("registry.administration"), cuong_hcm.id_number, date_of_death=date(2026, 11, 29), **WHY
    )
    assert received(world.bhxh) == []

    move_residence(admin, an_tay_ho.id_number, permanent_address_text=HCM_ADDRESS, **WHY)
    assert [b["data"]["change"] for b in received(world.labour)] == ["citizen.moved"]


def test_the_citizen_tracker_lists_the_notifications_about_them_with_whom_and_which_fields(
    world: World, following: dict[str, Any], registrar: Person, an_tay_ho: Any, binh_hoan_kiem: Any
) -> None:
    from dancu.blocks.exchange.tracker import notifications_for_citizen

    move_residence(
        registrar.ctx("registry.administration"),
        an_tay_ho.id_number,
        permanent_address_text=HOAN_KIEM_ADDRESS,
        **WHY,
    )
    record_death(
        registrar.ctx("registry.administration"), an_tay_ho.id_number, date_of_death=date(2026, 11, 29), **WHY
    )
    nt.deliver_due(send=lambda url, body, headers: 204)  # Sở Lao động's webhook took the move

    died, moved = notifications_for_citizen(an_tay_ho.citizen_id)

    assert (died.kind_vi, died.organisation, died.delivered) == (
        "Khai tử",
        "Bảo hiểm xã hội thành phố Hà Nội",
        False,
    )
    assert (moved.kind_en, moved.organisation, moved.delivered) == (
        "Change of residence",
        "Sở Lao động – Thương binh và Xã hội Hà Nội",
        True,
    )
    assert died.provider == moved.provider == "Công an thành phố Hà Nội"
    assert died.fields == ["change", "id_number"] and died.purpose_vi == "Giải quyết thủ tục hành chính"
    assert notifications_for_citizen(binh_hoan_kiem.citizen_id) == []  # never another citizen's
