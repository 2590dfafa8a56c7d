"""The gateway's call contract as an OpenAPI 3.1 document, served at ``/exchange/openapi.json``.

Integrators read here how to call ``/exchange/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/{SERVICE}/
{path}`` — the headers (GovStack Information Mediator BB §8.1 and the X-Road message protocol for
REST v4.0 names), the signed answer and its headers, every refusal with its HTTP status and rule —
and the GovStack IM directory services (``listClients``, ``listMethods``, ``allowedMethods``,
``getOpenAPI``: each provider service's own OpenAPI description) and the change-notification pull.
The examples are real shapes of this gateway's answers; ``tests/blocks/exchange/test_contract.py``
checks that every refusal rule the gateway raises is listed here.
"""

from __future__ import annotations

from typing import Any

from dancu.blocks.audit.purposes import PURPOSES

# Every refusal of the gateway and of the forwarding to providers: rule → (HTTP status, meaning).
REFUSALS: dict[str, tuple[int, str]] = {
    "header_missing": (400, "a required header is missing (401 for Authorization)"),
    "client_id_format": (400, "Information-Mediator-Client is not INSTANCE/CLASS/MEMBER/SUBSYSTEM"),
    "request_id_format": (400, "X-Request-Id: 1–100 characters of A–Z a–z 0–9 . _ : -"),
    "unknown_purpose": (400, "X-Purpose is not a purpose code of the platform"),
    "end_user_format": (400, "X-End-User: 1–150 letters, digits or . @ : + - _"),
    "case_reference_format": (400, "X-Case-Reference: at most 100 printable characters"),
    "end_user_token_format": (
        400,
        "X-End-User-Token: an access token (RFC 6750 b64token, at most 512 characters)",
    ),
    "control_character": (400, "the service id, path or query holds a control character"),
    "service_id_format": (400, "the service id is not INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE"),
    "json": (400, "the body must be a JSON object (UTF-8)"),
    "depth": (400, "the JSON body nests deeper than 32 arrays/objects (validation.MAX_JSON_DEPTH)"),
    "format": (
        400,
        "fields: a comma-separated list or a JSON list of names, each at most 64 printable characters",
    ),
    "bad_credentials": (401, "the bearer credential is not this client's"),
    "credentials_revoked": (401, "the client's credential has been revoked"),
    "unknown_client": (401, "no such client subsystem is a member"),
    "client_inactive": (403, "the client subsystem, its member or organisation is not active"),
    "no_grant": (403, "deny by default: the client holds no grant for the service"),
    "grant_not_approved": (403, "the grant request awaits the provider's approval"),
    "grant_revoked": (403, "the grant has been revoked"),
    "grant_expired": (403, "the grant has expired"),
    "grant_not_yet_valid": (403, "the grant is not yet in force"),
    "purpose_not_granted": (403, "the grant does not cover the purpose"),
    "field_not_granted": (403, "a field asked for is not granted to the purpose"),
    "self_service_client": (
        403,
        "a self-service service (the registry's applicant) is served only to the citizen portals "
        "(DANCU_EXCHANGE_SELF_SERVICE_CLIENTS)",
    ),
    "end_user_token_missing": (
        403,
        "X-End-User: citizen:<ID number> without X-End-User-Token — a citizen end user is proven by the "
        "citizen's access token from this platform's OpenID provider (ADR 0010 §22)",
    ),
    "end_user_token_invalid": (
        403,
        "X-End-User-Token is not an access token of this platform's OpenID provider issued to a person, "
        "or it has been revoked",
    ),
    "end_user_token_expired": (
        403,
        "X-End-User-Token has expired: refresh it, or have the citizen sign in again",
    ),
    "end_user_token_audience": (
        403,
        "X-End-User-Token is not bound to the gateway (RFC 8707 resource DANCU_EXCHANGE_END_USER_RESOURCE)",
    ),
    "end_user_token_foreign": (
        403,
        "X-End-User-Token was issued to a relying party not registered for the client's member",
    ),
    "end_user_token_mismatch": (403, "X-End-User-Token was issued to another person than X-End-User names"),
    "end_user_token_acr": (
        403,
        "X-End-User-Token's relying party is registered below DANCU_EXCHANGE_END_USER_MIN_ACR",
    ),
    "unknown_service": (404, "no such active service in the catalogue"),
    "method_not_allowed": (405, "the service does not accept this method"),
    "request_id_reused": (409, "the request id was used for another request (idempotency)"),
    "too_large": (413, "the body exceeds DANCU_EXCHANGE_MAX_BODY"),
    "rate_limited": (429, "the client's rate limit is used up; see Retry-After"),
    "no_provider": (501, "the service has no provider configured"),
    "gateway_key_unavailable": (
        500,
        "the gateway cannot sign: a member's key does not open under the platform's secret "
        "(the operator re-seals the keys: dancu exchange rewrap)",
    ),
    "provider_failed": (502, "the provider failed (5xx); retry under the same request id"),
    "provider_garbage": (502, "the provider's answer is not a JSON object, or too large"),
    "provider_redirect": (502, "the provider answered a redirect, which is never followed"),
    "provider_unreachable": (502, "the provider could not be reached"),
    "provider_address_refused": (502, "the provider's address is private and not on the operator's list"),
    "provider_timeout": (504, "the provider did not answer in time; retry under the same request id"),
}

