"""HTTP API of online public services (``/api/v1/public-services``), public and read-only:

* ``GET /catalogue`` — the catalogue (``?paperless=true``: only services run without paper), with
  each data item's source, for the one-stop portals that list the services;
* ``GET /results/{tracking_code}`` — whether the platform issued and signed this result (what the
  verification page behind the printed QR shows: the holder's number masked).
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from dancu.apps.public_services import catalogue, services
from dancu.blocks.adminunits.api import ProblemOut

router = Router(tags=["Dịch vụ công / Public services"])


class ItemOut(Schema):
    key: str
    label_vi: str
    label_en: str
    source: str


class ServiceOut(Schema):
    code: str
    number: int
    name_vi: str
    name_en: str
    authority_kind: str
    authority_vi: str
    legal_basis: str
    working_days: int
    fee_vnd: int
    eid_level: int
    paperless: bool
    items: list[ItemOut]


class ResultCheckOut(Schema):
    valid: bool
    tracking_code: str
    service_name: str
    issued_at: str
    authority: str
    holder_name: str
    holder_id_masked: str


@router.get(
    "/catalogue",
    response={200: list[ServiceOut], 422: ProblemOut},
    auth=None,
    summary="The catalogue of services",
)
def list_services(request: HttpRequest, paperless: bool = False) -> list[ServiceOut]:
    return [
        ServiceOut(
            code=s.code,
            number=s.number,
            name_vi=s.name_vi,
            name_en=s.name_en,
            authority_kind=s.authority_kind,
            authority_vi=s.authority_vi,
            legal_basis=s.legal_basis,
            working_days=s.days,
            fee_vnd=s.fee_vnd,
            eid_level=s.level,
            paperless=s.paperless,
            items=[
                ItemOut(key=i.key, label_vi=i.label_vi, label_en=i.label_en, source=i.source) for i in s.items
            ],
        )
        for s in catalogue.SERVICES
        if not paperless or s.paperless
    ]


@router.get(
    "/results/{tracking_code}",
    response={200: ResultCheckOut, 422: ProblemOut},
    auth=None,
    summary="Check a result's signature (valid=false for an unknown code)",
)
def check_result(request: HttpRequest, tracking_code: str) -> ResultCheckOut:
    v = services.verify_result(tracking_code[:40])
    return ResultCheckOut(
        valid=v.valid,
        tracking_code=v.tracking_code,
        service_name=v.service_name,
        issued_at=v.issued_at,
        authority=v.authority,
        holder_name=v.holder_name,
        holder_id_masked=v.holder_id_masked,
    )
