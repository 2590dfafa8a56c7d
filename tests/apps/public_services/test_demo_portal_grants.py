"""``make run``: the demo creates the registry's administrator (quantri.dancu, admin of Công an
thành phố Hà Nội) before it connects the public-service portal to the gateway. The portal's grants
are then approved by whoever provides each service: the registry's by that administrator, a sector
register's (another member) by the platform operator — never refused (the demo once stopped with
``AccessDenied: only the provider's administrators decide on its grants``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from dancu.apps.gateway_client.demo import demo_user, seed_member
from dancu.apps.public_services import registry_link, sector_registers
from dancu.blocks.exchange import services as ex
from dancu.blocks.exchange.models import Grant
from dancu.blocks.organisations.models import Membership, Organisation
from dancu.blocks.organisations.services import actor_for


def test_sector_register_grants_are_approved_beside_the_registry_administrator(settings: Any) -> None:
    settings.DANCU_EXCHANGE_SELF_SERVICE_CLIENTS = [
        *settings.DANCU_EXCHANGE_SELF_SERVICE_CLIENTS,
        f"{ex.instance()}/GOV/PORTAL-2/CONG-2",
    ]
    police = Organisation.objects.get(code="CA-HN")
    quantri = demo_user("quantri.dancu", police, Membership.Role.ADMIN)
    assert get_user_model().objects.filter(username="quantri.dancu").exists()
    org = Organisation.objects.create(code="PORTAL-2", name="Cổng thứ hai", kind=Organisation.Kind.DEPARTMENT)
    admin = demo_user("quantri.cong2", org, Membership.Role.ADMIN)
    grants: dict[str, tuple[str, list[str]]] = {}
    for code, identifier in sector_registers.publish().items():
        grants[identifier] = (registry_link.PURPOSE, list(sector_registers.SERVICES[code].fields))
    assert grants  # sector registers: services another member provides

    client_id = seed_member(
        org, actor_for(admin, org.pk), subsystem="CONG-2", system="portal-2", grants=grants, legal_basis="-"
    )

    approved = Grant.objects.filter(client__member__organisation=org, status=Grant.Status.APPROVED)
    assert approved.count() == len(grants) and client_id.endswith("/CONG-2")
    assert quantri.pk is not None
