"""Sector digitisation (model 35 of Project 06): a sector (labour, associations, unions) keeps its
own registry on top of the population data. The schema of each registry is data defined by the
owning organisation's administrator (``define_registry``), not code; each record names a person by
the 12-digit ID number, **verified** against the population registry through the data-exchange
gateway (``verify-identity``: yes/no on ID number + name + date of birth, purpose
``identity.verification``; ADR 0010) before it is stored, with the gateway message kept as
evidence. Records are created, read, checked for existence, updated and deleted by the owning
organisation only (its officers in the pages, its systems with its API key through the GovStack
Digital Registries data API, ``api.py``) — and, within it, only by the members whose role carries
the purpose (``records_of``; ADR 0002). Every action and every refusal is an audit event; each
action on a record is on that person's access history, naming fields, never values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from dancu.apps.gateway_client import client as gateway_client
from dancu.apps.sector.models import SectorEntry, SectorRegistry
from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.organisations.policy import INTEGRATION
from dancu.blocks.registry import subjects
from dancu.blocks.registry.idnumber import parse_id_number
from dancu.errors import AccessDenied, Conflict, DomainValidationError, FieldProblem, NotFound

SYSTEM = "sector"
PURPOSE = "data.cleaning"  # Quyết định 06/QĐ-TTg 2022: sector data on top of the population data
VERIFY_PURPOSE = "identity.verification"
TYPES = ("string", "integer", "boolean", "date", "choice")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
# The person's own fields in every registry (GovStack examples name the key ``ID``).
PERSON_FIELDS = ("ID", "FullName", "BirthDate")


def _ctx(actor: Actor) -> AccessContext:
    return AccessContext(actor, PURPOSE)


def _deny(actor: Actor, action: str, message: str, rule: str) -> AccessDenied:
    audit.record(_ctx(actor), action, result=AuditEvent.Result.DENIED, detail={"reason": rule})
    return AccessDenied(message, field="actor", rule=rule)


def _audit(
    actor: Actor, action: str, id_numbers: list[str], detail: dict[str, object], *, durable: bool = True
) -> None:
    """One event per person the action concerned, on their access history (Law 91/2025/QH15
    Art. 4: the data subject's right to know), through ``registry.subjects``; an action that
    concerned nobody the registry knows (an empty search, a miss) is one event without a subject.
    The detail names the registry, the record and the *fields*, never a person's values."""
    if not subjects.record_access(_ctx(actor), action, id_numbers, detail=detail, durable=durable):
        audit.record(_ctx(actor), action, detail=detail, durable=durable)


def validate_schema(schema: Any) -> list[dict[str, Any]]:
    """A registry schema: a non-empty list of fields ``{name, type, required, label_vi[, choices]}``,
    names unique and not one of the person's fields; problems name ``schema[i].key``."""
    if not isinstance(schema, list) or not schema:
        raise DomainValidationError.single("schema", "required", "a non-empty JSON list of fields")
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for i, f in enumerate(schema):
        at = f"schema[{i}]"
        if not isinstance(f, dict):
            problems.append(FieldProblem(at, "object", "each field is a JSON object"))
            continue
        name = f.get("name")
        if not isinstance(name, str) or not _NAME.match(name) or name in PERSON_FIELDS or name in seen:
            problems.append(FieldProblem(f"{at}.name", "name", "a unique name of letters, digits and _"))
        seen.add(str(name))
        if f.get("type") not in TYPES:
            problems.append(FieldProblem(f"{at}.type", "type", f"one of {', '.join(TYPES)}"))
        if f.get("type") == "choice" and not (isinstance(f.get("choices"), list) and f["choices"]):
            problems.append(FieldProblem(f"{at}.choices", "required", "a choice field lists its choices"))
        if not isinstance(f.get("required", False), bool):
            problems.append(FieldProblem(f"{at}.required", "boolean", "true or false"))
        if not isinstance(f.get("label_vi"), str) or not f["label_vi"].strip():
            problems.append(FieldProblem(f"{at}.label_vi", "required", "the Vietnamese label"))
    if problems:
        raise DomainValidationError(problems)
    return schema


def define_registry(
    actor: Actor, *, code: str, version: str, name_vi: str, name_en: str, schema: Any
) -> SectorRegistry:
    """A new registry (or a new version of one) of the administrator's organisation."""
    if actor.role != "admin" or actor.organisation_id is None:
        raise _deny(
            actor, "sector.define", "only an organisation's administrator defines registries", "admin"
        )
    if not re.match(r"^[A-Z][A-Z0-9_]{1,39}$", code):
        raise DomainValidationError.single("code", "format", "capitals, digits and _, e.g. LAODONG")
    if not re.match(r"^\d{1,3}\.\d{1,3}$", version):
        raise DomainValidationError.single("version", "format", "major.minor, e.g. 1.0")
    clean = validate_schema(schema)
    try:
        with transaction.atomic():
            reg = SectorRegistry.objects.create(
                code=code, version=version, name_vi=name_vi.strip()[:255], name_en=name_en.strip()[:255],
                organisation_id=actor.organisation_id, schema=clean, created_by=actor.label[:150],
            )  # fmt: skip
    except IntegrityError:
        raise Conflict(f"registry {code} {version} exists", field="version", rule="unique") from None
    audit.record(_ctx(actor), "sector.define", detail={"registry": code, "version": version})
    return reg


def registries_of(actor: Actor) -> list[SectorRegistry]:
    return list(SectorRegistry.objects.filter(organisation_id=actor.organisation_id or 0))


def registry_for(actor: Actor, code: str, version: str, action: str) -> SectorRegistry:
    """The registry, if the actor's organisation owns it; another's is refused (audited, 403)."""
    reg = SectorRegistry.objects.filter(code=code, version=version).first()
    if reg is None:
        raise NotFound(f"no registry {code} {version}", field="registryname")
    if reg.organisation_id != actor.organisation_id:
        raise _deny(actor, action, "this registry belongs to another organisation", "owner")
    return reg


def may_handle_records(actor: Actor) -> bool:
    """Members whose role carries the purpose (a department's officers: ``data.cleaning``,
    ``organisations.policy``) and the organisation's own system (its API key) act on the persons'
    records; administrators, clerks, auditors and statistics members do not (ADR 0002)."""
    return actor.may(PURPOSE) or actor.role == INTEGRATION


def records_of(actor: Actor, code: str, version: str, action: str) -> SectorRegistry:
    """The registry whose persons' records ``actor`` acts on: its organisation owns it and its role
    carries the purpose; otherwise refused (audited, 403) before any record is touched."""
    reg = registry_for(actor, code, version, action)
    if not may_handle_records(actor):
        raise _deny(
            actor, action, "your role may not handle the persons' records of this registry", "purpose"
        )
    return reg


def _value(f: dict[str, Any], raw: Any) -> Any:
    at = f"content.{f['name']}"
    kind = f["type"]
    if kind == "string" and isinstance(raw, str) and len(raw) <= 500:
        return raw.strip()
    if kind == "integer" and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if kind == "boolean" and isinstance(raw, bool):
        return raw
    if kind == "choice" and raw in f["choices"]:
        return raw
    if kind == "date" and isinstance(raw, str):
        try:
            return date.fromisoformat(raw).isoformat()
        except ValueError:
            pass
    raise DomainValidationError.single(
        at, kind, f"a {kind}" + (f": {', '.join(map(str, f['choices']))}" if kind == "choice" else "")
    )


def clean_content(reg: SectorRegistry, content: Any, *, partial: bool = False) -> dict[str, Any]:
    """The sector fields of ``content`` checked against the registry's schema (unknown fields and
    missing required ones are refused, naming the field)."""
    if not isinstance(content, dict):
        raise DomainValidationError.single("content", "object", "a JSON object")
    fields = {f["name"]: f for f in reg.schema}
    unknown = sorted(set(content) - set(fields) - set(PERSON_FIELDS))
    if unknown:
        raise DomainValidationError.single(
            f"content.{unknown[0]}", "unknown_field", f"{reg.code} has no field {unknown[0]}"
        )
    out: dict[str, Any] = {}
    for name, f in fields.items():
        if name in content and content[name] not in (None, ""):
            out[name] = _value(f, content[name])
        elif f.get("required") and not partial:
            raise DomainValidationError.single(f"content.{name}", "required", f"{f['label_vi']} is required")
    return out


def _verify(actor: Actor, reg: SectorRegistry, id_number: str, full_name: str, born: date) -> int:
    """Yes/no from the registry through the gateway; the message id on a match."""
    reply = gateway_client.call(
        actor.organisation_id or 0, SYSTEM, "verify-identity", id_number, purpose=VERIFY_PURPOSE,
        end_user=(actor.label.split(" ")[0] or "system")[:100], case_reference=f"{reg.code}/{reg.version}",
        body={"full_name": full_name, "date_of_birth": born.isoformat()},
    )  # fmt: skip
    if reply.status != 200:
        raise DomainValidationError.single(
            "content.ID", "verification_unavailable", f"the gateway answered {reply.status}"
        )
    if not reply.body.get("data", {}).get("match"):
        reasons = ", ".join(reply.body.get("data", {}).get("reasons", [])) or "no_match"
        raise DomainValidationError.single(
            "content.ID", "identity_not_verified", f"the registry does not confirm this person ({reasons})"
        )
    return reply.message_id


def _person(content: Any) -> tuple[str, str, date]:
    if not isinstance(content, dict):
        raise DomainValidationError.single("content", "object", "a JSON object")
    id_number = str(content.get("ID", "")).strip()
    parse_id_number(id_number, field="content.ID")
    name = content.get("FullName")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise DomainValidationError.single("content.FullName", "required", "the person's full name")
    try:
        born = date.fromisoformat(str(content.get("BirthDate", "")))
    except ValueError:
        raise DomainValidationError.single("content.BirthDate", "date", "YYYY-MM-DD") from None
    return id_number, name.strip(), born


@dataclass(frozen=True)
class Record:
    uuid: str
    content: dict[str, Any]
    verified_by_message: int
    updated_at: Any


def _record(e: SectorEntry) -> Record:
    person = {"ID": e.id_number, "FullName": e.full_name, "BirthDate": e.date_of_birth.isoformat()}
    return Record(str(e.uuid), {**person, **e.content}, e.verified_by_message, e.updated_at)


def create(actor: Actor, code: str, version: str, content: Any) -> Record:
    """A new record: schema checked, person verified through the gateway, then stored."""
    reg = records_of(actor, code, version, "sector.create")
    id_number, name, born = _person(content)
    fields = clean_content(reg, content)
    if SectorEntry.objects.filter(registry=reg, id_number=id_number).exists():
        raise Conflict("this person already has a record in the registry", field="content.ID", rule="exists")
    message = _verify(actor, reg, id_number, name, born)
    try:
        with transaction.atomic():
            e = SectorEntry.objects.create(
                registry=reg, id_number=id_number, full_name=name, date_of_birth=born, content=fields,
                verified_by_message=message, created_by=actor.label[:150],
            )  # fmt: skip
            _audit(
                actor,
                "sector.create",
                [id_number],
                {"registry": code, "record": str(e.uuid), "fields": sorted(fields), "message": message},
            )
    except IntegrityError:
        raise Conflict(
            "this person already has a record in the registry", field="content.ID", rule="exists"
        ) from None
    return _record(e)


def _find(reg: SectorRegistry, query: Any) -> SectorEntry | None:
    if not isinstance(query, dict) or not query:
        raise DomainValidationError.single("query.content", "required", "ID or uuid to find the record")
    qs = SectorEntry.objects.filter(registry=reg)
    if "uuid" in query:
        try:
            return qs.filter(uuid=str(query["uuid"])).first()
        except Exception:  # a malformed UUID is a validation error, not a server error
            raise DomainValidationError.single("query.content.uuid", "uuid", "a UUID") from None
    if "ID" in query:
        return qs.filter(id_number=str(query["ID"])).first()
    raise DomainValidationError.single("query.content", "required", "ID or uuid to find the record")


def read(actor: Actor, code: str, version: str, query: Any) -> Record:
    reg = records_of(actor, code, version, "sector.read")
    e = _find(reg, query)
    if e is None:
        raise NotFound("no record found", field="query")
    with transaction.atomic():
        _audit(actor, "sector.read", [e.id_number], {"registry": code, "record": str(e.uuid)}, durable=False)
    return _record(e)


def exists(actor: Actor, code: str, version: str, query: Any) -> bool:
    reg = records_of(actor, code, version, "sector.exists")
    e = _find(reg, query)
    with transaction.atomic():
        _audit(
            actor, "sector.exists", [e.id_number] if e else [], {"registry": code, "found": e is not None},
            durable=False,
        )  # fmt: skip
    return e is not None


def update(actor: Actor, code: str, version: str, query: Any, write: Any) -> Record:
    """Change sector fields of one record; the person's own fields (ID, name, date of birth) are
    the registry's and are not changed here."""
    reg = records_of(actor, code, version, "sector.update")
    if isinstance(write, dict) and set(write) & set(PERSON_FIELDS) - {"ID"}:
        raise DomainValidationError.single(
            "write.content", "person_fields", "the person's fields come from the registry"
        )
    changes = clean_content(
        reg,
        {k: v for k, v in (write or {}).items() if k != "ID"} if isinstance(write, dict) else write,
        partial=True,
    )
    with transaction.atomic():
        e = _find(reg, query)
        if e is None:
            raise NotFound("no record found", field="query")
        e = SectorEntry.objects.select_for_update().get(pk=e.pk)
        e.content = {**e.content, **changes}
        e.updated_at = timezone.now()
        e.save(update_fields=["content", "updated_at"])
        _audit(
            actor,
            "sector.update",
            [e.id_number],
            {"registry": code, "record": str(e.uuid), "fields": sorted(changes)},
        )
    return _record(e)


def delete(actor: Actor, code: str, version: str, id_number: str) -> None:
    reg = records_of(actor, code, version, "sector.delete")
    with transaction.atomic():
        e = SectorEntry.objects.filter(registry=reg, id_number=id_number).first()
        if e is None:
            raise NotFound("no record found", field="ID")
        _audit(actor, "sector.delete", [e.id_number], {"registry": code, "record": str(e.uuid)})
        e.delete()


def search(
    actor: Actor, code: str, version: str, *, text: str = "", page: int = 1, page_size: int = 20
) -> tuple[int, list[Record]]:
    reg = records_of(actor, code, version, "sector.list")
    if not 1 <= page <= 100_000:
        raise DomainValidationError.single("page", "range", "a page number from 1 to 100,000")
    if not 1 <= page_size <= 100:
        raise DomainValidationError.single("page_size", "range", "1 to 100 records a page")
    qs = SectorEntry.objects.filter(registry=reg)
    if text:
        qs = qs.filter(Q(full_name__icontains=text) | Q(id_number=text))
    total = qs.count()
    rows = [_record(e) for e in qs[(page - 1) * page_size : page * page_size]]
    with transaction.atomic():
        detail: dict[str, object] = {"registry": code, "rows": len(rows)}
        _audit(actor, "sector.list", [str(r.content["ID"]) for r in rows], detail, durable=False)
    return total, rows
