"""Sessions and the test: the learner is verified again and impersonation is flagged — another
person's card, a face that is not the enrolled one, a replaced card (a warning), a verification
that does not match. A test centre verifies learners of any school after looking them up."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date

import pytest

from dancu.apps.driving import services
from dancu.apps.driving.faces import FACE_MATCH_THRESHOLD, face_reference, hamming, same_portrait
from dancu.apps.driving.models import EnrolmentLookup, SessionCheck
from dancu.blocks.identity.chip import ChipData, synthetic_face_jpeg
from dancu.blocks.identity.services import QrEvidence, TypedEvidence
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.apps.driving.conftest import AN_ID, AN_NEW_QR, AN_QR, COURSE, MAI_QR, chip_evidence
from tests.conftest import Person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("residents", "trusted")]


def _enrol_by_qr(clerk: Person) -> int:
    result = services.enrol(clerk.actor, QrEvidence(AN_QR), **COURSE)
    assert result.enrolment is not None
    return result.enrolment.enrolment_id


def _codes(check: services.CheckView) -> list[str]:
    return [f.code for f in check.findings]


def test_a_session_with_the_enrolled_card_passes(school_clerk: Person) -> None:
    enrolment = _enrol_by_qr(school_clerk)
    check = services.check_session(
        school_clerk.actor, enrolment, QrEvidence(AN_QR), kind="theory", instructor="Lê Văn Hùng"
    )
    assert check.outcome == "passed" and check.findings == () and check.decision == "match"
    stored = SessionCheck.objects.get(pk=check.check_id)
    assert (stored.kind, stored.instructor, stored.receipt_id) == ("theory", "Lê Văn Hùng", check.receipt_id)


def test_another_persons_card_is_flagged_as_impersonation(school_clerk: Person) -> None:
    enrolment = _enrol_by_qr(school_clerk)
    check = services.check_session(school_clerk.actor, enrolment, QrEvidence(MAI_QR), kind="on_road")
    assert check.decision == "match"  # Mai's card is genuine — but Mai is not the learner
    assert check.outcome == "flagged" and _codes(check) == ["different_person"]
    assert "nghi vấn học thay" in check.findings[0].message_vi
    assert "impersonation suspected" in check.findings[0].message_en


def test_a_replaced_card_is_a_warning_not_a_block(
    school_clerk: Person, replace_an_card: Callable[[], None]
) -> None:
    enrolment = _enrol_by_qr(school_clerk)  # with the 2021 card
    replace_an_card()  # An gets a căn cước card during the course
    check = services.check_session(school_clerk.actor, enrolment, QrEvidence(AN_NEW_QR), kind="simulator")
    assert check.outcome == "warning" and _codes(check) == ["card_replaced"]
    assert check.findings[0].severity == "warning"
    assert check.findings[0].detail == "01/04/2021 → 04/10/2024"


def test_a_verification_that_does_not_match_is_flagged(school_clerk: Person) -> None:
    enrolment = _enrol_by_qr(school_clerk)
    wrong = TypedEvidence(AN_ID, "Nguyễn Văn Bình", date(1985, 3, 2), "M")
    check = services.check_session(school_clerk.actor, enrolment, wrong, kind="theory")
    assert check.outcome == "flagged" and check.decision != "match"
    assert _codes(check)[0] == "verification_failed"
    assert all(f.severity == "info" for f in check.findings[1:]) and len(check.findings) > 1


def test_face_of_the_same_chip_portrait_matches(
    school_clerk: Person, chip_of: Callable[..., ChipData]
) -> None:
    result = services.enrol(school_clerk.actor, chip_evidence(chip_of(face_seed=11)), **COURSE)
    assert result.enrolment is not None
    check = services.check_session(
        school_clerk.actor,
        result.enrolment.enrolment_id,
        chip_evidence(chip_of(face_seed=11)),
        kind="on_road",
    )
    assert check.outcome == "passed" and check.face_distance == 0


def test_face_of_another_portrait_is_flagged(school_clerk: Person, chip_of: Callable[..., ChipData]) -> None:
    result = services.enrol(school_clerk.actor, chip_evidence(chip_of(face_seed=11)), **COURSE)
    assert result.enrolment is not None
    check = services.check_session(
        school_clerk.actor,
        result.enrolment.enrolment_id,
        chip_evidence(chip_of(face_seed=12)),
        kind="on_road",
    )
    assert check.outcome == "flagged" and _codes(check) == ["face_mismatch"]
    assert check.face_distance is not None and check.face_distance > FACE_MATCH_THRESHOLD


def test_a_session_without_the_chip_notes_that_the_face_was_not_compared(
    school_clerk: Person, chip_of: Callable[..., ChipData]
) -> None:
    result = services.enrol(school_clerk.actor, chip_evidence(chip_of(face_seed=3)), **COURSE)
    assert result.enrolment is not None
    check = services.check_session(
        school_clerk.actor, result.enrolment.enrolment_id, QrEvidence(AN_QR), kind="theory"
    )
    assert check.outcome == "passed" and _codes(check) == ["face_not_compared"]


def test_perceptual_hash_tells_synthetic_faces_apart_and_matches_the_same_seed() -> None:
    refs = {seed: face_reference(synthetic_face_jpeg(seed)) for seed in range(40)}
    for seed, ref in refs.items():
        assert same_portrait(ref, face_reference(synthetic_face_jpeg(seed))) == (True, 0)
    for a, b in itertools.combinations(refs, 2):
        assert hamming(refs[a].dhash, refs[b].dhash) > FACE_MATCH_THRESHOLD, (a, b)
        assert same_portrait(refs[a], refs[b])[0] is False


def test_another_school_cannot_check_or_see_the_learner(
    school_clerk: Person, other_school_clerk: Person
) -> None:
    enrolment = _enrol_by_qr(school_clerk)
    with pytest.raises(NotFound):
        services.check_session(other_school_clerk.actor, enrolment, QrEvidence(AN_QR), kind="theory")
    with pytest.raises(NotFound):
        services.history(other_school_clerk.actor, enrolment)
    assert SessionCheck.objects.count() == 0


def test_a_school_may_not_record_the_test(school_clerk: Person) -> None:
    enrolment = _enrol_by_qr(school_clerk)
    with pytest.raises(DomainValidationError):
        services.check_session(school_clerk.actor, enrolment, QrEvidence(AN_QR), kind="test")


def test_test_centre_looks_the_learner_up_across_schools_and_verifies_at_the_test(
    school_clerk: Person, examiner: Person
) -> None:
    enrolment = _enrol_by_qr(school_clerk)
    with pytest.raises(NotFound):  # not looked up yet: not visible
        services.history(examiner.actor, enrolment)
    assert services.find_for_test(examiner.actor, AN_ID, "B") == enrolment
    lookup = EnrolmentLookup.objects.get()
    assert (lookup.organisation_name, lookup.actor_label, lookup.purpose) == (
        "Trung tâm sát hạch lái xe Sóc Sơn",
        "examiner.socson",
        "identity.verification",
    )
    check = services.check_session(examiner.actor, enrolment, QrEvidence(MAI_QR), kind="test")
    assert check.outcome == "flagged" and check.organisation_name == "Trung tâm sát hạch lái xe Sóc Sơn"
    # The school sees the test-centre check and the lookup in the learner's history.
    history = services.history(school_clerk.actor, enrolment)
    assert [c.kind for c in history.checks] == ["test"]
    assert history.lookups[0].actor_label == "examiner.socson"
    assert [c.check_id for c in services.flagged_checks(school_clerk.actor)] == [check.check_id]
    assert [c.check_id for c in services.flagged_checks(examiner.actor)] == [check.check_id]
    with pytest.raises(DomainValidationError):  # a test centre records tests only
        services.check_session(examiner.actor, enrolment, QrEvidence(AN_QR), kind="theory")


def test_test_centre_lookup_of_an_unknown_learner_and_by_a_school(
    school_clerk: Person, examiner: Person
) -> None:
    _enrol_by_qr(school_clerk)
    with pytest.raises(NotFound):
        services.find_for_test(examiner.actor, AN_ID, "C")
    with pytest.raises(AccessDenied):
        services.find_for_test(school_clerk.actor, AN_ID, "B")
    with pytest.raises(DomainValidationError):
        services.find_for_test(examiner.actor, "12345", "B")
    assert EnrolmentLookup.objects.count() == 0


def test_hotel_clerk_may_not_check_a_learner(school_clerk: Person, hotel_clerk: Person) -> None:
    enrolment = _enrol_by_qr(school_clerk)
    with pytest.raises(AccessDenied):
        services.check_session(hotel_clerk.actor, enrolment, QrEvidence(AN_QR), kind="theory")
    with pytest.raises(AccessDenied):
        services.flagged_checks(hotel_clerk.actor)
