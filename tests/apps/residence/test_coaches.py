"""Coach trips (model 12): the conductor of Nhà xe Tây Hồ Express plans a trip, boards passengers
by scanning their cards, and notifies the manifest before the departure; a seat over the capacity
is refused; the police of the departure ward see the manifest, another ward's police do not."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection  # noqa: F401  (skipif condition)
from django.test import Client
from django.utils import timezone

from dancu.apps.residence import coaches, services
from dancu.apps.residence.models import Stay
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity.services import TypedEvidence
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.apps.residence.conftest import AN_ID, AN_QR, CLAIRE_PASSPORT, MAI_QR, an_by_qr
from tests.conftest import Person

pytestmark = pytest.mark.usefixtures("residents")
NOTIFY = "residence.notification"
POLICE = "security.investigation"
DEPARTURE = "Số 1 Đặng Thai Mai, Phường Quảng An, Quận Tây Hồ, Hà Nội"


def plan(person: Person, *, seats: int = 2, hours: float = 2) -> coaches.TripView:
    now = timezone.now()
    return coaches.create_trip(
        person.ctx(NOTIFY),
        route="Hà Nội – Hải Phòng",
        vehicle_plate="29b-123.45",
        departure_address=DEPARTURE,
        departure_at=now + timedelta(hours=hours),
        arrival_at=now + timedelta(hours=hours + 3),
        seats=seats,
    )


def test_the_conductor_boards_passengers_and_notifies_the_manifest_before_departure(
    coach: services.EstablishmentView, conductor: Person, ward_police: Person
) -> None:
    trip = plan(conductor)
    assert trip.vehicle_plate == "29B-123.45" and trip.status == "pending"
    assert trip.departure_ward_code == coach.ward_code
    boarded = coaches.board(conductor.ctx(NOTIFY), trip.trip_id, [an_by_qr()], seat="A1")
    (an,) = boarded.stays
    assert (an.id_number, an.full_name, an.role, an.trip_id) == (
        AN_ID,
        "Nguyễn Văn An",
        "passenger",
        trip.trip_id,
    )
    assert an.verification_receipt and an.notified_at is None and an.status == "pending"
    coaches.board(conductor.ctx(NOTIFY), trip.trip_id, [services.ForeignGuest(CLAIRE_PASSPORT)], seat="A2")
    sent = coaches.notify_manifest(conductor.ctx(NOTIFY), trip.trip_id)
    assert sent.trip.status == "on_time" and sent.trip.passengers == 2
    assert {p.status for p in sent.passengers} == {"on_time"}
    # Passengers are not guests in a house.
    assert services.live_guests(conductor.ctx(NOTIFY)) == []
    seen = coaches.police_trips(ward_police.ctx(POLICE))
    assert [t.trip_id for t in seen] == [trip.trip_id]
    manifest = coaches.police_manifest(ward_police.ctx(POLICE), trip.trip_id)
    assert {p.full_name for p in manifest.passengers} == {"Nguyễn Văn An", "MARTIN CLAIRE"}


def test_a_passenger_over_the_seats_is_refused(coach: services.EstablishmentView, conductor: Person) -> None:
    trip = plan(conductor, seats=1)
    coaches.board(conductor.ctx(NOTIFY), trip.trip_id, [an_by_qr()], seat="A1")
    with pytest.raises(DomainValidationError) as exc:
        coaches.board(
            conductor.ctx(NOTIFY),
            trip.trip_id,
            [services.CitizenGuest(services.QrEvidence(MAI_QR))],
            seat="A2",
        )
    assert ("guests", "capacity") in {(p.field, p.rule) for p in exc.value.problems}
    assert Stay.objects.filter(trip_id=trip.trip_id).count() == 1


def test_a_card_that_does_not_verify_boards_nobody(
    coach: services.EstablishmentView, conductor: Person
) -> None:
    trip = plan(conductor)
    wrong = services.CitizenGuest(
        TypedEvidence(id_number=AN_ID, full_name="Trần Văn Bình", date_of_birth=date(1990, 1, 1))
    )
    with pytest.raises(DomainValidationError) as exc:
        coaches.board(conductor.ctx(NOTIFY), trip.trip_id, [wrong], seat="A1")
    assert all(p.field.startswith("guests[0].evidence") for p in exc.value.problems)
    assert not Stay.objects.filter(trip_id=trip.trip_id).exists()


def test_a_manifest_sent_after_the_departure_is_late_and_one_not_sent_is_missing(
    coach: services.EstablishmentView, conductor: Person, ward_police: Person
) -> None:
    late = plan(conductor, hours=0.5)
    coaches.board(conductor.ctx(NOTIFY), late.trip_id, [an_by_qr()], seat="A1")
    after = timezone.now() + timedelta(hours=1)
    assert coaches.notify_manifest(conductor.ctx(NOTIFY), late.trip_id, now=after).trip.status == "late"
    missing = plan(conductor, hours=0.5)
    coaches.board(conductor.ctx(NOTIFY), missing.trip_id, [services.ForeignGuest(CLAIRE_PASSPORT)], seat="B1")
    statuses = {t.trip_id: t.status for t in coaches.police_trips(ward_police.ctx(POLICE), now=after)}
    assert statuses == {late.trip_id: "late", missing.trip_id: "missing"}
    (row,) = services.lateness_report(ward_police.ctx(POLICE), now=after)
    assert (row.late, row.missing) == (1, 1)


def test_a_trip_is_planned_with_its_fields_checked(
    coach: services.EstablishmentView, conductor: Person
) -> None:
    now = timezone.now()
    with pytest.raises(DomainValidationError) as exc:
        coaches.create_trip(
            conductor.ctx(NOTIFY),
            route="",
            vehicle_plate="29B",
            departure_address="nowhere at all",
            departure_at=now + timedelta(hours=2),
            arrival_at=now + timedelta(hours=1),
            seats=46,
        )
    rules = {(p.field, p.rule) for p in exc.value.problems}
    assert {("route", "required"), ("arrival_at", "after_departure"), ("seats", "range")} <= rules
    assert any(p.field == "departure_address" for p in exc.value.problems)


def test_others_are_refused_and_another_wards_police_see_nothing(
    coach: services.EstablishmentView,
    conductor: Person,
    hotel: services.EstablishmentView,
    hotel_clerk: Person,
    other_ward_police: Person,
) -> None:
    trip = plan(conductor)
    with pytest.raises(AccessDenied) as exc:
        coaches.create_trip(
            hotel_clerk.ctx(NOTIFY),
            route="x",
            vehicle_plate="y",
            departure_address=DEPARTURE,
            departure_at=timezone.now(),
            arrival_at=timezone.now() + timedelta(hours=1),
            seats=1,
        )
    assert exc.value.rule == "coach_only"
    with pytest.raises(DomainValidationError) as bad:
        services.check_in(
            conductor.ctx(NOTIFY),
            services.CheckIn(
                guests=(an_by_qr(),),
                room="1",
                arrival=timezone.now(),
                expected_departure=timezone.now() + timedelta(hours=3),
            ),
        )
    assert ("trip_id", "coach_only") in {(p.field, p.rule) for p in bad.value.problems}
    assert coaches.police_trips(other_ward_police.ctx(POLICE)) == []
    with pytest.raises(NotFound):
        coaches.police_manifest(other_ward_police.ctx(POLICE), trip.trip_id)
    with pytest.raises(AccessDenied):
        coaches.police_trips(conductor.ctx(POLICE))
    assert AuditEvent.objects.filter(action="residence.police_manifest", result="not_found").exists()


def test_the_pages_board_and_notify_and_the_police_page_shows_the_manifest(
    client: Client, coach: services.EstablishmentView, conductor: Person, ward_police: Person
) -> None:
    client.force_login(conductor.user)
    assert client.get("/residence/").status_code == 302
    now = timezone.localtime()
    response = client.post(
        "/residence/coach/",
        {
            "route": "Hà Nội – Hải Phòng",
            "vehicle_plate": "29B-123.45",
            "departure_address": DEPARTURE,
            "departure_at": (now + timedelta(hours=2)).strftime("%d/%m/%Y %H:%M"),
            "arrival_at": (now + timedelta(hours=5)).strftime("%d/%m/%Y %H:%M"),
            "seats": "30",
        },
    )
    assert response.status_code == 302
    url = response["Location"]
    page = client.post(
        url, {"action": "board", "method": "qr_text", "qr_text": AN_QR, "seat": "A1", "idempotency_key": "b1"}
    )
    assert page.status_code == 200 and "Nguyễn Văn An" in page.content.decode()
    assert client.post(url, {"action": "notify"}).status_code == 302
    client.force_login(ward_police.user)
    trip_id = Stay.objects.get(id_number=AN_ID).trip_id
    police = client.get(f"/residence/police/trips/?trip={trip_id}").content.decode()
    assert "Hà Nội – Hải Phòng" in police and "Nguyễn Văn An" in police


def test_the_api_plans_boards_and_notifies(
    client: Client, coach: services.EstablishmentView, conductor: Person
) -> None:
    client.force_login(conductor.user)
    now = timezone.now()
    trip = client.post(
        "/api/v1/residence/trips",
        {
            "route": "Hà Nội – Lào Cai",
            "vehicle_plate": "29B-999.99",
            "departure_address": DEPARTURE,
            "departure_at": (now + timedelta(hours=1)).isoformat(),
            "arrival_at": (now + timedelta(hours=6)).isoformat(),
            "seats": 1,
        },
        content_type="application/json",
    ).json()
    url = f"/api/v1/residence/trips/{trip['trip_id']}"
    ok = client.post(
        f"{url}/passengers",
        {"seat": "1", "guests": [{"kind": "qr", "text": AN_QR}]},
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["stays"][0]["id_number"] == AN_ID
    full = client.post(
        f"{url}/passengers",
        {"seat": "2", "guests": [{"kind": "qr", "text": MAI_QR}]},
        content_type="application/json",
    )
    assert full.status_code == 422
    sent = client.post(f"{url}/notify", content_type="application/json").json()
    assert sent["trip"]["status"] == "on_time" and sent["passengers"][0]["role"] == "passenger"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="row locks between connections need PostgreSQL"
)
def test_two_desks_boarding_the_last_seat_at_once_board_one_passenger(
    coach: services.EstablishmentView, conductor: Person
) -> None:
    import threading

    from django.db import connection as conn

    trip = plan(conductor, seats=1)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def board_one(guest: services.Guest, seat: str) -> None:
        try:
            start.wait()
            coaches.board(conductor.ctx(NOTIFY), trip.trip_id, [guest], seat=seat)
            outcomes.append("boarded")
        except DomainValidationError as exc:
            outcomes.append(exc.problems[0].rule)
        finally:
            conn.close()

    threads = [
        threading.Thread(target=board_one, args=(an_by_qr(), "A1")),
        threading.Thread(target=board_one, args=(services.CitizenGuest(services.QrEvidence(MAI_QR)), "A2")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["boarded", "capacity"]
    assert Stay.objects.filter(trip_id=trip.trip_id).count() == 1
