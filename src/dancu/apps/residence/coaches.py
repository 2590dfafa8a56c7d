"""Coach trips and passenger manifests (model 12).

A coach operator (organisation kind ``transport``, establishment kind ``coach_operator``) plans
trips (route, vehicle, departure address → departure ward, departure and arrival times, seats no more
than the operator's). At boarding the conductor scans each passenger's card — the same evidence as a
check-in (card or VNeID QR, chip, TD1 MRZ, typed; a foreign passport's TD3; a child with an adult),
verified through ``identity.services.verify`` (which screens the alert list) — and the passenger
takes a seat; a passenger over the trip's seats is refused. The manifest is notified **before the
departure** (:func:`rules.manifest_deadline`): sent after it, it is late; not sent, missing (the
passengers then show in the police's late/missing report like any guest). The police unit of the
*departure ward* (the city police: the city) sees the manifests.

Passengers are stays with ``role=passenger`` and the trip; their stay ends at the trip's arrival, so
they never count as guests in a house.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from dancu.apps.residence import rules, services, webhooks
from dancu.apps.residence.models import Establishment, Stay, Trip
from dancu.blocks.adminunits import services as adminunits
from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity.chip import TrustStore
from dancu.blocks.organisations.models import Organisation
from dancu.errors import DomainValidationError, FieldProblem, NotFound
from dancu.validation import text_problems

MAX_TRIP = timedelta(days=3)


@dataclass(frozen=True)
class TripView:
    trip_id: int
    establishment_id: int
    operator_name: str
    route: str
    vehicle_plate: str
    departure_address: str
    departure_ward_code: str
    departure_at: datetime
    arrival_at: datetime
    seats: int
    passengers: int
    deadline: datetime
    notified_at: datetime | None
    status: str  # rules.Status of the manifest


@dataclass(frozen=True)
class Manifest:
    trip: TripView
    passengers: tuple[services.StayView, ...]


def _trip_view(trip: Trip, passengers: int, now: datetime) -> TripView:
    deadline = rules.manifest_deadline(trip.departure_at)
    return TripView(
        trip_id=trip.pk,
        establishment_id=trip.establishment_id,
        operator_name=trip.establishment.name,
        route=trip.route,
        vehicle_plate=trip.vehicle_plate,
        departure_address=trip.departure_address,
        departure_ward_code=trip.departure_ward_code,
        departure_at=trip.departure_at,
        arrival_at=trip.arrival_at,
        seats=trip.seats,
        passengers=passengers,
        deadline=deadline,
        notified_at=trip.notified_at,
        status=rules.notification_status(deadline=deadline, notified_at=trip.notified_at, now=now),
    )


def _operator(ctx: AccessContext, action: str) -> Establishment:
    est = services._desk_establishment(ctx, action)
    if est.kind != Establishment.Kind.COACH_OPERATOR:
        raise services._deny(ctx, action, "coach_only", "only a coach operator runs trips", "establishment")
    return est


def create_trip(
    ctx: AccessContext,
    *,
    route: str,
    vehicle_plate: str,
    departure_address: str,
    departure_at: datetime,
    arrival_at: datetime,
    seats: int,
    now: datetime | None = None,
) -> TripView:
    """Plan a trip of the actor's coach operator (purpose ``residence.notification``). The
    departure address is resolved to its current ward, whose police receive the manifest."""
    est = _operator(ctx, "residence.trip_create")
    moment = now or timezone.now()
    problems: list[FieldProblem] = []
    problems += text_problems("route", route, max_length=200, required=True)
    problems += text_problems("vehicle_plate", vehicle_plate, max_length=20, required=True)
    aware = True
    for name, value in (("departure_at", departure_at), ("arrival_at", arrival_at)):
        if not isinstance(value, datetime) or timezone.is_naive(value):
            problems.append(FieldProblem(name, "timezone", "must be a timezone-aware date and time"))
            aware = False
    if aware:
        if arrival_at <= departure_at:
            problems.append(FieldProblem("arrival_at", "after_departure", "must be after the departure"))
        elif arrival_at - departure_at > MAX_TRIP:
            problems.append(FieldProblem("arrival_at", "too_long", "a trip lasts at most 3 days"))
        if departure_at < moment - timedelta(days=1):
            problems.append(FieldProblem("departure_at", "too_old", "a trip is planned before it leaves"))
    if not isinstance(seats, int) or not 1 <= seats <= max(1, est.seats):
        problems.append(FieldProblem("seats", "range", f"must be from 1 to the operator's {est.seats} seats"))
    resolved = None
    try:
        resolved = adminunits.resolve_address_or_error(departure_address, "departure_address")
        if not resolved.ward_code:
            problems.append(FieldProblem("departure_address", "no_current_ward", "the address has no ward"))
    except DomainValidationError as exc:
        problems += exc.problems
    if problems or resolved is None:
        raise DomainValidationError(problems)
    with transaction.atomic():
        trip = Trip.objects.create(
            establishment=est,
            route=" ".join(route.split()),
            vehicle_plate=vehicle_plate.strip().upper(),
            departure_address=resolved.text,
            departure_ward_code=resolved.ward_code,
            departure_province_code=resolved.province_code,
            departure_at=departure_at,
            arrival_at=arrival_at,
            seats=seats,
            created_by=ctx.actor.label[:150],
        )
        audit.record(ctx, "residence.trip_create", detail={"trip": trip.pk, "establishment": est.pk})
    return _trip_view(trip, 0, moment)


def trips(ctx: AccessContext, *, now: datetime | None = None, limit: int = 100) -> list[TripView]:
    """The operator's trips, newest departure first."""
    est = _operator(ctx, "residence.trips")
    moment = now or timezone.now()
    rows = (
        Trip.objects.filter(establishment=est).annotate(n=Count("passengers")).select_related("establishment")
    )
    out = [_trip_view(t, t.n, moment) for t in rows.order_by("-departure_at", "id")[:limit]]
    audit.record(ctx, "residence.trips", detail={"count": len(out)})
    return out


