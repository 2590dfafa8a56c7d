"""Organisations and staff memberships."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Organisation(models.Model):
    class Kind(models.TextChoices):
        POLICE_CITY = "police_city", "Công an thành phố / City police"
        POLICE_COMMUNE = "police_commune", "Công an xã, phường / Commune police"
        PEOPLES_COMMITTEE = "committee", "UBND / People's committee"
        DEPARTMENT = "department", "Sở, ngành / City department"
        HOTEL = "hotel", "Cơ sở lưu trú / Accommodation"
        CLINIC = "clinic", "Cơ sở y tế / Medical facility"
        NOTARY = "notary", "Tổ chức hành nghề công chứng / Notary"
        BUSINESS = "business", "Doanh nghiệp / Business"
        # Establishments that must check who they serve (Decree 96/2016/NĐ-CP: businesses with
        # security and order conditions; Circular 04/2022/TT-BGTVT on driving tests).
        PAWN_SHOP = "pawn_shop", "Cơ sở kinh doanh dịch vụ cầm đồ / Pawn shop"
        SECURITY_FIRM = "security_firm", "Doanh nghiệp kinh doanh dịch vụ bảo vệ / Security services firm"
        DRIVING_SCHOOL = "driving_school", "Cơ sở đào tạo, sát hạch lái xe / Driving school or test centre"
        PLATFORM = "platform", "Đơn vị vận hành nền tảng / Platform operator"
        # Coach operators report their passenger manifests (model 12; Circular 55/2021 Art. 15).
        # The Vietnam Bank for Social Policies (Decree 78/2002/NĐ-CP): a lender, not an agency.
        SOCIAL_POLICY_BANK = "social_bank", "Ngân hàng Chính sách xã hội / Social-policy bank"
        TRANSPORT = "transport", "Doanh nghiệp vận tải hành khách / Passenger transport operator"

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Jurisdiction in current (post-2025) administrative units; empty = none.
    jurisdiction_province_code = models.CharField(max_length=2, blank=True)
    jurisdiction_ward_code = models.CharField(max_length=5, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Quản trị / Administrator"
        OFFICER = "officer", "Cán bộ / Officer"
        CLERK = "clerk", "Nhân viên / Clerk"
        AUDITOR = "auditor", "Kiểm tra / Auditor"
        # Anonymised statistics only (Tourism, Health, the industrial-zone authority): never personal data.
        STATISTICS = "statistics", "Thống kê / Statistics officer"
        # The commune People's Committee's judicial and civil-status officer (công chức tư pháp –
        # hộ tịch): registers guardianships (Law on Civil Status 2014 Art. 20–23) and records the
        # court decisions restricting a parent's rights (registry/guardianship.py, ADR 0017 §2b).
        CIVIL_STATUS = "civil_status", "Tư pháp – hộ tịch / Judicial and civil-status officer"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"


class ApiKey(models.Model):
    """A machine client of an organisation (e.g. a hospital information system calling the
    verification API). The token is ``dk_<prefix>_<secret>``; only the SHA-256 of the secret is
    stored, the token is shown once when the key is issued. The key acts with the role
    ``integration`` of its organisation: ``policy.POLICY`` decides what that role may do.

    SHA-256, not a password hash: the secret is 256 random bits, so a slow hash adds no protection
    against guessing and would cost every API call tens of milliseconds.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=150, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation", "name"]

    def __str__(self) -> str:
        return f"API key {self.prefix} ({self.name})"
