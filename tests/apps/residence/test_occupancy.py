"""The occupancy counters on PostgreSQL (migration ``0007``; ADR 0018, sixth step): the guests
staying at an establishment, the rooms they occupy and the guests in each room are kept by the
database for every writer, so that a check-in's capacity check reads three numbers instead of
counting the live stays. Actors: the clerk of Nhà nghỉ Hàng Bạc (2 rooms, 3 beds) and the clerk
of Khách sạn Hòa Bình (10 rooms, 20 beds).

Every test compares the counters with a count of the stays themselves after each kind of write:
a single check-in through the set-based path and through the reference path, a batch, a room
change, a check-out, a deletion and the test runner's ``TRUNCATE``; and the capacity decisions of
the set-based path, which now read the counters, refuse what the reference path refuses."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from dancu.apps.residence import batch_pg, services
from dancu.apps.residence.models import Establishment, Stay
from dancu.errors import DomainValidationError
from tests.apps.residence.conftest import CLAIRE_PASSPORT, MAI_QR, an_by_qr, stay_of
from tests.conftest import Person

pytestmark = [
    pytest.mark.usefixtures("residents"),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the counters and their triggers are PostgreSQL's"
    ),
]
NOTIFY = "residence.notification"


def counters() -> dict[str, Any]:
    """The counters as stored, without the zero rows a vacated room or establishment leaves."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT establishment_id, guests, rooms FROM residence_occupancy WHERE guests <> 0 OR rooms <> 0"
        )
        ests = {e: (g, r) for e, g, r in cur.fetchall()}
        cur.execute("SELECT establishment_id, room, guests FROM residence_room_occupancy WHERE guests <> 0")
        rooms = {(e, r): g for e, r, g in cur.fetchall()}
    return {"establishments": ests, "rooms": rooms}


def counted() -> dict[str, Any]:
    """The same numbers counted from the stays (what the capacity check counted before)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT establishment_id, count(*), count(DISTINCT room) FROM residence_stay "
            "WHERE departed_at IS NULL GROUP BY 1"
        )
        ests = {e: (g, r) for e, g, r in cur.fetchall()}
        cur.execute(
            "SELECT establishment_id, room, count(*) FROM residence_stay "
            "WHERE departed_at IS NULL GROUP BY 1, 2"
        )
        rooms = {(e, r): g for e, r, g in cur.fetchall()}
    return {"establishments": ests, "rooms": rooms}


def test_every_kind_of_write_keeps_the_counters_equal_to_a_count_of_the_stays(
    hotel: services.EstablishmentView,
    guest_house: services.EstablishmentView,
    hotel_clerk: Person,
    other_clerk: Person,
) -> None:
    ctx = hotel_clerk.ctx(NOTIFY)
    # A single check-in through the set-based path (a card QR with a key) …
    (an,) = services.check_in(ctx, stay_of(an_by_qr(), room="101"), idempotency_key="k-1").stays
    assert (
        counters()
        == counted()
        == {
            "establishments": {hotel.establishment_id: (1, 1)},
            "rooms": {(hotel.establishment_id, "101"): 1},
        }
    )
    # … and through the reference path (a passport: no key needed), into the same room.
    services.check_in(ctx, stay_of(services.ForeignGuest(CLAIRE_PASSPORT), room="101"))
    assert (
        counters()
        == counted()
        == {
            "establishments": {hotel.establishment_id: (2, 1)},
            "rooms": {(hotel.establishment_id, "101"): 2},
        }
    )
    # A batch at another establishment (set-based: 2 rooms, 2 guests, within 2 rooms and 3 beds).
    now = timezone.now()
    rows = [
        stay_of(an_by_qr(), room="1"),
        stay_of(services.CitizenGuest(services.QrEvidence(MAI_QR)), room="2"),
    ]
    result = services.check_in_batch(
        other_clerk.ctx(NOTIFY), rows, idempotency_key="gh-1", fingerprint="a", now=now
    )
    assert [r.status for r in result.rows] == ["stored", "stored"]
    assert counters() == counted()
    assert counters()["establishments"][guest_house.establishment_id] == (2, 2)
    # A room change leaves room 101 with one guest and occupies 202; then a check-out.
    services.change_room(ctx, an.stay_id, "202")
    assert counters() == counted()
    assert counters()["establishments"][hotel.establishment_id] == (2, 2)
    services.check_out(ctx, an.stay_id)
    assert counters() == counted()
    assert counters()["establishments"][hotel.establishment_id] == (1, 1)
    # A deletion (as an operator's clean-up would) and the counters follow.
    Stay.objects.filter(establishment_id=guest_house.establishment_id, room="2").delete()
    assert counters() == counted()
    assert counters()["establishments"][guest_house.establishment_id] == (1, 1)
    # The test runner's flush: TRUNCATE empties the counters with the stays (inside this test's
    # transaction, rolled back at its end).
    with connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred check pending before TRUNCATE
        cur.execute("TRUNCATE residence_stay CASCADE")
    assert counters() == counted() == {"establishments": {}, "rooms": {}}


def test_recount_gives_the_counters_back_after_writes_made_without_the_triggers(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    services.check_in(hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr(), room="101"), idempotency_key="k-1")
    with connection.cursor() as cur:
        cur.execute("SET LOCAL session_replication_role = replica")  # triggers off, as in a restore
        cur.execute("UPDATE residence_stay SET departed_at = now()")
        cur.execute("SET LOCAL session_replication_role = origin")
    assert counters() != counted()
    batch_pg.recount_occupancy()
    assert counters() == counted() == {"establishments": {}, "rooms": {}}


def test_the_set_based_single_path_refuses_beds_and_rooms_over_capacity_from_the_counters(
    guest_house: services.EstablishmentView, other_clerk: Person
) -> None:
    """Nhà nghỉ Hàng Bạc has 2 rooms and 3 beds. Each check-in carries a key, so it takes the
    set-based path, which reads the counters; the errors are the reference path's."""
    ctx = other_clerk.ctx(NOTIFY)
    kids = [
        services.ChildGuest(full_name=f"Bé {n}", date_of_birth=date(2020, 1, n), guardian=0)
        for n in (1, 2, 3)
    ]
    with pytest.raises(DomainValidationError) as exc:
        services.check_in(ctx, stay_of(an_by_qr(), *kids), idempotency_key="gh-1")
    assert (exc.value.problems[0].field, exc.value.problems[0].rule) == ("guests", "capacity")
    services.check_in(ctx, stay_of(an_by_qr(), room="1"), idempotency_key="gh-2")
    services.check_in(
        ctx, stay_of(services.CitizenGuest(services.QrEvidence(MAI_QR)), room="2"), idempotency_key="gh-3"
    )
    # Both rooms are occupied: a third room is refused, a guest in room 1 (3rd bed) is not.
    with pytest.raises(DomainValidationError) as exc:
        services.check_in(ctx, stay_of(an_by_qr(), room="3"), idempotency_key="gh-4")
    assert (exc.value.problems[0].field, exc.value.problems[0].rule) == ("room", "capacity")
    services.check_in(ctx, stay_of(an_by_qr(), room="1"), idempotency_key="gh-5")
    # All 3 beds are taken now.
    with pytest.raises(DomainValidationError) as exc:
        services.check_in(ctx, stay_of(an_by_qr(), room="1"), idempotency_key="gh-6")
    assert (exc.value.problems[0].field, exc.value.problems[0].rule) == ("guests", "capacity")
    assert counters() == counted()
    assert counters()["establishments"][guest_house.establishment_id] == (3, 2)


