"""``dancu audit_seal``: chain the new audit events (run every minute, e.g. from cron or a timer)."""

from typing import Any

from django.core.management.base import BaseCommand

from dancu.blocks.audit.services import seal


class Command(BaseCommand):
    help = "Seal unsealed audit events into the SHA-256 hash chain (ADR 0004)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = seal()
        self.stdout.write(f"sealed {count} audit events")
