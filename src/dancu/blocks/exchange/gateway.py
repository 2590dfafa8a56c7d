"""The gateway (security server) of the data exchange: ``POST|GET /exchange/{service-id}/{path}``.

One call (X-Road message protocol for REST, v4.0, adapted; GovStack IM BB spec §8.1 "Service
Access"; Decree 47/2020/NĐ-CP on the management, connection and sharing of digital data of state
agencies):

1. **Headers** (each parsed strictly; a missing or malformed one is a 400 naming it):
   ``Information-Mediator-Client: INSTANCE/CLASS/MEMBER/SUBSYSTEM`` (or ``X-Road-Client``),
   ``Authorization: Bearer xk_<prefix>_<secret>`` (the subsystem's client credential),
   ``X-Request-Id`` (or ``X-Road-Id``), ``X-Purpose`` (a purpose code), ``X-End-User`` (or
   ``X-Road-UserId``: the official acting, or ``citizen:<ID number>`` for a citizen's own data,
   which needs ``X-End-User-Token``: the citizen's access token from this platform's OpenID
   provider, verified after authentication — ADR 0010 §22) and optionally ``X-Case-Reference``
   (or ``X-Road-Issue``).
2. **Authenticate** the client subsystem (401 ``unknown_client``, ``bad_credentials``,
   ``credentials_revoked``; 403 ``client_inactive``).
3. **Grant** (deny by default): an approved grant of this client for this service, in force, naming
   the purpose (403 ``no_grant``, ``grant_not_approved``, ``grant_revoked``, ``grant_expired``,
   ``grant_not_yet_valid``, ``purpose_not_granted``); fields asked for (``fields``) must be
   granted to the purpose (403 ``field_not_granted``).
4. **Idempotency** on (client, request id): the same request again gets the stored answer; the
   same id with another request is 409 ``request_id_reused``.
5. **Forward**: in-process to the registry's service function with an ``AccessContext`` whose
   actor is the client member acting for the named official (the registry records its own audit
   event on the citizen's history), or over HTTP to an external provider (``remote.forward``:
   timeout, size limit, garbage detection; its failures are logged, 502/504, and may be retried);
   **filter** the answer to the granted fields.
6. **Sign and log**: the request is signed with the client subsystem's key, the response (which
   carries the request's hash) with the provider subsystem's key; both are written to the message
   log with the registry's audit event in **one transaction** — nothing half-written. The log is
   chained and checkpointed afterwards (``evidence.seal``).

Refusals by the gateway are logged too (outcome ``refused``), signed by the gateway key — except
beyond ``DANCU_EXCHANGE_REFUSALS_LOGGED_PER_MINUTE`` a minute for refusals of callers that did not
authenticate and for rate-limit refusals: those are counted (``RefusalTally``), not logged one row
each, so that abuse cannot grow the log without bound. At the HTTP edge (``handle(...,
rate_limit=True)``) each client subsystem has a token bucket (``dancu.ratelimit``,
``DANCU_EXCHANGE_RATE_PER_MINUTE``, ``DANCU_EXCHANGE_BURST``): 429 ``rate_limited`` with
``Retry-After``.

On PostgreSQL the registry's look-up services are served by the fast path (``fast``, ADR 0010
§13: routes cached per process under a configuration version checked in each transaction, group
commits), with the same checks, answers and records as the ORM path below. The call contract for
integrators is served at ``/exchange/openapi.json`` (``contract``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from dancu.blocks.audit.context import CITIZEN_PREFIX, AccessContext, Actor, VerifiedEndUser
from dancu.blocks.audit.purposes import PURPOSES
from dancu.blocks.exchange import crypto, fast, providers, remote
from dancu.blocks.exchange.identifiers import END_USER, REQUEST_ID, parse_client_id, parse_service_id
from dancu.blocks.exchange.models import Grant, Message, MessageSubject, RefusalTally, Service, Subsystem
from dancu.blocks.exchange.services import CREDENTIAL_TAG, find_service, find_subsystem
from dancu.blocks.organisations.policy import EXCHANGE, purposes_for
from dancu.blocks.organisations.tokens import parse_token, secret_matches
from dancu.blocks.registry import pg_read
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from dancu.ratelimit import Rate, RateLimited, take
from dancu.validation import JsonInputError, loads_json

# Header aliases: the first name is GovStack IM's, then its directory YAML's and X-Road's.
HEADERS: dict[str, tuple[str, ...]] = {
    "client": ("information-mediator-client", "x-govstack-client", "x-road-client"),
    "request_id": ("x-request-id", "x-road-id"),
    "purpose": ("x-purpose",),
    "end_user": ("x-end-user", "x-road-userid"),
    "case_reference": ("x-case-reference", "x-road-issue"),
}
HEADER_NAMES = {
    "client": "Information-Mediator-Client",
    "request_id": "X-Request-Id",
    "purpose": "X-Purpose",
    "end_user": "X-End-User",
    "case_reference": "X-Case-Reference",
}
# The proof that the citizen named by ``X-End-User: citizen:<ID number>`` is present: an access
# token of this platform's OpenID provider (ADR 0010 §22). Never logged, never forwarded.
END_USER_TOKEN = "X-End-User-Token"  # noqa: S105 (a header name)
_B64TOKEN = re.compile(r"^[A-Za-z0-9._~+/-]{1,512}=*\Z")  # RFC 6750 §2.1 ``b64token``


@dataclass(frozen=True)
class ExchangeRequest:
    """What the HTTP view hands over: header names in lower case, the raw body."""

    service_id: str
    path: str
    method: str
    query: str
    body: bytes
    headers: Mapping[str, str]
    # The Content-Length the client declared: a body over the limit is refused unread.
    declared_length: int = 0
    # The citizen the platform's own code acts for (an application calling in-process for the
    # citizen signed in to it, e.g. the public-service portal): the HTTP view never sets it.
    verified_end_user: VerifiedEndUser | None = None


@dataclass(frozen=True)
class ExchangeResponse:
    status: int
    body: dict[str, Any]
    message_id: int
    request_hash: str
    response_hash: str
    signature: str
    key_id: str
    replayed: bool = False
    headers: dict[str, str] = field(default_factory=dict)


class Refusal(Exception):
    """The gateway refuses the call: HTTP ``status``, the ``field`` and ``rule`` it broke."""

    def __init__(self, status: int, field: str, rule: str, message: str) -> None:
        self.status, self.field, self.rule = status, field, rule
        super().__init__(message)


class RateLimitedRefusal(Refusal):
    """429: the client subsystem's token bucket is empty; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int, message: str) -> None:
        self.retry_after = retry_after
        super().__init__(429, "Information-Mediator-Client", "rate_limited", message)


