"""Who may use the staff console: logged-in members of an organisation whose role may read the
registry, acting for one organisation at a time."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from dancu.apps.web.session import ORGANISATION_SESSION_KEY
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.services import add_member
from tests.conftest import Person

pytestmark = pytest.mark.django_db


def test_console_requires_login(client: Client) -> None:
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/eid/login/?next=/console/"


def test_record_page_requires_login(client: Client) -> None:
    response = client.get("/console/citizens/001085012345/?purpose=registry.lookup")
    assert response.status_code == 302
    assert response["Location"].startswith("/eid/login/")


def test_outsider_without_organisation_is_told_to_ask_an_administrator(
    logged_in: Callable[[Person], Client], outsider: Person
) -> None:
    response = logged_in(outsider).get("/console/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Không thuộc tổ chức nào" in html
    assert "quản trị viên" in html


def test_hotel_clerk_may_not_search_the_registry(
    logged_in: Callable[[Person], Client], hotel_clerk: Person
) -> None:
    client = logged_in(hotel_clerk)
    response = client.get("/console/")
    assert response.status_code == 403
    assert "Khách sạn Hòa Bình" in response.content.decode()
    assert (
        client.post("/console/", {"name": "nguyen van an", "purpose": "registry.lookup"}).status_code == 403
    )


def test_purpose_select_lists_only_the_read_purposes_the_actor_may_use(
    logged_in: Callable[[Person], Client], city_police: Person
) -> None:
    html = logged_in(city_police).get("/console/").content.decode()
    for code in (
        "registry.lookup",
        "security.investigation",
        "public_service.processing",
        "data.cleaning",
        "registry.administration",
    ):
        assert f'value="{code}"' in html
    for code in ("identity.verification", "residence.notification", "system.import", "citizen.self_access"):
        assert f'value="{code}"' not in html
    assert "Tra cứu thông tin công dân phục vụ công tác" in html


def test_committee_officer_gets_only_the_committee_purposes(
    logged_in: Callable[[Person], Client], make_person: Callable[..., Person]
) -> None:
    officer = make_person(
        "ubnd.officer",
        org_code="UBND-TAYHO",
        org_name="UBND phường Tây Hồ",
        kind="committee",
        role="officer",
        province="01",
        ward="00103",
    )
    html = logged_in(officer).get("/console/").content.decode()
    assert 'value="registry.lookup"' in html and 'value="public_service.processing"' in html
    assert 'value="security.investigation"' not in html


def test_member_of_two_organisations_chooses_one_and_it_is_kept_in_the_session(
    logged_in: Callable[[Person], Client], ward_police: Person, hotel_clerk: Person
) -> None:
    add_member(ward_police.user, Organisation.objects.get(code="KS-HOABINH"), "clerk")
    client = logged_in(ward_police)
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/console/organisation/?next=%2Fconsole%2F"
    picker = client.get(response["Location"]).content.decode()
    assert "Công an phường Tây Hồ" in picker and "Khách sạn Hòa Bình" in picker

    ward_org = Organisation.objects.get(code="CA-P-TAYHO")
    chosen = client.post("/console/organisation/", {"organisation": ward_org.pk, "next": "/console/"})
    assert chosen.status_code == 302 and chosen["Location"] == "/console/"
    assert client.session[ORGANISATION_SESSION_KEY] == ward_org.pk
    page = client.get("/console/")
    assert page.status_code == 200
    assert "Công an phường Tây Hồ" in page.content.decode()

    hotel = Organisation.objects.get(code="KS-HOABINH")
    client.post("/console/organisation/", {"organisation": hotel.pk})
    assert client.get("/console/").status_code == 403


def test_organisation_picker_refuses_an_organisation_one_is_not_member_of(
    logged_in: Callable[[Person], Client], city_police: Person, hotel_clerk: Person
) -> None:
    client = logged_in(city_police)
    hotel = Organisation.objects.get(code="KS-HOABINH")
    response = client.post("/console/organisation/", {"organisation": hotel.pk})
    assert response.status_code == 400
    assert "organisation" in response.content.decode()
    assert ORGANISATION_SESSION_KEY not in client.session


def test_organisation_picker_ignores_a_next_url_on_another_site(
    logged_in: Callable[[Person], Client], city_police: Person
) -> None:
    client = logged_in(city_police)
    org = Organisation.objects.get(code="CA-HN")
    response = client.post(
        "/console/organisation/", {"organisation": org.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/console/"