_SERVICE = "VN-HN/GOV/CA-HN/DANCU-REGISTRY/citizen"
_CLIENT = "VN-HN/GOV/BHXH-HN/TIEPNHAN"


def _header(
    name: str, description: str, example: str, *, required: bool = True, **schema: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
        "example": example,
    }


_PROBLEM = {
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "rule", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "rule": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        }
    },
}

_SIGNED_HEADERS = {
    "X-Exchange-Message-Id": "the message log's record of this exchange",
    "X-Exchange-Request-Hash": "SHA-256 of the canonical request document (signed by the client's key)",
    "X-Exchange-Response-Hash": "SHA-256 of the canonical response document, which carries the request hash",
    "X-Exchange-Signature": "Ed25519 signature of the response document (base64) by the provider's key",
    "X-Exchange-Key-Id": "the signing key's id (first 16 hex digits of the SHA-256 of its public key)",
    "X-Exchange-Produced-At": "when the response document was produced (ISO 8601)",
    "X-Exchange-Replayed": "true when the answer is the stored one of an earlier call with this request id",
}


def _segments(*names: tuple[str, str]) -> list[dict[str, Any]]:
    """Path parameters for parts of an X-Road identifier (1–64 characters of A–Z a–z 0–9 . _ -)."""
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
            "example": example,
        }
        for name, example in names
    ]


def _refusal_examples(status: int) -> dict[str, Any]:
    return {
        rule: {
            "summary": meaning,
            "value": {"detail": [{"field": "…", "rule": rule, "message": meaning}]},
        }
        for rule, (code, meaning) in REFUSALS.items()
        if code == status or (rule == "header_missing" and status == 401)
    }


