"""The citizen's page /eid/me/ beside the account: where I was notified as a guest (residence), the
data exchanges that carried my data with the "flag as unjustified" button (LGSP tracker), and in
the access history the names — never the values — of the fields a relying party received."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.eid import services as eid
from dancu.errors import DomainValidationError
from tests.blocks.eid.conftest import AN_ID, PASSWORD

pytestmark = pytest.mark.django_db


def _logged_in(client: Client) -> None:
    response = client.post("/eid/login/", {"username": AN_ID, "password": PASSWORD, "next": "/eid/me/"})
    assert response.status_code == 302


def _rp_actor() -> AccessContext:
    actor = Actor(
        user_id=None,
        label="Cổng dịch vụ công thành phố",
        allowed_purposes=frozenset({"sso.claims_release", "security.investigation"}),
    )
    return AccessContext(actor, "sso.claims_release")


def test_the_history_names_the_claims_released_never_values(client: Client, an_registered: int) -> None:
    citizen = eid.citizen_of(an_registered)
    assert citizen is not None and citizen[1] == AN_ID
    audit.record(
        _rp_actor(),
        "sso.claims_release",
        subject_citizen_id=citizen[0],
        detail={"claims": ["name", "birthdate", "id_number"], "fields": ["001085012345", "Nguyễn"]},
    )
    _logged_in(client)
    page = client.get("/eid/me/").content.decode()
    released = page.split('data-testid="history"')[1].split("</table>")[0]
    assert 'data-field="name">Họ và tên<' in released and 'data-field="birthdate"' in released
    assert 'data-field="id_number">Số định danh cá nhân<' in released
    assert "001085012345" not in released and "Nguyễn" not in released


def test_withheld_events_stay_withheld(an_registered: int) -> None:
    citizen = eid.citizen_of(an_registered)
    assert citizen is not None
    actor = Actor(user_id=None, label="police", allowed_purposes=frozenset({"security.investigation"}))
    audit.record(
        AccessContext(actor, "security.investigation"),
        "alerts.hit",
        subject_citizen_id=citizen[0],
        detail={"fields": ["full_name"]},
    )
    assert all(not e.action.startswith("alerts.") for e in eid.access_history(an_registered))


def test_the_page_lists_stays_and_exchanges_and_flags_one(
    client: Client, an_registered: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dancu.apps.residence import services as residence
    from dancu.blocks.exchange import tracker

    citizen = eid.citizen_of(an_registered)
    assert citizen is not None
    seen: dict[str, Any] = {}

    def stays(ctx: AccessContext, id_number: str, **_: Any) -> list[Any]:
        seen["stays"] = (ctx.purpose, ctx.actor.organisation_id, id_number)
        when = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
        return [residence.GuestRecord("Khách sạn Hòa Bình", "Số 1 Hàng Bài", when, when, None, when)]

    def exchanges(citizen_id: int, **_: Any) -> list[Any]:
        seen["exchanges"] = citizen_id
        return [
            SimpleNamespace(
                message_id=7,
                occurred_at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
                organisation="Bảo hiểm xã hội thành phố Hà Nội",
                official="canbo.nguyenthimai",
                provider="Công an thành phố Hà Nội",
                service_id="citizen",
                purpose_code="public_service.processing",
                purpose_vi="Giải quyết thủ tục hành chính",
                purpose_en="Processing an administrative procedure",
                case_reference="HS-BHXH-2026-0042",
                fields=["full_name", "date_of_birth"],
                outcome="ok",
                flagged=False,
            )
        ]

    def flag(citizen_id: int, message_id: int, reason: str) -> None:
        seen["flag"] = (citizen_id, message_id, reason)
        if reason == "again":
            raise DomainValidationError.single("message_id", "already_flagged", "already")

    monkeypatch.setattr(residence, "guest_stays_of_citizen", stays)
    monkeypatch.setattr(tracker, "exchanges_for_citizen", exchanges)
    monkeypatch.setattr(tracker, "flag_access", flag)
    _logged_in(client)
    page = client.get("/eid/me/").content.decode()
    assert seen["stays"] == ("citizen.self_access", None, AN_ID)
    assert seen["exchanges"] == citizen[0]
    assert "Khách sạn Hòa Bình" in page.split('data-testid="stays"')[1]
    exchanges_html = page.split('data-testid="exchanges"')[1].split("</table>")[0]
    assert "Bảo hiểm xã hội thành phố Hà Nội" in exchanges_html and "canbo.nguyenthimai" in exchanges_html
    assert "HS-BHXH-2026-0042" in exchanges_html and 'data-field="full_name"' in exchanges_html
    assert 'action="/eid/me/exchanges/7/flag/"' in exchanges_html

    done = client.post("/eid/me/exchanges/7/flag/", {"reason": "Tôi không làm thủ tục nào"})
    assert done.status_code == 302 and done["Location"] == "/eid/me/?done=flagged#exchanges"
    assert seen["flag"] == (citizen[0], 7, "Tôi không làm thủ tục nào")
    again = client.post("/eid/me/exchanges/7/flag/", {"reason": "again"})
    assert again["Location"] == "/eid/me/?flag_error=already_flagged#exchanges"
    assert 'data-testid="flag-error"' in client.get(again["Location"]).content.decode()


def test_flagging_needs_a_log_in_and_a_post(client: Client) -> None:
    assert client.post("/eid/me/exchanges/7/flag/", {"reason": "x"})["Location"].startswith("/eid/login/")
    assert client.get("/eid/me/exchanges/7/flag/").status_code in (302, 405)


def test_the_page_lists_the_change_notifications_sent_about_me(
    client: Client, an_registered: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dancu.blocks.exchange import tracker

    citizen = eid.citizen_of(an_registered)
    assert citizen is not None
    asked: list[int] = []

    def notices(citizen_id: int, **_: Any) -> list[Any]:
        asked.append(citizen_id)
        return [
            tracker.NotificationSent(
                occurred_at=datetime(2026, 11, 29, 8, 0, tzinfo=UTC),
                kind="citizen.died",
                kind_vi="Khai tử",
                kind_en="Death registered",
                provider="Công an thành phố Hà Nội",
                organisation="Bảo hiểm xã hội thành phố Hà Nội",
                purpose_vi="Giải quyết thủ tục hành chính",
                purpose_en="Processing an administrative procedure",
                fields=["id_number"],
                delivered=False,
            )
        ]

    monkeypatch.setattr(tracker, "notifications_for_citizen", notices)
    _logged_in(client)
    page = client.get("/eid/me/").content.decode()
    assert asked == [citizen[0]]
    table = page.split('data-testid="notices"')[1].split("</table>")[0]
    assert "Khai tử" in table and "Bảo hiểm xã hội thành phố Hà Nội" in table
    assert 'data-field="id_number"' in table and "Đang chờ" in table
