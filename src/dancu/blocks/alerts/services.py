"""The police alert list: entries placed by police units, screened on every successful verification.

Issue 3, model 16: a business with security and order conditions (pawn shop, security firm, …)
verifies its customers; the platform flags persons on a police alert list, and the hit is visible
only to the police (Decree 96/2016/NĐ-CP Art. 25–26: these businesses report to the police; Law on
People's Police 2014 Art. 16: the police's tasks of preventing and detecting crime, searching for
wanted and missing persons). The decisions are in ADR 0007:

* **Who manages the list.** Staff of a police unit (organisation kinds ``police_city`` and
  ``police_commune``) with purpose ``security.investigation``. Any police unit may add an entry on
  a citizen it may look up in the registry — its jurisdiction: the city police the whole city, a
  ward unit its ward's residents (the look-up is ``registry.get_by_id_number``, audited as any
  police look-up). The issuing unit and the city police may close an entry.
* **Screening.** ``identity.services.verify`` calls :func:`screen` after each ``match``. It records
  an :class:`AlertHit` for each entry in force and returns nothing: the establishment's answer is
  byte-for-byte the same whether or not the person is listed, and a failure to record a hit is
  logged, never raised.
* **Visibility.** The city police see every hit and every entry; a ward unit sees the hits at
  establishments in its ward and the hits on its own entries, and its own entries.
* **Audit.** Every call records an event (``alerts.add``, ``alerts.close``, ``alerts.list``,
  ``alerts.hits``, ``alerts.seen``; denials too). A hit is recorded as ``alerts.hit`` in the name
  of the unit that owns the entry (purpose ``security.alert_screening``), not of the establishment.
  Events whose action starts with ``alerts.`` are kept in the sealed chain but out of the citizen's
  own access log (``audit.services.WITHHELD_FROM_SUBJECT_PREFIXES``; Decree 13/2023/NĐ-CP Art. 17).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from dancu.blocks.alerts.models import AlertEntry, AlertHit
from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.audit.purposes import get_purpose
from dancu.blocks.organisations.models import Organisation
from dancu.blocks.registry import services as registry
from dancu.errors import AccessDenied, DomainValidationError, FieldProblem, NotFound
from dancu.validation import text_problems

logger = logging.getLogger(__name__)

PURPOSE = "security.investigation"
SCREEN_PURPOSE = "security.alert_screening"
POLICE_KINDS = frozenset({Organisation.Kind.POLICE_CITY.value, Organisation.Kind.POLICE_COMMUNE.value})
CITY_POLICE = Organisation.Kind.POLICE_CITY.value
KINDS = tuple(AlertEntry.Kind.values)
LIST_LIMIT = 200


# --------------------------------------------------------------------------- DTOs
@dataclass(frozen=True)
class AlertView:
    entry_id: int
    subject_citizen_id: int
    subject_id_number: str
    kind: str
    issuing_organisation_id: int
    issuing_organisation_name: str
    reference: str
    legal_basis: str
    valid_from: datetime
    valid_until: datetime | None
    active: bool
    created_by: str
    created_at: datetime
    closed_at: datetime | None
    closed_by: str
    close_reason: str


@dataclass(frozen=True)
class HitView:
    hit_id: int
    occurred_at: datetime
    entry_id: int
    kind: str
    reference: str
    issuing_organisation_name: str
    subject_citizen_id: int
    subject_id_number: str
    where_organisation_id: int | None
    where_organisation_name: str
    where_organisation_kind: str
    where_ward_code: str
    event: str
    receipt_id: str
    seen_by: str
    seen_at: datetime | None


def _alert_view(e: AlertEntry) -> AlertView:
    return AlertView(
        entry_id=e.pk,
        subject_citizen_id=e.subject_citizen_id,
        subject_id_number=e.subject_id_number,
        kind=e.kind,
        issuing_organisation_id=e.issuing_organisation_id,
        issuing_organisation_name=e.issuing_organisation_name,
        reference=e.reference,
        legal_basis=e.legal_basis,
        valid_from=e.valid_from,
        valid_until=e.valid_until,
        active=e.active,
        created_by=e.created_by,
        created_at=e.created_at,
        closed_at=e.closed_at,
        closed_by=e.closed_by,
        close_reason=e.close_reason,
    )


def _hit_view(h: AlertHit) -> HitView:
    e = h.entry
    return HitView(
        hit_id=h.pk,
        occurred_at=h.occurred_at,
        entry_id=e.pk,
        kind=e.kind,
        reference=e.reference,
        issuing_organisation_name=e.issuing_organisation_name,
        subject_citizen_id=h.subject_citizen_id,
        subject_id_number=e.subject_id_number,
        where_organisation_id=h.where_organisation_id,
        where_organisation_name=h.where_organisation_name,
        where_organisation_kind=h.where_organisation_kind,
        where_ward_code=h.where_ward_code,
        event=h.event,
        receipt_id=h.receipt_id,
        seen_by=h.seen_by,
        seen_at=h.seen_at,
    )


# --------------------------------------------------------------------------- access
def may_manage(actor: Actor) -> bool:
    """Whether this actor may use the alert list at all (for showing a link; the services decide)."""
    return (
        actor.organisation_kind in POLICE_KINDS and actor.organisation_id is not None and actor.may(PURPOSE)
    )


def _authorise(ctx: AccessContext, action: str, detail: dict[str, object] | None = None) -> None:
    """Deny (and audit the denial) unless the purpose is ``security.investigation``, the actor may
    use it, and acts for a police unit. An unknown purpose code is a validation error (422)."""
    get_purpose(ctx.purpose)
    if ctx.purpose != PURPOSE:
        rule, message = "purpose", f"purpose {ctx.purpose!r} does not allow {action}; use {PURPOSE}"
    elif not ctx.actor.may(ctx.purpose):
        rule, message = "policy", f"your organisation or role may not use purpose {PURPOSE!r}"
    elif ctx.actor.organisation_kind not in POLICE_KINDS or ctx.actor.organisation_id is None:
        rule, message = "police_only", "only police units manage and see the alert list"
    else:
        return
    audit.record(ctx, action, result=AuditEvent.Result.DENIED, detail={**(detail or {}), "reason": rule})
    raise AccessDenied(message, field="purpose" if rule != "police_only" else "organisation", rule=rule)


def _is_city_police(actor: Actor) -> bool:
    return actor.organisation_kind == CITY_POLICE


def _visible_entries(actor: Actor) -> QuerySet[AlertEntry]:
    if _is_city_police(actor):
        return AlertEntry.objects.all()
    return AlertEntry.objects.filter(issuing_organisation_id=actor.organisation_id or 0)


def _visible_hits(actor: Actor) -> QuerySet[AlertHit]:
    """City police: every hit. A ward unit: hits at establishments in its ward, and hits on its
    own entries wherever they happened."""
    hits = AlertHit.objects.select_related("entry")
    if _is_city_police(actor):
        return hits
    own = Q(entry__issuing_organisation_id=actor.organisation_id)
    if actor.jurisdiction_ward_code:
        own |= Q(where_ward_code=actor.jurisdiction_ward_code)
    return hits.filter(own)


# --------------------------------------------------------------------------- the list
def _check_entry(
    kind: str, reference: str, legal_basis: str, valid_from: datetime, valid_until: datetime | None
) -> None:
    problems: list[FieldProblem] = []
    if kind not in KINDS:
        problems.append(FieldProblem("kind", "choice", f"must be one of {', '.join(KINDS)}"))
    problems += text_problems("reference", reference, max_length=100, required=True)
    problems += text_problems("legal_basis", legal_basis, max_length=255, required=True)
    for name, moment in (("valid_from", valid_from), ("valid_until", valid_until)):
        if moment is not None and (not isinstance(moment, datetime) or timezone.is_naive(moment)):
            problems.append(FieldProblem(name, "timezone", "must be a timezone-aware date and time"))
    if not problems and valid_until is not None and valid_until <= valid_from:
        problems.append(FieldProblem("valid_until", "after_valid_from", "must be later than valid_from"))
    if problems:
        raise DomainValidationError(problems)


def add_alert(
    ctx: AccessContext,
    id_number: str,
    *,
    kind: str,
    reference: str,
    legal_basis: str,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> AlertView:
    """Place the citizen holding ``id_number`` on the alert list of the actor's police unit.

    Purpose ``security.investigation``, police units only (Law on People's Police 2014 Art. 16).
    ``reference`` is the case file or decision number and ``legal_basis`` the provision it rests
    on; both are required. The citizen is looked up with ``registry.get_by_id_number`` — so within
    the unit's jurisdiction, and audited like any police look-up. Raises ``AccessDenied`` (audited),
    ``DomainValidationError`` and ``NotFound``. Records ``alerts.add``.
    """
    _authorise(ctx, "alerts.add")
    moment = timezone.now()
    start = valid_from or moment
    _check_entry(kind, reference, legal_basis, start, valid_until)
    citizen = registry.get_by_id_number(ctx, id_number)
    with transaction.atomic():
        entry = AlertEntry.objects.create(
            subject_citizen_id=citizen.citizen_id,
            subject_id_number=citizen.id_number,
            kind=kind,
            issuing_organisation_id=ctx.actor.organisation_id or 0,  # set: checked by _authorise
            issuing_organisation_name=ctx.actor.organisation_name,
            reference=reference.strip(),
            legal_basis=legal_basis.strip(),
            valid_from=start,
            valid_until=valid_until,
            created_by=ctx.actor.label,
        )
        audit.record(
            ctx, "alerts.add", subject_citizen_id=citizen.citizen_id, detail={"entry": entry.pk, "kind": kind}
        )
    return _alert_view(entry)


def close_alert(ctx: AccessContext, entry_id: int, *, reason: str) -> AlertView:
    """Close an entry (the person was found, the decision lifted…): screening stops at once.

    The unit that issued the entry may close it, and the city police may close any. Raises
    ``AccessDenied`` (audited), ``NotFound`` (audited: no such entry, or another unit's entry that
    a ward unit may not see — its existence is not revealed) and ``DomainValidationError`` (no
    reason; already closed). Records ``alerts.close``.
    """
    _authorise(ctx, "alerts.close", {"entry": entry_id})
    problems = text_problems("reason", reason, max_length=500, required=True)
    if problems:
        raise DomainValidationError(problems)
    if not _visible_entries(ctx.actor).filter(pk=entry_id).exists():
        # Recorded outside the transaction, so that the miss survives the exception.
        audit.record(ctx, "alerts.close", result=AuditEvent.Result.NOT_FOUND, detail={"entry": entry_id})
        raise NotFound("no alert entry with that id on your unit's list", field="entry_id")
    with transaction.atomic():
        entry = AlertEntry.objects.select_for_update().get(pk=entry_id)
        if not entry.active:
            raise DomainValidationError.single("entry_id", "closed", "this alert entry is already closed")
        entry.active = False
        entry.closed_at = timezone.now()
        entry.closed_by = ctx.actor.label
        entry.close_reason = reason.strip()
        entry.save(update_fields=["active", "closed_at", "closed_by", "close_reason", "updated_at"])
        audit.record(
            ctx, "alerts.close", subject_citizen_id=entry.subject_citizen_id, detail={"entry": entry.pk}
        )
    return _alert_view(entry)


def list_alerts(
    ctx: AccessContext, *, include_closed: bool = False, limit: int = LIST_LIMIT
) -> list[AlertView]:
    """The entries the actor's unit sees (the city police: all; a ward unit: its own), newest
    first. Records one ``alerts.list`` event per listed citizen."""
    _authorise(ctx, "alerts.list")
    entries = _visible_entries(ctx.actor)
    if not include_closed:
        entries = entries.filter(active=True)
    rows = [_alert_view(e) for e in entries.order_by("-created_at", "-id")[: max(1, min(limit, LIST_LIMIT))]]
    _record_shown(ctx, "alerts.list", {r.subject_citizen_id for r in rows})
    return rows


def list_hits(ctx: AccessContext, *, unseen_only: bool = False, limit: int = LIST_LIMIT) -> list[HitView]:
    """The hits the actor's unit sees, newest first: the city police see every hit; a ward unit the
    hits at establishments in its ward and the hits on its own entries. Records one ``alerts.hits``
    event per citizen shown."""
    _authorise(ctx, "alerts.hits")
    hits = _visible_hits(ctx.actor)
    if unseen_only:
        hits = hits.filter(seen_at__isnull=True)
    rows = [_hit_view(h) for h in hits.order_by("-occurred_at", "-id")[: max(1, min(limit, LIST_LIMIT))]]
    _record_shown(ctx, "alerts.hits", {r.subject_citizen_id for r in rows})
    return rows


def mark_seen(ctx: AccessContext, hit_id: int) -> HitView:
    """Record that an officer of a unit that sees this hit has taken it in hand (first one wins)."""
    _authorise(ctx, "alerts.seen", {"hit": hit_id})
    if not _visible_hits(ctx.actor).filter(pk=hit_id).exists():
        audit.record(ctx, "alerts.seen", result=AuditEvent.Result.NOT_FOUND, detail={"hit": hit_id})
        raise NotFound("no alert hit with that id that your unit may see", field="hit_id")
    with transaction.atomic():
        hit = AlertHit.objects.select_for_update(of=("self",)).select_related("entry").get(pk=hit_id)
        if hit.seen_at is None:
            hit.seen_at = timezone.now()
            hit.seen_by = f"{ctx.actor.label} ({ctx.actor.organisation_name})"[:150]
            hit.save(update_fields=["seen_at", "seen_by"])
        audit.record(ctx, "alerts.seen", subject_citizen_id=hit.subject_citizen_id, detail={"hit": hit.pk})
    return _hit_view(hit)


def _record_shown(ctx: AccessContext, action: str, subjects: set[int]) -> None:
    if subjects:
        audit.record_many(ctx, action, sorted(subjects), detail={"count": len(subjects)})
    else:
        audit.record(ctx, action, detail={"count": 0})


# --------------------------------------------------------------------------- screening
def _screening_context(entry: AlertEntry) -> AccessContext:
    """The screening acts on behalf of the unit that owns the entry, not of the establishment."""
    actor = Actor(
        user_id=None,
        label="alert screening",
        organisation_id=entry.issuing_organisation_id,
        organisation_name=entry.issuing_organisation_name,
        allowed_purposes=frozenset({SCREEN_PURPOSE}),
        is_system=True,
    )
    return AccessContext(actor=actor, purpose=SCREEN_PURPOSE, case_reference=entry.reference[:100])


def screen(
    ctx: AccessContext, citizen_id: int, *, event: str, receipt_id: str, at: datetime | None = None
) -> None:
    """Screen a citizen just verified by ``ctx``'s organisation against the alert list.

    Called by ``identity.services.verify`` inside the transaction of a ``match``: for each entry in
    force at ``at`` (active, ``valid_from`` ≤ ``at`` < ``valid_until``) it stores an
    :class:`AlertHit` (where: the establishment's organisation, kind and ward; ``event`` and the
    verification ``receipt_id``) and records ``alerts.hit`` in the name of the owning police unit
    (purpose ``security.alert_screening``; Decree 96/2016/NĐ-CP Art. 25–26, Decree 13/2023/NĐ-CP
    Art. 17). Returns None and never raises because of a hit: the caller must not be able to tell
    a listed person from another. A failure to store a hit is rolled back to a savepoint and logged.
    """
    moment = at or timezone.now()
    entries = list(
        AlertEntry.objects.filter(subject_citizen_id=citizen_id, active=True, valid_from__lte=moment).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=moment)
        )
    )
    if not entries:
        return
    where = ctx.actor
    try:
        with transaction.atomic():
            for entry in entries:
                hit = AlertHit.objects.create(
                    entry=entry,
                    subject_citizen_id=citizen_id,
                    where_organisation_id=where.organisation_id,
                    where_organisation_name=where.organisation_name,
                    where_organisation_kind=where.organisation_kind,
                    where_ward_code=where.jurisdiction_ward_code or "",
                    where_province_code=where.jurisdiction_province_code or "",
                    event=event[:64],
                    receipt_id=receipt_id[:64],
                    occurred_at=moment,
                )
                audit.record(
                    _screening_context(entry),
                    "alerts.hit",
                    subject_citizen_id=citizen_id,
                    detail={
                        "entry": entry.pk,
                        "hit": hit.pk,
                        "event": event,
                        "receipt": receipt_id,
                        "where": where.organisation_id,
                    },
                )
    except DatabaseError:
        logger.exception("alert screening could not record a hit (receipt %s)", receipt_id)
