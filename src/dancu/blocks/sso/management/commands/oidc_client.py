"""``dancu oidc_client create|list|rotate-secret``: register relying parties of the provider."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.blocks.sso import services
from dancu.errors import DomainValidationError, NotFound


class Command(BaseCommand):
    help = "Register and manage relying parties of the OpenID Connect provider."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="register a relying party (prints the secret once)")
        create.add_argument("--name", required=True, help="name shown to citizens (Vietnamese)")
        create.add_argument("--name-en", default="")
        create.add_argument(
            "--redirect-uri", action="append", default=[], help="exact redirect URI (repeatable)"
        )
        create.add_argument(
            "--post-logout-uri", action="append", default=[], help="exact post-logout URI (repeatable)"
        )
        create.add_argument("--scopes", default="openid profile", help="allowed scopes, space-separated")
        create.add_argument(
            "--claims", default="name birthdate gender", help="allowed claims, space-separated"
        )
        create.add_argument(
            "--min-acr", default="", help="minimum acr (urn:dancu:acr:level1|level2|level2:mfa)"
        )
        create.add_argument(
            "--sector", default="", help="sector identifier for pairwise sub (default: redirect host)"
        )
        create.add_argument("--first-party", action="store_true", help="skip the consent screen")
        create.add_argument(
            "--public", action="store_true", help="a public client (no secret at the token endpoint)"
        )
        create.add_argument("--machine", action="store_true", help="client credentials only (no user)")
        create.add_argument("--organisation-id", type=int, default=None)
        create.add_argument("--client-id", default=None)
        create.add_argument(
            "--id-token-alg", choices=["RS256", "ES256"], default="RS256", help="ID-token signature"
        )
        sub.add_parser("list", help="list relying parties")
        rotate = sub.add_parser("rotate-secret", help="replace a client's secret (prints the new one once)")
        rotate.add_argument("client_id")

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        try:
            if action == "create":
                reg = services.register_client(
                    name_vi=opts["name"],
                    name_en=opts["name_en"],
                    redirect_uris=opts["redirect_uri"],
                    post_logout_redirect_uris=opts["post_logout_uri"],
                    scopes=opts["scopes"].split(),
                    claims=opts["claims"].split(),
                    min_acr=opts["min_acr"],
                    sector_identifier=opts["sector"],
                    first_party=opts["first_party"],
                    confidential=not opts["public"],
                    machine=opts["machine"],
                    organisation_id=opts["organisation_id"],
                    client_id=opts["client_id"],
                    id_token_alg=opts["id_token_alg"],
                )
                self.stdout.write(f"client_id={reg.client_id}")
                self.stdout.write(f"client_secret={reg.client_secret}")
                self.stdout.write("(the secret is shown once; it is stored hashed)")
            elif action == "list":
                for c in services.list_clients():
                    flags = " first-party" if c.first_party else ""
                    self.stdout.write(
                        f"{c.client_id}\t{c.name}\t{c.grant_type}\tscopes={c.scopes}\tclaims={c.claims}\t"
                        f"min_acr={c.min_acr or '-'}\tsector={c.sector_identifier}{flags}\t{c.redirect_uris}"
                    )
            else:
                secret = services.rotate_client_secret(opts["client_id"])
                self.stdout.write(f"client_secret={secret}")
        except (DomainValidationError, NotFound) as exc:
            raise CommandError(str(exc)) from exc