@dataclass(frozen=True)
class ParsedHeaders:
    client: str
    request_id: str
    purpose: str
    end_user: str
    case_reference: str
    token: str


def _header(headers: Mapping[str, str], key: str) -> str | None:
    for name in HEADERS[key]:
        if name in headers:
            return headers[name]
    return None


def _printable(value: str, limit: int = 100) -> str:
    if value.isprintable():  # nearly always: no copy character by character
        return value[:limit]
    return "".join(ch for ch in value if ch.isprintable())[:limit]


def parse_headers(headers: Mapping[str, str]) -> ParsedHeaders:
    """Parse and check the gateway's headers; a :class:`Refusal` (400, or 401 for the missing
    credential) names the first header that is missing or malformed and the rule it broke."""

    def required(key: str) -> str:
        value = _header(headers, key)
        if value is None or not value.strip():
            raise Refusal(400, HEADER_NAMES[key], "header_missing", f"send the {HEADER_NAMES[key]} header")
        return value.strip()

    client = required("client")
    try:
        parse_client_id(client)
    except DomainValidationError as exc:
        raise Refusal(400, HEADER_NAMES["client"], "client_id_format", exc.problems[0].message) from None
    request_id = required("request_id")
    if not REQUEST_ID.match(request_id):
        raise Refusal(
            400, HEADER_NAMES["request_id"], "request_id_format", "1–100 characters of A–Z a–z 0–9 . _ : -"
        )
    purpose = required("purpose")
    if purpose not in PURPOSES:
        raise Refusal(
            400,
            HEADER_NAMES["purpose"],
            "unknown_purpose",
            f"unknown purpose code {_printable(purpose, 64)!r}",
        )
    end_user = required("end_user")
    if not END_USER.match(end_user):
        raise Refusal(
            400, HEADER_NAMES["end_user"], "end_user_format", "1–150 letters, digits or . @ : + - _"
        )
    case_reference = (_header(headers, "case_reference") or "").strip()
    if len(case_reference) > 100 or not all(ch.isprintable() for ch in case_reference):
        raise Refusal(
            400, HEADER_NAMES["case_reference"], "case_reference_format", "at most 100 printable characters"
        )
    auth = headers.get("authorization", "").strip()
    if not auth:
        raise Refusal(
            401, "Authorization", "header_missing", "send Authorization: Bearer xk_<prefix>_<secret>"
        )
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refusal(
            401, "Authorization", "bad_credentials", "expected Authorization: Bearer xk_<prefix>_<secret>"
        )
    return ParsedHeaders(client, request_id, purpose, end_user, case_reference, token.strip())


def authenticate(client_id: str, token: str, *, known: Subsystem | None = None) -> Subsystem:
    """The client subsystem, if the credential is its own and in force (constant-time compare).
    ``known``: the subsystem already read with the grants (the hot path's single query)."""
    sub = known if known is not None else find_subsystem(client_id)
    if sub is None:
        raise Refusal(
            401, "Information-Mediator-Client", "unknown_client", f"no subsystem {client_id} is a member"
        )
    parsed = parse_token(CREDENTIAL_TAG, token)
    if (
        parsed is None
        or sub.credential_prefix is None
        or parsed[0] != sub.credential_prefix
        or not secret_matches(sub.credential_sha256, parsed[1])
    ):
        raise Refusal(401, "Authorization", "bad_credentials", "the credential is not valid for this client")
    if sub.credential_revoked_at is not None:
        raise Refusal(401, "Authorization", "credentials_revoked", "the client's credential has been revoked")
    org = sub.member.organisation
    if not (sub.active and sub.member.active and (org is None or org.active)):
        raise Refusal(
            403,
            "Information-Mediator-Client",
            "client_inactive",
            "the client subsystem or its member is not active",
        )
    return sub


def grants_between(client_id: str, service_id: str) -> list[Grant]:
    """Every grant of this client for this service, with the client (member, organisation) and
    the service (subsystem, member): the call's one query on the hot path. Empty when there is no
    grant — or no such client or service, which the slower path then tells apart."""
    c = client_id.split("/")
    s = service_id.split("/")
    return list(
        Grant.objects.select_related("client__member__organisation", "service__subsystem__member")
        .filter(
            client__member__instance=c[0],
            client__member__member_class=c[1],
            client__member__member_code=c[2],
            client__code=c[3],
            service__subsystem__member__instance=s[0],
            service__subsystem__member__member_class=s[1],
            service__subsystem__member__member_code=s[2],
            service__subsystem__code=s[3],
            service__code=s[4],
        )
        .order_by("-id")
    )


def find_grant(client: Subsystem, service: Service, purpose: str, grants: list[Grant] | None = None) -> Grant:
    """The grant in force for this client, service and purpose, or the precise refusal."""
    now = timezone.now()
    if grants is None:
        grants = list(Grant.objects.filter(client=client, service=service).order_by("-id"))
    in_force = [
        g for g in grants if g.status == Grant.Status.APPROVED and g.valid_from <= now < g.valid_until
    ]
    for g in in_force:
        if purpose in g.purposes:
            return g
    if in_force:
        raise Refusal(403, "X-Purpose", "purpose_not_granted", f"the grant does not cover purpose {purpose}")
    statuses = {g.status for g in grants}
    if not grants:
        raise Refusal(
            403, "service_id", "no_grant", f"{client.identifier} holds no grant for {service.identifier}"
        )
    if Grant.Status.APPROVED in statuses:
        approved = [g for g in grants if g.status == Grant.Status.APPROVED]
        if all(g.valid_from > now for g in approved):
            raise Refusal(403, "service_id", "grant_not_yet_valid", "the grant is not yet in force")
        raise Refusal(403, "service_id", "grant_expired", "the grant has expired")
    if Grant.Status.REVOKED in statuses:
        raise Refusal(403, "service_id", "grant_revoked", "the grant has been revoked")
    if Grant.Status.REQUESTED in statuses:
        raise Refusal(
            403, "service_id", "grant_not_approved", "the grant request awaits the provider's approval"
        )
    raise Refusal(403, "service_id", "no_grant", "the grant request was rejected")


