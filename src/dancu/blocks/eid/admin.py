"""Administration of eID accounts: read-mostly lists; secrets (sealed TOTP secrets, code hashes,
photo thumbnails) are never shown."""

from django.contrib import admin

from dancu.blocks.eid.models import Account, Enterprise, EnterpriseStaff, LoginSession, Registration


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
    list_display = ("enterprise_code", "name", "organisation", "created_at")
    search_fields = ("enterprise_code", "name")


admin.site.register(EnterpriseStaff)
