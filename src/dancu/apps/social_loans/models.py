"""Rows of the social-policy loans application (model 20 of Project 06).

The application keeps what is its own: the programmes of the Vietnam Bank for Social Policies and
their eligibility rules as versioned data, the commune lists (poor, near-poor, people with merit)
imported from cleaning jobs, the bank's loan book ("already borrowing") and each decision with its
per-rule reasons. Registry facts (residence, life status, household) are never stored here: they
are fetched through the data-exchange gateway at decision time (ADR 0010, ADR 0015).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Participant(models.Model):
    """An organisation taking part, and as what: the department that compiles and cleans the
    commune lists (Sở LĐTBXH / Sở Nội vụ), or the lender (a branch of the social-policy bank)."""

    class Role(models.TextChoices):
        LIST_OWNER = "list_owner", "Đơn vị lập danh sách / List owner"
        LENDER = "lender", "Ngân hàng Chính sách xã hội / Lender"

    organisation_id = models.PositiveIntegerField()
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation_id", "role"], name="social_loans_participant_role")
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}:{self.role}"


class Programme(models.Model):
    """A lending programme of the social-policy bank (Decree 78/2002/NĐ-CP Art. 2 and the Prime
    Minister's decisions that created each programme)."""

    code = models.CharField(max_length=40, unique=True)
    name_vi = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255)
    legal_basis = models.CharField(max_length=500)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class RuleSet(models.Model):
    """One version of a programme's eligibility rules (a JSON list, validated by
    ``rules.validate``); the highest version is in force. Decisions name the version they used."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="rule_sets")
    version = models.PositiveIntegerField()
    rules = models.JSONField()
    note = models.CharField(max_length=255, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["programme__code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "version"], name="social_loans_ruleset_version")
        ]

    def __str__(self) -> str:
        return f"{self.programme_id} v{self.version}"


class BeneficiaryList(models.Model):
    """A commune's list (poor, near-poor households, people with merit) for one year, imported from
    a finished cleaning job of the list owner (its reference kept as provenance)."""

    reference = models.CharField(max_length=32, unique=True)
    organisation_id = models.PositiveIntegerField()
    ward_code = models.CharField(max_length=5)
    year = models.PositiveIntegerField()
    title = models.CharField(max_length=255)
    source_job = models.CharField(max_length=40)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organisation_id", "source_job"], name="social_loans_list_source")
        ]

    def __str__(self) -> str:
        return self.reference


class ListEntry(models.Model):
    """One row of a list: the person, the ID number the cleaning attached (empty when the row could
    not be matched), the household the status belongs to and the status."""

    class Status(models.TextChoices):
        POOR = "poor", "Hộ nghèo / Poor household"
        NEAR_POOR = "near_poor", "Hộ cận nghèo / Near-poor household"
        ESCAPED = "escaped", "Hộ mới thoát nghèo / Household newly escaped poverty"
        MERIT = "merit", "Người có công / Person with merit"

    beneficiary_list = models.ForeignKey(BeneficiaryList, on_delete=models.CASCADE, related_name="entries")
    row_no = models.PositiveIntegerField()
    full_name = models.CharField(max_length=255)
    id_number = models.CharField(max_length=12, blank=True, db_index=True)
    household_head_id_number = models.CharField(max_length=12, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    cleaning_result = models.CharField(max_length=16)

    class Meta:
        ordering = ["beneficiary_list", "row_no"]

    def __str__(self) -> str:
        return f"{self.beneficiary_list_id}#{self.row_no}"


class Loan(models.Model):
    """The lender's loan book: a loan outstanding under a programme (rule ``not_borrowing``)."""

    class Status(models.TextChoices):
        OUTSTANDING = "outstanding", "Đang vay / Outstanding"
        REPAID = "repaid", "Đã trả hết / Repaid"

    organisation_id = models.PositiveIntegerField()
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="loans")
    id_number = models.CharField(max_length=12, db_index=True)
    amount_vnd = models.PositiveBigIntegerField()
    disbursed_on = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OUTSTANDING)

    def __str__(self) -> str:
        return f"{self.programme_id}:{self.pk}"


class Decision(models.Model):
    """An eligibility decision: yes/no, each rule's outcome with its reason code, the rule-set
    version, who asked, and the gateway messages that carried the registry facts."""

    reference = models.CharField(max_length=32, unique=True)
    organisation_id = models.PositiveIntegerField()
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="decisions")
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="decisions")
    entry = models.ForeignKey(ListEntry, null=True, blank=True, on_delete=models.SET_NULL)
    id_number = models.CharField(max_length=12, db_index=True)
    eligible = models.BooleanField()
    reasons = models.JSONField()
    exchange_messages = models.JSONField(default=list)
    asked_by = models.CharField(max_length=150)
    # the lender that asked and received the answer (the recipient organisation), as named when it
    # asked: shown on the bank officer's page and in the citizen's access history
    recipient_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.reference
