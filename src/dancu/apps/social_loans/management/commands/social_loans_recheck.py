"""``dancu social_loans_recheck --user USERNAME``: decide again, as that bank officer, for everyone
last found eligible (``services.recheck``), and print the decisions that turned (reference, ID
number masked, programme, reason codes). Meant for a nightly timer."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.apps.social_loans import services
from dancu.blocks.organisations.services import actor_for
from dancu.errors import AccessDenied


class Command(BaseCommand):
    help = "Re-check social-policy loan eligibility against the registry's current facts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="the bank officer the re-check acts as")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        try:
            changed = services.recheck(actor_for(user))
        except AccessDenied as exc:
            raise CommandError(str(exc)) from None
        for d in changed:
            reasons = ", ".join(r["reason"] for r in d.reasons if r["result"] != "pass")
            # the ID number is masked: no personal data in logs
            self.stdout.write(
                f"{d.reference} {d.id_number[:3]}******{d.id_number[-3:]} {d.programme}: {reasons}"
            )
        self.stdout.write(f"{len(changed)} decision(s) turned to not eligible")
