"""The look-up hot path on PostgreSQL: one prepared statement reads the record and writes its
audit event (ADR 0006).

``get_by_id_number`` is the registry's most frequent call (every card check, every residence
notification, every public-service dossier starts with it). On PostgreSQL it runs as a single
server-side prepared statement that

* finds the citizen holding the number now, or who held it before (``IdNumberChange``);
* decides the actor's jurisdiction in the same query (ward, province or system);
* aggregates the children (old CMND numbers, previous numbers, cards) only when the purpose may
  receive them and the actor may see the record;
* inserts the audit event — ``ok``, ``denied`` (jurisdiction) or ``not_found`` — through a
  data-modifying CTE, so the read and its record are one atomic statement: there is no way to
  read without the event being written;
* when it runs as its own transaction, sets ``synchronous_commit`` off for that transaction
  only (``set_config(..., is_local => true)``; ADR 0005).

The statement is prepared once per connection (psycopg ``prepare=True``), so PostgreSQL does
not plan it on every call. The generic path in ``services`` (ORM, two statements) serves SQLite
and stays the reference: ``tests/blocks/registry/test_pg_read.py`` checks that both return the
same DTOs and write the same events.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry.dto import CardView, CitizenView
from dancu.blocks.registry.dto import address_or_none as _address
from dancu.blocks.registry.models import Citizen, Household, IdentityCard, IdNumberChange, OldIdNumber

# The citizen columns the DTO needs, in the order the row carries them.
_COLUMNS = (
    "id",
    "id_number",
    "full_name",
    "version",
    "date_of_birth",
    "dob_precision",
    "sex",
    "family_name",
    "middle_name",
    "given_name",
    "nationality",
    "ethnicity",
    "religion",
    "birth_registration_code",
    "origin_text",
    "origin_legacy_ward_code",
    "permanent_address_text",
    "permanent_legacy_ward_code",
    "permanent_ward_code",
    "permanent_province_code",
    "temporary_address_text",
    "temporary_ward_code",
    "relationship_to_head",
    "life_status",
    "date_of_death",
)
_N = len(_COLUMNS)


def _statement() -> str:
    """The SQL text, built once from the models' table names (no user input is interpolated)."""
    citizen, household = Citizen._meta.db_table, Household._meta.db_table
    change, old = IdNumberChange._meta.db_table, OldIdNumber._meta.db_table
    card, event = IdentityCard._meta.db_table, AuditEvent._meta.db_table
    cols = ", ".join(f"c.{name}" for name in _COLUMNS)
    ok, denied, missing = AuditEvent.Result.OK, AuditEvent.Result.DENIED, AuditEvent.Result.NOT_FOUND
    # One row per request (``unnest ... WITH ORDINALITY``); the INSERT in ``ev`` runs whether or
    # not the outer query reads it (data-modifying CTEs always run to completion) and writes one
    # event per request, in request order.
    return f"""
WITH req AS MATERIALIZED (
    SELECT * FROM json_to_recordset(%(requests)s::json)
        AS r(n int, number text, is_system bool, ward text, province text, children bool,
             user_id bigint, label text, org_id bigint, org_name text, purpose text, case_ref text)
), hit AS MATERIALIZED (
    SELECT {cols}, h.household_number,
           (r.is_system OR CASE WHEN r.ward <> '' THEN c.permanent_ward_code = r.ward
                                WHEN r.province <> '' THEN c.permanent_province_code = r.province
                                ELSE false END) AS allowed,
           r.children, r.n
    FROM req r
    CROSS JOIN LATERAL (
        -- The holder of the number now; only if none, who held it before (the second branch
        -- runs only when the first returns no row).
        (SELECT * FROM {citizen} c1 WHERE c1.id_number = r.number)
        UNION ALL
        (SELECT * FROM {citizen} c2
         WHERE c2.id = (SELECT x.citizen_id FROM {change} x WHERE x.old_number = r.number
                        ORDER BY x.id DESC LIMIT 1))
        LIMIT 1
    ) c
    LEFT JOIN {household} h ON h.id = c.household_id
), ev AS (
    INSERT INTO {event} (occurred_at, actor_user_id, actor_label, organisation_id, organisation_name,
                         purpose, action, subject_citizen_id, result, case_reference, detail,
                         prev_hash, hash)
    SELECT statement_timestamp(), r.user_id, r.label, r.org_id, r.org_name, r.purpose,
           'registry.read', hit.id,
           CASE WHEN hit.id IS NULL THEN '{missing}' WHEN hit.allowed THEN '{ok}' ELSE '{denied}' END,
           r.case_ref,
           CASE WHEN hit.id IS NULL OR hit.allowed THEN '{{"by": "id_number"}}'::jsonb
                ELSE '{{"reason": "jurisdiction"}}'::jsonb END,
           '', ''
    FROM (SELECT set_config('synchronous_commit',
                            CASE WHEN %(async_commit)s THEN 'off'
                                 ELSE current_setting('synchronous_commit') END,
                            true)) AS s
    CROSS JOIN req r
    LEFT JOIN hit ON hit.n = r.n
    ORDER BY r.n
)
SELECT hit.*,
       CASE WHEN hit.allowed AND hit.children THEN json_build_array(
           (SELECT coalesce(json_agg(o.number ORDER BY o.id), '[]') FROM {old} o WHERE o.citizen_id = hit.id),
           (SELECT coalesce(json_agg(x.old_number ORDER BY x.id), '[]') FROM {change} x
            WHERE x.citizen_id = hit.id),
           (SELECT coalesce(json_agg(json_build_array(k.kind, k.card_number, k.issued_on, k.expires_on,
                                                      k.status)
                                     ORDER BY k.issued_on DESC, k.id DESC), '[]')
            FROM {card} k WHERE k.citizen_id = hit.id))
       END
FROM hit
"""  # noqa: S608


