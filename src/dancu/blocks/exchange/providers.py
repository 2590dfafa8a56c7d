"""In-process providers: the population registry's services exposed through the gateway
(issue 5 item 5). Each handler calls a registry service function with the ``AccessContext`` the
gateway built (the client member acting for the named official), so the registry checks the
purpose and jurisdiction itself and records its own audit event on the citizen's history.

A handler returns the data keyed by catalogue field names; the gateway then filters it down to
the fields the grant gives the purpose. Values are JSON-ready (dates as ISO 8601 text).

External providers (a service with an ``endpoint_url`` and no handler) are called over HTTP by
``remote.forward``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from datetime import date, datetime
from typing import Any

from dancu.blocks.audit.context import CITIZEN_PREFIX, AccessContext
from dancu.blocks.registry import pg_read
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.dto import CitizenView
from dancu.blocks.registry.matching import MATCH, IdentityClaim
from dancu.errors import AccessDenied, DomainValidationError


@dataclass(frozen=True)
class Answer:
    """What a provider returned: ``data`` (a field → value mapping, or a list of them under
    ``items``), the citizens it concerned, and the fields the registry itself withheld."""

    data: dict[str, Any]
    subjects: list[int]
    withheld: frozenset[str] = field(default_factory=frozenset)
    items: list[dict[str, Any]] | None = None


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float)):  # most values: the hot path's shortcut
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def _id_number(params: Mapping[str, Any], path: str) -> str:
    """The ID number from the path (``…/citizen/001085012345``) or the ``id_number`` parameter."""
    value = path.strip("/") or params.get("id_number", "")
    if not isinstance(value, str) or not value:
        raise DomainValidationError.single("id_number", "required", "give the 12-digit ID number")
    return value


def _citizen_fields(view: CitizenView, names: tuple[str, ...], only: frozenset[str] | None = None) -> Answer:
    """The service's ``names`` of ``view`` (JSON-ready). ``only``: the fields the grant gives the
    purpose, when the caller knows them (the gateway's fast path) — the others are not converted
    at all and are reported in ``withheld`` with those the registry withheld, which is what the
    gateway's filter (``gateway._forward``) would have made of them: the same answer, less work."""
    withheld = frozenset(view.fields_withheld)
    if only is None:
        data = {n: jsonable(getattr(view, n)) for n in names if n not in withheld}
        return Answer(data=data, subjects=[view.citizen_id], withheld=withheld & frozenset(names))
    data = {n: jsonable(getattr(view, n)) for n in names if n in only and n not in withheld}
    hidden = frozenset(n for n in names if n not in data)
    return Answer(data=data, subjects=[view.citizen_id], withheld=hidden)


CITIZEN_FIELDS = (
    "id_number",
    "full_name",
    "date_of_birth",
    "dob_precision",
    "sex",
    "nationality",
    "ethnicity",
    "religion",
    "origin",
    "permanent_address",
    "temporary_address",
    "household_number",
    "relationship_to_head",
    "life_status",
    "date_of_death",
    "old_id_numbers",
)
RESIDENCE_FIELDS = ("id_number", "full_name", "permanent_address", "temporary_address", "household_number")
LIFE_FIELDS = ("id_number", "full_name", "life_status", "date_of_death")
# The applicant's own record, for the public-service portal's prefill (once-only principle): what
# the forms show and the eligibility rules read, with the cards held (re-issue of a valid card).
APPLICANT_FIELDS = (
    "id_number",
    "full_name",
    "date_of_birth",
    "dob_precision",
    "sex",
    "nationality",
    "ethnicity",
    "origin",
    "permanent_address",
    "temporary_address",
    "household_number",
    "relationship_to_head",
    "life_status",
    "old_id_numbers",
    "cards",
)
SELF_PREFIX = CITIZEN_PREFIX
# Services answering only for the end user (a citizen's own record): a grant on them is given only
# to the client subsystems of ``DANCU_EXCHANGE_SELF_SERVICE_CLIENTS`` (the citizen portals), checked
# when the grant is requested, approved and used — and the end user must be verified (ADR 0010 §22).
SELF_SERVICE_HANDLERS = frozenset(
    {
        "registry.applicant",
        # The public-service application's stand-ins for other agencies' registers
        # (``apps/public_services/sector_registers``): named here because the gateway must refuse
        # them to any client but a citizen portal; a block knows the names, not the code.
        "public_services.traffic_fines",
        "public_services.driving_licences",
        "public_services.unemployment_insurance",
        "public_services.household_health_insurance",
    }
)
HOUSEHOLD_FIELDS = ("id_number", "full_name", "date_of_birth", "sex", "relationship_to_head", "life_status")
VERIFY_FIELDS = ("match", "decision", "reasons")


def citizen(ctx: AccessContext, params: Mapping[str, Any], path: str) -> Answer:
    """Citizen by ID number (``registry.get_by_id_number``)."""
    return _citizen_fields(registry.get_by_id_number(ctx, _id_number(params, path)), CITIZEN_FIELDS)


def applicant(ctx: AccessContext, params: Mapping[str, Any], path: str) -> Answer:
    """The record of the citizen the client system acts for — and of no one else: the end user
    (``X-End-User: citizen:<ID number>``) must be the person asked for *and verified by the
    platform* (``Actor.verified_end_user``: the gateway checked the citizen's access token, ADR
    0010 §22, or the platform's own portal acts for the citizen signed in), or the call is refused
    (403, rule ``not_the_end_user``). For a portal prefilling a citizen's own form (Decree
    45/2020/NĐ-CP and Decree 107/2021/NĐ-CP: data the registry holds is not asked again;
    Law 91/2025/QH15: the data subject's own data). The organisation's territorial jurisdiction
    does not apply to a person's own record (a Hà Nội portal serves a citizen registered
    elsewhere who files in Hà Nội); the purpose and the grant's field set still do."""
    id_number = _id_number(params, path)
    verified = ctx.actor.verified_end_user
    if verified is None or verified.id_number != id_number or ctx.actor.end_user != verified.end_user:
        raise AccessDenied(
            "this service returns only the record of the verified citizen the client acts for "
            f"(X-End-User: {SELF_PREFIX}<the same ID number>, with X-End-User-Token)",
            field="X-End-User",
            rule="not_the_end_user",
        )
    own = AccessContext(replace(ctx.actor, is_system=True), ctx.purpose, ctx.case_reference)
    return _citizen_fields(registry.get_by_id_number(own, id_number), APPLICANT_FIELDS)


def residence(ctx: AccessContext, params: Mapping[str, Any], path: str) -> Answer:
    """Residence status: permanent and temporary address, household book number."""
    return _citizen_fields(registry.get_by_id_number(ctx, _id_number(params, path)), RESIDENCE_FIELDS)


def life_status(ctx: AccessContext, params: Mapping[str, Any], path: str) -> Answer:
    """Life status (alive, deceased, missing) and the date of death."""
    return _citizen_fields(registry.get_by_id_number(ctx, _id_number(params, path)), LIFE_FIELDS)


def household(ctx: AccessContext, params: Mapping[str, Any], path: str) -> Answer:
    """The members of the citizen's household (``registry.household_members``)."""
    members = registry.household_members(ctx, _id_number(params, path))
    items = [{n: jsonable(getattr(m, n)) for n in HOUSEHOLD_FIELDS} for m in members]
    return Answer(data={}, subjects=[m.citizen_id for m in members], items=items)


def verify_identity(ctx: AccessContext, params: Mapping[str, Any], path: str) -> Answer:
    """Verify identity, yes or no (``registry.match_identity``, purpose identity.verification):
    the ID number, full name and date of birth the client holds, matched against the registry."""
    id_number = _id_number(params, path)
    name = params.get("full_name")
    dob = params.get("date_of_birth")
    if not isinstance(name, str) or not name.strip():
        raise DomainValidationError.single("full_name", "required", "give the full name to verify")
    try:
        born = date.fromisoformat(str(dob))
    except ValueError:
        raise DomainValidationError.single(
            "date_of_birth", "format", "give the date of birth as YYYY-MM-DD"
        ) from None
    match = registry.match_identity(
        ctx,
        IdentityClaim(id_number=id_number, full_name=name, date_of_birth=born),
        evidence_kind="typed",
        mode="yes_no",
    )
    data = {
        "match": match.decision == MATCH,
        "decision": match.decision,
        "reasons": [r.code for r in match.reasons],
    }
    return Answer(data=data, subjects=[match.citizen_id] if match.citizen_id is not None else [])


Handler = Callable[[AccessContext, Mapping[str, Any], str], Answer]


@dataclass(frozen=True)
class Lookup:
    """A handler split in two for the gateway's fast path (ADR 0010 §13): ``request`` makes the
    registry's checks and names the look-up (``registry.lookup_request``), the gateway runs it in
    its own transaction with the message log's row, and ``answer`` turns the look-up's outcome into
    the handler's answer (or raises what the handler would). Same answers and events as the
    handler: ``tests/blocks/exchange/test_fast.py``."""

    fields: tuple[str, ...]

    def request(self, ctx: AccessContext, params: Mapping[str, Any], path: str) -> pg_read.Request:
        return registry.lookup_request(ctx, _id_number(params, path))

    def answer(
        self, ctx: AccessContext, outcome: pg_read.Outcome, only: frozenset[str] | None = None
    ) -> Answer:
        return _citizen_fields(registry.view_of_lookup(ctx, outcome), self.fields, only)


# The handlers whose whole work is one ``get_by_id_number`` (by handler name in the catalogue).
LOOKUPS: dict[str, Lookup] = {
    "registry.citizen": Lookup(CITIZEN_FIELDS),
    "registry.residence": Lookup(RESIDENCE_FIELDS),
    "registry.life_status": Lookup(LIFE_FIELDS),
}


@dataclass(frozen=True)
class CatalogueEntry:
    """A registry service as the catalogue describes it (``services.ensure_registry_services``)."""

    code: str
    handler: Handler
    title_vi: str
    title_en: str
    legal_basis: str
    fields: tuple[str, ...]
    fields_by_purpose: dict[str, tuple[str, ...]]
    methods: str = "GET,POST"


_OFFICIAL_FULL = ("registry.lookup", "security.investigation")
_LESS = tuple(f for f in CITIZEN_FIELDS if f not in {"religion", "ethnicity", "origin", "old_id_numbers"})
_CLEANING = (
    "id_number",
    "full_name",
    "date_of_birth",
    "dob_precision",
    "sex",
    "permanent_address",
    "life_status",
    "date_of_death",
    "old_id_numbers",
)

REGISTRY_CATALOGUE: dict[str, CatalogueEntry] = {
    e.code: e
    for e in [
        CatalogueEntry(
            "citizen",
            citizen,
            "Tra cứu thông tin công dân theo số định danh",
            "Citizen by ID number",
            "Luật Căn cước 2023 Điều 11; Nghị định 47/2020/NĐ-CP Điều 14",
            CITIZEN_FIELDS,
            {
                **dict.fromkeys(_OFFICIAL_FULL, CITIZEN_FIELDS),
                # Social insurance and other departments processing a dossier get less (no
                # religion, ethnicity, origin, old numbers): least data, Law 91/2025/QH15 Art. 3.
                "public_service.processing": _LESS,
                "data.cleaning": _CLEANING,
            },
        ),
        CatalogueEntry(
            "applicant",
            applicant,
            "Thông tin của chính người nộp hồ sơ (điền sẵn biểu mẫu dịch vụ công)",
            "The applicant's own record (prefilling a public-service form)",
            "Nghị định 45/2020/NĐ-CP; Nghị định 107/2021/NĐ-CP; Luật Bảo vệ dữ liệu cá nhân 2025",
            APPLICANT_FIELDS,
            {"public_service.processing": APPLICANT_FIELDS},
            methods="GET",
        ),
        CatalogueEntry(
            "verify-identity",
            verify_identity,
            "Xác thực thông tin công dân (có/không)",
            "Verify identity (yes/no)",
            "Nghị định 69/2024/NĐ-CP; Nghị định 47/2020/NĐ-CP",
            VERIFY_FIELDS,
            {"identity.verification": VERIFY_FIELDS},
            methods="POST",
        ),
        CatalogueEntry(
            "household",
            household,
            "Thành viên hộ gia đình",
            "Household members",
            "Luật Cư trú 2020 Điều 24; Nghị định 47/2020/NĐ-CP",
            HOUSEHOLD_FIELDS,
            {
                **dict.fromkeys(_OFFICIAL_FULL, HOUSEHOLD_FIELDS),
                "public_service.processing": HOUSEHOLD_FIELDS,
                "social_policy.credit": ("id_number", "date_of_birth", "relationship_to_head", "life_status"),
            },
        ),
        CatalogueEntry(
            "residence",
            residence,
            "Tình trạng cư trú",
            "Residence status",
            "Luật Cư trú 2020; Nghị định 47/2020/NĐ-CP",
            RESIDENCE_FIELDS,
            {
                **dict.fromkeys(_OFFICIAL_FULL, RESIDENCE_FIELDS),
                "public_service.processing": RESIDENCE_FIELDS,
                "data.cleaning": ("id_number", "full_name", "permanent_address"),
                "social_policy.credit": ("id_number", "permanent_address"),
            },
        ),
        CatalogueEntry(
            "life-status",
            life_status,
            "Tình trạng sống/chết",
            "Life status",
            "Luật Hộ tịch 2014; Nghị định 47/2020/NĐ-CP",
            LIFE_FIELDS,
            {
                **dict.fromkeys(_OFFICIAL_FULL, LIFE_FIELDS),
                "public_service.processing": LIFE_FIELDS,
                "data.cleaning": LIFE_FIELDS,
            },
        ),
    ]
}
HANDLERS: dict[str, Handler] = {f"registry.{code}": e.handler for code, e in REGISTRY_CATALOGUE.items()}


def openapi_for(entry: CatalogueEntry, service_id: str) -> dict[str, Any]:
    """A small OpenAPI 3.0 description of one registry service (GovStack ``getOpenAPI``)."""
    props = {f: {"description": f} for f in entry.fields}
    ok = {
        "description": "The data, filtered to the fields the grant gives the purpose",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "data": {"type": "object", "properties": props},
                        "fields": {"type": "array", "items": {"type": "string"}},
                        "fields_withheld": {"type": "array", "items": {"type": "string"}},
                    },
                }
            }
        },
    }
    headers = [
        {"name": n, "in": "header", "required": True, "schema": {"type": "string"}}
        for n in ("Information-Mediator-Client", "Authorization", "X-Request-Id", "X-Purpose", "X-End-User")
    ] + [{"name": "X-Case-Reference", "in": "header", "required": False, "schema": {"type": "string"}}]
    op = {
        "summary": f"{entry.title_vi} / {entry.title_en}",
        "description": f"Legal basis: {entry.legal_basis}",
        "parameters": [
            *headers,
            {"name": "id_number", "in": "path", "required": True, "schema": {"type": "string"}},
        ],
        "responses": {
            "200": ok,
            "400": {"description": "bad header"},
            "401": {"description": "unknown client or bad credentials"},
            "403": {"description": "no grant, purpose or field not granted"},
            "404": {"description": "no such citizen"},
            "409": {"description": "request id reused with another request"},
        },
    }
    methods = [m.strip().lower() for m in entry.methods.split(",")]
    return {
        "openapi": "3.0.3",
        "info": {"title": f"{service_id}", "version": "v1", "description": entry.title_en},
        "paths": {"/{id_number}": dict.fromkeys(methods, op)},
    }
