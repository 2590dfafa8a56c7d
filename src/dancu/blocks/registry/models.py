"""Registry tables.

Ward codes are stored as plain codes (not foreign keys): ``*_legacy_ward_code`` for the units
before 01/07/2025 (as printed on cards), ``*_ward_code`` for the current units (Resolution
202/2025/QH15). Lookups go by ID number so that the tables can be distributed by it (Citus)
without rewriting queries (ADR 0003).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ImportBatch(models.Model):
    """A bulk load (e.g. the synthetic seed): the revision record of every citizen it created."""

    kind = models.CharField(max_length=32)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.BigIntegerField(default=0)
    seed = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=150)
    legal_basis = models.CharField(max_length=255)
    note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"batch {self.pk} ({self.kind}, {self.rows} rows)"


class Household(models.Model):
    """A household (hộ gia đình) registered at one permanent address."""

    household_number = models.CharField(max_length=20)
    address_text = models.CharField(max_length=255)
    legacy_ward_code = models.CharField(max_length=5, blank=True)
    ward_code = models.CharField(max_length=5, blank=True)
    created_batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # Plain B-tree indexes: lookups are by equality only, so PostgreSQL needs no extra
        # pattern-ops ("_like") index, which ``unique=True``/``db_index=True`` would add.
        constraints = [models.UniqueConstraint(fields=["household_number"], name="household_number_unique")]
        indexes = [models.Index(fields=["ward_code"], name="household_ward")]

    def __str__(self) -> str:
        return f"household {self.household_number}"


class Citizen(models.Model):
    class Sex(models.TextChoices):
        MALE = "M", "Nam"
        FEMALE = "F", "Nữ"

    class DobPrecision(models.TextChoices):
        DAY = "day", "ngày/tháng/năm"
        MONTH = "month", "tháng/năm"
        YEAR = "year", "năm"

    class LifeStatus(models.TextChoices):
        ALIVE = "alive", "Còn sống"
        DECEASED = "deceased", "Đã mất"
        MISSING = "missing", "Mất tích"

    class Relationship(models.TextChoices):
        HEAD = "head", "Chủ hộ"
        SPOUSE = "spouse", "Vợ/Chồng"
        CHILD = "child", "Con"
        PARENT = "parent", "Bố/Mẹ"
        GRANDCHILD = "grandchild", "Cháu"
        SIBLING = "sibling", "Anh/Chị/Em"
        OTHER = "other", "Khác"

    id_number = models.CharField(max_length=12)
    full_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=40, blank=True)
    middle_name = models.CharField(max_length=60, blank=True)
    given_name = models.CharField(max_length=40)
    name_folded = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    dob_precision = models.CharField(max_length=5, choices=DobPrecision.choices, default=DobPrecision.DAY)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    nationality = models.CharField(max_length=2, default="VN")
    ethnicity = models.CharField(max_length=40, default="Kinh")
    religion = models.CharField(max_length=40, blank=True)
    birth_registration_code = models.CharField(max_length=3)
    origin_text = models.CharField(max_length=255, blank=True)
    origin_legacy_ward_code = models.CharField(max_length=5, blank=True)
    permanent_address_text = models.CharField(max_length=255, blank=True)
    permanent_legacy_ward_code = models.CharField(max_length=5, blank=True)
    permanent_ward_code = models.CharField(max_length=5, blank=True)
    permanent_province_code = models.CharField(max_length=2, blank=True)
    temporary_address_text = models.CharField(max_length=255, blank=True)
    temporary_ward_code = models.CharField(max_length=5, blank=True)
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="members", db_index=True
    )
    relationship_to_head = models.CharField(max_length=12, choices=Relationship.choices, blank=True)
    # Parent and spouse links are followed from the citizen, never searched backwards on a hot
    # path: no index (each index costs every bulk load; ADR 0003).
    father = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    mother = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    spouse = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    life_status = models.CharField(max_length=8, choices=LifeStatus.choices, default=LifeStatus.ALIVE)
    date_of_death = models.DateField(null=True, blank=True)
    version = models.IntegerField(default=1)
    created_batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["id_number"], name="citizen_id_number_unique")]
        indexes = [
            models.Index(fields=["name_folded", "date_of_birth"], name="citizen_name_dob"),
            models.Index(fields=["permanent_ward_code"], name="citizen_perm_ward"),
            models.Index(fields=["date_of_birth", "name_folded"], name="citizen_dob_name"),
        ]

    def __str__(self) -> str:
        return f"citizen {self.pk}"


class OldIdNumber(models.Model):
    """An old identity-card number (CMND: 9 digits, or 12 digits issued 2012–2016)."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="old_id_numbers")
    number = models.CharField(max_length=12)
    issued_on = models.DateField(null=True, blank=True)
    issue_place = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [models.Index(fields=["number"], name="old_id_number")]

    def __str__(self) -> str:
        return f"old id number of citizen {self.citizen_id}"  # no personal data in str()


