"""Let a department's statistics officers see a sector's residence statistics.

    dancu residence_sector <organisation code> <tourism|health|industrial|housing>

Sở Du lịch: ``tourism``; Sở Y tế: ``health``; Ban quản lý các khu công nghiệp: ``industrial``
(``apps.residence.statistics.assign_sector``). Without a sector the department sees none.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.apps.residence import statistics as stats
from dancu.blocks.organisations.models import Organisation
from dancu.errors import DomainValidationError, NotFound


class Command(BaseCommand):
    help = "Let a department see one sector's anonymised residence statistics."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organisation", help="the department's organisation code")
        parser.add_argument("sector", choices=list(stats.SECTORS))

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organisation.objects.filter(code=options["organisation"]).first()
        if org is None:
            raise CommandError(f"no organisation with code {options['organisation']!r}")
        try:
            stats.assign_sector(org.pk, options["sector"], by="dancu residence_sector")
        except (DomainValidationError, NotFound) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{org.name}: {', '.join(stats.sectors_of_organisation(org.pk))}")
