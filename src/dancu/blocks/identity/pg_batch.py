"""Many card-QR verifications in one statement on PostgreSQL (ADR 0018, after ADR 0006 and 0014).

``verify_qr_many`` is the set-based form of ``pg_verify.verify_qr`` for callers that verify many
guests at once — a property-management system's batch of residence notifications (issue 6). The
QR texts are parsed in Python (``qr.parse_card_qr``, the name in normal form); the claims go to
the database as one JSON parameter, turned into rows by ``json_to_recordset`` (a set, like
``unnest`` of arrays, at a fraction of the client's cost of building twelve arrays), and one
statement:

* keeps the claims that are *exact* matches, by the predicates of ``pg_verify`` (which imply that
  ``registry.matching.judge`` answers ``match`` with no reasons and score 1.0): the number is the
  citizen's current one, the name, the date of birth (known to the day) and the sex are the
  registry's, the person is alive, an old CMND number on the QR is one of theirs (or none is on
  record), the card with that number and issue date (the newest row if two) is ``valid`` and
  unexpired, no newer card exists; and no receipt of the organisation holds the request id;
* inserts for each a ``VerificationRecord`` (``ON CONFLICT`` on the per-organisation request-id
  constraint: a concurrent request with the same id wins, ours writes nothing), the
  ``identity.verify`` audit event the citizen sees (columns and detail as
  ``registry.match_identity``: mode, evidence, decision, reasons, released field names, receipt),
  and for each alert-list entry in force the ``AlertHit`` and its ``alerts.hit`` event in the name
  of the owning police unit (as ``alerts.services.screen``, ADR 0007);
* in ``data`` mode releases exactly the organisation's fields (``services.VERIFICATION_FIELDS``;
  least data, Decree 13/2023/NĐ-CP Art. 3): those the claim proves (name, date of birth, sex,
  card number and issue date) from Python, the others (nationality, permanent address…) from the
  registry row, into the stored answer the caller receives.

Each insert reads the receipt's ``RETURNING`` rows: a receipt, its event and its hits are written
together or not at all. Anything else — a QR that does not parse, a mismatch, a card not valid, an
unknown number, an earlier receipt for the request id, a purpose or mode the actor may not use —
gets ``None`` and nothing is written for it: the caller runs the reference path
(``services.verify``), which decides and records it. The statement runs inside the caller's
transaction (durable commit: the batch's stays are not records of a read).
``tests/apps/residence/test_batch_fast.py`` checks that a batch through this path and through the
reference path give the same answers, receipts, audit events and alert hits.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from django.db import connection
from django.utils import timezone

from dancu.blocks.alerts.models import AlertEntry, AlertHit
from dancu.blocks.alerts.services import SCREEN_PURPOSE
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity import services
from dancu.blocks.identity.models import VerificationRecord
from dancu.blocks.identity.qr import parse_card_qr
from dancu.blocks.registry.matching import CMND_INVALID_FROM
from dancu.blocks.registry.models import Citizen, IdentityCard, OldIdNumber
from dancu.errors import DomainValidationError

ACTION = "identity.verify"
# Fields a data-mode answer may hold that this statement can give; another kind falls back.
_FROM_CLAIM = frozenset({"full_name", "date_of_birth", "sex", "card_number", "card_issued_on"})
_FROM_REGISTRY = frozenset({"nationality", "permanent_address", "permanent_ward_code", "card_expires_on"})
_CONSTANT = frozenset({"face_available", "health_insurance_number"})


def _statement() -> str:
    """The SQL text, built once from the models' table names (no user input is interpolated).
    The audit events are one insert, in the reference path's order — each verification's
    ``identity.verify`` event, then its hits' ``alerts.hit`` events — since the order of two
    data-modifying sub-statements is unpredictable; the item order is the receipts' ids (allocated
    as the receipts are inserted, sorted by item). No sub-statement joins two sets of the batch's
    size: the planner expects one row from each (``json_to_recordset`` and the registry filters),
    and its nested loop over two 500-row sets cost 250,000 comparisons twice (measured with
    ``EXPLAIN ANALYZE``, 2026-12-01); what the events and the answer need comes from the receipts'
    ``RETURNING`` rows, the item of an answer from its request id (distinct within a call)."""
    receipt, event = VerificationRecord._meta.db_table, AuditEvent._meta.db_table
    citizen, card, old = Citizen._meta.db_table, IdentityCard._meta.db_table, OldIdNumber._meta.db_table
    entry, hit = AlertEntry._meta.db_table, AlertHit._meta.db_table
    return f"""
