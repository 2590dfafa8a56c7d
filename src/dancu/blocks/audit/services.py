"""Audit service functions: record, query per citizen, seal and verify the chain.

Recording is a plain INSERT so that concurrent readers never queue on a shared row; the chain is
built afterwards by :func:`seal`, which links events in id order (see ADR 0004). ``detail`` must
never hold personal data values beyond what the citizen would see about themselves: ids, field
names, counts.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditCheckpoint, AuditEvent
from dancu.blocks.audit.purposes import get_purpose
from dancu.precompiled import Insert

GENESIS = "0" * 64
# The event's INSERT, compiled once (``dancu.precompiled``): every audited access writes one.
_INSERT = Insert(AuditEvent)
_SEAL_LAG = timedelta(seconds=2)
# The advisory lock that serialises sealing runs on PostgreSQL ("dancu" in ASCII).
_SEAL_LOCK_KEY = 0x64616E6375  # events younger than this may still be committing out of id order


def record(
    ctx: AccessContext,
    action: str,
    *,
    subject_citizen_id: int | None = None,
    result: str = AuditEvent.Result.OK,
    detail: dict[str, object] | None = None,
    durable: bool = True,
) -> AuditEvent:
    """Record one event (call inside the transaction of the access it records).

    ``durable=False`` is for events recording a *read*, in a transaction of their own: on
    PostgreSQL that transaction commits without waiting for its WAL flush (ADR 0005).
    """
    get_purpose(ctx.purpose)
    if not durable:
        _relax_commit()
    return _INSERT.save_new(AuditEvent(**_fields(ctx, action, subject_citizen_id, result, detail)))


def record_refusal(
    ctx: AccessContext,
    action: str,
    *,
    detail: dict[str, object] | None = None,
) -> AuditEvent:
    """Record a request refused because it named no purpose or an unknown purpose code.

    Processing without a stated, lawful purpose is refused (purpose limitation, Law 91/2025/QH15
    Art. 3; Decree 13/2023/NĐ-CP Art. 3), and the refusal is kept like any other: result
    ``invalid``, no subject, the purpose column holding what was sent (control characters dropped,
    cut to 64 characters). Call it outside any transaction that the refusal will roll back.
    """
    sent = "".join(ch for ch in str(ctx.purpose) if ch.isprintable())[:64]
    fields = _fields(ctx, action, None, AuditEvent.Result.INVALID, detail)
    fields["purpose"] = sent
    return AuditEvent.objects.create(**fields)


def record_many(
    ctx: AccessContext,
    action: str,
    subject_citizen_ids: Iterable[int],
    *,
    result: str = AuditEvent.Result.OK,
    detail: dict[str, object] | None = None,
    durable: bool = True,
) -> int:
    """One event per subject (e.g. each citizen shown in a search result)."""
    get_purpose(ctx.purpose)
    if not durable:
        _relax_commit()
    events = [AuditEvent(**_fields(ctx, action, sid, result, detail)) for sid in subject_citizen_ids]
    AuditEvent.objects.bulk_create(events, batch_size=500)
    return len(events)


def _relax_commit() -> None:
    """PostgreSQL: this transaction's commit returns before its WAL reaches the disk (it is
    flushed within ``3 × wal_writer_delay``); never corrupts, may lose the last events on a crash
    of the database server. Only inside an explicit transaction (SET LOCAL)."""
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit TO OFF")


def _fields(
    ctx: AccessContext,
    action: str,
    subject_citizen_id: int | None,
    result: str,
    detail: dict[str, object] | None,
) -> dict[str, object]:
    a = ctx.actor
    return {
        "actor_user_id": a.user_id,
        "actor_label": a.label,
        "organisation_id": a.organisation_id,
        "organisation_name": a.organisation_name,
        "purpose": ctx.purpose,
        "action": action,
        "subject_citizen_id": subject_citizen_id,
        "result": result,
        "case_reference": ctx.case_reference,
        "detail": detail or {},
    }


@dataclass(frozen=True)
class AccessRecord:
    """What a citizen sees about one access to their data."""

    occurred_at: datetime
    who: str
    organisation: str
    purpose_code: str
    purpose_vi: str
    purpose_en: str
    action: str
    result: str
    # The names of the data fields the access released (e.g. the claims a relying party received,
    # ``sso.claims_release``): names only, never values.
    released: tuple[str, ...] = ()


# The keys of an event's ``detail`` that list released field names, and the shape a name must have
# (so that a value — an ID number, a name — is never shown even if one were put there by mistake).
RELEASED_DETAIL_KEYS = ("claims", "fields")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


def released_names(detail: object) -> tuple[str, ...]:
    """The field names listed in an event's ``detail`` under :data:`RELEASED_DETAIL_KEYS`."""
    if not isinstance(detail, dict):
        return ()
    names: list[str] = []
    for key in RELEASED_DETAIL_KEYS:
        value = detail.get(key)
        if isinstance(value, (list, tuple)):
            names += [v for v in value if isinstance(v, str) and _FIELD_NAME.fullmatch(v)]
    return tuple(dict.fromkeys(names))


