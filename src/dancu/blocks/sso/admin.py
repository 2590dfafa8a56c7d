"""Administration of relying parties (their OAuth client is django-oauth-toolkit's Application)."""

from __future__ import annotations

from django.contrib import admin

from dancu.blocks.sso.models import Consent, RelyingParty, SigningKey


@admin.register(RelyingParty)
class RelyingPartyAdmin(admin.ModelAdmin):
    list_display = (
        "name_vi",
        "application",
        "allowed_scopes",
        "allowed_claims",
        "min_acr",
        "sector_identifier",
        "first_party",
        "id_token_alg",
    )
    search_fields = ("name_vi", "name_en", "application__client_id")
    raw_id_fields = ("application",)


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = ("relying_party", "user", "claims", "granted_at", "revoked_at")
    raw_id_fields = ("user",)
    list_filter = ("relying_party",)


@admin.register(SigningKey)
class SigningKeyAdmin(admin.ModelAdmin):
    list_display = ("kid", "alg", "created_at", "superseded_at", "retire_at")
    exclude = ("private_pem",)
    readonly_fields = ("kid", "alg", "public_jwk", "created_at", "superseded_at", "retire_at")
