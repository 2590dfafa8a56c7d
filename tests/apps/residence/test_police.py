"""The police view: live guests by ward and establishment, search across establishments, late and
missing notifications with suggested fines, and alert-list hits from check-ins (ADR 0007). A ward
unit sees its ward, the city police the city, establishments and others nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dancu.apps.residence import services
from dancu.blocks.alerts import services as alerts
from dancu.blocks.audit.models import AuditEvent
from dancu.errors import AccessDenied, DomainValidationError
from tests.apps.residence.conftest import AN_ID, CLAIRE_PASSPORT, an_by_qr, stay_of
from tests.conftest import TAY_HO_WARD, Person

pytestmark = pytest.mark.usefixtures("residents")
NOTIFY = "residence.notification"
POLICE = "security.investigation"


@pytest.fixture
def an_staying(hotel: services.EstablishmentView, hotel_clerk: Person) -> services.StayView:
    return services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr())).stays[0]


def test_the_ward_police_see_the_guests_of_their_ward(
    an_staying: services.StayView, ward_police: Person
) -> None:
    live = services.police_live_guests(ward_police.ctx(POLICE))
    assert [s.id_number for s in live.stays] == [AN_ID]
    assert live.by_ward == {TAY_HO_WARD: 1} and live.by_establishment == {"Khách sạn Hòa Bình": 1}
    assert AuditEvent.objects.filter(action="residence.police_live", result="ok").exists()


def test_the_city_police_see_the_city_and_another_ward_nothing(
    an_staying: services.StayView, city_police: Person, other_ward_police: Person
) -> None:
    assert len(services.police_live_guests(city_police.ctx(POLICE)).stays) == 1
    assert services.police_live_guests(other_ward_police.ctx(POLICE)).stays == ()
    assert services.search_person(other_ward_police.ctx(POLICE, "VV-2026-01"), id_number=AN_ID) == []


def test_establishments_and_outsiders_are_refused_the_police_view(
    an_staying: services.StayView, hotel_clerk: Person, outsider: Person, ward_police: Person
) -> None:
    with pytest.raises(AccessDenied) as exc:
        services.police_live_guests(hotel_clerk.ctx(POLICE))
    assert exc.value.rule == "policy"
    with pytest.raises(AccessDenied):
        services.police_live_guests(outsider.ctx(POLICE))
    with pytest.raises(AccessDenied) as exc:
        services.police_live_guests(ward_police.ctx("registry.lookup"))
    assert exc.value.rule == "purpose"
    assert AuditEvent.objects.filter(action="residence.police_live", result="denied").count() == 3


def test_a_search_by_person_needs_a_case_reference_and_is_recorded(
    an_staying: services.StayView, hotel_clerk: Person, city_police: Person
) -> None:
    with pytest.raises(DomainValidationError) as exc:
        services.search_person(city_police.ctx(POLICE), id_number=AN_ID)
    assert exc.value.problems[0].field == "case_reference"
    services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(services.ForeignGuest(CLAIRE_PASSPORT), room="302"))
    found = services.search_person(city_police.ctx(POLICE, "VV-2026-01"), id_number=AN_ID)
    assert [s.establishment_name for s in found] == ["Khách sạn Hòa Bình"]
    by_passport = services.search_person(city_police.ctx(POLICE, "VV-2026-01"), passport_number="18ab12345")
    assert [s.nationality for s in by_passport] == ["FRA"]
    event = AuditEvent.objects.filter(action="residence.search", result="ok").latest("id")
    assert event.purpose == POLICE and event.case_reference == "VV-2026-01"


def test_late_and_missing_notifications_with_the_suggested_fine(
    hotel: services.EstablishmentView, hotel_clerk: Person, ward_police: Person, other_ward_police: Person
) -> None:
    ctx = hotel_clerk.ctx(NOTIFY)
    late = services.check_in(ctx, stay_of(an_by_qr(), hours=30, notify=False)).stays[0]
    services.notify_stays(ctx, [late.stay_id])
    services.check_in(
        ctx, stay_of(services.ForeignGuest(CLAIRE_PASSPORT), room="302", hours=20, notify=False)
    )
    (row,) = services.lateness_report(ward_police.ctx(POLICE))
    assert (row.establishment_name, row.late, row.missing) == ("Khách sạn Hòa Bình", 1, 1)
    assert row.fine is not None and (row.fine.minimum, row.fine.maximum) == (2_000_000, 4_000_000)
    assert services.lateness_report(other_ward_police.ctx(POLICE)) == []


def test_a_listed_person_checking_in_raises_an_alert_for_the_ward_police_only(
    hotel: services.EstablishmentView,
    hotel_clerk: Person,
    ward_police: Person,
    other_ward_police: Person,
    city_police: Person,
) -> None:
    alerts.add_alert(
        city_police.ctx(POLICE),
        AN_ID,
        kind="wanted",
        reference="QĐ-TN 12/2026",
        legal_basis="BLTTHS 2015 Điều 231",
    )
    result = services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr()))
    (stay,) = result.stays
    assert stay.status == "on_time"  # the desk's answer is the same as for anyone
    hits = services.police_alert_hits(ward_police.ctx(POLICE))
    assert [(h.subject_id_number, h.where_ward_code, h.receipt_id) for h in hits] == [
        (AN_ID, TAY_HO_WARD, stay.verification_receipt)
    ]
    live = services.police_live_guests(ward_police.ctx(POLICE))
    assert live.alert_receipts == {stay.verification_receipt}
    assert services.police_alert_hits(other_ward_police.ctx(POLICE)) == []
    with pytest.raises(AccessDenied):
        services.police_alert_hits(hotel_clerk.ctx(POLICE))


def test_the_live_view_can_be_narrowed_to_a_ward_or_an_establishment(
    an_staying: services.StayView, city_police: Person
) -> None:
    ctx = city_police.ctx(POLICE)
    assert len(services.police_live_guests(ctx, ward_code=TAY_HO_WARD).stays) == 1
    assert services.police_live_guests(ctx, ward_code="00070").stays == ()
    assert services.police_live_guests(ctx, establishment_id=an_staying.establishment_id + 99).stays == ()


def test_a_guest_who_left_is_not_live(
    an_staying: services.StayView, hotel_clerk: Person, ward_police: Person
) -> None:
    services.check_out(
        hotel_clerk.ctx(NOTIFY), an_staying.stay_id, at=an_staying.arrival + timedelta(minutes=5)
    )
    assert services.police_live_guests(ward_police.ctx(POLICE)).stays == ()
