"""Demo data: the two demo relying parties registered at the provider (idempotent)."""

from __future__ import annotations

from django.conf import settings

from dancu.apps.sso_demo.models import DemoClient
from dancu.blocks.eid.assurance import ACR_L1, ACR_L2_MFA
from dancu.blocks.sso.services import register_client, relying_party_of

# slug, Vietnamese name, English name, scopes, claims, minimum acr
RELYING_PARTIES = (
    (
        "portal",
        "Cổng dịch vụ công thành phố",
        "City public-service portal",
        ["openid", "profile", "address", "id_number", "email", "phone"],
        ["name", "birthdate", "gender", "address", "id_number", "email", "phone_number"],
        # A level-2 account and a second factor: a password-only log-in is stepped up (TOTP, SMS).
        ACR_L2_MFA,
    ),
    (
        "app",
        "Ứng dụng công dân",
        "City app",
        ["openid", "profile", "email"],
        ["name", "given_name", "birthdate", "email"],
        ACR_L1,
    ),
)


def base_url() -> str:
    return str(settings.DANCU_OIDC_ISSUER).rstrip("/")


def seed_demo() -> list[tuple[str, str]]:
    """Register the demo RPs if they are not there; (path, description) pairs for the banner."""
    out = []
    for slug, name_vi, name_en, scopes, claims, acr in RELYING_PARTIES:
        client_id = f"demo-{slug}"
        if not DemoClient.objects.filter(slug=slug).exists() or relying_party_of(client_id) is None:
            DemoClient.objects.filter(slug=slug).delete()
            reg = register_client(
                name_vi=name_vi,
                name_en=name_en,
                redirect_uris=[f"{base_url()}/demo/{slug}/callback"],
                post_logout_redirect_uris=[f"{base_url()}/demo/{slug}/"],
                scopes=scopes,
                claims=claims,
                min_acr=acr,
                sector_identifier=f"{slug}.demo.dancu",
                client_id=client_id,
            )
            DemoClient.objects.create(slug=slug, client_id=reg.client_id, client_secret=reg.client_secret)
        out.append((f"/demo/{slug}/", f"{name_vi} / {name_en} (SSO demo)"))
    return out
