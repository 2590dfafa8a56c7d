"""Who may read the commune lists (poor / near-poor / merit households: names, ID numbers,
status) and what the listed people see afterwards (Law 91/2025/QH15 Art. 3 purpose limitation;
ADR 0002). Named actors:

* ``canbo.nhcsxh`` — the lender's credit officer: reads the lists sent to the bank, each read is
  on the access history of every person on the list;
* ``thongke.nhcsxh`` — a statistics member of the bank: no personal data, refused and audited;
* ``quantri.nhcsxh`` — the bank's administrator: publishes rules, reads no list;
* ``officer.yte`` — an officer of a department taking no part: refused and audited;
* ``canbo.soldtbxh`` — the list owner: reads its own lists only; another list owner's are
  "not found".
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from dancu.apps.gateway_client.demo import demo_user
from dancu.apps.social_loans import services
from dancu.apps.social_loans.models import Participant
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.audit.services import events_for_citizen
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.registry.dto import CitizenView
from dancu.errors import AccessDenied, NotFound
from tests.apps.social_loans.conftest import _person
from tests.conftest import Person

READ = "social_loans.list_read"


def _denied() -> int:
    return AuditEvent.objects.filter(action=READ, result=AuditEvent.Result.DENIED).count()


@pytest.fixture
def bank_statistician(seeded: dict[str, str]) -> Person:
    """A statistics officer of NHCSXH Hà Nội: anonymised aggregates only."""
    bank = Organisation.objects.get(pk=Participant.objects.get(role=Participant.Role.LENDER).organisation_id)
    demo_user("thongke.nhcsxh", bank, "statistics")
    return _person("thongke.nhcsxh")


def test_the_bank_officer_reads_a_list_and_every_listed_person_sees_the_read(
    bank_officer: Person, tay_ho_list: services.ListView, households: dict[str, CitizenView]
) -> None:
    view, entries = services.get_list(bank_officer.actor, tay_ho_list.list_id)
    assert view.list_id == tay_ho_list.list_id and len(entries) == 6
    events = AuditEvent.objects.filter(action=READ, result=AuditEvent.Result.OK)
    listed = {households[k].citizen_id for k in ("an", "binh", "hoa", "chi", "dung")}
    assert {e.subject_citizen_id for e in events} == listed
    assert all(e.purpose == services.GATEWAY_PURPOSE and e.detail["list"] == view.reference for e in events)
    seen = [e for e in events_for_citizen(households["binh"].citizen_id) if e.action == READ]
    assert seen and "Ngân hàng Chính sách xã hội" in seen[0].organisation


def test_a_statistics_member_of_the_bank_reads_no_list(
    bank_statistician: Person, tay_ho_list: services.ListView, logged_in: Callable[[Person], Client]
) -> None:
    with pytest.raises(AccessDenied):
        services.get_list(bank_statistician.actor, tay_ho_list.list_id)
    with pytest.raises(AccessDenied):
        services.lists_for(bank_statistician.actor)
    assert _denied() == 2
    page = logged_in(bank_statistician).get(f"/vay-von/danh-sach/{tay_ho_list.list_id}/")
    assert page.status_code == 403 and b"001085012345" not in page.content
    assert not AuditEvent.objects.filter(action=READ, result=AuditEvent.Result.OK).exists()


def test_the_bank_administrator_publishes_rules_but_reads_no_list(
    bank_admin: Person, tay_ho_list: services.ListView, logged_in: Callable[[Person], Client]
) -> None:
    with pytest.raises(AccessDenied):
        services.get_list(bank_admin.actor, tay_ho_list.list_id)
    index = logged_in(bank_admin).get("/vay-von/")
    assert index.status_code == 200 and tay_ho_list.reference.encode() not in index.content
    assert _denied() == 1


def test_a_department_taking_no_part_reads_no_list(
    make_person: Callable[..., Person], tay_ho_list: services.ListView
) -> None:
    health = make_person(
        "officer.yte", org_code="SO-YT", org_name="Sở Y tế", kind="department", role="officer", province="01"
    )
    with pytest.raises(AccessDenied):
        services.get_list(health.actor, tay_ho_list.list_id)
    assert _denied() == 1


def test_the_list_owner_reads_its_own_list_and_not_another_owners(
    list_owner: Person, make_person: Callable[..., Person], tay_ho_list: services.ListView
) -> None:
    _, entries = services.get_list(list_owner.actor, tay_ho_list.list_id)
    assert len(entries) == 6
    assert AuditEvent.objects.filter(action=READ, purpose="data.cleaning", result="ok").count() == 5
    other = make_person("officer.sonv", org_code="SO-NV-X", kind="department", role="officer", province="01")
    Participant.objects.create(
        organisation_id=other.actor.organisation_id or 0, role=Participant.Role.LIST_OWNER
    )
    with pytest.raises(NotFound):
        services.get_list(other.actor, tay_ho_list.list_id)
    assert services.lists_for(other.actor) == []
    assert AuditEvent.objects.filter(action=READ, result="not_found").count() == 1
