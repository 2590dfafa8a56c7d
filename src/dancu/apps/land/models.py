"""Rows of the land application (model 34 of Project 06): a land office's register of land-use
right certificates (GCN), its owners linked to their personal ID numbers by a cleaning job, and
the corrections the cleaning proposed, each accepted or rejected by an officer — the register's
cells as received are never overwritten (Land Law 2024 Art. 131–133 on registration; Decree
101/2024/NĐ-CP on land registration and certificates)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class LandOffice(models.Model):
    """An organisation acting as a land registration office (Văn phòng đăng ký đất đai)."""

    organisation_id = models.PositiveIntegerField(unique=True)

    def __str__(self) -> str:
        return str(self.organisation_id)


class LandRegister(models.Model):
    reference = models.CharField(max_length=32, unique=True)
    organisation_id = models.PositiveIntegerField()
    title = models.CharField(max_length=255)
    source_job = models.CharField(max_length=40)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organisation_id", "source_job"], name="land_register_source")
        ]

    def __str__(self) -> str:
        return self.reference


class LandRecord(models.Model):
    """One owner of one certificate as the register holds it, and what the cleaning found:
    the ID number (matched rows), the result, the flags (deceased, moved) and the problems."""

    register = models.ForeignKey(LandRegister, on_delete=models.CASCADE, related_name="records")
    row_no = models.PositiveIntegerField()
    certificate_no = models.CharField(max_length=64)
    parcel = models.CharField(max_length=64)
    owner_name = models.CharField(max_length=255)
    id_cell = models.CharField(max_length=64, blank=True)
    id_number = models.CharField(max_length=12, blank=True, db_index=True)
    result = models.CharField(max_length=16)
    flags = models.JSONField(default=list)

    class Meta:
        ordering = ["register", "row_no"]

    def __str__(self) -> str:
        return f"{self.certificate_no}#{self.row_no}"


class Correction(models.Model):
    """A correction the cleaning proposed (field, from, to, rule, the job it came from) and the
    officer's decision; accepting it records the corrected value beside the original."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Đề xuất / Proposed"
        ACCEPTED = "accepted", "Đã chấp nhận / Accepted"
        REJECTED = "rejected", "Không chấp nhận / Rejected"

    record = models.ForeignKey(LandRecord, on_delete=models.CASCADE, related_name="corrections")
    field = models.CharField(max_length=32)
    from_value = models.CharField(max_length=255)
    to_value = models.CharField(max_length=255)
    rule = models.CharField(max_length=64)
    source = models.CharField(max_length=40)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.record_id}:{self.field}"
