"""``dancu synthetic_master_list OUT [--anchor-out PEM] [--crl-out PEM] [--countries DE,FR]``: write a
master list of the synthetic foreign states' CSCAs (``foreign_trust.synthetic_foreign_pki``, kept
under ``var/chip-pki/foreign``) for the demo and for trying ``import_master_list``; with
``--crl-out``, a PEM bundle of a current CRL of each of those CSCAs (issued now, next update in 90
days, nothing revoked) for ``import_crl`` (ADR 0017 §12). Never real keys."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.blocks.identity.foreign_trust import SYNTHETIC_STATES, synthetic_foreign_pki


class Command(BaseCommand):
    help = "Write a synthetic ICAO CSCA master list (synthetic states only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path)
        parser.add_argument("--anchor-out", type=Path, help="write the compiler's CSCA (the anchor) here")
        parser.add_argument("--crl-out", type=Path, help="write a current CRL of each CSCA here (PEM)")
        parser.add_argument("--countries", default=",".join(SYNTHETIC_STATES))

    def handle(self, *args: Any, **options: Any) -> None:
        countries = [c.strip().upper() for c in options["countries"].split(",") if c.strip()]
        unknown = [c for c in countries if c not in SYNTHETIC_STATES]
        if unknown:
            raise CommandError(
                f"no synthetic state {', '.join(unknown)}; choose from {', '.join(SYNTHETIC_STATES)}"
            )
        pki = synthetic_foreign_pki()
        options["out"].write_bytes(pki.master_list(countries))
        if options["anchor_out"]:
            options["anchor_out"].write_bytes(
                pki.compiler_csca.certificate.public_bytes(serialization.Encoding.PEM)
            )
        if options["crl_out"]:
            now = datetime.now(UTC).replace(microsecond=0)
            options["crl_out"].write_bytes(
                b"".join(
                    x509.load_der_x509_crl(pki.crl(c, this_update=now)).public_bytes(
                        serialization.Encoding.PEM
                    )
                    for c in countries
                )
            )
        self.stdout.write(f"wrote a master list of {', '.join(countries)} to {options['out']}")