_SQL: str | None = None


def _sql() -> str:
    global _SQL
    if _SQL is None:
        _SQL = _statement()
    return _SQL


@dataclass(frozen=True)
class Request:
    """One look-up: who asks, for what purpose, which number, and whether the purpose may
    receive the children (old numbers, previous numbers, cards)."""

    ctx: AccessContext
    id_number: str
    with_children: bool


# ("ok", row) | ("denied", citizen id) | ("missing", None); the audit event is written in each case.
Outcome = tuple[str, Any]


def run_batch(
    conn: psycopg.Connection[Any], requests: Sequence[Request], *, async_commit: bool
) -> list[Outcome]:
    """Run the statement for ``requests`` on ``conn``: one round trip, one event per request.

    ``async_commit``: the statement's transaction commits without waiting for the WAL flush
    (ADR 0005). Pass it only when the statement is its own transaction, never inside a caller's
    transaction that may hold writes.
    """
    # One JSON parameter: psycopg dumps one string far faster than eleven arrays.
    params = {"requests": requests_json(requests), "async_commit": async_commit}
    # A server-binding cursor (Django's own cursors bind on the client and cannot prepare).
    with psycopg.Cursor(conn) as cur:
        cur.execute(_sql(), params, prepare=True, binary=True)
        rows = cur.fetchall()
    return outcomes_of(rows, len(requests))


def requests_json(requests: Sequence[Request]) -> str:
    """The statement's ``requests`` parameter: the look-ups as one JSON array."""
    return json.dumps(
        [
            {
                "n": i,
                "number": r.id_number,
                "is_system": r.ctx.actor.is_system,
                "ward": r.ctx.actor.jurisdiction_ward_code or "",
                "province": r.ctx.actor.jurisdiction_province_code or "",
                "children": r.with_children,
                "user_id": r.ctx.actor.user_id,
                "label": r.ctx.actor.label,
                "org_id": r.ctx.actor.organisation_id,
                "org_name": r.ctx.actor.organisation_name,
                "purpose": r.ctx.purpose,
                "case_ref": r.ctx.case_reference,
            }
            for i, r in enumerate(requests)
        ],
        ensure_ascii=False,
    )


def outcomes_of(rows: Sequence[Any], count: int) -> list[Outcome]:
    """The outcomes of ``count`` look-ups from the statement's ``rows``, in request order."""
    outcomes: list[Outcome] = [("missing", None)] * count
    for row in rows:
        i = row[_N + 3]  # the request's position
        outcomes[i] = ("ok", row) if row[_N + 1] else ("denied", row[0])
    return outcomes


