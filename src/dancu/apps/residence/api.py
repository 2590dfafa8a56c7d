"""Residence notification API (``/api/v1/residence``) for property-management systems.

Authentication: the establishment organisation's API key (``Authorization: Bearer dk_…``,
``organisations.api.ApiKeyAuth``) or the staff session. Purpose ``residence.notification``.

* ``POST /residence/notifications`` — one check-in (a guest or a group), idempotent by
  ``idempotency_key``: the same key and body give the same answer (``replayed: true``); the same
  key with another body is refused (409).
* ``POST /residence/notifications/batch`` — up to 500 check-ins: good rows are stored, each bad
  row gets its own errors (field and rule); the batch key makes a retry safe.
* ``POST /residence/stays/{id}/check-out`` — the guest left.
* ``POST /residence/notifications/offline`` — notifications captured while offline, each with its
  own key and ``captured_at`` (the notification time for lateness); a retry never stores twice.
* ``POST /residence/trips``, ``GET /residence/trips/{id}``, ``POST …/trips/{id}/passengers``,
  ``POST …/trips/{id}/notify`` — coach trips, boarding and the manifest (model 12).
* ``POST /residence/admissions``, ``POST …/admissions/{id}/carers``, ``…/{id}/discharge`` —
  hospital in-patients and carers (model 11).
* ``POST /residence/webhooks``, ``GET /residence/webhooks`` — results POSTed to the establishment,
  signed with HMAC-SHA256 (``apps.residence.webhooks``).
* ``GET /residence/statistics`` — anonymised aggregates (purpose ``statistics.aggregate``).

The services decide and record (``apps.residence.services``); this module only translates.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.security import django_auth
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from dancu.apps.residence import coaches, hospitals, services
from dancu.apps.residence import statistics as stats
from dancu.blocks.adminunits.api import ProblemOut
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.identity.api import CHIP_EXAMPLE, MRZ_EXAMPLE, QR_EXAMPLE
from dancu.blocks.identity.services import ChipEvidence, MrzEvidence, QrEvidence, TypedEvidence
from dancu.blocks.organisations.api import ApiKeyAuth, request_actor
from dancu.errors import FieldProblem

router = Router(tags=["Thông báo lưu trú / Residence notification"], auth=[ApiKeyAuth(), django_auth])

PASSPORT_EXAMPLE = (
    "P<FRAMARTIN<<CLAIRE<<<<<<<<<<<<<<<<<<<<<<<<<\n18AB123451FRA9005178F3105168<<<<<<<<<<<<<<<2"
)
KEY_DESCRIPTION = (
    "Idempotency key (1–64 of A–Z a–z 0–9 . _ : # -), per establishment: a retry with the same body "
    "returns the stored answer; the same key with another body is refused (409)."
)


# --------------------------------------------------------------------------- request
class _Citizen(Schema):
    close_relative: bool = Field(
        False, description="A close relative: notified once (Circular 55/2021 Art. 15)"
    )


class QrGuestIn(_Citizen):
    kind: Literal["qr"]
    text: str = Field(..., min_length=1, max_length=4000, examples=[QR_EXAMPLE])


class MrzGuestIn(_Citizen):
    kind: Literal["mrz"]
    text: str = Field(
        ..., min_length=1, max_length=400, description="The card's TD1 MRZ", examples=[MRZ_EXAMPLE]
    )


class ChipGuestIn(_Citizen):
    kind: Literal["chip"]
    files: dict[str, str] = Field(..., max_length=17, examples=[CHIP_EXAMPLE])


class TypedGuestIn(_Citizen):
    kind: Literal["typed"]
    id_number: str = Field(..., max_length=12, examples=["001085012345"])
    full_name: str = Field(..., max_length=100, examples=["Nguyễn Văn An"])
    date_of_birth: date = Field(..., examples=["1985-03-02"])


class PassportGuestIn(Schema):
    kind: Literal["passport"]
    mrz: str = Field(
        ...,
        min_length=1,
        max_length=200,
        description="A foreign guest's passport MRZ (TD3)",
        examples=[PASSPORT_EXAMPLE],
    )


class ChildGuestIn(Schema):
    kind: Literal["child"]
    full_name: str = Field(..., max_length=100, examples=["Nguyễn Minh Khôi"])
    date_of_birth: date = Field(..., examples=["2019-06-01"])
    guardian: int = Field(0, ge=0, description="Index of the adult guest of this check-in", examples=[0])


GuestIn = Annotated[
    QrGuestIn | MrzGuestIn | ChipGuestIn | TypedGuestIn | PassportGuestIn | ChildGuestIn,
    Field(discriminator="kind"),
]


class NotificationIn(Schema):
    idempotency_key: str = Field(
        "", max_length=64, description=KEY_DESCRIPTION, examples=["pms-hoabinh-000123"]
    )
    room: str = Field(..., max_length=20, examples=["301"])
    arrival: datetime = Field(..., description="With its offset", examples=["2026-03-01T21:15:00+07:00"])
    expected_departure: datetime = Field(..., examples=["2026-03-03T12:00:00+07:00"])
    reason: str = Field("", max_length=200, examples=["Du lịch"])
    guests: list[GuestIn] = Field(..., min_length=1, max_length=services.MAX_GUESTS)


class BatchIn(Schema):
    idempotency_key: str = Field(
        ..., min_length=1, max_length=64, description=KEY_DESCRIPTION, examples=["pms-batch-2026-03-01-01"]
    )
    notifications: list[dict[str, Any]] = Field(
        ...,
        min_length=1,
        max_length=services.MAX_BATCH,
        description="Each item is a NotificationIn (without its own idempotency key); a malformed item "
        "is reported in its own row, the others are stored.",
    )


# --------------------------------------------------------------------------- response
class StayOut(Schema):
    stay_id: int
    guest_kind: str = Field(..., examples=["citizen"])
    id_number: str = Field("", examples=["001085012345"])
    passport_number: str = ""
    nationality: str = Field(..., examples=["VNM"])
    full_name: str = Field(..., examples=["Nguyễn Văn An"])
    date_of_birth: date | None
    room: str
    arrival: datetime
    expected_departure: datetime
    departed_at: datetime | None
    deadline: datetime = Field(..., description="Circular 55/2021 Art. 15 (foreigners: 12 h)")
    notified_at: datetime | None
    status: str = Field(..., examples=["on_time"])
    guardian_stay_id: int | None = None
    verification_receipt: str = ""
    temporary_residence: Literal["", "planned", "due"] = Field(
        "",
        description="Law on Residence 2020 Art. 27: 'planned' when the expected stay is 30 days or more, "
        "'due' once the guest has stayed 30 days — the guest must register temporary residence",
    )


class NotificationOut(Schema):
    group_reference: str
    replayed: bool = False
    stays: list[StayOut]


class RowError(Schema):
    field: str = Field(..., examples=["notifications[1].guests[0].evidence"])
    rule: str = Field(..., examples=["evidence_malformed"])
    message: str


class RowOut(Schema):
    index: int
    status: Literal["stored", "error"]
    group_reference: str = ""
    stay_ids: list[int] = []
    errors: list[RowError] = []


class BatchOut(Schema):
    stored: int
    failed: int
    replayed: bool = False
    rows: list[RowOut]


ERRORS: dict[int, type[Schema]] = {
    400: ProblemOut,
    401: ProblemOut,
    403: ProblemOut,
    404: ProblemOut,
    409: ProblemOut,
    422: ProblemOut,
}


# --------------------------------------------------------------------------- translation
def _ctx(request: HttpRequest) -> AccessContext:
    return AccessContext(actor=request_actor(request), purpose=services.PURPOSE)


def _guest(g: Any) -> services.Guest:
    if isinstance(g, QrGuestIn):
        return services.CitizenGuest(QrEvidence(g.text), g.close_relative)
    if isinstance(g, MrzGuestIn):
        return services.CitizenGuest(MrzEvidence(g.text), g.close_relative)
    if isinstance(g, ChipGuestIn):
        return services.CitizenGuest(ChipEvidence(g.files), g.close_relative)
    if isinstance(g, TypedGuestIn):
        return services.CitizenGuest(
            TypedEvidence(g.id_number, g.full_name, g.date_of_birth), g.close_relative
        )
    if isinstance(g, PassportGuestIn):
        return services.ForeignGuest(g.mrz)
    return services.ChildGuest(g.full_name, g.date_of_birth, g.guardian)


def _check_in(body: NotificationIn) -> services.CheckIn:
    return services.CheckIn(
        guests=tuple(_guest(g) for g in body.guests),
        room=body.room,
        arrival=body.arrival,
        expected_departure=body.expected_departure,
        reason=body.reason,
    )


def _stay(s: services.StayView) -> dict[str, Any]:
    return {k: getattr(s, k) for k in StayOut.model_fields}


_ROW = TypeAdapter(NotificationIn)


def _parse_row(raw: dict[str, Any]) -> services.CheckIn | list[FieldProblem]:
    try:
        return _check_in(_ROW.validate_python(raw))
    except PydanticValidationError as exc:
        return [
            FieldProblem(
                ".".join(str(p) for p in e.get("loc", ())) or "notification",
                str(e.get("type", "invalid")),
                e.get("msg", ""),
            )
            for e in exc.errors()
        ]


@router.post(
    "/notifications",
    response={200: NotificationOut, **ERRORS},
    summary="Notify a stay (one guest or a group)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "examples": {
                        "card_qr": {
                            "summary": "A guest scanned at the desk",
                            "value": {
                                "idempotency_key": "pms-hoabinh-000123",
                                "room": "301",
                                "arrival": "2026-03-01T21:15:00+07:00",
                                "expected_departure": "2026-03-03T12:00:00+07:00",
                                "reason": "Du lịch",
                                "guests": [
                                    {"kind": "qr", "text": QR_EXAMPLE},
                                    {
                                        "kind": "child",
                                        "full_name": "Nguyễn Minh Khôi",
                                        "date_of_birth": "2019-06-01",
                                        "guardian": 0,
                                    },
                                ],
                            },
                        },
                        "foreign_guest": {
                            "summary": "A foreign guest by passport",
                            "value": {
                                "idempotency_key": "pms-hoabinh-000124",
                                "room": "302",
                                "arrival": "2026-03-01T23:40:00+07:00",
                                "expected_departure": "2026-03-02T11:00:00+07:00",
                                "guests": [{"kind": "passport", "mrz": PASSPORT_EXAMPLE}],
                            },
                        },
                    }
                }
            }
        }
    },
)
def notify(request: HttpRequest, body: NotificationIn) -> dict[str, Any]:
    """Check in and notify: each card is verified against the population registry; the answer
    holds each stay with its deadline and status. Errors name the field and the rule (422)."""
    result = services.check_in(_ctx(request), _check_in(body), idempotency_key=body.idempotency_key)
    return {
        "group_reference": result.group_reference,
        "replayed": result.replayed,
        "stays": [_stay(s) for s in result.stays],
    }


@router.post(
    "/notifications/batch",
    response={200: BatchOut, **ERRORS},
    summary="Notify a batch of stays (good rows stored, bad rows reported one by one)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "examples": {
                        "two_rows": {
                            "summary": "Two check-ins, the second malformed",
                            "value": {
                                "idempotency_key": "pms-batch-2026-03-01-01",
                                "notifications": [
                                    {
                                        "room": "301",
                                        "arrival": "2026-03-01T21:15:00+07:00",
                                        "expected_departure": "2026-03-03T12:00:00+07:00",
                                        "guests": [{"kind": "qr", "text": QR_EXAMPLE}],
                                    },
                                    {
                                        "room": "302",
                                        "arrival": "2026-03-01T22:00:00+07:00",
                                        "expected_departure": "2026-03-01T20:00:00+07:00",
                                        "guests": [{"kind": "mrz", "text": MRZ_EXAMPLE}],
                                    },
                                ],
                            },
                        }
                    }
                }
            }
        }
    },
)
def notify_batch(request: HttpRequest, body: BatchIn) -> dict[str, Any]:
    """Up to 500 check-ins in one transaction: the answer comes once all stored rows are
    committed, so an acknowledged row is never lost, and a retry with the same key and body
    returns the same rows without storing twice."""
    canonical = json.dumps(
        body.notifications, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    fingerprint = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    result = services.check_in_batch(
        _ctx(request),
        [
            _parse_row(r)
            if isinstance(r, dict)
            else [FieldProblem("notification", "type", "must be an object")]
            for r in body.notifications
        ],
        idempotency_key=body.idempotency_key,
        fingerprint=fingerprint,
    )
    rows = [
        {
            "index": r.index,
            "status": r.status,
            "group_reference": r.group_reference,
            "stay_ids": list(r.stay_ids),
            "errors": [{"field": p.field, "rule": p.rule, "message": p.message} for p in r.errors],
        }
        for r in result.rows
    ]
    return {
        "stored": result.stored,
        "failed": len(rows) - result.stored,
        "replayed": result.replayed,
        "rows": rows,
    }


class CheckOutIn(Schema):
    at: datetime | None = Field(None, description="When the guest left (default: now)")


@router.post("/stays/{stay_id}/check-out", response={200: StayOut, **ERRORS}, summary="A guest left")
def check_out(request: HttpRequest, stay_id: int, body: CheckOutIn) -> dict[str, Any]:
    return _stay(services.check_out(_ctx(request), stay_id, at=body.at))


class StayFullOut(StayOut):
    role: str = Field("guest", examples=["passenger"])
    patient_stay_id: int | None = None
    trip_id: int | None = None
    captured_offline: bool = False


def _full(s: services.StayView) -> dict[str, Any]:
    return {k: getattr(s, k) for k in StayFullOut.model_fields}


# --------------------------------------------------------------------------- offline queue
class OfflineItemIn(NotificationIn):
    idempotency_key: str = Field(..., min_length=1, max_length=64, description=KEY_DESCRIPTION)
    captured_at: datetime = Field(
        ...,
        description="When the desk captured it while offline (with its offset): the notification time "
        "for lateness; at most 72 hours before the upload, not before the arrival",
        examples=["2026-03-01T21:20:00+07:00"],
    )


class OfflineIn(Schema):
    items: list[dict[str, Any]] = Field(
        ...,
        min_length=1,
        max_length=services.MAX_BATCH,
        description="Each item is an OfflineItemIn: a notification with its own idempotency key and "
        "captured_at; a malformed item is reported in its own row.",
    )


class OfflineRowOut(Schema):
    index: int
    idempotency_key: str
    status: Literal["stored", "replayed", "error"]
    group_reference: str = ""
    stays: list[StayFullOut] = []
    errors: list[RowError] = []


class OfflineOut(Schema):
    stored: int
    replayed: int
    failed: int
    rows: list[OfflineRowOut]


_OFFLINE = TypeAdapter(OfflineItemIn)


def _offline_item(raw: Any) -> services.OfflineItem:
    key = str(raw.get("idempotency_key", "")) if isinstance(raw, dict) else ""
    if not isinstance(raw, dict):
        return services.OfflineItem(key, [FieldProblem("item", "type", "must be an object")])
    try:
        body = _OFFLINE.validate_python(raw)
    except PydanticValidationError as exc:
        return services.OfflineItem(
            key,
            [
                FieldProblem(
                    ".".join(str(p) for p in e.get("loc", ())) or "item", str(e.get("type")), e.get("msg", "")
                )
                for e in exc.errors()
            ],
        )
    data = _check_in(body)
    return services.OfflineItem(
        body.idempotency_key,
        services.CheckIn(
            guests=data.guests,
            room=data.room,
            arrival=data.arrival,
            expected_departure=data.expected_departure,
            reason=data.reason,
            captured_at=body.captured_at,
        ),
    )


@router.post(
    "/notifications/offline",
    response={200: OfflineOut, **ERRORS},
    summary="Upload notifications captured while offline (each with its key and capture time)",
)
def notify_offline(request: HttpRequest, body: OfflineIn) -> dict[str, Any]:
    """Each item is stored on its own under its own key (a retry replays it: ``replayed``); the
    capture time is the notification time for lateness (at most 72 h old)."""
    rows = services.upload_offline(_ctx(request), [_offline_item(r) for r in body.items])
    out = [
        {
            "index": r.index,
            "idempotency_key": r.idempotency_key,
            "status": r.status,
            "group_reference": r.group_reference,
            "stays": [_full(s) for s in r.stays],
            "errors": [{"field": p.field, "rule": p.rule, "message": p.message} for p in r.errors],
        }
        for r in rows
    ]
    return {
        "stored": sum(r.status == "stored" for r in rows),
        "replayed": sum(r.status == "replayed" for r in rows),
        "failed": sum(r.status == "error" for r in rows),
        "rows": out,
    }


# --------------------------------------------------------------------------- coaches
class TripIn(Schema):
    route: str = Field(..., max_length=200, examples=["Hà Nội – Hải Phòng"])
    vehicle_plate: str = Field(..., max_length=20, examples=["29B-123.45"])
    departure_address: str = Field(
        ..., max_length=500, examples=["Bến xe Gia Lâm, Phường Bồ Đề, Quận Long Biên, Hà Nội"]
    )
    departure_at: datetime = Field(..., examples=["2026-03-01T07:00:00+07:00"])
    arrival_at: datetime = Field(..., examples=["2026-03-01T09:30:00+07:00"])
    seats: int = Field(..., ge=1, le=100, examples=[45])


class TripOut(Schema):
    trip_id: int
    route: str
    vehicle_plate: str
    departure_address: str
    departure_ward_code: str
    departure_at: datetime
    arrival_at: datetime
    seats: int
    passengers: int
    deadline: datetime = Field(..., description="The manifest is notified before the departure")
    notified_at: datetime | None
    status: str = Field(..., examples=["pending"])


class ManifestOut(Schema):
    trip: TripOut
    passengers: list[StayFullOut]


class BoardIn(Schema):
    idempotency_key: str = Field("", max_length=64, description=KEY_DESCRIPTION)
    seat: str = Field(..., max_length=20, examples=["A12"])
    guests: list[GuestIn] = Field(..., min_length=1, max_length=10)


def _trip(t: coaches.TripView) -> dict[str, Any]:
    return {k: getattr(t, k) for k in TripOut.model_fields}


def _manifest(m: coaches.Manifest) -> dict[str, Any]:
    return {"trip": _trip(m.trip), "passengers": [_full(s) for s in m.passengers]}


@router.post("/trips", response={200: TripOut, **ERRORS}, summary="Plan a coach trip")
def create_trip(request: HttpRequest, body: TripIn) -> dict[str, Any]:
    return _trip(coaches.create_trip(_ctx(request), **body.model_dump()))


@router.get("/trips/{trip_id}", response={200: ManifestOut, **ERRORS}, summary="A trip and its manifest")
def get_manifest(request: HttpRequest, trip_id: int) -> dict[str, Any]:
    return _manifest(coaches.manifest(_ctx(request), trip_id))


@router.post(
    "/trips/{trip_id}/passengers",
    response={200: NotificationOut, **ERRORS},
    summary="Board passengers (cards verified; over the seats refused)",
)
def board(request: HttpRequest, trip_id: int, body: BoardIn) -> dict[str, Any]:
    result = coaches.board(
        _ctx(request),
        trip_id,
        [_guest(g) for g in body.guests],
        seat=body.seat,
        idempotency_key=body.idempotency_key,
    )
    return {
        "group_reference": result.group_reference,
        "replayed": result.replayed,
        "stays": [_stay(s) for s in result.stays],
    }


@router.post(
    "/trips/{trip_id}/notify",
    response={200: ManifestOut, **ERRORS},
    summary="Notify the manifest to the police",
)
def notify_manifest(request: HttpRequest, trip_id: int) -> dict[str, Any]:
    return _manifest(coaches.notify_manifest(_ctx(request), trip_id))


# --------------------------------------------------------------------------- hospitals
class AdmissionIn(Schema):
    idempotency_key: str = Field("", max_length=64, description=KEY_DESCRIPTION)
    bed: str = Field(..., max_length=20, examples=["K3-12"])
    admitted_at: datetime
    expected_discharge: datetime
    patient: GuestIn


class CarerIn(Schema):
    idempotency_key: str = Field("", max_length=64, description=KEY_DESCRIPTION)
    arrived_at: datetime | None = None
    carer: GuestIn


@router.post("/admissions", response={200: StayFullOut, **ERRORS}, summary="Admit an in-patient")
def admit(request: HttpRequest, body: AdmissionIn) -> dict[str, Any]:
    return _full(
        hospitals.admit_patient(
            _ctx(request),
            _guest(body.patient),
            bed=body.bed,
            admitted_at=body.admitted_at,
            expected_discharge=body.expected_discharge,
            idempotency_key=body.idempotency_key,
        )
    )


@router.post(
    "/admissions/{stay_id}/carers",
    response={200: StayFullOut, **ERRORS},
    summary="A carer stays with the patient",
)
def add_carer(request: HttpRequest, stay_id: int, body: CarerIn) -> dict[str, Any]:
    return _full(
        hospitals.admit_carer(
            _ctx(request),
            stay_id,
            _guest(body.carer),
            arrived_at=body.arrived_at,
            idempotency_key=body.idempotency_key,
        )
    )


@router.post(
    "/admissions/{stay_id}/discharge",
    response={200: list[StayFullOut], **ERRORS},
    summary="Discharge the patient (their carers leave too)",
)
def discharge(request: HttpRequest, stay_id: int, body: CheckOutIn) -> list[dict[str, Any]]:
    return [_full(s) for s in hospitals.discharge(_ctx(request), stay_id, at=body.at)]


# --------------------------------------------------------------------------- webhooks
class WebhookIn(Schema):
    url: str = Field(..., max_length=500, examples=["https://pms.example.vn/dancu/results"])


class WebhookOut(Schema):
    webhook_id: int
    url: str
    active: bool
    created_at: datetime
    pending: int = Field(..., description="Results not yet delivered")
    secret: str = Field("", description="The HMAC-SHA256 key, returned once at registration")


@router.post("/webhooks", response={200: WebhookOut, **ERRORS}, summary="Register a webhook for results")
def register_webhook(request: HttpRequest, body: WebhookIn) -> dict[str, Any]:
    w = services.register_webhook(_ctx(request), body.url)
    return {k: getattr(w, k) for k in WebhookOut.model_fields}


@router.get("/webhooks", response={200: list[WebhookOut], **ERRORS}, summary="The establishment's webhooks")
def list_webhooks(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {k: getattr(w, k) for k in WebhookOut.model_fields} for w in services.list_webhooks(_ctx(request))
    ]


# --------------------------------------------------------------------------- statistics
class PeriodOut(Schema):
    period: str
    arrivals: int | None = Field(..., description="None: suppressed (below 5)")
    guest_nights: int | None
    occupancy: float | None


class StatisticsOut(Schema):
    sector: str
    period: str
    start: date
    end: date
    ward_code: str
    beds: int
    establishments: int
    arrivals_total: int | None
    rows: list[PeriodOut]
    by_nationality: dict[str, int | None]
    by_province: dict[str, int | None]
    by_ward: dict[str, int | None]
    length_of_stay: dict[str, int | None]


@router.get(
    "/statistics",
    response={200: StatisticsOut, **ERRORS},
    summary="Anonymised statistics (counts below 5 suppressed)",
)
def statistics(
    request: HttpRequest,
    sector: str,
    start: date,
    end: date,
    period: str = "day",
    ward: str = "",
) -> dict[str, Any]:
    r = stats.report(
        AccessContext(actor=request_actor(request), purpose=stats.PURPOSE),
        sector=sector,
        start=start,
        end=end,
        period=period,
        ward_code=ward,
    )
    return {
        **{k: getattr(r, k) for k in StatisticsOut.model_fields if k != "rows"},
        "rows": [{k: getattr(p, k) for k in PeriodOut.model_fields} for p in r.rows],
    }
