"""The social-policy bank's purpose, ``social_policy.credit``, is a gateway-only read: it answers
"is this person eligible?" with yes/no and reason codes, through the gateway's ``household`` and
``residence`` services, and never opens the registry to a person (least data, Law 91/2025/QH15
Art. 3; ADR 0015). No one of the bank searches the registry or reads a record, a household or an
access history — not in the staff console, not through the registry's functions.

Actors: ``canbo.nhcsxh``, credit officer of NHCSXH Hà Nội; the bank's own system (its API key,
role ``integration``); the bank's gateway member (role ``exchange``); Nguyễn Văn An, asked about.
Denials: the officer at the console's search, record (with its household and history) pages, and
at every registry read function; the bank's API key and its gateway member at the interactive reads
(search, old-number look-up, history). Allowed: the gateway member's eligibility question.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from django.test import Client

from dancu.apps.social_loans import services
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.organisations.models import Membership, Organisation
from dancu.blocks.organisations.policy import EXCHANGE, INTEGRATION, purposes_for
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.dto import CitizenView
from dancu.errors import AccessDenied
from tests.conftest import Person

CREDIT = "social_policy.credit"


def test_credit_is_not_an_interactive_registry_purpose_and_the_officer_role_lacks_it() -> None:
    assert CREDIT not in registry.READ_PURPOSES
    assert CREDIT in registry.GATEWAY_READ_PURPOSES
    bank = Organisation.Kind.SOCIAL_POLICY_BANK
    assert CREDIT not in purposes_for(bank, Membership.Role.OFFICER)
    assert CREDIT in purposes_for(bank, EXCHANGE)


def test_the_bank_officer_is_refused_at_every_console_page(
    bank_officer: Person, households: dict[str, CitizenView], client: Client
) -> None:
    an = households["an"]
    client.force_login(bank_officer.user)
    assert client.get("/console/").status_code == 403
    by_name = client.post("/console/", {"purpose": CREDIT, "name": an.full_name, "case_reference": "X"})
    assert by_name.status_code == 403 and an.id_number not in by_name.content.decode()
    by_number = client.post("/console/", {"purpose": CREDIT, "id_number": an.id_number})
    assert by_number.status_code == 403
    # the record page, which also shows the household's members and the access history
    record = client.get(f"/console/citizens/{an.id_number}/?purpose={CREDIT}")
    assert record.status_code == 403
    html = record.content.decode()
    assert an.full_name not in html and "household" not in html.lower().replace("not_authorised", "")


def test_the_bank_officer_and_its_api_key_are_refused_at_the_registry_functions(
    bank_officer: Person, households: dict[str, CitizenView]
) -> None:
    an = households["an"]
    # the officer's role no longer holds the purpose; the bank's API key does (for the app), but
    # it is not the gateway member: the registry refuses both, and audits each refusal
    api_key = replace(bank_officer.actor, role=INTEGRATION, allowed_purposes=frozenset({CREDIT}))
    for actor in (bank_officer.actor, api_key):
        ctx = AccessContext(actor, CREDIT)
        before = AuditEvent.objects.filter(result=AuditEvent.Result.DENIED).count()
        reads: list[tuple[Callable[..., object], str]] = [
            (registry.get_by_id_number, an.id_number),
            (registry.lookup_request, an.id_number),
            (registry.search, an.full_name),
            (registry.history, an.id_number),
            (registry.household_members, an.id_number),
        ]
        for read, argument in reads:
            with pytest.raises(AccessDenied):
                read(ctx, argument)
        assert AuditEvent.objects.filter(result=AuditEvent.Result.DENIED).count() == before + len(reads)


def test_the_gateway_member_reads_household_and_residence_but_never_searches(
    bank_officer: Person, households: dict[str, CitizenView]
) -> None:
    an = households["an"]
    member = replace(bank_officer.actor, role=EXCHANGE, allowed_purposes=frozenset({CREDIT}), is_system=False)
    ctx = AccessContext(member, CREDIT)
    # what the gateway's ``residence`` and ``household`` handlers call: least data only
    view = registry.get_by_id_number(ctx, an.id_number)
    assert "religion" in view.fields_withheld and "sex" in view.fields_withheld
    assert any(m.id_number == an.id_number for m in registry.household_members(ctx, an.id_number))
    # but not the interactive reads: search by name, old number, history
    for call in (
        lambda: registry.search(ctx, an.full_name),
        lambda: registry.get_by_old_id_number(ctx, "012345678"),
        lambda: registry.history(ctx, an.id_number),
    ):
        with pytest.raises(AccessDenied):
            call()


def test_the_officer_still_gets_the_yes_no_answer_through_the_banks_gateway_member(
    bank_officer: Person, tay_ho_list: services.ListView, households: dict[str, CitizenView]
) -> None:
    d = services.decide(bank_officer.actor, "HN", households["an"].id_number)
    assert d.exchange_messages and d.recipient
