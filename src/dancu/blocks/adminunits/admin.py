"""Read-only admin views of the administrative-unit tables (reference data, loaded from files)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from dancu.blocks.adminunits import models as m


class ReadOnlyAdmin(admin.ModelAdmin):
    """The tables are replaced as a whole by ``load_adminunits``; no edits by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(m.Province, m.LegacyProvince)
class ProvinceAdmin(ReadOnlyAdmin):
    list_display = ["code", "full_name", "type"]
    search_fields = ["code", "name"]


@admin.register(m.Ward)
class WardAdmin(ReadOnlyAdmin):
    list_display = ["code", "full_name", "type", "province"]
    list_filter = ["province", "type"]
    search_fields = ["code", "name"]


@admin.register(m.LegacyDistrict)
class LegacyDistrictAdmin(ReadOnlyAdmin):
    list_display = ["code", "full_name", "type", "province"]
    list_filter = ["province"]
    search_fields = ["code", "name"]


@admin.register(m.LegacyWard)
class LegacyWardAdmin(ReadOnlyAdmin):
    list_display = ["code", "full_name", "type", "district", "province"]
    list_filter = ["province"]
    search_fields = ["code", "name"]


@admin.register(m.WardCrosswalk)
class WardCrosswalkAdmin(ReadOnlyAdmin):
    list_display = ["legacy_ward", "ward", "is_primary", "is_partial", "primary_basis"]
    list_filter = ["is_primary", "is_partial", "primary_basis"]
    search_fields = ["legacy_ward__code", "legacy_ward__name", "ward__code", "ward__name"]
    list_select_related = ["legacy_ward", "ward"]


@admin.register(m.DataVersion)
class DataVersionAdmin(ReadOnlyAdmin):
    list_display = ["key", "version", "loaded_at"]
