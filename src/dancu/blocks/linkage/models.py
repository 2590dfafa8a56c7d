"""Cleaning jobs: a sector file uploaded by an organisation, its rows and what matching found.

The rows hold personal data of the sector file and, for matched rows, a snapshot of the registry
fields the ``data.cleaning`` purpose allows (for the side-by-side review): they are read and
written only through ``linkage.services`` with an ``AccessContext``, by the organisation that
uploaded the file. Organisation and user are plain ids (no foreign keys across blocks).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class CleaningJob(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Đã tải lên"
        QUEUED = "queued", "Đang chờ"
        RUNNING = "running", "Đang chạy"
        DONE = "done", "Hoàn thành"
        FAILED = "failed", "Lỗi"

    reference = models.CharField(max_length=20)
    organisation_id = models.BigIntegerField()
    created_by_id = models.BigIntegerField(null=True, blank=True)
    created_by_label = models.CharField(max_length=150)
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    file_kind = models.CharField(max_length=4)  # csv | xlsx
    encoding = models.CharField(max_length=20, blank=True)
    columns = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    # the file's row count; a file over ``DANCU_CLEANING_WEB_MAX_ROWS`` is a **scale** job: its rows
    # stay in the Parquet staging file (``staged_file``, relative to ``DANCU_LINKAGE_MODEL_DIR``)
    # until the run stores them with their outcomes in one transaction (ADR 0012)
    row_count = models.PositiveIntegerField(default=0)
    scale = models.BooleanField(default=False)
    staged_file = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=40, blank=True)
    counts = models.JSONField(default=dict)
    model_version = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # the last sign of life of a queued or running job (queued, started, each progress step): a job
    # without one for ``DANCU_LINKAGE_STALE_MINUTES`` has lost its worker (``services.sweep``)
    progressed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["reference"], name="cleaning_job_reference_unique")]
        indexes = [models.Index(fields=["organisation_id", "file_sha256"], name="cleaning_job_org_file")]

    def __str__(self) -> str:
        return f"cleaning job {self.reference}"


class SectorRecord(models.Model):
    job = models.ForeignKey(CleaningJob, on_delete=models.CASCADE, related_name="records")
    row_no = models.PositiveIntegerField()
    cells = models.JSONField(default=list)  # the row as uploaded, one string per column
    decision = models.CharField(max_length=10, blank=True)
    method = models.CharField(max_length=10, blank=True)
    citizen_id = models.BigIntegerField(null=True, blank=True)
    match_weight = models.FloatField(null=True, blank=True)
    probability = models.FloatField(null=True, blank=True)
    explanation = models.JSONField(default=dict)
    candidate = models.JSONField(default=dict)
    corrections = models.JSONField(default=list)
    flags = models.JSONField(default=list)
    problems = models.JSONField(default=list)
    review = models.CharField(max_length=8, blank=True)  # accepted | rejected
    reviewed_by_label = models.CharField(max_length=150, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "row_no"], name="sector_record_row_unique")]
        indexes = [models.Index(fields=["job", "decision"], name="sector_record_decision")]

    def __str__(self) -> str:
        return f"row {self.row_no} of job {self.job_id}"
