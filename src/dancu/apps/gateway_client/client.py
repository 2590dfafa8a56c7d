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
construction of ADR 0010 §2 for hosted keys).
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from dancu.apps.gateway_client.models import ExchangeConnection
from dancu.blocks.exchange import gateway
from dancu.errors import NotFound

_INFO = b"dancu gateway-client credential v1"


def _key() -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        settings.SECRET_KEY.encode()
    )


def _aad(organisation_id: int, system: str, client_identifier: str) -> bytes:
    return f"{organisation_id}|{system}|{client_identifier}".encode()


def wrap(organisation_id: int, system: str, client_identifier: str, credential: str) -> str:
    nonce = os.urandom(12)
    aad = _aad(organisation_id, system, client_identifier)
    return base64.b64encode(nonce + AESGCM(_key()).encrypt(nonce, credential.encode(), aad)).decode()


def unwrap(conn: ExchangeConnection) -> str:
    raw = base64.b64decode(conn.credential_wrapped)
    aad = _aad(conn.organisation_id, conn.system, conn.client_identifier)
    return AESGCM(_key()).decrypt(raw[:12], raw[12:], aad).decode()


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
) -> Reply:
    """One call of ``{provider}/{service_code}/{path}`` through ``gateway.handle`` (the same path
    as any member's system): GET, or POST with ``body`` as JSON; for ``end_user`` and the case.
    ``provider`` overrides the connection's provider subsystem (another provider's service)."""
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