def _own_trip(ctx: AccessContext, action: str, trip_id: int) -> tuple[Establishment, Trip]:
    est = _operator(ctx, action)
    trip = Trip.objects.select_related("establishment").filter(pk=trip_id, establishment=est).first()
    if trip is None:
        audit.record(ctx, action, result=AuditEvent.Result.NOT_FOUND, detail={"trip": trip_id})
        raise NotFound("no trip with that id of your establishment", field="trip_id")
    return est, trip


def _passengers(trip: Trip, now: datetime) -> tuple[services.StayView, ...]:
    stays = Stay.objects.select_related("establishment").filter(trip=trip).order_by("room", "id")
    return tuple(services._view(s, now) for s in stays)


def manifest(ctx: AccessContext, trip_id: int, *, now: datetime | None = None) -> Manifest:
    """The trip's passenger manifest for the operator."""
    _, trip = _own_trip(ctx, "residence.manifest", trip_id)
    moment = now or timezone.now()
    passengers = _passengers(trip, moment)
    audit.record(ctx, "residence.manifest", detail={"trip": trip.pk, "count": len(passengers)})
    return Manifest(_trip_view(trip, len(passengers), moment), passengers)


def board(
    ctx: AccessContext,
    trip_id: int,
    guests: Sequence[services.Guest],
    *,
    seat: str,
    idempotency_key: str = "",
    now: datetime | None = None,
    trust_store: TrustStore | None = None,
) -> services.CheckInResult:
    """Board passengers (one, or a group sharing ``seat`` with children) on the trip: each card is
    verified like a check-in; more passengers than seats are refused (``guests``/``capacity``)."""
    _, trip = _own_trip(ctx, "residence.board", trip_id)
    moment = now or timezone.now()
    if moment >= trip.arrival_at:
        raise DomainValidationError.single("trip_id", "arrived", "the trip has arrived: nobody boards it")
    return services.check_in(
        ctx,
        services.CheckIn(
            guests=tuple(guests),
            room=seat,
            arrival=moment,
            expected_departure=trip.arrival_at,
            reason=f"Hành khách: {trip.route}"[:200],
            role=Stay.Role.PASSENGER,
            trip_id=trip.pk,
        ),
        idempotency_key=idempotency_key,
        now=moment,
        trust_store=trust_store,
    )


