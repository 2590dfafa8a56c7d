"""The set-based path of a batch of residence notifications on PostgreSQL (issue 6; ADR 0018).

``services.check_in_batch`` calls :func:`check_in_rows` inside the batch's transaction. It gives
the same rows, stays, receipts, audit events, alert hits, webhook events and per-row submissions
as the reference path (each row through ``services.check_in``) — ``tests/apps/residence/
test_batch_fast.py`` compares the two — with a handful of statements for the whole batch instead of
~19 a row:

1. Every row is validated in Python with the reference path's own checks (``_stay_problems``,
   ``_guest_problems``, ``_context_problems``): a bad row gets the same errors and the same
   ``rejected`` webhook event.
2. Capacity (Circular 55/2021 practice: guests fit the beds, a new room fits the rooms) is checked
   once for the whole batch: when the guests staying now plus *every* row's guests fit the beds and
   every row's rooms fit the rooms, no row can fail it in the reference path either. Otherwise the
   batch takes the reference path (None), which checks row by row.
3. Every card QR of a good row is verified in one statement (``identity.pg_batch.verify_qr_many``:
   registry match, receipt, the ``identity.verify`` event the citizen sees, alert-list hits and
   their ``alerts.hit`` events for the ward police — ADR 0007). A card that is not an exact match,
   any other evidence (chip, MRZ, typed) and a close relative (notified once, Circular 55/2021
   Art. 15 cl. 2) go through ``identity.services.verify`` or ``check_in`` as before.
4. The stays, the rows' submissions (their idempotency keys), the ``stored`` webhook events and the
   ``residence.check_in`` events are inserted in bulk.

Not taken (None, the reference path runs): the setting ``DANCU_FAST_RESIDENCE_BATCH`` is False, the
database is not PostgreSQL, the establishment is a hospital or a coach operator (patients, carers,
trips), a row's key was already used (a replay), or capacity might bind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from dancu.apps.residence import services as s
from dancu.apps.residence.models import Establishment, Stay, Submission, Webhook, WebhookDelivery
from dancu.blocks.adminunits import services as adminunits
from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.audit.purposes import get_purpose
from dancu.blocks.identity import pg_batch
from dancu.blocks.identity.chip import TrustStore
from dancu.blocks.identity.services import VERIFICATION_FIELDS, QrEvidence, VerificationResult
from dancu.errors import FieldProblem


def enabled() -> bool:
    """The setting ``DANCU_FAST_RESIDENCE_BATCH`` (default: the environment variable of that name,
    on unless ``0``) and PostgreSQL."""
    default = os.environ.get("DANCU_FAST_RESIDENCE_BATCH", "1") != "0"
    return bool(getattr(settings, "DANCU_FAST_RESIDENCE_BATCH", default)) and pg_batch.available()


def _fast_guests(data: s.CheckIn) -> bool:
    """Guests this path resolves itself: card QRs (not close relatives), passports, children."""
    return all(
        isinstance(g, s.ForeignGuest | s.ChildGuest)
        or (isinstance(g, s.CitizenGuest) and isinstance(g.evidence, QrEvidence) and not g.close_relative)
        for g in data.guests
    )


def _fits(est: Establishment, rows: Sequence[s.CheckIn]) -> bool:
    """Whether every row fits at once (so none can fail ``services._capacity_problems``)."""
    live = Stay.objects.filter(establishment=est, departed_at__isnull=True)
    guests = live.aggregate(n=Count("id"))["n"] + sum(len(r.guests) for r in rows)
    if guests > est.beds:
        return False
    if not est.rooms:
        return True
    new = {r.room.strip() for r in rows}
    if len(new) > est.rooms:
        return False
    taken = set(live.values_list("room", flat=True).distinct())
    return len(taken | new) <= est.rooms


def check_in_rows(
    ctx: AccessContext,
    est: Establishment,
    rows: Sequence[s.CheckIn | list[FieldProblem]],
    *,
    batch_key: str,
    idempotency_key: str,
    now: datetime | None,
    trust_store: TrustStore | None,
) -> list[s.BatchRow] | None:
    """The batch's rows, stored or with their errors; None when the reference path must run
    (see the module docstring). Call inside the batch's transaction."""
    if not enabled() or est.kind in (Establishment.Kind.HOSPITAL, Establishment.Kind.COACH_OPERATOR):
        return None
    keys = [s._row_key(batch_key, i) for i in range(len(rows))]
    if Submission.objects.filter(establishment=est, key__in=keys).exists():
        return None
    moment = now or timezone.now()
    # 1. Validation, in Python (nothing is written before the capacity decision).
    problems: dict[int, list[FieldProblem]] = {}
    good: dict[int, s.CheckIn] = {}
    for i, row in enumerate(rows):
        if isinstance(row, list):
            continue
        aware = isinstance(row.arrival, datetime) and not timezone.is_naive(row.arrival)
        on = timezone.localdate(row.arrival if aware else moment)
        found = (
            s._stay_problems(row, moment) + s._guest_problems(row, on) + s._context_problems(est, row, moment)
        )
        if found:
            problems[i] = found
        else:
            good[i] = row
    # 2. Capacity, once.
    if not _fits(est, list(good.values())):
        return None
    # 3. The card QRs of the good rows, in one statement.
    vctx = s._verify_context(ctx, est, keys[0] if keys else "")
    mode = "data" if vctx.actor.organisation_kind in VERIFICATION_FIELDS else "yes_no"
    where: list[tuple[int, int]] = []
    items: list[pg_batch.QrItem] = []
    for i, row in good.items():
        if not _fast_guests(row):
            continue
        for j, g in enumerate(row.guests):
            if isinstance(g, s.CitizenGuest) and isinstance(g.evidence, QrEvidence):
                request_id = s._verify_request_id(keys[i], g.evidence)
                assert request_id is not None
                where.append((i, j))
                items.append(pg_batch.QrItem(g.evidence.text, f"lưu trú {keys[i]}"[:100], request_id))
    answers = pg_batch.verify_qr_many(vctx, items, mode=mode, at=moment)
    verified: dict[int, dict[int, tuple[VerificationResult, str]]] = {}
    for (i, j), answer in zip(where, answers, strict=True):
        if answer is not None:
            verified.setdefault(i, {})[j] = (answer.result, answer.id_number)
    # 4. Each row: the reference path for the rows this path does not resolve, else the guests.
    addresses: dict[str, adminunits.ResolvedAddress | None] = {}

    def resolve(text: str) -> adminunits.ResolvedAddress | None:
        if text not in addresses:
            addresses[text] = adminunits.resolve_address(text)
        return addresses[text]

    out: list[s.BatchRow | None] = [None] * len(rows)
    ready: dict[int, list[s._Resolved]] = {}
    for i, row in enumerate(rows):
        if i in problems:
            out[i] = s._rejected(est, idempotency_key, i, problems[i])
            continue
        if isinstance(row, list) or not _fast_guests(good[i]):
            out[i] = s._batch_row(ctx, est, i, row, batch_key, idempotency_key, now, trust_store)
            continue
        resolved, failures = s._resolve_guests(
            good[i],
            s._verify_context(ctx, est, keys[i]),
            moment,
            trust_store,
            keys[i],
            timezone.localdate(good[i].arrival),
            verified.get(i, {}),
            resolve,
        )
        if failures:
            audit.record(
                ctx,
                "residence.check_in",
                result=AuditEvent.Result.INVALID,
                detail={"problems": len(failures)},
            )
            out[i] = s._rejected(est, idempotency_key, i, failures)
        else:
            ready[i] = resolved
    # 5. The stays and what goes with them, in bulk.
    for i, stored in _store(
        ctx, est, {i: good[i] for i in ready}, ready, keys, idempotency_key, moment
    ).items():
        out[i] = stored
    assert all(r is not None for r in out)
    return [r for r in out if r is not None]


