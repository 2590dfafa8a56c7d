"""Check-in at the front desk: the card verified, the form filled from the registry, groups with
children and foreign guests, check-out, room change, extension; every bad input names its field
and rule, and nothing is half-written."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.utils import timezone

from dancu.apps.residence import services
from dancu.apps.residence.models import Stay, StayChange
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity.services import MrzEvidence, QrEvidence, TypedEvidence
from dancu.errors import AccessDenied, Conflict, DomainValidationError, NotFound
from tests.apps.residence.conftest import AN_ID, CLAIRE_PASSPORT, MAI_QR, an_by_qr, stay_of
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("residents")
NOTIFY = "residence.notification"
AN_MRZ = "IDVNM0850123452001085012345<<<\n8503024M4503026VNM<<<<<<<<<<<7\nNGUYEN<<VAN<AN<<<<<<<<<<<<<<<<"


def test_the_clerk_scans_a_card_and_the_stay_is_notified_with_the_registry_identity(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    result = services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr()))
    (stay,) = result.stays
    assert (stay.id_number, stay.full_name, stay.date_of_birth) == (AN_ID, "Nguyễn Văn An", date(1985, 3, 2))
    assert stay.sex == "M" and "Tây Hồ" in stay.permanent_address
    assert stay.evidence_kind == "qr" and stay.verification_receipt
    assert stay.room == "301" and stay.notified_at is not None and stay.status == "on_time"
    assert AuditEvent.objects.filter(action="residence.check_in", result="ok").count() == 1


@pytest.mark.parametrize(
    "evidence",
    [
        MrzEvidence(AN_MRZ),
        TypedEvidence(id_number=AN_ID, full_name="Nguyễn Văn An", date_of_birth=date(1985, 3, 2)),
    ],
    ids=["td1-mrz", "typed"],
)
def test_other_evidence_works_too(
    hotel: services.EstablishmentView, hotel_clerk: Person, evidence: object
) -> None:
    result = services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(services.CitizenGuest(evidence)))  # type: ignore[arg-type]
    assert result.stays[0].id_number == AN_ID


def test_a_family_with_a_child_without_a_card_is_one_group(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    child = services.ChildGuest(full_name="Nguyễn  Minh Khôi", date_of_birth=date(2019, 6, 1), guardian=0)
    result = services.check_in(
        hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr(), services.CitizenGuest(QrEvidence(MAI_QR)), child)
    )
    an, mai, khoi = result.stays
    assert {s.group_reference for s in result.stays} == {result.group_reference}
    assert mai.full_name == "Huỳnh Thị Mai"
    assert (
        khoi.guest_kind == "child"
        and khoi.full_name == "Nguyễn Minh Khôi"
        and khoi.guardian_stay_id == an.stay_id
    )


def test_a_child_listed_before_the_adult_is_linked_to_that_adult(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    child = services.ChildGuest(full_name="Nguyễn Minh Khôi", date_of_birth=date(2019, 6, 1), guardian=1)
    khoi, an = services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(child, an_by_qr())).stays
    assert khoi.guardian_stay_id == an.stay_id


def test_a_foreign_guest_is_recorded_from_the_passport_with_a_12_hour_deadline(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    (claire,) = services.check_in(
        hotel_clerk.ctx(NOTIFY), stay_of(services.ForeignGuest(CLAIRE_PASSPORT))
    ).stays
    assert (claire.guest_kind, claire.nationality, claire.passport_number) == (
        "foreigner",
        "FRA",
        "18AB12345",
    )
    assert claire.full_name == "MARTIN CLAIRE" and claire.id_number == ""
    assert claire.deadline - claire.arrival == timedelta(hours=12)


def test_bad_input_names_every_field_and_rule_and_stores_nothing(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    arrival = timezone.now()
    data = services.CheckIn(
        guests=(
            services.ChildGuest(full_name="Cậu Lớn", date_of_birth=date(2000, 1, 1), guardian=0),
            services.ForeignGuest("P<FRA not an mrz"),
        ),
        room="",
        arrival=arrival,
        expected_departure=arrival - timedelta(hours=1),
    )
    with pytest.raises(DomainValidationError) as exc:
        services.check_in(hotel_clerk.ctx(NOTIFY), data)
    rules = {(p.field, p.rule) for p in exc.value.problems}
    assert ("room", "required") in rules
    assert ("expected_departure", "after_arrival") in rules
    assert ("guests[0].date_of_birth", "card_required") in rules
    assert ("guests[0].guardian", "adult_guest") in rules
    assert not Stay.objects.exists()


def test_a_card_that_does_not_match_the_registry_stores_no_one_of_the_group(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    wrong = TypedEvidence(id_number=AN_ID, full_name="Lê Văn Bình", date_of_birth=date(1985, 3, 2))
    with pytest.raises(DomainValidationError) as exc:
        services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr(), services.CitizenGuest(wrong)))
    assert all(p.field.startswith("guests[1].evidence") for p in exc.value.problems)
    assert not Stay.objects.exists()


def test_a_malformed_qr_is_an_error_of_that_guest(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    with pytest.raises(DomainValidationError) as exc:
        services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(services.CitizenGuest(QrEvidence("garbage|x"))))
    assert exc.value.problems[0].field.startswith("guests[0].evidence")
    assert exc.value.problems[0].rule == "evidence_malformed"


def test_over_capacity_is_refused(guest_house: services.EstablishmentView, other_clerk: Person) -> None:
    ctx = other_clerk.ctx(NOTIFY)
    kids = [
        services.ChildGuest(full_name=f"Bé {n}", date_of_birth=date(2020, 1, n), guardian=0)
        for n in (1, 2, 3)
    ]
    with pytest.raises(DomainValidationError) as exc:
        services.check_in(ctx, stay_of(an_by_qr(), *kids))
    assert exc.value.problems[0].field == "guests" and exc.value.problems[0].rule == "capacity"
    services.check_in(ctx, stay_of(an_by_qr(), room="1"))
    services.check_in(ctx, stay_of(services.CitizenGuest(QrEvidence(MAI_QR)), room="2"))
    with pytest.raises(DomainValidationError) as exc:
        services.check_in(ctx, stay_of(services.ForeignGuest(CLAIRE_PASSPORT), room="3"))
    assert (exc.value.problems[0].field, exc.value.problems[0].rule) == ("room", "capacity")


def test_a_duplicate_submission_is_answered_once_and_a_reused_key_is_a_conflict(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    data = stay_of(an_by_qr())
    first = services.check_in(hotel_clerk.ctx(NOTIFY), data, idempotency_key="pms-001")
    again = services.check_in(hotel_clerk.ctx(NOTIFY), data, idempotency_key="pms-001")
    assert again.replayed and [s.stay_id for s in again.stays] == [s.stay_id for s in first.stays]
    assert Stay.objects.count() == 1
    with pytest.raises(Conflict) as exc:
        services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr(), room="302"), idempotency_key="pms-001")
    assert exc.value.field == "idempotency_key" and exc.value.rule == "idempotency_conflict"


def test_check_out_room_change_and_extension(hotel: services.EstablishmentView, hotel_clerk: Person) -> None:
    ctx = hotel_clerk.ctx(NOTIFY)
    (stay,) = services.check_in(ctx, stay_of(an_by_qr())).stays
    moved = services.change_room(ctx, stay.stay_id, "405")
    assert moved.room == "405"
    longer = services.extend_stay(ctx, stay.stay_id, stay.expected_departure + timedelta(days=3))
    assert longer.expected_departure == stay.expected_departure + timedelta(days=3)
    with pytest.raises(DomainValidationError) as exc:
        services.extend_stay(ctx, stay.stay_id, stay.arrival - timedelta(minutes=1))
    assert exc.value.problems[0].rule == "after_arrival"
    gone = services.check_out(ctx, stay.stay_id)
    assert gone.departed_at is not None
    with pytest.raises(DomainValidationError) as exc:
        services.check_out(ctx, stay.stay_id)
    assert exc.value.problems[0].rule == "checked_out"
    kinds = list(
        StayChange.objects.filter(stay_id=stay.stay_id).order_by("id").values_list("kind", flat=True)
    )
    assert kinds == ["room", "extension", "check_out"]
    assert services.live_guests(ctx) == []


def test_another_hotels_clerk_cannot_touch_the_stay(
    hotel: services.EstablishmentView,
    guest_house: services.EstablishmentView,
    hotel_clerk: Person,
    other_clerk: Person,
) -> None:
    (stay,) = services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr())).stays
    with pytest.raises(NotFound):
        services.check_out(other_clerk.ctx(NOTIFY), stay.stay_id)
    assert services.live_guests(other_clerk.ctx(NOTIFY)) == []
    assert AuditEvent.objects.filter(action="residence.check_out", result="not_found").exists()


def test_denials_are_audited(
    hotel: services.EstablishmentView, hotel_clerk: Person, outsider: Person
) -> None:
    with pytest.raises(AccessDenied) as exc:
        services.check_in(hotel_clerk.ctx("identity.verification"), stay_of(an_by_qr()))
    assert exc.value.rule == "purpose"
    with pytest.raises(AccessDenied) as exc:
        services.check_in(outsider.ctx(NOTIFY), stay_of(an_by_qr()))
    assert exc.value.rule == "policy"
    assert AuditEvent.objects.filter(action="residence.check_in", result="denied").count() == 2
    assert not Stay.objects.exists()


def test_a_close_relative_is_notified_once(hotel: services.EstablishmentView, hotel_clerk: Person) -> None:
    ctx = hotel_clerk.ctx(NOTIFY)
    relative = services.CitizenGuest(QrEvidence(MAI_QR), close_relative=True)
    (first,) = services.check_in(ctx, stay_of(relative)).stays
    services.check_out(ctx, first.stay_id)
    (second,) = services.check_in(ctx, stay_of(relative)).stays
    assert first.status == "on_time" and second.status == "not_required" and second.notified_at is None


def test_a_draft_notified_after_its_deadline_is_late(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    ctx = hotel_clerk.ctx(NOTIFY)
    (draft,) = services.check_in(ctx, stay_of(an_by_qr(), hours=26, notify=False)).stays
    assert draft.status == "missing"
    assert [s.stay_id for s in services.establishment_flags(ctx)] == [draft.stay_id]
    (late,) = services.notify_stays(ctx, [draft.stay_id])
    assert late.status == "late"


def test_the_form_fills_itself_from_the_verified_card_and_the_check_in_reuses_that_verification(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    ctx = hotel_clerk.ctx(NOTIFY)
    preview = services.preview_guest(ctx, an_by_qr(), idempotency_key="desk-form-7")
    assert (preview.full_name, preview.date_of_birth, preview.id_number) == (
        "Nguyễn Văn An",
        date(1985, 3, 2),
        AN_ID,
    )
    assert "Tây Hồ" in preview.permanent_address
    (stay,) = services.check_in(ctx, stay_of(an_by_qr()), idempotency_key="desk-form-7").stays
    assert AuditEvent.objects.filter(action="identity.verify").count() == 1  # verified once
    assert stay.verification_receipt
    with pytest.raises(DomainValidationError) as exc:
        services.preview_guest(ctx, services.CitizenGuest(QrEvidence("x|y")), idempotency_key="desk-form-8")
    assert exc.value.problems[0].field.startswith("guests[0].evidence")
    foreign = services.preview_guest(
        ctx, services.ForeignGuest(CLAIRE_PASSPORT), idempotency_key="desk-form-9"
    )
    assert (foreign.nationality, foreign.passport_number) == ("FRA", "18AB12345")


def test_the_same_person_twice_in_one_check_in_is_refused(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    with pytest.raises(DomainValidationError) as exc:
        services.check_in(
            hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr(), services.CitizenGuest(MrzEvidence(AN_MRZ)))
        )
    assert [(p.field, p.rule) for p in exc.value.problems] == [("guests[1]", "duplicate_guest")]
    assert not Stay.objects.exists()


def test_a_hospital_notifies_a_carer_staying_overnight(make_person: object) -> None:
    nurse = make_person(  # type: ignore[operator]
        "clerk.bv",
        org_code="BV-TAYHO",
        org_name="Bệnh viện Tây Hồ",
        kind="clinic",
        role="clerk",
        province="01",
    )
    services.register_establishment(
        nurse.actor.organisation_id,
        kind="hospital",
        name="Bệnh viện Tây Hồ",
        address="Số 1 Đặng Thai Mai, Phường Quảng An, Quận Tây Hồ, Hà Nội",
        owner_name="Sở Y tế Hà Nội",
        beds=200,
    )
    data = stay_of(services.CitizenGuest(QrEvidence(MAI_QR)), room="Khoa Nội B2")
    (carer,) = services.check_in(nurse.ctx(NOTIFY), replace(data, reason="Chăm sóc người bệnh")).stays
    assert carer.full_name == "Huỳnh Thị Mai" and carer.establishment_name == "Bệnh viện Tây Hồ"


def test_implausible_times_are_refused_naming_the_field(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    ctx = hotel_clerk.ctx(NOTIFY)
    for data, field, rule in (
        (stay_of(an_by_qr(), hours=24 * 400), "arrival", "too_old"),
        (stay_of(an_by_qr(), nights=2000), "expected_departure", "too_far"),
        (stay_of(an_by_qr(), hours=-5), "arrival", "not_future"),
    ):
        with pytest.raises(DomainValidationError) as exc:
            services.check_in(ctx, data)
        assert (exc.value.problems[0].field, exc.value.problems[0].rule) == (field, rule)
    (stay,) = services.check_in(ctx, stay_of(an_by_qr())).stays
    with pytest.raises(DomainValidationError) as exc:
        services.check_out(ctx, stay.stay_id, at=timezone.now() + timedelta(days=3))
    assert exc.value.problems[0].rule == "not_future"
