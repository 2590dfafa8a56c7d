"""Hospitals (model 11): in-patients and the carers who stay overnight with them.

A hospital (establishment kind ``hospital``, organisation kind ``clinic``) admits an in-patient —
their card verified like any guest's (``identity.services.verify``) — to a bed (the stay's room),
and registers each carer staying with them (a stay with ``role=carer`` linked to the patient, in the
patient's room). Both are notified like guests (Law on Residence 2020 Art. 30: medical facilities
notify), and the ward police see them in the live view like other guests. A discharge ends the
patient's stay and their carers' at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from dancu.apps.residence import services
from dancu.apps.residence.models import Establishment, Stay
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.identity.chip import TrustStore
from dancu.errors import DomainValidationError, NotFound

ADMISSION_REASON = "Điều trị nội trú"
CARER_REASON = "Chăm sóc người bệnh"


@dataclass(frozen=True)
class InPatient:
    patient: services.StayView
    carers: tuple[services.StayView, ...]


def _hospital(ctx: AccessContext, action: str) -> Establishment:
    est = services._desk_establishment(ctx, action)
    if est.kind != Establishment.Kind.HOSPITAL:
        raise services._deny(ctx, action, "hospital_only", "only a hospital admits patients", "establishment")
    return est


def admit_patient(
    ctx: AccessContext,
    patient: services.Guest,
    *,
    bed: str,
    admitted_at: datetime,
    expected_discharge: datetime,
    idempotency_key: str = "",
    now: datetime | None = None,
    trust_store: TrustStore | None = None,
) -> services.StayView:
    """Admit an in-patient to ``bed`` (purpose ``residence.notification``; notified at once)."""
    _hospital(ctx, "residence.admission")
    result = services.check_in(
        ctx,
        services.CheckIn(
            guests=(patient,),
            room=bed,
            arrival=admitted_at,
            expected_departure=expected_discharge,
            reason=ADMISSION_REASON,
            role=Stay.Role.PATIENT,
        ),
        idempotency_key=idempotency_key,
        now=now,
        trust_store=trust_store,
    )
    return result.stays[0]


def admit_carer(
    ctx: AccessContext,
    patient_stay_id: int,
    carer: services.Guest,
    *,
    arrived_at: datetime | None = None,
    idempotency_key: str = "",
    now: datetime | None = None,
    trust_store: TrustStore | None = None,
) -> services.StayView:
    """Register a carer staying with the in-patient ``patient_stay_id`` (same room, until the
    patient's expected discharge)."""
    est = _hospital(ctx, "residence.carer")
    patient = Stay.objects.filter(
        pk=patient_stay_id, establishment=est, role=Stay.Role.PATIENT, departed_at__isnull=True
    ).first()
    if patient is None:
        raise NotFound("no in-patient with that id at your hospital", field="patient_stay_id")
    moment = now or timezone.now()
    arrival = arrived_at or moment
    until = patient.expected_departure
    result = services.check_in(
        ctx,
        services.CheckIn(
            guests=(carer,),
            room=patient.room,
            arrival=arrival,
            expected_departure=until if until > arrival else arrival + timedelta(days=1),
            reason=CARER_REASON,
            role=Stay.Role.CARER,
            patient_stay_id=patient.pk,
        ),
        idempotency_key=idempotency_key,
        now=moment,
        trust_store=trust_store,
    )
    return result.stays[0]


def discharge(
    ctx: AccessContext, patient_stay_id: int, *, at: datetime | None = None
) -> list[services.StayView]:
    """Discharge the in-patient: their stay ends, and so do their carers' still staying."""
    est = _hospital(ctx, "residence.discharge")
    patient = Stay.objects.filter(pk=patient_stay_id, establishment=est, role=Stay.Role.PATIENT).first()
    if patient is None:
        raise NotFound("no in-patient with that id at your hospital", field="patient_stay_id")
    if patient.departed_at is not None:
        raise DomainValidationError.single(
            "stay_id", "checked_out", "the patient has already been discharged"
        )
    out = [services.check_out(ctx, patient.pk, at=at)]
    for carer_id in Stay.objects.filter(patient=patient, departed_at__isnull=True).values_list(
        "pk", flat=True
    ):
        out.append(services.check_out(ctx, carer_id, at=at))
    return out


def in_patients(ctx: AccessContext, *, now: datetime | None = None) -> list[InPatient]:
    """The hospital's in-patients now, each with their carers staying."""
    _hospital(ctx, "residence.in_patients")
    live = services.live_guests(ctx, now=now)
    carers: dict[int, list[services.StayView]] = {}
    for s in live:
        if s.role == Stay.Role.CARER and s.patient_stay_id is not None:
            carers.setdefault(s.patient_stay_id, []).append(s)
    return [InPatient(s, tuple(carers.get(s.stay_id, ()))) for s in live if s.role == Stay.Role.PATIENT]
