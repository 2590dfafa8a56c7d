"""``dancu gateway_client rewrap --old-secret-env VAR``: after a ``SECRET_KEY`` rotation, seal the
applications' gateway credentials (social-policy loans, sector registries, land offices) again
under the new ``SECRET_KEY`` (``client.rewrap_credentials``). Run it beside ``dancu exchange
rewrap``, which re-seals the gateway's own subsystem keys. The old secret is read from the
environment variable ``VAR``, never from the command line (which other users of the machine can
see in the process list); all or nothing, idempotent.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.apps.gateway_client import client


class Command(BaseCommand):
    help = "Re-seal the applications' gateway credentials after SECRET_KEY rotation (ADR 0015)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rewrap = sub.add_parser("rewrap", help="re-seal the gateway credentials after SECRET_KEY rotation")
        rewrap.add_argument(
            "--old-secret-env",
            required=True,
            metavar="VAR",
            help="the environment variable holding the previous SECRET_KEY",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        variable = options["old_secret_env"]
        old_secret = os.environ.get(variable, "")
        if not old_secret:
            raise CommandError(f"--old-secret-env: the environment variable {variable} is not set or empty")
        try:
            report = client.rewrap_credentials(old_secret)
        except client.CredentialUnavailable as exc:
            raise CommandError(f"nothing changed: {exc}") from None
        self.stdout.write(
            f"re-sealed {len(report.rewrapped)} credential(s); "
            f"{len(report.current)} already under the current SECRET_KEY"
        )
