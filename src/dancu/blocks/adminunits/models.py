"""Administrative-unit tables (filled by ``dancu load_adminunits`` from the files in ``data/``).

Two separate code lists, as the same number may denote different units in each:

* current units since 01/07/2025 — Resolution 202/2025/QH15 (34 provinces, 3,321 commune-level
  units, no district tier); for Hà Nội Resolution 1656/NQ-UBTVQH15 (126 units);
* legacy units before 01/07/2025 — 63 provinces, districts, wards/communes/townships, as printed on
  existing cards and stored in sector databases;

and the ward-level crosswalk between them. Reference data: public, no personal data.
"""

from __future__ import annotations

from django.db import models


class Province(models.Model):
    """A current province-level unit (tỉnh / thành phố trực thuộc trung ương) since 01/07/2025."""

    class Type(models.TextChoices):
        PROVINCE = "province", "Tỉnh"
        CITY = "city", "Thành phố trực thuộc trung ương"

    code = models.CharField(max_length=2, primary_key=True)
    name = models.CharField(max_length=100)
    full_name = models.CharField(max_length=120)
    type = models.CharField(max_length=16, choices=Type.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = "tỉnh / thành phố (hiện hành)"
        verbose_name_plural = "tỉnh / thành phố (hiện hành)"

    def __str__(self) -> str:
        return self.full_name


class Ward(models.Model):
    """A current commune-level unit (phường / xã / đặc khu) since 01/07/2025."""

    class Type(models.TextChoices):
        WARD = "ward", "Phường"
        COMMUNE = "commune", "Xã"
        SPECIAL_ZONE = "special_zone", "Đặc khu"

    code = models.CharField(max_length=5, primary_key=True)
    name = models.CharField(max_length=100)
    full_name = models.CharField(max_length=120)
    type = models.CharField(max_length=16, choices=Type.choices)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="wards")

    class Meta:
        ordering = ["code"]
        verbose_name = "phường / xã (hiện hành)"
        verbose_name_plural = "phường / xã (hiện hành)"

    def __str__(self) -> str:
        return self.full_name


class LegacyProvince(models.Model):
    """One of the 63 provinces before 01/07/2025."""

    code = models.CharField(max_length=2, primary_key=True)
    name = models.CharField(max_length=100)
    full_name = models.CharField(max_length=120)
    type = models.CharField(max_length=16, choices=Province.Type.choices)

    class Meta:
        ordering = ["code"]
        verbose_name = "tỉnh / thành phố (trước 01/07/2025)"
        verbose_name_plural = "tỉnh / thành phố (trước 01/07/2025)"

    def __str__(self) -> str:
        return self.full_name


class LegacyDistrict(models.Model):
    """A district-level unit (quận / huyện / thị xã / thành phố thuộc tỉnh), abolished 01/07/2025."""

    class Type(models.TextChoices):
        URBAN_DISTRICT = "urban_district", "Quận"
        RURAL_DISTRICT = "rural_district", "Huyện"
        TOWN = "town", "Thị xã"
        PROVINCIAL_CITY = "provincial_city", "Thành phố thuộc tỉnh"

    code = models.CharField(max_length=3, primary_key=True)
    name = models.CharField(max_length=100)
    full_name = models.CharField(max_length=120)
    type = models.CharField(max_length=16, choices=Type.choices)
    province = models.ForeignKey(LegacyProvince, on_delete=models.PROTECT, related_name="districts")

    class Meta:
        ordering = ["code"]
        verbose_name = "quận / huyện (trước 01/07/2025)"
        verbose_name_plural = "quận / huyện (trước 01/07/2025)"

    def __str__(self) -> str:
        return self.full_name


class LegacyWard(models.Model):
    """A commune-level unit before 01/07/2025 (phường / xã / thị trấn)."""

    class Type(models.TextChoices):
        WARD = "ward", "Phường"
        COMMUNE = "commune", "Xã"
        TOWNSHIP = "township", "Thị trấn"

    code = models.CharField(max_length=5, primary_key=True)
    name = models.CharField(max_length=100)
    full_name = models.CharField(max_length=120)
    type = models.CharField(max_length=16, choices=Type.choices)
    district = models.ForeignKey(LegacyDistrict, on_delete=models.PROTECT, related_name="wards")
    province = models.ForeignKey(LegacyProvince, on_delete=models.PROTECT, related_name="wards")

    class Meta:
        ordering = ["code"]
        verbose_name = "phường / xã (trước 01/07/2025)"
        verbose_name_plural = "phường / xã (trước 01/07/2025)"

    def __str__(self) -> str:
        return self.full_name


class WardCrosswalk(models.Model):
    """A legacy ward, or the part of it, that went into a current ward on 01/07/2025.

    A legacy ward split across several current wards has one row per part; exactly one row per
    legacy ward is primary, chosen by the rule in ``primary_basis`` (see ``data/extract.py``).
    """

    class Basis(models.TextChoices):
        SOLE = "sole", "only target"
        REMAINDER = "remainder", "the part not flagged as partial by the source"
        NAME = "name", "target bearing the legacy ward's name"
        HEURISTIC = "heuristic", "heuristic guess"

    legacy_ward = models.ForeignKey(LegacyWard, on_delete=models.CASCADE, related_name="crosswalk")
    ward = models.ForeignKey(Ward, on_delete=models.CASCADE, related_name="legacy_sources")
    is_primary = models.BooleanField(default=False)
    is_partial = models.BooleanField(default=False)
    primary_basis = models.CharField(max_length=16, choices=Basis.choices, blank=True)

    class Meta:
        ordering = ["legacy_ward_id", "-is_primary", "ward_id"]
        constraints = [
            models.UniqueConstraint(fields=["legacy_ward", "ward"], name="adminunits_crosswalk_pair"),
            models.UniqueConstraint(
                fields=["legacy_ward"], condition=models.Q(is_primary=True), name="adminunits_one_primary"
            ),
        ]
        verbose_name = "bảng chuyển đổi phường / xã"
        verbose_name_plural = "bảng chuyển đổi phường / xã"

    def __str__(self) -> str:
        return f"{self.legacy_ward_id} → {self.ward_id}{' (primary)' if self.is_primary else ''}"


class DataVersion(models.Model):
    """Which version of the data files is loaded (one row, key ``adminunits``)."""

    key = models.CharField(max_length=32, primary_key=True)
    version = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.key} {self.version}"
