"""``dancu oidc_keys rotate|list``: the provider's ID-token signing keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dancu.blocks.sso import keys
from dancu.blocks.sso.models import SigningKey


class Command(BaseCommand):
    help = "Rotate or list the OpenID Connect signing keys."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rotate = sub.add_parser(
            "rotate", help="make a new active key; the old one stays published for the grace period"
        )
        rotate.add_argument("--grace-seconds", type=int, default=None)
        rotate.add_argument(
            "--alg", choices=keys.ALGS, action="append", help="rotate only this kind (default: all)"
        )
        sub.add_parser("list", help="list keys")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "rotate":
            grace = timedelta(seconds=opts["grace_seconds"]) if opts["grace_seconds"] is not None else None
            for new in keys.rotate(grace=grace, algs=tuple(opts["alg"] or keys.ALGS)):
                self.stdout.write(f"active kid={new.kid} alg={new.alg}")
            return
        for k in SigningKey.objects.order_by("created_at"):
            state = (
                "active"
                if k.superseded_at is None
                else f"superseded, published until {k.retire_at:%Y-%m-%d %H:%M}"
            )
            self.stdout.write(f"{k.kid}\t{k.alg}\t{k.created_at:%Y-%m-%d %H:%M}\t{state}")
