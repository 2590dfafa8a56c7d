"""Residence notification services (issue 6): establishments, check-in, changes, police views.

Rules are in :mod:`dancu.apps.residence.rules` (Law on Residence 2020 Art. 30; Circular
55/2021/TT-BCA Art. 15; Law 47/2014/QH13 and Circular 53/2016/TT-BCA for foreigners; Decree
282/2025/NĐ-CP Art. 10 for fines). Access:

* **Front desk** (purpose ``residence.notification``, granted to accommodation and medical
  facilities and to coach operators by ``organisations.policy``): the staff of an establishment's
  organisation check guests in and out of *their* establishment only. Each card is verified with
  ``identity.services.verify`` (purpose ``identity.verification``, the identity block's only
  purpose, with the case reference of the stay group), which also screens the person against the
  police alert list (``alerts.services.screen``, ADR 0007) *as seen from the establishment's ward*:
  the hit goes to the ward police of the establishment at once, and the desk's answer is the same
  whether or not the guest is listed.
* **Police** (purpose ``security.investigation``, police units only): a ward unit sees the
  establishments of its ward, the city police those of the city.
* **Citizen** (purpose ``citizen.self_access``): where they were notified as a guest.

Coach trips are in :mod:`.coaches`, hospital admissions in :mod:`.hospitals`, anonymised statistics
in :mod:`.statistics`, webhook delivery in :mod:`.webhooks`; they build on the functions here.

Every call records an audit event (denials too). The registry does not give this application the
guest's citizen id, so the residence events carry the stay ids, not the citizen; the citizen sees
the verification by the establishment (``identity.verify``) in their own access log.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Literal

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.utils import timezone

from dancu.apps.residence import rules, webhooks
from dancu.apps.residence.models import Establishment, Stay, StayChange, Submission, Trip
from dancu.blocks.adminunits import services as adminunits
from dancu.blocks.alerts import services as alerts
from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.audit.purposes import get_purpose
from dancu.blocks.identity.chip import ChipData, TrustStore, parse_dg13
from dancu.blocks.identity.mrz import MrzTD3, parse_td1, parse_td3
from dancu.blocks.identity.qr import parse_card_qr
from dancu.blocks.identity.services import (
    VERIFICATION_FIELDS,
    VERIFY_PURPOSE,
    ChipEvidence,
    Evidence,
    MrzEvidence,
    QrEvidence,
    TypedEvidence,
    VerificationResult,
    verify,
)
from dancu.blocks.organisations.models import Membership, Organisation
from dancu.errors import AccessDenied, Conflict, DomainValidationError, FieldProblem, NotFound
from dancu.validation import text_problems

PURPOSE = "residence.notification"
POLICE_PURPOSE = "security.investigation"
SELF_PURPOSE = "citizen.self_access"
POLICE_KINDS = frozenset({Organisation.Kind.POLICE_CITY.value, Organisation.Kind.POLICE_COMMUNE.value})
K = Establishment.Kind
# Which organisations may run an establishment of each kind (coach operators: model 12).
ORGANISATION_KINDS: dict[str, frozenset[str]] = {
    **{
        k: frozenset({Organisation.Kind.HOTEL.value})
        for k in (
            K.HOTEL,
            K.GUEST_HOUSE,
            K.HOMESTAY,
            K.APARTMENT,
            K.TOURIST_BOAT,
            K.BOARDING_HOUSE,
            K.RENTAL_ROOM,
            K.IZ_DORMITORY,
        )
    },
    K.HOSPITAL: frozenset({Organisation.Kind.CLINIC.value}),
    K.COACH_OPERATOR: frozenset({Organisation.Kind.TRANSPORT.value}),
}
# Cards are mandatory from 14 (Law on Identification 2023 Art. 19); younger children may stay
# without one, registered by name and date of birth with an adult of their group.
CARD_AGE = 14
MAX_GUESTS = 50
MAX_BATCH = 500
MAX_BACKDATE = timedelta(days=366)
MAX_STAY = timedelta(days=5 * 366)
# An offline capture (``CheckIn.captured_at``) is uploaded within this time, or refused.
MAX_OFFLINE = timedelta(hours=72)
_KEY = re.compile(r"^[A-Za-z0-9._:#-]{1,64}$")


# --------------------------------------------------------------------------- DTOs
@dataclass(frozen=True)
class EstablishmentView:
    establishment_id: int
    organisation_id: int
    kind: str
    kind_label: str
    name: str
    address: str
    ward_code: str
    ward_label: str
    province_code: str
    rooms: int
    beds: int
    seats: int
    owner_name: str
    police_organisation_id: int | None
    police_organisation_name: str
    staff: tuple[tuple[str, str], ...] = ()

    @property
    def capacity(self) -> int:
        """Guests it can host at once: seats for a coach, else beds."""
        return self.seats if self.kind == K.COACH_OPERATOR else self.beds


@dataclass(frozen=True)
class StayView:
    stay_id: int
    group_reference: str
    establishment_id: int
    establishment_name: str
    ward_code: str
    guest_kind: str
    id_number: str
    passport_number: str
    nationality: str
    full_name: str
    date_of_birth: date | None
    sex: str
    permanent_address: str
    guardian_stay_id: int | None
    evidence_kind: str
    verification_receipt: str
    room: str
    arrival: datetime
    expected_departure: datetime
    departed_at: datetime | None
    reason: str
    deadline: datetime
    notified_at: datetime | None
    status: str
    role: str = "guest"
    patient_stay_id: int | None = None
    trip_id: int | None = None
    captured_offline: bool = False
    # Law on Residence 2020 Art. 27: "" | "planned" | "due" (rules.temporary_residence)
    temporary_residence: str = ""


@dataclass(frozen=True)
class CheckInResult:
    group_reference: str
    stays: tuple[StayView, ...]
    replayed: bool = False


# --------------------------------------------------------------------------- input
@dataclass(frozen=True)
class CitizenGuest:
    """A Vietnamese guest presenting a card: QR, chip, TD1 MRZ or typed data."""

    evidence: Evidence
    close_relative: bool = False


@dataclass(frozen=True)
class ForeignGuest:
    """A foreign guest's passport MRZ (TD3, ICAO 9303 part 4): not in the registry."""

    passport_mrz: str


@dataclass(frozen=True)
class ChildGuest:
    """A child under 14 without a card, staying with the adult guest at index ``guardian``."""

    full_name: str
    date_of_birth: date
    guardian: int = 0


Guest = CitizenGuest | ForeignGuest | ChildGuest


@dataclass(frozen=True)
class CheckIn:
    guests: tuple[Guest, ...]
    room: str
    arrival: datetime
    expected_departure: datetime
    reason: str = ""
    notify: bool = True  # False: keep as a draft, notified later with ``notify_stays``
    # Offline capture: when the desk recorded it (the notification time, for lateness).
    captured_at: datetime | None = None
    role: str = "guest"  # ``Stay.Role``: patient / carer (hospitals), passenger (with ``trip_id``)
    patient_stay_id: int | None = None  # a carer's patient
    trip_id: int | None = None  # a passenger's trip (coach operators)


@dataclass(frozen=True)
class _Resolved:
    """One guest once checked: the fields to store."""

    guest_kind: str
    full_name: str
    id_number: str = ""
    passport_number: str = ""
    nationality: str = "VNM"
    date_of_birth: date | None = None
    sex: str = ""
    permanent_address: str = ""
    evidence_kind: str = ""
    receipt: str = ""
    guardian: int | None = None
    close_relative: bool = False
    origin_province_code: str = ""
    extra: dict[str, object] = field(default_factory=dict)


# --------------------------------------------------------------------------- establishments
def _ward_police(ward_code: str) -> Organisation | None:
    return (
        Organisation.objects.filter(
            kind=Organisation.Kind.POLICE_COMMUNE, jurisdiction_ward_code=ward_code, active=True
        )
        .order_by("id")
        .first()
    )


