"""Residence notification API (``/api/v1/residence``) for property-management systems.

Authentication: the establishment organisation's API key (``Authorization: Bearer dk_…``,
``organisations.api.ApiKeyAuth``) or the staff session. Purpose ``residence.notification``.

* ``POST /residence/notifications`` — one check-in (a guest or a group), idempotent by
  ``idempotency_key``: the same key and body give the same answer (``replayed: true``); the same
  key with another body is refused (409).
* ``POST /residence/notifications/batch`` — up to 500 check-ins: good rows are stored, each bad
  row gets its own errors (field and rule); the batch key makes a retry safe.
* ``POST /residence/stays/{id}/check-out`` — the guest left.

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

from dancu.apps.residence import services
from dancu.blocks.adminunits.api import ProblemOut
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.identity.api import CHIP_EXAMPLE, MRZ_EXAMPLE, QR_EXAMPLE
from dancu.blocks.identity.services import ChipEvidence, MrzEvidence, QrEvidence, TypedEvidence
from dancu.blocks.organisations.api import ApiKeyAuth
from dancu.blocks.organisations.services import ApiClient, actor_for
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
    auth = getattr(request, "auth", None)
    actor = auth.actor if isinstance(auth, ApiClient) else actor_for(request.user)
    return AccessContext(actor=actor, purpose=services.PURPOSE)


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
    """Up to 500 check-ins; each row is committed on its own, so an acknowledged row is never
    lost, and a retry with the same key and body returns the same rows without storing twice."""
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