def prepare_sql(name: str) -> str:
    """``PREPARE name (json, boolean) AS`` the statement, for a caller that runs it with
    ``EXECUTE name('<requests>', <async_commit>)`` inside a simple-protocol batch of statements
    (the exchange gateway's fast path, ADR 0010 §17). The name is the caller's constant."""
    body = _sql().replace("%(requests)s", "$1").replace("%(async_commit)s", "$2")
    assert "%(" not in body
    return f"PREPARE {name} (json, boolean) AS {body}"


def lookup(ctx: AccessContext, id_number: str, *, with_children: bool, db: BaseDatabaseWrapper) -> Outcome:
    """One look-up. Inside a caller's transaction it runs there, with the caller's commit mode;
    otherwise it joins the process's coalescer, which groups concurrent look-ups into one
    statement on connections of its own and commits each group asynchronously (ADR 0005/0006).
    With ``DANCU_LOOKUP_LANES = 0`` it runs alone on the caller's connection instead."""
    request = Request(ctx, id_number, with_children)
    lanes = settings.DANCU_LOOKUP_LANES
    if db.in_atomic_block or not lanes:
        db.ensure_connection()
        return run_batch(db.connection, [request], async_commit=not db.in_atomic_block)[0]
    return _coalescer(lanes).submit(request)


Lane = Callable[[list[Request]], list[Outcome]]


class _Slot:
    """A waiting caller. ``gate`` is a plain lock held from creation until the caller may go on
    (its outcome is in, or it has been handed a lane and a batch to lead): the cheapest wake-up
    CPython has."""

    __slots__ = ("batch", "error", "gate", "lane", "outcome", "request")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.gate = threading.Lock()
        self.gate.acquire()
        self.lane: Lane | None = None
        self.batch: list[_Slot] = []
        self.outcome: Outcome | None = None
        self.error: BaseException | None = None


