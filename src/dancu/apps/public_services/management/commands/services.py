"""``dancu services list [--paperless]``: the catalogue of online public services, one a line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dancu.apps.public_services import catalogue


class Command(BaseCommand):
    help = "The catalogue of online public services (issue 7)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="one service per line")
        listing.add_argument("--paperless", action="store_true", help="only services run without paper")
        sub.add_parser("escalate", help="escalate open dossiers past their deadline (run daily)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "escalate":
            from dancu.apps.public_services.services import escalate_overdue

            self.stdout.write(f"escalated {escalate_overdue()}")
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