def test_a_batch_whose_new_rooms_would_exceed_the_rooms_goes_row_by_row(
    guest_house: services.EstablishmentView, other_clerk: Person
) -> None:
    """One room is occupied; a batch of two rows in two other rooms cannot all fit (3 rooms > 2),
    so the set-based path declines it and the reference path stores the first and refuses the
    second; a batch into the occupied room and one new room fits and is taken set-based."""
    ctx = other_clerk.ctx(NOTIFY)
    services.check_in(ctx, stay_of(an_by_qr(), room="1"), idempotency_key="gh-1")
    est = Establishment.objects.get(pk=guest_house.establishment_id)
    now = timezone.now()
    rows: list[Any] = [stay_of(an_by_qr(), room="2"), stay_of(an_by_qr(), room="3")]
    declined = batch_pg.check_in_rows(
        ctx, est, rows, batch_key="b:x", idempotency_key="x", now=now, trust_store=None
    )
    assert declined is None
    fits = [stay_of(an_by_qr(), room="1"), stay_of(an_by_qr(), room="2")]
    with transaction.atomic():
        taken = batch_pg.check_in_rows(
            ctx, est, fits, batch_key="b:y", idempotency_key="y", now=now, trust_store=None
        )
    assert taken is not None and [r.status for r in taken] == ["stored", "stored"]
    assert counters()["establishments"][guest_house.establishment_id] == (3, 2)
    assert counters() == counted()


@pytest.mark.django_db(transaction=True)
def test_two_clerks_filling_the_same_empty_room_at_once_count_it_once(
    hotel: services.EstablishmentView, hotel_clerk: Person
) -> None:
    """Two transactions insert a stay into the same empty room at once: the second waits for the
    first at the establishment's counter (no deadlock, no lost update), and the room is counted
    once with two guests."""
    with override_settings(DANCU_FAST_RESIDENCE_BATCH=True):
        (first,) = services.check_in(
            hotel_clerk.ctx(NOTIFY), stay_of(an_by_qr(), room="101"), idempotency_key="k-1"
        ).stays
    columns = [f.column for f in Stay._meta.concrete_fields if f.column != "id"]
    copy = (
        f"INSERT INTO residence_stay ({', '.join(columns)}) "  # noqa: S608 — the model's own columns
        f"SELECT {', '.join('%s' if c == 'room' else c for c in columns)} FROM residence_stay WHERE id = %s"
    )
    dsn = connection.get_connection_params()
    a = psycopg.connect(**{k: v for k, v in dsn.items() if k != "cursor_factory"})
    b = psycopg.connect(**{k: v for k, v in dsn.items() if k != "cursor_factory"})
    try:
        a.execute(copy, ["707", first.stay_id])  # a holds the establishment's counter row
        done = threading.Event()

        def second() -> None:
            b.execute(copy, ["707", first.stay_id])  # waits for a's commit
            b.commit()
            done.set()

        t = threading.Thread(target=second)
        t.start()
        assert not done.wait(0.5), "the second insert must wait for the first transaction"
        a.commit()
        t.join(10)
        assert done.is_set()
    finally:
        a.close()
        b.close()
    assert counters() == counted()
    assert counters()["rooms"][(hotel.establishment_id, "707")] == 2
    assert counters()["establishments"][hotel.establishment_id] == (3, 2)
