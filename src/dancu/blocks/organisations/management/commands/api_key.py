"""``dancu api_key``: issue, list and revoke the API keys of an organisation's machine clients.

    dancu api_key create --organisation BV-BACHMAI --name "HIS Bạch Mai"
    dancu api_key list --organisation BV-BACHMAI
    dancu api_key revoke --prefix 3f9a0c1e

``create`` prints the token once (only its SHA-256 is stored): hand it to the integrator over a
secure channel. What the key may do follows from the organisation's kind (``policy.POLICY``, role
``integration``).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.blocks.organisations.models import Organisation
from dancu.blocks.organisations.policy import INTEGRATION, purposes_for
from dancu.blocks.organisations.services import api_keys_of, issue_api_key, revoke_api_key
from dancu.errors import DomainValidationError


class Command(BaseCommand):
    help = "Issue (create), list or revoke the API keys of an organisation."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="issue a key and print its token once")
        create.add_argument("--organisation", required=True, help="organisation code, e.g. KS-HOABINH")
        create.add_argument("--name", required=True, help="what the key is for, e.g. 'PMS lễ tân'")
        listing = actions.add_parser("list", help="the keys of an organisation (never their secrets)")
        listing.add_argument("--organisation", required=True)
        revoke = actions.add_parser("revoke", help="revoke a key by its prefix")
        revoke.add_argument("--prefix", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "revoke":
            if not revoke_api_key(options["prefix"]):
                raise CommandError(f"no active API key with prefix {options['prefix']!r}")
            self.stdout.write(f"API key {options['prefix']} revoked")
            return
        org = Organisation.objects.filter(code=options["organisation"]).first()
        if org is None:
            raise CommandError(f"no organisation with code {options['organisation']!r}")
        if action == "list":
            for key in api_keys_of(org):
                state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
                used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
                self.stdout.write(f"{key.prefix}  {state:<18} last used {used:<16}  {key.name}")
            return
        try:
            issued = issue_api_key(org, options["name"], created_by="dancu api_key create")
        except DomainValidationError as exc:
            raise CommandError(str(exc)) from None
        purposes = ", ".join(sorted(purposes_for(org.kind, INTEGRATION))) or "none (see policy.POLICY)"
        self.stdout.write(f"API key {issued.prefix} for {org.name} — purposes: {purposes}")
        self.stdout.write("Token (shown once, store it now):")
        self.stdout.write(issued.token)
