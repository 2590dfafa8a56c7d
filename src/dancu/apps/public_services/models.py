"""Dossiers of online public services, their history, and the citizen's in-app inbox.

The application's own tables: a dossier stores the citizen's ID number and the data items of the
procedure with their provenance (the registry's data is a copy for the case file, as the paper
photocopy was; Decree 45/2020/NĐ-CP Art. 11), never a link to the registry's rows.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Dossier(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Đã nộp / Submitted"
        RECEIVED = "received", "Đã tiếp nhận / Received"
        PROCESSING = "processing", "Đang xử lý / Processing"
        SENT_BACK = "sent_back", "Yêu cầu bổ sung / Additions requested"
        CONSENT = "consent", "Chờ bên liên quan đồng ý / Awaiting the other party's consent"
        PAYMENT = "payment", "Chờ thanh toán / Awaiting payment"
        SUSPENDED = "suspended", "Tạm dừng / Suspended"
        DONE = "done", "Có kết quả / Result issued"
        REFUSED = "refused", "Từ chối / Refused"

    OPEN = (
        Status.SUBMITTED,
        Status.RECEIVED,
        Status.PROCESSING,
        Status.SENT_BACK,
        Status.CONSENT,
        Status.PAYMENT,
        Status.SUSPENDED,
    )

    class Channel(models.TextChoices):
        ONLINE = "online", "Trực tuyến / Online"
        KIOSK = "kiosk", "Ki-ốt tự phục vụ / Self-service kiosk"

    tracking_code = models.CharField(max_length=20, unique=True)
    service_code = models.CharField(max_length=40)
    applicant_user_id = models.IntegerField(db_index=True)
    applicant_id_number = models.CharField(max_length=12)
    applicant_name = models.CharField(max_length=150)
    # Double submission (a double click, a retry) creates one dossier: the form's key, per citizen.
    idempotency_key = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    # The competent authority: an organisation kind and its ward (current unit code).
    authority_kind = models.CharField(max_length=32)
    authority_ward_code = models.CharField(max_length=5)  # a province code for city-level authorities
    # A city department is one organisation among several of its kind: its code (e.g. SO-TUPHAP).
    authority_org_code = models.CharField(max_length=40, blank=True)
    # Multi-step approval: the index of the current step in the service's ``steps``.
    step = models.PositiveSmallIntegerField(default=0)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    # A two-party procedure (marriage, household separation): the other party, who consents.
    counterpart_id_number = models.CharField(max_length=12, blank=True, db_index=True)
    counterpart_consented_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    extended_days = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # {key: {"value": ..., "source": "registry"|"eid"|"citizen"}}
    items = models.JSONField(default=dict)
    # A document was attached (an ``upload`` item): not counted paperless on the dashboard.
    has_upload = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(default=timezone.now)
    due_on = models.DateField()
    assigned_user_id = models.IntegerField(null=True, blank=True)
    assigned_label = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    reasons = models.TextField(blank=True)  # refusal or send-back reasons
    # The result: a document (canonical JSON) signed by the platform key (Ed25519).
    result_document = models.TextField(blank=True)
    result_signature = models.CharField(max_length=120, blank=True)
    result_key_id = models.CharField(max_length=16, blank=True)
    version = models.IntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["applicant_user_id", "idempotency_key"], name="public_services_dossier_once"
            )
        ]
        indexes = [
            models.Index(fields=["authority_ward_code", "status", "due_on"]),
            # The officials' work queue (``services.queue``): open dossiers of one authority, most
            # urgent first — read in index order, so a page of 100,000 open dossiers costs what a
            # page of 50 does (docs/benchmarks.md, "Public services").
            models.Index(
                fields=[
                    "authority_kind",
                    "authority_ward_code",
                    "authority_org_code",
                    "due_on",
                    "submitted_at",
                    "id",
                ],
                condition=models.Q(
                    status__in=[
                        "submitted",
                        "received",
                        "processing",
                        "sent_back",
                        "consent",
                        "payment",
                        "suspended",
                    ]
                ),
                name="ps_dossier_open_queue",
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_code


class DossierEvent(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=20)
    actor_label = models.CharField(max_length=150)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.at:%Y-%m-%d %H:%M}"


class InboxMessage(models.Model):
    """A notice to the citizen about one of their dossiers (shown at /dich-vu-cong/hop-thu/)."""

    user_id = models.IntegerField(db_index=True)
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="messages")
    created_at = models.DateTimeField(default=timezone.now)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.subject


class Draft(models.Model):
    """A form the citizen saved without submitting (e.g. while the registry was unavailable):
    only what they typed, never registry data; resumed from "my dossiers"."""

    user_id = models.IntegerField(db_index=True)
    service_code = models.CharField(max_length=40)
    values = models.JSONField(default=dict)
    note = models.CharField(max_length=200, blank=True)
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "service_code"], name="public_services_one_draft")
        ]

    def __str__(self) -> str:
        return f"draft {self.service_code}"


class Payment(models.Model):
    """A payment of a dossier's fee or fine through the payment adapter (``payments``). The
    reference is the idempotency key at the gateway; a callback is applied once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Chờ thanh toán / Pending"
        PAID = "paid", "Đã thanh toán / Paid"
        FAILED = "failed", "Không thành công / Failed"
        # Superseded (a new amount) or its dossier closed: no longer to be paid.
        EXPIRED = "expired", "Hết hiệu lực / Expired"

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="payments")
    reference = models.CharField(max_length=40, unique=True)
    amount_vnd = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    provider = models.CharField(max_length=20)
    provider_transaction = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)
    # Money captured that settled nothing (the dossier was closed, the payment superseded, or
    # settling it failed): to be refunded or settled by an official; ``attention`` says why.
    refund_due = models.BooleanField(default=False)
    attention = models.CharField(max_length=200, blank=True)
    # The refund an official recorded (``refunds.mark_refunded``): when, the reference of the
    # transfer (the treasury's or the gateway's), and who.
    refunded_at = models.DateTimeField(null=True, blank=True)
    refund_reference = models.CharField(max_length=64, blank=True)
    refunded_by = models.CharField(max_length=150, blank=True)

    def __str__(self) -> str:
        return self.reference


