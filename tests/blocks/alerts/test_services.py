"""The alert list is kept by the police (Law on People's Police 2014 Art. 16): a police unit adds and
closes entries with purpose ``security.investigation``; establishments, committees and people
without an organisation are refused, and every refusal is in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from dancu.blocks.alerts import services as alerts
from dancu.blocks.alerts.models import AlertEntry
from dancu.blocks.alerts.services import AlertView
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.audit.services import events_for_citizen
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.blocks.alerts.conftest import AN_ID, INVESTIGATION, MAI_ID
from tests.conftest import Person

pytestmark = pytest.mark.django_db

REFUSED = ["hotel_clerk", "clinic_clerk", "pawn_clerk", "notary_clerk", "committee_officer", "outsider"]


def last_event(action: str) -> AuditEvent:
    event = AuditEvent.objects.filter(action=action).order_by("-id").first()
    assert event is not None, f"no {action} event"
    return event


# --------------------------------------------------------------------------- adding
def test_city_police_place_a_wanted_person_on_the_list(
    residents: dict[str, Any], city_police: Person, place_alert: Callable[..., AlertView]
) -> None:
    entry = place_alert(city_police, valid_until=timezone.now() + timedelta(days=30))
    assert (entry.subject_id_number, entry.kind, entry.active) == (AN_ID, "wanted", True)
    assert entry.subject_citizen_id == residents["an"].citizen_id
    assert entry.issuing_organisation_name == "Công an thành phố Hà Nội"
    assert (entry.reference, entry.created_by) == ("QĐ-TN-123/2026", "officer.city")
    event = last_event("alerts.add")
    assert (event.result, event.purpose, event.organisation_name) == (
        "ok",
        INVESTIGATION,
        "Công an thành phố Hà Nội",
    )
    assert event.subject_citizen_id == entry.subject_citizen_id
    assert event.detail == {"entry": entry.entry_id, "kind": "wanted"}


def test_the_alert_is_not_in_the_citizens_own_access_log(
    residents: dict[str, Any], city_police: Person, place_alert: Callable[..., AlertView]
) -> None:
    entry = place_alert(city_police)
    actions = [r.action for r in events_for_citizen(entry.subject_citizen_id)]
    assert "registry.read" in actions  # the look-up by number, as any police look-up
    assert not [a for a in actions if a.startswith("alerts.")]


def test_a_ward_unit_places_an_alert_on_a_resident_of_its_ward(
    residents: dict[str, Any], ward_police: Person, place_alert: Callable[..., AlertView]
) -> None:
    entry = place_alert(ward_police, MAI_ID, kind="missing", reference="TB-MT-07/2026")
    assert (entry.subject_id_number, entry.kind) == (MAI_ID, "missing")
    assert entry.issuing_organisation_name == "Công an phường Tây Hồ"


def test_a_ward_unit_may_not_place_an_alert_on_a_resident_of_another_ward(
    residents: dict[str, Any], hoan_kiem_police: Person, place_alert: Callable[..., AlertView]
) -> None:
    with pytest.raises(AccessDenied) as denied:
        place_alert(hoan_kiem_police)
    assert denied.value.rule == "jurisdiction"
    assert not AlertEntry.objects.exists()


@pytest.mark.parametrize("who", REFUSED)
def test_only_the_police_may_place_an_alert_and_each_refusal_is_recorded(
    who: str, residents: dict[str, Any], request: pytest.FixtureRequest, place_alert: Callable[..., AlertView]
) -> None:
    person: Person = request.getfixturevalue(who)
    with pytest.raises(AccessDenied):
        place_alert(person)
    assert not AlertEntry.objects.exists()
    event = last_event("alerts.add")
    assert (event.result, event.actor_label, event.purpose) == ("denied", person.user.username, INVESTIGATION)
    assert event.detail["reason"] == "policy"
    assert event.subject_citizen_id is None
    assert not AuditEvent.objects.filter(action="registry.read").exists()  # refused before any read


def test_police_must_name_the_investigation_purpose(residents: dict[str, Any], city_police: Person) -> None:
    with pytest.raises(AccessDenied) as denied:
        alerts.add_alert(
            city_police.ctx("registry.lookup"), AN_ID, kind="wanted", reference="x", legal_basis="y"
        )
    assert denied.value.rule == "purpose"
    assert last_event("alerts.add").detail["reason"] == "purpose"
    with pytest.raises(DomainValidationError):
        alerts.add_alert(
            city_police.ctx("no.such.purpose"), AN_ID, kind="wanted", reference="x", legal_basis="y"
        )


def test_an_entry_names_its_kind_reference_and_legal_basis(
    residents: dict[str, Any], city_police: Person, place_alert: Callable[..., AlertView]
) -> None:
    with pytest.raises(DomainValidationError) as invalid:
        place_alert(city_police, kind="suspicious", reference=" ", legal_basis="")
    assert {(p.field, p.rule) for p in invalid.value.problems} == {
        ("kind", "choice"),
        ("reference", "required"),
        ("legal_basis", "required"),
    }
    now = timezone.now()
    with pytest.raises(DomainValidationError) as backwards:
        place_alert(city_police, valid_from=now, valid_until=now - timedelta(days=1))
    assert [(p.field, p.rule) for p in backwards.value.problems] == [("valid_until", "after_valid_from")]
    with pytest.raises(NotFound):
        place_alert(city_police, "001099000001")
    assert not AlertEntry.objects.exists()


# --------------------------------------------------------------------------- closing
def test_the_issuing_unit_closes_its_entry(
    residents: dict[str, Any], ward_police: Person, place_alert: Callable[..., AlertView]
) -> None:
    entry = place_alert(ward_police)
    closed = alerts.close_alert(
        ward_police.ctx(INVESTIGATION), entry.entry_id, reason="Đã bắt được đối tượng"
    )
    assert (closed.active, closed.closed_by, closed.close_reason) == (
        False,
        "officer.tayho",
        "Đã bắt được đối tượng",
    )
    assert closed.closed_at is not None
    event = last_event("alerts.close")
    assert (event.result, event.subject_citizen_id) == ("ok", entry.subject_citizen_id)
    with pytest.raises(DomainValidationError) as again:
        alerts.close_alert(ward_police.ctx(INVESTIGATION), entry.entry_id, reason="lần nữa")
    assert again.value.problems[0].rule == "closed"


def test_the_city_police_close_a_ward_units_entry_but_not_the_other_way_round(
    residents: dict[str, Any], city_police: Person, ward_police: Person, place_alert: Callable[..., AlertView]
) -> None:
    ward_entry = place_alert(ward_police)
    city_entry = place_alert(city_police, MAI_ID)
    with pytest.raises(NotFound):
        alerts.close_alert(ward_police.ctx(INVESTIGATION), city_entry.entry_id, reason="không thuộc đơn vị")
    event = last_event("alerts.close")
    assert (event.result, event.actor_label, event.detail) == (
        "not_found",
        "officer.tayho",
        {"entry": city_entry.entry_id},
    )
    assert AlertEntry.objects.get(pk=city_entry.entry_id).active
    assert not alerts.close_alert(
        city_police.ctx(INVESTIGATION), ward_entry.entry_id, reason="Hủy quyết định"
    ).active


def test_a_reason_is_required_to_close(
    residents: dict[str, Any], city_police: Person, place_alert: Callable[..., AlertView]
) -> None:
    entry = place_alert(city_police)
    with pytest.raises(DomainValidationError) as invalid:
        alerts.close_alert(city_police.ctx(INVESTIGATION), entry.entry_id, reason="")
    assert invalid.value.problems[0].field == "reason"
    assert AlertEntry.objects.get(pk=entry.entry_id).active


@pytest.mark.parametrize("who", REFUSED)
def test_only_the_police_may_close_an_entry_and_each_refusal_is_recorded(
    who: str,
    residents: dict[str, Any],
    city_police: Person,
    request: pytest.FixtureRequest,
    place_alert: Callable[..., AlertView],
) -> None:
    entry = place_alert(city_police)
    person: Person = request.getfixturevalue(who)
    with pytest.raises(AccessDenied):
        alerts.close_alert(person.ctx(INVESTIGATION), entry.entry_id, reason="xin đóng")
    assert AlertEntry.objects.get(pk=entry.entry_id).active
    event = last_event("alerts.close")
    assert (event.result, event.actor_label, event.detail) == (
        "denied",
        person.user.username,
        {"entry": entry.entry_id, "reason": "policy"},
    )


# --------------------------------------------------------------------------- listing
def test_a_ward_unit_lists_its_own_entries_the_city_police_all(
    residents: dict[str, Any], city_police: Person, ward_police: Person, place_alert: Callable[..., AlertView]
) -> None:
    ward_entry = place_alert(ward_police)
    city_entry = place_alert(city_police, MAI_ID)
    assert [e.entry_id for e in alerts.list_alerts(ward_police.ctx(INVESTIGATION))] == [ward_entry.entry_id]
    assert {e.entry_id for e in alerts.list_alerts(city_police.ctx(INVESTIGATION))} == {
        ward_entry.entry_id,
        city_entry.entry_id,
    }
    alerts.close_alert(city_police.ctx(INVESTIGATION), city_entry.entry_id, reason="Hết hiệu lực")
    assert [e.entry_id for e in alerts.list_alerts(city_police.ctx(INVESTIGATION))] == [ward_entry.entry_id]
    assert len(alerts.list_alerts(city_police.ctx(INVESTIGATION), include_closed=True)) == 2


@pytest.mark.parametrize("who", REFUSED)
def test_only_the_police_may_list_entries_and_hits(who: str, request: pytest.FixtureRequest) -> None:
    person: Person = request.getfixturevalue(who)
    for call, action in ((alerts.list_alerts, "alerts.list"), (alerts.list_hits, "alerts.hits")):
        with pytest.raises(AccessDenied):
            call(person.ctx(INVESTIGATION))
        event = last_event(action)
        assert (event.result, event.actor_label) == ("denied", person.user.username)
    with pytest.raises(AccessDenied):
        alerts.mark_seen(person.ctx(INVESTIGATION), 1)
    assert last_event("alerts.seen").result == "denied"