# Actions kept out of the citizen's own access log, though recorded and sealed like every other
# event: the police alert list (``blocks/alerts``, ADR 0007). Telling the subject that they are on
# a list, or where they were just flagged, would defeat its purpose; Decree 13/2023/NĐ-CP Art. 17
# allows processing without informing the subject for national security, public order and the
# prevention of crime. Auditors still find these events by subject in the sealed chain.
WITHHELD_FROM_SUBJECT_PREFIXES = ("alerts.",)


def events_for_citizen(citizen_id: int, *, limit: int = 200) -> list[AccessRecord]:
    """Who looked at or changed this citizen's data, newest first ("who looked at my data"),
    without the events of :data:`WITHHELD_FROM_SUBJECT_PREFIXES`."""
    from dancu.blocks.audit.purposes import PURPOSES

    rows = AuditEvent.objects.filter(subject_citizen_id=citizen_id)
    for prefix in WITHHELD_FROM_SUBJECT_PREFIXES:
        rows = rows.exclude(action__startswith=prefix)
    rows = rows.order_by("-occurred_at", "-id")[:limit]
    out = []
    for ev in rows:
        p = PURPOSES.get(ev.purpose)
        out.append(
            AccessRecord(
                occurred_at=ev.occurred_at,
                who=ev.actor_label,
                organisation=ev.organisation_name,
                purpose_code=ev.purpose,
                purpose_vi=p.name_vi if p else ev.purpose,
                purpose_en=p.name_en if p else ev.purpose,
                action=ev.action,
                result=ev.result,
                released=released_names(ev.detail),
            )
        )
    return out


def event_digest(ev: AuditEvent, prev_hash: str) -> str:
    """SHA-256 over the previous hash and the event's canonical JSON (RFC 8785-style key order)."""
    body = {
        "id": ev.id,
        "occurred_at": ev.occurred_at.isoformat(),
        "actor_user_id": ev.actor_user_id,
        "actor_label": ev.actor_label,
        "organisation_id": ev.organisation_id,
        "purpose": ev.purpose,
        "action": ev.action,
        "subject_citizen_id": ev.subject_citizen_id,
        "result": ev.result,
        "case_reference": ev.case_reference,
        "detail": ev.detail,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def seal(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Chain every unsealed event older than the lag, in id order; returns how many were sealed."""
    cutoff = (now or timezone.now()) - _SEAL_LAG
    sealed = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":  # one sealer at a time, even before the first checkpoint
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [_SEAL_LOCK_KEY])
        head = AuditCheckpoint.objects.select_for_update().order_by("-last_event_id").first()
        prev = head.last_hash if head else GENESIS
        last_id = head.last_event_id if head else 0
        while True:
            events = list(AuditEvent.objects.filter(id__gt=last_id, hash="").order_by("id")[:batch])
            # Stop at the first event still inside the lag: sealing later ids would jump over it
            # and leave it outside the chain for good (ids only grow).
            young = next((i for i, ev in enumerate(events) if ev.occurred_at >= cutoff), None)
            if young is not None:
                events = events[:young]
            if not events:
                break
            for ev in events:
                ev.prev_hash = prev
                ev.hash = event_digest(ev, prev)
                prev = ev.hash
                last_id = ev.id
            AuditEvent.objects.bulk_update(events, ["prev_hash", "hash"], batch_size=1000)
            sealed += len(events)
            if young is not None:
                break
        if sealed:
            AuditCheckpoint.objects.create(last_event_id=last_id, last_hash=prev, events_sealed=sealed)
    return sealed


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events_checked: int
    first_bad_event_id: int | None
    reason: str


def verify_chain() -> ChainReport:
    """Recompute the chain over every sealed event and compare with the latest checkpoint."""
    prev = GENESIS
    checked = 0
    qs = AuditEvent.objects.exclude(hash="").order_by("id")
    for ev in qs.iterator(chunk_size=2000):
        if ev.prev_hash != prev:
            return ChainReport(False, checked, ev.id, "previous hash does not match (an event was removed)")
        if event_digest(ev, prev) != ev.hash:
            return ChainReport(False, checked, ev.id, "hash does not match the content (an event was edited)")
        prev = ev.hash
        checked += 1
    head = AuditCheckpoint.objects.order_by("-last_event_id").first()
    if head and head.last_hash != prev:
        return ChainReport(False, checked, head.last_event_id, "chain head differs from the last checkpoint")
    return ChainReport(True, checked, None, "")
