"""HTTP API of the administrative-units block (mounted at ``/api/v1/adminunits``).

Public reference data — the current units of Resolution 202/2025/QH15, the legacy units before
01/07/2025 and the crosswalk — with no personal data, so no authentication is needed and nothing
is audited. Errors use the shared shape ``{"detail": [{"field", "rule", "message"}]}``.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema
from pydantic import ConfigDict, Field

from dancu.blocks.adminunits import services
from dancu.blocks.adminunits.catalogue import AdminUnit, catalogue

router = Router(tags=["Đơn vị hành chính / Administrative units"])


class UnitOut(Schema):
    """A province, district or ward; parent codes are "" where they do not apply."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "00103",
                    "name": "Tây Hồ",
                    "full_name": "Phường Tây Hồ",
                    "type": "ward",
                    "legacy": False,
                    "province_code": "01",
                    "district_code": "",
                }
            ]
        }
    )

    code: str
    name: str
    full_name: str
    type: str = Field(
        description="province | city; ward | commune | special_zone (current); "
        "urban_district | rural_district | town | provincial_city, ward | commune | township (legacy)"
    )
    legacy: bool = Field(description="true for the units before 01/07/2025")
    province_code: str = ""
    district_code: str = ""


class ResolvedOut(Schema):
    """An address resolved to its legacy ward (as printed on cards) and its current ward."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "Số 12 ngõ 34, Phường Quảng An, Quận Tây Hồ, Hà Nội",
                    "street": "Số 12 ngõ 34",
                    "legacy_ward_code": "00100",
                    "legacy_district_code": "003",
                    "legacy_province_code": "01",
                    "ward_code": "00103",
                    "province_code": "01",
                    "confidence": 0.6,
                    "method": "exact",
                    "current_label": "Phường Tây Hồ, Thành phố Hà Nội",
                    "legacy_label": "Phường Quảng An, Quận Tây Hồ, Thành phố Hà Nội",
                    "form": "legacy",
                    "crosswalk_basis": "heuristic",
                    "ward_candidates": ["00103", "00097"],
                }
            ]
        }
    )

    text: str
    street: str
    legacy_ward_code: str
    legacy_district_code: str
    legacy_province_code: str
    ward_code: str
    province_code: str
    confidence: float = Field(ge=0, le=1)
    method: str = Field(description="exact | folded | fuzzy")
    current_label: str
    legacy_label: str
    form: str = Field(description="legacy | current")
    crosswalk_basis: str = Field(description="current | sole | remainder | name | heuristic | none")
    ward_candidates: list[str]


class ProblemDetail(Schema):
    field: str
    rule: str
    message: str


class ProblemOut(Schema):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": [
                        {
                            "field": "address",
                            "rule": "unresolved",
                            "message": (
                                "the address resolves to no administrative unit (name the ward/commune "
                                "and the province, and for an address before 01/07/2025 the district)"
                            ),
                        }
                    ]
                }
            ]
        }
    )

    detail: list[ProblemDetail]


def _out(unit: AdminUnit) -> UnitOut:
    return UnitOut(
        code=unit.code,
        name=unit.name,
        full_name=unit.full_name,
        type=unit.type,
        legacy=unit.legacy,
        province_code=unit.province_code,
        district_code=unit.district_code,
    )


@router.get(
    "/provinces",
    response={200: list[UnitOut], 422: ProblemOut},
    summary="Provinces (current, or legacy before 01/07/2025)",
    description="The 34 current provinces (Resolution 202/2025/QH15), or with `legacy=true` the 63 before.",
)
def list_provinces(
    request: HttpRequest,
    legacy: bool = Query(False, description="the 63 provinces before 01/07/2025"),
) -> list[UnitOut]:
    return [_out(u) for u in services.provinces(legacy=legacy)]


@router.get(
    "/provinces/{code}/wards",
    response={200: list[UnitOut], 404: ProblemOut, 422: ProblemOut},
    summary="Commune-level units of a province",
    description=(
        "Current units of a current province (Hà Nội `01`: 126, Resolution 1656/NQ-UBTVQH15), or with "
        "`legacy=true` the wards before 01/07/2025 of a legacy province, with their district code."
    ),
)
def list_wards(
    request: HttpRequest,
    code: str = Path(..., description="province code, 2 digits", examples=["01"]),
    legacy: bool = Query(False, description="wards before 01/07/2025 of a legacy province"),
) -> list[UnitOut]:
    return [_out(u) for u in services.wards_of_province(code, legacy=legacy)]


@router.get(
    "/legacy-wards/{code}/crosswalk",
    response={200: list[UnitOut], 404: ProblemOut},
    summary="Current wards a legacy ward went into on 01/07/2025 (primary first)",
)
def legacy_ward_crosswalk(
    request: HttpRequest,
    code: str = Path(..., description="legacy ward code, 5 digits", examples=["00100"]),
) -> list[UnitOut]:
    wards = catalogue().wards
    return [_out(wards[c]) for c in services.crosswalk(code)]


@router.get(
    "/resolve",
    response={200: ResolvedOut, 422: ProblemOut},
    summary="Resolve a free-text address to its legacy and current ward",
    description=(
        "Reads an address as printed on cards (legacy three tiers: ward, district, province; with or "
        "without diacritics, abbreviations such as P., Q., TP, HN) or written in current units (ward, "
        "province), and returns the legacy ward and, through the crosswalk, the current ward. "
        "422 with rule `unresolved` when it names no unit."
    ),
)
def resolve(
    request: HttpRequest,
    address: str = Query(
        ...,
        description="the address text (at most 500 characters)",
        examples=[
            "Số 12 ngõ 34, Phường Quảng An, Quận Tây Hồ, Hà Nội",
            "so 12 ngo 34 p. quang an, q. tay ho, tp ha noi",
            "Phường Tây Hồ, Thành phố Hà Nội",
        ],
    ),
) -> ResolvedOut:
    resolved = services.resolve_address_or_error(address, field="address")
    return ResolvedOut(**resolved.as_dict())
