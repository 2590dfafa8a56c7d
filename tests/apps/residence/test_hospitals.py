"""Hospitals (model 11): the nurse of Bệnh viện Tây Hồ admits an in-patient and registers the carer
staying overnight with them; the ward police see both like other guests; a discharge ends both
stays; a hotel cannot admit patients, and a carer needs an in-patient of the same hospital."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from dancu.apps.residence import hospitals, services
from dancu.apps.residence.models import Stay
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.apps.residence.conftest import AN_ID, AN_QR, MAI_QR, an_by_qr, recent_arrival
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("residents")
NOTIFY = "residence.notification"
POLICE = "security.investigation"


def mai() -> services.CitizenGuest:
    return services.CitizenGuest(services.QrEvidence(MAI_QR))


def admit(nurse: Person) -> services.StayView:
    now = timezone.now()
    return hospitals.admit_patient(
        nurse.ctx(NOTIFY),
        an_by_qr(),
        bed="K3-12",
        admitted_at=recent_arrival(1),
        expected_discharge=now + timedelta(days=3),
    )


def test_a_patient_and_the_carer_are_notified_and_the_ward_police_see_them(
    hospital: services.EstablishmentView, nurse: Person, ward_police: Person
) -> None:
    patient = admit(nurse)
    assert (patient.id_number, patient.role, patient.room, patient.status) == (
        AN_ID,
        "patient",
        "K3-12",
        "on_time",
    )
    carer = hospitals.admit_carer(nurse.ctx(NOTIFY), patient.stay_id, mai())
    assert (carer.role, carer.patient_stay_id, carer.room) == ("carer", patient.stay_id, "K3-12")
    assert carer.expected_departure == patient.expected_departure
    (row,) = hospitals.in_patients(nurse.ctx(NOTIFY))
    assert row.patient.stay_id == patient.stay_id and [c.full_name for c in row.carers] == ["Huỳnh Thị Mai"]
    live = services.police_live_guests(ward_police.ctx(POLICE))
    assert {(s.full_name, s.role) for s in live.stays} == {
        ("Nguyễn Văn An", "patient"),
        ("Huỳnh Thị Mai", "carer"),
    }


def test_the_discharge_ends_the_patients_and_the_carers_stays(
    hospital: services.EstablishmentView, nurse: Person
) -> None:
    patient = admit(nurse)
    hospitals.admit_carer(nurse.ctx(NOTIFY), patient.stay_id, mai())
    out = hospitals.discharge(nurse.ctx(NOTIFY), patient.stay_id)
    assert len(out) == 2 and all(s.departed_at is not None for s in out)
    assert hospitals.in_patients(nurse.ctx(NOTIFY)) == []
    with pytest.raises(DomainValidationError):
        hospitals.discharge(nurse.ctx(NOTIFY), patient.stay_id)
    with pytest.raises(NotFound):
        hospitals.admit_carer(nurse.ctx(NOTIFY), patient.stay_id, mai())


def test_a_hotel_admits_no_patient_and_a_carer_needs_a_patient(
    hospital: services.EstablishmentView,
    nurse: Person,
    hotel: services.EstablishmentView,
    hotel_clerk: Person,
) -> None:
    now = timezone.now()
    with pytest.raises(AccessDenied) as exc:
        hospitals.admit_patient(
            hotel_clerk.ctx(NOTIFY),
            an_by_qr(),
            bed="1",
            admitted_at=now,
            expected_discharge=now + timedelta(days=1),
        )
    assert exc.value.rule == "hospital_only"
    with pytest.raises(DomainValidationError) as bad:
        services.check_in(
            hotel_clerk.ctx(NOTIFY),
            services.CheckIn(
                guests=(an_by_qr(),),
                room="1",
                arrival=now,
                expected_departure=now + timedelta(days=1),
                role="patient",
            ),
        )
    assert ("role", "hospital_only") in {(p.field, p.rule) for p in bad.value.problems}
    # A carer of a guest (not a patient) is refused.
    guest = services.check_in(
        nurse.ctx(NOTIFY),
        services.CheckIn(
            guests=(an_by_qr(),), room="1", arrival=now, expected_departure=now + timedelta(days=1)
        ),
    ).stays[0]
    with pytest.raises(NotFound):
        hospitals.admit_carer(nurse.ctx(NOTIFY), guest.stay_id, mai())
    assert not Stay.objects.filter(role="carer").exists()


def test_the_admission_screen_admits_adds_a_carer_and_discharges(
    client: Client, hospital: services.EstablishmentView, nurse: Person
) -> None:
    client.force_login(nurse.user)
    now = timezone.localtime()
    response = client.post(
        "/residence/hospital/",
        {
            "method": "qr_text",
            "qr_text": AN_QR,
            "bed": "K3-12",
            "admitted_at": now.strftime("%d/%m/%Y %H:%M"),
            "expected_discharge": (now + timedelta(days=2)).strftime("%d/%m/%Y %H:%M"),
            "idempotency_key": "adm-1",
        },
    )
    assert response.status_code == 302
    patient = Stay.objects.get(role="patient")
    assert (
        client.post(
            f"/residence/hospital/{patient.pk}/carer/", {"method": "qr_text", "qr_text": MAI_QR}
        ).status_code
        == 302
    )
    page = client.get("/residence/hospital/").content.decode()
    assert "Nguyễn Văn An" in page and "Huỳnh Thị Mai" in page
    assert client.post(f"/residence/hospital/{patient.pk}/discharge/").status_code == 302
    assert Stay.objects.filter(departed_at__isnull=True).count() == 0


def test_the_api_admits_a_patient_with_a_carer_and_discharges(
    client: Client, hospital: services.EstablishmentView, nurse: Person
) -> None:
    client.force_login(nurse.user)
    now = timezone.now()
    patient = client.post(
        "/api/v1/residence/admissions",
        {
            "bed": "K3-12",
            "admitted_at": (now - timedelta(hours=1)).isoformat(),
            "expected_discharge": (now + timedelta(days=2)).isoformat(),
            "patient": {"kind": "qr", "text": AN_QR},
        },
        content_type="application/json",
    )
    assert patient.status_code == 200 and patient.json()["role"] == "patient"
    stay_id = patient.json()["stay_id"]
    carer = client.post(
        f"/api/v1/residence/admissions/{stay_id}/carers",
        {"carer": {"kind": "qr", "text": MAI_QR}},
        content_type="application/json",
    )
    assert carer.status_code == 200 and carer.json()["patient_stay_id"] == stay_id
    out = client.post(
        f"/api/v1/residence/admissions/{stay_id}/discharge", {}, content_type="application/json"
    )
    assert out.status_code == 200 and len(out.json()) == 2
    assert (
        client.post(
            "/api/v1/residence/admissions/999999/carers",
            {"carer": {"kind": "qr", "text": MAI_QR}},
            content_type="application/json",
        ).status_code
        == 404
    )
