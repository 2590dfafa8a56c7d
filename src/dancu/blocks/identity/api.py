"""HTTP API of the identity block (``/api/v1/identity``): identity verification for integrators.

``POST /identity/ping`` — a connectivity check for integrators: authenticates (and is rate-limited)
exactly like ``verify`` and answers ``{"ok": true}``, recording nothing.

``POST /identity/chip-challenges`` — a one-time Active Authentication challenge (ICAO 9303 part 11
§6.1) for the organisation's next chip read; the verification that names it uses it up.

``POST /identity/verify`` — an organisation's information system (a hospital's, a hotel's, a
notary's) or a logged-in staff member checks a card QR, a chip read, an MRZ or typed card data
against the population registry. Authentication: an organisation API key
(``Authorization: Bearer dk_<prefix>_<secret>``) or the staff session. Every call names the
purpose ``identity.verification`` and a ``request_id`` (idempotent per organisation for 24 h);
calls are rate-limited per API key or staff member (token bucket; 429 with ``Retry-After``).
The service (``services.verify``) decides and records; this module only translates.
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.security import django_auth
from ninja.throttling import BaseThrottle

from dancu.blocks.adminunits.api import ProblemOut
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.identity import services
from dancu.blocks.organisations.api import ApiKeyAuth, api_client
from dancu.blocks.organisations.services import ApiClient
from dancu.blocks.registry.api import Text, context_from_request
from dancu.ratelimit import Rate, RateLimited, take

QR_EXAMPLE = (
    "001085012345|012345678|Nguyễn Văn An|02031985|Nam|"
    "Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội|01042021"
)
MRZ_EXAMPLE = "IDVNM0850123452001085012345<<<\n8503024M4503026VNM<<<<<<<<<<<7\nNGUYEN<<VAN<AN<<<<<<<<<<<<<<<<"
CHIP_EXAMPLE = {
    "sod": "d4IG3zCCBtsGCSqGSIb3DQEHAqCC…",
    "dg1": "YVtfH1oJSURWTk0wODUw…",
    "dg13": "bYIBhTCCAYEC…",
}


class _PerClientThrottle(BaseThrottle):
    """Token bucket per API key (or per staff member for session calls), in Django's cache
    (``dancu.ratelimit``): ``DANCU_API_RATE_PER_MINUTE`` a minute, bursts of ``DANCU_API_BURST``."""

    def __init__(self) -> None:
        self._local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        key = api_client(request)
        client = f"apikey:{key.key_id}" if key is not None else f"user:{request.user.pk}"
        rate = Rate(settings.DANCU_API_RATE_PER_MINUTE, settings.DANCU_API_BURST)
        try:
            take(client, rate)
        except RateLimited as exc:
            self._local.wait = exc.retry_after
            return False
        self._local.wait = None
        return True

    def wait(self) -> float | None:
        value = getattr(self._local, "wait", None)
        return float(value) if value is not None else None


router = Router(
    tags=["Xác thực danh tính / Identity verification"],
    auth=[ApiKeyAuth(), django_auth],
    throttle=[_PerClientThrottle()],
)


# --------------------------------------------------------------------------- request
class QrEvidenceIn(Schema):
    kind: Literal["qr"]
    text: str = Field(
        ...,
        min_length=1,
        max_length=4000,
        description="The card's QR text as scanned (Circular 06/2021/TT-BCA, 16/2024/TT-BCA)",
        examples=[QR_EXAMPLE],
    )


class ChipEvidenceIn(Schema):
    kind: Literal["chip"]
    files: dict[str, str] = Field(
        ...,
        max_length=17,
        description="Files read by the NFC reader, standard base64: sod (required), com, dg1–dg16 "
        "(DG1 and DG13 required). Verified by passive authentication (ICAO 9303 part 11 §5.1).",
        examples=[CHIP_EXAMPLE],
    )
    challenge_id: str = Field(
        "",
        max_length=32,
        description="To have Active Authentication enforced for a chip that offers it (its SOD lists "
        "DG15; send DG14 and DG15 too): the id of the challenge from POST /identity/chip-challenges, "
        "used once",
        examples=["9f2c4e0a7b5d4c3e8a1f6b2d0c9e7a41"],
    )
    active_auth: str = Field(
        "",
        max_length=700,
        description="The chip's answer to that challenge (INTERNAL AUTHENTICATE, ICAO 9303 part 11 "
        "§6.1), standard base64: ECDSA r ‖ s, or RSA ISO/IEC 9796-2 scheme 1",
        examples=["MEUCIQDv…"],
    )


class MrzEvidenceIn(Schema):
    kind: Literal["mrz"]
    text: str = Field(
        ...,
        min_length=1,
        max_length=400,
        description="The three 30-character lines of the card's MRZ (TD1, ICAO 9303 part 5)",
        examples=[MRZ_EXAMPLE],
    )


class TypedEvidenceIn(Schema):
    kind: Literal["typed"]
    id_number: str = Field(..., max_length=12, examples=["001085012345"])
    full_name: str = Field(..., max_length=100, examples=["Nguyễn Văn An"])
    date_of_birth: date = Field(..., examples=["1985-03-02"])
    sex: Literal["M", "F"] | None = Field(None, description="M (Nam) or F (Nữ)")
    card_issued_on: date | None = Field(
        None,
        description="The card's issue date: with it the card's status is checked",
        examples=["2021-04-01"],
    )


EvidenceIn = Annotated[
    QrEvidenceIn | ChipEvidenceIn | MrzEvidenceIn | TypedEvidenceIn, Field(discriminator="kind")
]


class VerifyIn(Schema):
    request_id: str = Field(
        ...,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Idempotency key, unique per organisation for 24 h: a retry with the same body "
        "returns the stored answer (same receipt); the same key with another body is refused (409).",
        examples=["his-bachmai-2026-000123"],
    )
    purpose: str = Field(
        "",
        max_length=64,
        description="Required: identity.verification. A request without it, or with a purpose the "
        "organisation is not granted, is refused and recorded.",
        examples=["identity.verification"],
    )
    mode: Literal["yes_no", "data"] = Field(
        "yes_no",
        description="yes_no: decision and reasons only; data: also the minimum fields the "
        "organisation's kind receives, on a match",
    )
    case_reference: Text = Field("", max_length=100, examples=["HS-KB-2026-0042"])
    evidence: EvidenceIn


# --------------------------------------------------------------------------- response
class ReasonOut(Schema):
    code: str = Field(..., examples=["card_expired"])
    message_vi: str = Field(..., examples=["Thẻ đã hết hạn sử dụng"])
    message_en: str = Field(..., examples=["The card has expired"])
    field: str = Field("", description="Evidence field or chip-verification step", examples=["card"])
    detail: str = Field("", description="Technical detail, never personal data")


class VerifyOut(Schema):
    receipt_id: str = Field(..., examples=["6f1c2a4e-2d0b-4a57-9a83-0c1f3f1f9b42"])
    verified_at: datetime
    purpose: str = Field(..., examples=["identity.verification"])
    mode: str = Field(..., examples=["yes_no"])
    evidence_kind: str = Field(..., examples=["qr"])
    decision: Literal["match", "no_match", "card_not_valid", "deceased", "invalid_evidence"] = Field(
        ..., examples=["match"]
    )
    reasons: list[ReasonOut]
    name_score: float | None = Field(
        None, description="1.0 exact; 0.95 without accents; 0.9 variant or truncated; 0.85 reordered"
    )
    data: dict[str, Any] | None = Field(
        None,
        description="data mode, on a match: exactly the organisation's fields (notary: full_name, "
        "date_of_birth, sex, permanent_address, card_number, card_issued_on; hotel: full_name, "
        "date_of_birth, sex, nationality, permanent_address; clinic: full_name, date_of_birth, sex, "
        "health_insurance_number; pawn shop, security firm, business: full_name, date_of_birth; "
        "driving school: full_name, date_of_birth, sex, face_available)",
        examples=[{"full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-02"}],
    )
    replayed: bool = Field(False, description="The stored answer to an earlier call with this request_id")


VERIFY_ERRORS: dict[int, type[Schema]] = {
    400: ProblemOut,
    401: ProblemOut,
    403: ProblemOut,
    409: ProblemOut,
    422: ProblemOut,
    429: ProblemOut,
}

_BODY_EXAMPLES = {
    "qr": {
        "summary": "Card QR, yes/no",
        "value": {
            "request_id": "his-bachmai-2026-000123",
            "purpose": "identity.verification",
            "mode": "yes_no",
            "evidence": {"kind": "qr", "text": QR_EXAMPLE},
        },
    },
    "chip": {
        "summary": "Chip read (DG files from an NFC reader), data mode",
        "value": {
            "request_id": "notary-2026-000042",
            "purpose": "identity.verification",
            "mode": "data",
            "evidence": {"kind": "chip", "files": CHIP_EXAMPLE},
        },
    },
    "mrz": {
        "summary": "MRZ of the card",
        "value": {
            "request_id": "hotel-2026-000777",
            "purpose": "identity.verification",
            "evidence": {"kind": "mrz", "text": MRZ_EXAMPLE},
        },
    },
    "typed": {
        "summary": "Typed by staff",
        "value": {
            "request_id": "pawn-2026-000005",
            "purpose": "identity.verification",
            "evidence": {
                "kind": "typed",
                "id_number": "001085012345",
                "full_name": "Nguyen Van An",
                "date_of_birth": "1985-03-02",
                "card_issued_on": "2021-04-01",
            },
        },
    },
}


class PingOut(Schema):
    ok: bool = Field(True, examples=[True])


@router.post(
    "/ping",
    response={200: PingOut, 401: ProblemOut, 429: ProblemOut},
    summary="Connectivity check for integrators",
    description=(
        "Connectivity check for integrators: authenticates (API key or staff session) and is "
        'rate-limited like /verify, and returns {"ok": true}. Reads no registry data and records '
        "nothing. Errors: 401 no or bad API key / session; 429 rate limit (see Retry-After)."
    ),
)
def ping(request: HttpRequest) -> PingOut:
    return PingOut(ok=True)


class ChipChallengeOut(Schema):
    challenge_id: str = Field(..., examples=["9f2c4e0a7b5d4c3e8a1f6b2d0c9e7a41"])
    challenge: str = Field(
        ...,
        description="8 bytes, 16 hexadecimal digits: give them to the reader",
        examples=["0123456789abcdef"],
    )
    expires_at: datetime


@router.post(
    "/chip-challenges",
    response={201: ChipChallengeOut, 401: ProblemOut, 403: ProblemOut, 422: ProblemOut, 429: ProblemOut},
    summary="A one-time Active Authentication challenge for the next chip read",
    description=(
        "Issues 8 random bytes to the caller's organisation (ICAO 9303 part 11 §6.1). The reader "
        "has the chip sign them (INTERNAL AUTHENTICATE); send the chip read to /identity/verify with "
        "this challenge_id and the answer as active_auth. Active Authentication is optional: a "
        "verification that names a challenge or sends an answer has it enforced — a chip whose SOD "
        "lists DG15 is then refused without a valid answer (reason chip_active_authentication_failed), "
        "which a clone of a genuine chip's signed files cannot give; without them, passive "
        "authentication only. "
        "A challenge is used by one verification and expires after 5 minutes. Records no personal data. "
        "Errors: 401 no or bad API key / session; 403 no organisation; 429 rate limit."
    ),
)
def chip_challenge(request: HttpRequest) -> Status:
    client = api_client(request)
    if client is not None:
        ctx = AccessContext(actor=client.actor, purpose=services.VERIFY_PURPOSE)
    else:
        ctx = context_from_request(request, services.VERIFY_PURPOSE)
    issued = services.issue_chip_challenge(ctx)
    return Status(
        201,
        ChipChallengeOut(
            challenge_id=issued.challenge_id, challenge=issued.challenge, expires_at=issued.expires_at
        ),
    )


def _context(request: HttpRequest, body: VerifyIn) -> tuple[AccessContext, ApiClient | None]:
    """An API key acts for its organisation; a staff member for theirs (``X-Organisation``)."""
    client = api_client(request)
    if client is not None:
        return AccessContext(
            actor=client.actor, purpose=body.purpose, case_reference=body.case_reference
        ), client
    return context_from_request(request, body.purpose, body.case_reference), None


def _evidence(body: EvidenceIn) -> services.Evidence:
    if isinstance(body, QrEvidenceIn):
        return services.QrEvidence(body.text)
    if isinstance(body, ChipEvidenceIn):
        return services.ChipEvidence(dict(body.files), body.challenge_id, body.active_auth)
    if isinstance(body, MrzEvidenceIn):
        return services.MrzEvidence(body.text)
    return services.TypedEvidence(
        id_number=body.id_number,
        full_name=body.full_name,
        date_of_birth=body.date_of_birth,
        sex=body.sex,
        card_issued_on=body.card_issued_on,
    )


@router.post(
    "/verify",
    response={200: VerifyOut, **VERIFY_ERRORS},
    summary="Verify an identity document against the population registry",
    description=(
        "Checks the evidence (QR cross-checks, MRZ check digits, chip passive authentication), "
        "matches it against the registry (exact, then accent-, variant- and order-insensitive name "
        "score), checks the card's status and the holder's life status, and answers with a decision, "
        "reasons and a receipt id. Every call is recorded in the audit log the citizen can read. "
        "Errors: 401 no or bad API key / session; 403 purpose not granted; 409 request_id reused "
        "with another body; 422 malformed request or missing/unknown purpose; 429 rate limit "
        "(see Retry-After)."
    ),
    openapi_extra={"requestBody": {"content": {"application/json": {"examples": _BODY_EXAMPLES}}}},
)
def verify_identity(request: HttpRequest, body: VerifyIn) -> VerifyOut:
    ctx, client = _context(request, body)
    result = services.verify(
        ctx,
        _evidence(body.evidence),
        mode=body.mode,
        request_id=body.request_id,
        api_key_id=client.key_id if client is not None else None,
    )
    return VerifyOut(
        receipt_id=result.receipt_id,
        verified_at=result.verified_at,
        purpose=result.purpose,
        mode=result.mode,
        evidence_kind=result.evidence_kind,
        decision=result.decision,  # type: ignore[arg-type]
        reasons=[ReasonOut(**vars(r)) for r in result.reasons],
        name_score=result.name_score,
        data=result.data,
        replayed=result.replayed,
    )
