"""Encounter status at the clinic (models 6, 7): after check-in Nguyễn Văn An waits; the clinic
clerk of Phòng khám Đa khoa Hồng Ngọc calls him in, then marks the consultation done — each change
recorded with who and when, shown in the clinic's list, which filters by status. Done and
cancelled are final. The clerk of another clinic cannot see or change the encounter; staff of
other kinds of organisation are refused the desk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dancu.apps.desks import services
from dancu.apps.desks.models import Encounter, EncounterStatusChange
from dancu.blocks.identity.services import QrEvidence, TypedEvidence
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.blocks.identity.conftest import AN_QR, MAI_BORN, MAI_ID, MAI_NAME
from tests.conftest import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_clinic_clerk(make_person: Callable[..., Person]) -> Person:
    return make_person(
        "clerk.other", org_code="BV-KHAC", org_name="Bệnh viện Khác", kind="clinic", role="clerk"
    )


def _check_in(clerk: Person) -> int:
    encounter = services.check_in_patient(services.desk_context(clerk.actor), QrEvidence(AN_QR)).encounter
    assert encounter is not None
    return encounter.encounter_id


def test_an_encounter_moves_from_waiting_to_consultation_to_done(
    residents: Any, clinic_clerk: Person
) -> None:
    encounter_id = _check_in(clinic_clerk)
    called_at = timezone.now()
    view = services.change_encounter_status(clinic_clerk.actor, encounter_id, "in_consultation", at=called_at)
    assert (view.status, view.status_changed_at, view.status_changed_by) == (
        "in_consultation",
        called_at,
        "clerk.clinic",
    )
    assert view.next_statuses == ("done", "waiting", "cancelled")
    done = services.change_encounter_status(
        clinic_clerk.actor, encounter_id, "done", at=called_at + timedelta(minutes=12)
    )
    assert done.status == "done" and done.next_statuses == ()
    history = services.encounter_status_history(clinic_clerk.actor, encounter_id)
    assert [(h.from_status, h.to_status, h.changed_by) for h in history] == [
        ("waiting", "in_consultation", "clerk.clinic"),
        ("in_consultation", "done", "clerk.clinic"),
    ]
    assert EncounterStatusChange.objects.get(to_status="done").changed_by_user_id == clinic_clerk.user.pk


def test_a_waiting_patient_may_be_cancelled_and_final_statuses_stay(
    residents: Any, clinic_clerk: Person
) -> None:
    encounter_id = _check_in(clinic_clerk)
    with pytest.raises(DomainValidationError) as exc:
        services.change_encounter_status(clinic_clerk.actor, encounter_id, "done")  # not called in yet
    assert (exc.value.problems[0].field, exc.value.problems[0].rule) == ("status", "transition")
    services.change_encounter_status(clinic_clerk.actor, encounter_id, "cancelled")
    for status in ("waiting", "in_consultation", "done"):
        with pytest.raises(DomainValidationError):
            services.change_encounter_status(clinic_clerk.actor, encounter_id, status)
    with pytest.raises(DomainValidationError) as unknown:
        services.change_encounter_status(clinic_clerk.actor, encounter_id, "discharged")
    assert unknown.value.problems[0].rule == "choice"
    assert Encounter.objects.get().status == "cancelled"
    assert EncounterStatusChange.objects.count() == 1


def test_another_clinic_cannot_change_or_see_the_encounter(
    residents: Any, clinic_clerk: Person, other_clinic_clerk: Person
) -> None:
    encounter_id = _check_in(clinic_clerk)
    with pytest.raises(NotFound):
        services.change_encounter_status(other_clinic_clerk.actor, encounter_id, "in_consultation")
    with pytest.raises(NotFound):
        services.encounter_status_history(other_clinic_clerk.actor, encounter_id)
    assert Encounter.objects.get().status == "waiting" and not EncounterStatusChange.objects.exists()


def test_staff_of_other_kinds_may_not_change_an_encounter(
    residents: Any, clinic_clerk: Person, notary_clerk: Person, hotel_clerk: Person
) -> None:
    encounter_id = _check_in(clinic_clerk)
    for person in (notary_clerk, hotel_clerk):
        with pytest.raises(AccessDenied):
            services.change_encounter_status(person.actor, encounter_id, "in_consultation")
    assert Encounter.objects.get().status == "waiting"


def test_the_list_filters_by_status(residents: Any, clinic_clerk: Person) -> None:
    an = _check_in(clinic_clerk)
    services.check_in_patient(
        services.desk_context(clinic_clerk.actor), TypedEvidence(MAI_ID, MAI_NAME, MAI_BORN)
    )
    services.change_encounter_status(clinic_clerk.actor, an, "in_consultation")
    today = timezone.localdate()
    assert [e.full_name for e in services.encounters_on(clinic_clerk.actor, today, status="waiting")] == [
        MAI_NAME
    ]
    assert [
        e.queue_number for e in services.encounters_on(clinic_clerk.actor, today, status="in_consultation")
    ] == [1]
    assert len(services.encounters_on(clinic_clerk.actor, today)) == 2
    with pytest.raises(DomainValidationError):
        services.encounters_on(clinic_clerk.actor, today, status="lost")


# --------------------------------------------------------------------------- pages
def test_clerk_calls_the_patient_in_from_the_list_and_filters_it(
    logged_in: Callable[[Person], Client], residents: Any, clinic_clerk: Person
) -> None:
    encounter_id = _check_in(clinic_clerk)
    client = logged_in(clinic_clerk)
    html = client.get("/desks/clinic/").content.decode()
    assert 'data-testid="to-in_consultation"' in html and "Mời vào khám" in html
    response = client.post(
        f"/desks/clinic/encounters/{encounter_id}/status/",
        {"status": "in_consultation", "next": "/desks/clinic/encounters/?status=waiting"},
    )
    assert response.status_code == 302 and response["Location"] == "/desks/clinic/encounters/?status=waiting"
    assert "no-encounters" in client.get("/desks/clinic/encounters/?status=waiting").content.decode()
    html = client.get("/desks/clinic/encounters/?status=in_consultation").content.decode()
    assert 'data-status="in_consultation"' in html and "Đang khám" in html and "clerk.clinic" in html
    rows = client.get("/desks/clinic/encounters/?status=in_consultation&format=csv").content.decode()
    assert "in_consultation" in rows


def test_the_status_page_refuses_bad_changes_and_foreign_redirects(
    logged_in: Callable[[Person], Client], residents: Any, clinic_clerk: Person
) -> None:
    encounter_id = _check_in(clinic_clerk)
    client = logged_in(clinic_clerk)
    url = f"/desks/clinic/encounters/{encounter_id}/status/"
    response = client.post(url, {"status": "done"})
    assert response.status_code == 400 and "transition" in response.content.decode()
    assert client.post(url, {"status": "gone"}).status_code == 400
    assert client.get(url).status_code == 405
    response = client.post(url, {"status": "cancelled", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/desks/clinic/encounters/"
    assert client.get("/desks/clinic/encounters/?status=nope").status_code == 400


def test_the_status_page_denies_another_clinic_and_other_staff(
    logged_in: Callable[[Person], Client],
    client: Client,
    residents: Any,
    clinic_clerk: Person,
    other_clinic_clerk: Person,
    notary_clerk: Person,
) -> None:
    encounter_id = _check_in(clinic_clerk)
    url = f"/desks/clinic/encounters/{encounter_id}/status/"
    assert client.post(url, {"status": "in_consultation"}).status_code == 302  # to the log-in page
    assert logged_in(other_clinic_clerk).post(url, {"status": "in_consultation"}).status_code == 404
    assert logged_in(notary_clerk).post(url, {"status": "in_consultation"}).status_code == 403
    assert Encounter.objects.get().status == "waiting"
