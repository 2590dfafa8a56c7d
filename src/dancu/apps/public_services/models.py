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
        DONE = "done", "Có kết quả / Result issued"
        REFUSED = "refused", "Từ chối / Refused"

    OPEN = (Status.SUBMITTED, Status.RECEIVED, Status.PROCESSING, Status.SENT_BACK)

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
    authority_ward_code = models.CharField(max_length=5)
    # {key: {"value": ..., "source": "registry"|"eid"|"citizen"}}
    items = models.JSONField(default=dict)
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
        indexes = [models.Index(fields=["authority_ward_code", "status", "due_on"])]

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
