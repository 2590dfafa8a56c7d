"""The gateway's fast path on PostgreSQL: cached routes and group-committed exchanges (ADR 0010 §13).

The ORM path (``gateway._handle_orm``) reads the client, the service and the grants, checks the
request id, runs the registry's look-up and writes the message log in about eleven round trips an
exchange. On PostgreSQL, outside a caller's transaction, exchanges of the registry's look-up
services (``providers.LOOKUPS``) take this path instead:

* **Routes cached per process.** The grants of a (client, service) pair — with the client
  subsystem, its member and organisation, the service and its provider — are read once and kept
  under the configuration version read just before them (``models.ConfigVersion``: a trigger on
  every table that decides a route sets it to a fresh sequence value in the writing transaction).
  Every decision is made from the cache; a *refusal* is never answered from it (the ORM path
  re-decides and logs it with fresh data) and drops the pair's route, which the next call reloads.
* **One transaction per group of exchanges.** Concurrent exchanges join the process's coalescer
  (``pg_read.Coalescer``, the registry's leader/follower batching); each group runs on a
  connection of its own (``DANCU_EXCHANGE_LANES``) in one transaction of two round trips, each
  one simple-protocol message of ``EXECUTE``s of statements prepared once per connection
  (``_prepare``, ``_send``; ADR 0010 §18 — psycopg's pipeline mode cost several times the client
  CPU):

  1. ``BEGIN``; the commit mode, the configuration version and the request ids already answered;
     the registry's own look-up statement for the whole group (``pg_read``'s statement: read,
     jurisdiction check and the registry's audit events, ``pg_read.prepare_sql``), inside this
     transaction. An exchange decided under another version is handed back (``stale``): the
     cache is dropped and the ORM path decides it afresh — so a grant revoked, a credential
     withdrawn or a member deactivated stops working for every exchange whose group transaction
     starts after that change committed. No time-to-live is involved. A request id already
     answered, or repeated inside the group, is handed back too (``replay``: the ORM path answers
     it from the log, or 409 on a different request). If any exchange is handed back, the
     transaction is rolled back — its look-ups and audit events with it — and the rest run again.
  2. The leader signs each request and response (Ed25519) and builds the log rows; one prepared
     statement inserts the message-log rows and their tracker rows (the citizens each answer
     concerned), then ``COMMIT``. With ``DANCU_EXCHANGE_DURABLE_COMMIT`` (the default) the commit
     waits for the WAL flush: one flush for the whole group (group commit); every caller returns
     only after it. An acknowledged exchange is never lost; a crash before the commit loses the
     whole group, audit events included — nothing half-written.

Two groups on two lanes carrying the same new request id at the same instant: the second insert
is skipped (``ON CONFLICT DO NOTHING``) and that caller gets the stored answer; its look-up's audit
event stays (the registry was read).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import psycopg
import psycopg.errors
from django.conf import settings
from django.db import connection
from psycopg import generators, pq
from psycopg.adapt import Transformer

from dancu.blocks.audit.context import Actor, VerifiedEndUser
from dancu.blocks.exchange.models import ConfigVersion, Grant, Message, MessageSubject
from dancu.blocks.registry import pg_read


@dataclass
class Route:
    """The grants of one (client, service) pair as read under configuration ``version``, and what
    is built from them (``actors``: by grant and end user, ``gateway._actor``; ``signing``) — valid
    exactly as long as the route, since each is made of the rows read with it."""

    version: int
    grants: list[Grant]
    # By (grant, end user, the verified citizen or None: ADR 0010 §22).
    actors: dict[tuple[int, str, VerifiedEndUser | None], Actor] = field(default_factory=dict)
    # The client's and provider's log columns and signing keys (``gateway._signing``), built once.
    signing: dict[str, Any] | None = None


_ROUTES: dict[tuple[str, str], Route] = {}
_ROUTES_LOCK = threading.Lock()
_VERSION_SQL = f"SELECT coalesce((SELECT version FROM {ConfigVersion._meta.db_table} WHERE id = 1), 0)"  # noqa: S608


def enabled() -> bool:
    """Whether this call may take the fast path: PostgreSQL, lanes configured, and not inside a
    caller's transaction (whose uncommitted rows the lanes' connections could not see)."""
    return (
        connection.vendor == "postgresql"
        and int(settings.DANCU_EXCHANGE_LANES) > 0
        and not connection.in_atomic_block
    )


def route(client_id: str, service_id: str, load: Callable[[str, str], list[Grant]]) -> Route:
    """The cached route, or one ``load``-ed now under the version read just before it (so that
    a change committed in between makes the route look stale, never fresh)."""
    key = (client_id, service_id)
    found = _ROUTES.get(key)
    if found is not None:
        return found
    with connection.cursor() as cur:
        cur.execute(_VERSION_SQL)
        row = cur.fetchone()
    fresh = Route(int(row[0]) if row else 0, load(client_id, service_id))
    with _ROUTES_LOCK:
        if len(_ROUTES) > 10_000:  # bounded: pairs are few in practice
            _ROUTES.clear()
        _ROUTES[key] = fresh
    return fresh


def forget_routes() -> None:
    """Drop every cached route (a newer configuration version was seen)."""
    with _ROUTES_LOCK:
        _ROUTES.clear()


def forget_route(client_id: str, service_id: str) -> None:
    """Drop the cached route of one (client, service) pair: a call decided from it was refused, and
    the ORM path re-decides it with fresh data. Without this, a route cached before a grant was
    approved (or a service published) would refuse from the cache, and send every later call of
    the pair to the ORM path, until some other change made the routes stale."""
    with _ROUTES_LOCK:
        _ROUTES.pop((client_id, service_id), None)


@dataclass(eq=False)
class Row:
    """One exchange's message-log row before its group inserts it: the columns of
    ``_MESSAGE_COLUMNS`` (``request`` and ``response`` as documents) and the canonical JSON text of
    those two documents — exactly what was hashed and signed, sent to the database as it is
    (``_row_json``) instead of being encoded a second time. ``pk`` once inserted (0 before)."""

    columns: dict[str, Any]
    request_json: str
    response_json: str
    pk: int = 0

    # What ``gateway._response`` reads, as on a saved ``Message``.
    @property
    def status(self) -> int:
        return int(self.columns["status"])

    @property
    def response(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.columns["response"])

    @property
    def request_hash(self) -> str:
        return str(self.columns["request_hash"])

    @property
    def response_hash(self) -> str:
        return str(self.columns["response_hash"])

    @property
    def response_signature(self) -> str:
        return str(self.columns["response_signature"])

    @property
    def response_key_id(self) -> str:
        return str(self.columns["response_key_id"])


@dataclass(eq=False)
class Job:
    """One exchange for a lane: its look-up (None when the registry's checks already refused),
    the route version it was decided under, and ``finish``, which turns the look-up's outcome into
    the signed, unsaved log row. The lane fills ``state`` (``done``, ``stale``, ``replay``, or
    ``alone``: to be served by itself, outside any group — its row could not be built or stored,
    ``error`` says why when known), ``message`` and ``error``."""

    client_id: str
    request_id: str
    version: int
    lookup: pg_read.Request | None
    finish: Callable[[pg_read.Outcome | None], Row]
    state: str = ""
    message: Row | None = None
    error: BaseException | None = field(default=None, repr=False)


_MESSAGE_COLUMNS = (
    ("occurred_at", "timestamptz"),
    ("client_id", "text"),
    ("client_name", "text"),
    ("client_member_pk", "bigint"),
    ("service_id", "text"),
    ("provider_name", "text"),
    ("provider_member_pk", "bigint"),
    ("grant_pk", "bigint"),
    ("request_id", "text"),
    ("purpose", "text"),
    ("end_user", "text"),
    ("case_reference", "text"),
    ("outcome", "text"),
    ("status", "int"),
    ("rule", "text"),
    ("fingerprint", "text"),
    ("request", "jsonb"),
    ("request_hash", "text"),
    ("request_signature", "text"),
    ("request_key_id", "text"),
    ("response", "jsonb"),
    ("response_hash", "text"),
    ("response_signature", "text"),
    ("response_key_id", "text"),
    ("fields", "jsonb"),
    ("subjects", "jsonb"),
)


def _insert_sql() -> str:
    """The log's insert: message rows, then the tracker rows of those inserted (built from the
    models' table names; no input is interpolated)."""
    message, subject = Message._meta.db_table, MessageSubject._meta.db_table
    names = ", ".join(n for n, _ in _MESSAGE_COLUMNS)
    typed = ", ".join(f"{n} {t}" for n, t in _MESSAGE_COLUMNS)
    picked = ", ".join(f"r.{n}" for n, _ in _MESSAGE_COLUMNS)
    answered = ", ".join(f"'{o}'" for o in (Message.Outcome.OK, Message.Outcome.PROVIDER_ERROR))
    return f"""
WITH r AS MATERIALIZED (
    SELECT * FROM json_to_recordset($1::json) AS r(n int, {typed})
), ins AS (
    INSERT INTO {message} ({names}, prev_hash, hash)
    SELECT {picked}, '', '' FROM r ORDER BY r.n
    ON CONFLICT (client_id, request_id) WHERE outcome IN ({answered}) DO NOTHING
    RETURNING id, client_id, request_id, subjects
), tracked AS (
    INSERT INTO {subject} (message_id, citizen_id)
    SELECT DISTINCT ins.id, s.citizen::bigint
    FROM ins CROSS JOIN LATERAL jsonb_array_elements_text(ins.subjects) AS s(citizen)
)
SELECT r.n, ins.id FROM ins JOIN r ON r.client_id = ins.client_id AND r.request_id = ins.request_id
"""  # noqa: S608


def _answered_sql() -> str:
    message = Message._meta.db_table
    answered = ", ".join(f"'{o}'" for o in (Message.Outcome.OK, Message.Outcome.PROVIDER_ERROR))
    return f"""
SELECT ({_VERSION_SQL}),
       -- This transaction's commit mode (ADR 0010; DANCU_EXCHANGE_DURABLE_COMMIT).
       set_config('synchronous_commit', $2, true),
       (SELECT coalesce(json_agg(json_build_array(k.c, k.r)), '[]')
        FROM json_to_recordset($1::json) AS k(c text, r text)
        -- One index probe per request id (the idempotency index), whatever the planner thinks.
        CROSS JOIN LATERAL (SELECT 1 FROM {message} m
                            WHERE m.client_id = k.c AND m.request_id = k.r AND m.outcome IN ({answered})
                            LIMIT 1) AS hit)
"""  # noqa: S608


# The group's statements, prepared once per lane connection under these names (ADR 0010 §17):
# each round trip is then one simple-protocol message of ``EXECUTE``s, not a pipeline.
_ANSWERED, _LOOKUP, _INSERT = "dancu_exchange_answered", "dancu_exchange_lookup", "dancu_exchange_insert"
_PREPARED: weakref.WeakKeyDictionary[psycopg.Connection[Any], bool] = weakref.WeakKeyDictionary()


def _prepare(conn: psycopg.Connection[Any]) -> None:
    """Prepare the group's three statements on ``conn`` (once per connection; a statement the
    session already holds is kept)."""
    if conn in _PREPARED:
        return
    for sql in (
        f"PREPARE {_ANSWERED} (json, text) AS {_answered_sql()}",
        f"PREPARE {_INSERT} (json) AS {_insert_sql()}",
        pg_read.prepare_sql(_LOOKUP),
    ):
        with contextlib.suppress(psycopg.errors.DuplicatePreparedStatement):
            conn.execute(sql)
    _PREPARED[conn] = True


def _send(conn: psycopg.Connection[Any], query: bytes) -> list[list[tuple[Any, ...]]]:
    """Send ``query`` (statements separated by ``;``, no parameters) as one simple-protocol message
    and return the rows of each statement that returned rows, in order; the first error raises
    (the server skipped the statements after it). psycopg's own cursor costs several times the
    client CPU of these few calls (its prepare bookkeeping, one result at a time)."""
    pgconn = conn.pgconn
    pgconn.send_query(query)
    results = conn.wait(generators.execute(pgconn))
    out = []
    for result in results:
        if result.status == pq.ExecStatus.FATAL_ERROR:
            raise psycopg.errors.error_from_result(result, encoding=conn.info.encoding)
        if result.status == pq.ExecStatus.TUPLES_OK:
            loader = Transformer(conn)
            loader.set_pgresult(result)
            out.append(loader.load_rows(0, result.ntuples, tuple))
    return out


def _literal(conn: psycopg.Connection[Any], text: str) -> bytes:
    """``text`` as an SQL string literal, escaped by libpq for this connection (``PQescapeLiteral``)."""
    return pq.Escaping(conn.pgconn).escape_literal(text.encode("utf-8"))


_SPLICED = ("request", "response")
_PLAIN = tuple(name for name, _ in _MESSAGE_COLUMNS if name not in _SPLICED)


def _row_json(n: int, row: Row) -> str:
    """Row ``n`` of the group as a JSON object for ``json_to_recordset``: its plain columns encoded
    here, its request and response documents spliced in as the canonical JSON text that was signed
    (valid JSON: ``crypto.canonical``), so they are not encoded again. A :class:`Unstorable` if
    PostgreSQL would refuse the row: a NUL character (no ``text``/``jsonb`` value may hold one)
    or a lone surrogate (not UTF-8) — checked per row, so that one such row cannot fail its group's
    insert (ADR 0010 §19)."""
    cols = row.columns
    plain: dict[str, Any] = {"n": n}
    for name in _PLAIN:
        plain[name] = cols[name]
    plain["occurred_at"] = cols["occurred_at"].isoformat()
    try:
        head = json.dumps(plain, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise Unstorable("a column is not a finite JSON value") from None
    text = f'{head[:-1]},"request":{row.request_json},"response":{row.response_json}}}'
    if "\\u0000" in text and _NUL_ESCAPE.search(text):  # the substring test first: C speed
        raise Unstorable("a NUL character (PostgreSQL text and jsonb cannot hold one)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Unstorable("a lone surrogate (not UTF-8)") from None
    return text


# ``\u0000`` as a JSON escape (preceded by an even number of backslashes), not the text "\u0000".
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


class Unstorable(ValueError):
    """A job's log row that PostgreSQL would refuse (``_row_json``)."""


def _rows_json(rows: list[Row]) -> str:
    """The group's rows as one JSON array for ``json_to_recordset`` (``_row_json`` each)."""
    return "[" + ",".join(_row_json(n, row) for n, row in enumerate(rows)) + "]"


def run_group(conn: psycopg.Connection[Any], jobs: list[Job]) -> list[Job]:
    """Run a group of exchanges in one transaction on ``conn`` (an autocommit connection; see the
    module docstring). Every job comes back with its ``state``.

    Each round trip is one simple-protocol message executing statements prepared on the lane's
    connection (``_prepare``), their parameters sent as literals escaped by libpq: psycopg's
    pipeline mode cost several times the client CPU of one such message (ADR 0010 §17)."""
    durable = _literal(conn, "on" if settings.DANCU_EXCHANGE_DURABLE_COMMIT else "off")
    live = list(jobs)
    try:
        _prepare(conn)
        while True:
            # Round trip 1: open the transaction, read the configuration version and the
            # request ids already answered, and run the registry's look-ups of the group.
            ids = json.dumps([{"c": j.client_id, "r": j.request_id} for j in live], ensure_ascii=False)
            looked = [j for j in live if j.lookup is not None]
            query = (
                b"BEGIN; EXECUTE " + _ANSWERED.encode() + b"(" + _literal(conn, ids) + b", " + durable + b")"
            )
            if looked:
                requests = pg_read.requests_json([cast(pg_read.Request, j.lookup) for j in looked])
                query += b"; EXECUTE " + _LOOKUP.encode() + b"(" + _literal(conn, requests) + b", false)"
            try:
                try:
                    found = _send(conn, query)
                except psycopg.errors.InvalidSqlStatementName:
                    # The session lost its prepared statements (``DISCARD ALL``, or a pooler that
                    # moved the connection — the lanes need session-level connections, see
                    # docs/configuration.md): prepare them again and run the round trip once more.
                    conn.execute("ROLLBACK")
                    _PREPARED.pop(conn, None)
                    _prepare(conn)
                    found = _send(conn, query)
            except _DATA_ERRORS:
                # The database refused some job's data, and the message does not say whose:
                # nothing of the group stays; each job is served alone (ADR 0010 §19).
                conn.execute("ROLLBACK")
                return _alone(jobs, live)
            row = found[0][0]
            outcomes = pg_read.outcomes_of(found[1], len(looked)) if looked else []
            version, answered = int(row[0]), {tuple(p) for p in _json(row[2])}
            keep: list[Job] = []
            seen: set[tuple[str, str]] = set()
            for job in live:
                key = (job.client_id, job.request_id)
                if job.version != version:
                    job.state = "stale"
                elif key in answered or key in seen:
                    job.state = "replay"
                else:
                    seen.add(key)
                    keep.append(job)
            if len(keep) == len(live):
                # The answers: each job's signed log row, and its JSON for the insert. A job whose
                # row cannot be built (its answer, a signature, a value PostgreSQL would refuse)
                # is taken out of the group alone — the others' answers do not depend on it.
                by_job = dict(zip(looked, outcomes, strict=True))
                parts: list[str] = []
                for job in live:
                    try:
                        job.message = job.finish(by_job.get(job))
                        parts.append(_row_json(len(parts), job.message))
                    except Exception as exc:  # this job's failure, not the group's
                        job.state, job.error, job.message = "alone", exc, None
                        keep.remove(job)
                if len(keep) == len(live):
                    break
            # Some job must not be served here (decided under an older configuration, its request
            # id answered, or its row could not be built): undo the group's look-ups and audit
            # events — that job's included — and run the rest again.
            conn.execute("ROLLBACK")
            live = keep
            if not live:
                return jobs
        # Round trip 2: the log's rows and their tracker rows, and the commit (which waits for
        # the WAL flush when the commit is durable: the answer is acknowledged only after it).
        rows = _literal(conn, "[" + ",".join(parts) + "]")
        try:
            found = _send(conn, b"EXECUTE " + _INSERT.encode() + b"(" + rows + b"); COMMIT")
        except _DATA_ERRORS:
            conn.execute("ROLLBACK")
            return _alone(jobs, live)
        inserted = {int(n): int(pk) for n, pk in found[0]}
    except BaseException:
        if not conn.closed:
            try:
                conn.execute("ROLLBACK")
            except psycopg.Error:
                conn.close()
        raise
    for n, job in enumerate(live):
        assert job.message is not None
        if n in inserted:
            job.message.pk = inserted[n]
            job.state = "done"
        else:  # another group answered the same request id first
            job.state = "replay"
    return jobs


# What the database raises for a value it refuses (SQLSTATE classes 22 and 23): a property of some
# job's data, never of the group as such.
_DATA_ERRORS = (psycopg.errors.DataError, psycopg.errors.IntegrityError)


def _alone(jobs: list[Job], live: list[Job]) -> list[Job]:
    """Hand ``live`` back to be served one by one (state ``alone``): the group's transaction was
    rolled back because the database refused a value without saying whose; the ORM path serves each
    in its own transaction, so a bad one fails alone and the others are answered."""
    for job in live:
        job.state, job.message = "alone", None
    return jobs


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


class _Lane(pg_read._Connection):
    """A lane: the registry coalescer's kind of connection (own, autocommit, reopened after a
    failure or in a forked child), running groups of exchanges instead of look-ups."""

    def __call__(self, jobs: list[Job]) -> list[Job]:  # type: ignore[override]
        return cast(list[Job], self.run(lambda conn: run_group(conn, jobs)))


_LANES: list[_Lane] = []
_COALESCER: pg_read.Coalescer | None = None
_INIT_LOCK = threading.Lock()


def submit(job: Job) -> Job:
    """Run ``job`` in the next group of the process's coalescer; it returns after the group's
    transaction ended (committed, or the error raised here)."""
    global _COALESCER
    lanes = int(settings.DANCU_EXCHANGE_LANES)
    if _COALESCER is None or len(_LANES) != lanes:
        with _INIT_LOCK:
            if _COALESCER is None or len(_LANES) != lanes:
                for lane in _LANES:
                    lane.close()
                _LANES[:] = [_Lane() for _ in range(lanes)]
                # The coalescer is the registry's; its lanes here take and return jobs.
                _COALESCER = pg_read.Coalescer(cast(Any, _LANES))
    result = _COALESCER.submit(cast(Any, job))
    return cast(Job, result)


def close() -> None:
    """Close the lanes' connections and drop the cached routes (tests that drop their database)."""
    with _INIT_LOCK:
        for lane in _LANES:
            lane.close()
    forget_routes()