def _params(req: ExchangeRequest) -> tuple[dict[str, Any], str | None]:
    """The parameters (query, then the JSON object body of a POST) and the body text."""
    params: dict[str, Any] = dict(parse_qsl(req.query, keep_blank_values=True))
    text: str | None = None
    if req.body:
        try:
            text = req.body.decode("utf-8")
            body = loads_json(text)
        except UnicodeDecodeError:
            raise Refusal(400, "body", "json", "the body must be a JSON object (UTF-8)") from None
        except JsonInputError as exc:
            if exc.rule == "depth":
                raise Refusal(400, "body", "depth", f"the body must be a JSON object: {exc}") from None
            raise Refusal(400, "body", "json", "the body must be a JSON object (UTF-8)") from None
        if not isinstance(body, dict):
            raise Refusal(400, "body", "json", "the body must be a JSON object (UTF-8)")
        params.update(body)
    return params, text


def _wanted_fields(params: Mapping[str, Any]) -> list[str] | None:
    raw = params.get("fields")
    if raw is None:
        return None
    if isinstance(raw, str):
        names = [f.strip() for f in raw.split(",") if f.strip()]
    elif isinstance(raw, list) and all(isinstance(f, str) for f in raw):
        names = list(raw)
    else:
        raise Refusal(400, "fields", "format", "fields: a comma-separated list or a JSON list of names")
    if not all(name.isprintable() and len(name) <= 64 for name in names):
        # A NUL or a lone surrogate could not even be logged (PostgreSQL stores neither): refused
        # here with the rule, never echoed (ADR 0010 §19).
        raise Refusal(400, "fields", "format", "fields: names of at most 64 printable characters")
    return names


def _verified_end_user(
    req: ExchangeRequest, end_user: str, client: Subsystem, service_identifier: str
) -> VerifiedEndUser | None:
    """The citizen the client acts for, verified (ADR 0010 §22), or None for an official's name
    (free text: the client's word, recorded as before). ``X-End-User: citizen:<ID number>`` (in any
    letter case) is accepted only with proof: the platform's own in-process caller's
    ``verified_end_user`` for the same person, or ``X-End-User-Token``, an access token of this
    platform's OpenID provider that exists (not revoked), has not expired, is bound to the gateway
    (RFC 8707 §2: one of its resource indicators lies under ``DANCU_EXCHANGE_END_USER_RESOURCE``
    and is a URL prefix of it + the service's identifier, ADR 0010 §23 — a token the citizen's
    portal holds for its own API, for userinfo or for the whole host is not one to replay here), was
    issued to a relying party registered for the client's member's organisation, to the account of
    that citizen, and
    (``DANCU_EXCHANGE_END_USER_MIN_ACR``) for a relying party registered at that assurance or
    above. Checked after the client authenticated, so a caller without a credential learns nothing
    about tokens; the token is read from the database at each call (one indexed query), so a
    revocation counts at once, in every process."""
    if end_user[: len(CITIZEN_PREFIX)].lower() != CITIZEN_PREFIX:
        return None
    id_number = end_user[len(CITIZEN_PREFIX) :]
    if req.verified_end_user is not None:
        if req.verified_end_user.end_user != end_user:
            raise Refusal(
                403,
                "X-End-User",
                "end_user_token_mismatch",
                "the citizen the platform verified is not the one X-End-User names",
            )
        return req.verified_end_user
    token = (req.headers.get("x-end-user-token") or "").strip()
    if not token:
        raise Refusal(
            403,
            END_USER_TOKEN,
            "end_user_token_missing",
            "X-End-User: citizen:<ID number> needs X-End-User-Token: the citizen's access token from this "
            "platform's OpenID provider, issued to a relying party of the client's member",
        )
    if not _B64TOKEN.match(token):
        raise Refusal(
            400,
            END_USER_TOKEN,
            "end_user_token_format",
            "X-End-User-Token: an access token (RFC 6750 b64token, at most 512 characters)",
        )
    from oauth2_provider.oauth2_validators import validate_resource_as_url_prefix

    from dancu.blocks.eid import assurance
    from dancu.blocks.sso.services import token_holder

    holder = token_holder(token)
    if holder is None or holder.user_id is None:
        raise Refusal(
            403,
            END_USER_TOKEN,
            "end_user_token_invalid",
            "X-End-User-Token is not an access token this platform's OpenID provider issued to a person, "
            "or it has been revoked",
        )
    if holder.expires <= timezone.now():
        raise Refusal(
            403,
            END_USER_TOKEN,
            "end_user_token_expired",
            "the end user's access token has expired: the relying party refreshes it, "
            "or the citizen signs in again",
        )
    base = str(settings.DANCU_EXCHANGE_END_USER_RESOURCE)
    audience = f"{base}{service_identifier}"
    # Only indicators under the gateway count: one bound to the host's root (or to nothing) is as
    # good as unrestricted — valid at userinfo and at every API of the host.
    bound = [r for r in holder.resource if validate_resource_as_url_prefix(r, [base])]
    if not bound or not validate_resource_as_url_prefix(audience, bound):
        raise Refusal(
            403,
            END_USER_TOKEN,
            "end_user_token_audience",
            "the access token is not bound to this gateway: the relying party asks for it with "
            f"resource={settings.DANCU_EXCHANGE_END_USER_RESOURCE} (RFC 8707)",
        )
    org_id = client.member.organisation_id
    if org_id is None or holder.organisation_id != org_id:
        raise Refusal(
            403,
            END_USER_TOKEN,
            "end_user_token_foreign",
            "the access token was issued to a relying party that is not registered for the client's member",
        )
    if holder.id_number is None or holder.id_number != id_number:
        raise Refusal(
            403,
            END_USER_TOKEN,
            "end_user_token_mismatch",
            "the access token was issued to another person than the one X-End-User names",
        )
    required = str(settings.DANCU_EXCHANGE_END_USER_MIN_ACR)
    if required and not assurance.satisfies(holder.min_acr, [required]):
        raise Refusal(
            403,
            END_USER_TOKEN,
            "end_user_token_acr",
            f"the access token's relying party is not registered for assurance {required} or above",
        )
    return VerifiedEndUser(id_number, "oidc_access_token")