class Coalescer:
    """Groups look-ups from concurrent threads into few statements (leader/follower batching).

    Each *lane* runs one statement at a time (a connection of its own). A caller that arrives
    while a lane is free takes it and runs alone (no waiting for company). Otherwise it waits;
    when a lane's statement ends, its leader hands each caller of that batch its outcome and
    passes the lane, with everything pending (up to ``max_batch``), to the oldest waiting caller,
    so no caller serves more than one batch. Under load each statement carries everything that
    arrived while the lanes were busy, and two lanes let the client prepare one batch while the
    server runs the other. Every caller returns only after the statement holding its audit
    event has committed.

    Invariant (under ``_lock``): a lane is free only while nothing is pending; batches are
    taken from the pending queue only under the lock, together with the lane that runs them.
    """

    def __init__(self, lanes: Sequence[Lane], *, max_batch: int = 256) -> None:
        if not lanes:
            raise ValueError("a coalescer needs at least one lane")
        self._free = list(lanes)
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._pending: list[_Slot] = []

    def submit(self, request: Request) -> Outcome:
        slot = _Slot(request)
        with self._lock:
            if self._free:
                slot.lane, slot.batch = self._free.pop(), [slot]
            else:
                self._pending.append(slot)
        if slot.lane is None:
            slot.gate.acquire()  # released with an outcome, or with a lane and a batch to lead
        if slot.lane is not None:
            self._lead(slot, slot.lane, slot.batch)
        if slot.error is not None:
            raise slot.error
        assert slot.outcome is not None
        return slot.outcome

    def _lead(self, leader: _Slot, lane: Lane, batch: list[_Slot]) -> None:
        leader.lane, leader.batch = None, []
        try:
            outcomes = lane([s.request for s in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError("the look-up statement returned a wrong number of outcomes")
        except BaseException as exc:  # every caller of the batch sees the failure
            for s in batch:
                s.error = exc
        else:
            for s, outcome in zip(batch, outcomes, strict=True):
                s.outcome = outcome
        with self._lock:
            if self._pending:
                nxt = self._pending[0]
                nxt.lane, nxt.batch = lane, self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                nxt.gate.release()
            else:
                self._free.append(lane)
        for s in batch:
            if s is not leader:
                s.gate.release()


class _Connection:
    """A lane's own autocommit connection, opened lazily with Django's settings and reopened
    after a failure or in a forked child process."""

    def __init__(self) -> None:
        self._conn: psycopg.Connection[Any] | None = None
        self._pid = 0

    def __call__(self, requests: list[Request]) -> list[Outcome]:
        return self.run(lambda conn: run_batch(conn, requests, async_commit=True))

    def run(self, work: Callable[[psycopg.Connection[Any]], Any]) -> Any:
        """``work`` on this lane's connection (opened now if need be; closed if it broke)."""
        if self._conn is None or self._conn.closed or self._pid != os.getpid():
            wrapper = connection  # the thread's Django connection: only its settings are used
            self._conn = wrapper.get_new_connection(wrapper.get_connection_params())
            self._conn.autocommit = True
            self._pid = os.getpid()
        try:
            return work(self._conn)
        except psycopg.OperationalError:
            self.close()
            raise

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None


_CONNECTIONS: list[_Connection] = []
_COALESCER: Coalescer | None = None
_INIT_LOCK = threading.Lock()


def _coalescer(lanes: int) -> Coalescer:
    """The process's coalescer with ``lanes`` connections (two by default: one statement being
    prepared by the client while the server runs the other)."""
    global _COALESCER
    if _COALESCER is None or len(_CONNECTIONS) != lanes:
        with _INIT_LOCK:
            if _COALESCER is None or len(_CONNECTIONS) != lanes:
                for conn in _CONNECTIONS:
                    conn.close()
                _CONNECTIONS[:] = [_Connection() for _ in range(lanes)]
                _COALESCER = Coalescer(_CONNECTIONS)
    return _COALESCER


def close() -> None:
    """Close the lanes' connections (tests that drop their database; server shutdown)."""
    with _INIT_LOCK:
        for conn in _CONNECTIONS:
            conn.close()


def view_from_row(row: Any, purpose: str, allowed: frozenset[str], all_fields: frozenset[str]) -> CitizenView:
    """The purpose's DTO from the statement's row (same shape as ``services._view``)."""
    (
        pk,
        number,
        full_name,
        version,
        dob,
        precision,
        sex,
        family,
        middle,
        given,
        nationality,
        ethnicity,
        religion,
        birth_code,
        origin_text,
        origin_legacy,
        perm_text,
        perm_legacy,
        perm_ward,
        perm_province,
        temp_text,
        temp_ward,
        relationship,
        life_status,
        date_of_death,
    ) = row[:_N]
    household_number = row[_N]
    children = row[_N + 4]  # [old numbers, previous numbers, cards], or None when not allowed
    values: dict[str, Any] = {
        "date_of_birth": dob,
        "dob_precision": precision,
        "sex": sex,
        "family_name": family,
        "middle_name": middle,
        "given_name": given,
        "nationality": nationality,
        "ethnicity": ethnicity,
        "religion": religion,
        "birth_registration_code": birth_code,
        "origin": _address(origin_text, origin_legacy),
        "permanent_address": _address(perm_text, perm_legacy, perm_ward, perm_province),
        "temporary_address": _address(temp_text, "", temp_ward),
        "household_number": household_number,
        "relationship_to_head": relationship or None,
        "life_status": life_status,
        "date_of_death": date_of_death,
    }
    if children is not None:
        olds, previous, cards = _json(children)
        values["old_id_numbers"] = olds
        values["previous_id_numbers"] = previous
        values["cards"] = [
            CardView(kind, number_, date.fromisoformat(issued), _date_or_none(expires), status)
            for kind, number_, issued, expires, status in cards
        ]
    return CitizenView(
        citizen_id=pk,
        id_number=number,
        full_name=full_name,
        version=version,
        fields_withheld=list(_withheld(allowed, all_fields)),
        **{k: v for k, v in values.items() if k in allowed},
    )


@functools.lru_cache(maxsize=64)
def _withheld(allowed: frozenset[str], all_fields: frozenset[str]) -> tuple[str, ...]:
    """The fields a purpose does not receive, sorted (computed once per purpose)."""
    return tuple(sorted(all_fields - allowed))


def _json(value: Any) -> Any:
    """psycopg loads ``json`` columns already; a custom loader may hand back text."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _date_or_none(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
