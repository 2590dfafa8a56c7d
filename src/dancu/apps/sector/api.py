"""The GovStack Digital Registries data API for the sector registries (``/api/v1/sector``),
following the shapes of ``GovStack_Digital_registries_BB_Data_API_template-1.3.0`` (GovStack
Digital Registries building block, API template 1.3.0): a registry is addressed as
``/data/{registryname}/{versionnumber}``; the body wraps the record as ``{"write": {"content":
…}}`` and the search as ``{"query": {"content": …}}``.

* ``GET  /data/{registry}/{version}`` — list (``search``, ``page``, ``page_size``):
  ``{count, next, previous, results}``
* ``POST /data/{registry}/{version}/create`` — create; the person (``ID``, ``FullName``, ``BirthDate``)
  is verified against the population registry through the data-exchange gateway first
* ``POST /data/{registry}/{version}/read`` — one record by ``ID`` or ``uuid``
* ``POST /data/{registry}/{version}/exists`` — ``{"answer": {"status": true|false, "message": …}}``
* ``PUT  /data/{registry}/{version}/update`` — change sector fields of one record
* ``DELETE /data/{registry}/{version}/{ID}/delete`` — 204

Authentication: the owning organisation's API key (``Authorization: Bearer dk_…``) or a staff
session of its officers; the GovStack header ``Information-Mediator-Client`` is accepted and not
needed here (the data-exchange gateway sets it). Errors: the platform's shape
``{"detail": [{"field", "rule", "message"}]}`` (422 for a broken rule, naming the field;
401, 403, 404, 409).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.security import django_auth

from dancu.apps.sector import services
from dancu.blocks.audit.context import Actor
from dancu.blocks.organisations.api import ApiKeyAuth
from dancu.blocks.organisations.services import ApiClient, actor_for

router = Router(
    tags=["Số hóa dữ liệu chuyên ngành / Sector registries (GovStack DR)"], auth=[ApiKeyAuth(), django_auth]
)

EXAMPLE = {
    "ID": "001085012345",
    "FullName": "Nguyễn Văn An",
    "BirthDate": "1985-03-02",
    "Employer": "Công ty TNHH Sông Hồng",
    "Occupation": "Kỹ sư",
    "ContractType": "indefinite",
}


class Content(Schema):
    content: dict[str, Any] = Field(..., examples=[EXAMPLE])


class WriteIn(Schema):
    write: Content


class QueryIn(Schema):
    query: Content


class UpdateIn(Schema):
    query: Content
    write: Content


class RecordOut(Schema):
    uuid: str
    content: dict[str, Any]
    verified_by_message: int = Field(..., description="the gateway message that verified the person")


class ListOut(Schema):
    count: int
    next: str | None
    previous: str | None
    results: list[RecordOut]


class Answer(Schema):
    status: bool
    message: str


class ExistsOut(Schema):
    answer: Answer


class Problem(Schema):
    detail: list[dict[str, str]]


def _actor(request: HttpRequest) -> Actor:
    auth = getattr(request, "auth", None)
    return auth.actor if isinstance(auth, ApiClient) else actor_for(request.user)


def _out(r: services.Record) -> RecordOut:
    return RecordOut(uuid=r.uuid, content=r.content, verified_by_message=r.verified_by_message)


ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}


@router.get("/data/{registry}/{version}", response={200: ListOut, **ERRORS}, operation_id="sector_list")
def list_records(
    request: HttpRequest, registry: str, version: str, search: str = "", page: int = 1, page_size: int = 20
) -> Any:
    count, rows = services.search(
        _actor(request), registry, version, text=search, page=page, page_size=page_size
    )
    base = request.path
    nxt = f"{base}?page={page + 1}&page_size={page_size}" if page * page_size < count else None
    prev = f"{base}?page={page - 1}&page_size={page_size}" if page > 1 else None
    return ListOut(count=count, next=nxt, previous=prev, results=[_out(r) for r in rows])


@router.post(
    "/data/{registry}/{version}/create", response={200: RecordOut, **ERRORS}, operation_id="sector_create"
)
def create(request: HttpRequest, registry: str, version: str, body: WriteIn) -> Any:
    return _out(services.create(_actor(request), registry, version, body.write.content))


@router.post(
    "/data/{registry}/{version}/read", response={200: RecordOut, **ERRORS}, operation_id="sector_read"
)
def read(request: HttpRequest, registry: str, version: str, body: QueryIn) -> Any:
    return _out(services.read(_actor(request), registry, version, body.query.content))


@router.post(
    "/data/{registry}/{version}/exists", response={200: ExistsOut, **ERRORS}, operation_id="sector_exists"
)
def exists(request: HttpRequest, registry: str, version: str, body: QueryIn) -> Any:
    found = services.exists(_actor(request), registry, version, body.query.content)
    message = "Object found from database" if found else "Object not found"
    return ExistsOut(answer=Answer(status=found, message=message))


@router.put(
    "/data/{registry}/{version}/update", response={200: RecordOut, **ERRORS}, operation_id="sector_update"
)
def update(request: HttpRequest, registry: str, version: str, body: UpdateIn) -> Any:
    return _out(services.update(_actor(request), registry, version, body.query.content, body.write.content))


@router.delete(
    "/data/{registry}/{version}/{id_number}/delete",
    response={204: None, **ERRORS},
    operation_id="sector_delete",
)
def delete(request: HttpRequest, registry: str, version: str, id_number: str) -> Any:
    services.delete(_actor(request), registry, version, id_number)
    return HttpResponse(status=204)
