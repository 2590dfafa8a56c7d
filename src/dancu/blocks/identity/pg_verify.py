"""The verification hot path on PostgreSQL: one prepared statement reads the registry, writes the
receipt and the audit event and screens the alert list (ADR 0014, after ADR 0006) — for one
verification or for a batch of concurrent ones (ADR 0020).

Batches: the statement takes its verifications as one JSON parameter (``json_to_recordset``, as
ADR 0006's look-up) and decides and records each one exactly as it would alone; ``submit`` joins
the process's coalescer (``registry.pg_read.Coalescer``: leader/follower batching on connections
of its own, ``DANCU_VERIFY_LANES``), so the verifications that arrive while a statement runs
share the next one — one round trip, one plan execution and one commit for all of them. Each
caller returns only after the statement holding its receipt and audit event has committed.

``verify_qr`` serves the common case of ``services.verify``: a card QR in ``yes_no`` mode, read
from a genuine, current card of a living person — the answer is ``match`` with no reasons and the
name score 1.0. The statement decides that case *in the database*, by exact comparisons that imply
``registry.matching.judge`` would answer the same:

* the citizen holds the number now (``number_is_current``), has exactly the claimed name (already
  ``names.normalise_name``-d in Python: ``match_names`` says ``exact``), the claimed date of birth
  known to the day, the claimed sex, is ``alive``; an old CMND number on the QR is one of theirs
  (or they have none on record);
* the card with that number and issue date (the newest row if two, as ``_card_findings`` picks)
  is ``valid``, unexpired (a CMND not after ``CMND_INVALID_FROM``), and no newer card exists.

When all hold and the ``request_id`` is new for the organisation, the statement inserts the
``VerificationRecord`` (``ON CONFLICT`` on the per-organisation request-id constraint), the
``identity.verify`` audit event the citizen sees (the same columns and detail as
``registry.match_identity``), and, for each alert-list entry in force for the person, the
``AlertHit`` and its ``alerts.hit`` event in the name of the owning police unit (as
``alerts.screen``). Every insert reads the receipt's ``RETURNING`` row, so either all of them are
written or none; the API key is re-checked in the same statement (not revoked, organisation
active), so a revoked key writes nothing.

Anything else — a mismatch, a card not valid, a number unknown or replaced, an earlier receipt
for the request id — writes nothing and says so: the caller then runs the reference path
(``services.verify``, ORM), which decides and records it. ``tests/blocks/identity/test_pg_verify.py``
checks that both paths give the same answer, receipt and events.

Commit: the statement is its own transaction and, like every record of a read (ADR 0005), commits
without waiting for the WAL flush (``synchronous_commit`` off for that transaction only): a crash
of the database server may lose the verifications of its last fraction of a second, never
corrupt or reorder them (ADR 0014 §7). Not so when the person is on the alert list: a police
alert (``AlertHit`` and its ``alerts.hit`` event) is not a record of a read, so a statement that
wrote a hit keeps the session's durable commit, as the ORM path does (the commit mode is set in
the final ``SELECT``, after the ``hits`` insert has run).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

import psycopg
from django.conf import settings

from dancu.blocks.alerts.models import AlertEntry, AlertHit
from dancu.blocks.alerts.services import SCREEN_PURPOSE
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity.models import VerificationRecord
from dancu.blocks.organisations.models import ApiKey, Organisation
from dancu.blocks.registry import pg_read
from dancu.blocks.registry.matching import CMND_INVALID_FROM
from dancu.blocks.registry.models import Citizen, IdentityCard, OldIdNumber

ACTION = "identity.verify"


def _statement() -> str:
    """The SQL text, built once from the models' table names (no user input is interpolated).

    One row of ``i`` per verification (``json_to_recordset`` of one JSON parameter, as ADR 0006);
    every CTE keeps the row's position ``n``, and the final ``SELECT`` gives one row per position.
    No SQL comments below: the text is collapsed to one line. ``earlier`` repeats the predicate of
    the partial unique index on (organisation_id, request_id) so that the plan can use that index;
    it and the alert-list screening are ``LATERAL`` look-ups, one index probe per row of ``i``:
    joined as sets, the planner (estimating 100 rows for ``json_to_recordset``) hashed the whole
    receipt table on every call. So is the registry look-up ``cit`` (``OFFSET 0`` keeps the
    sub-select from being pulled up into a join): on a small registry (20,000 citizens) the join
    hashed the whole citizen table, ~20 ms a statement; a probe of ``id_number``'s unique index
    per item costs the same on 20,000 or 8.5 million rows.

    The answer is three text-format columns a row, in the order of ``n``: the flags (1 written,
    2 found, 4 key ok), the earlier receipt as one JSON text (NULL if none) and the commit mode
    set. Few columns of cheap types: psycopg builds a loader per column and result (a
    ``timestamptz`` loader reads the session's time zone each time), ~10 % of the client CPU. The
    date from which a CMND no longer proves identity is a literal (a constant of the code, not a
    parameter: one dumper less per call)."""
    receipt, event = VerificationRecord._meta.db_table, AuditEvent._meta.db_table
    citizen, card, old = Citizen._meta.db_table, IdentityCard._meta.db_table, OldIdNumber._meta.db_table
    key, org = ApiKey._meta.db_table, Organisation._meta.db_table
    entry, hit = AlertEntry._meta.db_table, AlertHit._meta.db_table
    return f"""
WITH i AS MATERIALIZED (
    SELECT * FROM json_to_recordset($1::json) AS t(
        n int, org_id bigint, org_name text, org_kind text, ward text, province text, key_id bigint,
        label text, purpose text, case_ref text, request_id text, sha text, receipt uuid,
        response jsonb, at timestamptz, today date, number text, name text, born date, sex text,
        old text, issued date)
), earlier AS MATERIALIZED (
    SELECT i.n, v.receipt_id, v.created_at, v.request_sha256, v.response
    FROM i CROSS JOIN LATERAL (
        SELECT v.receipt_id, v.created_at, v.request_sha256, v.response FROM {receipt} v
        WHERE v.organisation_id = i.org_id AND v.request_id = i.request_id
          AND NOT (v.request_id = '') LIMIT 1) v
), key_ok AS MATERIALIZED (
    SELECT i.n FROM i JOIN {key} k ON k.id = i.key_id JOIN {org} o ON o.id = k.organisation_id
    WHERE k.revoked_at IS NULL AND o.active
), cit AS MATERIALIZED (
    SELECT i.n, c.id FROM i CROSS JOIN LATERAL (
    SELECT c.id FROM {citizen} c
    WHERE c.id_number = i.number AND c.full_name = i.name AND c.date_of_birth = i.born
      AND c.dob_precision = 'day' AND c.sex = i.sex AND c.life_status = 'alive'
      AND (i.old = ''
           OR NOT EXISTS (SELECT 1 FROM {old} o WHERE o.citizen_id = c.id)
           OR EXISTS (SELECT 1 FROM {old} o WHERE o.citizen_id = c.id AND o.number = i.old))
      AND EXISTS (
          SELECT 1 FROM (SELECT k.status, k.kind, k.expires_on FROM {card} k
                         WHERE k.citizen_id = c.id AND k.card_number = i.number
                           AND k.issued_on = i.issued
                         ORDER BY k.id DESC LIMIT 1) k
          WHERE k.status = 'valid' AND (k.expires_on IS NULL OR k.expires_on >= i.today)
            AND (k.kind <> 'cmnd' OR i.today < DATE '{CMND_INVALID_FROM.isoformat()}'))
      AND NOT EXISTS (SELECT 1 FROM {card} k WHERE k.citizen_id = c.id AND k.issued_on > i.issued)
    OFFSET 0) c
), rec AS (
    INSERT INTO {receipt} (receipt_id, created_at, organisation_id, organisation_name, actor_user_id,
                           actor_label, api_key_id, purpose, case_reference, evidence_kind, mode,
                           decision, reason_codes, name_score, subject_citizen_id, request_id,
                           request_sha256, response)
    SELECT i.receipt, i.at, i.org_id, i.org_name, NULL, i.label, i.key_id, i.purpose, i.case_ref,
           'qr', 'yes_no', 'match', '[]'::jsonb, 1.0, cit.id, i.request_id, i.sha, i.response
    FROM i JOIN cit ON cit.n = i.n
    WHERE NOT EXISTS (SELECT 1 FROM earlier e WHERE e.n = i.n)
      AND EXISTS (SELECT 1 FROM key_ok WHERE key_ok.n = i.n)
    ORDER BY i.n
    ON CONFLICT (organisation_id, request_id) WHERE NOT (request_id = '') DO NOTHING
    RETURNING receipt_id, subject_citizen_id
), w AS MATERIALIZED (
    SELECT i.*, rec.subject_citizen_id FROM rec JOIN i ON i.receipt = rec.receipt_id
), ev AS (
    INSERT INTO {event} (occurred_at, actor_user_id, actor_label, organisation_id, organisation_name,
                         purpose, action, subject_citizen_id, result, case_reference, detail,
                         prev_hash, hash)
    SELECT w.at, NULL, w.label, w.org_id, w.org_name, w.purpose, '{ACTION}', w.subject_citizen_id,
           'ok', w.case_ref,
           jsonb_build_object('mode', 'yes_no', 'evidence', 'qr', 'decision', 'match',
                              'reasons', '[]'::jsonb, 'fields', '[]'::jsonb, 'receipt', w.receipt::text),
           '', ''
    FROM w ORDER BY w.n
), hits AS (
    INSERT INTO {hit} (entry_id, subject_citizen_id, where_organisation_id, where_organisation_name,
                       where_organisation_kind, where_ward_code, where_province_code, event,
                       receipt_id, occurred_at, seen_by, seen_at)
    SELECT e.id, w.subject_citizen_id, w.org_id, w.org_name, w.org_kind, w.ward, w.province,
           '{ACTION}', w.receipt::text, w.at, '', NULL
    FROM w CROSS JOIN LATERAL (
        SELECT e.id FROM {entry} e WHERE e.subject_citizen_id = w.subject_citizen_id AND e.active
          AND e.valid_from <= w.at AND (e.valid_until IS NULL OR e.valid_until > w.at)) e
    ORDER BY w.n, e.id
    RETURNING id, entry_id, subject_citizen_id, receipt_id, where_organisation_id, occurred_at
), hit_events AS (
    INSERT INTO {event} (occurred_at, actor_user_id, actor_label, organisation_id, organisation_name,
                         purpose, action, subject_citizen_id, result, case_reference, detail,
                         prev_hash, hash)
    SELECT hits.occurred_at, NULL, 'alert screening', e.issuing_organisation_id,
           e.issuing_organisation_name, '{SCREEN_PURPOSE}', 'alerts.hit', hits.subject_citizen_id,
           'ok', left(e.reference, 100),
           jsonb_build_object('entry', e.id, 'hit', hits.id, 'event', '{ACTION}',
                              'receipt', hits.receipt_id, 'where', hits.where_organisation_id),
           '', ''
    FROM hits JOIN {entry} e ON e.id = hits.entry_id ORDER BY hits.id
)
SELECT CASE WHEN EXISTS (SELECT 1 FROM w WHERE w.n = i.n) THEN 1 ELSE 0 END
       + CASE WHEN EXISTS (SELECT 1 FROM cit WHERE cit.n = i.n) THEN 2 ELSE 0 END
       + CASE WHEN EXISTS (SELECT 1 FROM key_ok WHERE key_ok.n = i.n) THEN 4 ELSE 0 END,
       CASE WHEN e.n IS NOT NULL THEN json_build_object('receipt', e.receipt_id, 'at', e.created_at,
                                                        'sha', e.request_sha256, 'response', e.response)::text
       END,
       (SELECT set_config('synchronous_commit',
                          CASE WHEN $2::bool AND NOT EXISTS (SELECT 1 FROM hits)
                               THEN 'off' ELSE current_setting('synchronous_commit') END, true))
FROM i LEFT JOIN earlier e ON e.n = i.n ORDER BY i.n
"""  # noqa: S608


_SQL: str | None = None


def _sql() -> str:
    """The statement with its whitespace collapsed. Its parameters are PostgreSQL's own ``$n``
    (a ``RawCursor``): psycopg has no placeholders to parse, whatever the statement's length."""
    global _SQL
    if _SQL is None:
        _SQL = " ".join(_statement().split())
    return _SQL


@dataclass(frozen=True)
class Claim:
    """A card QR already parsed and checked (``qr.parse_card_qr``), the name normalised."""

    id_number: str
    full_name: str
    date_of_birth: date
    sex: str
    old_id_number: str
    issued_on: date


@dataclass(frozen=True)
class Requester:
    """An API key and the organisation it acts for (``organisations.services.ApiClient``)."""

    key_id: int
    label: str
    organisation_id: int
    organisation_name: str
    organisation_kind: str
    ward_code: str
    province_code: str


@dataclass(frozen=True)
class Earlier:
    """The receipt already stored for the request id."""

    receipt_id: str
    created_at: datetime
    request_sha256: str
    response: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """``written``: the match was decided and recorded (receipt ``receipt_id``). Otherwise nothing
    was written: ``key_ok`` False (the key was revoked or its organisation deactivated), or an
    ``earlier`` receipt holds the request id, or the case is not an exact match (``found`` says
    whether an exact match exists: True with nothing written means a concurrent call with the
    same request id won the race)."""

    written: bool
    found: bool
    key_ok: bool
    earlier: Earlier | None


@dataclass(frozen=True)
class Item:
    """One verification for the statement: who asks (``requester``), the checked QR (``claim``),
    the receipt it would write (``receipt_id``, ``response`` as ``services._to_json`` stores it),
    the request id and fingerprint that make it idempotent, and its time (``at`` aware,
    ``today`` the local date of ``at``)."""

    requester: Requester
    claim: Claim
    purpose: str
    case_reference: str
    request_id: str
    request_sha256: str
    receipt_id: uuid.UUID
    response: dict[str, Any]
    at: datetime
    today: date


def verify_batch(
    conn: psycopg.Connection[Any], items: Sequence[Item], *, async_commit: bool
) -> list[Outcome]:
    """Run the statement for ``items`` on ``conn``: one round trip, one ``Outcome`` per item, in
    order. Each item is decided and recorded exactly as if it ran alone (its own receipt, event
    and hits, or nothing); two items with the same organisation and request id: the first is
    written, the second finds it taken (``written`` False, ``found`` True) and goes to the
    reference path, as a concurrent request would. ``async_commit``: the statement is its own
    transaction and commits without waiting for the WAL flush (ADR 0005, ADR 0014) unless it
    wrote a police alert; never inside a caller's transaction."""
    if not items:
        return []
    rows = [
        {
            "n": n,
            "org_id": it.requester.organisation_id,
            "org_name": it.requester.organisation_name,
            "org_kind": it.requester.organisation_kind,
            "ward": it.requester.ward_code,
            "province": it.requester.province_code,
            "key_id": it.requester.key_id,
            "label": it.requester.label,
            "purpose": it.purpose,
            "case_ref": it.case_reference,
            "request_id": it.request_id,
            "sha": it.request_sha256,
            "receipt": str(it.receipt_id),
            "response": it.response,
            "at": it.at.isoformat(),
            "today": it.today.isoformat(),
            "number": it.claim.id_number,
            "name": it.claim.full_name,
            "born": it.claim.date_of_birth.isoformat(),
            "sex": it.claim.sex,
            "old": it.claim.old_id_number,
            "issued": it.claim.issued_on.isoformat(),
        }
        for n, it in enumerate(items)
    ]
    # One JSON parameter (psycopg dumps one string far faster than many arrays), on a server-
    # binding raw cursor (Django's own cursors bind on the client and cannot prepare).
    # ``CMND_INVALID_FROM`` is a constant of the code, written into the text as a literal.
    params = (json.dumps(rows, ensure_ascii=False), async_commit)
    cur = _cursor(conn)
    cur.execute(_sql(), params, prepare=True)
    result = cur.fetchall()
    if len(result) != len(items):
        raise RuntimeError("the verification statement returned a wrong number of rows")
    out: list[Outcome] = []
    for flags, e_json, _mode in result:
        earlier = None
        if e_json is not None:
            e = json.loads(e_json)
            earlier = Earlier(
                str(e["receipt"]), datetime.fromisoformat(e["at"]), e["sha"], dict(e["response"] or {})
            )
        out.append(
            Outcome(written=bool(flags & 1), found=bool(flags & 2), key_ok=bool(flags & 4), earlier=earlier)
        )
    return out


def _cursor(conn: psycopg.Connection[Any]) -> psycopg.RawCursor[Any]:
    """The raw cursor of ``conn`` for the statement, made once per connection and kept on it (a
    cursor's set-up is a tenth of the statement's client CPU; the reference cycle goes with the
    connection). A connection is used by one thread at a time (its owner's, or the lane
    leader's), and so is its cursor."""
    cur: psycopg.RawCursor[Any] | None = getattr(conn, "_dancu_verify_cursor", None)
    if cur is None or cur.closed:
        cur = psycopg.RawCursor(conn)
        conn._dancu_verify_cursor = cur  # type: ignore[attr-defined]
    return cur


def verify_qr(
    conn: psycopg.Connection[Any],
    requester: Requester,
    claim: Claim,
    *,
    purpose: str,
    case_reference: str,
    request_id: str,
    request_sha256: str,
    receipt_id: uuid.UUID,
    response: dict[str, Any],
    at: datetime,
    today: date,
    async_commit: bool,
) -> Outcome:
    """One verification on ``conn`` (``verify_batch`` of one item), e.g. inside the caller's
    transaction. ``response`` is the answer stored for replays (``services._to_json``)."""
    item = Item(
        requester, claim, purpose, case_reference, request_id, request_sha256, receipt_id, response, at, today
    )
    return verify_batch(conn, [item], async_commit=async_commit)[0]


# --------------------------------------------------------------------------- coalescing
class _Lane(pg_read._Connection):
    """A lane: the registry coalescer's kind of connection (own, autocommit, reopened after a
    failure or in a forked child), running batches of verifications (ADR 0006, ADR 0020)."""

    def __call__(self, items: list[Item]) -> list[Outcome]:  # type: ignore[override]
        return cast(list[Outcome], self.run(lambda conn: verify_batch(conn, items, async_commit=True)))


_LANES: list[_Lane] = []
_COALESCER: pg_read.Coalescer | None = None
_INIT_LOCK = threading.Lock()


def lanes() -> int:
    """``DANCU_VERIFY_LANES``: connections per process that carry coalesced verifications; 0 runs
    each verification alone on its caller's connection."""
    return int(getattr(settings, "DANCU_VERIFY_LANES", 0))


def submit(item: Item) -> Outcome:
    """Verify ``item`` in the next statement of the process's coalescer (ADR 0020): concurrent
    verifications of the process's threads share one statement and one commit. Returns after
    that statement has committed (or raises its error). Only for a verification that is its own
    transaction: inside a caller's transaction use ``verify_qr`` on the caller's connection."""
    global _COALESCER
    count = lanes()
    if _COALESCER is None or len(_LANES) != count:
        with _INIT_LOCK:
            if _COALESCER is None or len(_LANES) != count:
                for lane in _LANES:
                    lane.close()
                _LANES[:] = [_Lane() for _ in range(count)]
                # The coalescer is the registry's; its lanes here take items and return outcomes.
                _COALESCER = pg_read.Coalescer(cast(Any, _LANES))
    return cast(Outcome, _COALESCER.submit(cast(Any, item)))


def close() -> None:
    """Close the lanes' connections (tests that drop their database; server shutdown)."""
    with _INIT_LOCK:
        for lane in _LANES:
            lane.close()