def _actor(client: Subsystem, grant: Grant, end_user: str, verified: VerifiedEndUser | None = None) -> Actor:
    """The client member acting for the named official, or for the verified citizen
    (``verified``): purposes are the grant's, within what the policy allows the member's
    organisation (role ``exchange``); jurisdiction is the organisation's."""
    m = client.member
    org = m.organisation
    allowed = frozenset(grant.purposes) & (
        purposes_for(org.kind, EXCHANGE) if org is not None else frozenset()
    )
    return Actor(
        user_id=None,
        label=f"{end_user} · {client.identifier}"[:150],
        organisation_id=org.pk if org is not None else None,
        organisation_name=m.name,
        organisation_kind=org.kind if org is not None else "",
        role=EXCHANGE,
        allowed_purposes=allowed,
        jurisdiction_province_code=(org.jurisdiction_province_code or None) if org is not None else None,
        jurisdiction_ward_code=(org.jurisdiction_ward_code or None) if org is not None else None,
        end_user=end_user,
        verified_end_user=verified,
    )


def _problem(field_name: str, rule: str, message: str) -> dict[str, Any]:
    return {"detail": [{"field": field_name, "rule": rule, "message": message}]}


@dataclass
class _Call:
    """What the checks established so far (a refusal is logged with what is known)."""

    h: ParsedHeaders | None = None
    client: Subsystem | None = None
    service: Service | None = None
    grant: Grant | None = None
    granted: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    handler: providers.Handler | None = None
    took_token: bool = False
    verified: VerifiedEndUser | None = None


def _request_doc(req: ExchangeRequest) -> dict[str, Any]:
    # Stored as sent when clean; control characters (NUL included, which PostgreSQL refuses to
    # store) are dropped from the record and the request is refused below.
    return {
        "service": _printable(req.service_id, 400),
        "path": _printable(req.path, 500),
        "method": _printable(req.method, 10),
        "query": _printable(req.query, 2000),
        "body_sha256": crypto.sha256_hex(req.body),
        "received_at": timezone.now().isoformat(),
    }


def _decide(
    req: ExchangeRequest,
    request_doc: dict[str, Any],
    call: _Call,
    *,
    rate_limit: bool,
    grants_of: Callable[[str, str], list[Grant]],
) -> None:
    """Every check of the module docstring's steps 1–3 (headers, client, grant, fields), filling
    ``call``; a :class:`Refusal` names the first rule broken. ``grants_of``: the grants of
    (client, service) — read now (ORM path) or from the fast path's cache."""
    if max(len(req.body), req.declared_length) > settings.DANCU_EXCHANGE_MAX_BODY:
        raise Refusal(413, "body", "too_large", f"the body exceeds {settings.DANCU_EXCHANGE_MAX_BODY} bytes")
    for name, value in (("service_id", req.service_id), ("path", req.path), ("query", req.query)):
        if not value.isprintable():
            raise Refusal(400, name, "control_character", f"the {name} holds a control character")
    h = call.h = parse_headers(req.headers)
    request_doc.update(
        client=h.client,
        request_id=h.request_id,
        purpose=h.purpose,
        end_user=h.end_user,
        case_reference=h.case_reference,
    )
    if req.method not in ("GET", "POST"):
        raise Refusal(405, "method", "method_not_allowed", "the gateway accepts GET and POST")
    call.params, body_text = _params(req)
    request_doc["body"] = body_text
    try:
        parse_service_id(req.service_id)
    except DomainValidationError as exc:
        service_id_problem: str | None = exc.problems[0].message
    else:
        service_id_problem = None
    grants = grants_of(h.client, req.service_id) if service_id_problem is None else []
    client = call.client = authenticate(h.client, h.token, known=grants[0].client if grants else None)
    if rate_limit:
        _take_token(client)  # a 429 leaves took_token False: the ORM path refuses it again
        call.took_token = True
    if service_id_problem is not None:
        raise Refusal(400, "service_id", "service_id_format", service_id_problem)
    service = call.service = grants[0].service if grants else find_service(req.service_id)
    if service is None or not (
        service.active and service.subsystem.active and service.subsystem.member.active
    ):
        raise Refusal(404, "service_id", "unknown_service", f"no service {req.service_id} in the catalogue")
    if req.method not in [m.strip() for m in service.methods.split(",")]:
        raise Refusal(405, "method", "method_not_allowed", f"{service.code} accepts {service.methods}")
    grant = call.grant = find_grant(client, service, h.purpose, grants if grants else None)
    if service.handler in providers.SELF_SERVICE_HANDLERS and client.identifier not in (
        settings.DANCU_EXCHANGE_SELF_SERVICE_CLIENTS
    ):
        raise Refusal(
            403,
            "Information-Mediator-Client",
            "self_service_client",
            f"{service.code} is served only to the citizen portals (DANCU_EXCHANGE_SELF_SERVICE_CLIENTS)",
        )
    call.verified = _verified_end_user(req, h.end_user, client, service.identifier)
    granted = list(grant.purposes[h.purpose])
    wanted = _wanted_fields(call.params)
    if wanted is not None:
        extra = sorted(set(wanted) - set(granted))
        if extra:
            raise Refusal(
                403,
                "fields",
                "field_not_granted",
                f"purpose {h.purpose} is not granted {_printable(', '.join(extra), 300)}",
            )
        granted = [f for f in granted if f in set(wanted)]
    call.granted = granted
    call.handler = providers.HANDLERS.get(service.handler)
    if call.handler is None and not service.endpoint_url:
        raise Refusal(501, "service_id", "no_provider", f"{service.code} has no provider configured")


