"""Electronic identification accounts (Decree 69/2024/NĐ-CP) and their factors.

Personal data kept here is the least an account needs: the ID number (the log-in name), the
registry's citizen id, the phone and optional e-mail for one-time codes. The face photo of a
registration is kept as a SHA-256, a dHash and a small greyscale thumbnail for the approver; the
thumbnail is cleared when the registration is decided.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Account(models.Model):
    """A citizen's electronic identification account (one per ID number)."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending approval"
        ACTIVE = "active", "active"
        REJECTED = "rejected", "rejected"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="eid_account"
    )
    id_number = models.CharField(max_length=12, unique=True)
    citizen_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    ward_code = models.CharField(max_length=10, blank=True, db_index=True)
    # 0 while pending; 1 or 2 (Decree 69/2024 Art. 12–13).
    level = models.PositiveSmallIntegerField(default=0)
    # The highest level the holder is eligible for by age (domain-vn §4): 1 under 6, else 2.
    max_level = models.PositiveSmallIntegerField(default=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Set after too many failed log-ins (NIST SP 800-63B §5.2.2); cleared by recovery.
    locked_at = models.DateTimeField(null=True, blank=True)
    phone = models.CharField(max_length=15)
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    level2_at = models.DateTimeField(null=True, blank=True)
    level2_by_user_id = models.BigIntegerField(null=True, blank=True)
    level2_by_label = models.CharField(max_length=150, blank=True)
    level2_organisation_name = models.CharField(max_length=200, blank=True)
    level2_receipt = models.CharField(max_length=64, blank=True)
    # What the level-2 activation rested on (ADR 0017 §10): "chip" (a citizen's card or a passport
    # chip that passed passive authentication) or "passport_mrz_optical" (the passport's MRZ read
    # optically and the officer's face check; weaker). Empty on activations before eid/0009.
    level2_evidence = models.CharField(max_length=32, blank=True)
    # Why a passport of a state with a trusted CSCA was accepted without its chip: only
    # "chip_unreadable", recorded by the officer (ADR 0017 §10); empty otherwise.
    level2_chip_reason = models.CharField(max_length=32, blank=True)
    # A child's account registered and managed by a parent with a level-2 account (Decree
    # 69/2024 Art. 7; ADR 0017): no password of its own until 14, the parent presents it.
    guardian = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="wards"
    )
    guardian_relationship = models.CharField(max_length=10, blank=True)  # father / mother / guardian
    # The child's 14th birthday (from the registry's date of birth): the management ends that day
    # and the account passes to the holder (Decree 69/2024 Art. 7; ``family.hand_over``).
    managed_until = models.DateField(null=True, blank=True, db_index=True)
    # When the management ended at 14; the holder then claims the account (``family.claim_own_account``).
    handed_over_at = models.DateTimeField(null=True, blank=True)
    # A foreign resident's account (no ID number: ``id_number`` holds nationality + passport).
    foreign_resident = models.OneToOneField(
        "ForeignResident", null=True, blank=True, on_delete=models.PROTECT, related_name="account"
    )

    class Meta:
        verbose_name = "eID account"

    def __str__(self) -> str:
        return f"eID account {self.pk} (level {self.level}, {self.status})"


class Registration(models.Model):
    """A level-1 application waiting for (or given) a decision."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        APPROVED = "approved", "approved"
        REJECTED = "rejected", "rejected"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="registrations")
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    ward_code = models.CharField(max_length=10, blank=True, db_index=True)
    match_decision = models.CharField(max_length=20)
    exact_match = models.BooleanField(default=False)
    face_sha256 = models.CharField(max_length=64)
    face_dhash = models.CharField(max_length=64)
    thumbnail = models.BinaryField(null=True, blank=True)  # 64×64 greyscale PNG, cleared on decision
    auto_approved = models.BooleanField(default=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by_user_id = models.BigIntegerField(null=True, blank=True)
    decided_by_label = models.CharField(max_length=150, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)
    # A holder's claim at 14 of the account a parent or guardian managed (``family.claim_own_account``):
    # approved only in person, at level 2 (ADR 0017, amendment); a rejection takes back its password.
    is_claim = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"eID registration {self.pk} ({self.status})"


class TotpDevice(models.Model):
    """An authenticator app (RFC 6238). The secret is encrypted (``crypto.seal``)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="eid_totp")
    secret_sealed = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_counter = models.BigIntegerField(default=-1)  # the last time step used: no replay

    def __str__(self) -> str:
        return f"authenticator app of user {self.user_id}"


class OneTimeCode(models.Model):
    """A code sent by SMS or e-mail: stored hashed, single use, expiring, with limited attempts."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="eid_codes")
    purpose = models.CharField(max_length=20)
    channel = models.CharField(max_length=5)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"one-time code {self.pk} ({self.purpose})"


class QrChallenge(models.Model):
    """A VNeID-style QR log-in: shown by a browser, approved on the citizen's logged-in device."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        APPROVED = "approved", "approved"
        DENIED = "denied", "denied"
        USED = "used", "used"

    token_hash = models.CharField(max_length=64, unique=True)
    session_hash = models.CharField(max_length=64)  # the browser session that asked
    browser = models.CharField(max_length=120, blank=True)
    site = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    decided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"QR challenge {self.pk} ({self.status})"


