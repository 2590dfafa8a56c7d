"""The set-based batch path (``residence.batch_pg``, ``identity.pg_batch``; ADR 0018) is the
reference path's twin: the same batch, sent once through each, gives the same answer, stays,
receipts, audit events, alert hits, submissions and webhook events — for good rows, bad rows, a
listed person, a duplicate guest, a replayed key, a foreign guest by passport MRZ, a child and
typed evidence (which the fast path hands to the reference path).

The fast path exists on PostgreSQL only (it is one SQL statement with ``unnest`` arrays); on
SQLite the batch always takes the reference path, which the other residence tests cover."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from dancu.apps.residence import batch_pg, services
from dancu.apps.residence.models import Stay, Submission, Webhook, WebhookDelivery
from dancu.blocks.alerts import services as alerts
from dancu.blocks.alerts.models import AlertHit
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity.models import VerificationRecord
from dancu.blocks.identity.services import TypedEvidence
from dancu.errors import Conflict, FieldProblem
from tests.apps.residence.conftest import AN_ID, AN_QR, CLAIRE_PASSPORT, MAI_QR
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("residents")
NOTIFY = "residence.notification"
POLICE = "security.investigation"
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the set-based path is one PostgreSQL statement (unnest arrays, data-modifying CTEs); "
    "SQLite always runs the reference path",
)


@contextmanager
def sent_statements() -> Iterator[list[str]]:
    """The SQL statements sent meanwhile, counted where ``psycopg`` executes them (Django's
    cursors and the raw ones alike; savepoints included, the commit not)."""
    sent: list[str] = []
    real = psycopg.Cursor.execute

    def count(cur: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(query if isinstance(query, str) else str(query))
        return real(cur, query, *args, **kwargs)

    psycopg.Cursor.execute = count  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        psycopg.Cursor.execute = real  # type: ignore[method-assign]


def _row(*guests: services.Guest, room: str, now: datetime, **changes: Any) -> services.CheckIn:
    arrival = now - timedelta(hours=1)
    stay: dict[str, Any] = {"expected_departure": arrival + timedelta(days=2), "reason": "Du lịch", **changes}
    return services.CheckIn(guests=tuple(guests), room=room, arrival=arrival, **stay)


def _batch(now: datetime) -> list[services.CheckIn | list[FieldProblem]]:
    qr = services.CitizenGuest
    from dancu.blocks.identity.services import QrEvidence

    accents = AN_QR.replace("Nguyễn Văn An", "Nguyễn Văn Ân")
    wrong_name = AN_QR.replace("Nguyễn Văn An", "Trần Văn Bình")
    return [
        _row(qr(QrEvidence(AN_QR)), room="101", now=now),  # listed on the alert list
        _row(
            qr(QrEvidence(MAI_QR)),
            services.ForeignGuest(CLAIRE_PASSPORT),
            services.ChildGuest("Nguyễn Bảo Ngọc", date(2020, 1, 5), guardian=0),
            room="102",
            now=now,
        ),
        _row(qr(QrEvidence(MAI_QR)), room="103", now=now, expected_departure=now - timedelta(hours=2)),
        [FieldProblem("guests.0.qr.text", "missing", "Field required")],  # did not parse
        _row(qr(QrEvidence("not|a|card")), room="104", now=now),
        _row(
            qr(QrEvidence(accents)), room="105", now=now
        ),  # not exact (a match all the same): reference path
        _row(qr(QrEvidence(MAI_QR)), qr(QrEvidence(MAI_QR)), room="106", now=now),  # the same guest twice
        _row(services.ForeignGuest(CLAIRE_PASSPORT), room="107", now=now),
        _row(
            qr(TypedEvidence(id_number=AN_ID, full_name="Nguyễn Văn An", date_of_birth=date(1985, 3, 2))),
            room="108",
            now=now,
        ),
        _row(qr(QrEvidence(AN_QR), close_relative=True), room="109", now=now),
        _row(qr(QrEvidence(wrong_name)), room="110", now=now),  # no match: reference path, row refused
    ]


def _marks() -> dict[str, int]:
    models: dict[str, Any] = {
        "stay": Stay,
        "receipt": VerificationRecord,
        "event": AuditEvent,
        "hit": AlertHit,
        "submission": Submission,
        "delivery": WebhookDelivery,
    }
    return {
        k: (m.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) for k, m in models.items()
    }


def _snapshot(result: services.BatchResult, before: dict[str, int]) -> dict[str, Any]:
    """Everything the batch wrote, with the random or sequential ids replaced by stable names:
    a receipt by its request id, a group by its row, a stay by its row and guest."""
    receipts = {
        str(r.receipt_id): r.request_id for r in VerificationRecord.objects.filter(pk__gt=before["receipt"])
    }
    stay_names: dict[int, str] = {}
    groups: dict[str, str] = {}
    for row in result.rows:
        groups[row.group_reference] = f"g{row.index}"
        for j, sid in enumerate(row.stay_ids):
            stay_names[sid] = f"s{row.index}.{j}"
    hits = {
        h.pk: f"h:{receipts[h.receipt_id]}:{h.entry_id}"
        for h in AlertHit.objects.filter(pk__gt=before["hit"])
    }

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for k, v in value.items():
                if k in ("receipt", "receipt_id") and isinstance(v, str):
                    out[k] = receipts.get(v, v)
                elif k in ("group", "group_reference") and isinstance(v, str):
                    out[k] = groups.get(v, v)
                elif k in ("stays", "stay_ids"):
                    out[k] = [stay_names.get(x, x) if isinstance(x, int) else norm(x) for x in v]
                elif k == "stay_id":
                    out[k] = stay_names.get(v, v)
                elif k == "hit":
                    out[k] = hits.get(v, v)
                else:
                    out[k] = norm(v)
            return out
        if isinstance(value, list):
            return [norm(v) for v in value]
        return value

    def rows(model: Any, mark: str, drop: Sequence[str]) -> list[Any]:
        found = []
        for obj in model.objects.filter(pk__gt=before[mark]):
            d = {
                f.attname: getattr(obj, f.attname)
                for f in model._meta.concrete_fields
                if f.attname not in drop
            }
            found.append(repr(sorted(norm(d).items())))
        return sorted(found)

    stays = []
    for st in Stay.objects.filter(pk__gt=before["stay"]):
        d = {f.attname: getattr(st, f.attname) for f in Stay._meta.concrete_fields}
        d.update(
            id=stay_names[st.pk],
            guardian_id=stay_names.get(st.guardian_id) if st.guardian_id else None,
            group_reference=groups[st.group_reference],
            verification_receipt=receipts.get(st.verification_receipt, st.verification_receipt),
        )
        d.pop("created_at"), d.pop("updated_at")
        stays.append(repr(sorted(d.items())))
    return {
        "answer": [norm(services._row_json(r)) for r in result.rows],
        "stays": sorted(stays),
        "receipts": rows(VerificationRecord, "receipt", ("id", "receipt_id", "created_at")),
        "events": rows(AuditEvent, "event", ("id", "occurred_at")),
        "hits": rows(AlertHit, "hit", ("id", "occurred_at")),
        "submissions": rows(Submission, "submission", ("id", "created_at")),
        "deliveries": rows(WebhookDelivery, "delivery", ("id", "next_attempt_at", "created_at")),
    }


def _run(ctx: Any, batch: list[Any], now: datetime, *, fast: bool, key: str = "pms-eq-1") -> dict[str, Any]:
    """The batch through one path, its writes read back, then rolled back."""
    with override_settings(DANCU_FAST_RESIDENCE_BATCH=fast), transaction.atomic():
        before = _marks()
        result = services.check_in_batch(ctx, batch, idempotency_key=key, fingerprint="f" * 64, now=now)
        snap = _snapshot(result, before)
        replay = services.check_in_batch(ctx, batch, idempotency_key=key, fingerprint="f" * 64, now=now)
        assert replay.replayed and replay.rows == result.rows
        assert Stay.objects.filter(pk__gt=before["stay"]).count() == sum(len(r.stay_ids) for r in result.rows)
        with pytest.raises(Conflict):
            services.check_in_batch(ctx, batch[:1], idempotency_key=key, fingerprint="0" * 64, now=now)
        transaction.set_rollback(True)
    return snap


@pytest.fixture
def listed_an(residents: Any, city_police: Person) -> None:
    alerts.add_alert(
        city_police.ctx(POLICE),
        AN_ID,
        kind="wanted",
        reference="QĐ-TN 12/2026",
        legal_basis="BLTTHS 2015 Điều 231",
    )


@postgres_only
@pytest.mark.usefixtures("listed_an")
def test_a_batch_through_the_set_based_path_writes_exactly_what_the_reference_path_writes(
    hotel: services.EstablishmentView,
    hotel_clerk: Person,
    ward_police: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dancu.blocks.identity import pg_batch

    decided: list[Any] = []
    original = pg_batch.verify_qr_many

    def spy(*args: Any, **kwargs: Any) -> list[Any]:
        answers = original(*args, **kwargs)
        decided.extend(a for a in answers if a is not None)
        return answers

    monkeypatch.setattr(pg_batch, "verify_qr_many", spy)
    Webhook.objects.create(  # a connected PMS: each row's result is queued for it
        establishment_id=hotel.establishment_id,
        url="https://pms.example.vn/hook",
        secret="0" * 64,
        created_by="t",
    )
    now = timezone.now()
    batch = _batch(now)
    fast = _run(hotel_clerk.ctx(NOTIFY), batch, now, fast=True)
    assert len(decided) == 3  # the exact card QRs of good rows: 0 (An), 1 and 6 (Mai; its repeat replays)
    reference = _run(hotel_clerk.ctx(NOTIFY), batch, now, fast=False)
    assert [r["status"] for r in fast["answer"]] == [
        "stored", "stored", "error", "error", "error", "stored",
        "error", "stored", "stored", "stored", "error",
    ]  # fmt: skip
    for part in reference:
        only_fast = [x for x in fast[part] if x not in reference[part]]
        only_reference = [x for x in reference[part] if x not in fast[part]]
        assert fast[part] == reference[part], (part, only_fast, only_reference)
    # The listed person checked in four times (rows 0, 5, 8, 9): in each run four hits for the
    # ward police — row 0's written by the fast statement, the others by the reference path.
    assert len(fast["hits"]) == 4
    assert any("alerts.hit" in e for e in fast["events"])


@postgres_only
def test_the_fast_statement_decides_the_exact_matches_and_leaves_the_rest(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    from dancu.blocks.identity import pg_batch

    now = timezone.now()
    vctx = services._verify_context(hotel_clerk.ctx(NOTIFY), hotel_clerk_est(hotel), "k")
    items = [
        pg_batch.QrItem(AN_QR, "lưu trú k", "res:a"),
        pg_batch.QrItem(AN_QR.replace("Nguyễn Văn An", "Nguyễn Văn Ân"), "lưu trú k", "res:b"),
        pg_batch.QrItem("not|a|card", "lưu trú k", "res:c"),
        pg_batch.QrItem(MAI_QR, "lưu trú k", "res:a"),  # a repeated request id: the reference path
    ]
    with transaction.atomic():
        out = pg_batch.verify_qr_many(vctx, items, mode="data", at=now)
    assert [r is not None for r in out] == [True, False, False, False]
    assert out[0] is not None and out[0].id_number == AN_ID
    first = out[0].result
    assert first.matches and first.data is not None
    assert first.data["permanent_address"] == "Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội"
    record = VerificationRecord.objects.get(receipt_id=uuid.UUID(first.receipt_id))
    assert (record.request_id, record.decision, record.case_reference) == ("res:a", "match", "lưu trú k")
    event = AuditEvent.objects.get(action="identity.verify", detail__receipt=first.receipt_id)
    assert event.subject_citizen_id == record.subject_citizen_id  # the citizen sees it
    # The same request id again: nothing written, the reference path replays it.
    with transaction.atomic():
        assert pg_batch.verify_qr_many(vctx, items[:1], mode="data", at=now) == [None]
    # A purpose other than identity.verification is never decided here (``verify`` denies it).
    other = services.AccessContext(actor=vctx.actor, purpose=NOTIFY, case_reference="x")
    assert pg_batch.verify_qr_many(other, items[:1], mode="data", at=now) == [None]


def hotel_clerk_est(hotel: services.EstablishmentView) -> Any:
    from dancu.apps.residence.models import Establishment

    return Establishment.objects.get(pk=hotel.establishment_id)


@postgres_only
def test_a_batch_that_might_not_fit_takes_the_reference_path(
    guest_house: services.EstablishmentView, other_clerk: Person
) -> None:
    from dancu.blocks.identity.services import QrEvidence

    now = timezone.now()
    rows: list[Any] = [
        _row(services.CitizenGuest(QrEvidence(q)), room=r, now=now)
        for q, r in ((AN_QR, "1"), (MAI_QR, "2"), (MAI_QR, "3"))
    ]
    est = hotel_clerk_est(guest_house)
    fast = batch_pg.check_in_rows(
        other_clerk.ctx(NOTIFY), est, rows, batch_key="b:x", idempotency_key="x", now=now, trust_store=None
    )
    assert fast is None  # 3 rooms > 2: row by row
    result = services.check_in_batch(
        other_clerk.ctx(NOTIFY), rows, idempotency_key="gh-1", fingerprint="a", now=now
    )
    assert [r.status for r in result.rows] == ["stored", "stored", "error"]
    assert result.rows[2].errors[0].rule == "capacity"


def test_on_sqlite_or_when_switched_off_the_reference_path_runs(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    call: Callable[..., Any] = batch_pg.check_in_rows
    with override_settings(DANCU_FAST_RESIDENCE_BATCH=False):
        assert not batch_pg.enabled()
        assert (
            call(
                hotel_clerk.ctx(NOTIFY),
                hotel_clerk_est(hotel),
                [],
                batch_key="b:y",
                idempotency_key="y",
                now=None,
                trust_store=None,
            )
            is None
        )
    assert batch_pg.enabled() == (connection.vendor == "postgresql")


@postgres_only
def test_a_set_based_batch_interrupted_before_its_commit_keeps_nothing_and_its_retry_stores_once(
    hotel: services.EstablishmentView, hotel_clerk: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database fails after the stays are inserted (the server dies before the answer): no
    stay, receipt or audit event of the batch is kept; the retry with the same key stores each row
    once, and a second retry replays."""
    from django.db import DatabaseError

    from dancu.blocks.identity.services import QrEvidence

    now = timezone.now()
    rows: list[Any] = [
        _row(services.CitizenGuest(QrEvidence(q)), room=r, now=now) for q, r in ((AN_QR, "1"), (MAI_QR, "2"))
    ]
    real = batch_pg._insert

    def failing(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)  # everything inserted, then the connection is lost
        raise DatabaseError("connection lost")

    before = _marks()
    monkeypatch.setattr(batch_pg, "_insert", failing)
    with pytest.raises(DatabaseError):
        services.check_in_batch(
            hotel_clerk.ctx(NOTIFY), rows, idempotency_key="crash-1", fingerprint="c", now=now
        )
    assert Stay.objects.filter(pk__gt=before["stay"]).count() == 0
    assert not VerificationRecord.objects.filter(pk__gt=before["receipt"]).exists()
    assert not AuditEvent.objects.filter(pk__gt=before["event"], action="identity.verify").exists()
    monkeypatch.setattr(batch_pg, "_insert", real)
    result = services.check_in_batch(
        hotel_clerk.ctx(NOTIFY), rows, idempotency_key="crash-1", fingerprint="c", now=now
    )
    assert result.stored == 2 and not result.replayed
    again = services.check_in_batch(
        hotel_clerk.ctx(NOTIFY), rows, idempotency_key="crash-1", fingerprint="c", now=now
    )
    assert again.replayed and again.rows == result.rows
    assert Stay.objects.filter(pk__gt=before["stay"]).count() == 2
    assert VerificationRecord.objects.filter(pk__gt=before["receipt"]).count() == 2