def handle(req: ExchangeRequest, *, rate_limit: bool = False) -> ExchangeResponse:
    """Serve one gateway call (see the module docstring for the rules). ``rate_limit``: take a
    token from the client subsystem's bucket once it authenticated (the HTTP view does; callers
    inside the platform do not).

    On PostgreSQL, outside a caller's transaction, a registry look-up service is served by the
    fast path (``fast``, ADR 0010 §13) with the same checks, answer and records; everything else
    — refusals, replays, other providers, SQLite — by the ORM path."""
    if fast.enabled():
        answer, took_token = _handle_fast(req, rate_limit=rate_limit)
        if answer is not None:
            return answer
        rate_limit = rate_limit and not took_token
    return _handle_orm(req, rate_limit=rate_limit)


def _handle_fast(req: ExchangeRequest, *, rate_limit: bool) -> tuple[ExchangeResponse | None, bool]:
    """The fast path: decided from the cached route, run in a group transaction. None (and
    whether a rate-limit token was taken) when the ORM path must serve the call instead: a
    refusal (re-decided from fresh data and logged there), a provider other than a registry
    look-up, a route gone stale, a request id already answered."""
    request_doc = _request_doc(req)
    call = _Call()
    version = 0
    pair: tuple[str, str] | None = None
    route: fast.Route | None = None

    def cached_grants(client_id: str, service_id: str) -> list[Grant]:
        nonlocal version, pair, route
        route = fast.route(client_id, service_id, grants_between)
        version, pair = route.version, (client_id, service_id)
        return route.grants

    try:
        _decide(req, request_doc, call, rate_limit=rate_limit, grants_of=cached_grants)
    except Refusal as refusal:
        if pair is not None and refusal.status != 429:  # a rate limit says nothing of the route
            fast.forget_route(*pair)
        return None, call.took_token
    assert call.h is not None and call.client is not None and call.service is not None
    assert call.grant is not None
    entry = providers.LOOKUPS.get(call.service.handler)
    if entry is None:
        return None, call.took_token
    h, client, service, grant = call.h, call.client, call.service, call.grant
    request_bytes = crypto.canonical(request_doc)  # hashed for the fingerprint and signed below
    fingerprint = _fingerprint_of(request_bytes, request_doc)
    assert route is not None
    cached = route
    actors, actor_key = route.actors, (grant.pk, h.end_user, call.verified)
    actor = actors.get(actor_key)
    if actor is None:  # built once per grant and official while the route is cached
        actor = _actor(client, grant, h.end_user, call.verified)
        if len(actors) < 10_000:  # bounded: a route serves a system's officials
            actors[actor_key] = actor
    ctx = AccessContext(actor=actor, purpose=h.purpose, case_reference=h.case_reference)
    lookup: pg_read.Request | None = None
    error: Exception | None = None
    try:
        lookup = entry.request(ctx, call.params, req.path)
    except (NotFound, AccessDenied, DomainValidationError) as exc:  # answered and logged as the handler's
        error = exc

    only = frozenset(call.granted)

    def finish(outcome: pg_read.Outcome | None) -> fast.Row:
        def provide(c: AccessContext, params: Mapping[str, Any], path: str) -> providers.Answer:
            if error is not None:
                raise error
            assert outcome is not None
            return entry.answer(c, outcome, only)  # only the granted fields are converted

        signing = cached.signing
        if signing is None:  # the parties' columns and keys, read once per cached route
            signing = cached.signing = _signing(client, service)
        answer = _forward(provide, ctx, call.params, req.path, call.granted)
        return _logged(
            _fast_row,
            request_doc,
            fingerprint,
            answer,
            client,
            service,
            grant,
            signing=signing,
            request_bytes=request_bytes,
        )

    job = fast.submit(fast.Job(h.client, h.request_id, version, lookup, finish))
    if job.state == "done" and job.message is not None:
        return _response(job.message), call.took_token
    if job.state == "stale":
        fast.forget_routes()
    return None, call.took_token


def _handle_orm(req: ExchangeRequest, *, rate_limit: bool) -> ExchangeResponse:
    """The ORM path (every database; the reference the fast path is tested against)."""
    request_doc = _request_doc(req)
    call = _Call()
    try:
        _decide(req, request_doc, call, rate_limit=rate_limit, grants_of=grants_between)
    except Refusal as refusal:
        return _refuse_or_count(request_doc, refusal, call.h, call.client, call.service, req.headers)
    assert call.h is not None and call.client is not None and call.service is not None
    assert call.grant is not None
    h, client, service, grant, handler = call.h, call.client, call.service, call.grant, call.handler
    fingerprint = _fingerprint(request_doc)
    stored = _stored(h.client, h.request_id, fingerprint, request_doc, h, client, service)
    if stored is not None:
        return stored
    ctx = AccessContext(
        actor=_actor(client, grant, h.end_user, call.verified),
        purpose=h.purpose,
        case_reference=h.case_reference,
    )
    external = None
    if handler is None:  # an external provider: called before the log's transaction opens
        external = _call_remote(service, client, req, request_doc, h, call.granted, call.verified)
    try:
        with transaction.atomic():
            if external is not None:
                answer = external
            else:
                assert handler is not None  # checked above: no handler means an endpoint URL
                answer = _forward(handler, ctx, call.params, req.path, call.granted)
            if connection.vendor == "postgresql":
                # A registry read inside this transaction may have relaxed its commit (ADR 0005);
                # by default the message log's record is durable before the client sees the
                # answer (ADR 0010; ``DANCU_EXCHANGE_DURABLE_COMMIT``).
                mode = "on" if settings.DANCU_EXCHANGE_DURABLE_COMMIT else "off"
                with connection.cursor() as cur:
                    cur.execute(f"SET LOCAL synchronous_commit TO {mode}")
            msg = _logged(_write, request_doc, fingerprint, answer, client, service, grant)
    except IntegrityError:
        # A concurrent call with the same request id won the race: its answer is the answer.
        stored = _stored(h.client, h.request_id, fingerprint, request_doc, h, client, service)
        if stored is None:
            raise
        return stored
    return _response(msg)


