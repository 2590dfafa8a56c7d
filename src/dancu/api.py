"""The JSON API (django-ninja, OpenAPI 3 at ``/api/v1/openapi.json``, docs at ``/api/v1/docs``).

Each block contributes a router from its own ``api`` module; errors share one shape:
``{"detail": [{"field": ..., "rule": ..., "message": ...}]}`` with an HTTP 4xx status.
"""

from __future__ import annotations

import math

from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from dancu.apps.desks.api import router as receipts_router
from dancu.apps.public_services.api import router as public_services_router
from dancu.apps.residence.api import router as residence_router
from dancu.apps.sector.api import router as sector_router
from dancu.apps.social_loans.api import router as social_loans_router
from dancu.blocks.adminunits.api import router as adminunits_router
from dancu.blocks.alerts.api import router as alerts_router
from dancu.blocks.audit.api import router as audit_router
from dancu.blocks.identity.api import router as identity_router
from dancu.blocks.registry.api import router as registry_router
from dancu.blocks.registry.guardianship_api import router as guardianship_router
from dancu.errors import AccessDenied, Conflict, DomainValidationError, NotFound

api = NinjaAPI(
    title="dancu API",
    version="1",
    description=(
        "Population registry and shared services for the Project 06 pilot models (Đề án 06). "
        "Every read of personal data needs a purpose code and is recorded in the audit log, "
        "which the citizen can see."
    ),
    urls_namespace="api-v1",
)


def _problem(request: HttpRequest, status: int, details: list[dict[str, str]]) -> HttpResponse:
    return api.create_response(request, {"detail": details}, status=status)


@api.exception_handler(DomainValidationError)
def _domain_invalid(request: HttpRequest, exc: DomainValidationError) -> HttpResponse:
    return _problem(request, 422, exc.as_details())


@api.exception_handler(ValidationError)
def _schema_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = []
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", []) if part not in ("body", "query", "path", "payload")]
        details.append(
            {
                "field": ".".join(loc) or "request",
                "rule": str(err.get("type", "invalid")),
                "message": err.get("msg", ""),
            }
        )
    return _problem(request, 422, details)


@api.exception_handler(AccessDenied)
def _denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    return _problem(request, 403, [{"field": exc.field, "rule": exc.rule, "message": str(exc)}])


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    """No credentials (rule ``required``), or an API key that was refused (``invalid``,
    ``revoked``, ``organisation_inactive``: see ``organisations.api.ApiKeyAuth``)."""
    rule = getattr(exc, "rule", "required")
    message = (
        str(exc)
        if rule != "required"
        else "Log in first (or send an API key where the operation accepts one)."
    )
    response = _problem(request, 401, [{"field": "authorization", "rule": rule, "message": message}])
    response["WWW-Authenticate"] = 'Bearer realm="dancu"'
    return response


@api.exception_handler(Conflict)
def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    return _problem(request, 409, [{"field": exc.field, "rule": exc.rule, "message": str(exc)}])


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """django-ninja's own refusals (a POST without a CSRF token: 403; a body that is not JSON: 400),
    which it would otherwise answer as ``{"detail": "<text>"}``."""
    if exc.status_code == 403 and "CSRF" in str(exc):
        field, rule, message = "X-CSRFToken", "csrf", "Send the csrftoken cookie and the X-CSRFToken header."
    elif isinstance(exc, Throttled):  # ninja adds the Retry-After header (whole seconds)
        wait = f" Retry after {math.ceil(exc.wait)} s." if exc.wait is not None else ""
        field, rule, message = "request", "rate_limit", f"Too many requests.{wait}"
    else:
        field, rule, message = "request", "invalid", str(exc)
    return _problem(request, exc.status_code, [{"field": field, "rule": rule, "message": message}])


@api.exception_handler(MultiPartParserError)
def _unreadable_form(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    """A POST declared as multipart/form-data that is not (the CSRF check reads the form), which
    Django would otherwise answer with its HTML 400 page."""
    return _problem(request, 400, [{"field": "request", "rule": "invalid", "message": str(exc)}])


@api.exception_handler(NotFound)
def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return _problem(request, 404, [{"field": exc.field, "rule": "not_found", "message": str(exc)}])


api.add_router("/adminunits", adminunits_router)
api.add_router("/registry", registry_router)
api.add_router("/registry", guardianship_router)
api.add_router("/audit", audit_router)
api.add_router("/identity", identity_router)
api.add_router("/alerts", alerts_router)
api.add_router("/receipts", receipts_router)
api.add_router("/residence", residence_router)
api.add_router("/public-services", public_services_router)
api.add_router("/sector", sector_router)
api.add_router("/social-loans", social_loans_router)
