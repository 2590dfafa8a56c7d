"""An application's client of the data-exchange gateway (ADR 0010), acting as a member's system:
the social-policy bank's credit system fetches registry facts, a sector registry verifies the
person a record names, a cleaning result is delivered to the agency that owns the file. Each call
goes through ``gateway.handle`` like any member's — authenticated with the subsystem's credential,
checked against its grant (purpose and field set), signed and logged, and recorded by the registry
on each citizen's access history — never by reading the registry's models or services directly.

The credential (``xk_<prefix>_<secret>``) is what the member's system holds to call the gateway; it
is stored wrapped with AES-256-GCM under a key derived from ``SECRET_KEY`` by HKDF-SHA256
(``info = "dancu gateway-client credential v1"``) with the organisation, system and client
identifier as associated data, so a ciphertext copied to another row does not open (the
construction of ADR 0010 §2 for hosted keys). After a ``SECRET_KEY`` rotation the credentials are
sealed again by ``dancu gateway_client rewrap --old-secret-env VAR`` (``rewrap_credentials``), run
beside ``dancu exchange rewrap``: the gateway block re-seals its subsystems' keys and, being a block,
knows nothing of applications (ADR 0015).
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction

from dancu.apps.gateway_client.models import ExchangeConnection
from dancu.blocks.audit.context import VerifiedEndUser
from dancu.blocks.exchange import gateway
from dancu.errors import DomainValidationError, NotFound

_INFO = b"dancu gateway-client credential v1"


def _key(secret: str | None = None) -> bytes:
    """The wrapping key: HKDF-SHA256 (RFC 5869) of ``secret`` (default: the current ``SECRET_KEY``)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        (settings.SECRET_KEY if secret is None else secret).encode()
    )


def _aad(organisation_id: int, system: str, client_identifier: str) -> bytes:
    return f"{organisation_id}|{system}|{client_identifier}".encode()


def wrap(organisation_id: int, system: str, client_identifier: str, credential: str) -> str:
    nonce = os.urandom(12)
    aad = _aad(organisation_id, system, client_identifier)
    return base64.b64encode(nonce + AESGCM(_key()).encrypt(nonce, credential.encode(), aad)).decode()


def unwrap(conn: ExchangeConnection, *, secret: str | None = None) -> str:
    """The credential; :class:`cryptography.exceptions.InvalidTag` when it was not wrapped for this
    row under ``secret`` (default: the current ``SECRET_KEY``)."""
    raw = base64.b64decode(conn.credential_wrapped)
    aad = _aad(conn.organisation_id, conn.system, conn.client_identifier)
    return AESGCM(_key(secret)).decrypt(raw[:12], raw[12:], aad).decode()


class CredentialUnavailable(Exception):
    """A wrapped credential opens under neither the current nor the old ``SECRET_KEY`` (the wrong
    old secret was given, or the row was altered or copied from another connection)."""


@dataclass(frozen=True)
class RewrapReport:
    """The connections (``system: client identifier``) sealed again, and those already current."""

    rewrapped: list[str]
    current: list[str]


def rewrap_credentials(old_secret: str) -> RewrapReport:
    """After ``SECRET_KEY`` rotation, seal every application's gateway credential again under the
    key derived from the new ``SECRET_KEY`` (HKDF-SHA256, AES-256-GCM with a fresh nonce, the same
    associated data). All or nothing: one transaction, rows locked; if any credential opens under
    neither secret nothing is changed and :class:`CredentialUnavailable` names it. Idempotent:
    credentials already under the new secret are left as they are."""
    if not old_secret:
        raise DomainValidationError.single(
            "old_secret", "required", "give the SECRET_KEY the credentials were sealed with"
        )
    rewrapped, current = [], []
    with transaction.atomic():
        for conn in ExchangeConnection.objects.select_for_update().order_by("pk"):
            name = f"{conn.system}: {conn.client_identifier}"
            try:
                unwrap(conn)
            except InvalidTag:
                pass
            else:
                current.append(name)
                continue
            try:
                credential = unwrap(conn, secret=old_secret)
            except InvalidTag:
                raise CredentialUnavailable(
                    f"the credential of {name} opens under neither the current nor the old SECRET_KEY"
                ) from None
            fresh = wrap(conn.organisation_id, conn.system, conn.client_identifier, credential)
            ExchangeConnection.objects.filter(pk=conn.pk).update(credential_wrapped=fresh)
            rewrapped.append(name)
    return RewrapReport(rewrapped, current)


def connect(
    organisation_id: int, system: str, *, client_identifier: str, provider_identifier: str, credential: str
) -> None:
    """Store (or replace) an organisation's gateway client for ``system`` (its administrator or
    the demo does this, with a credential issued at /exchange-admin/)."""
    ExchangeConnection.objects.update_or_create(
        organisation_id=organisation_id,
        system=system,
        defaults={
            "client_identifier": client_identifier,
            "provider_identifier": provider_identifier,
            "credential_wrapped": wrap(organisation_id, system, client_identifier, credential),
        },
    )


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    message_id: int


def call(
    organisation_id: int,
    system: str,
    service_code: str,
    path: str,
    *,
    purpose: str,
    end_user: str,
    case_reference: str,
    body: dict[str, Any] | None = None,
    provider: str | None = None,
    verified_end_user: VerifiedEndUser | None = None,
) -> Reply:
    """One call of ``{provider}/{service_code}/{path}`` through ``gateway.handle`` (the same path
    as any member's system): GET, or POST with ``body`` as JSON; for ``end_user`` and the case.
    ``provider`` overrides the connection's provider subsystem (another provider's service).
    ``verified_end_user``: the citizen signed in to the calling application, for a service of a
    citizen's own data (``end_user`` must then be ``verified_end_user.end_user``; ADR 0010 §22) —
    the platform vouches for its own session; a system outside the platform sends the citizen's
    access token instead."""
    conn = ExchangeConnection.objects.filter(organisation_id=organisation_id, system=system).first()
    if conn is None:
        raise NotFound(f"no data-exchange connection configured for {system}", field="exchange")
    response = gateway.handle(
        gateway.ExchangeRequest(
            service_id=f"{provider or conn.provider_identifier}/{service_code}",
            path=path,
            method="GET" if body is None else "POST",
            query="",
            body=b"" if body is None else json.dumps(body, ensure_ascii=False).encode(),
            verified_end_user=verified_end_user,
            headers={
                "information-mediator-client": conn.client_identifier,
                "authorization": f"Bearer {unwrap(conn)}",
                "x-request-id": str(uuid.uuid4()),
                "x-purpose": purpose,
                "x-end-user": end_user[:100],
                "x-case-reference": case_reference,
            },
        )
    )
    return Reply(response.status, response.body, response.message_id)
