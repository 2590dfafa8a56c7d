"""Enrolment: a driving-school clerk enrols a learner with a verified card, in each of the ways a
card is read; the same person may not be enrolled at two schools at once for one licence class."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from dancu.apps.driving import services
from dancu.apps.driving.faces import face_reference
from dancu.apps.driving.models import Enrolment
from dancu.blocks.identity.chip import ChipData, synthetic_face_jpeg
from dancu.blocks.identity.services import QrEvidence, TypedEvidence
from dancu.errors import AccessDenied, DomainValidationError
from tests.apps.driving.conftest import AN_CARD_ISSUED, AN_ID, AN_QR, COURSE, chip_evidence
from tests.conftest import Person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("residents", "trusted")]


def test_clerk_enrols_a_learner_with_the_card_qr(school_clerk: Person) -> None:
    result = services.enrol(school_clerk.actor, QrEvidence(AN_QR), **COURSE)
    assert result.decision == "match" and result.findings == ()
    e = result.enrolment
    assert e is not None
    assert (e.id_number, e.card_issued_on, e.full_name, e.date_of_birth, e.sex) == (
        AN_ID,
        AN_CARD_ISSUED,
        "Nguyễn Văn An",
        "02/03/1985",
        "M",
    )
    assert e.school_name == "Trung tâm đào tạo lái xe Tây Hồ" and e.evidence_kind == "qr"
    assert e.receipt_id == result.receipt_id and not e.has_face_reference


def test_clerk_enrols_with_typed_card_data(school_clerk: Person) -> None:
    typed = TypedEvidence(AN_ID, "Nguyễn Văn An", date(1985, 3, 2), "M", AN_CARD_ISSUED)
    result = services.enrol(school_clerk.actor, typed, **COURSE)
    assert result.enrolment is not None and result.enrolment.evidence_kind == "typed"
    assert result.enrolment.card_issued_on == AN_CARD_ISSUED


def test_chip_enrolment_keeps_a_face_reference_but_never_the_photo(
    school_clerk: Person, chip_of: Callable[..., ChipData]
) -> None:
    result = services.enrol(school_clerk.actor, chip_evidence(chip_of(face_seed=7)), **COURSE)
    assert result.enrolment is not None and result.enrolment.has_face_reference
    stored = Enrolment.objects.get(pk=result.enrolment.enrolment_id)
    expected = face_reference(synthetic_face_jpeg(7))
    assert (stored.face_sha256, stored.face_dhash) == (expected.sha256, expected.dhash)
    assert len(stored.face_dhash) == 64
    # No field holds image bytes: the largest stored text is the 64-hex-digit hash.
    assert all(len(str(getattr(stored, f.attname) or "")) <= 255 for f in Enrolment._meta.fields)


def test_a_card_the_registry_does_not_confirm_is_not_enrolled(school_clerk: Person) -> None:
    wrong_birth = TypedEvidence(AN_ID, "Nguyễn Văn An", date(1985, 3, 3), "M")
    result = services.enrol(school_clerk.actor, wrong_birth, **COURSE)
    assert result.enrolment is None and result.decision != "match"
    assert result.findings[0].code == "verification_failed"
    assert Enrolment.objects.count() == 0


def test_double_enrolment_at_a_second_school_is_refused(
    school_clerk: Person, other_school_clerk: Person
) -> None:
    assert services.enrol(school_clerk.actor, QrEvidence(AN_QR), **COURSE).enrolment is not None
    overlapping = {**COURSE, "course_start": date(2025, 11, 1), "course_end": date(2026, 2, 28)}
    refused = services.enrol(other_school_clerk.actor, QrEvidence(AN_QR), **overlapping)
    assert refused.enrolment is None
    assert [f.code for f in refused.findings] == ["double_enrolment"]
    assert refused.findings[0].severity == "block"
    assert "cơ sở đào tạo khác" in refused.findings[0].message_vi
    assert Enrolment.objects.count() == 1


def test_enrolment_after_the_first_course_or_for_another_class_is_allowed(
    school_clerk: Person, other_school_clerk: Person
) -> None:
    services.enrol(school_clerk.actor, QrEvidence(AN_QR), **COURSE)
    later = {**COURSE, "course_start": date(2026, 1, 5), "course_end": date(2026, 4, 30)}
    assert services.enrol(other_school_clerk.actor, QrEvidence(AN_QR), **later).enrolment is not None
    motorbike = {**COURSE, "licence_class": "A1"}
    assert services.enrol(other_school_clerk.actor, QrEvidence(AN_QR), **motorbike).enrolment is not None


def test_enrolling_twice_at_the_same_school_is_refused(school_clerk: Person) -> None:
    services.enrol(school_clerk.actor, QrEvidence(AN_QR), **COURSE)
    again = services.enrol(school_clerk.actor, QrEvidence(AN_QR), **COURSE)
    assert [f.code for f in again.findings] == ["already_enrolled"]


def test_course_dates_and_class_are_checked(school_clerk: Person) -> None:
    with pytest.raises(DomainValidationError) as exc:
        services.enrol(
            school_clerk.actor,
            QrEvidence(AN_QR),
            licence_class="Z9",
            course_start=date(2025, 9, 1),
            course_end=date(2025, 8, 1),
        )
    assert {p.rule for p in exc.value.problems} == {"choice", "after_start"}


@pytest.mark.parametrize("who", ["hotel_clerk", "city_police", "outsider"])
def test_only_driving_school_staff_may_enrol(who: str, request: pytest.FixtureRequest) -> None:
    person: Person = request.getfixturevalue(who)
    with pytest.raises(AccessDenied):
        services.enrol(person.actor, QrEvidence(AN_QR), **COURSE)
    assert Enrolment.objects.count() == 0


def test_a_test_centre_does_not_enrol(examiner: Person) -> None:
    with pytest.raises(AccessDenied) as exc:
        services.enrol(examiner.actor, QrEvidence(AN_QR), **COURSE)
    assert exc.value.rule == "school_only"


def test_enrolment_is_recorded_with_the_clerk(school_clerk: Person) -> None:
    result = services.enrol(school_clerk.actor, QrEvidence(AN_QR), **COURSE)
    assert result.enrolment is not None and result.enrolment.enrolled_by == "clerk.laixe.tayho"
