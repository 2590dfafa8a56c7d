"""Enrolments of learner drivers, the checks made at each session and at the test, and who
looked an enrolment up from a test centre.

Organisations are referred to by id and name (as the identity block's ``VerificationRecord``
does): an application does not hold foreign keys into a block's tables. The learner's portrait is
never stored — only a SHA-256 of the chip's face image and a perceptual hash of it
(``faces.py``), enough to tell at a later session whether the chip shows the enrolled portrait.
"""

from __future__ import annotations

from django.db import models

# Licence classes of the Law on Road Traffic Order and Safety 2024 (36/2024/QH15) Art. 57, in force
# from 01/01/2025.
LICENCE_CLASSES = ("A1", "A", "B1", "B", "C1", "C", "D1", "D2", "D", "BE", "C1E", "CE", "D1E", "D2E", "DE")


class DrivingSite(models.Model):
    """What a driving_school organisation is for this application: a school (trains and enrols
    learners; the default when no row exists) or a test centre (tests learners of any school).
    Kept here because the organisation kind ``driving_school`` covers both."""

    class Role(models.TextChoices):
        SCHOOL = "school", "Cơ sở đào tạo lái xe / Driving school"
        TEST_CENTRE = "test_centre", "Trung tâm sát hạch lái xe / Test centre"

    organisation_id = models.BigIntegerField(unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.SCHOOL)

    def __str__(self) -> str:
        return f"organisation {self.organisation_id}: {self.role}"


class Enrolment(models.Model):
    """A learner enrolled by a school, identified by a verified card (the verification receipt)."""

    school_organisation_id = models.BigIntegerField(db_index=True)
    school_name = models.CharField(max_length=255)
    licence_class = models.CharField(max_length=4, choices=[(c, c) for c in LICENCE_CLASSES])
    course_start = models.DateField()
    course_end = models.DateField()
    # The card used, as the evidence showed it once the registry matched it.
    id_number = models.CharField(max_length=12, db_index=True)
    card_issued_on = models.DateField(null=True, blank=True)  # unknown for typed data without it
    # Released by the verification to a driving school (identity.services.VERIFICATION_FIELDS).
    full_name = models.CharField(max_length=100)
    date_of_birth = models.CharField(max_length=10)  # ISO 8601 to the known precision: 1985-03-02
    sex = models.CharField(max_length=1, blank=True)
    evidence_kind = models.CharField(max_length=8)
    receipt_id = models.CharField(max_length=36)
    # Face reference (chip with DG2 only): the photo itself is NOT stored.
    face_sha256 = models.CharField(max_length=64, blank=True)
    face_dhash = models.CharField(max_length=64, blank=True)  # 256-bit difference hash, hex
    enrolled_by_user_id = models.BigIntegerField(null=True)
    enrolled_by = models.CharField(max_length=150)
    enrolled_at = models.DateTimeField()

    class Meta:
        ordering = ["-enrolled_at", "-id"]
        indexes = [models.Index(fields=["id_number", "licence_class"], name="driving_enrol_id_class")]

    def __str__(self) -> str:
        return f"enrolment {self.pk} ({self.licence_class}) at {self.school_name}"


class EnrolmentGuard(models.Model):
    """One row per card number and licence class that was ever enrolled: the row an enrolment
    locks (``SELECT … FOR UPDATE``) before it looks for overlapping enrolments, so that two
    schools enrolling the same card at the same moment are serialised — the second sees the
    first's enrolment and is refused with ``double_enrolment``. The unique constraint makes the
    creation of the row itself safe: of two concurrent inserts one waits, then fails and locks
    the row the other created. Holds no personal data beyond the number already in ``Enrolment``."""

    id_number = models.CharField(max_length=12)
    licence_class = models.CharField(max_length=4)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["id_number", "licence_class"], name="driving_guard_once")
        ]

    def __str__(self) -> str:
        return f"enrolment guard {self.pk}"  # no personal data


class SessionCheck(models.Model):
    """A verification of the learner at a training session or at the test, and its outcome."""

    class Kind(models.TextChoices):
        THEORY = "theory", "Lý thuyết / Theory"
        SIMULATOR = "simulator", "Cabin mô phỏng / Simulator"
        ON_ROAD = "on_road", "Thực hành trên đường / On-road"
        TEST = "test", "Sát hạch / Test"

    class Outcome(models.TextChoices):
        PASSED = "passed", "Đạt / Passed"
        WARNING = "warning", "Cảnh báo / Warning"
        FLAGGED = "flagged", "Nghi vấn học thay, thi hộ / Impersonation suspected"

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="checks")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    instructor = models.CharField(max_length=100, blank=True)
    checked_at = models.DateTimeField()
    organisation_id = models.BigIntegerField()
    organisation_name = models.CharField(max_length=255)
    actor_user_id = models.BigIntegerField(null=True)
    actor_label = models.CharField(max_length=150)
    evidence_kind = models.CharField(max_length=8)
    receipt_id = models.CharField(max_length=36)
    decision = models.CharField(max_length=32)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    # [{"code", "severity", "message_vi", "message_en", "field", "detail"}]; no personal data.
    findings = models.JSONField(default=list)
    face_distance = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} check of enrolment {self.enrolment_id}: {self.outcome}"


class EnrolmentLookup(models.Model):
    """A test centre looked up an enrolment by ID number to verify the learner at the test."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="lookups")
    organisation_id = models.BigIntegerField(db_index=True)
    organisation_name = models.CharField(max_length=255)
    actor_user_id = models.BigIntegerField(null=True)
    actor_label = models.CharField(max_length=150)
    purpose = models.CharField(max_length=64)
    looked_up_at = models.DateTimeField()

    class Meta:
        ordering = ["-looked_up_at", "-id"]

    def __str__(self) -> str:
        return f"lookup of enrolment {self.enrolment_id} by {self.organisation_name}"
