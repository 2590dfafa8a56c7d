"""Eligibility for the bank's own systems (``/api/v1/social-loans``), authenticated with the
bank's organisation API key (``Authorization: Bearer dk_…``) or an officer's session: the same
``services.decide`` as the page — yes/no, the rule-set version and each rule's outcome and reason
code; never the household's data (ADR 0015).

* ``POST /social-loans/eligibility`` ``{"id_number": "001085012345", "programme": "HN"}``
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.security import django_auth

from dancu.apps.social_loans import services
from dancu.blocks.organisations.api import ApiKeyAuth
from dancu.blocks.organisations.services import ApiClient, actor_for

router = Router(tags=["Tín dụng chính sách / Social-policy loans"], auth=[ApiKeyAuth(), django_auth])


class EligibilityIn(Schema):
    id_number: str = Field(..., min_length=12, max_length=12, examples=["001085012345"])
    programme: str = Field(..., max_length=40, examples=["HN"])


class RuleOut(Schema):
    code: str
    result: str = Field(..., description="pass, fail or unknown")
    reason: str = Field(..., description="the reason code given when the rule is not met")


class EligibilityOut(Schema):
    decision: str
    programme: str
    rule_version: int
    eligible: bool
    recipient: str = Field(..., description="the lender organisation that asked and receives this answer")
    reasons: list[RuleOut]


class Problem(Schema):
    detail: list[dict[str, str]]


@router.post(
    "/eligibility",
    response={200: EligibilityOut, 400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem},
    operation_id="social_loans_eligibility",
)
def eligibility(request: HttpRequest, body: EligibilityIn) -> Any:
    auth = getattr(request, "auth", None)
    actor = auth.actor if isinstance(auth, ApiClient) else actor_for(request.user)
    d = services.decide(actor, body.programme, body.id_number)
    reasons = [RuleOut(code=r["code"], result=r["result"], reason=r["reason"]) for r in d.reasons]
    return EligibilityOut(
        decision=d.reference,
        programme=d.programme,
        rule_version=d.rule_version,
        eligible=d.eligible,
        recipient=d.recipient,
        reasons=reasons,
    )
