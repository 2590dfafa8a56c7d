"""``dancu oidc_purge``: drop expired tokens and grants and the redeemed-code digests that can no
longer matter (run it daily, e.g. from cron)."""

from typing import Any

from django.core.management.base import BaseCommand

from dancu.blocks.sso.services import purge_expired


class Command(BaseCommand):
    help = "Purge expired OAuth tokens/grants and old redeemed-code digests."

    def handle(self, *args: Any, **options: Any) -> None:
        purged = purge_expired()
        self.stdout.write(f"{purged['redeemed_codes']} redeemed-code digests purged; expired tokens cleared")