class LoginSession(models.Model):
    """One log-in session, listed to its owner who may revoke it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="eid_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    browser = models.CharField(max_length=120, blank=True)
    acr = models.CharField(max_length=40, blank=True)
    amr = models.CharField(max_length=60, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"session {self.pk} of user {self.user_id}"


class Throttle(models.Model):
    """Failed log-ins per account or per client address (keys are SHA-256, no personal data)."""

    key = models.CharField(max_length=64, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_failure = models.DateTimeField(null=True, blank=True)
    blocked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"throttle {self.key[:8]}… ({self.failures} failures)"


class Enterprise(models.Model):
    """An organisation's eID account (Decree 69/2024 Art. 12 cl. 3): the enterprise, its code and
    head office, and a legal representative who holds a level-2 account."""

    name = models.CharField(max_length=200)
    enterprise_code = models.CharField(max_length=14, unique=True)
    head_office = models.CharField(max_length=300)
    representative = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="represents")
    # The platform organisation its staff join: set only once the link is approved by an
    # administrator of that organisation (or of the platform), or when the representative is one.
    organisation = models.ForeignKey(
        "organisations.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The organisation the representative asked to be linked to, waiting for that approval.
    requested_organisation = models.ForeignKey(
        "organisations.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    link_approved_at = models.DateTimeField(null=True, blank=True)
    link_approved_by_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"enterprise {self.enterprise_code}"


class EnterpriseStaff(models.Model):
    """A staff account of an enterprise (hotel front desk, clinic reception…)."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="staff")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="eid_staff")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"staff account {self.user_id} of enterprise {self.enterprise_id}"


class Level2Request(models.Model):
    """A holder's request to be raised to level 2 (Decree 69/2024/NĐ-CP Art. 13, 16), waiting in
    the queue of the commune police of their ward until they come to the desk with their card;
    activation (``services.activate_level2``) closes it. ``reference`` names the channel's case
    (e.g. the public-service dossier) and makes the request idempotent."""

    class Status(models.TextChoices):
        PENDING = "pending", "Chờ đến quầy / Waiting for the visit"
        ACTIVATED = "activated", "Đã kích hoạt / Activated"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="level2_requests")
    ward_code = models.CharField(max_length=10, db_index=True)
    appointment = models.DateField()
    reference = models.CharField(max_length=40, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"level-2 request {self.reference}"


class ForeignResident(models.Model):
    """A foreigner holding a permanent or temporary residence card (thẻ thường trú / tạm trú, Law
    on Entry, Exit, Transit and Residence of Foreigners 2014 as amended 2019), as the immigration
    database reports them. The national population database holds Vietnamese citizens only, so
    this is the small source the eID block matches foreigners against (ADR 0017). Least data:
    the passport (TD3) fields the MRZ carries, the card, the ward."""

    class CardKind(models.TextChoices):
        PERMANENT = "permanent", "Thẻ thường trú / permanent residence card"
        TEMPORARY = "temporary", "Thẻ tạm trú / temporary residence card"

    nationality = models.CharField(max_length=3)  # ICAO 9303 part 3 §5 three-letter code
    passport_number = models.CharField(max_length=9)
    passport_expires_on = models.DateField()
    surname = models.CharField(max_length=80)
    given_names = models.CharField(max_length=80, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1)
    card_kind = models.CharField(max_length=10, choices=CardKind.choices)
    card_number = models.CharField(max_length=20, unique=True)
    card_valid_from = models.DateField()
    card_valid_until = models.DateField()
    ward_code = models.CharField(max_length=10, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["nationality", "passport_number"], name="foreign_resident_passport"
            )
        ]

    def __str__(self) -> str:
        return f"foreign resident {self.pk}"


class PresentationUse(models.Model):
    """The nonce of a child's presentation QR (``family.presentation_token``), recorded when the QR
    is first verified: the unique nonce makes each QR single-use, so a copy (a photo of the screen,
    a QR left at a hotel desk) cannot be presented again within its five minutes. Rows older than
    a token's lifetime are of no use and are deleted by ``family.verify_presentation``."""

    nonce = models.CharField(max_length=32, unique=True)
    used_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"presentation {self.nonce}"


class GuardianPeriod(models.Model):
    """Who managed a child's account and when (a parent or a guardian, ADR 0017), and what they did
    with it — counted from the audit log when the period ends, so that the holder sees at 14 who
    acted for them. Never deleted."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="guardian_periods")
    manager = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    relationship = models.CharField(max_length=10)  # father / mother / guardian
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    # age_14 (hand-over), authority_ended (registry: restriction, guardianship ended), taken_over
    end_reason = models.CharField(max_length=20, blank=True)
    presentations = models.PositiveIntegerField(default=0)
    history_views = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"guardian period {self.pk} of account {self.account_id}"