WITH i AS MATERIALIZED (
    SELECT * FROM json_to_recordset(%(items)s::json)
        AS t(n int, number text, name text, born date, sex text, old text, issued date,
             receipt uuid, request_id text, sha text, case_ref text, response jsonb)
), cit AS MATERIALIZED (
    SELECT i.n, i.receipt, i.request_id, i.sha, i.case_ref, i.response,
           c.id AS citizen_id, c.nationality, c.permanent_address_text, c.permanent_ward_code,
           k.expires_on
    FROM i JOIN {citizen} c
      ON c.id_number = i.number AND c.full_name = i.name AND c.date_of_birth = i.born
     AND c.dob_precision = 'day' AND c.sex = i.sex AND c.life_status = 'alive'
    CROSS JOIN LATERAL (SELECT k.status, k.kind, k.expires_on FROM {card} k
                        WHERE k.citizen_id = c.id AND k.card_number = i.number
                          AND k.issued_on = i.issued
                        ORDER BY k.id DESC LIMIT 1) k
    WHERE k.status = 'valid' AND (k.expires_on IS NULL OR k.expires_on >= %(today)s)
      AND (k.kind <> 'cmnd' OR %(today)s < %(cmnd_until)s)
      AND NOT EXISTS (SELECT 1 FROM {card} k2 WHERE k2.citizen_id = c.id AND k2.issued_on > i.issued)
      AND (i.old = ''
           OR NOT EXISTS (SELECT 1 FROM {old} o WHERE o.citizen_id = c.id)
           OR EXISTS (SELECT 1 FROM {old} o WHERE o.citizen_id = c.id AND o.number = i.old))
      AND NOT EXISTS (SELECT 1 FROM {receipt} v WHERE v.organisation_id = %(org_id)s
                      AND v.request_id = i.request_id AND NOT (v.request_id = ''))
), ans AS MATERIALIZED (
    SELECT cit.*,
           CASE WHEN jsonb_typeof(cit.response -> 'data') = 'object'
                THEN jsonb_set(cit.response, '{{data}}', (cit.response -> 'data') || (jsonb_build_object(
                         'nationality', cit.nationality,
                         'permanent_address', nullif(cit.permanent_address_text, ''),
                         'permanent_ward_code', nullif(cit.permanent_ward_code, ''),
                         'card_expires_on', to_char(cit.expires_on, 'YYYY-MM-DD')) - %(drop)s::text[]))
                ELSE cit.response END AS answer
    FROM cit
), rec AS (
    INSERT INTO {receipt} (receipt_id, created_at, organisation_id, organisation_name, actor_user_id,
                           actor_label, api_key_id, purpose, case_reference, evidence_kind, mode,
                           decision, reason_codes, name_score, subject_citizen_id, request_id,
                           request_sha256, response)
    SELECT ans.receipt, %(at)s, %(org_id)s, %(org_name)s, %(user_id)s, %(label)s, NULL, %(purpose)s,
           ans.case_ref, 'qr', %(mode)s, 'match', '[]'::jsonb, 1.0, ans.citizen_id, ans.request_id,
           ans.sha, ans.answer
    FROM ans ORDER BY ans.n
    ON CONFLICT (organisation_id, request_id) WHERE NOT (request_id = '') DO NOTHING
    RETURNING id, receipt_id, subject_citizen_id, case_reference, request_id, response
), hits AS (
    INSERT INTO {hit} (entry_id, subject_citizen_id, where_organisation_id, where_organisation_name,
                       where_organisation_kind, where_ward_code, where_province_code, event,
                       receipt_id, occurred_at, seen_by, seen_at)
    SELECT e.id, rec.subject_citizen_id, %(org_id)s, %(org_name)s, %(org_kind)s, %(ward)s,
           %(province)s, '{ACTION}', rec.receipt_id::text, %(at)s, '', NULL
    FROM rec JOIN {entry} e ON e.subject_citizen_id = rec.subject_citizen_id
    WHERE e.active AND e.valid_from <= %(at)s AND (e.valid_until IS NULL OR e.valid_until > %(at)s)
    ORDER BY rec.id, e.id
    RETURNING id, entry_id, subject_citizen_id, receipt_id
), events AS (
    INSERT INTO {event} (occurred_at, actor_user_id, actor_label, organisation_id, organisation_name,
                         purpose, action, subject_citizen_id, result, case_reference, detail,
                         prev_hash, hash)
    SELECT x.occurred_at, x.actor_user_id, x.actor_label, x.organisation_id, x.organisation_name,
           x.purpose, x.action, x.subject_citizen_id, 'ok', x.case_reference, x.detail, '', ''
    FROM (
        SELECT rec.id AS r, 0 AS k, 0::bigint AS h, %(at)s::timestamptz AS occurred_at,
               %(user_id)s::bigint AS actor_user_id, %(label)s::text AS actor_label,
               %(org_id)s::bigint AS organisation_id, %(org_name)s::text AS organisation_name,
               %(purpose)s::text AS purpose, '{ACTION}'::text AS action,
               rec.subject_citizen_id, rec.case_reference::text AS case_reference,
               jsonb_build_object('mode', %(mode)s::text, 'evidence', 'qr', 'decision', 'match',
                                  'reasons', '[]'::jsonb, 'fields', %(fields)s::jsonb,
                                  'receipt', rec.receipt_id::text) AS detail
        FROM rec
        UNION ALL
        SELECT rec.id, 1, hits.id, %(at)s, NULL, 'alert screening', e.issuing_organisation_id,
               e.issuing_organisation_name, '{SCREEN_PURPOSE}', 'alerts.hit', hits.subject_citizen_id,
               left(e.reference, 100),
               jsonb_build_object('entry', e.id, 'hit', hits.id, 'event', '{ACTION}',
                                  'receipt', hits.receipt_id, 'where', %(org_id)s::bigint)
        FROM hits JOIN {entry} e ON e.id = hits.entry_id
                  JOIN rec ON rec.receipt_id::text = hits.receipt_id
    ) x
    ORDER BY x.r, x.k, x.h
)
SELECT rec.request_id, rec.response FROM rec
"""  # noqa: S608


_SQL: str | None = None


def _sql() -> str:
    global _SQL
    if _SQL is None:
        _SQL = " ".join(_statement().split())
    return _SQL


@dataclass(frozen=True)
class QrItem:
    """One card QR to verify: the scanned text, the case reference of its receipt and event, and
    the request id that makes it idempotent (``services.verify``'s ``request_id``)."""

    text: str
    case_reference: str
    request_id: str


@dataclass(frozen=True)
class Decided:
    """A verification decided and recorded here, and the ID number on the card (as read)."""

    result: services.VerificationResult
    id_number: str


def available() -> bool:
    """The statement needs PostgreSQL; elsewhere every item goes to the reference path."""
    return connection.vendor == "postgresql"


def verify_qr_many(
    ctx: AccessContext, items: Sequence[QrItem], *, mode: str, at: datetime
) -> list[Decided | None]:
    """Verify ``items`` for ``ctx`` (purpose ``identity.verification``) in one statement, inside
    the caller's transaction. Returns, item by item, the recorded ``match`` (the same result
    ``services.verify`` would give for it, with the card's ID number), or None: nothing was
    written for that item and the caller must call ``services.verify`` (which decides, records,
    denies or replays it).

    ``ctx.case_reference`` is ignored: each item names its own. ``at`` (aware) is the time of the
    verifications. The fingerprint of each request is ``services.verify``'s, so a later call of
    ``verify`` with the same request id replays the stored answer."""
    out: list[Decided | None] = [None] * len(items)
    numbers: dict[int, str] = {}
    if not items or not available() or timezone.is_naive(at) or not _may(ctx, mode):
        return out
    wanted = (
        services.VERIFICATION_FIELDS.get(ctx.actor.organisation_kind, frozenset())
        if mode == "data"
        else frozenset()
    )
    if wanted - _FROM_CLAIM - _FROM_REGISTRY - _CONSTANT:
        return out
    release = set(wanted - services._NOT_FROM_REGISTRY)
    if "date_of_birth" in release:
        release.add("dob_precision")
    day = timezone.localdate(at)
    claims: list[dict[str, object]] = []
    seen: set[str] = set()
    for n, item in enumerate(items):
        if item.request_id in seen or not services._REQUEST_ID.match(item.request_id):
            continue  # the reference path replays (or refuses) a repeated or bad request id
        try:
            card = parse_card_qr(item.text, reference=day)  # the name comes out normalised
        except DomainValidationError:
            continue
        if card.sex not in ("M", "F"):
            continue
        seen.add(item.request_id)
        receipt = uuid.uuid4()
        ictx = AccessContext(actor=ctx.actor, purpose=ctx.purpose, case_reference=item.case_reference)
        evidence = services.QrEvidence(item.text)
        data: dict[str, object] | None = None
        if mode == "data":
            known: dict[str, object] = {
                "full_name": card.full_name,
                "date_of_birth": card.date_of_birth.isoformat(),
                "sex": card.sex,
                "card_number": card.id_number,
                "card_issued_on": card.issue_date.isoformat(),
                "face_available": False,
                "health_insurance_number": None,
            }
            data = {k: v for k, v in known.items() if k in wanted}
        result = services.VerificationResult(
            str(receipt), at, ctx.purpose, mode, "qr", services.MATCH, (), 1.0, data
        )
        numbers[n] = card.id_number
        claims.append(
            {
                "n": n,
                "number": card.id_number,
                "name": card.full_name,
                "born": card.date_of_birth.isoformat(),
                "sex": card.sex,
                "old": card.old_id_number or "",
                "issued": card.issue_date.isoformat(),
                "receipt": str(receipt),
                "request_id": item.request_id,
                "sha": services._fingerprint(ictx, evidence, "qr", mode),
                "case_ref": item.case_reference,
                "response": services._to_json(result),
            }
        )
    if not claims:
        return out
    a = ctx.actor
    params: dict[str, Any] = {
        "items": json.dumps(claims, ensure_ascii=False),
        "org_id": a.organisation_id,
        "org_name": a.organisation_name,
        "org_kind": a.organisation_kind,
        "ward": a.jurisdiction_ward_code or "",
        "province": a.jurisdiction_province_code or "",
        "user_id": a.user_id,
        "label": a.label,
        "purpose": ctx.purpose,
        "mode": mode,
        "fields": json.dumps(sorted(release)),
        "drop": sorted(_FROM_REGISTRY - wanted),
        "at": at,
        "today": day,
        "cmnd_until": CMND_INVALID_FROM,
    }
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    # A server-binding cursor on Django's connection, in the caller's transaction.
    with psycopg.Cursor(raw) as cur:
        cur.execute(_sql(), params, prepare=True)
        rows = cur.fetchall()
    item_of = {c["request_id"]: c["n"] for c in claims}  # request ids are distinct (``seen``)
    for request_id, answer in rows:
        n = int(str(item_of[request_id]))
        stored = json.loads(answer) if isinstance(answer, str | bytes) else answer
        out[n] = Decided(services._from_json(stored, replayed=False), numbers[n])
    return out


def may_decide(ctx: AccessContext, mode: str) -> bool:
    """Whether :func:`verify_qr_many` may decide for ``ctx`` in ``mode`` (else it answers None for
    every item and ``services.verify`` refuses or denies, recording it)."""
    return _may(ctx, mode)


def _may(ctx: AccessContext, mode: str) -> bool:
    """What ``services._authorise`` lets through without a word; anything else goes to it."""
    if ctx.purpose != services.VERIFY_PURPOSE or not ctx.actor.may(ctx.purpose):
        return False
    return mode == "yes_no" or (
        mode == "data" and ctx.actor.organisation_kind in services.VERIFICATION_FIELDS
    )
