"""``dancu verification_purge``: drop the stored answers of verifications older than the
idempotency window (24 h) and free their request ids (run it hourly, e.g. from cron)."""

from typing import Any

from django.core.management.base import BaseCommand

from dancu.blocks.identity.services import purge_replay_data


class Command(BaseCommand):
    help = "Purge the stored answers (and request ids) of verifications older than 24 hours."

    def handle(self, *args: Any, **options: Any) -> None:
        purged = purge_replay_data()
        self.stdout.write(f"{purged} verification receipts purged of their stored answers")