def register_establishment(
    organisation_id: int,
    *,
    kind: str,
    name: str,
    address: str,
    owner_name: str,
    rooms: int = 0,
    beds: int = 0,
    seats: int = 0,
) -> EstablishmentView:
    """Register the establishment run by an organisation (administration; no personal data of
    guests). The address is resolved to its current ward (``adminunits.services``, Resolution
    202/2025/QH15) and the ward's police unit becomes responsible (Circular 55/2021 Art. 15).
    Capacity: rooms and beds for accommodation, beds for a hospital, seats for a coach.
    Raises ``DomainValidationError`` naming the field and rule."""
    problems: list[FieldProblem] = []
    org = Organisation.objects.filter(pk=organisation_id).first()
    if org is None:
        raise NotFound("no organisation with that id", field="organisation_id")
    if kind not in K.values:
        problems.append(FieldProblem("kind", "choice", f"must be one of {', '.join(K.values)}"))
    elif org.kind not in ORGANISATION_KINDS[kind]:
        problems.append(
            FieldProblem(
                "kind", "organisation_kind", f"an organisation of kind {org.kind!r} cannot run a {kind}"
            )
        )
    problems += text_problems("name", name, max_length=200, required=True)
    problems += text_problems("owner_name", owner_name, max_length=200, required=True)
    for label, value in (("rooms", rooms), ("beds", beds), ("seats", seats)):
        if not isinstance(value, int) or value < 0 or value > 100_000:
            problems.append(FieldProblem(label, "range", "must be a whole number from 0 to 100000"))
    if not problems:
        if kind == K.COACH_OPERATOR and seats < 1:
            problems.append(FieldProblem("seats", "capacity", "a coach operator needs at least one seat"))
        elif kind != K.COACH_OPERATOR and beds < 1:
            problems.append(FieldProblem("beds", "capacity", "an establishment needs at least one bed"))
        if kind not in (K.COACH_OPERATOR, K.HOSPITAL) and rooms < 1:
            problems.append(FieldProblem("rooms", "capacity", "an establishment needs at least one room"))
    resolved = None
    try:
        resolved = adminunits.resolve_address_or_error(address, "address")
        if not resolved.ward_code:
            problems.append(FieldProblem("address", "no_current_ward", "the address has no current ward"))
    except DomainValidationError as exc:
        problems += exc.problems
    if Establishment.objects.filter(organisation_id=organisation_id).exists():
        problems.append(
            FieldProblem("organisation_id", "unique", "this organisation already runs an establishment")
        )
    if problems or resolved is None:
        raise DomainValidationError(problems)
    est = Establishment.objects.create(
        organisation=org,
        kind=kind,
        name=name.strip(),
        address_text=resolved.text,
        ward_code=resolved.ward_code,
        province_code=resolved.province_code,
        rooms=rooms,
        beds=beds,
        seats=seats,
        owner_name=owner_name.strip(),
        police_organisation=_ward_police(resolved.ward_code),
    )
    return establishment_view(est)


def establishment_view(est: Establishment, *, with_staff: bool = False) -> EstablishmentView:
    try:
        label = adminunits.ward_label(est.ward_code)
    except NotFound:
        label = est.ward_code
    staff: tuple[tuple[str, str], ...] = ()
    if with_staff:
        staff = tuple(
            Membership.objects.filter(organisation_id=est.organisation_id, active=True)
            .order_by("user__username")
            .values_list("user__username", "role")
        )
    police = est.police_organisation
    return EstablishmentView(
        establishment_id=est.pk,
        organisation_id=est.organisation_id,
        kind=est.kind,
        kind_label=est.get_kind_display(),
        name=est.name,
        address=est.address_text,
        ward_code=est.ward_code,
        ward_label=label,
        province_code=est.province_code,
        rooms=est.rooms,
        beds=est.beds,
        seats=est.seats,
        owner_name=est.owner_name,
        police_organisation_id=est.police_organisation_id,
        police_organisation_name=police.name if police is not None else "",
        staff=staff,
    )


def establishment_for(actor: Actor) -> EstablishmentView:
    """The establishment of the actor's organisation (staff pages), with its staff; ``NotFound``."""
    est = (
        Establishment.objects.select_related("police_organisation")
        .filter(organisation_id=actor.organisation_id or 0)
        .first()
    )
    if est is None:
        raise NotFound("your organisation has no registered establishment", field="establishment")
    return establishment_view(est, with_staff=True)


# --------------------------------------------------------------------------- access
def _deny(
    ctx: AccessContext, action: str, rule: str, message: str, field_name: str = "purpose"
) -> AccessDenied:
    audit.record(ctx, action, result=AuditEvent.Result.DENIED, detail={"reason": rule})
    return AccessDenied(message, field=field_name, rule=rule)


def _check_purpose(ctx: AccessContext, action: str, wanted: str) -> None:
    get_purpose(ctx.purpose)  # an unknown code is a validation error (422)
    if ctx.purpose != wanted:
        raise _deny(ctx, action, "purpose", f"purpose {ctx.purpose!r} does not allow this; use {wanted}")
    if not ctx.actor.may(wanted):
        raise _deny(ctx, action, "policy", f"your organisation or role may not use purpose {wanted!r}")


@cache
def _establishment_statement(alias: str) -> tuple[str, list[str], list[tuple[int, tuple[Any, ...], Any]]]:
    """``Establishment.objects.filter(organisation_id=…)[:1]`` compiled once per database alias:
    the SQL (one ``%s``, the organisation), the attribute names of its columns and their
    converters (SQLite's text times into ``datetime``…), as the ORM applies them."""
    query = Establishment.objects.filter(organisation_id=0).order_by()[:1].query
    compiler = query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    if list(params) != [0]:  # pragma: no cover - a change of Django's compilation
        raise RuntimeError(f"unexpected parameters of the establishment statement: {params!r}")
    columns = [expression for expression, _, _ in compiler.select]
    converters = [(pos, tuple(convs), col) for pos, (convs, col) in compiler.get_converters(columns).items()]
    return sql, [column.target.attname for column in columns], converters


def _establishment_of(organisation_id: int) -> Establishment | None:
    """The establishment of an organisation (at most one: ``Establishment.organisation`` is
    one-to-one), read from the database on every call — what ``filter(…).first()`` answers,
    without compiling the query each request (ADR 0018, fifth step)."""
    alias = router.db_for_read(Establishment)
    sql, names, converters = _establishment_statement(alias)
    db = connections[alias]
    with db.cursor() as cursor:
        cursor.execute(sql, [organisation_id])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for pos, convs, col in converters:
        value = values[pos]
        for convert in convs:
            value = convert(value, col, db)
        values[pos] = value
    return Establishment.from_db(alias, names, values)


def _desk_establishment(ctx: AccessContext, action: str) -> Establishment:
    """The actor's own establishment, for purpose ``residence.notification``; denial audited."""
    _check_purpose(ctx, action, PURPOSE)
    est = _establishment_of(ctx.actor.organisation_id or 0)
    if est is None:
        raise _deny(
            ctx, action, "establishment", "your organisation has no registered establishment", "establishment"
        )
    return est


def _police_scope(ctx: AccessContext, action: str) -> Q:
    """Police only, purpose ``security.investigation``: the establishments the unit supervises
    (a ward unit: its ward; the city police: the city)."""
    _check_purpose(ctx, action, POLICE_PURPOSE)
    actor = ctx.actor
    if actor.organisation_kind not in POLICE_KINDS or actor.organisation_id is None:
        raise _deny(
            ctx, action, "police_only", "only police units see residence notifications", "organisation"
        )
    if actor.organisation_kind == Organisation.Kind.POLICE_CITY:
        return Q(province_code=actor.jurisdiction_province_code or "-")
    return Q(ward_code=actor.jurisdiction_ward_code or "-") | Q(police_organisation_id=actor.organisation_id)


# --------------------------------------------------------------------------- views of stays
def _status(stay: Stay, now: datetime) -> str:
    return rules.notification_status(
        deadline=stay.deadline, notified_at=stay.notified_at, now=now, required=stay.notification_required
    )


def _temporary_residence(stay: Stay, now: datetime) -> str:
    """``rules.temporary_residence`` of the stay; a passenger never, nor a guest whose permanent
    address lies in the establishment's own commune (Law on Residence 2020 Art. 27 cl. 1 concerns
    living *outside* it; the address is resolved only when the 30 days are reached or planned)."""
    if stay.role == Stay.Role.PASSENGER:
        return ""
    flag = rules.temporary_residence(
        arrival=stay.arrival,
        expected_departure=stay.expected_departure,
        departed_at=stay.departed_at,
        now=now,
        foreigner=stay.guest_kind == Stay.GuestKind.FOREIGNER,
    )
    if flag and stay.permanent_address:
        home = adminunits.resolve_address(stay.permanent_address)
        if home is not None and home.ward_code and home.ward_code == stay.establishment.ward_code:
            return ""
    return flag


def _view(stay: Stay, now: datetime | None = None) -> StayView:
    est = stay.establishment
    now = now or timezone.now()
    return StayView(
        stay_id=stay.pk,
        group_reference=stay.group_reference,
        establishment_id=est.pk,
        establishment_name=est.name,
        ward_code=est.ward_code,
        guest_kind=stay.guest_kind,
        id_number=stay.id_number,
        passport_number=stay.passport_number,
        nationality=stay.nationality,
        full_name=stay.full_name,
        date_of_birth=stay.date_of_birth,
        sex=stay.sex,
        permanent_address=stay.permanent_address,
        guardian_stay_id=stay.guardian_id,
        evidence_kind=stay.evidence_kind,
        verification_receipt=stay.verification_receipt,
        room=stay.room,
        arrival=stay.arrival,
        expected_departure=stay.expected_departure,
        departed_at=stay.departed_at,
        reason=stay.reason,
        deadline=stay.deadline,
        notified_at=stay.notified_at,
        status=_status(stay, now),
        role=stay.role,
        patient_stay_id=stay.patient_id,
        trip_id=stay.trip_id,
        captured_offline=stay.captured_offline,
        temporary_residence=_temporary_residence(stay, now),
    )


# --------------------------------------------------------------------------- check-in
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}  # a dataclass's field names, read once


