"""``dancu eid_hand_over [--on YYYY-MM-DD]``: hand children's accounts over to their holders on
their 14th birthday (domain-vn §4; ``family.hand_over_due``, ADR 0017). Run it daily, e.g. from
cron; the same check also runs whenever a parent or guardian uses the account."""

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.blocks.eid.family import hand_over_due


class Command(BaseCommand):
    help = "End parents' and guardians' management of the eID accounts of children who are 14."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--on", default="", help="the day to run for (YYYY-MM-DD; default today)")

    def handle(self, *args: Any, **options: Any) -> None:
        on = None
        if options["on"]:
            try:
                on = date.fromisoformat(options["on"])
            except ValueError:
                raise CommandError("--on: a date written YYYY-MM-DD") from None
        count = hand_over_due(on=on)
        self.stdout.write(f"{count} children's accounts handed over to their holders")
