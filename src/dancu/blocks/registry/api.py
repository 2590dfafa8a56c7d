"""HTTP API of the registry block (``/api/v1/registry``).

Every call names a ``purpose`` (a code from ``GET /api/v1/registry/purposes``); the caller's
organisation and role decide whether it may use it, and each call is recorded in the audit log.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.security import django_auth
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from dancu.blocks.adminunits.api import ProblemOut
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.purposes import PURPOSES
from dancu.blocks.organisations.services import actor_for
from dancu.blocks.registry import services
from dancu.errors import DomainValidationError

router = Router(tags=["Dân cư / Population registry"], auth=django_auth)

ID_EXAMPLE = "001085012345"

# The documented errors, all in the shared shape {"detail": [{"field", "rule", "message"}]}:
# 401 not logged in; 403 organisation, role, purpose or jurisdiction does not allow it (or no CSRF
# token on a POST); 404 no such record; 422 input breaks the schema or a domain rule; 400 a request
# body that is not JSON.
READ_ERRORS: dict[int, type[Schema]] = {401: ProblemOut, 403: ProblemOut, 422: ProblemOut}
LOOKUP_ERRORS: dict[int, type[Schema]] = {**READ_ERRORS, 404: ProblemOut}
WRITE_ERRORS: dict[int, type[Schema]] = {400: ProblemOut, **READ_ERRORS}
CHANGE_ERRORS: dict[int, type[Schema]] = {**WRITE_ERRORS, 404: ProblemOut}

# Control characters other than tab and line breaks: PostgreSQL cannot store NUL (it was a 500 there
# and stored as-is on SQLite), and no stored or audited text should hide the others.
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_CONTROL_RE = re.compile(f"[{_CONTROL}]")


def _no_control_characters(value: str) -> str:
    if _CONTROL_RE.search(value):
        raise PydanticCustomError("characters", "must not contain control characters")
    return value


Text = Annotated[
    str, AfterValidator(_no_control_characters), Field(json_schema_extra={"pattern": f"^[^{_CONTROL}]*$"})
]


def context_from_request(request: HttpRequest, purpose: str, case_reference: str = "") -> AccessContext:
    """The access context of a logged-in staff member; ``X-Organisation`` picks one of their
    organisations (default: the first)."""
    org_header = request.headers.get("X-Organisation")
    org_id: int | None = None
    if org_header:
        if not org_header.isdigit():
            raise DomainValidationError.single("X-Organisation", "integer", "must be an organisation id")
        org_id = int(org_header)
    return AccessContext(
        actor=actor_for(request.user, org_id), purpose=purpose, case_reference=case_reference
    )


class PurposeQuery(Schema):
    purpose: str = Field(..., description="Purpose code, e.g. registry.lookup", examples=["registry.lookup"])
    case_reference: Text = Field(
        "", max_length=100, description="Case or dossier reference", examples=["HS-2026-0042"]
    )


class AddressOut(Schema):
    text: str
    legacy_ward_code: str
    ward_code: str
    province_code: str


class CardOut(Schema):
    kind: str
    card_number: str
    issued_on: date
    expires_on: date | None
    status: str


class CitizenOut(Schema):
    citizen_id: int
    id_number: str = Field(..., examples=[ID_EXAMPLE])
    full_name: str = Field(..., examples=["Nguyễn Thị Hòa"])
    version: int
    date_of_birth: date | None = None
    dob_precision: str | None = None
    sex: str | None = None
    family_name: str | None = None
    middle_name: str | None = None
    given_name: str | None = None
    nationality: str | None = None
    ethnicity: str | None = None
    religion: str | None = None
    birth_registration_code: str | None = None
    origin: AddressOut | None = None
    permanent_address: AddressOut | None = None
    temporary_address: AddressOut | None = None
    household_number: str | None = None
    relationship_to_head: str | None = None
    life_status: str | None = None
    date_of_death: date | None = None
    old_id_numbers: list[str] | None = None
    previous_id_numbers: list[str] | None = None
    cards: list[CardOut] | None = None
    fields_withheld: list[str] = Field(
        default_factory=list, description="Fields this purpose may not receive"
    )


class CitizenSummaryOut(Schema):
    citizen_id: int
    id_number: str
    full_name: str
    date_of_birth: date
    dob_precision: str
    sex: str
    permanent_ward_code: str
    life_status: str


class RevisionOut(Schema):
    version: int
    action: str
    changed_at: datetime
    actor: str
    organisation: str
    reason: str
    legal_basis: str
    changes: dict[str, list[Any]]


class PurposeOut(Schema):
    code: str
    name_vi: str
    name_en: str
    legal_basis: str


class ChangeIn(Schema):
    reason: Text = Field(..., min_length=1, max_length=500, examples=["Đính chính theo trích lục khai sinh"])
    legal_basis: Text = Field(..., min_length=1, max_length=255, examples=["Luật Căn cước 2023 Điều 10"])


class NewCitizenIn(ChangeIn):
    id_number: str = Field(..., examples=[ID_EXAMPLE])
    full_name: str = Field(..., examples=["Nguyễn Văn An"])
    date_of_birth: date = Field(..., examples=["1985-03-02"])
    sex: str = Field(..., description="M (Nam) or F (Nữ)", examples=["M"])
    dob_precision: str = Field("day", description="day, month or year")
    nationality: str = "VN"
    ethnicity: Text = "Kinh"
    religion: Text = ""
    origin_text: Text = ""
    permanent_address_text: str = Field("", examples=["Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội"])
    temporary_address_text: str = ""
    household_number: Text = ""
    relationship_to_head: str = ""
    old_id_numbers: list[str] = Field(default_factory=list, examples=[["012345678"]])
    family_name: str | None = Field(None, description="Only for compound surnames")


class CorrectionIn(ChangeIn):
    changes: dict[str, Any] = Field(..., examples=[{"full_name": "Nguyễn Thị Hòa"}])


class MoveIn(ChangeIn):
    permanent_address_text: str
    household_number: Text = ""
    relationship_to_head: str = ""


class DeathIn(ChangeIn):
    date_of_death: date


def _out(view: services.CitizenView) -> CitizenOut:
    return CitizenOut(**asdict(view))


@router.get("/purposes", response=list[PurposeOut], auth=None, summary="Purpose codes")
def list_purposes(request: HttpRequest) -> list[PurposeOut]:
    return [PurposeOut(**asdict(p)) for p in PURPOSES.values()]


@router.get(
    "/citizens",
    response={200: list[CitizenSummaryOut], **READ_ERRORS},
    summary="Search by name and date of birth",
)
def search_citizens(
    request: HttpRequest,
    q: Query[PurposeQuery],
    name: str = Query(..., min_length=1, max_length=100, examples=["nguyen van an"]),
    date_of_birth: date | None = None,
    limit: int = Query(20, ge=1, le=100),
) -> list[CitizenSummaryOut]:
    ctx = context_from_request(request, q.purpose, q.case_reference)
    return [CitizenSummaryOut(**asdict(s)) for s in services.search(ctx, name, date_of_birth, limit=limit)]


@router.get(
    "/citizens/by-old-id/{old_number}",
    response={200: CitizenOut, **LOOKUP_ERRORS},
    summary="Look up by old CMND number",
)
def by_old_id(request: HttpRequest, old_number: str, q: Query[PurposeQuery]) -> CitizenOut:
    ctx = context_from_request(request, q.purpose, q.case_reference)
    return _out(services.get_by_old_id_number(ctx, old_number))


@router.get(
    "/citizens/{id_number}",
    response={200: CitizenOut, **LOOKUP_ERRORS},
    summary="Look up by personal ID number",
)
def by_id(request: HttpRequest, id_number: str, q: Query[PurposeQuery]) -> CitizenOut:
    ctx = context_from_request(request, q.purpose, q.case_reference)
    return _out(services.get_by_id_number(ctx, id_number))


@router.get(
    "/citizens/{id_number}/history",
    response={200: list[RevisionOut], **LOOKUP_ERRORS},
    summary="Revision history",
)
def citizen_history(request: HttpRequest, id_number: str, q: Query[PurposeQuery]) -> list[RevisionOut]:
    ctx = context_from_request(request, q.purpose, q.case_reference)
    return [RevisionOut(**asdict(r)) for r in services.history(ctx, id_number)]


@router.post("/citizens", response={201: CitizenOut, **WRITE_ERRORS}, summary="Register a citizen")
def register(request: HttpRequest, body: NewCitizenIn) -> Status[CitizenOut]:
    ctx = context_from_request(request, "registry.administration")
    data = body.dict()
    reason, legal_basis = data.pop("reason"), data.pop("legal_basis")
    data["old_id_numbers"] = tuple(data["old_id_numbers"])
    view = services.register_citizen(ctx, services.NewCitizen(**data), reason=reason, legal_basis=legal_basis)
    return Status(201, _out(view))


@router.post(
    "/citizens/{id_number}/corrections",
    response={200: CitizenOut, **CHANGE_ERRORS},
    summary="Correct personal details",
)
def correct(request: HttpRequest, id_number: str, body: CorrectionIn) -> CitizenOut:
    ctx = context_from_request(request, "registry.administration")
    changes = dict(body.changes)
    for key, value in changes.items():
        if isinstance(value, str) and _CONTROL_RE.search(value):
            raise DomainValidationError.single(
                f"changes.{key}", "characters", "must not contain control characters"
            )
    if "date_of_birth" in changes and isinstance(changes["date_of_birth"], str):
        try:
            changes["date_of_birth"] = date.fromisoformat(changes["date_of_birth"])
        except ValueError:
            raise DomainValidationError.single(
                "changes.date_of_birth", "date", "must be yyyy-mm-dd"
            ) from None
    view = services.correct_citizen(ctx, id_number, changes, reason=body.reason, legal_basis=body.legal_basis)
    return _out(view)


@router.post(
    "/citizens/{id_number}/moves",
    response={200: CitizenOut, **CHANGE_ERRORS},
    summary="Change permanent residence",
)
def move(request: HttpRequest, id_number: str, body: MoveIn) -> CitizenOut:
    ctx = context_from_request(request, "registry.administration")
    view = services.move_residence(
        ctx,
        id_number,
        permanent_address_text=body.permanent_address_text,
        household_number=body.household_number,
        relationship_to_head=body.relationship_to_head,
        reason=body.reason,
        legal_basis=body.legal_basis,
    )
    return _out(view)


@router.post(
    "/citizens/{id_number}/death",
    response={200: CitizenOut, **CHANGE_ERRORS},
    summary="Record a death",
)
def death(request: HttpRequest, id_number: str, body: DeathIn) -> CitizenOut:
    ctx = context_from_request(request, "registry.administration")
    view = services.record_death(
        ctx, id_number, date_of_death=body.date_of_death, reason=body.reason, legal_basis=body.legal_basis
    )
    return _out(view)
