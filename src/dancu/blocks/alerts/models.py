"""The police alert list and the hits screening found (ADR 0007).

Plain ids, not foreign keys, for the citizen and the organisations, as in the audit log and the
verification receipts: an entry and its hits outlive users and organisations and are never
cascaded. Only the police read these tables, through ``alerts.services``.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AlertEntry(models.Model):
    """A person a police unit wants to be told about when they verify their identity somewhere
    (Law on People's Police 2014 Art. 16; Decree 96/2016/NĐ-CP Art. 25–26)."""

    class Kind(models.TextChoices):
        WANTED = "wanted", "Đối tượng truy nã / Wanted"
        MISSING = "missing", "Người mất tích / Missing person"
        UNDER_SUPERVISION = "under_supervision", "Đối tượng quản lý, giám sát / Under supervision"
        OTHER = "other", "Khác / Other"

    subject_citizen_id = models.BigIntegerField()
    # The number the police typed (the page shows it; the registry follows later number changes).
    subject_id_number = models.CharField(max_length=12)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    issuing_organisation_id = models.BigIntegerField()
    issuing_organisation_name = models.CharField(max_length=255)
    reference = models.CharField(max_length=100)  # case file or decision number
    legal_basis = models.CharField(max_length=255)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=150, blank=True)
    close_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            # The screening query of every successful verification.
            models.Index(fields=["subject_citizen_id", "active"], name="alerts_entry_subject"),
            models.Index(fields=["issuing_organisation_id", "active"], name="alerts_entry_issuer"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"alert {self.pk} ({self.kind}, {self.reference})"


class AlertHit(models.Model):
    """A verification that matched a person with an active entry: where, when, on which event."""

    entry = models.ForeignKey(AlertEntry, on_delete=models.PROTECT, related_name="hits")
    subject_citizen_id = models.BigIntegerField()
    where_organisation_id = models.BigIntegerField(null=True, blank=True)
    where_organisation_name = models.CharField(max_length=255, blank=True)
    where_organisation_kind = models.CharField(max_length=32, blank=True)
    # The establishment's location as its organisation records it (current-unit codes).
    where_ward_code = models.CharField(max_length=5, blank=True)
    where_province_code = models.CharField(max_length=2, blank=True)
    event = models.CharField(max_length=64)  # e.g. identity.verify
    receipt_id = models.CharField(max_length=64, blank=True)  # the verification receipt
    occurred_at = models.DateTimeField(default=timezone.now)
    seen_by = models.CharField(max_length=150, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["where_ward_code", "occurred_at"], name="alerts_hit_ward_time"),
            models.Index(fields=["occurred_at"], name="alerts_hit_time"),
        ]
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"hit {self.pk} on alert {self.entry_id} at {self.where_organisation_name}"
