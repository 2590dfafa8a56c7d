"""Cleaning results fed back to the owning agency through the data-exchange gateway (issue 8):
the land office cleans its register, then its register system takes the results — row, result,
the 12-digit ID number, corrections, flags; not the names it already holds — as a gateway exchange,
signed and logged. Another agency's job does not exist for a caller; without a grant the gateway
refuses; the stored credential opens only for its own row."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.exceptions import InvalidTag
from django.contrib.auth import get_user_model

from dancu.apps.gateway_client import client, feedback
from dancu.apps.gateway_client.demo import DEMO_PASSWORD
from dancu.apps.gateway_client.models import ExchangeConnection
from dancu.apps.land import demo as land_demo
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.exchange.models import Message
from dancu.blocks.linkage import services as linkage
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import actor_for
from dancu.blocks.registry.dto import CitizenView
from tests.conftest import Person

LIST = "Họ và tên,Ngày sinh,Số CMND/CCCD\nNGUYEN VAN AN,02/03/1985,012345678\nKhông Ai Cả,01/01/1950,\n"


@pytest.fixture
def land_office(registrar: Person, adminunits: None, nguyen_van_an: CitizenView) -> Person:
    """Văn phòng Đăng ký đất đai Hà Nội as the demo seeds it: a gateway member with a grant on
    the platform's cleaning-results service."""
    from dancu.apps.exchange_admin.demo import seed_demo as seed_exchange

    seed_exchange()
    land_demo.seed_demo()
    user = get_user_model().objects.get(username="canbo.datdai")
    return Person(user=user, actor=actor_for(user), password=DEMO_PASSWORD)


def _job(person: Person) -> str:
    ctx = person.ctx("data.cleaning")
    job = linkage.upload(ctx, "ds.csv", LIST.encode())
    return linkage.start(ctx, job.job_id, background=False).reference


def test_the_owner_takes_its_results_through_the_gateway_signed_and_logged(land_office: Person) -> None:
    ref = _job(land_office)
    reply = feedback.fetch(land_office.actor.organisation_id or 0, "land", ref, end_user="canbo.datdai")
    assert reply.status == 200, reply.body
    items = reply.body["data"]["items"]
    assert [(i["row"], i["result"], i["id_number"]) for i in items] == [
        (1, "matched", "001085012345"),
        (2, "unmatched", ""),
    ]
    assert "full_name: NGUYEN VAN AN → Nguyễn Văn An" in items[0]["corrections"]
    assert all("NGUYEN" not in str(k) for i in items for k in i)  # no names: the agency has its own file
    msg = Message.objects.get(pk=reply.message_id)
    assert msg.request["client"].endswith("/VPDKDD-HN/DATDAI") and msg.response_signature
    assert AuditEvent.objects.filter(action="cleaning.export", detail__job=ref).exists()


def test_another_agencys_job_is_not_found_and_no_grant_is_refused(
    land_office: Person, make_person: Callable[..., Person]
) -> None:
    other = make_person(
        "officer.yte", org_code="SO-YT", org_name="Sở Y tế", kind="department", role="officer", province="01"
    )
    ref = _job(other)
    reply = feedback.fetch(land_office.actor.organisation_id or 0, "land", ref, end_user="canbo.datdai")
    assert reply.status == 404
    # Sở Y tế has no grant on the service: its system is refused by the gateway
    from dancu.apps.gateway_client.demo import seed_member

    admin = make_person("quantri.yte", org_code="SO-YT", kind="department", role="admin", province="01")
    health = Organisation.objects.get(code="SO-YT")
    seed_member(
        health, admin.actor, subsystem="YTE", system="land", grants={}, legal_basis="Nghị định 47/2020"
    )
    refused = feedback.fetch(admin.actor.organisation_id or 0, "land", ref, end_user="quantri.yte")
    assert refused.status == 403 and refused.body["detail"][0]["rule"] == "no_grant"


def test_a_stored_credential_opens_only_in_its_own_row(land_office: Person) -> None:
    conn = ExchangeConnection.objects.get(
        organisation_id=land_office.actor.organisation_id or 0, system="land"
    )
    assert client.unwrap(conn).startswith("xk_")
    conn.organisation_id += 1  # the same ciphertext under another organisation: AES-GCM refuses it
    with pytest.raises(InvalidTag):
        client.unwrap(conn)