def _call_remote(
    service: Service,
    client: Subsystem,
    req: ExchangeRequest,
    request_doc: dict[str, Any],
    h: ParsedHeaders,
    granted: list[str],
    verified: VerifiedEndUser | None = None,
) -> tuple[int, dict[str, Any], str, str, list[int], list[str]]:
    """Forward to an external provider (``remote.forward``) with the signed request's hash and
    signature, and filter a 2xx answer's ``data`` to the granted fields. A verified citizen end
    user is said so (``X-End-User-Verified``: the evidence); the end user's token is not passed on."""
    request_bytes = crypto.canonical(request_doc)
    signature = crypto.sign(crypto.unwrap(client.private_key_wrapped, client.identifier), request_bytes)
    result = remote.forward(
        service.endpoint_url,
        method=req.method,
        path=req.path,
        query=req.query,
        body=req.body,
        headers={
            "Information-Mediator-Client": h.client,
            "X-Request-Id": h.request_id,
            "X-Purpose": h.purpose,
            "X-End-User": h.end_user,
            **({"X-End-User-Verified": verified.evidence} if verified is not None else {}),
            "X-Case-Reference": h.case_reference,
            "X-Exchange-Service": service.identifier,
            "X-Exchange-Request-Hash": crypto.sha256_hex(request_bytes),
            "X-Exchange-Request-Signature": signature,
            "X-Exchange-Key-Id": client.key_id,
        },
        timeout=float(settings.DANCU_EXCHANGE_PROVIDER_TIMEOUT),
        max_bytes=int(settings.DANCU_EXCHANGE_MAX_BODY) * 16,
        allow_hosts=settings.DANCU_EXCHANGE_PROVIDER_HOSTS,
    )
    if result.data is None:
        return result.status, result.body, result.outcome, result.rule, [], []
    allowed = set(granted)
    data = {k: v for k, v in result.data.items() if k in allowed}
    body = {"data": data, "fields": sorted(data), "fields_withheld": sorted(set(result.data) - allowed)}
    return result.status, body, result.outcome, "", [], sorted(data)


def _fingerprint(request_doc: Mapping[str, Any]) -> str:
    """What makes two requests "the same" for idempotency: everything but the arrival time."""
    return crypto.sha256_hex(crypto.canonical({k: v for k, v in request_doc.items() if k != "received_at"}))


def _fingerprint_of(request_bytes: bytes, request_doc: Mapping[str, Any]) -> str:
    """:func:`_fingerprint` from the request's canonical bytes (``crypto.canonical(request_doc)``),
    without encoding the document a second time: the same bytes with the member
    ``"received_at":"…",`` cut out. The cut is exact: inside a JSON string every quote is escaped,
    so ``"received_at":"`` occurs only as the member itself; with keys sorted it is followed by
    ``request_id``, hence the comma. Anything else falls back to :func:`_fingerprint`."""
    member = b'"received_at":' + crypto.canonical(request_doc.get("received_at")) + b","
    if "request_id" in request_doc and request_bytes.count(member) == 1:
        return crypto.sha256_hex(request_bytes.replace(member, b"", 1))
    return _fingerprint(request_doc)


def _signing(client: Subsystem, service: Service) -> dict[str, Any]:
    """The columns and keys of an answered exchange's log row that depend only on the client and
    the service (``_signed_columns``): read once per cached route on the fast path, instead of
    through the models' relations at every exchange."""
    provider = service.subsystem
    return {
        "parties": (client.member.name, client.member_id, provider.member.name, provider.member_id),
        "request_key": crypto.unwrap(client.private_key_wrapped, client.identifier),
        "request_key_id": client.key_id,
        "response_key": crypto.unwrap(provider.private_key_wrapped, provider.identifier),
        "response_key_id": provider.key_id,
    }


def _forward(
    handler: providers.Handler, ctx: AccessContext, params: Mapping[str, Any], path: str, granted: list[str]
) -> tuple[int, dict[str, Any], str, str, list[int], list[str]]:
    """Call the provider and filter its answer to ``granted``. Provider refusals (not found,
    denied, invalid) are answers too: they are signed and logged with the registry's own audit
    event of the denial."""
    try:
        answer = handler(ctx, params, path.strip("/"))
    except NotFound as exc:
        return (
            404,
            _problem(exc.field, "not_found", str(exc)),
            Message.Outcome.PROVIDER_ERROR,
            "not_found",
            [],
            [],
        )
    except AccessDenied as exc:
        subjects = [exc.subject_id] if exc.subject_id is not None else []
        return (
            403,
            _problem(exc.field, exc.rule, str(exc)),
            Message.Outcome.PROVIDER_ERROR,
            exc.rule,
            subjects,
            [],
        )
    except DomainValidationError as exc:
        rule = exc.problems[0].rule
        return 422, {"detail": exc.as_details()}, Message.Outcome.PROVIDER_ERROR, rule, [], []
    allowed = set(granted)
    body: dict[str, Any]
    if answer.items is not None:
        shown = [f for f in granted if any(f in item for item in answer.items)]
        body = {
            "data": {"items": [{k: v for k, v in item.items() if k in allowed} for item in answer.items]},
            "fields": shown,
            "fields_withheld": sorted({k for item in answer.items for k in item} - allowed),
        }
    else:
        data = {k: v for k, v in answer.data.items() if k in allowed}
        shown = sorted(data)
        body = {
            "data": data,
            "fields": shown,
            "fields_withheld": sorted((set(answer.data) - allowed) | set(answer.withheld)),
        }
    return 200, body, Message.Outcome.OK, "", answer.subjects, shown


