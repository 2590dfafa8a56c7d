"""HTTP API of the audit block: the access log of one citizen, for officials answering a
citizen's request (the request itself is audited)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.security import django_auth

from dancu.blocks.audit.services import events_for_citizen
from dancu.blocks.registry.api import LOOKUP_ERRORS, PurposeQuery, context_from_request
from dancu.blocks.registry.services import get_by_id_number

router = Router(tags=["Nhật ký truy cập / Audit"], auth=django_auth)


class AccessRecordOut(Schema):
    occurred_at: datetime
    who: str
    organisation: str
    purpose_code: str
    purpose_vi: str
    purpose_en: str
    action: str
    result: str


@router.get(
    "/citizens/{id_number}/events",
    response={200: list[AccessRecordOut], **LOOKUP_ERRORS},
    summary="Who accessed this citizen's data",
)
def citizen_events(request: HttpRequest, id_number: str, q: Query[PurposeQuery]) -> list[AccessRecordOut]:
    ctx = context_from_request(request, q.purpose, q.case_reference)
    citizen = get_by_id_number(ctx, id_number)
    return [AccessRecordOut(**vars(r)) for r in events_for_citizen(citizen.citizen_id)]
