"""Deliver the queued webhooks of residence notification results.

    dancu residence_webhooks [--once] [--interval SECONDS] [--limit N]

Each round POSTs the due deliveries (signed, ``apps.residence.webhooks``); failures are retried with
backoff and kept until delivered. Without ``--once`` it loops (a worker), sleeping ``--interval``
seconds between rounds with nothing due; several workers may run at once (deliveries are leased).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dancu.apps.residence import webhooks


class Command(BaseCommand):
    help = "POST the queued residence notification results to the establishments' webhooks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one round, then exit")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between rounds")
        parser.add_argument("--limit", type=int, default=100, help="deliveries a round")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            report = webhooks.deliver_due(limit=max(1, options["limit"]))
            if report.attempted or options["once"]:
                self.stdout.write(
                    f"attempted {report.attempted}, delivered {report.delivered}, failed {report.failed}"
                )
            if options["once"]:
                return
            if not report.attempted:
                time.sleep(max(0.1, options["interval"]))
