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
   ``residence.check_in`` events — the objects the reference path builds — are written by one
   insert statement (after one that allocates the stay ids and reads the webhooks).

:func:`check_in_one` does steps 3 and 4 for a single notification (``services.check_in``), in one
transaction (ADR 0018, second step); ``tests/apps/residence/test_single_fast.py`` compares it
with the reference path.

Not taken (None, the reference path runs): the setting ``DANCU_FAST_RESIDENCE_BATCH`` is False, the
database is not PostgreSQL, the establishment is a hospital or a coach operator (patients, carers,
trips), a row's key was already used (a replay), or capacity might bind.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Field, Model
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
from dancu.errors import DomainValidationError, FieldProblem


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


OCCUPANCY = "residence_occupancy"
ROOM_OCCUPANCY = "residence_room_occupancy"


def _state(est: Establishment, keys: Sequence[str], rooms: Sequence[str]) -> tuple[bool, int, int, set[str]]:
    """In one statement: whether a row key of the batch is already used, the guests staying now,
    the rooms they occupy and which of ``rooms`` (the batch's) are among them — read from the
    occupancy counters (migration ``0007``), not counted from the stays."""
    sub = connection.ops.quote_name(Submission._meta.db_table)
    sql = (
        f"SELECT EXISTS (SELECT 1 FROM {sub} WHERE establishment_id = %s AND key = ANY(%s)), "  # noqa: S608
        f"(SELECT guests FROM {OCCUPANCY} WHERE establishment_id = %s), "
        f"(SELECT rooms FROM {OCCUPANCY} WHERE establishment_id = %s), "
        f"ARRAY(SELECT room FROM {ROOM_OCCUPANCY} WHERE establishment_id = %s AND room = ANY(%s) "
        "AND guests > 0)"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [est.pk, list(keys), est.pk, est.pk, est.pk, sorted(set(rooms))])
        used, live, occupied_rooms, occupied = cur.fetchone()
    return bool(used), int(live or 0), int(occupied_rooms or 0), set(occupied)


def _fits(
    est: Establishment, rows: Sequence[s.CheckIn], live: int, occupied_rooms: int, occupied: set[str]
) -> bool:
    """Whether every row fits at once (so none can fail ``services._capacity_problems``), given
    the guests staying now, the number of rooms they occupy and which of the rows' rooms are
    occupied."""
    if live + sum(len(r.guests) for r in rows) > est.beds:
        return False
    if not est.rooms:
        return True
    new = {r.room.strip() for r in rows}
    return occupied_rooms + len(new - occupied) <= est.rooms


