"""What a civil-status officer may learn through the guardianship desk (security review of ADR 0017).

Rules: the ward is checked before the guardian, so a request refused for the ward tells nothing
about the guardian; the guardian is refused with one generic rule (``not_eligible``) whether the
number is unknown, the person deceased or a minor, and that refusal is audited to the citizen it
names; an adult's record is not a child's record (refused unless a guardianship or restriction is
on it, and then without the parents); the civil-status purpose needs a ward jurisdiction.

Actors: the judicial and civil-status officer of UBND phường Tây Hồ; the civil-status officer of
UBND thành phố Hà Nội (no ward: refused). Citizens: Nguyễn Văn An, father of Khôi (4) and Hà (10);
Huỳnh Thị Mai, Hà's mother, who lives in another ward in the first tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry import guardianship
from dancu.blocks.registry.models import Citizen, Guardianship
from dancu.errors import AccessDenied, DomainValidationError
from tests.conftest import Person
from tests.guardianship_support import (  # noqa: F401 — fixtures used by the tests
    AN_ID,
    HA_ID,
    KHOI_ID,
    MAI_ID,
    an_children,
    civil_status_city,
    civil_status_tayho,
    residents,
    rules,
)

pytestmark = pytest.mark.django_db
CS = guardianship.CIVIL_STATUS
ACTION = "registry.guardianship.record"
UNKNOWN_ID = "001090000777"  # well formed, no such citizen


def appoint(officer: Person, ward: str, guardian: str, started_on: date) -> guardianship.GuardianshipView:
    return guardianship.record_guardianship(
        officer.ctx(CS),
        ward,
        guardian,
        kind="appointed",
        started_on=started_on,
        record_number="GH-7/2026",
        reason="Cha mẹ không thể chăm sóc",
        legal_basis="Bộ luật Dân sự 2015 Điều 54",
    )


def test_a_refusal_for_the_ward_says_nothing_about_the_guardian(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_tayho: Person,  # noqa: F811
) -> None:
    mai = Citizen.objects.get(id_number=MAI_ID)
    Citizen.objects.filter(pk=mai.pk).update(permanent_ward_code="00070")  # not the officer's ward
    appoint(civil_status_tayho, KHOI_ID, AN_ID, date(2026, 11, 1))
    # The reviewer's probe: with Khôi's guardian in office every request is refused; the answers
    # used to differ with Mai's age on the start date, giving her date of birth by bisection.
    answers = set()
    for day in (date(1950, 1, 1), mai.date_of_birth + timedelta(days=18 * 365), date(2026, 11, 30)):
        with pytest.raises(DomainValidationError) as refused:
            appoint(civil_status_tayho, KHOI_ID, MAI_ID, day)
        answers.add(tuple(sorted(rules(refused).items())))
    assert all(("ward_id_number", "has_guardian") in a for a in answers)
    assert not any(field == "guardian_id_number" for a in answers for field, _ in a)


def test_the_guardian_is_refused_with_one_rule_and_the_refusal_is_audited_to_them(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_tayho: Person,  # noqa: F811
) -> None:
    ha = Citizen.objects.get(id_number=HA_ID)
    mai = Citizen.objects.get(id_number=MAI_ID)
    Citizen.objects.filter(pk=mai.pk).update(life_status="deceased", date_of_death=date(2026, 1, 1))
    started = date(2026, 6, 1)
    for guardian in (HA_ID, MAI_ID, UNKNOWN_ID):  # a minor, a deceased adult, no one
        with pytest.raises(DomainValidationError) as refused:
            appoint(civil_status_tayho, KHOI_ID, guardian, started)
        assert rules(refused) == {"guardian_id_number": "not_eligible"}
        assert refused.value.problems[0].message.startswith("guardian not eligible")
    denied = AuditEvent.objects.filter(action=ACTION, result="denied")
    assert sorted((e.subject_citizen_id or 0, e.detail["reason"]) for e in denied) == sorted(
        [(0, "guardian_not_eligible"), (ha.pk, "guardian_not_eligible"), (mai.pk, "guardian_not_eligible")]
    )
    assert not Guardianship.objects.exists()
    # An eligible guardian is recorded as before.
    assert appoint(civil_status_tayho, KHOI_ID, AN_ID, started).guardian_id_number == AN_ID


def test_an_adult_without_a_guardianship_on_record_has_no_child_record(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_tayho: Person,  # noqa: F811
) -> None:
    an = Citizen.objects.get(id_number=AN_ID)
    with pytest.raises(AccessDenied) as refused:
        guardianship.child_record(civil_status_tayho.ctx(CS), AN_ID)
    assert (refused.value.rule, refused.value.field) == ("adult", "child_id_number")
    assert AuditEvent.objects.filter(
        action="registry.guardianship.read", result="denied", subject_citizen_id=an.pk
    ).exists()
    # A minor's record still names the parents.
    assert guardianship.child_record(civil_status_tayho.ctx(CS), KHOI_ID).father_id_number == AN_ID


def test_an_adult_former_ward_sees_only_the_guardianship_rows_without_the_parents(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_tayho: Person,  # noqa: F811
) -> None:
    mai = Citizen.objects.get(id_number=MAI_ID)
    an = Citizen.objects.get(id_number=AN_ID)
    appoint(civil_status_tayho, KHOI_ID, MAI_ID, date(2026, 6, 1))
    Citizen.objects.filter(id_number=KHOI_ID).update(date_of_birth=date(2007, 1, 1))  # now 19
    before = AuditEvent.objects.filter(subject_citizen_id=an.pk).count()
    record = guardianship.child_record(civil_status_tayho.ctx(CS), KHOI_ID)
    assert record.age >= 18 and [g.guardian_id_number for g in record.guardianships] == [MAI_ID]
    assert (record.father_id_number, record.father_name, record.mother_id_number) == ("", "", "")
    # The father is not named, so the reading is not on his record; it is on the guardian's.
    assert AuditEvent.objects.filter(subject_citizen_id=an.pk).count() == before
    assert AuditEvent.objects.filter(action="registry.guardianship.read", subject_citizen_id=mai.pk).exists()


def test_a_city_committee_civil_status_member_without_a_ward_is_refused(
    an_children: dict[str, Any],  # noqa: F811
    civil_status_city: Person,  # noqa: F811
) -> None:
    with pytest.raises(AccessDenied) as read:
        guardianship.child_record(civil_status_city.ctx(CS), KHOI_ID)
    with pytest.raises(AccessDenied) as write:
        appoint(civil_status_city, KHOI_ID, AN_ID, date(2026, 6, 1))
    assert read.value.rule == write.value.rule == "ward_jurisdiction"
    denied = AuditEvent.objects.filter(result="denied", detail__reason="ward_jurisdiction")
    assert {e.action for e in denied} == {"registry.guardianship.read", ACTION}
    assert not Guardianship.objects.exists()
