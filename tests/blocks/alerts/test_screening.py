"""Screening (issue 3, model 16): when a pawn shop verifies a person on a police alert list, the
police get a hit and the pawn shop sees exactly what it would see for anyone else — the result, the
API response and the page are the same, apart from receipt ids and times (Decree 96/2016/NĐ-CP
Art. 25–26; Decree 13/2023/NĐ-CP Art. 17; ADR 0007)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone

from dancu.blocks.alerts import services as alerts
from dancu.blocks.alerts.models import AlertEntry, AlertHit
from dancu.blocks.alerts.services import AlertView
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.audit.services import events_for_citizen
from dancu.blocks.identity.services import QrEvidence, TypedEvidence, VerificationResult, verify
from dancu.errors import NotFound
from tests.blocks.alerts.conftest import AN_ID, AN_QR, INVESTIGATION, MAI_ID
from tests.blocks.identity.conftest import MAI_BORN, MAI_NAME
from tests.conftest import Person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

VERIFY = "identity.verification"


def check(clerk: Person, text: str = AN_QR) -> VerificationResult:
    return verify(clerk.ctx(VERIFY), QrEvidence(text), mode="data")


def what_the_business_sees(result: VerificationResult) -> dict[str, Any]:
    seen = asdict(result)
    del seen["receipt_id"], seen["verified_at"]
    return seen


@pytest.fixture
def fresh_rate_limits() -> None:
    from django.core.cache import cache

    cache.clear()


# --------------------------------------------------------------------------- the hit
def test_a_pawn_shop_verifies_a_wanted_person_and_only_the_police_learn_of_it(
    residents: dict[str, Any], city_police: Person, pawn_clerk: Person, place_alert: Callable[..., AlertView]
) -> None:
    unlisted = check(pawn_clerk)
    entry = place_alert(city_police)
    listed = check(pawn_clerk)

    assert listed.decision == "match"
    assert what_the_business_sees(listed) == what_the_business_sees(unlisted)

    hit = AlertHit.objects.get()
    assert hit.entry_id == entry.entry_id
    assert hit.subject_citizen_id == residents["an"].citizen_id
    assert (hit.where_organisation_name, hit.where_organisation_kind) == (
        "Cửa hàng cầm đồ Phát Đạt",
        "pawn_shop",
    )
    assert hit.where_organisation_id == pawn_clerk.actor.organisation_id
    assert (hit.event, hit.receipt_id) == ("identity.verify", listed.receipt_id)
    assert (hit.seen_at, hit.seen_by) == (None, "")

    event = AuditEvent.objects.get(action="alerts.hit")
    assert (event.organisation_name, event.purpose, event.result) == (
        "Công an thành phố Hà Nội",
        "security.alert_screening",
        "ok",
    )
    assert event.organisation_id == city_police.actor.organisation_id
    assert event.detail["receipt"] == listed.receipt_id and event.detail["hit"] == hit.pk

    # The pawn shop's own event is the same as for anyone; the hit is not in the citizen's log.
    verify_events = AuditEvent.objects.filter(action="identity.verify").order_by("id")
    first, second = (dict(e.detail, receipt="") for e in verify_events)
    assert first == second
    assert {e.organisation_name for e in verify_events} == {"Cửa hàng cầm đồ Phát Đạt"}
    assert not [r for r in events_for_citizen(hit.subject_citizen_id) if r.action.startswith("alerts.")]

    [seen] = alerts.list_hits(city_police.ctx(INVESTIGATION))
    assert (seen.hit_id, seen.subject_id_number, seen.kind, seen.reference) == (
        hit.pk,
        AN_ID,
        "wanted",
        "QĐ-TN-123/2026",
    )


def test_one_hit_per_entry_in_force(
    residents: dict[str, Any],
    city_police: Person,
    ward_police: Person,
    pawn_clerk: Person,
    place_alert: Callable[..., AlertView],
) -> None:
    place_alert(city_police)
    place_alert(ward_police, kind="under_supervision", reference="QĐ-QL-05/2026")
    check(pawn_clerk)
    assert AlertHit.objects.count() == 2
    assert AuditEvent.objects.filter(action="alerts.hit").count() == 2


def test_a_closed_entry_gives_no_hit(
    residents: dict[str, Any], city_police: Person, pawn_clerk: Person, place_alert: Callable[..., AlertView]
) -> None:
    entry = place_alert(city_police)
    alerts.close_alert(city_police.ctx(INVESTIGATION), entry.entry_id, reason="Đã bắt được đối tượng")
    assert check(pawn_clerk).decision == "match"
    assert not AlertHit.objects.exists()
    assert not AuditEvent.objects.filter(action="alerts.hit").exists()


def test_an_expired_or_not_yet_valid_entry_gives_no_hit(
    residents: dict[str, Any], city_police: Person, pawn_clerk: Person, place_alert: Callable[..., AlertView]
) -> None:
    now = timezone.now()
    place_alert(city_police, valid_from=now - timedelta(days=60), valid_until=now - timedelta(days=1))
    place_alert(city_police, reference="QĐ-TN-124/2026", valid_from=now + timedelta(days=1))
    assert AlertEntry.objects.filter(active=True).count() == 2
    assert check(pawn_clerk).decision == "match"
    assert not AlertHit.objects.exists()


def test_no_hit_without_a_match(
    residents: dict[str, Any], city_police: Person, pawn_clerk: Person, place_alert: Callable[..., AlertView]
) -> None:
    place_alert(city_police)
    wrong_name = AN_QR.replace("Nguyễn Văn An", "Trần Văn Bình")
    assert check(pawn_clerk, wrong_name).decision != "match"
    assert not AlertHit.objects.exists()


def test_a_failure_to_record_the_hit_does_not_change_the_answer(
    residents: dict[str, Any],
    city_police: Person,
    pawn_clerk: Person,
    place_alert: Callable[..., AlertView],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unlisted = check(pawn_clerk)
    place_alert(city_police)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(AlertHit.objects, "create", broken)
    listed = check(pawn_clerk)
    assert what_the_business_sees(listed) == what_the_business_sees(unlisted)
    assert not AlertHit.objects.exists()
    assert AuditEvent.objects.filter(action="identity.verify").count() == 2


# --------------------------------------------------------------------------- the same answer over HTTP
def _normalised(text: str) -> str:
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<receipt>", text)
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken"', text)
    # The chip form's one-time Active Authentication challenge (ADR 0017 §16): new on every page.
    text = re.sub(r'name="challenge_id" value="[0-9a-f]{32}"', 'name="challenge_id"', text)
    text = re.sub(r'data-challenge="[0-9a-f]{16}"', "data-challenge", text)
    text = re.sub(r"<code>[0-9a-f]{16}</code>", "<code></code>", text)
    return re.sub(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", "<time>", text)


def test_the_api_answer_is_the_same_for_a_listed_person(
    client: Client,
    residents: dict[str, Any],
    city_police: Person,
    pawn_clerk: Person,
    place_alert: Callable[..., AlertView],
) -> None:
    client.force_login(pawn_clerk.user)

    def ask(request_id: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        body = {
            "request_id": request_id,
            "purpose": VERIFY,
            "mode": "data",
            "evidence": {"kind": "qr", "text": AN_QR},
        }
        response = client.post("/api/v1/identity/verify", json.dumps(body), content_type="application/json")
        answer = response.json()
        del answer["receipt_id"], answer["verified_at"]
        headers = {k: v for k, v in response.items() if k.lower() not in ("date", "content-length")}
        return response.status_code, answer, headers

    unlisted = ask("pawn-0001")
    place_alert(city_police)
    listed = ask("pawn-0002")
    assert listed == unlisted
    assert listed[0] == 200 and listed[1]["decision"] == "match"
    assert AlertHit.objects.count() == 1


def test_the_business_desk_page_is_the_same_for_a_listed_person(
    client: Client,
    residents: dict[str, Any],
    city_police: Person,
    pawn_clerk: Person,
    place_alert: Callable[..., AlertView],
) -> None:
    client.force_login(pawn_clerk.user)

    def page() -> tuple[int, str]:
        response = client.post("/desks/business/", {"method": "qr_text", "qr_text": AN_QR})
        return response.status_code, _normalised(response.content.decode())

    unlisted = page()
    place_alert(city_police)
    listed = page()
    assert listed == unlisted
    assert listed[0] == 200 and 'data-decision="match"' in listed[1]
    assert AlertHit.objects.count() == 1


# --------------------------------------------------------------------------- who sees which hits
@pytest.fixture
def hits(
    residents: dict[str, Any],
    city_police: Person,
    ward_police: Person,
    pawn_clerk: Person,
    tay_ho_pawn_clerk: Person,
    place_alert: Callable[..., AlertView],
) -> dict[str, int]:
    """Three hits: the city's entry at a pawn shop in Tây Hồ and at one elsewhere; the Tây Hồ unit's
    own entry (Huỳnh Thị Mai) at the pawn shop elsewhere."""
    place_alert(city_police)
    place_alert(ward_police, MAI_ID, kind="missing", reference="TB-MT-07/2026")
    check(tay_ho_pawn_clerk)
    check(pawn_clerk)
    mai = verify(
        pawn_clerk.ctx(VERIFY),
        TypedEvidence(id_number=MAI_ID, full_name=MAI_NAME, date_of_birth=MAI_BORN, sex="F"),
        mode="data",
    )
    assert mai.decision == "match"

    def hit(where: str, reference: str) -> int:
        return AlertHit.objects.get(where_organisation_name=where, entry__reference=reference).pk

    return {
        "city_in_tay_ho": hit("Cửa hàng cầm đồ Quảng An", "QĐ-TN-123/2026"),
        "city_elsewhere": hit("Cửa hàng cầm đồ Phát Đạt", "QĐ-TN-123/2026"),
        "ward_elsewhere": hit("Cửa hàng cầm đồ Phát Đạt", "TB-MT-07/2026"),
    }


def test_the_city_police_see_every_hit(hits: dict[str, int], city_police: Person) -> None:
    assert {h.hit_id for h in alerts.list_hits(city_police.ctx(INVESTIGATION))} == set(hits.values())


def test_a_ward_unit_sees_hits_in_its_ward_and_on_its_own_entries(
    hits: dict[str, int], ward_police: Person
) -> None:
    shown = {h.hit_id for h in alerts.list_hits(ward_police.ctx(INVESTIGATION))}
    assert shown == {hits["city_in_tay_ho"], hits["ward_elsewhere"]}
    assert hits["city_elsewhere"] not in shown
    events = AuditEvent.objects.filter(action="alerts.hits", actor_label="officer.tayho")
    assert events.count() == 2  # one per citizen shown (An and Mai)


def test_another_ward_unit_sees_none_of_them(hits: dict[str, int], hoan_kiem_police: Person) -> None:
    assert alerts.list_hits(hoan_kiem_police.ctx(INVESTIGATION)) == []
    with pytest.raises(NotFound):
        alerts.mark_seen(hoan_kiem_police.ctx(INVESTIGATION), hits["city_in_tay_ho"])
    assert AlertHit.objects.get(pk=hits["city_in_tay_ho"]).seen_at is None


def test_a_unit_that_sees_a_hit_marks_it_seen(
    hits: dict[str, int], ward_police: Person, city_police: Person
) -> None:
    seen = alerts.mark_seen(ward_police.ctx(INVESTIGATION), hits["city_in_tay_ho"])
    assert seen.seen_at is not None and seen.seen_by == "officer.tayho (Công an phường Tây Hồ)"
    again = alerts.mark_seen(city_police.ctx(INVESTIGATION), hits["city_in_tay_ho"])
    assert (again.seen_by, again.seen_at) == (seen.seen_by, seen.seen_at)  # the first one stands
    unseen = {h.hit_id for h in alerts.list_hits(city_police.ctx(INVESTIGATION), unseen_only=True)}
    assert unseen == {hits["city_elsewhere"], hits["ward_elsewhere"]}