# --------------------------------------------------------------------------- sector registers
# The records of other agencies that the procedures here read and change (in production each is
# the agency's own system behind the data exchange gateway; here a table of this application,
# seeded by the demo). Keyed by the personal ID number, which every sector now uses.


class DrivingLicence(models.Model):
    """A licence of the driving-licence register (Circular 35/2024/TT-BGTVT)."""

    class Status(models.TextChoices):
        VALID = "valid", "Còn giá trị / Valid"
        REPLACED = "replaced", "Đã cấp đổi / Replaced"
        REVOKED = "revoked", "Bị thu hồi / Revoked"

    id_number = models.CharField(max_length=12, db_index=True)
    licence_number = models.CharField(max_length=12)
    licence_class = models.CharField(max_length=4)
    issued_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)  # None: no expiry (A1, A, B1)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.VALID)
    dossier = models.CharField(max_length=20, blank=True)  # the re-issue that created it

    def __str__(self) -> str:
        return f"licence {self.licence_class}"


class TrafficFine(models.Model):
    """A penalty decision for a violation recorded by camera (Decree 100/2019/NĐ-CP as amended;
    Decree 168/2024/NĐ-CP from 01/01/2025)."""

    class Status(models.TextChoices):
        UNPAID = "unpaid", "Chưa nộp / Unpaid"
        PAID = "paid", "Đã nộp / Paid"

    decision_number = models.CharField(max_length=30, unique=True)
    id_number = models.CharField(max_length=12, db_index=True)  # the person fined
    plate = models.CharField(max_length=12)
    violation = models.CharField(max_length=255)
    legal_basis = models.CharField(max_length=120)
    amount_vnd = models.BigIntegerField()
    decided_on = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.UNPAID)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_dossier = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return self.decision_number


class JudicialRecord(models.Model):
    """A conviction in the judicial-record database (Law on Judicial Records 2009 Art. 2, 8)."""

    id_number = models.CharField(max_length=12, db_index=True)
    judgment = models.CharField(max_length=60)
    court = models.CharField(max_length=150)
    judged_on = models.DateField()
    offence = models.CharField(max_length=255)
    sentence = models.CharField(max_length=255)
    expunged = models.BooleanField(default=False)  # xóa án tích (Penal Code 2015 Art. 69–73)

    def __str__(self) -> str:
        return self.judgment


class InsurancePeriod(models.Model):
    """A period of social/unemployment insurance contributions (Vietnam Social Security)."""

    id_number = models.CharField(max_length=12, db_index=True)
    employer = models.CharField(max_length=200)
    start_month = models.DateField()  # the first day of the first month paid
    end_month = models.DateField()  # the first day of the last month paid
    monthly_salary_vnd = models.BigIntegerField()
    unemployment = models.BooleanField(default=True)  # unemployment insurance paid too
    pensioner = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"insurance {self.start_month:%m/%Y}–{self.end_month:%m/%Y}"


class HealthInsuranceCard(models.Model):
    """A health-insurance card (Law on Health Insurance 2008, as amended 2014)."""

    class Kind(models.TextChoices):
        CHILD = "child", "Trẻ em dưới 6 tuổi / Child under 6"
        HOUSEHOLD = "household", "Hộ gia đình / Household"

    id_number = models.CharField(max_length=12, db_index=True)
    card_number = models.CharField(max_length=15, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    valid_from = models.DateField()
    valid_until = models.DateField()
    dossier = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return self.card_number
