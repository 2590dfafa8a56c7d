"""The police console's alert page (``console:alert-hits``): police units see the hits (time,
establishment, ID number and name, alert kind and reference) and add, close and acknowledge
entries; everyone else gets 403, and the refusal is in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dancu.blocks.alerts import services as alerts
from dancu.blocks.alerts.models import AlertEntry, AlertHit
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity.services import QrEvidence, verify
from tests.blocks.alerts.conftest import AN_ID, AN_QR
from tests.blocks.identity.conftest import AN_NAME
from tests.conftest import Person

pytestmark = pytest.mark.django_db

URL = "/console/alerts/"


def test_the_url_is_named() -> None:
    assert reverse("console:alert-hits") == URL


@pytest.fixture
def wanted_an_seen_at_a_pawn_shop(residents: dict[str, Any], city_police: Person, pawn_clerk: Person) -> int:
    alerts.add_alert(
        city_police.ctx("security.investigation"),
        AN_ID,
        kind="wanted",
        reference="QĐ-TN-123/2026",
        legal_basis="Bộ luật Tố tụng hình sự 2015 Điều 231",
    )
    verify(pawn_clerk.ctx("identity.verification"), QrEvidence(AN_QR), mode="data")
    return AlertHit.objects.get().pk


def test_city_police_see_the_hit_with_the_subjects_name(
    logged_in: Callable[[Person], Client], wanted_an_seen_at_a_pawn_shop: int, city_police: Person
) -> None:
    response = logged_in(city_police).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    hit = html.split('data-testid="hits"')[1].split("</table>")[0]
    assert "Cửa hàng cầm đồ Phát Đạt" in hit and AN_ID in hit and AN_NAME in hit
    assert "Đối tượng truy nã" in hit and "QĐ-TN-123/2026" in hit
    assert "Danh sách cảnh báo" in html  # Vietnamese by default
    assert AuditEvent.objects.filter(action="alerts.hits", actor_label="officer.city", result="ok").exists()


def test_the_search_page_links_to_the_alert_list_for_police_only(
    logged_in: Callable[[Person], Client], city_police: Person, committee_officer: Person
) -> None:
    assert 'data-testid="alerts-link"' in logged_in(city_police).get("/console/").content.decode()
    client = logged_in(committee_officer)
    assert 'data-testid="alerts-link"' not in client.get("/console/").content.decode()


def test_a_ward_unit_adds_an_entry_by_id_number_and_closes_it(
    logged_in: Callable[[Person], Client], residents: dict[str, Any], ward_police: Person
) -> None:
    client = logged_in(ward_police)
    added = client.post(
        URL,
        {
            "action": "add",
            "id_number": "0010 8501 2345",
            "kind": "missing",
            "reference": "TB-MT-07/2026",
            "legal_basis": "Luật Công an nhân dân 2014 Điều 16",
            "valid_until": "31/12/2026",
        },
    )
    assert added.status_code == 302 and added["Location"] == f"{URL}?done=add"
    entry = AlertEntry.objects.get()
    assert (entry.subject_id_number, entry.kind, entry.issuing_organisation_name) == (
        AN_ID,
        "missing",
        "Công an phường Tây Hồ",
    )
    page = client.get(added["Location"]).content.decode()
    assert 'data-testid="notice"' in page and "TB-MT-07/2026" in page

    closed = client.post(URL, {"action": "close", "entry_id": entry.pk, "reason": "Đã tìm thấy"})
    assert closed.status_code == 302
    entry.refresh_from_db()
    assert (entry.active, entry.close_reason) == (False, "Đã tìm thấy")


def test_mistakes_in_the_form_name_the_field(
    logged_in: Callable[[Person], Client], residents: dict[str, Any], ward_police: Person
) -> None:
    client = logged_in(ward_police)
    missing = client.post(URL, {"action": "add", "id_number": AN_ID, "kind": "wanted"})
    assert missing.status_code == 400
    assert "<code>reference</code>" in missing.content.decode()
    unknown = client.post(
        URL,
        {
            "action": "add",
            "id_number": "001099000001",
            "kind": "wanted",
            "reference": "x",
            "legal_basis": "y",
        },
    )
    assert unknown.status_code == 404
    assert client.post(URL, {"action": "close", "entry_id": 999, "reason": "x"}).status_code == 404
    assert client.post(URL, {"action": "explode"}).status_code == 400
    assert not AlertEntry.objects.exists()


def test_a_hit_is_marked_seen_from_the_page(
    logged_in: Callable[[Person], Client], wanted_an_seen_at_a_pawn_shop: int, city_police: Person
) -> None:
    client = logged_in(city_police)
    response = client.post(URL, {"action": "seen", "hit_id": wanted_an_seen_at_a_pawn_shop})
    assert response.status_code == 302
    assert AlertHit.objects.get().seen_by == "officer.city (Công an thành phố Hà Nội)"


@pytest.mark.parametrize("who", ["hotel_clerk", "pawn_clerk", "committee_officer", "outsider"])
def test_others_get_403(
    logged_in: Callable[[Person], Client], who: str, request: pytest.FixtureRequest
) -> None:
    client = logged_in(request.getfixturevalue(who))
    assert client.get(URL).status_code == 403
    add = {"action": "add", "id_number": AN_ID, "kind": "wanted", "reference": "x", "legal_basis": "y"}
    assert client.post(URL, add).status_code == 403
    assert not AlertEntry.objects.exists()


def test_a_committee_officer_passes_the_console_but_is_refused_by_the_alert_list(
    logged_in: Callable[[Person], Client], committee_officer: Person
) -> None:
    response = logged_in(committee_officer).get(URL)
    assert response.status_code == 403
    assert "<code>policy</code>" in response.content.decode()
    denied = AuditEvent.objects.get(action="alerts.hits", actor_label="officer.ubnd.tayho")
    assert denied.result == "denied"


def test_login_is_required(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/eid/login/")
