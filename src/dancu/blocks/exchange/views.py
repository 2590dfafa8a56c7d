"""HTTP of the exchange: the gateway and the GovStack IM directory (plain Django views: the
gateway reads the raw body and answers with its own signed documents).

Paths (under ``/exchange/``):

* ``GET listClients`` and ``GET r1/listClients`` — GovStack IM Directory Services API
  ``listClients`` (bb-information-mediator ``api/GovStack_IM_Directory_Services_API.yaml``);
* ``GET r1/{instance}/{class}/{member}/{subsystem}/listMethods|allowedMethods|getOpenAPI`` — the
  same API's provider metaservices; the caller names itself with the header
  ``Information-Mediator-Client: INSTANCE/CLASS/MEMBER/SUBSYSTEM`` (the YAML's
  ``X-GovStack-Client`` is accepted too) and authenticates with its credential for
  ``allowedMethods``;
* ``GET|POST {instance}/{class}/{member}/{subsystem}/{service}/{path}`` (also under ``r1/``) —
  the gateway (``gateway.handle``, with the per-client rate limit of the HTTP edge).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from dancu.blocks.exchange import contract, crypto, gateway, notifications, services
from dancu.blocks.exchange.identifiers import PART, parse_client_id
from dancu.errors import DomainValidationError, NotFound
from dancu.validation import loads_json

logger = logging.getLogger(__name__)


def _problem(status: int, field: str, rule: str, message: str) -> JsonResponse:
    return JsonResponse({"detail": [{"field": field, "rule": rule, "message": message}]}, status=status)


@require_GET
def openapi(request: HttpRequest) -> HttpResponse:
    """The gateway's call contract for integrators (OpenAPI 3.1, ``contract.gateway_openapi``)."""
    return JsonResponse(
        contract.gateway_openapi(request.build_absolute_uri("/")), json_dumps_params={"ensure_ascii": False}
    )


@require_GET
def list_clients(request: HttpRequest) -> HttpResponse:
    """GovStack IM ``listClients``: members and their subsystems (``instanceId`` may only name
    this instance: federation is not offered)."""
    wanted = request.GET.get("instanceId")
    if wanted and wanted != services.instance():
        return JsonResponse({"member": []})
    return JsonResponse(services.list_clients())


def _provider(instance: str, member_class: str, member: str, subsystem: str) -> services.Subsystem | None:
    return services.find_subsystem(f"{instance}/{member_class}/{member}/{subsystem}")


def _caller_header(request: HttpRequest) -> str | None:
    return request.headers.get("Information-Mediator-Client") or request.headers.get("X-GovStack-Client")


@require_GET
def metaservice(
    request: HttpRequest, instance: str, member_class: str, member: str, subsystem: str, operation: str
) -> HttpResponse:
    """GovStack IM ``listMethods``, ``allowedMethods`` and ``getOpenAPI`` of one provider."""
    caller = _caller_header(request)
    if caller is None:
        return _problem(
            400,
            "Information-Mediator-Client",
            "header_missing",
            "name the calling client INSTANCE/CLASS/MEMBER/SUBSYSTEM",
        )
    try:
        parse_client_id(caller)
    except DomainValidationError as exc:
        return _problem(400, "Information-Mediator-Client", "client_id_format", exc.problems[0].message)
    for param in ("serviceId", "serviceCode"):
        value = request.GET.get(param, "")
        if value and not PART.match(value):
            return _problem(400, param, "identifier_part", "1–64 characters of A–Z a–z 0–9 . _ -")
    provider = _provider(instance, member_class, member, subsystem)
    if provider is None:
        return _problem(404, "provider", "unknown_provider", "no such subsystem in the directory")
    if operation == "listMethods":
        return JsonResponse(services.list_methods(provider, service_code=request.GET.get("serviceId", "")))
    if operation == "getOpenAPI":
        code = request.GET.get("serviceCode", "")
        if not code:
            return _problem(400, "serviceCode", "required", "give serviceCode")
        try:
            return JsonResponse(services.get_openapi(provider, code))
        except NotFound as exc:
            return _problem(404, exc.field, "not_found", str(exc))
    # allowedMethods: the caller must prove who it is (its grants are its own business).
    auth = request.headers.get("Authorization", "")
    scheme, _, token = auth.partition(" ")
    try:
        client = gateway.authenticate(caller, token.strip() if scheme.lower() == "bearer" else "")
    except gateway.Refusal as refusal:
        return _problem(refusal.status, refusal.field, refusal.rule, str(refusal))
    return JsonResponse(
        services.allowed_methods(provider, client, service_code=request.GET.get("serviceId", ""))
    )