def gateway_openapi(server_url: str = "/") -> dict[str, Any]:
    """The OpenAPI 3.1 document of the gateway and its directory (see the module docstring)."""
    statuses = sorted({code for code, _ in REFUSALS.values()} | {401})
    headers = [
        _header(
            "Information-Mediator-Client",
            "The calling client subsystem (also accepted: X-GovStack-Client, X-Road-Client).",
            _CLIENT,
        ),
        _header(
            "X-Request-Id",
            "The client's id of this request (also X-Road-Id). Idempotent: the same id with the same "
            "request returns the stored answer; with another request, 409.",
            "BHXH-20261130-000042",
        ),
        _header(
            "X-Purpose",
            "The purpose of the processing; the grant must name it (Law 91/2025/QH15: purpose limitation).",
            "public_service.processing",
            enum=sorted(PURPOSES),
        ),
        _header(
            "X-End-User",
            "The official acting (also X-Road-UserId); recorded on the citizen's history. For a "
            "citizen's own data (the registry's `applicant`): `citizen:<ID number>`, which the gateway "
            "accepts only with X-End-User-Token.",
            "canbo.nguyenthimai",
        ),
        _header(
            "X-End-User-Token",
            "Required with `X-End-User: citizen:<ID number>`: the citizen's OAuth 2.0 access token from "
            "this platform's OpenID provider, issued to a relying party registered for the client's "
            "member (the token the portal received when the citizen signed in, asking for "
            "`resource=<issuer>/exchange/` — RFC 8707). Verified at every call: "
            "not revoked, not expired, bound to the gateway (or to the service called), that "
            "citizen's, that member's relying party (and at least "
            "DANCU_EXCHANGE_END_USER_MIN_ACR when set). Never logged nor forwarded to the provider.",
            "4dWq0u8V1mR7yGkP2sX9bN3cT6hJ5aLz",
            required=False,
        ),
        _header(
            "X-Case-Reference",
            "The case or dossier the call serves (also X-Road-Issue).",
            "HS-BHXH-2026-0042",
            required=False,
        ),
    ]
    answer_example = {
        "data": {
            "id_number": "001085012345",
            "full_name": "Nguyễn Văn An",
            "date_of_birth": "1985-03-02",
            "life_status": "alive",
        },
        "fields": ["date_of_birth", "full_name", "id_number", "life_status"],
        "fields_withheld": ["ethnicity", "religion", "permanent_address"],
    }
    gateway_op = {
        "tags": ["gateway"],
        "summary": "Call a service through the gateway",
        "description": (
            "The gateway authenticates the client, checks its grant for the purpose (deny by default), "
            "forwards to the provider, filters the answer to the fields granted to the purpose, signs the "
            "request (client key) and the response (provider key, bound to the request by its hash) and "
            "writes both to the message log before answering. Registry services: citizen, residence, "
            "life-status, household (path: the 12-digit ID number) and verify-identity (POST "
            "{id_number, full_name, date_of_birth}). Optional `fields` (query, or in the JSON body) "
            "narrows the answer."
        ),
        "security": [{"clientCredential": []}],
        "parameters": [
            *_segments(("instance", "VN-HN"), ("memberClass", "GOV"), ("memberCode", "CA-HN")),
            *_segments(("subsystemCode", "DANCU-REGISTRY"), ("serviceCode", "citizen")),
            {
                "name": "path",
                "in": "path",
                "required": True,
                "description": "the rest of the path, passed to the provider (e.g. the ID number)",
                "schema": {"type": "string"},
                "example": "001085012345",
            },
            {
                "name": "fields",
                "in": "query",
                "required": False,
                "description": "comma-separated fields wanted (each must be granted to the purpose)",
                "schema": {"type": "string"},
                "example": "full_name,date_of_birth",
            },
            *headers,
        ],
        "responses": {
            "200": {
                "description": "The provider's answer, filtered to the granted fields, signed and logged.",
                "headers": {
                    k: {"description": v, "schema": {"type": "string"}} for k, v in _SIGNED_HEADERS.items()
                },
                "content": {"application/json": {"example": answer_example}},
            },
            **{
                str(status): {
                    "description": "Refused (logged, or counted beyond the per-minute allowance): the rule "
                    "names what was broken.",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/Problem"},
                            "examples": _refusal_examples(status),
                        }
                    },
                }
                for status in statuses
            },
        },
    }
    post_op = {
        **gateway_op,
        "summary": "Call a service through the gateway with a JSON body",
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "example": {
                        "id_number": "001085012345",
                        "full_name": "Nguyễn Văn An",
                        "date_of_birth": "1985-03-02",
                    },
                }
            },
        },
    }
    directory_header = _header("Information-Mediator-Client", "The calling client subsystem.", _CLIENT)
    provider = _segments(
        ("instance", "VN-HN"),
        ("memberClass", "GOV"),
        ("memberCode", "CA-HN"),
        ("subsystemCode", "DANCU-REGISTRY"),
    )
    client = _segments(
        ("instance", "VN-HN"),
        ("memberClass", "GOV"),
        ("memberCode", "BHXH-HN"),
        ("subsystemCode", "TIEPNHAN"),
    )
    sub = "{instance}/{memberClass}/{memberCode}/{subsystemCode}"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Nền tảng tích hợp, chia sẻ dữ liệu (LGSP) — data exchange gateway",
            "version": "1.0",
            "description": (
                "How member systems call each other's services through the city's gateway (issue 5, "
                "ADR 0010): X-Road / GovStack Information Mediator style headers, purpose-bound grants, "
                "field filtering, Ed25519-signed request and response, an append-only message log."
            ),
        },
        "servers": [{"url": server_url}],
        "tags": [
            {"name": "gateway", "description": "Calling services"},
            {"name": "directory", "description": "GovStack IM directory services"},
            {"name": "notifications", "description": "Change notifications by pull"},
        ],
        "paths": {
            f"/exchange/{sub}/{{serviceCode}}/{{path}}": {"get": gateway_op, "post": post_op},
            "/exchange/listClients": {
                "get": {
                    "tags": ["directory"],
                    "summary": "Members and their subsystems (GovStack IM listClients)",
                    "responses": {
                        "200": {"description": "the directory", "content": {"application/json": {}}}
                    },
                }
            },
            f"/exchange/r1/{sub}/listMethods": {
                "get": {
                    "tags": ["directory"],
                    "summary": "The provider's services",
                    "parameters": [*provider, directory_header],
                    "responses": {"200": {"description": "services", "content": {"application/json": {}}}},
                }
            },
            f"/exchange/r1/{sub}/allowedMethods": {
                "get": {
                    "tags": ["directory"],
                    "summary": "The provider's services this client holds a grant for",
                    "security": [{"clientCredential": []}],
                    "parameters": [*provider, directory_header],
                    "responses": {"200": {"description": "services", "content": {"application/json": {}}}},
                }
            },
            f"/exchange/r1/{sub}/getOpenAPI": {
                "get": {
                    "tags": ["directory"],
                    "summary": "One service's own OpenAPI description",
                    "parameters": [
                        *provider,
                        directory_header,
                        {
                            "name": "serviceCode",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                            "example": "citizen",
                        },
                    ],
                    "responses": {"200": {"description": "OpenAPI", "content": {"application/json": {}}}},
                }
            },
            f"/exchange/r1/{sub}/events": {
                "get": {
                    "tags": ["notifications"],
                    "summary": "Pending change notifications of the caller's pull subscriptions (signed)",
                    "security": [{"clientCredential": []}],
                    "parameters": [*client, directory_header],
                    "responses": {
                        "200": {
                            "description": "deliveries",
                            "content": {
                                "application/json": {
                                    "example": {
                                        "deliveries": [
                                            {
                                                "id": 17,
                                                "body": {
                                                    "event_id": 9,
                                                    "kind": "citizen.died",
                                                    "service": "VN-HN/GOV/CA-HN/DANCU-REGISTRY/life-status",
                                                    "purpose": "public_service.processing",
                                                    "data": {
                                                        "change": "citizen.died",
                                                        "id_number": "001085012345",
                                                    },
                                                    "occurred_at": "2026-11-29T08:00:00+00:00",
                                                },
                                                "signature": "base64 Ed25519 signature of the canonical body",
                                                "key_id": "3f2a9c0d1e4b5a67",
                                            }
                                        ]
                                    }
                                }
                            },
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {"Problem": _PROBLEM},
            "securitySchemes": {
                "clientCredential": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The subsystem's client credential xk_<prefix>_<secret>, "
                    "issued once by its member's administrator.",
                }
            },
        },
    }
