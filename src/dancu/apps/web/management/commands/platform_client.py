"""``dancu platform_client``: register the staff applications' first-party client
(``dancu-platform``) at the OpenID Connect provider, or bring its redirect URIs and secret up to
date after a change of ``DANCU_OIDC_ISSUER`` or ``SECRET_KEY`` (ADR 0011). Idempotent; run it at
each deployment after ``migrate``. ``/login/`` does the same on its first use."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Register or update the staff applications' OpenID Connect client (dancu-platform)."

    def handle(self, *args: Any, **options: Any) -> None:
        from dancu.apps.web.sso import CLIENT_ID, ensure_platform_client, redirect_uri

        changed = ensure_platform_client()
        state = "registered or updated" if changed else "up to date"
        self.stdout.write(f"{CLIENT_ID}: {state} (redirect URI {redirect_uri()})")
