"""The verification hot path on PostgreSQL: one prepared statement reads the registry, writes the
receipt and the audit event and screens the alert list (ADR 0014, after ADR 0006).

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
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

from dancu.blocks.alerts.models import AlertEntry, AlertHit
from dancu.blocks.alerts.services import SCREEN_PURPOSE
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity.models import VerificationRecord
from dancu.blocks.organisations.models import ApiKey, Organisation
from dancu.blocks.registry.matching import CMND_INVALID_FROM
from dancu.blocks.registry.models import Citizen, IdentityCard, OldIdNumber

ACTION = "identity.verify"


def _statement() -> str:
    """The SQL text, built once from the models' table names (no user input is interpolated)."""
    receipt, event = VerificationRecord._meta.db_table, AuditEvent._meta.db_table
    citizen, card, old = Citizen._meta.db_table, IdentityCard._meta.db_table, OldIdNumber._meta.db_table
    key, org = ApiKey._meta.db_table, Organisation._meta.db_table
    entry, hit = AlertEntry._meta.db_table, AlertHit._meta.db_table
    # No SQL comments below: the text is collapsed to one line. ``earlier`` repeats the predicate
    # of the partial unique index on (organisation_id, request_id) so that PostgreSQL's generic
    # plan of the prepared statement (chosen after five executions) can use that index.
    return f"""
WITH earlier AS MATERIALIZED (
    SELECT v.receipt_id, v.created_at, v.request_sha256, v.response
    FROM {receipt} v
    WHERE v.organisation_id = %(org_id)s AND v.request_id = %(request_id)s
      AND NOT (v.request_id = '')
), key_ok AS MATERIALIZED (
    SELECT 1 AS ok FROM {key} k JOIN {org} o ON o.id = k.organisation_id
    WHERE k.id = %(key_id)s AND k.revoked_at IS NULL AND o.active
), cit AS MATERIALIZED (
    SELECT c.id FROM {citizen} c
    WHERE c.id_number = %(number)s AND c.full_name = %(name)s AND c.date_of_birth = %(born)s
      AND c.dob_precision = 'day' AND c.sex = %(sex)s AND c.life_status = 'alive'
      AND (%(old)s = ''
           OR NOT EXISTS (SELECT 1 FROM {old} o WHERE o.citizen_id = c.id)
           OR EXISTS (SELECT 1 FROM {old} o WHERE o.citizen_id = c.id AND o.number = %(old)s))
      AND EXISTS (
          SELECT 1 FROM (SELECT k.status, k.kind, k.expires_on FROM {card} k
                         WHERE k.citizen_id = c.id AND k.card_number = %(number)s
                           AND k.issued_on = %(issued)s
                         ORDER BY k.id DESC LIMIT 1) k
          WHERE k.status = 'valid' AND (k.expires_on IS NULL OR k.expires_on >= %(today)s)
            AND (k.kind <> 'cmnd' OR %(today)s < %(cmnd_until)s))
      AND NOT EXISTS (SELECT 1 FROM {card} k WHERE k.citizen_id = c.id AND k.issued_on > %(issued)s)
), rec AS (
    INSERT INTO {receipt} (receipt_id, created_at, organisation_id, organisation_name, actor_user_id,
                           actor_label, api_key_id, purpose, case_reference, evidence_kind, mode,
                           decision, reason_codes, name_score, subject_citizen_id, request_id,
                           request_sha256, response)
    SELECT %(receipt)s, %(at)s, %(org_id)s, %(org_name)s, NULL, %(label)s, %(key_id)s, %(purpose)s,
           %(case_ref)s, 'qr', 'yes_no', 'match', '[]'::jsonb, 1.0, cit.id, %(request_id)s,
           %(sha)s, %(response)s::jsonb
    FROM cit
    WHERE NOT EXISTS (SELECT 1 FROM earlier) AND EXISTS (SELECT 1 FROM key_ok)
    ON CONFLICT (organisation_id, request_id) WHERE NOT (request_id = '') DO NOTHING
    RETURNING subject_citizen_id
), ev AS (
    INSERT INTO {event} (occurred_at, actor_user_id, actor_label, organisation_id, organisation_name,
                         purpose, action, subject_citizen_id, result, case_reference, detail,
                         prev_hash, hash)
    SELECT %(at)s, NULL, %(label)s, %(org_id)s, %(org_name)s, %(purpose)s, '{ACTION}',
           rec.subject_citizen_id, 'ok', %(case_ref)s,
           jsonb_build_object('mode', 'yes_no', 'evidence', 'qr', 'decision', 'match',
                              'reasons', '[]'::jsonb, 'fields', '[]'::jsonb, 'receipt', %(receipt)s::text),
           '', ''
    FROM rec
), hits AS (
    INSERT INTO {hit} (entry_id, subject_citizen_id, where_organisation_id, where_organisation_name,
                       where_organisation_kind, where_ward_code, where_province_code, event,
                       receipt_id, occurred_at, seen_by, seen_at)
    SELECT e.id, rec.subject_citizen_id, %(org_id)s, %(org_name)s, %(org_kind)s, %(ward)s,
           %(province)s, '{ACTION}', %(receipt)s::text, %(at)s, '', NULL
    FROM rec JOIN {entry} e ON e.subject_citizen_id = rec.subject_citizen_id
    WHERE e.active AND e.valid_from <= %(at)s AND (e.valid_until IS NULL OR e.valid_until > %(at)s)
    RETURNING id, entry_id, subject_citizen_id
), hit_events AS (
    INSERT INTO {event} (occurred_at, actor_user_id, actor_label, organisation_id, organisation_name,
                         purpose, action, subject_citizen_id, result, case_reference, detail,
                         prev_hash, hash)
    SELECT %(at)s, NULL, 'alert screening', e.issuing_organisation_id,
           e.issuing_organisation_name, '{SCREEN_PURPOSE}', 'alerts.hit', hits.subject_citizen_id,
           'ok', left(e.reference, 100),
           jsonb_build_object('entry', e.id, 'hit', hits.id, 'event', '{ACTION}',
                              'receipt', %(receipt)s::text, 'where', %(org_id)s::bigint),
           '', ''
    FROM hits JOIN {entry} e ON e.id = hits.entry_id
)
SELECT set_config('synchronous_commit', CASE WHEN %(async)s AND NOT EXISTS (SELECT 1 FROM hits)
                    THEN 'off' ELSE current_setting('synchronous_commit') END, true),
       (SELECT count(*) FROM rec), (SELECT count(*) FROM cit), EXISTS (SELECT 1 FROM key_ok),
       e.receipt_id, e.created_at, e.request_sha256, e.response
FROM (SELECT 1) AS one LEFT JOIN earlier e ON true
"""  # noqa: S608


