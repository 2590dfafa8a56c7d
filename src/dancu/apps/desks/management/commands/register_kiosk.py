"""Register a self-service kiosk of a clinic and print its key (shown once) and the enrolment page."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from dancu.apps.desks import services
from dancu.errors import DomainValidationError, NotFound


class Command(BaseCommand):
    help = "Register a self-service kiosk for a clinic; prints its device key once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organisation", help="the clinic's organisation code")
        parser.add_argument("name", help="a name for the device, e.g. 'Sảnh tầng 1'")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            issued = services.register_kiosk(options["organisation"], options["name"], created_by="manage.py")
        except (DomainValidationError, NotFound) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"kiosk {issued.prefix} registered; its key (shown once): {issued.key}")
        self.stdout.write(f"on the kiosk, open {reverse('desks:kiosk-enrol')} and enter the key there")
