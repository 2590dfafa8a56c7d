"""Generate the production signing key of the notary receipts (Ed25519) and print its public key.

    dancu receipt_signing_key [PATH] [--force]

PATH defaults to ``DANCU_RECEIPT_SIGNING_KEY``. The private key is written as PKCS#8 PEM with
file mode 0600 (directory 0700) and never printed; an existing key is kept unless ``--force`` is
given (every receipt signed with the old key then reads "signed with another key" on the check
pages: keep a copy of the old public key). Printed: the path, the key id stored with every
receipt, the SHA-256 fingerprint of the public key, and the public key (PEM) to publish.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.apps.desks import services


class Command(BaseCommand):
    help = (
        "Generate the Ed25519 key that signs notary receipts (mode 0600; refuses to overwrite without "
        "--force) and print its public key and fingerprint."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            help=f"where to write the private key (default: ${services.RECEIPT_KEY_ENV})",
        )
        parser.add_argument("--force", action="store_true", help="replace an existing key file")

    def handle(self, *args: Any, **options: Any) -> None:
        given = options.get("path") or os.environ.get(services.RECEIPT_KEY_ENV)
        if not given:
            raise CommandError(f"name the key file, or set {services.RECEIPT_KEY_ENV}")
        path = Path(given)
        if path.is_dir():
            raise CommandError(f"{path} is a directory; name the key file")
        if path.exists() and not options["force"]:
            raise CommandError(
                f"{path} exists: refusing to replace the receipt signing key (receipts signed with it "
                "would no longer verify). Use --force to replace it."
            )
        try:
            key = services.write_signing_key(path, force=options["force"])
        except FileExistsError as exc:  # created meanwhile by someone else
            raise CommandError(f"{path} exists: use --force to replace it") from exc
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from exc
        services._keys.pop(path, None)  # a key cached under this path in this process is stale
        public = key.public_key()
        pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.stdout.write(f"receipt signing key written to {path} (mode 0600)")
        self.stdout.write(f"key id: {services.key_id(public)}")
        self.stdout.write(f"SHA-256 fingerprint: {services.key_fingerprint(public)}")
        self.stdout.write(pem.decode("ascii").rstrip("\n"))
        if given != os.environ.get(services.RECEIPT_KEY_ENV):
            self.stdout.write(f"set {services.RECEIPT_KEY_ENV}={path} in the service's environment")
