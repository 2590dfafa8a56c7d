"""``dancu audit_verify``: recompute the audit hash chain; exit 1 if it was tampered with."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dancu.blocks.audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain against its latest checkpoint (ADR 0004)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if not report.ok:
            raise CommandError(
                f"audit chain broken at event {report.first_bad_event_id}: {report.reason} "
                f"({report.events_checked} events verified before it)"
            )
        self.stdout.write(f"audit chain intact: {report.events_checked} events verified")