def _store(
    ctx: AccessContext,
    est: Establishment,
    rows: dict[int, s.CheckIn],
    ready: dict[int, list[s._Resolved]],
    keys: list[str],
    idempotency_key: str,
    moment: datetime,
) -> dict[int, s.BatchRow]:
    """Stays (adults, then the children with their guardian), submissions, ``stored`` webhook
    events and ``residence.check_in`` events of the good rows, each kind in one bulk insert."""
    if not ready:
        return {}
    groups = {i: uuid.uuid4().hex[:12] for i in ready}
    stays: dict[int, list[Stay]] = {}
    for i, resolved in ready.items():
        data = rows[i]
        notified = data.captured_at or moment
        stays[i] = [s._new_stay(ctx, est, data, r, groups[i], notified, None, True) for r in resolved]
    adults = [st for i in ready for st, r in zip(stays[i], ready[i], strict=True) if r.guardian is None]
    Stay.objects.bulk_create(adults)
    children = []
    for i in ready:
        for st, r in zip(stays[i], ready[i], strict=True):
            if r.guardian is not None:
                st.guardian = stays[i][r.guardian]
                children.append(st)
    if children:
        Stay.objects.bulk_create(children)
    out: dict[int, s.BatchRow] = {}
    submissions, events, payloads = [], [], []
    a = ctx.actor
    for i in ready:
        ids = [st.pk for st in stays[i]]
        response: dict[str, object] = {"group_reference": groups[i], "stay_ids": ids}
        submissions.append(
            Submission(
                establishment=est, key=keys[i], request_sha256=s._fingerprint(rows[i]), response=response
            )
        )
        payloads.append(
            {
                "status": "stored",
                "idempotency_key": keys[i],
                "group_reference": groups[i],
                "stays": [s._result_stay(st, moment) for st in stays[i]],
            }
        )
        # As ``audit.record(ctx, "residence.check_in", detail=…)`` in ``services.check_in``.
        events.append(
            AuditEvent(
                actor_user_id=a.user_id,
                actor_label=a.label,
                organisation_id=a.organisation_id,
                organisation_name=a.organisation_name,
                purpose=ctx.purpose,
                action="residence.check_in",
                subject_citizen_id=None,
                result=AuditEvent.Result.OK,
                case_reference=ctx.case_reference,
                detail={"establishment": est.pk, "group": groups[i], "stays": ids},
            )
        )
        out[i] = s.BatchRow(i, "stored", groups[i], tuple(ids))
    Submission.objects.bulk_create(submissions)
    hooks = list(Webhook.objects.filter(establishment_id=est.pk, active=True).values_list("pk", flat=True))
    at = timezone.now()
    event = "notification.result"
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(webhook_id=h, event=event, payload={"event": event, **p}, next_attempt_at=at)
            for p in payloads
            for h in hooks
        ]
    )
    get_purpose(ctx.purpose)
    AuditEvent.objects.bulk_create(events)
    return out
