"""The social-policy bank asks under a purpose of its own, ``social_policy.credit`` (least data: a
yes/no answer with reason codes), and every answer names the lender that asked (the recipient).

Actors: ``canbo.nhcsxh``, credit officer of NHCSXH Hà Nội (the lender); ``canbo.soldtbxh`` and
``quantri.soldtbxh`` of Sở LĐTBXH (the list owner, a city department); Nguyễn Văn An, the person
asked about, reading his own access history. Denials: the bank's old purpose
(``public_service.processing``) is refused at the gateway, and no one but the bank may use the new
one — neither the department's officers nor its gateway member."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from dancu.apps.gateway_client import client as gateway_client
from dancu.apps.social_loans import services
from dancu.apps.social_loans.demo import BANK_NAME
from dancu.apps.social_loans.models import Decision
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.services import events_for_citizen
from dancu.blocks.exchange import services as exchange
from dancu.blocks.exchange.models import Message, Service, Subsystem
from dancu.blocks.exchange.tracker import exchanges_for_citizen
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.policy import POLICY
from dancu.blocks.organisations.services import actor_for
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.dto import CitizenView
from dancu.errors import AccessDenied, DomainValidationError
from tests.conftest import Person

CREDIT = "social_policy.credit"


def test_the_query_runs_under_the_credit_purpose_and_an_sees_which_lender_asked_in_vietnamese(
    bank_officer: Person, tay_ho_list: services.ListView, households: dict[str, CitizenView]
) -> None:
    an = households["an"]
    d = services.decide(bank_officer.actor, "HN", an.id_number)
    assert d.recipient == BANK_NAME
    assert Decision.objects.get(reference=d.reference).recipient_name == BANK_NAME
    # both registry facts came through the gateway under the bank's own purpose
    assert set(Message.objects.filter(pk__in=d.exchange_messages).values_list("purpose", flat=True)) == {
        CREDIT
    }
    # An's access history: the answer given about him, by whom, why — in Vietnamese
    answer = next(e for e in events_for_citizen(an.citizen_id) if e.action == services.ANSWERED)
    assert answer.organisation == BANK_NAME and answer.purpose_code == CREDIT
    assert answer.purpose_vi.startswith("Xét điều kiện vay vốn tín dụng chính sách xã hội")
    assert set(answer.released) == {"eligible", "reasons"}  # not his household's data
    seen = [x for x in exchanges_for_citizen(an.citizen_id) if x.message_id in d.exchange_messages]
    assert seen and {x.purpose_vi for x in seen} == {answer.purpose_vi}


def test_the_old_purpose_is_refused_for_the_banks_query(
    bank_officer: Person, tay_ho_list: services.ListView, households: dict[str, CitizenView]
) -> None:
    bank = Organisation.objects.get(code="NHCSXH-HN")
    reply = gateway_client.call(
        bank.pk,
        services.SYSTEM,
        "household",
        households["an"].id_number,
        purpose="public_service.processing",
        end_user="canbo.nhcsxh",
        case_reference="QD-OLD",
    )
    assert reply.status == 403
    assert Message.objects.get(pk=reply.message_id).purpose == "public_service.processing"
    # and the bank's people may not act under it on the platform either; its officers hold no
    # registry purpose at all (the credit purpose is the gateway member's, gateway-only)
    assert not bank_officer.actor.may("public_service.processing") and not bank_officer.actor.may(CREDIT)
    with pytest.raises(AccessDenied):
        registry.get_by_id_number(
            AccessContext(bank_officer.actor, "public_service.processing"), households["an"].id_number
        )


def test_only_the_bank_may_use_the_credit_purpose(
    list_owner: Person, seeded: dict[str, str], households: dict[str, CitizenView]
) -> None:
    assert {kind for (kind, _role), purposes in POLICY.items() if CREDIT in purposes} == {
        Organisation.Kind.SOCIAL_POLICY_BANK
    }
    # the list owner's officer: refused, audited by the registry
    assert not list_owner.actor.may(CREDIT)
    with pytest.raises(AccessDenied):
        registry.household_members(AccessContext(list_owner.actor, CREDIT), households["an"].id_number)
    # the department's gateway member may not even ask for a grant under it
    admin = actor_for(get_user_model().objects.get(username="quantri.soldtbxh"))
    client = Subsystem.objects.get(member__member_code="SLDTBXH-HN", code="ANSINH")
    household = Service.objects.get(code="household")
    now = timezone.now()
    with pytest.raises(DomainValidationError) as refused:
        exchange.request_grant(
            admin,
            client=client,
            service=household,
            purposes={CREDIT: ["id_number", "life_status"]},
            legal_basis="Nghị định 78/2002/NĐ-CP",
            valid_from=now,
            valid_until=now + timedelta(days=30),
        )
    assert refused.value.problems[0].rule == "purpose_not_allowed"


def test_the_bank_officers_page_names_the_lender_that_asked(
    bank_officer: Person,
    tay_ho_list: services.ListView,
    households: dict[str, CitizenView],
    client: Client,
) -> None:
    d = services.decide(bank_officer.actor, "HN", households["dung"].id_number)
    client.force_login(bank_officer.user)
    page = client.get(f"/vay-von/quyet-dinh/{d.reference}/")
    assert page.status_code == 200, page.status_code
    html = page.content.decode()
    assert 'data-testid="recipient"' in html and BANK_NAME in html
