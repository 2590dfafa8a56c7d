"""Two schools enrol the same card at the same moment: Trung tâm đào tạo lái xe Tây Hồ and Trường
dạy lái xe Đống Đa both verify Nguyễn Văn An's card for licence class B with overlapping courses.
Exactly one enrolment stands; the other school is refused with ``double_enrolment`` ("the same
card enrolled at two schools at once"), never silently enrolled.

* deterministic, on SQLite and PostgreSQL: Đống Đa's enrolment completes between Tây Hồ's
  verification and Tây Hồ's look for overlaps — Tây Hồ is refused;
* concurrent, PostgreSQL only: two threads, each with its own database connection, verify at the
  same time and then look for overlaps, each look made slow — the row lock makes the second wait
  for the first and then see it."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection

from dancu.apps.driving import services
from dancu.apps.driving.models import Enrolment, EnrolmentGuard
from dancu.blocks.identity.mrz import vietnamese_td1
from dancu.blocks.identity.services import MrzEvidence, QrEvidence
from tests.apps.driving.conftest import AN_ID, AN_QR, COURSE
from tests.blocks.identity.conftest import AN_BORN, AN_CARD_EXPIRES, AN_NAME
from tests.conftest import Person

ON_POSTGRESQL = connection.vendor == "postgresql"


@pytest.mark.django_db
@pytest.mark.usefixtures("residents", "trusted")
def test_a_school_that_enrolled_meanwhile_makes_the_later_one_refused(
    school_clerk: Person, other_school_clerk: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_card_seen = services._card_seen
    calls: list[str] = []

    def dong_da_enrols_in_between(*args: Any, **kwargs: Any) -> Any:
        seen = real_card_seen(*args, **kwargs)
        if not calls:  # Tây Hồ's enrolment, verified, not yet looking for overlaps
            calls.append("tay_ho")
            first = services.enrol(other_school_clerk.actor, QrEvidence(AN_QR), **COURSE)
            assert first.enrolment is not None
        return seen

    monkeypatch.setattr(services, "_card_seen", dong_da_enrols_in_between)
    late = services.enrol(school_clerk.actor, QrEvidence(AN_QR), **COURSE)
    assert late.enrolment is None
    assert [f.code for f in late.findings] == ["double_enrolment"]
    assert list(Enrolment.objects.values_list("school_name", flat=True)) == ["Trường dạy lái xe Đống Đa"]
    assert EnrolmentGuard.objects.filter(id_number=AN_ID, licence_class="B").count() == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("residents", "trusted")
def test_an_mrz_enrolment_counts_for_the_same_card(school_clerk: Person, other_school_clerk: Person) -> None:
    mrz = vietnamese_td1(
        id_number=AN_ID, full_name=AN_NAME, date_of_birth=AN_BORN, sex="M", date_of_expiry=AN_CARD_EXPIRES
    ).text
    assert services.enrol(school_clerk.actor, MrzEvidence(mrz), **COURSE).enrolment is not None
    refused = services.enrol(other_school_clerk.actor, QrEvidence(AN_QR), **COURSE)
    assert [f.code for f in refused.findings] == ["double_enrolment"]


@pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="needs row locks and concurrent write transactions: SQLite runs one writer at a time "
    "(and its in-memory test database is not shared between threads)",
)
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("residents", "trusted")
@pytest.mark.parametrize("guard_exists", [False, True], ids=["first_enrolment_ever", "guard_row_exists"])
def test_two_schools_enrolling_the_same_card_at_once_one_is_refused(
    school_clerk: Person,
    other_school_clerk: Person,
    monkeypatch: pytest.MonkeyPatch,
    guard_exists: bool,
) -> None:
    if guard_exists:  # the card was enrolled for class B before (a course long finished)
        EnrolmentGuard.objects.create(id_number=AN_ID, licence_class="B")
    both_verified = threading.Barrier(2, timeout=30)
    real_card_seen, real_overlapping = services._card_seen, services._overlapping

    def verified_together(*args: Any, **kwargs: Any) -> Any:
        seen = real_card_seen(*args, **kwargs)
        both_verified.wait()  # both schools have verified the card; now both enrol
        return seen

    def slow_look(*args: Any, **kwargs: Any) -> list[int]:
        found = real_overlapping(*args, **kwargs)
        time.sleep(0.5)  # without the lock, the other school would look now and find nothing
        return found

    monkeypatch.setattr(services, "_card_seen", verified_together)
    monkeypatch.setattr(services, "_overlapping", slow_look)
    results: dict[str, Any] = {}

    def enrol(name: str, clerk: Person) -> None:
        try:
            results[name] = services.enrol(clerk.actor, QrEvidence(AN_QR), **COURSE)
        except Exception as exc:
            results[name] = exc
        finally:
            connection.close()  # this thread's own connection

    threads = [
        threading.Thread(target=enrol, args=(name, clerk))
        for name, clerk in (("tay_ho", school_clerk), ("dong_da", other_school_clerk))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    outcomes = sorted(
        ("enrolled" if r.enrolment is not None else r.findings[0].code)
        if not isinstance(r, Exception)
        else repr(r)
        for r in results.values()
    )
    assert outcomes == ["double_enrolment", "enrolled"]
    assert Enrolment.objects.filter(id_number=AN_ID, licence_class="B").count() == 1
    assert EnrolmentGuard.objects.filter(id_number=AN_ID, licence_class="B").count() == 1
