"""Kiosk devices of one-stop offices and the dossiers submitted at them.

A device key is ``ok_<prefix>_<secret>`` (``organisations.tokens``, the same key handling as the
clinics' kiosks and the API keys): only the SHA-256 of the secret is stored. A
``KioskSubmission`` records the channel of a dossier (the public services' ``Dossier`` keeps no
channel): which kiosk of which office submitted it — no personal data, the dossier has it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from dancu.blocks.organisations.models import Organisation


class OfficeKiosk(models.Model):
    """A self-service kiosk placed in a one-stop office (a ward police station or people's
    committee: Decision 06/QĐ-TTg, model 2) and bound to that office."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="office_kiosks")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation", "name"]
        verbose_name = "ki-ốt một cửa / one-stop office kiosk"

    def __str__(self) -> str:
        return f"kiosk {self.prefix} ({self.name})"


class KioskSubmission(models.Model):
    """A dossier submitted at a kiosk: the device and the office (for the receipt and audit)."""

    dossier_id = models.BigIntegerField(unique=True)
    tracking_code = models.CharField(max_length=20, unique=True)
    kiosk = models.ForeignKey(OfficeKiosk, on_delete=models.PROTECT, related_name="submissions")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    service_code = models.CharField(max_length=40)
    evidence_kind = models.CharField(max_length=8)  # how the citizen identified: qr | chip
    # How they proved they hold the card's eID account (ADR 0013, 3): chip (passive
    # authentication) | sms (a one-time code to the account's verified phone after a QR).
    possession = models.CharField(max_length=8, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at", "-pk"]

    def __str__(self) -> str:
        return self.tracking_code
