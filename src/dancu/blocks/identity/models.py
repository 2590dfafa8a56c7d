"""Verification receipts: one row per verification decided (``services.verify``).

Plain ids, not foreign keys, for the organisation, the actor and the citizen, as in the audit
log: a receipt outlives users and organisations. Personal data is held only in ``response`` and
only for the idempotency window (the stored answer of a ``data``-mode request, so that a retry
gets the same answer without a second read); ``services.purge_replay_data`` empties it after.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class VerificationRecord(models.Model):
    class Evidence(models.TextChoices):
        QR = "qr", "Mã QR trên thẻ / Card QR code"
        CHIP = "chip", "Chip (ICAO 9303) / Chip read"
        MRZ = "mrz", "Vùng đọc máy (MRZ) / Machine-readable zone"
        TYPED = "typed", "Nhập tay / Typed by staff"

    class Mode(models.TextChoices):
        YES_NO = "yes_no", "Có/không / Yes or no"
        DATA = "data", "Dữ liệu tối thiểu / Minimum data"

    class Decision(models.TextChoices):
        MATCH = "match", "Khớp / Match"
        NO_MATCH = "no_match", "Không khớp / No match"
        CARD_NOT_VALID = "card_not_valid", "Thẻ không còn giá trị / Card not valid"
        DECEASED = "deceased", "Người đã mất / Holder deceased"
        INVALID_EVIDENCE = "invalid_evidence", "Giấy tờ không hợp lệ / Invalid evidence"

    receipt_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    organisation_id = models.BigIntegerField(null=True, blank=True)
    organisation_name = models.CharField(max_length=255, blank=True)
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150)
    api_key_id = models.BigIntegerField(null=True, blank=True)
    purpose = models.CharField(max_length=64)
    case_reference = models.CharField(max_length=100, blank=True)
    evidence_kind = models.CharField(max_length=8, choices=Evidence.choices)
    mode = models.CharField(max_length=8, choices=Mode.choices)
    decision = models.CharField(max_length=20, choices=Decision.choices)
    reason_codes = models.JSONField(default=list, blank=True)
    name_score = models.FloatField(null=True, blank=True)
    subject_citizen_id = models.BigIntegerField(null=True, blank=True)
    # Idempotency: the client's request id (unique per organisation while not empty; emptied after
    # the window) and the SHA-256 of the request, to tell a retry from a conflicting reuse of the id.
    request_id = models.CharField(max_length=64, blank=True)
    request_sha256 = models.CharField(max_length=64, blank=True)
    response = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation_id", "request_id"],
                condition=~models.Q(request_id=""),
                name="verification_request_once",
            )
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"verification {self.receipt_id} ({self.decision})"  # no personal data in str()


class MasterListImport(models.Model):
    """One CSCA master list imported (ICAO Doc 9303 part 12 §9): who signed it, when, its digest.

    Written only after the list's signature verified against a configured master-list trust
    anchor (``foreign_trust.import_master_list``); a refused list leaves no row."""

    imported_at = models.DateTimeField(default=timezone.now)
    sha256 = models.CharField(max_length=64)
    source_name = models.CharField(max_length=255, blank=True)
    signer_subject = models.CharField(max_length=500)
    csca_count = models.PositiveIntegerField(default=0)
    added_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    actor_label = models.CharField(max_length=150)

    class Meta:
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"master list {self.sha256[:12]} ({self.csca_count} CSCAs)"


class ForeignCsca(models.Model):
    """A foreign state's CSCA certificate trusted for passport chips (passive authentication of
    foreign passports; ADR 0017 §10). ``country`` is the certificate's countryName (alpha-2);
    ``issuing_state`` the MRZ code it answers for (``chip.countries``), empty when unknown."""

    fingerprint = models.CharField(max_length=64, unique=True)  # SHA-256 of the DER, hex
    country = models.CharField(max_length=2, db_index=True)
    issuing_state = models.CharField(max_length=3, db_index=True, blank=True)
    subject = models.CharField(max_length=500)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    der = models.BinaryField()
    master_list = models.ForeignKey(MasterListImport, on_delete=models.PROTECT, related_name="cscas")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["country", "not_before", "id"]

    def __str__(self) -> str:
        return f"CSCA {self.country} {self.fingerprint[:12]}"


class ForeignCrl(models.Model):
    """The newest CRL of one foreign CSCA (ICAO Doc 9303 part 12 §7; ADR 0017 §12).

    Written by ``foreign_trust.import_crls`` only after the CRL's signature verified with this
    CSCA's key; replaced only by a CRL with a higher cRLNumber (an older list, which could drop a
    revocation, is never put back). ``crl_number`` is the decimal cRLNumber (up to 20 octets, wider
    than a bigint). The revoked serials are read from ``der`` at each check."""

    csca = models.OneToOneField(ForeignCsca, on_delete=models.PROTECT, related_name="crl")
    crl_number = models.CharField(max_length=50)
    this_update = models.DateTimeField()
    next_update = models.DateTimeField()
    revoked_count = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    der = models.BinaryField()
    source_name = models.CharField(max_length=255, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)
    actor_label = models.CharField(max_length=150)

    class Meta:
        ordering = ["csca_id"]

    def __str__(self) -> str:
        return f"CRL {self.crl_number} of CSCA {self.csca_id}"


class ChipChallenge(models.Model):
    """A one-time Active Authentication challenge (ICAO Doc 9303 part 11 §6.1) issued to an
    organisation for its next chip read (``services.issue_chip_challenge``): the chip signs the 8
    bytes, and the verification that names the challenge takes the row away (ADR 0017 §14, its
    amendment for the verification API). Rows older than ``services.CHIP_CHALLENGE_TTL`` are
    refused and purged; no personal data."""

    challenge_id = models.CharField(max_length=32, primary_key=True)
    nonce = models.BinaryField(max_length=8)
    organisation_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"chip challenge of organisation {self.organisation_id}"
