"""Django admin for organisations and staff memberships (no personal data here).

Only the organisations block is administered through the Django admin: registry models
(citizens, households, cards) are deliberately not registered, because reading them here would
bypass the purpose check and the audit log that the registry's service functions enforce.
Changes made here are kept in Django's admin log (who changed which membership, when).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from dancu.blocks.organisations.models import ApiKey, Membership, Organisation
from dancu.blocks.organisations.policy import purposes_for


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "active", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("user",)
    can_delete = False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "jurisdiction_province_code", "jurisdiction_ward_code", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")
    ordering = ("name",)
    readonly_fields = ("created_at",)
    raw_id_fields = ("parent",)
    inlines = (MembershipInline,)
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "parent", "active", "created_at")}),
        (
            "Địa bàn quản lý / Jurisdiction",
            {
                "fields": ("jurisdiction_province_code", "jurisdiction_ward_code"),
                "description": "Mã đơn vị hành chính hiện hành (sau 01/07/2025). Current unit codes: "
                "a province code sees the whole province, a ward code only the ward; "
                "empty means no registry access.",
            },
        ),
    )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "role", "active", "purposes", "created_at")
    list_filter = ("role", "active", "organisation__kind")
    search_fields = ("user__username", "organisation__name", "organisation__code")
    list_select_related = ("user", "organisation")
    raw_id_fields = ("user", "organisation")
    readonly_fields = ("created_at", "purposes")

    @admin.display(description="Mục đích được phép / Allowed purposes")
    def purposes(self, obj: Membership) -> str:
        """The purposes this member may invoke (``policy``): what the role grants, at a glance."""
        if obj.organisation_id is None:
            return ""
        return ", ".join(sorted(purposes_for(obj.organisation.kind, obj.role))) or "—"

    def has_delete_permission(self, request: HttpRequest, obj: Membership | None = None) -> bool:
        """Deactivate rather than delete, so that the admin log keeps who had access when."""
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are issued with ``dancu api_key create`` (the token is shown once there); here they are
    listed and may be revoked by setting ``revoked_at``. The secret's hash is never shown."""

    list_display = ("prefix", "name", "organisation", "created_at", "last_used_at", "revoked_at")
    list_filter = ("organisation__kind",)
    search_fields = ("prefix", "name", "organisation__code", "organisation__name")
    list_select_related = ("organisation",)
    fields = ("prefix", "name", "organisation", "created_at", "created_by", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "name", "organisation", "created_at", "created_by", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        """Revoke rather than delete: the audit log names the key that acted."""
        return False
