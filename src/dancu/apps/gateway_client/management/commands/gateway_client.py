"""``dancu gateway_client connect --organisation CODE --system NAME --client-id ID --provider ID
--credential-env VAR``: store (or replace) an application's gateway connection — the credential an
administrator issued at /exchange-admin/ for the organisation's subsystem, read from the environment
variable ``VAR`` and stored sealed (``client.connect``). Systems: ``public_services`` (the portal's
prefill, ``DANCU_PUBLIC_SERVICES_PORTAL_ORG``), ``social_loans``, ``sector``, … as each application
names it.

``dancu gateway_client rewrap --old-secret-env VAR``: after a ``SECRET_KEY`` rotation, seal the
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
        connect = sub.add_parser("connect", help="store an application's gateway client connection")
        connect.add_argument("--organisation", required=True, help="the organisation's code")
        connect.add_argument("--system", required=True, help="the application's system name")
        connect.add_argument(
            "--client-id", required=True, help="INSTANCE/CLASS/MEMBER/SUBSYSTEM of the client"
        )
        connect.add_argument(
            "--provider", required=True, help="INSTANCE/CLASS/MEMBER/SUBSYSTEM of the provider"
        )
        connect.add_argument(
            "--credential-env",
            required=True,
            metavar="VAR",
            help="the environment variable holding the credential (xk_<prefix>_<secret>)",
        )
        rewrap = sub.add_parser("rewrap", help="re-seal the gateway credentials after SECRET_KEY rotation")
        rewrap.add_argument(
            "--old-secret-env",
            required=True,
            metavar="VAR",
            help="the environment variable holding the previous SECRET_KEY",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "connect":
            self._connect(options)
            return
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

    def _connect(self, options: dict[str, Any]) -> None:
        from dancu.blocks.exchange.identifiers import parse_client_id
        from dancu.blocks.organisations.models import Organisation
        from dancu.errors import DomainValidationError

        org = Organisation.objects.filter(code=options["organisation"]).first()
        if org is None:
            raise CommandError(f"--organisation: no organisation with code {options['organisation']!r}")
        system = options["system"].strip()
        if not system or len(system) > 32 or not system.replace("_", "").isalnum():
            raise CommandError("--system: 1–32 letters, digits or _")
        for flag in ("client_id", "provider"):
            try:
                parse_client_id(options[flag])
            except DomainValidationError as exc:
                raise CommandError(f"--{flag.replace('_', '-')}: {exc.problems[0].message}") from None
        credential = os.environ.get(options["credential_env"], "")
        if not credential.startswith("xk_"):
            raise CommandError(
                f"--credential-env: the environment variable {options['credential_env']} does not hold "
                "a gateway credential (xk_<prefix>_<secret>)"
            )
        client.connect(
            org.pk,
            system,
            client_identifier=options["client_id"],
            provider_identifier=options["provider"],
            credential=credential,
        )
        self.stdout.write(f"stored the {system} connection of {org.code} as {options['client_id']}")
