"""HTTP API of the alerts block (``/api/v1/alerts``): the police alert list and its hits.

For police units only (organisation kinds ``police_city`` and ``police_commune``), logged in with a
staff session like ``/api/v1/registry`` (``X-Organisation`` picks one of the user's organisations;
POSTs need the CSRF token). Every call uses purpose ``security.investigation`` (Law on People's
Police 2014 Art. 16) and is recorded in the audit log — kept out of the citizen's own access log
(ADR 0007). Establishments never see these endpoints' data: a verification answers the same
whether or not the person is listed.

* ``GET /alerts/entries`` — the entries the unit sees (city police: all; a ward unit: its own).
* ``POST /alerts/entries`` — add an entry by ID number (within the unit's registry jurisdiction)::

      {"id_number": "001085012345", "kind": "wanted", "reference": "QĐ-TN-123/2026",
       "legal_basis": "Bộ luật Tố tụng hình sự 2015 Điều 231", "valid_until": "2026-12-31T00:00:00+07:00"}

* ``POST /alerts/entries/{entry_id}/close`` — ``{"reason": "Đã bắt được đối tượng"}``.
* ``GET /alerts/hits`` — the hits the unit sees (city police: all; a ward unit: at establishments in
  its ward and on its own entries), newest first; ``?unseen_only=true``.
* ``POST /alerts/hits/{hit_id}/seen`` — mark a hit as taken in hand.

Errors share the API's shape ``{"detail": [{"field", "rule", "message"}]}``: 401 not logged in,
403 not a police unit / purpose not allowed (audited), 404 no such entry or hit that the unit may
see, 422 invalid input.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.security import django_auth

from dancu.blocks.adminunits.api import ProblemOut
from dancu.blocks.alerts import services
from dancu.blocks.registry.api import Text, context_from_request

router = Router(tags=["Danh sách cảnh báo / Police alert list"], auth=django_auth)

ERRORS: dict[int, type[Schema]] = {401: ProblemOut, 403: ProblemOut, 422: ProblemOut}
CHANGE_ERRORS: dict[int, type[Schema]] = {400: ProblemOut, 404: ProblemOut, **ERRORS}


class AlertQuery(Schema):
    purpose: str = Field(
        services.PURPOSE, description="Purpose code: security.investigation", examples=[services.PURPOSE]
    )
    case_reference: Text = Field("", max_length=100, examples=["HS-2026-0042"])


class AlertOut(Schema):
    entry_id: int
    subject_citizen_id: int
    subject_id_number: str = Field(..., examples=["001085012345"])
    kind: str = Field(..., examples=["wanted"])
    issuing_organisation_id: int
    issuing_organisation_name: str = Field(..., examples=["Công an phường Tây Hồ"])
    reference: str = Field(..., examples=["QĐ-TN-123/2026"])
    legal_basis: str
    valid_from: datetime
    valid_until: datetime | None
    active: bool
    created_by: str
    created_at: datetime
    closed_at: datetime | None
    closed_by: str
    close_reason: str


class HitOut(Schema):
    hit_id: int
    occurred_at: datetime
    entry_id: int
    kind: str = Field(..., examples=["wanted"])
    reference: str = Field(..., examples=["QĐ-TN-123/2026"])
    issuing_organisation_name: str
    subject_citizen_id: int
    subject_id_number: str = Field(..., examples=["001085012345"])
    where_organisation_id: int | None
    where_organisation_name: str = Field(..., examples=["Cửa hàng cầm đồ Phát Đạt"])
    where_organisation_kind: str = Field(..., examples=["pawn_shop"])
    where_ward_code: str
    event: str = Field(..., examples=["identity.verify"])
    receipt_id: str
    seen_by: str
    seen_at: datetime | None


class AlertIn(Schema):
    id_number: str = Field(..., min_length=1, max_length=20, examples=["001085012345"])
    kind: str = Field(..., description="wanted, missing, under_supervision or other", examples=["wanted"])
    reference: Text = Field(..., min_length=1, max_length=100, examples=["QĐ-TN-123/2026"])
    legal_basis: Text = Field(
        ..., min_length=1, max_length=255, examples=["Bộ luật Tố tụng hình sự 2015 Điều 231"]
    )
    valid_from: datetime | None = Field(None, description="Default: now")
    valid_until: datetime | None = Field(None, examples=["2026-12-31T00:00:00+07:00"])
    case_reference: Text = Field("", max_length=100)


class CloseIn(Schema):
    reason: Text = Field(..., min_length=1, max_length=500, examples=["Đã bắt được đối tượng"])
    case_reference: Text = Field("", max_length=100)


@router.get("/entries", response={200: list[AlertOut], **ERRORS}, summary="Alert entries of the unit")
def entries(request: HttpRequest, q: Query[AlertQuery], include_closed: bool = False) -> list[AlertOut]:
    ctx = context_from_request(request, q.purpose, q.case_reference)
    return [AlertOut(**asdict(a)) for a in services.list_alerts(ctx, include_closed=include_closed)]


@router.post("/entries", response={201: AlertOut, **CHANGE_ERRORS}, summary="Add an alert entry")
def add(request: HttpRequest, body: AlertIn) -> Status[AlertOut]:
    ctx = context_from_request(request, services.PURPOSE, body.case_reference)
    view = services.add_alert(
        ctx,
        "".join(body.id_number.split()),
        kind=body.kind,
        reference=body.reference,
        legal_basis=body.legal_basis,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
    )
    return Status(201, AlertOut(**asdict(view)))


@router.post(
    "/entries/{entry_id}/close", response={200: AlertOut, **CHANGE_ERRORS}, summary="Close an alert entry"
)
def close(request: HttpRequest, entry_id: int, body: CloseIn) -> AlertOut:
    ctx = context_from_request(request, services.PURPOSE, body.case_reference)
    return AlertOut(**asdict(services.close_alert(ctx, entry_id, reason=body.reason)))


@router.get("/hits", response={200: list[HitOut], **ERRORS}, summary="Hits the unit may see")
def hits(request: HttpRequest, q: Query[AlertQuery], unseen_only: bool = False) -> list[HitOut]:
    ctx = context_from_request(request, q.purpose, q.case_reference)
    return [HitOut(**asdict(h)) for h in services.list_hits(ctx, unseen_only=unseen_only)]


@router.post("/hits/{hit_id}/seen", response={200: HitOut, **CHANGE_ERRORS}, summary="Mark a hit as seen")
def seen(request: HttpRequest, hit_id: int) -> HitOut:
    ctx = context_from_request(request, services.PURPOSE)
    return HitOut(**asdict(services.mark_seen(ctx, hit_id)))