class IdNumberChange(models.Model):
    """A previous 12-digit number of a citizen (the number can change, e.g. after a change of sex)."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="id_number_history")
    old_number = models.CharField(max_length=12)
    new_number = models.CharField(max_length=12)
    changed_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=255)

    class Meta:
        indexes = [models.Index(fields=["old_number"], name="id_change_old_number")]

    def __str__(self) -> str:
        return f"id number change of citizen {self.citizen_id}"


class IdentityCard(models.Model):
    """A card issued to the citizen (CCCD with chip 2021, or căn cước 2024)."""

    class Kind(models.TextChoices):
        CCCD_CHIP = "cccd_chip", "CCCD gắn chip (2021)"
        CAN_CUOC = "can_cuoc", "Thẻ căn cước (2024)"
        CMND = "cmnd", "CMND"

    class Status(models.TextChoices):
        VALID = "valid", "Còn hiệu lực"
        REPLACED = "replaced", "Đã được thay thế"
        LOST = "lost", "Báo mất"
        REVOKED = "revoked", "Thu hồi"

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="cards")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    card_number = models.CharField(max_length=12)
    issued_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)  # null: no expiry (issued after age 60)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.VALID)

    class Meta:
        indexes = [models.Index(fields=["card_number"], name="card_number")]

    def __str__(self) -> str:
        return f"{self.kind} card of citizen {self.citizen_id} ({self.status})"


class CitizenRevision(models.Model):
    """One change to a citizen's record: never a silent overwrite."""

    class Action(models.TextChoices):
        REGISTER = "register", "Đăng ký"
        CORRECT = "correct", "Điều chỉnh thông tin"
        MOVE = "move", "Thay đổi nơi thường trú"
        TEMPORARY = "temporary", "Đăng ký tạm trú"
        DEATH = "death", "Khai tử"
        ID_CHANGE = "id_change", "Thay đổi số định danh"

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="revisions")
    version = models.IntegerField()
    action = models.CharField(max_length=12, choices=Action.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=150)
    organisation_name = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=500)
    legal_basis = models.CharField(max_length=255)
    changes = models.JSONField(default=dict)  # {field: [old, new]}

    class Meta:
        constraints = [models.UniqueConstraint(fields=["citizen", "version"], name="revision_unique_version")]
        ordering = ["citizen", "-version"]

    def __str__(self) -> str:
        return f"revision {self.version} of citizen {self.citizen_id}"


class Guardianship(models.Model):
    """A minor's guardian (giám hộ, Civil Code 2015 Art. 46–62) as registered with the civil-status
    authority (Civil Code Art. 46 cl. 3; Law on Civil Status 2014 Art. 20–23): who, for whom, of
    which kind, since when, on what record and at which commune. Never deleted: an ended
    guardianship keeps its row with ``ended_on`` and the reason (Art. 62)."""

    class Kind(models.TextChoices):
        DE_JURE = "de_jure", "Giám hộ đương nhiên (BLDS 2015 Điều 52) / guardian by law"
        APPOINTED = "appointed", "Giám hộ được cử, chỉ định (BLDS 2015 Điều 54) / appointed guardian"

    ward = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="guardianships")
    guardian = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    record_number = models.CharField(max_length=80)  # civil-status registration or decision number
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)
    reason = models.CharField(max_length=500)
    legal_basis = models.CharField(max_length=255)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by_user_id = models.BigIntegerField(null=True, blank=True)
    recorded_by_label = models.CharField(max_length=150)
    organisation_name = models.CharField(max_length=255, blank=True)
    # The commune where it was registered (current ward code): the ward's or the guardian's place
    # of residence (Law on Civil Status 2014 Art. 19); its officer may end it
    # (Art. 22 cl. 1) and read it. Empty for rows recorded before registry/0006 (then only the
    # ward's commune recorded) and for the system or an officer without a ward (a province's).
    registered_ward_code = models.CharField(max_length=5, blank=True, default="")

    def __str__(self) -> str:
        return f"guardianship {self.pk} of citizen {self.ward_id}"


class ParentalRestriction(models.Model):
    """A court decision restricting a parent's rights over their minor child (Marriage and Family
    Law 2014 Art. 85–87): while it is in force the parent does not act for the child. Never
    deleted: a decision lifted early keeps its row with ``lifted_on``."""

    child = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="parental_restrictions")
    parent = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=80)  # the court's decision number
    # The decision's date and court (required by the officer's desk and the API; empty on rows
    # recorded before registry/0004).
    decided_on = models.DateField(null=True, blank=True)
    court = models.CharField(max_length=200, blank=True)
    restricted_from = models.DateField()
    restricted_until = models.DateField(null=True, blank=True)
    # Lifted early by a court decision (the article is to verify, ADR 0017 §2b): from that day, with the
    # lifting decision's number, date and court and who recorded it.
    lifted_on = models.DateField(null=True, blank=True)
    lift_decision = models.CharField(max_length=80, blank=True)
    lift_decided_on = models.DateField(null=True, blank=True)
    lift_court = models.CharField(max_length=200, blank=True)
    lift_reason = models.CharField(max_length=500, blank=True)
    lift_recorded_by_label = models.CharField(max_length=150, blank=True)
    reason = models.CharField(max_length=500)
    legal_basis = models.CharField(max_length=255)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by_user_id = models.BigIntegerField(null=True, blank=True)
    recorded_by_label = models.CharField(max_length=150)
    organisation_name = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"parental restriction {self.pk} of citizen {self.child_id}"
