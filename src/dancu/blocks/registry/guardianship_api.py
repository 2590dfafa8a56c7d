"""HTTP API of guardianships and restrictions of parental rights (``/api/v1/registry``).

For the commune's judicial and civil-status officer (role ``civil_status``, purpose
``civil_status.guardianship``) and the registry's officers (``registry.administration``), for a
child whose permanent residence is in their ward or commune — or, for a guardianship, whose
guardian's is (registered at the guardian's commune, Law on Civil Status 2014 Art. 19;
that commune ends it, Art. 22 cl. 1, and reads only the guardianships it registered). Thin over
``registry.guardianship`` (purpose check, jurisdiction, audit). Errors share the API's shape
``{"detail": [{"field", "rule", "message"}]}``: 401 not logged in; 403 role, purpose or
jurisdiction (``rule`` says which); 404 no such child, guardianship or restriction; 422 input
against the schema or a domain rule (the field and the rule named). Nothing is written on an error.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.security import django_auth

from dancu.blocks.registry import guardianship
from dancu.blocks.registry.api import CHANGE_ERRORS, ID_EXAMPLE, LOOKUP_ERRORS, Text, context_from_request

router = Router(tags=["Giám hộ, hạn chế quyền cha mẹ / Guardianship and parental rights"], auth=django_auth)

CHILD_EXAMPLE = "001220004567"
GUARDIAN_EXAMPLE = "001190099001"
Purpose = Literal["civil_status.guardianship", "registry.administration"]
PURPOSE_HELP = "civil_status.guardianship (commune civil-status officer) or registry.administration (police)"


class RecordQuery(Schema):
    purpose: Purpose = Field("civil_status.guardianship", description=PURPOSE_HELP)


class GuardianshipOut(Schema):
    guardianship_id: int
    guardian_id_number: str = Field(..., examples=[GUARDIAN_EXAMPLE])
    guardian_name: str = Field(..., examples=["Huỳnh Thị Mai"])
    kind: str = Field(..., description="de_jure (Civil Code Art. 52) or appointed (Art. 54)")
    record_number: str = Field(..., examples=["GH-12/2026"])
    started_on: date
    ended_on: date | None
    end_reason: str
    reason: str
    legal_basis: str
    recorded_by: str
    organisation_name: str
    registered_ward_code: str = Field(
        "",
        description="The commune (current ward code) where it was registered: the ward's or the "
        "guardian's (Law on Civil Status 2014 Art. 19); empty if recorded before this was kept",
        examples=["00103"],
    )


class RestrictionOut(Schema):
    restriction_id: int
    parent_id_number: str = Field(..., examples=[ID_EXAMPLE])
    parent_name: str
    relationship: str = Field(..., description="father or mother")
    decision: str = Field(..., examples=["45/2026/QĐ-TA"])
    decided_on: date | None
    court: str = Field(..., examples=["Tòa án nhân dân khu vực 1 – Hà Nội"])
    restricted_from: date
    restricted_until: date | None
    lifted_on: date | None
    lift_decision: str
    lift_decided_on: date | None
    lift_court: str
    state: str = Field(..., description="in_force, upcoming, ended (term over) or lifted")
    recorded_by: str
    organisation_name: str


class ChildRecordOut(Schema):
    child_id_number: str = Field(..., examples=[CHILD_EXAMPLE])
    full_name: str
    date_of_birth: date
    age: int
    father_id_number: str
    father_name: str
    mother_id_number: str
    mother_name: str
    guardianships: list[GuardianshipOut]
    restrictions: list[RestrictionOut]
    scope: Literal["whole", "registered_here"] = Field(
        "whole",
        description="whole: the child's commune; registered_here: a commune that registered one of the "
        "child's guardianships sees only those (no parents, no restrictions)",
    )


class ReasonIn(Schema):
    purpose: Purpose = Field("civil_status.guardianship", description=PURPOSE_HELP)
    reason: Text = Field(..., min_length=1, max_length=500, examples=["Cha bị hạn chế quyền, mẹ đã chết"])
    legal_basis: Text = Field(
        ..., min_length=1, max_length=255, examples=["Bộ luật Dân sự 2015 Điều 54; Luật Hộ tịch 2014 Điều 20"]
    )


class GuardianshipIn(ReasonIn):
    guardian_id_number: str = Field(..., max_length=12, examples=[GUARDIAN_EXAMPLE])
    kind: Literal["de_jure", "appointed"] = Field(..., examples=["appointed"])
    record_number: Text = Field(
        ...,
        min_length=1,
        max_length=80,
        description="Civil-status registration number",
        examples=["GH-12/2026"],
    )
    started_on: date = Field(..., examples=["2026-11-20"])


class EndGuardianshipIn(ReasonIn):
    ended_on: date = Field(..., examples=["2026-11-30"])


class RestrictionIn(ReasonIn):
    parent_id_number: str = Field(..., max_length=12, examples=[ID_EXAMPLE])
    decision: Text = Field(
        ..., min_length=1, max_length=80, description="Court decision number", examples=["45/2026/QĐ-TA"]
    )
    decided_on: date = Field(..., description="Date of the court decision", examples=["2026-11-15"])
    court: Text = Field(..., min_length=1, max_length=200, examples=["Tòa án nhân dân khu vực 1 – Hà Nội"])
    restricted_from: date = Field(..., examples=["2026-11-15"])
    restricted_until: date | None = Field(None, description="End of the term (exclusive); none: no end set")


class LiftIn(ReasonIn):
    decision: Text = Field(
        ...,
        min_length=1,
        max_length=80,
        description="Number of the court decision lifting it",
        examples=["03/2027/QĐ-TA"],
    )
    decided_on: date = Field(..., examples=["2027-03-01"])
    court: Text = Field(..., min_length=1, max_length=200, examples=["Tòa án nhân dân khu vực 1 – Hà Nội"])
    lifted_on: date = Field(
        ..., description="From this day the parent acts for the child again", examples=["2027-03-01"]
    )


class RecordedOut(Schema):
    id: int = Field(..., description="The guardianship's or the restriction's id")


def _record(request: HttpRequest, purpose: str, child: str) -> ChildRecordOut:
    return ChildRecordOut(**asdict(guardianship.child_record(context_from_request(request, purpose), child)))


@router.get(
    "/citizens/{id_number}/guardianship",
    response={200: ChildRecordOut, **LOOKUP_ERRORS},
    summary="A child's guardianships and restrictions of parental rights",
    description="Current and past; audited to the child and to every guardian and parent named.",
)
def child_record(request: HttpRequest, id_number: str, q: Query[RecordQuery]) -> ChildRecordOut:
    return _record(request, q.purpose, id_number)


@router.post(
    "/citizens/{id_number}/guardianships",
    response={201: RecordedOut, **CHANGE_ERRORS},
    summary="Register a guardianship of a minor",
    description=(
        "Civil Code 2015 Art. 46–62; Law on Civil Status 2014 Art. 20–23. At the commune of the "
        "child's or of the guardian's permanent residence (Art. 19). 422 rules: "
        "`started_on/minor`, `started_on/past`, `guardian_id_number/not_eligible|self`, "
        "`ward_id_number/has_guardian|deceased`; 403 `ward_id_number/jurisdiction` (neither the "
        "child's nor an eligible guardian's residence is in the officer's commune: one refusal)."
    ),
)
def record_guardianship(request: HttpRequest, id_number: str, body: GuardianshipIn) -> Status[RecordedOut]:
    view = guardianship.record_guardianship(
        context_from_request(request, body.purpose),
        id_number,
        body.guardian_id_number,
        kind=body.kind,
        started_on=body.started_on,
        record_number=body.record_number,
        reason=body.reason,
        legal_basis=body.legal_basis,
    )
    return Status(201, RecordedOut(id=view.guardianship_id))


@router.post(
    "/citizens/{id_number}/guardianships/end",
    response={200: RecordedOut, **CHANGE_ERRORS},
    summary="End the guardianship in office",
    description=(
        "Civil Code 2015 Art. 62. By the child's commune or the commune that registered it (Law on "
        "Civil Status 2014 Art. 22 cl. 1). 404 `ward_id_number/not_found`: no guardian in office; "
        "422 `ended_on/range`; 403 `ward_id_number/jurisdiction`."
    ),
)
def end_guardianship(request: HttpRequest, id_number: str, body: EndGuardianshipIn) -> RecordedOut:
    view = guardianship.end_guardianship(
        context_from_request(request, body.purpose),
        id_number,
        ended_on=body.ended_on,
        end_reason=body.reason,
        legal_basis=body.legal_basis,
    )
    return RecordedOut(id=view.guardianship_id)


@router.post(
    "/citizens/{id_number}/parental-restrictions",
    response={201: RecordedOut, **CHANGE_ERRORS},
    summary="Record a court decision restricting a parent's rights",
    description=(
        "Marriage and Family Law 2014 Art. 85–87. 422 rules: `parent_id_number/not_parent`, "
        "`restricted_until/order`, `decided_on/past`."
    ),
)
def record_restriction(request: HttpRequest, id_number: str, body: RestrictionIn) -> Status[RecordedOut]:
    pk = guardianship.record_parental_restriction(
        context_from_request(request, body.purpose),
        id_number,
        body.parent_id_number,
        decision=body.decision,
        decided_on=body.decided_on,
        court=body.court,
        restricted_from=body.restricted_from,
        restricted_until=body.restricted_until,
        reason=body.reason,
        legal_basis=body.legal_basis,
    )
    return Status(201, RecordedOut(id=pk))


@router.post(
    "/citizens/{id_number}/parental-restrictions/{restriction_id}/lift",
    response={200: RecordedOut, **CHANGE_ERRORS},
    summary="Record a court decision lifting a restriction before its term",
    description=(
        "From `lifted_on` the parent acts for the child again. 404 `restriction_id/not_found`; "
        "422 `restriction_id/lifted`, `lifted_on/range`, `lifted_on/past`."
    ),
)
def lift_restriction(
    request: HttpRequest,
    id_number: str,
    restriction_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: LiftIn,
) -> RecordedOut:
    pk = guardianship.lift_parental_restriction(
        context_from_request(request, body.purpose),
        id_number,
        restriction_id,
        lifted_on=body.lifted_on,
        decision=body.decision,
        decided_on=body.decided_on,
        court=body.court,
        reason=body.reason,
        legal_basis=body.legal_basis,
    )
    return RecordedOut(id=pk)
