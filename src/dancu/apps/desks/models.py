"""Front-desk records: clinic encounters, kiosk devices, notarised acts and signed receipts.

Personal data is limited to what the verification released to the organisation's kind
(``identity.services.VERIFICATION_FIELDS``) plus the ID number of the card the person presented
(a clinic needs it for the health-insurance claim, a notary for the act). No image of a card is
ever stored: no photocopies of ID.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from dancu.blocks.organisations.models import Organisation


class KioskDevice(models.Model):
    """A self-service kiosk of a clinic. Its key is ``kd_<prefix>_<secret>``; only the SHA-256 of
    the secret is stored (the key is shown once, when the device is registered)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="kiosk_devices")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation", "name"]

    def __str__(self) -> str:
        return f"kiosk {self.prefix} ({self.name})"


class Encounter(models.Model):
    """A patient checked in at a clinic after a verification that matched."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Đang chờ / Waiting"
        IN_CONSULTATION = "in_consultation", "Đang khám / In consultation"
        DONE = "done", "Đã khám xong / Done"
        CANCELLED = "cancelled", "Đã huỷ / Cancelled"

    class Source(models.TextChoices):
        DESK = "desk", "Quầy tiếp đón / Reception desk"
        KIOSK = "kiosk", "Ki-ốt tự phục vụ / Self-service kiosk"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="encounters")
    receipt_id = models.UUIDField(unique=True)
    checked_in_at = models.DateTimeField(default=timezone.now)
    day = models.DateField()  # local date of the check-in (Asia/Ho_Chi_Minh), for the day's list
    queue_number = models.PositiveIntegerField()
    id_number = models.CharField(max_length=12)
    full_name = models.CharField(max_length=100)
    evidence_kind = models.CharField(max_length=8)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.DESK)
    kiosk = models.ForeignKey(KioskDevice, null=True, blank=True, on_delete=models.PROTECT)
    checked_in_by = models.CharField(max_length=150)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    # The last change of status (the whole history is in EncounterStatusChange).
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["day", "queue_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "day", "queue_number"], name="encounter_ticket_once"
            )
        ]
        indexes = [models.Index(fields=["organisation", "day"], name="encounter_org_day")]

    def __str__(self) -> str:
        return f"encounter {self.day} #{self.queue_number} ({self.status})"  # no personal data


class EncounterStatusChange(models.Model):
    """One change of an encounter's status: from what, to what, who made it and when."""

    encounter = models.ForeignKey(Encounter, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=Encounter.Status.choices)
    to_status = models.CharField(max_length=16, choices=Encounter.Status.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.CharField(max_length=150)
    changed_by_user_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"encounter {self.encounter_id}: {self.from_status} -> {self.to_status}"


class SignedReceipt(models.Model):
    """A verification receipt signed with the platform's Ed25519 key: ``document`` is the
    canonical JSON that was signed (receipt id, time, organisation, decision, released fields)."""

    receipt_id = models.UUIDField(unique=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="signed_receipts")
    document = models.TextField()
    signature = models.CharField(max_length=100)  # base64 of the 64-byte Ed25519 signature
    key_id = models.CharField(max_length=16)  # first 16 hex of the SHA-256 of the public key
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"signed receipt {self.receipt_id}"


class NotarisedAct(models.Model):
    """An act being notarised; each party is verified in front of the notary."""

    class ActType(models.TextChoices):
        SALE = "sale", "Hợp đồng mua bán / Contract of sale"
        GIFT = "gift", "Hợp đồng tặng cho / Deed of gift"
        MORTGAGE = "mortgage", "Hợp đồng thế chấp / Mortgage"
        LEASE = "lease", "Hợp đồng thuê / Lease"
        AUTHORISATION = "authorisation", "Hợp đồng uỷ quyền / Power of attorney"
        WILL = "will", "Di chúc / Will"
        OTHER = "other", "Khác / Other"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="notarised_acts")
    reference = models.CharField(max_length=40)
    act_type = models.CharField(max_length=16, choices=ActType.choices)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "reference"], name="notarised_act_reference_once")
        ]

    def __str__(self) -> str:
        return f"notarised act {self.reference}"


class NotarisedParty(models.Model):
    """A party of an act, verified (decision ``match``) with its signed receipt."""

    act = models.ForeignKey(NotarisedAct, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(max_length=60)
    receipt = models.OneToOneField(SignedReceipt, on_delete=models.PROTECT, related_name="party")
    id_number = models.CharField(max_length=12)
    full_name = models.CharField(max_length=100)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]

    def __str__(self) -> str:
        return f"party {self.pk} of act {self.act_id}"
