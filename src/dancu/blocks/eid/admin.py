"""Administration of eID accounts: read-mostly lists; secrets (sealed TOTP secrets, code hashes,
photo thumbnails) are never shown."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from dancu.blocks.eid import services
from dancu.blocks.eid.models import Account, Enterprise, EnterpriseStaff, LoginSession, Registration
from dancu.errors import AccessDenied, NotFound


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("id", "level", "status", "ward_code", "created_at", "locked_at")
    list_filter = ("level", "status")
    search_fields = ("id_number",)
    readonly_fields = (
        "user",
        "citizen_id",
        "level2_at",
        "level2_by_label",
        "level2_organisation_name",
        "level2_receipt",
    )


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "ward_code", "exact_match", "auto_approved", "created_at", "decided_at")
    list_filter = ("status", "auto_approved")
    exclude = ("thumbnail", "face_sha256", "face_dhash")


@admin.register(LoginSession)
class LoginSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "browser", "acr", "created_at", "last_seen", "revoked_at")
    exclude = ("session_key",)


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ("enterprise_code", "name", "requested_organisation", "organisation", "created_at")
    search_fields = ("enterprise_code", "name")
    readonly_fields = ("organisation", "requested_organisation", "link_approved_at", "link_approved_by_label")
    actions = ("approve_link",)

    @admin.action(description="Approve the link to the requested organisation")
    def approve_link(self, request: HttpRequest, queryset: QuerySet[Enterprise]) -> None:
        done = 0
        for enterprise in queryset.filter(organisation__isnull=True, requested_organisation__isnull=False):
            try:
                services.approve_enterprise_link(int(request.user.pk or 0), enterprise.pk)
                done += 1
            except (AccessDenied, NotFound) as exc:
                self.message_user(request, f"{enterprise}: {exc}", level=messages.ERROR)
        self.message_user(request, f"{done} link(s) approved")


admin.site.register(EnterpriseStaff)