def notify_manifest(ctx: AccessContext, trip_id: int, *, now: datetime | None = None) -> Manifest:
    """Send the manifest to the departure ward's police: the trip and its passengers not yet
    notified are notified now (late after the departure). Sending again adds the new passengers."""
    _own_trip(ctx, "residence.manifest_notify", trip_id)
    moment = now or timezone.now()
    with transaction.atomic():
        trip = Trip.objects.select_for_update().select_related("establishment").get(pk=trip_id)
        if trip.notified_at is None:
            trip.notified_at = moment
            trip.save(update_fields=["notified_at"])
        Stay.objects.filter(trip=trip, notified_at__isnull=True).update(notified_at=moment)
        passengers = _passengers(trip, moment)
        view = _trip_view(trip, len(passengers), moment)
        webhooks.enqueue(
            trip.establishment_id,
            "manifest.result",
            {
                "status": view.status,
                "trip_id": trip.pk,
                "deadline": view.deadline.isoformat(),
                "notified_at": moment.isoformat(),
                "passengers": len(passengers),
            },
        )
        audit.record(
            ctx,
            "residence.manifest_notify",
            detail={"trip": trip.pk, "count": len(passengers), "status": view.status},
        )
    return Manifest(view, passengers)


# --------------------------------------------------------------------------- police
def _police_trips(ctx: AccessContext, action: str) -> Q:
    """Police only (``security.investigation``): trips leaving the unit's ward (city: the city)."""
    services._check_purpose(ctx, action, services.POLICE_PURPOSE)
    actor = ctx.actor
    if actor.organisation_kind not in services.POLICE_KINDS or actor.organisation_id is None:
        raise services._deny(ctx, action, "police_only", "only police units see manifests", "organisation")
    if actor.organisation_kind == Organisation.Kind.POLICE_CITY:
        return Q(departure_province_code=actor.jurisdiction_province_code or "-")
    return Q(departure_ward_code=actor.jurisdiction_ward_code or "-")


def police_trips(
    ctx: AccessContext, *, since: datetime | None = None, now: datetime | None = None, limit: int = 200
) -> list[TripView]:
    """Trips leaving the unit's area since ``since`` (default: 2 days ago), with manifest status."""
    scope = _police_trips(ctx, "residence.police_trips")
    moment = now or timezone.now()
    start = since or moment - timedelta(days=2)
    rows = (
        Trip.objects.filter(scope, departure_at__gte=start)
        .annotate(n=Count("passengers"))
        .select_related("establishment")
        .order_by("departure_at", "id")[:limit]
    )
    out = [_trip_view(t, t.n, moment) for t in rows]
    audit.record(ctx, "residence.police_trips", detail={"count": len(out)})
    return out


def police_manifest(ctx: AccessContext, trip_id: int, *, now: datetime | None = None) -> Manifest:
    """One manifest of a trip leaving the unit's area; another area's trip is not revealed (404)."""
    scope = _police_trips(ctx, "residence.police_manifest")
    moment = now or timezone.now()
    trip = Trip.objects.select_related("establishment").filter(scope, pk=trip_id).first()
    if trip is None:
        audit.record(
            ctx, "residence.police_manifest", result=AuditEvent.Result.NOT_FOUND, detail={"trip": trip_id}
        )
        raise NotFound("no trip with that id leaves your area", field="trip_id")
    passengers = _passengers(trip, moment)
    audit.record(ctx, "residence.police_manifest", detail={"trip": trip.pk, "count": len(passengers)})
    return Manifest(_trip_view(trip, len(passengers), moment), passengers)