def _message(request_doc: dict[str, Any], fingerprint: str, **kwargs: Any) -> Message:
    """The log row: the request and the response (which carries the request's hash) signed;
    not saved (``_write`` saves it on the ORM path). ``kwargs``: those of :func:`_signed_columns`."""
    columns, _, _ = _signed_columns(request_doc, fingerprint, **kwargs)
    return Message(**columns)


def _fast_row(request_doc: dict[str, Any], fingerprint: str, **kwargs: Any) -> fast.Row:
    """The same signed log row as :func:`_message` for the fast path's group insert, with the
    canonical JSON of the two documents kept as signed (``fast.run_group`` sends those bytes as
    they are instead of encoding the documents a second time) and no model instance."""
    columns, request_bytes, response_bytes = _signed_columns(request_doc, fingerprint, **kwargs)
    return fast.Row(columns, request_bytes.decode("utf-8"), response_bytes.decode("utf-8"))


def _signed_columns(
    request_doc: dict[str, Any],
    fingerprint: str,
    *,
    status: int,
    body: dict[str, Any],
    outcome: str,
    rule: str,
    client: Subsystem | None,
    service: Service | None,
    grant: Grant | None,
    subjects: list[int],
    fields: list[str],
    request_key: Any,
    request_key_id: str,
    response_key: Any,
    response_key_id: str,
    request_bytes: bytes | None = None,
    parties: tuple[str, int | None, str, int | None] | None = None,
) -> tuple[dict[str, Any], bytes, bytes]:
    """The message-log columns of one exchange — the request document signed with
    ``request_key``, the response document (status, body, the request's hash: the binding)
    signed with ``response_key`` — and the canonical bytes of the two documents (what the
    hashes and signatures are over). ``request_bytes``: ``crypto.canonical(request_doc)`` when
    the caller has it already; ``parties``: the client's and the provider's member names and ids
    (``_signing``), otherwise read from ``client`` and ``service``."""
    if request_bytes is None:
        request_bytes = crypto.canonical(request_doc)
    if parties is None:
        parties = (
            client.member.name if client is not None else "",
            client.member_id if client is not None else None,
            service.subsystem.member.name if service is not None else "",
            service.subsystem.member_id if service is not None else None,
        )
    request_hash = crypto.sha256_hex(request_bytes)
    response_doc = {
        "request_hash": request_hash,
        "status": status,
        "body": body,
        "produced_at": timezone.now().isoformat(),
    }
    response_bytes = crypto.canonical(response_doc)
    columns = {
        "occurred_at": timezone.now(),
        "client_id": str(request_doc.get("client", ""))[:300],
        "client_name": parties[0],
        "client_member_pk": parties[1],
        "service_id": str(request_doc.get("service", ""))[:400],
        "provider_name": parties[2],
        "provider_member_pk": parties[3],
        "grant_pk": grant.pk if grant is not None else None,
        "request_id": str(request_doc.get("request_id", ""))[:100],
        "purpose": str(request_doc.get("purpose", ""))[:64],
        "end_user": str(request_doc.get("end_user", ""))[:150],
        "case_reference": str(request_doc.get("case_reference", ""))[:100],
        "outcome": outcome,
        "status": status,
        "rule": rule,
        "fingerprint": fingerprint,
        "request": request_doc,
        "request_hash": request_hash,
        "request_signature": crypto.sign(request_key, request_bytes),
        "request_key_id": request_key_id,
        "response": response_doc,
        "response_hash": crypto.sha256_hex(response_bytes),
        "response_signature": crypto.sign(response_key, response_bytes),
        "response_key_id": response_key_id,
        "fields": fields,
        "subjects": subjects,
    }
    return columns, request_bytes, response_bytes


def _logged(
    build: Callable[..., Any],
    request_doc: dict[str, Any],
    fingerprint: str,
    answer: tuple[int, dict[str, Any], str, str, list[int], list[str]],
    client: Subsystem,
    service: Service,
    grant: Grant,
    *,
    signing: Mapping[str, Any] | None = None,
    request_bytes: bytes | None = None,
) -> Any:
    """The log row of an answered exchange (``build``: ``_fast_row`` or ``_write``), the request
    signed with the client subsystem's key, the response with the provider's. ``signing``: those
    keys and the parties' columns (:func:`_signing`) when the caller has them (the fast path's
    cached route), otherwise read from ``client`` and ``service``; ``request_bytes``: as in
    :func:`_signed_columns`."""
    status, body, outcome, rule, subjects, fields = answer
    return build(
        request_doc,
        fingerprint,
        status=status,
        body=body,
        outcome=outcome,
        rule=rule,
        client=client,
        service=service,
        grant=grant,
        subjects=subjects,
        fields=fields,
        request_bytes=request_bytes,
        **(signing if signing is not None else _signing(client, service)),
    )


def _write(request_doc: dict[str, Any], fingerprint: str, **kwargs: Any) -> Message:
    """Insert the signed message (``_message``) with its subjects (the citizen tracker's index)."""
    msg = _message(request_doc, fingerprint, **kwargs)
    msg.save(force_insert=True)
    subjects = kwargs["subjects"]
    if subjects:
        MessageSubject.objects.bulk_create(
            [MessageSubject(message_id=msg.pk, citizen_id=c) for c in sorted(set(subjects))]
        )
    return msg


def _refuse(
    request_doc: dict[str, Any],
    refusal: Refusal,
    h: ParsedHeaders | None,
    client: Subsystem | None,
    service: Service | None,
    sent_headers: Mapping[str, str] | None = None,
) -> ExchangeResponse:
    """Log a refusal (signed by the gateway key, in its own transaction) and answer it."""
    if h is None:  # the headers did not parse: keep what was sent, printable and cut (evidence)
        for key in ("client", "request_id", "purpose", "end_user", "case_reference"):
            request_doc.setdefault(key, _printable(_header(sent_headers or {}, key) or "", 150))
    for key in ("client", "request_id", "purpose", "end_user", "case_reference"):
        request_doc.setdefault(key, "")
    gw = crypto.gateway_key()
    gw_id = crypto.key_id(crypto.public_raw(gw))
    with transaction.atomic():
        msg = _write(
            request_doc,
            _fingerprint(request_doc),
            status=refusal.status,
            body=_problem(refusal.field, refusal.rule, str(refusal)),
            outcome=Message.Outcome.REFUSED,
            rule=refusal.rule,
            client=client,
            service=service,
            grant=None,
            subjects=[],
            fields=[],
            request_key=gw,
            request_key_id=gw_id,
            response_key=gw,
            response_key_id=gw_id,
        )
    return _response(msg)