def recount_occupancy() -> None:
    """Count the occupancy counters again from the stays (PostgreSQL; migration ``0007``): for
    writes made while the triggers were off (``session_replication_role = replica``, a restore
    with ``--disable-triggers``). Holds a ``SHARE`` lock on the stays until the transaction ends,
    so no check-in or check-out slips between the count and the triggers."""
    stay = connection.ops.quote_name(Stay._meta.db_table)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"LOCK TABLE {stay} IN SHARE MODE")
        cur.execute(f"DELETE FROM {ROOM_OCCUPANCY}")  # noqa: S608
        cur.execute(f"DELETE FROM {OCCUPANCY}")  # noqa: S608
        cur.execute(
            f"INSERT INTO {ROOM_OCCUPANCY} (establishment_id, room, guests) "  # noqa: S608
            f"SELECT establishment_id, room, count(*) FROM {stay} WHERE departed_at IS NULL GROUP BY 1, 2"
        )
        cur.execute(
            f"INSERT INTO {OCCUPANCY} (establishment_id, guests, rooms) "  # noqa: S608
            f"SELECT establishment_id, sum(guests), count(*) FROM {ROOM_OCCUPANCY} GROUP BY 1"
        )


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
    used, live, occupied_rooms, occupied = _state(
        est,
        keys,
        [
            r.room.strip()
            for r in rows
            if not isinstance(r, list) and isinstance(r.room, str) and _sendable(r.room)
        ],
    )
    if used:
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
    if not _fits(est, list(good.values()), live, occupied_rooms, occupied):
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
        # The row's own verification context (its case reference) serves only a card the
        # statement did not decide; building it for every row cost a text check a row.
        decided = verified.get(i, {})
        undecided = any(
            isinstance(g, s.CitizenGuest) and j not in decided for j, g in enumerate(good[i].guests)
        )
        resolved, failures = s._resolve_guests(
            good[i],
            s._verify_context(ctx, est, keys[i]) if undecided else vctx,
            moment,
            trust_store,
            keys[i],
            timezone.localdate(good[i].arrival),
            decided,
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


# --------------------------------------------------------------------------- one insert statement
def _columns(model: type[Model], with_pk: bool) -> list[Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]


def _aware(value: datetime) -> str:
    """A date-time as ``get_db_prep_save`` sends it: aware as is, naive made aware in the default
    time zone (as Django does, with its warning)."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value.isoformat()


_AS_TEXT = {"DateTimeField": _aware, "DateField": date.isoformat}
_LAYOUT: dict[tuple[type[Model], bool], list[tuple[str, str, Callable[[Any], str] | None, bool]]] = {}


def _records(
    model: type[Model], objs: Sequence[Model], at: datetime, with_pk: bool
) -> list[dict[str, object]]:
    """The rows of ``objs`` for the statement, as the ORM's insert would write them: ``auto_now``
    and ``auto_now_add`` set to ``at`` on the instance (as their ``pre_save`` does), a date-time
    or date as ISO text (``json_to_recordset`` reads it back into the column's type), the rest as
    itself (text, numbers, booleans, JSON)."""
    layout = _LAYOUT.get((model, with_pk))
    if layout is None:
        layout = _LAYOUT[(model, with_pk)] = [
            (
                f.column,
                f.attname,
                _AS_TEXT.get(f.get_internal_type()),
                bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)),
            )
            for f in _columns(model, with_pk)
        ]
    out = []
    for obj in objs:
        row: dict[str, object] = {}
        for column, attname, as_text, stamped in layout:
            if stamped:
                setattr(obj, attname, at)
            value = getattr(obj, attname)
            row[column] = as_text(value) if as_text is not None and value is not None else value
        out.append(row)
    return out


_KINDS: tuple[tuple[str, type[Model], bool], ...] = (
    ("stays", Stay, True),
    ("submissions", Submission, False),
    ("deliveries", WebhookDelivery, False),
    ("events", AuditEvent, False),
)


def _insert_statement(returning: bool) -> str:
    """One statement that inserts the stays (with the ids allocated before), the rows'
    submissions, the webhook deliveries and the audit events, each kind from one JSON parameter
    turned into rows by ``json_to_recordset``; columns and types from the models (no user input is
    interpolated). A stay's guardian is a stay of the same statement: the foreign keys are
    deferred to the commit (Django creates them ``DEFERRABLE INITIALLY DEFERRED``).
    ``returning``: the statement answers the stays as stored (a single check-in's answer), instead
    of reading them back with another statement."""
    parts = []
    for name, model, with_pk in _KINDS:
        fields = _columns(model, with_pk)
        names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        types = ", ".join(f"{connection.ops.quote_name(f.column)} {f.db_type(connection)}" for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        sql = f"{name} AS (INSERT INTO {table} ({names}) SELECT {names} "
        sql += f"FROM json_to_recordset(%({name})s::json) AS r({types})"
        parts.append(sql + (f" RETURNING {names})" if returning and model is Stay else ")"))
    tail = f" SELECT {_stay_names()} FROM stays" if returning else " SELECT 1"  # noqa: S608
    return "WITH " + ", ".join(parts) + tail


def _stay_names() -> str:
    return ", ".join(connection.ops.quote_name(f.column) for f in _columns(Stay, True))


_INSERT: dict[bool, str] = {}


def _allocate(est: Establishment, n: int) -> tuple[list[int], list[int]]:
    """``n`` new stay ids (in order) and the establishment's active webhooks, in one statement."""
    table = Stay._meta.db_table
    hooks = connection.ops.quote_name(Webhook._meta.db_table)
    sql = (
        "SELECT ARRAY(SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)), "  # noqa: S608
        f"ARRAY(SELECT id FROM {hooks} WHERE establishment_id = %s AND active ORDER BY id)"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [table, n, est.pk])
        ids, found = cur.fetchone()
    return list(ids), list(found)


def _insert(objs: dict[str, Sequence[Model]], at: datetime, *, returning: bool = False) -> list[Stay]:
    """Insert the objects of each kind of ``_KINDS`` in one prepared statement; ``returning``:
    the stays as stored (model instances, as the ORM would read them), else none."""
    sql = _INSERT.get(returning)
    if sql is None:
        sql = _INSERT[returning] = _insert_statement(returning)
    params = {
        name: json.dumps(_records(model, objs.get(name, ()), at, with_pk), ensure_ascii=False)
        for name, model, with_pk in _KINDS
    }
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    # Server-side binding on Django's connection, in its transaction; a database error (a row key
    # taken by a concurrent request: ``IntegrityError``) reaches the caller as Django's.
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cur:
        cur.execute(sql, params, prepare=True)
        if not returning:
            return []
        rows = cur.fetchall()
    names = [f.attname for f in _columns(Stay, True)]
    return [Stay.from_db(connection.alias, names, row) for row in rows]


class StayAllocationError(RuntimeError):
    """The sequence gave another number of stay ids than stays to store: nothing is stored (the
    error rolls back the batch's transaction; the caller answers 500, no row is acknowledged)."""


def _store(
    ctx: AccessContext,
    est: Establishment,
    rows: dict[int, s.CheckIn],
    ready: dict[int, list[s._Resolved]],
    keys: list[str],
    idempotency_key: str,
    moment: datetime,
    groups: dict[int, str] | None = None,
    fingerprints: dict[int, str] | None = None,
    allocated: tuple[list[int], list[int]] | None = None,
    stored: list[Stay] | None = None,
) -> dict[int, s.BatchRow]:
    """Stays (each row's adults, then its children with their guardian), submissions, ``stored``
    webhook events and ``residence.check_in`` events of the good rows: the same objects as the
    reference path builds (``services._new_stay``, ``Submission``, ``webhooks.enqueue``'s
    deliveries, ``audit.record``'s event), written by two statements — the stay ids and the
    establishment's webhooks (or ``allocated``: read before by :func:`prelude_one`), then one
    insert of everything (:func:`_insert`). ``stored``: a list that receives the stays as stored."""
    if not ready:
        return {}
    groups = groups or {i: uuid.uuid4().hex[:12] for i in ready}
    stays: dict[int, list[Stay]] = {}
    for i, resolved in ready.items():
        data = rows[i]
        notified = data.captured_at or moment
        stays[i] = [s._new_stay(ctx, est, data, r, groups[i], notified, None, True) for r in resolved]
    wanted = sum(len(v) for v in stays.values())
    ids, hooks = allocated if allocated is not None else _allocate(est, wanted)
    if len(ids) != wanted:
        # Not an assert (stripped under ``python -O``): a stay without an id of its own would be
        # stored under another's. Raised inside the batch's transaction, which it rolls back whole.
        raise StayAllocationError(f"{len(ids)} stay ids allocated for {wanted} stays")
    new = iter(ids)
    ordered: list[Stay] = []
    for i, resolved in ready.items():
        adults_first = sorted(range(len(resolved)), key=lambda j: resolved[j].guardian is not None)
        for j in adults_first:
            st, r = stays[i][j], ready[i][j]
            st.pk = next(new)
            if r.guardian is not None:
                st.guardian = stays[i][r.guardian]
            ordered.append(st)
    out: dict[int, s.BatchRow] = {}
    submissions, events, deliveries = [], [], []
    a = ctx.actor
    at = timezone.now()
    event = "notification.result"
    for i in ready:
        ids_i = [st.pk for st in stays[i]]
        response: dict[str, object] = {"group_reference": groups[i], "stay_ids": ids_i}
        sha = fingerprints[i] if fingerprints is not None else s._fingerprint(rows[i])
        submissions.append(Submission(establishment=est, key=keys[i], request_sha256=sha, response=response))
        payload = {
            "status": "stored",
            "idempotency_key": keys[i],
            "group_reference": groups[i],
            "stays": [s._result_stay(st, moment) for st in stays[i]],
        }
        deliveries += [
            WebhookDelivery(
                webhook_id=h, event=event, payload={"event": event, **payload}, next_attempt_at=at
            )
            for h in hooks
        ]
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
                detail={"establishment": est.pk, "group": groups[i], "stays": ids_i},
            )
        )
        out[i] = s.BatchRow(i, "stored", groups[i], tuple(ids_i))
    get_purpose(ctx.purpose)
    objs: dict[str, Sequence[Model]] = {
        "stays": ordered,
        "submissions": submissions,
        "deliveries": deliveries,
        "events": events,
    }
    written = _insert(objs, at, returning=stored is not None)
    if stored is not None:
        stored += written
    return out


# --------------------------------------------------------------------------- a single check-in
@dataclass(frozen=True)
class Prelude:
    """What a single check-in reads before it decides (:func:`prelude_one`): the submission under
    its key (fingerprint and stored answer) if any, the guests staying now, the rooms they occupy
    and the guests in the check-in's room (``services._capacity_problems``), the new stays' ids and
    the establishment's active webhooks."""

    submission: tuple[str, dict[str, object]] | None
    live: dict[str, int]
    ids: list[int]
    hooks: list[int]


def _sendable(text: str) -> bool:
    """Whether PostgreSQL accepts ``text`` as a parameter (no NUL, no lone surrogate); the room of
    a check-in is read by :func:`prelude_one` before it is validated."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _takes_fast_path(est: Establishment, data: s.CheckIn, idempotency_key: str) -> bool:
    return (
        enabled()
        and isinstance(data.room, str)
        and _sendable(data.room)
        and bool(idempotency_key)
        and est.kind not in (Establishment.Kind.HOSPITAL, Establishment.Kind.COACH_OPERATOR)
        and data.trip_id is None
        and _fast_guests(data)
    )


def prelude_one(est: Establishment, data: s.CheckIn, idempotency_key: str) -> Prelude | None:
    """In one statement, what ``services.check_in`` reads before it stores (instead of three, and
    the stay ids and webhooks :func:`_store` would read after the verification): the key's
    submission (``services._replay``), the capacity counts (``services._capacity_problems``), and —
    when the key is new — one stay id per guest and the active webhooks. None when the check-in
    will not take this path (:func:`check_in_one`), and the caller reads as the reference path
    does. The ids of a check-in then refused are not used (a sequence has gaps anyway)."""
    if not _takes_fast_path(est, data, idempotency_key):
        return None
    sub = connection.ops.quote_name(Submission._meta.db_table)
    hooks = connection.ops.quote_name(Webhook._meta.db_table)
    found = f"FROM {sub} WHERE establishment_id = %(e)s AND key = %(k)s AND NOT (key = '')"
    counters = f"FROM {OCCUPANCY} WHERE establishment_id = %(e)s"
    in_room = f"FROM {ROOM_OCCUPANCY} WHERE establishment_id = %(e)s AND room = %(room)s"
    # The capacity counts from the occupancy counters (migration 0007): O(1) whatever the number
    # of guests staying, where counting the live stays cost 25.6 ms at 20,000 (ADR 0018, sixth step).
    sql = (
        f"SELECT (SELECT request_sha256 {found}), (SELECT response::text {found}), "  # noqa: S608
        f"coalesce((SELECT guests {counters}), 0), coalesce((SELECT rooms {counters}), 0), "
        f"coalesce((SELECT guests {in_room}), 0), "
        "ARRAY(SELECT nextval(pg_get_serial_sequence(%(table)s, 'id')) FROM generate_series(1, %(n)s) "
        f"WHERE NOT EXISTS (SELECT 1 {found})), "
        f"ARRAY(SELECT id FROM {hooks} WHERE establishment_id = %(e)s AND active ORDER BY id)"
    )
    params: dict[str, Any] = {
        "e": est.pk,
        "k": idempotency_key,
        "room": data.room.strip(),
        "table": Stay._meta.db_table,
        "n": len(data.guests),
    }
    with connection.cursor() as cur:
        cur.execute(sql, params)
        sha, response, guests, rooms, here, ids, found_hooks = cur.fetchone()
    submission = None
    if sha is not None:
        answer = json.loads(response) if isinstance(response, str | bytes) else response
        submission = (str(sha), dict(answer))
    live = {"guests": int(guests), "rooms": int(rooms), "here": int(here)}
    return Prelude(submission, live, list(ids), list(found_hooks))


def check_in_one(
    ctx: AccessContext,
    est: Establishment,
    data: s.CheckIn,
    *,
    idempotency_key: str,
    fingerprint: str,
    moment: datetime,
    on: date,
    trust_store: TrustStore | None,
    prelude: Prelude | None = None,
) -> s.CheckInResult | None:
    """``services.check_in`` after its checks (validation, capacity), on PostgreSQL: the card QRs
    verified by one statement (``identity.pg_batch.verify_qr_many``; the cards it does not decide
    by ``services.verify``, as the reference path), then the stays, the submission, the webhook
    deliveries and the ``residence.check_in`` event by :func:`_store` — in *one* transaction, so one
    durable commit instead of two (the verification's, then the stay's). Refused guests: their
    receipts, events and the ``residence.check_in`` *invalid* event are committed, then
    ``DomainValidationError`` is raised, as in the reference path.

    None (the reference path runs): the switch is off or not PostgreSQL, no idempotency key (the
    verification's request id derives from it), a hospital or coach operator, a guest other than
    a card QR (not a close relative), a foreigner's passport or a child, or a purpose or mode the
    statement may not decide (``verify`` denies and records that, outside any transaction).
    ``prelude``: the stay ids and webhooks read before (:func:`prelude_one`); the stays come back
    from the insert (its ``RETURNING``), not from another statement."""
    if not _takes_fast_path(est, data, idempotency_key):
        return None
    vctx = s._verify_context(ctx, est, idempotency_key)
    mode = "data" if vctx.actor.organisation_kind in VERIFICATION_FIELDS else "yes_no"
    if not pg_batch.may_decide(vctx, mode):
        return None
    group = uuid.uuid4().hex[:12]
    where: list[int] = []
    items: list[pg_batch.QrItem] = []
    for j, g in enumerate(data.guests):
        if isinstance(g, s.CitizenGuest) and isinstance(g.evidence, QrEvidence):
            request_id = s._verify_request_id(idempotency_key, g.evidence)
            assert request_id is not None
            where.append(j)
            items.append(pg_batch.QrItem(g.evidence.text, vctx.case_reference, request_id))
    failures: list[FieldProblem] = []
    stored: dict[int, s.BatchRow] = {}
    stays: list[Stay] = []
    try:
        with transaction.atomic():
            answers = pg_batch.verify_qr_many(vctx, items, mode=mode, at=moment)
            verified = {
                j: (answer.result, answer.id_number)
                for j, answer in zip(where, answers, strict=True)
                if answer is not None
            }
            resolved, failures = s._resolve_guests(
                data, vctx, moment, trust_store, idempotency_key, on, verified
            )
            if failures:
                audit.record(
                    ctx,
                    "residence.check_in",
                    result=AuditEvent.Result.INVALID,
                    detail={"problems": len(failures)},
                )
            else:
                stored = _store(
                    ctx,
                    est,
                    {0: data},
                    {0: resolved},
                    [idempotency_key],
                    idempotency_key,
                    moment,
                    groups={0: group},
                    fingerprints={0: fingerprint},
                    allocated=(prelude.ids, prelude.hooks) if prelude is not None else None,
                    stored=stays,
                )
    except IntegrityError:
        # A concurrent request with the same key stored first; ours was rolled back whole.
        replay = s._replay(est, idempotency_key, fingerprint)
        if replay is None:
            raise
        return s._result_from(replay, replayed=True)
    if failures:
        raise DomainValidationError(failures)
    # The stays as stored (the insert's ``RETURNING``), so that the first answer and a replay are
    # the same (times as stored) — as ``services._result_from`` reads them for a replay.
    by_id = {st.pk: st for st in stays}
    for st in stays:
        st.establishment = est
    return s.CheckInResult(
        group_reference=group,
        stays=tuple(s._view(by_id[i]) for i in stored[0].stay_ids),
        replayed=False,
    )