_SQL: str | None = None


def _sql() -> str:
    """The statement with its whitespace collapsed: under 4 KiB, psycopg caches its parsing."""
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
    """Run the statement on ``conn``. ``response`` is the answer stored for replays
    (``services._to_json``). ``async_commit``: the statement is its own transaction and commits
    without waiting for the WAL flush (ADR 0005, ADR 0014); never inside a caller's transaction."""
    params = {
        "async": async_commit,
        "org_id": requester.organisation_id,
        "org_name": requester.organisation_name,
        "org_kind": requester.organisation_kind,
        "ward": requester.ward_code,
        "province": requester.province_code,
        "key_id": requester.key_id,
        "label": requester.label,
        "purpose": purpose,
        "case_ref": case_reference,
        "request_id": request_id,
        "sha": request_sha256,
        "receipt": receipt_id,
        "response": json.dumps(response, ensure_ascii=False),
        "at": at,
        "today": today,
        "cmnd_until": CMND_INVALID_FROM,
        "number": claim.id_number,
        "name": claim.full_name,
        "born": claim.date_of_birth,
        "sex": claim.sex,
        "old": claim.old_id_number,
        "issued": claim.issued_on,
    }
    # A server-binding cursor (Django's own cursors bind on the client and cannot prepare).
    with psycopg.Cursor(conn) as cur:
        cur.execute(_sql(), params, prepare=True)
        row = cur.fetchone()
    assert row is not None
    _, written, found, key_ok, e_receipt, e_created, e_sha, e_response = row
    earlier = None
    if e_receipt is not None:
        stored = json.loads(e_response) if isinstance(e_response, str | bytes) else e_response
        earlier = Earlier(str(e_receipt), e_created, e_sha, dict(stored or {}))
    return Outcome(written=bool(written), found=bool(found), key_ok=bool(key_ok), earlier=earlier)
