"""Models of residence notification (issue 6, models 9–12).

An :class:`Establishment` belongs to one organisation (its staff are the organisation's
memberships) and lies in one current ward, whose police unit is responsible for it. A
:class:`Stay` is one guest's stay, notified to that unit when the check-in is submitted
(Law on Residence 2020 Art. 30; Circular 55/2021/TT-BCA Art. 15). A :class:`Submission` makes a
check-in (or an API batch) idempotent per establishment. A :class:`Trip` is a coach operator's
trip whose passengers (stays with ``role=passenger``) form its manifest; a hospital's in-patients
and their carers are stays with ``role=patient`` / ``carer``. A :class:`Webhook` receives each
notification result through :class:`WebhookDelivery` rows, kept until delivered.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Establishment(models.Model):
    class Kind(models.TextChoices):
        HOTEL = "hotel", "Khách sạn / Hotel"
        GUEST_HOUSE = "guest_house", "Nhà nghỉ / Guest house"
        HOMESTAY = "homestay", "Nhà ở có phòng cho khách du lịch thuê (homestay) / Homestay"
        APARTMENT = "apartment", "Căn hộ du lịch / Tourist apartment"
        TOURIST_BOAT = "tourist_boat", "Tàu thủy lưu trú du lịch / Tourist boat"
        BOARDING_HOUSE = "boarding_house", "Nhà trọ / Boarding house"
        RENTAL_ROOM = "rental_room", "Phòng cho thuê / Rental room"
        IZ_DORMITORY = "iz_dormitory", "Ký túc xá khu công nghiệp / Industrial-zone dormitory"
        HOSPITAL = "hospital", "Bệnh viện, cơ sở y tế / Hospital"
        COACH_OPERATOR = "coach_operator", "Doanh nghiệp vận tải hành khách / Coach operator"

    organisation = models.OneToOneField(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="establishment"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200)
    address_text = models.CharField(max_length=500)
    ward_code = models.CharField(max_length=5, db_index=True)
    province_code = models.CharField(max_length=2, db_index=True)
    rooms = models.PositiveIntegerField(default=0)
    beds = models.PositiveIntegerField(default=0)
    seats = models.PositiveIntegerField(default=0)
    owner_name = models.CharField(max_length=200)
    police_organisation = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_establishments",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Trip(models.Model):
    """A coach trip (model 12): its passengers are notified as a manifest before departure, to the
    police of the departure ward."""

    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="trips")
    route = models.CharField(max_length=200)
    vehicle_plate = models.CharField(max_length=20)
    departure_address = models.CharField(max_length=500)
    departure_ward_code = models.CharField(max_length=5, db_index=True)
    departure_province_code = models.CharField(max_length=2, db_index=True)
    departure_at = models.DateTimeField()
    arrival_at = models.DateTimeField()
    seats = models.PositiveIntegerField()
    notified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-departure_at", "id"]

    def __str__(self) -> str:
        return f"trip {self.pk} ({self.route})"


class Stay(models.Model):
    class Role(models.TextChoices):
        GUEST = "guest", "Khách lưu trú / Guest"
        PATIENT = "patient", "Người bệnh nội trú / In-patient"
        CARER = "carer", "Người chăm sóc / Carer"
        PASSENGER = "passenger", "Hành khách / Passenger"

    class GuestKind(models.TextChoices):
        CITIZEN = "citizen", "Công dân Việt Nam / Vietnamese citizen"
        FOREIGNER = "foreigner", "Người nước ngoài / Foreigner"
        CHILD = "child", "Trẻ em chưa có thẻ / Child without a card"

    # Indexes (Meta.indexes): a stay is inserted by every notification, and each index is written
    # by each insert (ADR 0018, third step) — the establishment is ``stay_live``'s first column, the
    # group reference is never searched, the numbers are searched for equality only (no
    # ``varchar_pattern_ops`` twin), and the rarely set references index only their set rows.
    establishment = models.ForeignKey(
        Establishment, on_delete=models.PROTECT, related_name="stays", db_index=False
    )
    group_reference = models.CharField(max_length=40)
    guest_kind = models.CharField(max_length=12, choices=GuestKind.choices)
    id_number = models.CharField(max_length=12, blank=True)
    passport_number = models.CharField(max_length=20, blank=True)
    nationality = models.CharField(max_length=3, default="VNM")
    full_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, blank=True)
    permanent_address = models.CharField(max_length=500, blank=True)
    guardian = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", db_index=False
    )
    evidence_kind = models.CharField(max_length=16)
    verification_receipt = models.CharField(max_length=64, blank=True)
    room = models.CharField(max_length=20)
    arrival = models.DateTimeField()
    expected_departure = models.DateTimeField()
    departed_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    close_relative = models.BooleanField(default=False)
    notification_required = models.BooleanField(default=True)
    deadline = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.GUEST)
    patient = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="carers", db_index=False
    )
    trip = models.ForeignKey(
        Trip, null=True, blank=True, on_delete=models.PROTECT, related_name="passengers", db_index=False
    )
    # Current province of the permanent residence (statistics by province of origin): the province
    # of the registry's current ward, else of the address text resolved (ADR 0018, fourth step);
    # "" unknown.
    origin_province_code = models.CharField(max_length=2, blank=True)
    # Captured offline: ``notified_at`` is the capture time, ``created_at`` the upload.
    captured_offline = models.BooleanField(default=False)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-arrival", "id"]
        indexes = [
            models.Index(fields=["establishment", "departed_at"], name="stay_live"),
            models.Index(fields=["deadline"], name="stay_deadline"),
            # The police live view: guests staying now counted per establishment, and the newest
            # of them (an area's establishments are many; one ordered scan finds its newest).
            models.Index(
                fields=["-arrival", "id"], name="stay_present_newest", condition=Q(departed_at__isnull=True)
            ),
            models.Index(
                fields=["establishment", "-arrival"],
                name="stay_present",
                condition=Q(departed_at__isnull=True),
            ),
            # Search by person (police) and the citizen's data tracker: equality only.
            models.Index(fields=["id_number"], name="stay_id_number"),
            models.Index(
                fields=["passport_number"], name="stay_passport", condition=Q(passport_number__gt="")
            ),
            # A child's guardian, a carer's patient, a trip's passengers (and the PROTECT checks).
            models.Index(fields=["guardian"], name="stay_guardian", condition=Q(guardian__isnull=False)),
            models.Index(fields=["patient"], name="stay_patient", condition=Q(patient__isnull=False)),
            models.Index(fields=["trip"], name="stay_trip", condition=Q(trip__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"stay {self.pk} ({self.group_reference}, room {self.room})"


class StayChange(models.Model):
    """A change after the check-in: check-out, room change or extension (who, when, old → new)."""

    class Kind(models.TextChoices):
        CHECK_OUT = "check_out", "Trả phòng / Check-out"
        ROOM = "room", "Đổi phòng / Room change"
        EXTENSION = "extension", "Gia hạn / Extension"

    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    old_value = models.CharField(max_length=60, blank=True)
    new_value = models.CharField(max_length=60, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    by = models.CharField(max_length=150)

    def __str__(self) -> str:
        return f"{self.kind} of stay {self.stay_id}"


class Submission(models.Model):
    """An idempotent submission (front-desk form, API single or batch) of an establishment: the
    key, the SHA-256 of the canonical request and the answer given, replayed on a retry."""

    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="submissions")
    key = models.CharField(max_length=64)
    request_sha256 = models.CharField(max_length=64)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["establishment", "key"], name="residence_submission_unique", condition=~Q(key="")
            )
        ]

    def __str__(self) -> str:
        return f"submission {self.key} of establishment {self.establishment_id}"


class Webhook(models.Model):
    """An establishment's URL receiving each notification result, signed with HMAC-SHA256 under
    ``secret`` (shown once when registered; kept to sign)."""

    establishment = models.ForeignKey(Establishment, on_delete=models.PROTECT, related_name="webhooks")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64)
    active = models.BooleanField(default=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"webhook {self.pk} of establishment {self.establishment_id}"


class WebhookDelivery(models.Model):
    """One result to POST to one webhook: retried with backoff, kept until delivered."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.IntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    # Set while a worker holds the delivery (``webhooks._claim``), cleared when its attempt ends; a
    # worker that died lets it lapse. A manual retry is refused meanwhile (no double send).
    leased_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["delivered_at", "next_attempt_at"], name="webhook_due")]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.event})"


class StatisticsSector(models.Model):
    """A sector whose anonymised statistics a department's statistics officers see: Sở Du lịch
    tourism accommodation, Sở Y tế hospitals, the industrial-zone authority IZ dormitories, Sở Xây
    dựng rented housing (``statistics.report`` refuses any other sector)."""

    class Sector(models.TextChoices):
        TOURISM = "tourism", "Du lịch / Tourism"
        HEALTH = "health", "Y tế / Health"
        INDUSTRIAL = "industrial", "Khu công nghiệp / Industrial zones"
        HOUSING = "housing", "Nhà trọ, phòng cho thuê / Rented housing"

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="statistics_sectors"
    )
    sector = models.CharField(max_length=20, choices=Sector.choices)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "sector"], name="residence_sector_unique")
        ]

    def __str__(self) -> str:
        return f"{self.sector} for organisation {self.organisation_id}"
