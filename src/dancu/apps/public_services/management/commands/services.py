"""``dancu services list [--paperless]``: the catalogue of online public services, one a line;
``escalate`` (daily) and ``sweep-uploads`` (daily: documents no dossier refers to)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.apps.public_services import catalogue

# The shortest grace period of ``sweep-uploads``: a submission writes its documents before its
# transaction commits, and lives seconds — an hour spares every one still in flight.
MIN_GRACE_HOURS = 1


class Command(BaseCommand):
    help = "The catalogue of online public services (issue 7)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="one service per line")
        listing.add_argument("--paperless", action="store_true", help="only services run without paper")
        sub.add_parser("escalate", help="escalate open dossiers past their deadline (run daily)")
        sweep = sub.add_parser("sweep-uploads", help="remove stored documents no dossier refers to (daily)")
        sweep.add_argument(
            "--older-than-hours", type=float, default=24.0, help="grace period, at least 1 (default 24)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "escalate":
            from dancu.apps.public_services.services import escalate_overdue

            self.stdout.write(f"escalated {escalate_overdue()}")
            return
        if options["action"] == "sweep-uploads":
            from datetime import timedelta

            from dancu.apps.public_services.services import sweep_orphan_uploads

            hours = options["older_than_hours"]
            if not hours >= MIN_GRACE_HOURS:  # also refuses NaN
                # A shorter grace would delete the documents of submissions still in flight.
                raise CommandError(
                    f"--older-than-hours must be at least {MIN_GRACE_HOURS} (got {hours:g}): a shorter "
                    "grace period would delete documents of submissions still in progress"
                )
            removed = sweep_orphan_uploads(timedelta(hours=hours))
            self.stdout.write(f"removed {len(removed)} orphan upload(s)")
            return
        for s in catalogue.SERVICES:
            if options.get("paperless") and not s.paperless:
                continue
            sources = sorted({i.source for i in s.items})
            self.stdout.write(
                "\t".join(
                    [
                        f"{s.number:>2}",
                        s.code,
                        s.name_vi,
                        s.authority_vi,
                        f"{s.days}d",
                        f"{s.fee_vnd}đ",
                        f"L{s.level}",
                        "paperless" if s.paperless else "planned",
                        "+".join(sources),
                    ]
                )
            )
