"""Audit events: append-only, sealed into a SHA-256 hash chain by ``services.seal``."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    class Result(models.TextChoices):
        OK = "ok", "ok"
        DENIED = "denied", "denied"
        NOT_FOUND = "not_found", "not found"
        INVALID = "invalid", "invalid"

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Plain ids, not foreign keys: the log outlives users and organisations and is never cascaded.
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150)
    organisation_id = models.BigIntegerField(null=True, blank=True)
    organisation_name = models.CharField(max_length=255, blank=True)
    purpose = models.CharField(max_length=64)
    action = models.CharField(max_length=64)
    subject_citizen_id = models.BigIntegerField(null=True, blank=True)
    result = models.CharField(max_length=16, choices=Result.choices, default=Result.OK)
    case_reference = models.CharField(max_length=100, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # Filled by the sealing job, in id order.
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["subject_citizen_id", "occurred_at"], name="audit_subject_time"),
            models.Index(fields=["organisation_id", "occurred_at"], name="audit_org_time"),
        ]
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} ({self.result})"


class AuditCheckpoint(models.Model):
    """The chain's head after a sealing run: the last sealed event and its hash."""

    created_at = models.DateTimeField(default=timezone.now)
    last_event_id = models.BigIntegerField()
    last_hash = models.CharField(max_length=64)
    events_sealed = models.IntegerField()

    class Meta:
        ordering = ["-last_event_id"]

    def __str__(self) -> str:
        return f"checkpoint at event {self.last_event_id}"
