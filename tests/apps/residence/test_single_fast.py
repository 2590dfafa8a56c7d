"""A single notification on PostgreSQL (``batch_pg.check_in_one``; ADR 0018) is the reference
path's twin: the hotel clerk of Khách sạn Hòa Bình sends the same check-ins — a wanted person
(Nguyễn Văn An, on the alert list), a family with a foreign guest and a child, a name variant, a
name that does not match, a malformed QR, the same guest twice, a retry, the same key with another
body, a card previewed at the desk first, and requests that are denied — once with the set-based
path and once with it switched off; the answers, errors, stays, receipts, audit events (in their
order), alert hits, submissions and webhook deliveries are the same, ids and random references
replaced by stable names.

On SQLite the reference path always runs (``test_check_in.py`` and the API tests cover it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from dancu.apps.residence import batch_pg, services
from dancu.apps.residence.models import Establishment, Stay, Submission, Webhook, WebhookDelivery
from dancu.blocks.alerts import services as alerts
from dancu.blocks.alerts.models import AlertHit
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity.models import VerificationRecord
from dancu.blocks.identity.services import QrEvidence
from dancu.errors import AccessDenied, Conflict, DomainValidationError
from tests.apps.residence.conftest import AN_ID, AN_QR, CLAIRE_PASSPORT, MAI_NAME, MAI_QR
from tests.apps.residence.test_batch_fast import sent_statements
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("residents")
NOTIFY = "residence.notification"
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the single path's statements are PostgreSQL's; SQLite always runs the reference path",
)
MODELS: dict[str, Any] = {
    "stay": Stay,
    "receipt": VerificationRecord,
    "event": AuditEvent,
    "hit": AlertHit,
    "submission": Submission,
    "delivery": WebhookDelivery,
}


def _check_in(*guests: services.Guest, room: str, now: datetime, **changes: Any) -> services.CheckIn:
    arrival = now - timedelta(hours=1)
    stay: dict[str, Any] = {"expected_departure": arrival + timedelta(days=2), "reason": "Du lịch", **changes}
    return services.CheckIn(guests=tuple(guests), room=room, arrival=arrival, **stay)


def _qr(text: str) -> services.CitizenGuest:
    return services.CitizenGuest(QrEvidence(text))


def _marks() -> dict[str, int]:
    return {
        k: (m.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) for k, m in MODELS.items()
    }


class _Names:
    """Stable names for what differs between two runs: stays, groups, receipts, alert hits."""

    def __init__(self) -> None:
        self.names: dict[tuple[str, object], str] = {}

    def name(self, kind: str, value: object) -> str:
        return self.names.setdefault((kind, value), f"{kind}{len([k for k in self.names if k[0] == kind])}")


def _outcome(call: Callable[[], services.CheckInResult], names: _Names) -> Any:
    """The answer (stays as the API shows them) or the error (class, field, rule, message)."""
    try:
        result = call()
    except (DomainValidationError, Conflict, AccessDenied) as exc:
        problems = getattr(exc, "problems", None)
        if problems is not None:
            return (type(exc).__name__, [(p.field, p.rule, p.message) for p in problems])
        return (type(exc).__name__, str(exc))
    if isinstance(result, services.GuestPreview):
        return ("preview", sorted(vars(result).items()))
    stays = []
    for v in result.stays:
        d = dict(vars(v))
        d["stay_id"] = names.name("stay", v.stay_id)
        d["group_reference"] = names.name("group", v.group_reference)
        if v.guardian_stay_id is not None:
            d["guardian_stay_id"] = names.name("stay", v.guardian_stay_id)
        d["verification_receipt"] = (
            names.name("receipt", v.verification_receipt) if v.verification_receipt else ""
        )
        stays.append(sorted(d.items()))
    return ("ok", names.name("group", result.group_reference), result.replayed, stays)


def _written(before: dict[str, int], names: _Names) -> dict[str, Any]:
    """Every row written since ``before``, in id order, its ids and times replaced."""

    def norm(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: norm(v, k) for k, v in sorted(value.items())}
        if isinstance(value, list):
            return [norm(v, key) for v in value]
        if key in ("receipt", "receipt_id", "verification_receipt") and value:
            return names.name("receipt", str(value))
        if key in ("group", "group_reference") and value:
            return names.name("group", value)
        if key in ("stays", "stay_ids", "stay_id", "guardian_id") and isinstance(value, int):
            return names.name("stay", value)
        if key == "hit" and isinstance(value, int):
            return names.name("hit", value)
        if key == "case_reference" and isinstance(value, str):  # "lưu trú <key or group>"
            for (kind, known), name in names.names.items():
                if kind == "group" and isinstance(known, str) and known and known in value:
                    value = value.replace(known, name)
        return value

    out: dict[str, Any] = {}
    drop = {"id", "created_at", "updated_at", "occurred_at", "next_attempt_at"}
    for kind, model in MODELS.items():
        rows = []
        for obj in model.objects.filter(pk__gt=before[kind]).order_by("pk"):
            if kind == "hit":
                names.name("hit", obj.pk)
            d = {
                f.attname: getattr(obj, f.attname)
                for f in model._meta.concrete_fields
                if f.attname not in drop
            }
            if kind == "stay":
                d["stay_id"] = obj.pk
            rows.append(sorted(norm(d).items()))
        out[kind] = rows
    return out


def _scenario(people: dict[str, Person], hotel: services.EstablishmentView, now: datetime) -> list[Any]:
    """Everything the clerk (and two denied callers) send, in order."""
    ctx = people["clerk"].ctx(NOTIFY)
    accents = AN_QR.replace("Nguyễn Văn An", "Nguyễn Văn Ân")
    wrong = AN_QR.replace("Nguyễn Văn An", "Trần Văn Bình")
    family = _check_in(
        _qr(MAI_QR),
        services.ForeignGuest(CLAIRE_PASSPORT),
        services.ChildGuest("Nguyễn Bảo Ngọc", date(2020, 1, 5), guardian=0),
        room="102",
        now=now,
    )
    no_verify = replace(
        ctx.actor,
        allowed_purposes=frozenset(p for p in ctx.actor.allowed_purposes if p != "identity.verification"),
    )
    calls: list[Callable[[], Any]] = [
        lambda: services.check_in(
            ctx, _check_in(_qr(AN_QR), room="101", now=now), idempotency_key="k-an", now=now
        ),
        lambda: services.check_in(ctx, family, idempotency_key="k-family", now=now),
        lambda: services.check_in(ctx, family, idempotency_key="k-family", now=now),  # a retry: replayed
        lambda: services.check_in(  # the same key, another body: 409
            ctx, _check_in(_qr(MAI_QR), room="103", now=now), idempotency_key="k-family", now=now
        ),
        lambda: services.check_in(
            ctx, _check_in(_qr(accents), room="104", now=now), idempotency_key="k-v", now=now
        ),
        lambda: services.check_in(
            ctx, _check_in(_qr(wrong), room="105", now=now), idempotency_key="k-w", now=now
        ),
        lambda: services.check_in(
            ctx, _check_in(_qr("not|a|card"), room="106", now=now), idempotency_key="k-bad", now=now
        ),
        lambda: services.check_in(  # the same guest twice in one group
            ctx, _check_in(_qr(MAI_QR), _qr(MAI_QR), room="107", now=now), idempotency_key="k-twice", now=now
        ),
        lambda: services.preview_guest(ctx, _qr(MAI_QR), idempotency_key="k-desk", now=now),
        lambda: services.check_in(  # after the preview: its verification is reused, not repeated
            ctx, _check_in(_qr(MAI_QR), room="108", now=now), idempotency_key="k-desk", now=now
        ),
        lambda: services.check_in(  # no key: no request id, the reference path
            ctx, _check_in(_qr(AN_QR), room="109", now=now), now=now
        ),
        lambda: services.check_in(  # a user of no establishment: denied before anything is verified
            people["outsider"].ctx(NOTIFY),
            _check_in(_qr(AN_QR), room="110", now=now),
            idempotency_key="k-o",
            now=now,
        ),
        lambda: services.check_in(  # a desk that may not verify: denied, and the denial recorded
            AccessContext(actor=no_verify, purpose=NOTIFY),
            _check_in(_qr(MAI_QR), room="111", now=now),
            idempotency_key="k-nv",
            now=now,
        ),
    ]
    return calls


def _run(people: dict[str, Person], hotel: services.EstablishmentView, now: datetime, *, fast: bool) -> Any:
    names = _Names()
    with override_settings(DANCU_FAST_RESIDENCE_BATCH=fast), transaction.atomic():
        before = _marks()
        outcomes = []
        for call in _scenario(people, hotel, now):
            outcomes.append(_outcome(call, names))
        written = _written(before, names)
        actions = list(
            AuditEvent.objects.filter(pk__gt=before["event"]).order_by("pk").values_list("action", "result")
        )
        transaction.set_rollback(True)
    return outcomes, written, actions


@pytest.fixture
def setting(
    hotel: services.EstablishmentView, hotel_clerk: Person, outsider: Person, city_police: Person
) -> dict[str, Person]:
    alerts.add_alert(
        city_police.ctx("security.investigation"),
        AN_ID,
        kind="wanted",
        reference="QĐ-TN 12/2026",
        legal_basis="BLTTHS 2015 Điều 231",
    )
    Webhook.objects.create(  # a connected PMS: each result is queued for it
        establishment_id=hotel.establishment_id,
        url="https://pms.example.vn/hook",
        secret="0" * 64,
        created_by="t",
    )
    return {"clerk": hotel_clerk, "outsider": outsider}


@postgres_only
def test_single_check_ins_through_the_set_based_path_give_what_the_reference_path_gives(
    setting: dict[str, Person], hotel: services.EstablishmentView, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[bool] = []
    original = batch_pg.check_in_one

    def spy(*args: Any, **kwargs: Any) -> Any:
        answer = original(*args, **kwargs)
        taken.append(answer is not None)
        return answer

    monkeypatch.setattr(batch_pg, "check_in_one", spy)
    now = timezone.now()
    fast = _run(setting, hotel, now, fast=True)
    assert any(taken)  # the set-based path answered (and the reference path the others)
    reference = _run(setting, hotel, now, fast=False)
    outcomes, written, actions = fast
    assert outcomes == reference[0]
    for kind in MODELS:
        only_fast = [r for r in written[kind] if r not in reference[1][kind]]
        only_reference = [r for r in reference[1][kind] if r not in written[kind]]
        assert written[kind] == reference[1][kind], (kind, only_fast, only_reference)
    assert actions == reference[2]  # the same events in the same order
    # What the scenario shows, read from the fast run.
    statuses = [o[0] for o in outcomes]
    assert statuses == [
        "ok", "ok", "ok", "Conflict", "ok", "DomainValidationError", "DomainValidationError",
        "DomainValidationError", "preview", "ok", "ok", "AccessDenied", "AccessDenied",
    ]  # fmt: skip
    assert outcomes[2][2] is True  # the retry is replayed
    # An (wanted) checked in three times (his card, its name variant, without a key): three hits.
    assert len(written["hit"]) == 3
    assert ("identity.verify", "denied") in actions  # the desk that may not verify: recorded


@postgres_only
def test_a_single_check_in_takes_few_statements_and_one_commit(
    setting: dict[str, Person], hotel: services.EstablishmentView
) -> None:
    """The statements a stored single notification sends (``psycopg`` level): the establishment,
    one statement for the key's replay, capacity, the stay ids and the webhooks
    (``batch_pg.prelude_one``), then the verification statement and the insert, which answers the
    stays as stored (no read-back) — and one savepoint pair."""
    now = timezone.now()
    ctx = setting["clerk"].ctx(NOTIFY)
    with sent_statements() as sent:
        result = services.check_in(
            ctx, _check_in(_qr(MAI_QR), room="201", now=now), idempotency_key="c-1", now=now
        )
    assert len(result.stays) == 1
    assert len(sent) <= 6, sent
    with override_settings(DANCU_FAST_RESIDENCE_BATCH=False), sent_statements() as reference:
        services.check_in(ctx, _check_in(_qr(MAI_QR), room="202", now=now), idempotency_key="c-2", now=now)
    assert len(reference) >= 17, reference  # 19: the verification's 8, the store's 7, the reads


def test_on_sqlite_or_switched_off_a_single_check_in_takes_the_reference_path(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    now = timezone.now()
    est = Establishment.objects.get(pk=hotel.establishment_id)
    data = _check_in(_qr(MAI_QR), room="301", now=now)
    kwargs: dict[str, Any] = {"fingerprint": "f", "moment": now, "on": now.date(), "trust_store": None}
    with override_settings(DANCU_FAST_RESIDENCE_BATCH=False):
        assert (
            batch_pg.check_in_one(hotel_clerk.ctx(NOTIFY), est, data, idempotency_key="x", **kwargs) is None
        )
    # Without a key there is no request id to make the verification idempotent: reference path.
    assert batch_pg.check_in_one(hotel_clerk.ctx(NOTIFY), est, data, idempotency_key="", **kwargs) is None
    # Either way the clerk's check-in is stored.
    result = services.check_in(hotel_clerk.ctx(NOTIFY), data, idempotency_key="sq-1", now=now)
    assert [s.full_name for s in result.stays] == [MAI_NAME]


@postgres_only
def test_a_room_postgresql_cannot_take_is_refused_as_the_reference_path_refuses_it(
    setting: dict[str, Person], hotel: services.EstablishmentView
) -> None:
    """The set-based path reads the room's occupancy before the check-in is validated
    (``batch_pg.prelude_one``): a room with a NUL or a lone surrogate goes to the reference path,
    which refuses it field by field — never a database error, nothing stored."""
    now = timezone.now()
    ctx = setting["clerk"].ctx(NOTIFY)
    before = Stay.objects.count()
    for i, room in enumerate(["2\x0001", "2\ud80001"]):
        with pytest.raises(DomainValidationError) as refused:
            services.check_in(
                ctx, _check_in(_qr(MAI_QR), room=room, now=now), idempotency_key=f"r-{i}", now=now
            )
        assert [p.field for p in refused.value.problems] == ["room"]
    assert Stay.objects.count() == before
