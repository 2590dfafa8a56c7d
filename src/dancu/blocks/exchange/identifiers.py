"""Identifiers of the exchange and the parsing of the gateway's request headers.

Identifiers follow the X-Road / GovStack Information Mediator form (GovStack IM BB spec 1.0,
§8.1 "Service Access": ``{instanceId}/{memberClass}/{member}/{application}/{service}``):

* a client (subsystem): ``INSTANCE/CLASS/MEMBER/SUBSYSTEM``
* a service: ``INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE``

Each part is 1–64 characters of ``A–Z a–z 0–9 . _ -``: no slash, no space, no control
character (X-Road's identifier rules forbid the separators; we take the strict subset).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dancu.errors import DomainValidationError

# A part of an identifier; never only dots ("." or ".." would make a path segment that URL
# normalisation removes, so that the service's URL named another member's service).
PART = re.compile(r"^(?!\.+$)[A-Za-z0-9._-]{1,64}$")
MEMBER_CLASSES = ("GOV", "COM", "NGO", "ORG", "EDU", "MUN")
# A request id: what the client chose to name the request by (X-Road's ``X-Road-Id``).
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
# An end user (the official acting) as the client system names them, e.g. ``VN:0012345`` or an
# e-mail-like login: printable, no separators that would confuse logs.
END_USER = re.compile(r"^[\w.@:+-]{1,150}$")


@dataclass(frozen=True)
class ClientId:
    instance: str
    member_class: str
    member_code: str
    subsystem_code: str

    def __str__(self) -> str:
        return f"{self.instance}/{self.member_class}/{self.member_code}/{self.subsystem_code}"


@dataclass(frozen=True)
class ServiceId:
    client: ClientId
    service_code: str

    def __str__(self) -> str:
        return f"{self.client}/{self.service_code}"


def check_part(field: str, value: str) -> str:
    if not PART.match(value or ""):
        raise DomainValidationError.single(
            field,
            "identifier_part",
            f"must be 1–64 characters of A–Z a–z 0–9 . _ -, not only dots (got {value[:70]!r})",
        )
    return value


def parse_client_id(value: str, *, field: str = "Information-Mediator-Client") -> ClientId:
    """``INSTANCE/CLASS/MEMBER/SUBSYSTEM`` → :class:`ClientId`, or a validation error naming
    ``field`` and the rule (``client_id_format``)."""
    parts = (value or "").split("/")
    if len(parts) != 4 or not all(PART.match(p) for p in parts):
        raise DomainValidationError.single(
            field,
            "client_id_format",
            "expected INSTANCE/CLASS/MEMBER/SUBSYSTEM, each part 1–64 characters of A–Z a–z 0–9 . _ - "
            "(not only dots)",
        )
    return ClientId(*parts)


def parse_service_id(value: str, *, field: str = "service_id") -> ServiceId:
    parts = (value or "").split("/")
    if len(parts) != 5 or not all(PART.match(p) for p in parts):
        raise DomainValidationError.single(
            field,
            "service_id_format",
            "expected INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE, each part 1–64 characters of "
            "A–Z a–z 0–9 . _ - (not only dots)",
        )
    return ServiceId(ClientId(*parts[:4]), parts[4])