@csrf_exempt  # machine clients authenticate with their credential, never with a session cookie
def exchange(
    request: HttpRequest,
    instance: str,
    member_class: str,
    member: str,
    subsystem: str,
    service: str,
    path: str = "",
) -> HttpResponse:
    """The gateway: one call through ``gateway.handle``; the body is the signed response's body,
    headers carry its hash, signature and key id."""
    try:
        declared = max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        declared = 0
    too_big = declared > settings.DANCU_EXCHANGE_MAX_BODY  # refused without reading it
    try:
        result = gateway.handle(
            gateway.ExchangeRequest(
                service_id=f"{instance}/{member_class}/{member}/{subsystem}/{service}",
                path=path,
                method=request.method or "GET",
                query=request.META.get("QUERY_STRING", ""),
                body=b"" if too_big else request.body,
                headers={k.lower(): v for k, v in request.headers.items()},
                declared_length=declared,
            ),
            rate_limit=True,
        )
    except crypto.KeyUnavailable as exc:
        # The operator rotated SECRET_KEY without re-sealing the members' keys (ADR 0010 §15):
        # nothing can be signed, so nothing was answered or logged. The integrator gets the JSON
        # error of the contract; the operator's log names the key (a subsystem, not a person).
        logger.error("exchange.key_unavailable %s", exc)
        return _problem(
            500,
            "service_id",
            "gateway_key_unavailable",
            "the gateway cannot sign this exchange: a member's signing key does not open under the "
            "platform's current secret (the operator runs `dancu exchange rewrap`); retry later "
            "under the same request id",
        )
    response = JsonResponse(result.body, status=result.status, json_dumps_params={"ensure_ascii": False})
    for name, value in result.headers.items():
        response[name] = value
    return response


def _client_of(request: HttpRequest, identifier: str) -> services.Subsystem | JsonResponse:
    """The authenticated client, which must be the subsystem named in the path."""
    caller = _caller_header(request) or ""
    if caller != identifier:
        return _problem(
            403, "Information-Mediator-Client", "not_this_client", "the path names another client"
        )
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        return gateway.authenticate(caller, token.strip() if scheme.lower() == "bearer" else "")
    except gateway.Refusal as refusal:
        return _problem(refusal.status, refusal.field, refusal.rule, str(refusal))


@csrf_exempt  # machine clients authenticate with their credential
def events(
    request: HttpRequest, instance: str, member_class: str, member: str, subsystem: str, ack: str = ""
) -> HttpResponse:
    """Change notifications by pull (``notifications.pull``): ``GET …/events`` lists the pending
    deliveries of the caller's pull subscriptions (signed bodies); ``POST …/events/ack`` with
    ``{"ids": [...]}`` acknowledges them."""
    client = _client_of(request, f"{instance}/{member_class}/{member}/{subsystem}")
    if isinstance(client, JsonResponse):
        return client
    if ack:
        if request.method != "POST":
            return _problem(405, "method", "method_not_allowed", "acknowledge with POST")
        try:
            ids = loads_json(request.body or b"{}", max_depth=2).get("ids", [])
        except (ValueError, AttributeError):
            ids = None
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            return _problem(400, "ids", "format", 'send {"ids": [delivery ids]}')
        return JsonResponse({"acknowledged": notifications.acknowledge(client, ids)})
    if request.method != "GET":
        return _problem(405, "method", "method_not_allowed", "list with GET")
    pending = notifications.pull(client)
    return JsonResponse(
        {
            "deliveries": [
                {"id": p.delivery_id, "body": p.body, "signature": p.signature, "key_id": p.key_id}
                for p in pending
            ]
        },
        json_dumps_params={"ensure_ascii": False},
    )
