"""The audit log: every access is recorded with a purpose; the citizen can see who looked at their
data; a sealing job chains events with SHA-256 so that editing or deleting a sealed event is
detected (ADR 0004)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from django.utils import timezone

from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.audit.models import AuditCheckpoint, AuditEvent
from dancu.blocks.audit.purposes import PURPOSES, get_purpose
from dancu.errors import DomainValidationError
from tests.conftest import Person

pytestmark = pytest.mark.django_db

FUTURE = timedelta(minutes=5)


def later() -> datetime:
    """A ``now`` for ``seal`` after every event recorded so far has passed the lag."""
    return timezone.now() + FUTURE


def record_n(
    ctx: AccessContext, n: int, *, subject: int = 1, action: str = "registry.read"
) -> list[AuditEvent]:
    return [audit.record(ctx, action, subject_citizen_id=subject, detail={"n": i}) for i in range(n)]


# --------------------------------------------------------------------------- purposes
def test_every_purpose_has_a_vietnamese_and_english_name_and_a_legal_basis() -> None:
    for code, purpose in PURPOSES.items():
        assert purpose.code == code
        assert purpose.name_vi and purpose.name_en and purpose.legal_basis


def test_an_unknown_purpose_code_is_a_validation_error_on_field_purpose() -> None:
    with pytest.raises(DomainValidationError) as exc:
        get_purpose("curiosity")
    assert [(p.field, p.rule) for p in exc.value.problems] == [("purpose", "unknown_purpose")]
    assert "registry.lookup" in str(exc.value)  # the message lists the known codes


# --------------------------------------------------------------------------- recording
def test_record_stores_who_for_which_organisation_and_purpose(city_police: Person) -> None:
    ctx = city_police.ctx("registry.lookup", case_reference="HS-2026-0042")
    ev = audit.record(ctx, "registry.read", subject_citizen_id=7, detail={"by": "id_number"})
    ev.refresh_from_db()
    assert ev.actor_user_id == city_police.user.pk
    assert ev.actor_label == "officer.city"
    assert ev.organisation_id == city_police.actor.organisation_id
    assert ev.organisation_name == "Công an thành phố Hà Nội"
    assert (ev.purpose, ev.action, ev.subject_citizen_id) == ("registry.lookup", "registry.read", 7)
    assert ev.result == AuditEvent.Result.OK
    assert ev.case_reference == "HS-2026-0042"
    assert ev.detail == {"by": "id_number"}
    assert (ev.hash, ev.prev_hash) == ("", "")  # sealed later


def test_record_keeps_denials_with_their_result(hotel_clerk: Person) -> None:
    ev = audit.record(hotel_clerk.ctx("registry.lookup"), "registry.read", result=AuditEvent.Result.DENIED)
    assert AuditEvent.objects.get(pk=ev.pk).result == "denied"


def test_record_refuses_an_unknown_purpose_and_stores_nothing(city_police: Person) -> None:
    with pytest.raises(DomainValidationError):
        audit.record(city_police.ctx("curiosity"), "registry.read", subject_citizen_id=1)
    with pytest.raises(DomainValidationError):
        audit.record_many(city_police.ctx("curiosity"), "registry.search_hit", [1, 2])
    assert AuditEvent.objects.count() == 0


def test_record_many_stores_one_event_per_subject(city_police: Person) -> None:
    n = audit.record_many(
        city_police.ctx("registry.lookup"), "registry.search_hit", [11, 12, 13], detail={"results": 3}
    )
    assert n == 3
    events = AuditEvent.objects.order_by("id")
    assert [e.subject_citizen_id for e in events] == [11, 12, 13]
    assert {e.action for e in events} == {"registry.search_hit"}
    assert all(e.detail == {"results": 3} for e in events)


def test_record_many_with_no_subjects_stores_nothing(city_police: Person) -> None:
    assert audit.record_many(city_police.ctx("registry.lookup"), "registry.search_hit", []) == 0
    assert AuditEvent.objects.count() == 0


# --------------------------------------------------------------------------- the citizen's view
def test_events_for_citizen_are_newest_first_with_purpose_names(
    city_police: Person, ward_police: Person
) -> None:
    now = timezone.now()
    first = audit.record(city_police.ctx("registry.lookup"), "registry.read", subject_citizen_id=5)
    second = audit.record(ward_police.ctx("security.investigation"), "registry.read", subject_citizen_id=5)
    audit.record(city_police.ctx("registry.lookup"), "registry.read", subject_citizen_id=6)  # someone else
    AuditEvent.objects.filter(pk=first.pk).update(occurred_at=now - timedelta(days=2))
    AuditEvent.objects.filter(pk=second.pk).update(occurred_at=now - timedelta(days=1))

    records = audit.events_for_citizen(5)
    assert [r.who for r in records] == ["officer.tayho", "officer.city"]
    newest = records[0]
    assert newest.organisation == "Công an phường Tây Hồ"
    assert newest.purpose_code == "security.investigation"
    assert newest.purpose_vi == "Bảo đảm an ninh, trật tự"
    assert newest.purpose_en == "Security and public order"
    assert newest.action == "registry.read"
    assert newest.result == "ok"


def test_events_at_the_same_instant_are_ordered_by_id_newest_first(city_police: Person) -> None:
    ctx = city_police.ctx("registry.lookup")
    for action in ["registry.read", "registry.history", "registry.search_hit"]:
        audit.record(ctx, action, subject_citizen_id=9)
    AuditEvent.objects.update(occurred_at=timezone.now())
    records = audit.events_for_citizen(9)
    assert [r.action for r in records] == ["registry.search_hit", "registry.history", "registry.read"]


def test_events_for_citizen_respects_the_limit(city_police: Person) -> None:
    record_n(city_police.ctx("registry.lookup"), 5, subject=3)
    assert len(audit.events_for_citizen(3, limit=2)) == 2
    assert audit.events_for_citizen(404) == []


def test_a_retired_purpose_code_is_shown_as_its_code(city_police: Person) -> None:
    ev = audit.record(city_police.ctx("registry.lookup"), "registry.read", subject_citizen_id=8)
    AuditEvent.objects.filter(pk=ev.pk).update(purpose="old.purpose")
    [rec] = audit.events_for_citizen(8)
    assert (rec.purpose_code, rec.purpose_vi, rec.purpose_en) == ("old.purpose", "old.purpose", "old.purpose")


# --------------------------------------------------------------------------- sealing
def test_seal_chains_events_older_than_the_lag_in_id_order(
    system_ctx: Callable[[str], AccessContext],
) -> None:
    events = record_n(system_ctx("registry.administration"), 3)
    young = audit.record(system_ctx("registry.administration"), "registry.read", subject_citizen_id=2)
    AuditEvent.objects.exclude(pk=young.pk).update(occurred_at=timezone.now() - timedelta(minutes=1))

    assert audit.seal() == 3

    sealed = list(AuditEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("id"))
    assert sealed[0].prev_hash == audit.GENESIS
    for before, after in pairwise(sealed):
        assert after.prev_hash == before.hash
    assert all(len(e.hash) == 64 for e in sealed)
    assert AuditEvent.objects.get(pk=young.pk).hash == ""  # younger than the lag: may still be committing
    head = AuditCheckpoint.objects.get()
    assert (head.last_event_id, head.last_hash, head.events_sealed) == (sealed[-1].pk, sealed[-1].hash, 3)


def test_a_young_event_is_never_skipped_sealing_stops_before_it(
    system_ctx: Callable[[str], AccessContext],
) -> None:
    """A later event with an older time (clock skew between servers, a back-dated import) must not
    let the chain jump over a young event: the young one would never be sealed."""
    young, older_time = record_n(system_ctx("registry.administration"), 2)
    AuditEvent.objects.filter(pk=older_time.pk).update(occurred_at=timezone.now() - timedelta(minutes=5))

    assert audit.seal() == 0  # the first event in id order is still young

    assert audit.seal(now=later()) == 2
    chained = list(AuditEvent.objects.order_by("id"))
    assert [e.pk for e in chained] == [young.pk, older_time.pk]
    assert chained[0].prev_hash == audit.GENESIS
    assert chained[1].prev_hash == chained[0].hash
    assert audit.verify_chain().events_checked == 2


def test_seal_with_nothing_to_seal_writes_no_checkpoint() -> None:
    assert audit.seal(now=later()) == 0
    assert not AuditCheckpoint.objects.exists()


def test_a_hash_covers_the_previous_hash_and_the_content(system_ctx: Callable[[str], AccessContext]) -> None:
    [ev] = record_n(system_ctx("registry.administration"), 1)
    ev.refresh_from_db()
    assert audit.event_digest(ev, audit.GENESIS) != audit.event_digest(ev, "f" * 64)
    ev.detail = {"n": 1}
    assert audit.event_digest(ev, audit.GENESIS) != audit.event_digest(
        AuditEvent.objects.get(pk=ev.pk), audit.GENESIS
    )


def test_seal_in_small_batches_gives_the_same_chain(system_ctx: Callable[[str], AccessContext]) -> None:
    record_n(system_ctx("registry.administration"), 7)
    assert audit.seal(now=later(), batch=3) == 7
    report = audit.verify_chain()
    assert (report.ok, report.events_checked) == (True, 7)


def test_an_intact_chain_verifies(city_police: Person) -> None:
    ctx = city_police.ctx("registry.lookup")
    record_n(ctx, 4)
    audit.record(ctx, "registry.read", detail={"ghi_chú": "đã xem", "fields": ["full_name", "religion"]})
    audit.seal(now=later())
    report = audit.verify_chain()
    assert report.ok, report.reason
    assert report.events_checked == 5
    assert report.first_bad_event_id is None


def test_verify_on_an_empty_log_is_ok() -> None:
    report = audit.verify_chain()
    assert (report.ok, report.events_checked) == (True, 0)


@pytest.mark.parametrize(
    "change",
    [
        {"detail": {"n": 99}},
        {"actor_label": "someone.else"},
        {"purpose": "security.investigation"},
        {"result": "denied"},
        {"subject_citizen_id": 4242},
        {"case_reference": "HS-FORGED"},
    ],
)
def test_editing_a_sealed_event_is_detected(city_police: Person, change: dict[str, object]) -> None:
    events = record_n(city_police.ctx("registry.lookup"), 4)
    audit.seal(now=later())
    victim = events[2]
    assert AuditEvent.objects.filter(pk=victim.pk).update(**change) == 1

    report = audit.verify_chain()
    assert report.ok is False
    assert report.first_bad_event_id == victim.pk
    assert report.events_checked == 2
    assert "edited" in report.reason


def test_shifting_an_events_time_is_detected(city_police: Person) -> None:
    events = record_n(city_police.ctx("registry.lookup"), 2)
    audit.seal(now=later())
    AuditEvent.objects.filter(pk=events[0].pk).update(occurred_at=timezone.now() - timedelta(days=30))
    report = audit.verify_chain()
    assert (report.ok, report.first_bad_event_id) == (False, events[0].pk)


def test_deleting_a_sealed_event_is_detected(city_police: Person) -> None:
    events = record_n(city_police.ctx("registry.lookup"), 4)
    audit.seal(now=later())
    AuditEvent.objects.filter(pk=events[1].pk).delete()

    report = audit.verify_chain()
    assert report.ok is False
    assert report.first_bad_event_id == events[2].pk
    assert "removed" in report.reason


def test_deleting_the_newest_sealed_event_is_detected_by_the_checkpoint(city_police: Person) -> None:
    events = record_n(city_police.ctx("registry.lookup"), 3)
    audit.seal(now=later())
    AuditEvent.objects.filter(pk=events[-1].pk).delete()

    report = audit.verify_chain()
    assert report.ok is False
    assert report.first_bad_event_id == events[-1].pk
    assert "checkpoint" in report.reason


def test_unsealing_a_sealed_event_is_detected(city_police: Person) -> None:
    events = record_n(city_police.ctx("registry.lookup"), 3)
    audit.seal(now=later())
    AuditEvent.objects.filter(pk=events[1].pk).update(hash="", prev_hash="", detail={"n": "forged"})
    report = audit.verify_chain()
    assert (report.ok, report.first_bad_event_id) == (False, events[2].pk)


def test_rewriting_a_hash_to_hide_an_edit_breaks_the_link_to_the_next_event(city_police: Person) -> None:
    events = record_n(city_police.ctx("registry.lookup"), 3)
    audit.seal(now=later())
    victim = AuditEvent.objects.get(pk=events[0].pk)
    victim.detail = {"n": "forged"}
    AuditEvent.objects.filter(pk=victim.pk).update(
        detail=victim.detail, hash=audit.event_digest(victim, audit.GENESIS)
    )

    report = audit.verify_chain()
    assert report.ok is False
    assert report.first_bad_event_id == events[1].pk


def test_the_chain_continues_across_two_sealing_runs(city_police: Person) -> None:
    ctx = city_police.ctx("registry.lookup")
    first_run = record_n(ctx, 2)
    assert audit.seal(now=later()) == 2
    second_run = record_n(ctx, 3)
    assert audit.seal(now=later()) == 3

    head_1, head_2 = AuditCheckpoint.objects.order_by("last_event_id")
    assert head_1.last_event_id == first_run[-1].pk
    assert head_2.last_event_id == second_run[-1].pk
    assert AuditEvent.objects.get(pk=second_run[0].pk).prev_hash == head_1.last_hash
    report = audit.verify_chain()
    assert (report.ok, report.events_checked) == (True, 5)
    assert audit.seal(now=later()) == 0  # nothing is sealed twice
    assert AuditCheckpoint.objects.count() == 2


def test_an_edit_in_the_first_run_is_detected_after_the_second(city_police: Person) -> None:
    ctx = city_police.ctx("registry.lookup")
    first_run = record_n(ctx, 2)
    audit.seal(now=later())
    record_n(ctx, 2)
    audit.seal(now=later())
    AuditEvent.objects.filter(pk=first_run[0].pk).update(action="registry.correct")
    assert audit.verify_chain().first_bad_event_id == first_run[0].pk


def test_system_actor_may_use_every_purpose() -> None:
    system = Actor.system("seeder")
    assert system.is_system
    assert system.may("registry.administration")
    assert system.may("system.import")


@pytest.mark.django_db
def test_the_seal_and_verify_commands_report_an_intact_then_a_tampered_chain(
    city_police: Person, capsys: pytest.CaptureFixture[str]
) -> None:
    """Operators run ``dancu audit_seal`` periodically and ``dancu audit_verify`` to check."""
    from django.core.management import CommandError, call_command

    ctx = city_police.ctx("registry.lookup")
    for _ in range(3):
        audit.record(ctx, "registry.read", subject_citizen_id=7)
    AuditEvent.objects.update(occurred_at=timezone.now() - timedelta(minutes=1))
    call_command("audit_seal")
    call_command("audit_verify")
    out = capsys.readouterr().out
    assert "sealed 3 audit events" in out and "3 events verified" in out
    AuditEvent.objects.filter(pk=AuditEvent.objects.order_by("id")[1].pk).update(detail={"forged": True})
    with pytest.raises(CommandError, match="edited"):
        call_command("audit_verify")