def _take_token(client: Subsystem) -> None:
    """One token from the client subsystem's bucket, or the 429 naming the limit."""
    per_minute = int(settings.DANCU_EXCHANGE_RATE_PER_MINUTE)
    if per_minute <= 0:
        return
    burst = int(settings.DANCU_EXCHANGE_BURST)
    try:
        take(f"exchange:{client.identifier}", Rate(per_minute, burst))
    except RateLimited as exc:
        raise RateLimitedRefusal(
            exc.retry_after,
            f"{client.identifier} exceeded its rate limit ({per_minute}/min, bursts of {burst}); "
            f"retry after {exc.retry_after} s",
        ) from None


def _this_minute() -> datetime:
    return timezone.now().replace(second=0, microsecond=0)


def _tally(rule: str, client_id: str) -> int:
    """Count one refusal in this minute's row for (rule, client); the count so far."""
    now = timezone.now()
    minute = _this_minute()
    table = connection.ops.quote_name(RefusalTally._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (minute, rule, client_id, count, last_at) VALUES (%s, %s, %s, 1, %s) "  # noqa: S608 — the table name is the model's
            f"ON CONFLICT (minute, rule, client_id) DO UPDATE SET count = {table}.count + 1, "
            "last_at = excluded.last_at RETURNING count",
            [adapt(minute), rule[:64], client_id[:300], adapt(now)],
        )
        row = cur.fetchone()
    return int(row[0]) if row else 1


def _refuse_or_count(
    request_doc: dict[str, Any],
    refusal: Refusal,
    h: ParsedHeaders | None,
    client: Subsystem | None,
    service: Service | None,
    sent_headers: Mapping[str, str] | None = None,
) -> ExchangeResponse:
    """A refusal of a caller that did not authenticate (``client`` is None) or of a rate-limited
    client is counted; the first ``DANCU_EXCHANGE_REFUSALS_LOGGED_PER_MINUTE`` of a minute (per
    rule and client) are logged in full as well, the rest answered signed but not stored. Other
    refusals (an authenticated member asking beyond its grant) are always logged."""
    limited = isinstance(refusal, RateLimitedRefusal)
    if client is not None and not limited:
        return _refuse(request_doc, refusal, h, client, service, sent_headers)
    count = _tally(refusal.rule, client.identifier if client is not None else "")
    if count <= int(settings.DANCU_EXCHANGE_REFUSALS_LOGGED_PER_MINUTE):
        answer = _refuse(request_doc, refusal, h, client, service, sent_headers)
    else:
        answer = _counted(refusal)
    if isinstance(refusal, RateLimitedRefusal):
        answer.headers["Retry-After"] = str(refusal.retry_after)
    return answer


def _counted(refusal: Refusal) -> ExchangeResponse:
    """The refusal's answer, signed by the gateway key, without a log record (it was counted)."""
    gw = crypto.gateway_key()
    gw_id = crypto.key_id(crypto.public_raw(gw))
    body = _problem(refusal.field, refusal.rule, str(refusal))
    response_doc = {"status": refusal.status, "body": body, "produced_at": timezone.now().isoformat()}
    response_bytes = crypto.canonical(response_doc)
    response_hash = crypto.sha256_hex(response_bytes)
    signature = crypto.sign(gw, response_bytes)
    return ExchangeResponse(
        status=refusal.status,
        body=body,
        message_id=0,
        request_hash="",
        response_hash=response_hash,
        signature=signature,
        key_id=gw_id,
        headers={
            "X-Exchange-Logged": "counted",
            "X-Exchange-Response-Hash": response_hash,
            "X-Exchange-Signature": signature,
            "X-Exchange-Key-Id": gw_id,
            "X-Exchange-Produced-At": str(response_doc["produced_at"]),
        },
    )


def _stored(
    client_id: str,
    request_id: str,
    fingerprint: str,
    request_doc: dict[str, Any],
    h: ParsedHeaders,
    client: Subsystem,
    service: Service,
) -> ExchangeResponse | None:
    """The stored answer to this request id (idempotency), a 409 if the id named another
    request, or None when the id is new."""
    prior = (
        Message.objects.filter(
            client_id=client_id,
            request_id=request_id,
            outcome__in=[Message.Outcome.OK, Message.Outcome.PROVIDER_ERROR],
        )
        .order_by("id")
        .first()
    )
    if prior is None:
        return None
    if prior.fingerprint != fingerprint:
        return _refuse(
            request_doc,
            Refusal(
                409,
                "X-Request-Id",
                "request_id_reused",
                f"request id {request_id} was used for another request (message {prior.pk}); "
                "a request id names one request (idempotency)",
            ),
            h,
            client,
            service,
        )
    return _response(prior, replayed=True)


def _response(msg: Message | fast.Row, *, replayed: bool = False) -> ExchangeResponse:
    body = msg.response["body"]
    return ExchangeResponse(
        status=msg.status,
        body=body,
        message_id=msg.pk,
        request_hash=msg.request_hash,
        response_hash=msg.response_hash,
        signature=msg.response_signature,
        key_id=msg.response_key_id,
        replayed=replayed,
        headers={
            "X-Exchange-Message-Id": str(msg.pk),
            "X-Exchange-Request-Hash": msg.request_hash,
            "X-Exchange-Response-Hash": msg.response_hash,
            "X-Exchange-Signature": msg.response_signature,
            "X-Exchange-Key-Id": msg.response_key_id,
            "X-Exchange-Produced-At": str(msg.response.get("produced_at", "")),
            "X-Exchange-Replayed": "true" if replayed else "false",
        },
    )
