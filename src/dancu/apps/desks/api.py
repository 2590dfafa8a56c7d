"""HTTP API of the desks (``/api/v1/receipts``): the public check of a signed verification receipt.

``POST /receipts/check`` — anyone holding a printed receipt (a bank, a land registry office, the
citizen) sends its reference and signature and learns whether the platform issued it and whether
it is unaltered; no log-in and no API key. On success the answer holds the receipt's signed
content — what the printed receipt shows, nothing more. The service
(``services.check_receipt_publicly``) decides; this module only translates.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.throttling import BaseThrottle

from dancu.apps.desks import services
from dancu.blocks.adminunits.api import ProblemOut
from dancu.ratelimit import RateLimited

router = Router(tags=["Biên nhận xác thực / Verification receipts"])


class _ReceiptCheckThrottle(BaseThrottle):
    """``services.limit_receipt_checks``: per client address and for everyone together."""

    def __init__(self) -> None:
        self._local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        try:
            services.limit_receipt_checks(str(request.META.get("REMOTE_ADDR", "")))
        except RateLimited as exc:
            self._local.wait = exc.retry_after
            return False
        self._local.wait = None
        return True

    def wait(self) -> float | None:
        value = getattr(self._local, "wait", None)
        return float(value) if value is not None else None


RECEIPT_ID_EXAMPLE = "5b0f5a3c-2f4e-4c53-9a4e-1b7f0d6f2c11"
SIGNATURE_EXAMPLE = "q4W0mY6b0c7o3mJ1dC6dJ3m2s0Zk8b0PqkZ7V8dF1cW9r3uVv1J0yP5vN2s6b7mQkE3g4YtR0aXc9Lw8Zr2dAA=="
CONTENT_EXAMPLE: dict[str, Any] = {
    "version": 1,
    "receipt_id": RECEIPT_ID_EXAMPLE,
    "verified_at": "2026-11-30T09:41:07.123456+07:00",
    "organisation": {"id": 12, "name": "Văn phòng công chứng Tây Hồ"},
    "verified_by": "clerk.notary",
    "purpose": "identity.verification",
    "mode": "data",
    "evidence_kind": "qr",
    "decision": "match",
    "reasons": [],
    "released": {"full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-02"},
    "act": {"reference": "CC-2026/001", "type": "sale"},
    "party_role": "Bên bán",
    "id_number": "001085012345",
}


class ReceiptCheckIn(Schema):
    receipt_id: str = Field(
        ...,
        min_length=1,
        max_length=60,
        description="The reference printed on the receipt (a UUID)",
        examples=[RECEIPT_ID_EXAMPLE],
    )
    signature: str = Field(
        ...,
        min_length=1,
        max_length=400,
        description="The Ed25519 signature printed on the receipt: base64 or base64url, padding "
        "optional, whitespace ignored",
        examples=[SIGNATURE_EXAMPLE],
    )


class ReceiptCheckOut(Schema):
    receipt_id: str = Field(..., examples=[RECEIPT_ID_EXAMPLE])
    genuine: bool = Field(..., description="issued by the platform and unaltered", examples=[True])
    rule: Literal["ok", "not_found", "unknown_key", "altered"] = Field(
        ...,
        description="ok; not_found: no receipt has this reference and this signature; unknown_key: "
        "signed with a key the platform no longer uses; altered: the stored receipt does not verify",
        examples=["ok"],
    )
    key_id: str = Field(
        ...,
        description="first 16 hex digits of the SHA-256 of the signing public key",
        examples=["9f2c41d07ab35e18"],
    )
    content: dict[str, Any] | None = Field(
        None,
        description="the signed receipt (what the printed receipt shows), only when genuine",
        examples=[CONTENT_EXAMPLE],
    )


_EXAMPLES = {
    "printed": {
        "summary": "Reference and signature as printed",
        "value": {"receipt_id": RECEIPT_ID_EXAMPLE, "signature": SIGNATURE_EXAMPLE},
    }
}


@router.post(
    "/check",
    response={200: ReceiptCheckOut, 400: ProblemOut, 422: ProblemOut, 429: ProblemOut},
    auth=None,
    throttle=[_ReceiptCheckThrottle()],
    summary="Check a printed verification receipt (public, no log-in)",
    description=(
        "Answers whether the platform issued a receipt with this reference and this signature and "
        "whether its content is unaltered (Ed25519 signature under the platform's key). genuine=false "
        "with rule not_found when the reference and the signature do not belong together. On success "
        "`content` is the signed receipt — exactly what the printed receipt shows. Errors: 400 a body "
        "that is not JSON; 422 a malformed reference or signature; 429 too many checks from this "
        "address or from everyone together (see Retry-After)."
    ),
    openapi_extra={"requestBody": {"content": {"application/json": {"examples": _EXAMPLES}}}},
)
def check_receipt(request: HttpRequest, body: ReceiptCheckIn) -> ReceiptCheckOut:
    check = services.check_receipt_publicly(body.receipt_id, body.signature)
    return ReceiptCheckOut(
        receipt_id=check.receipt_id,
        genuine=check.genuine,
        rule=check.rule,  # type: ignore[arg-type]
        key_id=check.key_id,
        content=check.content,
    )