def _canon(value: object) -> object:
    """A JSON-ready form of the request that names each dataclass (a QR and an MRZ are both
    ``{"text": …}``)."""
    kind = type(value)
    names = _FIELD_NAMES.get(kind)
    if names is None and is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(value))
    if names is not None:
        return {"_": kind.__name__, **{n: _canon(getattr(value, n)) for n in names}}
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _canon(v) for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _fingerprint(data: object) -> str:
    canonical = json.dumps(
        _canon(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _check_key(key: str, field_name: str = "idempotency_key") -> None:
    if key and not _KEY.match(key):
        raise DomainValidationError.single(
            field_name, "format", "1–64 characters: letters, digits, '.', '_', ':', '#' or '-'"
        )


def _replay(
    est: Establishment,
    key: str,
    fingerprint: str,
    found: tuple[str, Mapping[str, object]] | Literal[False] | None = False,
) -> dict[str, object] | None:
    """The stored answer to this key of the establishment, or None; ``Conflict`` (409) when the
    key was used with another request. ``found``: the submission's fingerprint and answer (or None)
    when the caller has read them (``batch_pg.prelude_one``)."""
    if not key:
        return None
    if found is False:
        sub = Submission.objects.filter(establishment=est, key=key).first()
        found = (sub.request_sha256, sub.response) if sub is not None else None
    if found is None:
        return None
    sha, response = found
    if sha != fingerprint:
        raise Conflict(
            f"idempotency key {key!r} was used for another request; send a new key",
            field="idempotency_key",
            rule="idempotency_conflict",
        )
    return dict(response)


def _result_from(response: dict[str, object], *, replayed: bool) -> CheckInResult:
    ids = response.get("stay_ids")
    id_list = [int(i) for i in ids] if isinstance(ids, list) else []
    stays = {s.pk: s for s in Stay.objects.select_related("establishment").filter(pk__in=id_list)}
    return CheckInResult(
        group_reference=str(response.get("group_reference", "")),
        stays=tuple(_view(stays[i]) for i in id_list if i in stays),
        replayed=replayed,
    )


def _stay_problems(data: CheckIn, now: datetime) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    problems += text_problems("room", data.room, max_length=20, required=True)
    problems += text_problems("reason", data.reason, max_length=200)
    aware = True
    for name, moment in (("arrival", data.arrival), ("expected_departure", data.expected_departure)):
        if not isinstance(moment, datetime) or timezone.is_naive(moment):
            problems.append(FieldProblem(name, "timezone", "must be a timezone-aware date and time"))
            aware = False
    if aware and data.arrival < now - MAX_BACKDATE:
        problems.append(
            FieldProblem("arrival", "too_old", "a check-in is for a stay that started in the last 366 days")
        )
    elif aware and data.expected_departure > data.arrival + MAX_STAY:
        problems.append(
            FieldProblem("expected_departure", "too_far", "the expected departure must be within 5 years")
        )
    elif aware:
        if data.expected_departure <= data.arrival:
            problems.append(
                FieldProblem(
                    "expected_departure", "after_arrival", "the departure must be later than the arrival"
                )
            )
        if data.arrival > now + timedelta(hours=1):
            problems.append(
                FieldProblem("arrival", "not_future", "a check-in is for a guest who has arrived")
            )
    if not data.guests:
        problems.append(FieldProblem("guests", "required", "check in at least one guest"))
    elif len(data.guests) > MAX_GUESTS:
        problems.append(FieldProblem("guests", "length", f"at most {MAX_GUESTS} guests in one check-in"))
    return problems


def _result_stay(stay: Stay, moment: datetime) -> dict[str, object]:
    """A stay in a webhook payload: ids, times and status, no personal data."""
    return {
        "stay_id": stay.pk,
        "role": stay.role,
        "trip_id": stay.trip_id,
        "deadline": stay.deadline.isoformat(),
        "notified_at": stay.notified_at.isoformat() if stay.notified_at else None,
        "status": _status(stay, moment),
    }


def _context_problems(est: Establishment, data: CheckIn, moment: datetime) -> list[FieldProblem]:
    """The role fits the establishment (patients and carers in a hospital, passengers on a trip of
    a coach operator); an offline capture is aware, not in the future, within ``MAX_OFFLINE`` and
    not before the arrival (less 1 h)."""
    problems: list[FieldProblem] = []
    if data.role not in Stay.Role.values:
        return [FieldProblem("role", "choice", f"must be one of {', '.join(Stay.Role.values)}")]
    hospital = est.kind == K.HOSPITAL
    coach = est.kind == K.COACH_OPERATOR
    if data.role in (Stay.Role.PATIENT, Stay.Role.CARER) and not hospital:
        problems.append(FieldProblem("role", "hospital_only", "patients and carers stay in a hospital"))
    if coach != (data.role == Stay.Role.PASSENGER) or (data.trip_id is not None) != coach:
        problems.append(
            FieldProblem(
                "trip_id", "coach_only", "a coach operator boards passengers onto a trip; others host guests"
            )
        )
    elif coach and not Trip.objects.filter(pk=data.trip_id or 0, establishment=est).exists():
        problems.append(FieldProblem("trip_id", "not_found", "no trip with that id of your establishment"))
    if data.role == Stay.Role.CARER:
        if not Stay.objects.filter(
            pk=data.patient_stay_id or 0, establishment=est, role=Stay.Role.PATIENT, departed_at__isnull=True
        ).exists():
            problems.append(
                FieldProblem("patient_stay_id", "patient", "must name an in-patient of your hospital")
            )
    elif data.patient_stay_id is not None:
        problems.append(FieldProblem("patient_stay_id", "carer_only", "only a carer names a patient"))
    c = data.captured_at
    if c is not None:
        if not isinstance(c, datetime) or timezone.is_naive(c):
            problems.append(FieldProblem("captured_at", "timezone", "must be a timezone-aware date and time"))
        elif c > moment + timedelta(minutes=5):
            problems.append(FieldProblem("captured_at", "not_future", "the capture time is in the future"))
        elif c < moment - MAX_OFFLINE:
            problems.append(
                FieldProblem("captured_at", "too_old", "an offline capture is uploaded within 72 hours")
            )
        elif (
            isinstance(data.arrival, datetime)
            and not timezone.is_naive(data.arrival)
            and c < data.arrival - timedelta(hours=1)
        ):
            problems.append(
                FieldProblem("captured_at", "after_arrival", "a stay is captured once the guest arrived")
            )
    return problems


def _capacity_problems(
    est: Establishment, data: CheckIn, counted: Mapping[str, int] | None = None
) -> list[FieldProblem]:
    """Guests staying now (not checked out) plus the new ones must fit the beds (seats); a new
    room must fit the number of rooms. A trip's passengers must fit its seats. ``counted``: the
    counts below when the caller has read them (``batch_pg.prelude_one``, the same statement)."""
    if data.trip_id is not None:
        trip = Trip.objects.filter(pk=data.trip_id).first()
        taken = Stay.objects.filter(trip_id=data.trip_id).count()
        seats = trip.seats if trip is not None else 0
        if taken + len(data.guests) > seats:
            return [
                FieldProblem(
                    "guests",
                    "capacity",
                    f"the coach has {seats} seats and {taken} passengers: {len(data.guests)} more do not fit",
                )
            ]
        return []
    room = data.room.strip()
    # One statement: the guests staying now, the rooms they occupy, and whether this room is one.
    live = counted or Stay.objects.filter(establishment=est, departed_at__isnull=True).aggregate(
        guests=Count("id"), rooms=Count("room", distinct=True), here=Count("id", filter=Q(room=room))
    )
    capacity = est.seats if est.kind == K.COACH_OPERATOR else est.beds
    problems = []
    if live["guests"] + len(data.guests) > capacity:
        problems.append(
            FieldProblem(
                "guests",
                "capacity",
                f"the establishment has {capacity} beds and {live['guests']} guests staying: "
                f"{len(data.guests)} more do not fit",
            )
        )
    if est.rooms and not live["here"] and live["rooms"] + 1 > est.rooms:
        problems.append(
            FieldProblem("room", "capacity", f"all {est.rooms} rooms are occupied; check a guest out first")
        )
    return problems


def _guest_problems(data: CheckIn, on: date) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for i, guest in enumerate(data.guests):
        where = f"guests[{i}]"
        if isinstance(guest, ChildGuest):
            problems += text_problems(f"{where}.full_name", guest.full_name, max_length=100, required=True)
            if not isinstance(guest.date_of_birth, date) or guest.date_of_birth > on:
                problems.append(
                    FieldProblem(f"{where}.date_of_birth", "date", "must be a date not in the future")
                )
            elif rules.age_on(guest.date_of_birth, on) >= CARD_AGE:
                problems.append(
                    FieldProblem(
                        f"{where}.date_of_birth",
                        "card_required",
                        f"from age {CARD_AGE} a guest presents a card (Law on Identification 2023 Art. 19)",
                    )
                )
            g = guest.guardian
            if (
                not isinstance(g, int)
                or not 0 <= g < len(data.guests)
                or isinstance(data.guests[g], ChildGuest)
            ):
                problems.append(
                    FieldProblem(
                        f"{where}.guardian", "adult_guest", "must name an adult guest of this check-in"
                    )
                )
        elif isinstance(guest, ForeignGuest):
            problems += text_problems(
                f"{where}.passport_mrz", guest.passport_mrz, max_length=200, required=True
            )
        elif not isinstance(guest, CitizenGuest):
            problems.append(FieldProblem(where, "kind", "must be a citizen, a foreigner or a child"))
    return problems


def _passport(i: int, text: str, on: date) -> _Resolved:
    """A foreign guest from the passport MRZ (TD3): every check digit, and valid on arrival."""
    try:
        mrz: MrzTD3 = parse_td3(text, reference=on)
    except DomainValidationError as exc:
        raise DomainValidationError(
            [FieldProblem(f"guests[{i}].passport_mrz.{p.field}", p.rule, p.message) for p in exc.problems]
        ) from None
    if mrz.date_of_expiry < on:
        raise DomainValidationError.single(
            f"guests[{i}].passport_mrz", "expired", "the passport expired before the arrival"
        )
    if mrz.nationality == "VNM":
        raise DomainValidationError.single(
            f"guests[{i}].passport_mrz",
            "citizen_passport",
            "a Vietnamese citizen is checked in with their card (QR, chip, MRZ or typed)",
        )
    name = " ".join(p for p in (mrz.primary_identifier, mrz.secondary_identifier) if p)
    return _Resolved(
        guest_kind=Stay.GuestKind.FOREIGNER,
        full_name=name,
        passport_number=mrz.document_number,
        nationality=mrz.nationality,
        date_of_birth=mrz.date_of_birth,
        sex=mrz.sex if mrz.sex in ("M", "F") else "",
        evidence_kind="passport_td3",
    )


def presented_id_number(evidence: Evidence, on: date) -> str:
    """The ID number on the card presented (call after ``verify`` matched it)."""
    if isinstance(evidence, QrEvidence):
        return parse_card_qr(evidence.text, reference=on).id_number
    if isinstance(evidence, TypedEvidence):
        return evidence.id_number
    if isinstance(evidence, MrzEvidence):
        return parse_td1(evidence.text, reference=on).id_number
    if isinstance(evidence, ChipEvidence):
        dg13 = ChipData.from_dict(evidence.files).dg13
        return parse_dg13(dg13).id_number if dg13 is not None else ""
    return ""


def _verify_context(ctx: AccessContext, est: Establishment, reference: str) -> AccessContext:
    """The identity block verifies for ``identity.verification`` only; the actor is placed in the
    establishment's ward, so that an alert hit (ADR 0007) reaches that ward's police."""
    actor = replace(
        ctx.actor, jurisdiction_ward_code=est.ward_code, jurisdiction_province_code=est.province_code
    )
    return AccessContext(actor=actor, purpose=VERIFY_PURPOSE, case_reference=f"lưu trú {reference}"[:100])


def _verify_request_id(key: str, evidence: Evidence) -> str | None:
    """The verification's request id under a check-in's idempotency key: the same card under the
    same key is verified once (``verify`` replays its stored answer: one receipt, one audit
    event), whether first for the desk's preview or on a retry; another card gets another id."""
    if not key:
        return None
    digest = hashlib.sha256(f"{key}\x00{json.dumps(_canon(evidence), sort_keys=True)}".encode()).hexdigest()
    return f"res:{digest[:40]}"


def _citizen(
    i: int,
    guest: CitizenGuest,
    vctx: AccessContext,
    now: datetime,
    store: TrustStore | None,
    key: str = "",
) -> _Resolved:
    """Verify the card against the registry; the form fills itself from the verified identity."""
    mode = "data" if vctx.actor.organisation_kind in VERIFICATION_FIELDS else "yes_no"
    result = verify(
        vctx,
        guest.evidence,
        mode=mode,
        at=now,
        trust_store=store,
        request_id=_verify_request_id(key, guest.evidence),
    )
    return _from_verification(i, guest, result, now)


def _from_verification(
    i: int,
    guest: CitizenGuest,
    result: VerificationResult,
    now: datetime,
    resolve: Callable[[str], adminunits.ResolvedAddress | None] = adminunits.resolve_address,
    id_number: str = "",
) -> _Resolved:
    """The guest as verified (``result``): the form fills itself from the verified identity;
    ``DomainValidationError`` naming ``guests[i].evidence`` and the reasons when it is not a match.
    ``id_number``: the number on the card when the caller has already read it."""
    if not result.matches:
        raise DomainValidationError(
            [
                FieldProblem(
                    f"guests[{i}].evidence{'.' + r.field if r.field else ''}",
                    result.decision if not r.code else r.code,
                    f"{r.message_vi} / {r.message_en}",
                )
                for r in result.reasons
            ]
            or [FieldProblem(f"guests[{i}].evidence", result.decision, "the card could not be verified")]
        )
    data = result.data or {}
    on = timezone.localdate(now)
    id_number = id_number or presented_id_number(guest.evidence, on)
    name = str(data.get("full_name") or getattr(guest.evidence, "full_name", "") or "")
    born: date | None = None
    raw_born = data.get("date_of_birth")
    if isinstance(raw_born, str) and len(raw_born) == 10:
        born = date.fromisoformat(raw_born)
    elif isinstance(guest.evidence, TypedEvidence):
        born = guest.evidence.date_of_birth
    if not name and isinstance(guest.evidence, QrEvidence):
        name = parse_card_qr(guest.evidence.text, reference=on).full_name
    address = str(data.get("permanent_address") or "")[:500]
    return _Resolved(
        guest_kind=Stay.GuestKind.CITIZEN,
        full_name=name,
        id_number=id_number,
        nationality=str(data.get("nationality") or "VNM")[:3],
        date_of_birth=born,
        sex=str(data.get("sex") or "")[:1],
        permanent_address=str(data.get("permanent_address") or "")[:500],
        evidence_kind=result.evidence_kind,
        receipt=result.receipt_id,
        close_relative=guest.close_relative,
        origin_province_code=_origin_province(str(data.get("permanent_ward_code") or ""), address, resolve),
    )


def _origin_province(
    ward_code: str, address: str, resolve: Callable[[str], adminunits.ResolvedAddress | None]
) -> str:
    """The current province of a verified guest's permanent residence, for the statistics by
    province of origin (ADR 0018, fourth step): the province of the registry's current ward
    (``adminunits.province_of_ward``, units since 01/07/2025, Resolution 202/2025/QH15) — the
    verified permanent residence, where the address text may still name old units; the address
    text resolved (``adminunits.resolve_address``) only when the registry gives no ward it knows
    (an answer without the code: a replay stored before, another organisation's table). "" unknown."""
    if ward_code:
        try:
            return adminunits.province_of_ward(ward_code)[:2]
        except NotFound:
            pass
    origin = resolve(address) if address else None
    return (origin.province_code or "")[:2] if origin is not None else ""


@dataclass(frozen=True)
class GuestPreview:
    """What the desk shows once a card is verified, before the stay is filled in."""

    guest_kind: str
    full_name: str
    id_number: str
    passport_number: str
    nationality: str
    date_of_birth: date | None
    sex: str
    permanent_address: str


def preview_guest(
    ctx: AccessContext,
    guest: CitizenGuest | ForeignGuest,
    *,
    idempotency_key: str,
    now: datetime | None = None,
    trust_store: TrustStore | None = None,
) -> GuestPreview:
    """Verify the first guest's card (or read the passport) so that the form fills itself from the
    verified identity; the clerk then adds room, arrival, departure and reason. Under the same
    ``idempotency_key`` the check-in reuses this verification (same receipt, no second event).
    Raises ``DomainValidationError`` naming ``guests[0]…`` and the rule; ``AccessDenied``."""
    est = _desk_establishment(ctx, "residence.preview")
    _check_key(idempotency_key)
    moment = now or timezone.now()
    if isinstance(guest, ForeignGuest):
        r = _passport(0, guest.passport_mrz, timezone.localdate(moment))
    else:
        r = _citizen(
            0, guest, _verify_context(ctx, est, idempotency_key), moment, trust_store, idempotency_key
        )
    return GuestPreview(
        r.guest_kind,
        r.full_name,
        r.id_number,
        r.passport_number,
        r.nationality,
        r.date_of_birth,
        r.sex,
        r.permanent_address,
    )


def check_in(
    ctx: AccessContext,
    data: CheckIn,
    *,
    idempotency_key: str = "",
    now: datetime | None = None,
    trust_store: TrustStore | None = None,
) -> CheckInResult:
    """Check a group of guests in to the actor's establishment and notify their stay
    (Law on Residence 2020 Art. 30; Circular 55/2021/TT-BCA Art. 15).

    1. Purpose ``residence.notification``, staff or API key of the establishment's organisation.
    2. The stay (room, arrival ≤ now + 1 h, departure after arrival, reason) and the guests are
       validated; a child under 14 without a card is named with an adult of the group.
    3. Each card is verified (``identity.services.verify``, which screens the alert list); a
       foreign guest's passport TD3 MRZ is checked (Law 47/2014; not in the registry).
    4. Capacity: guests present plus the new ones fit the beds, a new room fits the rooms.
    5. Stored in one transaction with the notification deadline (:mod:`rules`): a stay is
       notified when submitted (``notify=True``); a close relative already notified once here
       needs no new notification.

    ``idempotency_key``: the same key and request give the same answer (``replayed``); the same key
    with another request is ``Conflict``. Errors: ``DomainValidationError`` (every field and rule;
    nothing stored), ``AccessDenied`` (audited).
    """
    est = _desk_establishment(ctx, "residence.check_in")
    moment = now or timezone.now()
    _check_key(idempotency_key)
    fingerprint = _fingerprint(data) if idempotency_key else ""
    from dancu.apps.residence import batch_pg  # PostgreSQL: fewer statements, one commit (ADR 0018)

    # On the set-based path one statement reads the key's submission, the capacity counts and the
    # new stays' ids; the checks below are the same either way.
    pre = batch_pg.prelude_one(est, data, idempotency_key)
    stored = _replay(est, idempotency_key, fingerprint, pre.submission if pre is not None else False)
    if stored is not None:
        return _result_from(stored, replayed=True)
    problems = _stay_problems(data, moment)
    aware = isinstance(data.arrival, datetime) and not timezone.is_naive(data.arrival)
    on = timezone.localdate(data.arrival if aware else moment)
    problems += _guest_problems(data, on)
    problems += _context_problems(est, data, moment)
    if problems:
        raise DomainValidationError(problems)
    problems = _capacity_problems(est, data, pre.live if pre is not None else None)
    if problems:
        raise DomainValidationError(problems)
    fast = batch_pg.check_in_one(
        ctx,
        est,
        data,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        moment=moment,
        on=on,
        trust_store=trust_store,
        prelude=pre,
    )
    if fast is not None:
        return fast
    group = uuid.uuid4().hex[:12]
    vctx = _verify_context(ctx, est, idempotency_key or group)
    resolved, failures = _resolve_guests(data, vctx, moment, trust_store, idempotency_key, on)
    if failures:
        audit.record(
            ctx, "residence.check_in", result=AuditEvent.Result.INVALID, detail={"problems": len(failures)}
        )
        raise DomainValidationError(failures)
    try:
        with transaction.atomic():
            stays = _store(ctx, est, data, resolved, group, moment)
            response: dict[str, object] = {"group_reference": group, "stay_ids": [s.pk for s in stays]}
            if idempotency_key:
                Submission.objects.create(
                    establishment=est, key=idempotency_key, request_sha256=fingerprint, response=response
                )
            webhooks.enqueue(
                est.pk,
                "notification.result",
                {
                    "status": "stored",
                    "idempotency_key": idempotency_key,
                    "group_reference": group,
                    "stays": [_result_stay(s, moment) for s in stays],
                },
            )
            audit.record(
                ctx,
                "residence.check_in",
                detail={"establishment": est.pk, "group": group, "stays": [s.pk for s in stays]},
            )
    except IntegrityError:
        stored = _replay(est, idempotency_key, fingerprint)
        if stored is None:
            raise
        return _result_from(stored, replayed=True)
    # Read back, so that the first answer and a replay are the same (times as stored).
    return _result_from(response, replayed=False)


def _resolve_guests(
    data: CheckIn,
    vctx: AccessContext,
    moment: datetime,
    trust_store: TrustStore | None,
    key: str,
    on: date,
    verified: Mapping[int, tuple[VerificationResult, str]] | None = None,
    resolve: Callable[[str], adminunits.ResolvedAddress | None] = adminunits.resolve_address,
) -> tuple[list[_Resolved], list[FieldProblem]]:
    """Each guest checked: a card verified (``verified[i]``: already verified by the caller, with
    the card's ID number), a passport read, a child named with their guardian; then the same
    person twice in the group refused. Returns the guests resolved and every problem found."""
    resolved: list[_Resolved] = []
    failures: list[FieldProblem] = []
    for i, guest in enumerate(data.guests):
        try:
            if isinstance(guest, CitizenGuest):
                done = (verified or {}).get(i)
                resolved.append(
                    _from_verification(i, guest, done[0], moment, resolve, done[1])
                    if done is not None
                    else _citizen(i, guest, vctx, moment, trust_store, key)
                )
            elif isinstance(guest, ForeignGuest):
                resolved.append(_passport(i, guest.passport_mrz, on))
            else:
                resolved.append(
                    _Resolved(
                        guest_kind=Stay.GuestKind.CHILD,
                        full_name=" ".join(guest.full_name.split()),
                        date_of_birth=guest.date_of_birth,
                        evidence_kind="accompanied",
                        guardian=guest.guardian,
                    )
                )
        except DomainValidationError as exc:
            failures += exc.problems
    seen: dict[str, int] = {}
    for i, r in enumerate(resolved):
        who = r.id_number or (f"{r.nationality}:{r.passport_number}" if r.passport_number else "")
        if who and who in seen:
            failures.append(
                FieldProblem(f"guests[{i}]", "duplicate_guest", f"the same person as guests[{seen[who]}]")
            )
        seen.setdefault(who, i)
    return resolved, failures


def _store(
    ctx: AccessContext,
    est: Establishment,
    data: CheckIn,
    resolved: Sequence[_Resolved],
    group: str,
    moment: datetime,
) -> list[Stay]:
    by_index: dict[int, Stay] = {}
    trip = None
    if data.trip_id is not None:
        # Lock the trip: two desks boarding at once cannot exceed its seats.
        trip = Trip.objects.select_for_update().get(pk=data.trip_id)
        problems = _capacity_problems(est, data)
        if problems:
            raise DomainValidationError(problems)
    notified = data.captured_at or moment
    # Adults first, so that a child's guardian exists when the child is stored.
    order = sorted(range(len(resolved)), key=lambda i: resolved[i].guardian is not None)
    for i in order:
        r = resolved[i]
        required = True
        if r.close_relative and r.id_number:
            # Circular 55/2021 Art. 15 cl. 2: a close relative is notified once.
            required = not Stay.objects.filter(
                establishment=est, id_number=r.id_number, close_relative=True, notified_at__isnull=False
            ).exists()
        stay = _new_stay(ctx, est, data, r, group, notified, trip, required)
        stay.guardian = by_index[r.guardian] if r.guardian is not None else None
        stay.save(force_insert=True)
        by_index[i] = stay
    return [by_index[i] for i in range(len(resolved))]


def _new_stay(
    ctx: AccessContext,
    est: Establishment,
    data: CheckIn,
    r: _Resolved,
    group: str,
    notified: datetime,
    trip: Trip | None,
    required: bool,
) -> Stay:
    """The stay of one resolved guest (not saved; the guardian is set by the caller)."""
    foreigner = r.guest_kind == Stay.GuestKind.FOREIGNER
    return Stay(
        establishment=est,
        group_reference=group,
        guest_kind=r.guest_kind,
        id_number=r.id_number,
        passport_number=r.passport_number,
        nationality=r.nationality,
        full_name=r.full_name,
        date_of_birth=r.date_of_birth,
        sex=r.sex,
        permanent_address=r.permanent_address,
        evidence_kind=r.evidence_kind,
        verification_receipt=r.receipt,
        room=data.room.strip(),
        arrival=data.arrival,
        expected_departure=trip.arrival_at if trip is not None else data.expected_departure,
        # A passenger's stay ends when the trip arrives (not a guest in the house).
        departed_at=trip.arrival_at if trip is not None else None,
        reason=data.reason.strip(),
        close_relative=r.close_relative,
        notification_required=required,
        deadline=(
            rules.manifest_deadline(trip.departure_at)
            if trip is not None
            else rules.notification_deadline(data.arrival, foreigner=foreigner)
        ),
        # A passenger is notified with the manifest (at boarding once it has been sent).
        notified_at=(
            (notified if trip.notified_at is not None else None)
            if trip is not None
            else (notified if data.notify and required else None)
        ),
        role=data.role,
        patient_id=data.patient_stay_id if data.role == Stay.Role.CARER else None,
        trip=trip,
        origin_province_code=r.origin_province_code,
        captured_offline=data.captured_at is not None,
        created_by=ctx.actor.label[:150],
    )


# --------------------------------------------------------------------------- after the check-in
def _own_stay_id(ctx: AccessContext, action: str, stay_id: int) -> int:
    """Check, outside any transaction (so that a miss stays recorded), that the stay is the
    actor's establishment's; another establishment's stay is not revealed (404, audited)."""
    est = _desk_establishment(ctx, action)
    if not Stay.objects.filter(pk=stay_id, establishment=est).exists():
        audit.record(ctx, action, result=AuditEvent.Result.NOT_FOUND, detail={"stay": stay_id})
        raise NotFound("no stay with that id at your establishment", field="stay_id")
    return stay_id


def _own_stay(ctx: AccessContext, action: str, stay_id: int) -> Stay:
    """The stay, locked (inside the caller's transaction)."""
    return Stay.objects.select_related("establishment").select_for_update(of=("self",)).get(pk=stay_id)


def _change(ctx: AccessContext, stay: Stay, kind: str, old: str, new: str, action: str) -> StayView:
    StayChange.objects.create(
        stay=stay, kind=kind, old_value=old[:60], new_value=new[:60], by=ctx.actor.label[:150]
    )
    audit.record(ctx, action, detail={"stay": stay.pk, "establishment": stay.establishment_id})
    return _view(stay)


def _in_house(stay: Stay) -> None:
    if stay.departed_at is not None:
        raise DomainValidationError.single("stay_id", "checked_out", "the guest has already checked out")


def check_out(ctx: AccessContext, stay_id: int, *, at: datetime | None = None) -> StayView:
    """The guest leaves (Circular 55/2021 Art. 15: the period of stay ends). ``at`` must not be
    before the arrival; the stay must still be open."""
    _own_stay_id(ctx, "residence.check_out", stay_id)
    with transaction.atomic():
        stay = _own_stay(ctx, "residence.check_out", stay_id)
        _in_house(stay)
        moment = at or timezone.now()
        if timezone.is_naive(moment):
            raise DomainValidationError.single("at", "timezone", "must be a timezone-aware date and time")
        if moment > timezone.now() + timedelta(hours=1):
            raise DomainValidationError.single("at", "not_future", "a check-out is for a guest who has left")
        if moment < stay.arrival:
            raise DomainValidationError.single(
                "at", "after_arrival", "the check-out cannot be before the arrival"
            )
        stay.departed_at = moment
        stay.save(update_fields=["departed_at", "updated_at"])
        return _change(ctx, stay, StayChange.Kind.CHECK_OUT, "", moment.isoformat(), "residence.check_out")


def change_room(ctx: AccessContext, stay_id: int, room: str) -> StayView:
    """Move a guest to another room (the address of stay is the same establishment)."""
    problems = text_problems("room", room, max_length=20, required=True)
    if problems:
        raise DomainValidationError(problems)
    _own_stay_id(ctx, "residence.room_change", stay_id)
    with transaction.atomic():
        stay = _own_stay(ctx, "residence.room_change", stay_id)
        _in_house(stay)
        old, stay.room = stay.room, room.strip()
        stay.save(update_fields=["room", "updated_at"])
        return _change(ctx, stay, StayChange.Kind.ROOM, old, stay.room, "residence.room_change")


def extend_stay(ctx: AccessContext, stay_id: int, expected_departure: datetime) -> StayView:
    """A new expected departure, later than the arrival (the period of stay is notified anew)."""
    if not isinstance(expected_departure, datetime) or timezone.is_naive(expected_departure):
        raise DomainValidationError.single(
            "expected_departure", "timezone", "must be a timezone-aware date and time"
        )
    _own_stay_id(ctx, "residence.extension", stay_id)
    with transaction.atomic():
        stay = _own_stay(ctx, "residence.extension", stay_id)
        _in_house(stay)
        if expected_departure <= stay.arrival:
            raise DomainValidationError.single(
                "expected_departure", "after_arrival", "the departure must be later than the arrival"
            )
        if expected_departure > stay.arrival + MAX_STAY:
            raise DomainValidationError.single(
                "expected_departure", "too_far", "the expected departure must be within 5 years"
            )
        old = stay.expected_departure.isoformat()
        stay.expected_departure = expected_departure
        stay.save(update_fields=["expected_departure", "updated_at"])
        return _change(
            ctx, stay, StayChange.Kind.EXTENSION, old, expected_departure.isoformat(), "residence.extension"
        )


def notify_stays(
    ctx: AccessContext, stay_ids: Sequence[int], *, now: datetime | None = None
) -> list[StayView]:
    """Notify draft stays of the actor's establishment now (late if past their deadline)."""
    est = _desk_establishment(ctx, "residence.notify")
    moment = now or timezone.now()
    with transaction.atomic():
        stays = list(
            Stay.objects.select_related("establishment").filter(
                establishment=est, pk__in=list(stay_ids), notified_at__isnull=True, notification_required=True
            )
        )
        Stay.objects.filter(pk__in=[s.pk for s in stays]).update(notified_at=moment)
        audit.record(ctx, "residence.notify", detail={"stays": [s.pk for s in stays]})
    for s in stays:
        s.notified_at = moment
    return [_view(s, moment) for s in stays]


def live_guests(ctx: AccessContext, *, now: datetime | None = None) -> list[StayView]:
    """The guests staying now at the actor's establishment (front desk), newest first."""
    est = _desk_establishment(ctx, "residence.live")
    moment = now or timezone.now()
    stays = Stay.objects.select_related("establishment").filter(establishment=est, departed_at__isnull=True)
    rows = [_view(s, moment) for s in stays.order_by("-arrival", "id")[:500]]
    audit.record(ctx, "residence.live", detail={"establishment": est.pk, "count": len(rows)})
    return rows


def establishment_flags(ctx: AccessContext, *, now: datetime | None = None) -> list[StayView]:
    """The actor's establishment's late and missing notifications (the establishment is told too)."""
    est = _desk_establishment(ctx, "residence.flags")
    moment = now or timezone.now()
    rows = [_view(x, moment) for x in _flagged(Stay.objects.filter(establishment=est), moment)]
    audit.record(ctx, "residence.flags", detail={"establishment": est.pk, "count": len(rows)})
    return rows


def _flagged(stays: QuerySet[Stay], moment: datetime) -> QuerySet[Stay]:
    """Stays notified after their deadline, or not notified when it has passed."""
    return (
        stays.select_related("establishment")
        .filter(notification_required=True)
        .filter(Q(notified_at__gt=F("deadline")) | Q(notified_at__isnull=True, deadline__lt=moment))
        .order_by("deadline", "id")
    )


def _temporary_residence_stays(stays: QuerySet[Stay], moment: datetime, limit: int = 500) -> list[StayView]:
    """Guests staying now whose stay needs temporary-residence registration (``rules.
    temporary_residence``: 30 days reached or planned), found in the database; a guest whose
    permanent address lies in the establishment's own commune is left out (``_temporary_residence``).

    Read as two index-driven queries whose union is the rule, merged by (arrival, id): the stays
    that arrived 30 days ago or earlier (a range of ``stay_present_newest``) and those planned for
    30 days or more (on PostgreSQL the partial index ``stay_long_planned``, migration
    ``residence/0008``). One query with the ``OR`` read every guest staying in the area to find
    the few long ones: 120 ms for 50,000 guests in a ward (2026-12-02)."""
    long_stay = rules.TEMPORARY_RESIDENCE_AFTER
    live = (
        stays.select_related("establishment")
        .filter(departed_at__isnull=True, arrival__lte=moment)
        .exclude(role=Stay.Role.PASSENGER)
        .exclude(guest_kind=Stay.GuestKind.FOREIGNER)
        .order_by("arrival", "id")
    )
    cap = max(1, limit)
    reached = list(live.filter(arrival__lte=moment - long_stay)[:cap])
    length = ExpressionWrapper(F("expected_departure") - F("arrival"), output_field=DurationField())
    planned = list(live.alias(planned_for=length).filter(planned_for__gte=long_stay)[:cap])
    merged = {st.pk: st for st in (*reached, *planned)}
    found = sorted(merged.values(), key=lambda st: (st.arrival, st.pk))[:cap]
    views = (_view(stay, moment) for stay in found)
    return [v for v in views if v.temporary_residence]


def establishment_temporary_residence(ctx: AccessContext, *, now: datetime | None = None) -> list[StayView]:
    """The actor's establishment's guests who stay (or plan to stay) 30 days or more and must
    register temporary residence (Law on Residence 2020 Art. 27): the desk tells them."""
    est = _desk_establishment(ctx, "residence.temporary_residence")
    moment = now or timezone.now()
    rows = _temporary_residence_stays(Stay.objects.filter(establishment=est), moment)
    audit.record(ctx, "residence.temporary_residence", detail={"establishment": est.pk, "count": len(rows)})
    return rows


def police_temporary_residence(ctx: AccessContext, *, now: datetime | None = None) -> list[StayView]:
    """The same, for the police unit: guests of the establishments it supervises who stay 30 days
    or more (``due``) or announced it (``planned``), for the temporary-residence check."""
    scope = _police_scope(ctx, "residence.temporary_residence")
    moment = now or timezone.now()
    rows = _temporary_residence_stays(
        Stay.objects.filter(establishment__in=Establishment.objects.filter(scope)), moment
    )
    audit.record(ctx, "residence.temporary_residence", detail={"count": len(rows)})
    return rows


# --------------------------------------------------------------------------- police
@dataclass(frozen=True)
class PoliceLive:
    stays: tuple[StayView, ...]  # the newest ``limit`` of them
    by_ward: dict[str, int]  # every guest staying now, counted in the database
    by_establishment: dict[str, int]
    alert_receipts: frozenset[str]
    total: int = 0


def police_live_guests(
    ctx: AccessContext,
    *,
    ward_code: str = "",
    establishment_id: int | None = None,
    now: datetime | None = None,
    limit: int = 200,
) -> PoliceLive:
    """Guests staying now at the establishments the unit supervises (a ward unit: its ward; the
    city police: the city), optionally of one ward or establishment: the newest ``limit`` of them,
    the counts of *all* of them by ward and by establishment (aggregated in the database, on the
    partial index ``stay_present``), and the verification receipts that raised an alert hit the
    unit may see."""
    scope = _police_scope(ctx, "residence.police_live")
    moment = now or timezone.now()
    ests = Establishment.objects.filter(scope)
    if ward_code:
        ests = ests.filter(ward_code=ward_code)
    if establishment_id is not None:
        ests = ests.filter(pk=establishment_id)
    present = Stay.objects.filter(establishment__in=ests, departed_at__isnull=True, arrival__lte=moment)
    # Counted per establishment by the database (no join per guest); names and wards come from
    # the area's establishments, read once.
    counts = dict(present.order_by().values_list("establishment_id").annotate(n=Count("id")))
    where = {e: (w, n) for e, w, n in ests.filter(pk__in=list(counts)).values_list("pk", "ward_code", "name")}
    by_ward: dict[str, int] = {}
    by_est: dict[str, int] = {}
    for est_id, n in sorted(counts.items(), key=lambda kv: (-kv[1], where[kv[0]][1])):
        ward, name = where[est_id]
        by_ward[ward] = by_ward.get(ward, 0) + n
        by_est[name] = by_est.get(name, 0) + n
    rows = tuple(
        _view(s, moment)
        for s in present.select_related("establishment").order_by("-arrival", "id")[
            : max(1, min(limit, 5000))
        ]
    )
    receipts = {r.verification_receipt for r in rows if r.verification_receipt}
    hit_receipts = (
        frozenset(
            h.receipt_id
            for h in alerts.list_hits(AccessContext(ctx.actor, POLICE_PURPOSE))
            if h.receipt_id in receipts
        )
        if receipts
        else frozenset()
    )
    audit.record(ctx, "residence.police_live", detail={"count": len(rows), "ward": ward_code})
    return PoliceLive(rows, by_ward, by_est, hit_receipts, sum(by_ward.values()))


def search_person(
    ctx: AccessContext, *, id_number: str = "", passport_number: str = "", full_name: str = ""
) -> list[StayView]:
    """Stays of one person across the establishments the unit supervises, by ID number,
    passport number or exact name. The search needs a case reference (recorded with its purpose,
    Law on Residence 2020 Art. 30: residence data serve crime prevention)."""
    scope = _police_scope(ctx, "residence.search")
    if not ctx.case_reference.strip():
        raise DomainValidationError.single(
            "case_reference", "required", "name the case or task this search is for"
        )
    query = Q()
    if id_number.strip():
        query |= Q(id_number=id_number.strip())
    if passport_number.strip():
        query |= Q(passport_number=passport_number.strip().upper())
    if full_name.strip():
        query |= Q(full_name__iexact=" ".join(full_name.split()))
    if not query:
        raise DomainValidationError.single(
            "id_number", "required", "give an ID number, a passport number or a full name"
        )
    stays = Stay.objects.select_related("establishment").filter(
        query, establishment__in=Establishment.objects.filter(scope)
    )
    rows = [_view(s) for s in stays.order_by("-arrival", "id")[:200]]
    audit.record(ctx, "residence.search", detail={"count": len(rows)})
    return rows


@dataclass(frozen=True)
class LatenessRow:
    establishment_id: int
    establishment_name: str
    ward_code: str
    late: int
    missing: int
    fine: rules.FineBand | None


def lateness_report(
    ctx: AccessContext, *, since: date | None = None, now: datetime | None = None
) -> list[LatenessRow]:
    """Per supervised establishment, the people notified late or not at all (arrivals since
    ``since``, default 30 days), with the fine band of Decree 282/2025/NĐ-CP Art. 10 for the
    people concerned (a suggestion; the officer decides)."""
    scope = _police_scope(ctx, "residence.lateness")
    moment = now or timezone.now()
    start = since or (timezone.localdate(moment) - timedelta(days=30))
    since_midnight = datetime.combine(start, datetime.min.time(), tzinfo=rules.VN)
    stays = _flagged(
        Stay.objects.filter(
            establishment__in=Establishment.objects.filter(scope), arrival__gte=since_midnight
        ),
        moment,
    )
    grouped = (
        stays.order_by()
        .values_list("establishment_id", "establishment__name", "establishment__ward_code")
        .annotate(
            late=Count("id", filter=Q(notified_at__isnull=False)),
            missing=Count("id", filter=Q(notified_at__isnull=True)),
        )
    )
    rows = sorted(
        (
            LatenessRow(eid, name, ward, late, missing, rules.suggested_fine(late + missing))
            for eid, name, ward, late, missing in grouped
        ),
        key=lambda r: (-(r.late + r.missing), r.establishment_name),
    )
    audit.record(ctx, "residence.lateness", detail={"establishments": len(rows)})
    return rows


def police_alert_hits(ctx: AccessContext) -> list[alerts.HitView]:
    """The alert hits the unit sees (``alerts.services.list_hits``; ADR 0007), for the police view."""
    _police_scope(ctx, "residence.alerts")
    return alerts.list_hits(ctx)


# --------------------------------------------------------------------------- citizen
@dataclass(frozen=True)
class GuestRecord:
    """Where a citizen was notified as a guest (their data tracker): no one else's data."""

    establishment_name: str
    establishment_address: str
    arrival: datetime
    expected_departure: datetime
    departed_at: datetime | None
    notified_at: datetime | None


def guest_stays_of_citizen(ctx: AccessContext, id_number: str, *, limit: int = 200) -> list[GuestRecord]:
    """The stays notified for the citizen ``id_number``, newest first, for the citizen themself
    (purpose ``citizen.self_access``; Law 91/2025/QH15 on personal data protection: the data
    subject's right to know). The caller (``/eid/me/``) passes the ID number of the signed-in
    account's citizen and the account holder's actor; an organisation's staff are refused."""
    action = "residence.self_access"
    _check_purpose(ctx, action, SELF_PURPOSE)
    if ctx.actor.organisation_id is not None:
        raise _deny(ctx, action, "self_only", "only the citizen sees their own stays", "organisation")
    if not re.fullmatch(r"\d{12}", id_number or ""):
        raise DomainValidationError.single("id_number", "format", "must be 12 digits")
    stays = (
        Stay.objects.select_related("establishment").filter(id_number=id_number).order_by("-arrival", "id")
    )
    rows = [
        GuestRecord(
            s.establishment.name,
            s.establishment.address_text,
            s.arrival,
            s.expected_departure,
            s.departed_at,
            s.notified_at,
        )
        for s in stays[: max(1, min(limit, 500))]
    ]
    audit.record(ctx, action, detail={"count": len(rows)})
    return rows


# --------------------------------------------------------------------------- batches (API)
@dataclass(frozen=True)
class BatchRow:
    index: int
    status: str  # "stored" or "error"
    group_reference: str = ""
    stay_ids: tuple[int, ...] = ()
    errors: tuple[FieldProblem, ...] = ()


@dataclass(frozen=True)
class BatchResult:
    rows: tuple[BatchRow, ...]
    replayed: bool = False

    @property
    def stored(self) -> int:
        return sum(1 for r in self.rows if r.status == "stored")


def _at(where: str, p: FieldProblem) -> FieldProblem:
    """A row's problem, named under the row (``notifications[3].guests[0]``). A message may echo
    the input (a parser's "Input tag '…'"): NUL, other control characters and lone surrogates are
    replaced, since the answer is also stored for replays (PostgreSQL refuses U+0000 in text and
    jsonb, and unpaired surrogates in jsonb)."""

    def clean(text: str) -> str:
        def bad(c: str) -> bool:
            return (ord(c) < 32 and c not in "\t\n") or c == "\x7f" or 0xD800 <= ord(c) <= 0xDFFF

        return "".join("\ufffd" if bad(c) else c for c in text)

    return FieldProblem(clean(f"{where}.{p.field}"), clean(p.rule), clean(p.message))


def _row_json(r: BatchRow) -> dict[str, object]:
    return {
        "index": r.index,
        "status": r.status,
        "group_reference": r.group_reference,
        "stay_ids": list(r.stay_ids),
        "errors": [{"field": p.field, "rule": p.rule, "message": p.message} for p in r.errors],
    }


def _row_from(d: Mapping[str, object]) -> BatchRow:
    errors = d.get("errors")
    ids = d.get("stay_ids")
    return BatchRow(
        index=int(str(d.get("index", 0))),
        status=str(d.get("status", "")),
        group_reference=str(d.get("group_reference", "")),
        stay_ids=tuple(int(i) for i in ids) if isinstance(ids, list) else (),
        errors=tuple(
            FieldProblem(str(e["field"]), str(e["rule"]), str(e["message"]))
            for e in (errors if isinstance(errors, list) else [])
            if isinstance(e, dict)
        ),
    )


def check_in_batch(
    ctx: AccessContext,
    rows: Sequence[CheckIn | list[FieldProblem]],
    *,
    idempotency_key: str,
    fingerprint: str,
    now: datetime | None = None,
    trust_store: TrustStore | None = None,
) -> BatchResult:
    """A batch of check-ins from a property-management system. Each good row is stored (and
    stored with :func:`check_in`; each bad row gets its own errors with the field
    (``notifications[3].guests[0].evidence``) and the rule. A row given as a list of problems
    failed to parse and is reported as such. The batch is one transaction: its answer is given
    once every stored row (and every verification and audit event of the batch) is committed;
    a failure in the middle (a crash, a lost connection) keeps nothing, and the retry stores all.

    Idempotent: the batch key with the same body (``fingerprint``, the SHA-256 of the canonical
    body) returns the stored answer; another body is ``Conflict``. Each row is stored under a key
    derived from the batch key, so a retry after a crash in the middle stores no row twice."""
    est = _desk_establishment(ctx, "residence.batch")
    if not idempotency_key or not _KEY.match(idempotency_key):
        raise DomainValidationError.single(
            "idempotency_key",
            "format",
            "required: 1–64 characters: letters, digits, '.', '_', ':', '#' or '-'",
        )
    if len(rows) > MAX_BATCH:
        raise DomainValidationError.single(
            "notifications", "length", f"at most {MAX_BATCH} notifications a batch"
        )
    batch_key = "b:" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    stored = _replay(est, batch_key, fingerprint)
    if stored is not None:
        raw = stored.get("rows")
        return BatchResult(
            tuple(_row_from(r) for r in (raw if isinstance(raw, list) else []) if isinstance(r, dict)),
            replayed=True,
        )
    # One transaction for the whole batch (each row's store is a savepoint of it): one commit
    # instead of two a row, and nothing of a batch is kept unless all of it is — so an answer is
    # only given for committed rows, and a retry after a crash stores every row once.
    with transaction.atomic():
        from dancu.apps.residence import batch_pg  # the set-based path (ADR 0018); imports this module

        try:
            with transaction.atomic():
                fast = batch_pg.check_in_rows(
                    ctx,
                    est,
                    rows,
                    batch_key=batch_key,
                    idempotency_key=idempotency_key,
                    now=now,
                    trust_store=trust_store,
                )
        except IntegrityError:
            # A concurrent request with the same batch key stored its rows first (the rows'
            # idempotency keys are unique): nothing of ours is kept; row by row replays them.
            fast = None
        out = (
            fast
            if fast is not None
            else [
                _batch_row(ctx, est, i, row, batch_key, idempotency_key, now, trust_store)
                for i, row in enumerate(rows)
            ]
        )
        response = {"rows": [_row_json(r) for r in out]}
        try:
            with transaction.atomic():
                Submission.objects.create(
                    establishment=est, key=batch_key, request_sha256=fingerprint, response=response
                )
        except IntegrityError:
            pass  # a concurrent retry of the same batch stored it first: the rows are the same
        audit.record(
            ctx,
            "residence.batch",
            detail={"rows": len(out), "stored": sum(r.status == "stored" for r in out)},
        )
    return BatchResult(tuple(out))


def _row_key(batch_key: str, i: int) -> str:
    """The idempotency key of row ``i`` of a batch, derived from the batch key."""
    return f"{batch_key[:48]}#{i}"


def _rejected(est: Establishment, idempotency_key: str, i: int, problems: Sequence[FieldProblem]) -> BatchRow:
    """Row ``i``'s errors, named under the row, and the ``rejected`` webhook event."""
    errors = tuple(_at(f"notifications[{i}]", p) for p in problems)
    with transaction.atomic():
        webhooks.enqueue(
            est.pk,
            "notification.result",
            {
                "status": "rejected",
                "batch_key": idempotency_key,
                "index": i,
                "errors": [{"field": p.field, "rule": p.rule} for p in errors],
            },
        )
    return BatchRow(i, "error", errors=errors)


def _batch_row(
    ctx: AccessContext,
    est: Establishment,
    i: int,
    row: CheckIn | list[FieldProblem],
    batch_key: str,
    idempotency_key: str,
    now: datetime | None,
    trust_store: TrustStore | None,
) -> BatchRow:
    """Row ``i`` of a batch through :func:`check_in` (the reference path)."""
    if isinstance(row, list):
        return BatchRow(i, "error", errors=tuple(_at(f"notifications[{i}]", p) for p in row))
    try:
        result = check_in(ctx, row, idempotency_key=_row_key(batch_key, i), now=now, trust_store=trust_store)
    except (DomainValidationError, Conflict) as exc:
        problems = (
            exc.problems
            if isinstance(exc, DomainValidationError)
            else [FieldProblem(exc.field, exc.rule, str(exc))]
        )
        return _rejected(est, idempotency_key, i, problems)
    return BatchRow(i, "stored", result.group_reference, tuple(s.stay_id for s in result.stays))


# --------------------------------------------------------------------------- offline queue
@dataclass(frozen=True)
class OfflineItem:
    """One notification captured while offline: its own key, and the check-in whose
    ``captured_at`` is when the desk recorded it (or the problems found parsing it)."""

    idempotency_key: str
    data: CheckIn | list[FieldProblem]


@dataclass(frozen=True)
class OfflineRow:
    index: int
    idempotency_key: str
    status: str  # "stored", "replayed" or "error"
    group_reference: str = ""
    stays: tuple[StayView, ...] = ()
    errors: tuple[FieldProblem, ...] = ()


def upload_offline(
    ctx: AccessContext,
    items: Sequence[OfflineItem],
    *,
    now: datetime | None = None,
    trust_store: TrustStore | None = None,
) -> list[OfflineRow]:
    """Upload the notifications a desk captured while offline, once the connection returns. Each
    item is a check-in under its *own* idempotency key (so a retry of the whole upload, or of one
    item through ``/notifications``, never stores it twice) with ``captured_at`` set: the stay
    counts as notified at that time for lateness (Circular 55/2021 Art. 15), provided it is not in
    the future, not before the arrival and at most 72 hours old (``MAX_OFFLINE``); the upload time
    stays in ``created_at`` and the stay is marked ``captured_offline`` for the police."""
    est = _desk_establishment(ctx, "residence.offline")
    if len(items) > MAX_BATCH:
        raise DomainValidationError.single("items", "length", f"at most {MAX_BATCH} items an upload")
    seen: set[str] = set()
    out: list[OfflineRow] = []
    for i, item in enumerate(items):
        where = f"items[{i}]"
        problems: list[FieldProblem] = []
        if not item.idempotency_key or not _KEY.match(item.idempotency_key):
            problems.append(
                FieldProblem(f"{where}.idempotency_key", "format", "required: 1–64 of A–Z a–z 0–9 . _ : # -")
            )
        elif item.idempotency_key in seen:
            problems.append(
                FieldProblem(f"{where}.idempotency_key", "duplicate", "the same key twice in one upload")
            )
        seen.add(item.idempotency_key)
        if isinstance(item.data, list):
            problems += [_at(where, p) for p in item.data]
        elif item.data.captured_at is None:
            problems.append(FieldProblem(f"{where}.captured_at", "required", "when the desk captured it"))
        if not problems and isinstance(item.data, CheckIn):
            try:
                result = check_in(
                    ctx, item.data, idempotency_key=item.idempotency_key, now=now, trust_store=trust_store
                )
            except (DomainValidationError, Conflict) as exc:
                found = (
                    exc.problems
                    if isinstance(exc, DomainValidationError)
                    else [FieldProblem(exc.field, exc.rule, str(exc))]
                )
                problems = [_at(where, p) for p in found]
            else:
                out.append(
                    OfflineRow(
                        i,
                        item.idempotency_key,
                        "replayed" if result.replayed else "stored",
                        result.group_reference,
                        result.stays,
                    )
                )
                continue
        with transaction.atomic():
            webhooks.enqueue(
                est.pk,
                "notification.result",
                {
                    "status": "rejected",
                    "idempotency_key": item.idempotency_key,
                    "errors": [{"field": p.field, "rule": p.rule} for p in problems],
                },
            )
        out.append(OfflineRow(i, item.idempotency_key, "error", errors=tuple(problems)))
    audit.record(
        ctx,
        "residence.offline",
        detail={"items": len(out), "stored": sum(r.status == "stored" for r in out)},
    )
    return out


# --------------------------------------------------------------------------- webhooks
@dataclass(frozen=True)
class WebhookView:
    webhook_id: int
    url: str
    active: bool
    created_at: datetime
    pending: int
    secret: str = ""  # only in the answer to the registration


def register_webhook(ctx: AccessContext, url: str) -> WebhookView:
    """Register a URL that receives each notification result of the actor's establishment,
    signed with HMAC-SHA256 under the secret returned here once (``webhooks``)."""
    from dancu.apps.residence.models import Webhook

    est = _desk_establishment(ctx, "residence.webhook_register")
    problems = text_problems("url", url, max_length=500, required=True)
    reason = webhooks.url_problem(url.strip()) if not problems else ""
    if reason:
        problems.append(FieldProblem("url", "url", reason))
    if Webhook.objects.filter(establishment=est, active=True).count() >= webhooks.MAX_WEBHOOKS:
        problems.append(FieldProblem("url", "limit", f"at most {webhooks.MAX_WEBHOOKS} webhooks"))
    if problems:
        raise DomainValidationError(problems)
    secret = webhooks.new_secret()
    with transaction.atomic():
        hook = Webhook.objects.create(
            establishment=est, url=url.strip(), secret=secret, created_by=ctx.actor.label[:150]
        )
        audit.record(ctx, "residence.webhook_register", detail={"webhook": hook.pk})
    return WebhookView(hook.pk, hook.url, True, hook.created_at, 0, secret)


def list_webhooks(ctx: AccessContext) -> list[WebhookView]:
    """The establishment's webhooks with their undelivered results (no secret)."""
    from dancu.apps.residence.models import Webhook

    est = _desk_establishment(ctx, "residence.webhooks")
    hooks = Webhook.objects.filter(establishment=est).order_by("id")
    return [
        WebhookView(
            h.pk, h.url, h.active, h.created_at, h.deliveries.filter(delivered_at__isnull=True).count()
        )
        for h in hooks
    ]
