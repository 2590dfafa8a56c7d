"""Rows of sector digitisation (model 35 of Project 06): sector registries whose schema an
administrator defines as data (the GovStack Digital Registries building block's "create and
configure the schema of the register"), and their records, each naming a person by the 12-digit ID
number verified against the population registry through the data-exchange gateway."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class SectorRegistry(models.Model):
    code = models.CharField(max_length=40)
    version = models.CharField(max_length=10, default="1.0")
    name_vi = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255)
    organisation_id = models.PositiveIntegerField()
    # [{"name": "Employer", "type": "string", "required": true, "label_vi": "Nơi làm việc"}, …]
    schema = models.JSONField()
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code", "version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="sector_registry_version")]

    def __str__(self) -> str:
        return f"{self.code}/{self.version}"


class SectorEntry(models.Model):
    registry = models.ForeignKey(SectorRegistry, on_delete=models.PROTECT, related_name="entries")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    id_number = models.CharField(max_length=12)
    full_name = models.CharField(max_length=255)
    date_of_birth = models.DateField()
    content = models.JSONField(default=dict)
    # The gateway message that verified the person (signed and logged, ADR 0010).
    verified_by_message = models.PositiveBigIntegerField()
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["registry", "-updated_at"]
        constraints = [models.UniqueConstraint(fields=["registry", "id_number"], name="sector_entry_person")]

    def __str__(self) -> str:
        return str(self.uuid)