@postgres_only
def test_when_a_concurrent_retry_stored_the_rows_first_the_batch_falls_back_without_doubling(
    hotel: services.EstablishmentView, hotel_clerk: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows' idempotency keys collide at the insert (another request with the same batch key
    stored row 0 after this one looked): the database refuses the key, the refusal reaches the
    batch as Django's ``IntegrityError``, everything the set-based path wrote is rolled back to its
    savepoint and the rows go through the reference path — each stored once. (The other request
    is played inside this batch's transaction, so its row goes with the savepoint too.)"""
    from dancu.blocks.identity.services import QrEvidence

    now = timezone.now()
    rows: list[Any] = [
        _row(services.CitizenGuest(QrEvidence(q)), room=r, now=now) for q, r in ((AN_QR, "1"), (MAI_QR, "2"))
    ]
    real = batch_pg._insert
    calls = {"n": 0}
    est = hotel_clerk_est(hotel)
    batch_key = "b:" + hashlib.sha256(b"race-1").hexdigest()[:40]

    def colliding(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > 1:  # the other request's own insert
            return real(*args, **kwargs)
        # The concurrent request's row 0, stored just before our insert.
        other = services.check_in(
            hotel_clerk.ctx(NOTIFY), rows[0], idempotency_key=services._row_key(batch_key, 0), now=now
        )
        assert other.stays and Submission.objects.filter(establishment=est).exists()
        return real(*args, **kwargs)

    before = _marks()
    monkeypatch.setattr(batch_pg, "_insert", colliding)
    result = services.check_in_batch(
        hotel_clerk.ctx(NOTIFY), rows, idempotency_key="race-1", fingerprint="r", now=now
    )
    monkeypatch.setattr(batch_pg, "_insert", real)
    # Inserts: the batch's (refused), the other request's, then the row-by-row fallback's two rows.
    assert calls["n"] == 4 and result.stored == 2
    assert Stay.objects.filter(pk__gt=before["stay"]).count() == 2
    assert VerificationRecord.objects.filter(pk__gt=before["receipt"]).count() == 2
    assert AuditEvent.objects.filter(pk__gt=before["event"], action="identity.verify").count() == 2


@postgres_only
def test_a_batch_takes_the_same_few_statements_whatever_its_length(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    """A batch of 3 and a batch of 60 notifications (a hotel with room for all) send the same
    statements: the establishment, the batch key's replay, the row keys and capacity, the
    verification statement, the stay ids and webhooks, the one insert, the batch's submission and
    its audit event (and their savepoints) — not statements per row."""
    from dancu.apps.residence.models import Establishment
    from dancu.blocks.identity.services import QrEvidence

    Establishment.objects.filter(pk=hotel.establishment_id).update(beds=1000, rooms=0)
    now = timezone.now()
    counts = []
    for n in (3, 60):
        rows: list[Any] = [
            _row(services.CitizenGuest(QrEvidence(AN_QR if i % 2 else MAI_QR)), room=str(i), now=now)
            for i in range(n)
        ]
        with sent_statements() as sent:
            result = services.check_in_batch(
                hotel_clerk.ctx(NOTIFY), rows, idempotency_key=f"count-{n}", fingerprint="c", now=now
            )
        assert result.stored == n
        counts.append(len(sent))
    assert counts[0] == counts[1] <= 14, counts  # 6 of them savepoints; before: 17–18


@postgres_only
def test_a_short_allocation_of_stay_ids_stores_nothing(
    hotel: services.EstablishmentView, hotel_clerk: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hotel clerk sends two rows; the sequence (here: a fault) gives one stay id too few.
    The batch is refused whole — no stay stored under another's id — and not by an ``assert``
    (``python -O`` strips those)."""
    from dancu.blocks.identity.services import QrEvidence

    real = batch_pg._allocate

    def short(est: Any, n: int) -> tuple[list[int], list[int]]:
        ids, hooks = real(est, n)
        return ids[:-1], hooks

    monkeypatch.setattr(batch_pg, "_allocate", short)
    now = timezone.now()
    rows: list[Any] = [
        _row(services.CitizenGuest(QrEvidence(q)), room=r, now=now) for q, r in ((AN_QR, "1"), (MAI_QR, "2"))
    ]
    before = Stay.objects.count()
    with pytest.raises(batch_pg.StayAllocationError):
        services.check_in_batch(
            hotel_clerk.ctx(NOTIFY), rows, idempotency_key="short", fingerprint="s", now=now
        )
    assert Stay.objects.count() == before
    assert not Submission.objects.filter(key__contains="short").exists()
