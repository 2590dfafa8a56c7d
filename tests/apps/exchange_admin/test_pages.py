"""The exchange administration pages (issue 5 item 7): members, catalogue, grant requests and
approvals, the log with evidence export, traffic per service — each for the right people only."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.exchange import crypto
from dancu.blocks.exchange.evidence import seal, verify_bundle
from dancu.blocks.exchange.models import Grant, Member, Message
from tests.blocks.exchange.conftest import Call, World
from tests.conftest import HANOI, Person


def _client(person: Person) -> Client:
    c = Client()
    c.force_login(person.user)
    return c


@pytest.fixture
def an(register: Callable[..., Any]) -> Any:
    return register(
        id_number="001085012345", full_name="Nguyễn Văn An", date_of_birth=date(1985, 3, 2), sex="M"
    )


def test_staff_of_a_non_member_organisation_are_refused(world: World, hotel_clerk: Person) -> None:
    res = _client(hotel_clerk).get("/exchange-admin/")
    assert res.status_code == 403


def test_the_operator_adds_a_member_and_sees_every_subsystem(world: World, operator: Person) -> None:
    c = _client(operator)
    page = c.get("/exchange-admin/members/")
    assert page.status_code == 200
    assert "VN-HN/GOV/BHXH-HN" in page.content.decode()
    res = c.post(
        "/exchange-admin/members/",
        {
            "action": "member",
            "m-member_class": "GOV",
            "m-member_code": "UBND-TAYHO",
            "m-name": "UBND phường Tây Hồ",
        },
    )
    assert res.status_code == 302
    assert Member.objects.filter(member_code="UBND-TAYHO").exists()
    bad = c.post(
        "/exchange-admin/members/",
        {"action": "member", "m-member_class": "GOV", "m-member_code": "has space", "m-name": "X"},
    )
    assert bad.status_code == 400
    assert "identifier_part" in bad.content.decode()


def test_a_member_admin_issues_a_credential_shown_once(world: World, bhxh_admin: Person) -> None:
    c = _client(bhxh_admin)
    res = c.post("/exchange-admin/members/", {"action": "credential", "subsystem": world.bhxh.identifier})
    assert res.status_code == 200
    assert "xk_" in res.content.decode()
    other = c.post("/exchange-admin/members/", {"action": "credential", "subsystem": world.labour.identifier})
    assert other.status_code == 403


def test_request_then_approve_a_grant_through_the_pages(
    world: World, bhxh_admin: Person, police_admin: Person, labour_admin: Person
) -> None:
    c = _client(bhxh_admin)
    res = c.post(
        "/exchange-admin/grants/",
        {
            "client": world.bhxh.pk,
            "service": world.services["life-status"].pk,
            "purpose": "public_service.processing",
            "field_names": ["life_status", "date_of_death"],
            "legal_basis": "Luật Bảo hiểm xã hội 2024",
            "valid_days": 30,
        },
    )
    assert res.status_code == 302, res.content.decode()[:2000]
    g = Grant.objects.get()
    assert g.status == "requested"
    # The client may not approve its own request; the provider's administrator may.
    assert c.post(f"/exchange-admin/grants/{g.pk}/decide/", {"decision": "approve"}).status_code == 403
    assert _client(labour_admin).get("/exchange-admin/grants/").content.decode().count("grant-status") == 0
    page = _client(police_admin).get("/exchange-admin/grants/")
    assert f"approve-{g.pk}" in page.content.decode()
    assert (
        _client(police_admin)
        .post(f"/exchange-admin/grants/{g.pk}/decide/", {"decision": "approve"})
        .status_code
        == 302
    )
    g.refresh_from_db()
    assert g.status == "approved"
    bad = c.post(
        "/exchange-admin/grants/",
        {
            "client": world.bhxh.pk,
            "service": world.services["citizen"].pk,
            "purpose": "public_service.processing",
            "field_names": ["religion"],
            "legal_basis": "x",
            "valid_days": 30,
        },
    )
    assert bad.status_code == 400
    assert "field_not_served" in bad.content.decode()


def test_try_a_call_log_it_and_export_verifiable_evidence(
    world: World, grant: Callable[..., Any], bhxh_admin: Person, police_admin: Person, an: Any
) -> None:
    grant()
    res = _client(bhxh_admin).post(
        "/exchange-admin/try/",
        {
            "client": world.bhxh.identifier,
            "credential": world.bhxh_token,
            "service": world.service_id("citizen"),
            "id_number": an.id_number,
            "purpose": "public_service.processing",
            "case_reference": "HS-1",
        },
    )
    html = res.content.decode()
    assert res.status_code == 200
    assert "Nguyễn Văn An" in html and "1985-03-02" in html
    msg = Message.objects.get()
    assert msg.end_user == bhxh_admin.user.username

    log = _client(police_admin).get("/exchange-admin/log/", {"client_id": world.bhxh.identifier})
    assert f"message-{msg.pk}" in log.content.decode()
    seal(now=msg.occurred_at + timedelta(seconds=10))
    download = _client(police_admin).get(f"/exchange-admin/log/{msg.pk}/evidence.json")
    assert download.status_code == 200
    bundle = json.loads(download.content)
    assert verify_bundle(bundle, trusted_gateway_key=crypto.gateway_public_b64()).ok
    assert AuditEvent.objects.filter(
        action="exchange.evidence_export", subject_citizen_id=an.citizen_id, purpose="exchange.evidence"
    ).exists()


def test_the_overview_draws_traffic_per_service(
    world: World, grant: Callable[..., Any], call: Callable[..., Call], operator: Person, an: Any
) -> None:
    grant()
    call("citizen", an.id_number, request_id="1")
    call("citizen", an.id_number, request_id="2", purpose="data.cleaning")
    page = _client(operator).get("/exchange-admin/")
    html = page.content.decode()
    assert 'data-testid="traffic-chart"' in html
    assert "citizen" in html and "50%" in html
    assert 'width="210.0"' in html  # half of the bar answered, written with a point (not 210,0)


def test_the_demo_hook_is_idempotent(registrar: Person) -> None:
    from dancu.apps.exchange_admin.demo import seed_demo

    first = seed_demo()
    second = seed_demo()
    assert [u for u, _ in first] == [u for u, _ in second]
    assert Grant.objects.filter(status="approved").count() == 2
    assert Member.objects.count() == 3


@pytest.fixture
def bhxh_clerk(make_person: Callable[..., Person], bhxh_admin: Person) -> Person:
    """A clerk of BHXH Hà Nội (a member of the exchange), not its administrator."""
    return make_person("nhanvien.bhxh", org_code="BHXH-HN", kind="department", role="clerk", province=HANOI)


_PAGES = (
    "/exchange-admin/",
    "/exchange-admin/members/",
    "/exchange-admin/catalogue/",
    "/exchange-admin/grants/",
    "/exchange-admin/subscriptions/",
    "/exchange-admin/log/",
    "/exchange-admin/flags/",
    "/exchange-admin/try/",
)


@pytest.mark.parametrize("who", ["city_police", "bhxh_clerk"])
def test_staff_of_a_member_who_are_not_its_administrators_are_refused_every_exchange_page(
    who: str,
    request: pytest.FixtureRequest,
    world: World,
    grant: Callable[..., Any],
    call: Callable[..., Call],
    an: Any,
) -> None:
    """An officer of Công an thành phố Hà Nội (the registry's member, the provider) and a clerk of
    BHXH Hà Nội (the client) belong to member organisations but hold no administrator or
    data-protection role: every page refuses them, the log and the evidence export included, and
    the block shows them nothing (ADR 0010 §20). Before, any membership opened the pages."""
    from dancu.blocks.exchange import services as ex

    person: Person = request.getfixturevalue(who)
    grant()
    call("citizen", an.id_number)
    msg = Message.objects.get()
    c = _client(person)
    for url in (*_PAGES, f"/exchange-admin/log/{msg.pk}/evidence.json"):
        res = c.get(url)
        assert res.status_code == 403, url
        assert f"message-{msg.pk}" not in res.content.decode()
    assert ex.members_of(person.actor) == []
    assert ex.search_log(person.actor) == []
    assert not ex.grants_visible_to(person.actor).exists()
    assert not AuditEvent.objects.filter(action="exchange.evidence_export").exists()


def test_the_members_administrator_and_its_data_protection_officer_see_its_exchanges(
    world: World,
    grant: Callable[..., Any],
    call: Callable[..., Call],
    bhxh_admin: Person,
    bhxh_dpo: Person,
    labour_admin: Person,
    an: Any,
) -> None:
    """BHXH's administrator and its data-protection officer (role auditor) find BHXH's exchange in
    the log; Sở Lao động's administrator, of another member, does not."""
    grant()
    call("citizen", an.id_number)
    msg = Message.objects.get()
    for person in (bhxh_admin, bhxh_dpo):
        res = _client(person).get("/exchange-admin/log/")
        assert res.status_code == 200 and f"message-{msg.pk}" in res.content.decode()
    other = _client(labour_admin).get("/exchange-admin/log/")
    assert other.status_code == 200 and f"message-{msg.pk}" not in other.content.decode()


def test_the_demo_administrators_hold_the_administrator_role_of_their_member(registrar: Person) -> None:
    """The demo's exchange accounts still open the pages after §20: each client's demo account is
    its organisation's administrator and administers its member; the registry's demo account
    (``quantri.dancu``, made by ``dancu demo``) is the police's administrator."""
    from django.contrib.auth import get_user_model

    from dancu.apps.exchange_admin.demo import CLIENTS, seed_demo
    from dancu.apps.web.management.commands.demo import DEMO_ACCOUNTS
    from dancu.blocks.exchange import services as ex
    from dancu.blocks.organisations.services import actor_for

    seed_demo()
    for code, _name, username, *_ in CLIENTS:
        actor = actor_for(get_user_model().objects.get(username=username))
        member = Member.objects.get(member_code=code)
        assert actor.role == "admin" and ex.administers(actor, member) and ex.members_of(actor) == [member]
        c = Client()
        c.force_login(get_user_model().objects.get(username=username))
        assert c.get("/exchange-admin/grants/").status_code == 200
    provider = next(a for a in DEMO_ACCOUNTS if a.username == "quantri.dancu")
    assert (provider.role, provider.org_code) == ("admin", "CA-HN")


def test_the_overview_shows_refusal_tallies_to_the_operator_and_a_members_own_to_its_admin(
    world: World,
    call: Callable[..., Call],
    operator: Person,
    bhxh_admin: Person,
    labour_admin: Person,
    settings: Any,
) -> None:
    """Three calls with a made-up credential (counted as the unauthenticated caller) and BHXH
    over its rate limit: the operator sees both tallies; BHXH's administrator sees its own only,
    Sở Lao động's none."""
    settings.DANCU_EXCHANGE_RATE_PER_MINUTE, settings.DANCU_EXCHANGE_BURST = 60, 1
    for n in range(3):
        call("citizen", "001085012345", client="VN-HN/GOV/NOBODY/X", request_id=f"u{n}")
    assert call("citizen", "001085012345", request_id="r1").status != 429
    assert call("citizen", "001085012345", request_id="r2").status == 429

    def tallies(person: Person) -> str:
        html = _client(person).get("/exchange-admin/").content.decode()
        return html.split('data-testid="refusal-tallies"')[1].split("</table>")[0]

    everything = tallies(operator)
    assert "unknown_client" in everything and "(chưa xác thực)" in everything and ">3<" in everything
    assert "rate_limited" in everything and world.bhxh.identifier in everything
    own = tallies(bhxh_admin)
    assert "rate_limited" in own and "unknown_client" not in own
    assert "Chưa có lượt từ chối nào được đếm." in tallies(labour_admin)


def test_the_catalogue_points_integrators_to_the_gateways_contract(world: World, bhxh_admin: Person) -> None:
    html = _client(bhxh_admin).get("/exchange-admin/catalogue/").content.decode()
    link = html.split('data-testid="gateway-openapi"')[0].rsplit("<a ", 1)[1]
    assert 'href="/exchange/openapi.json"' in link
