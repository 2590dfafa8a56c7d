"""``dancu import_crl FILE [FILE ...]``: import CSCA certificate revocation lists (ICAO Doc 9303
part 12 §7) for the foreign passports' trust store (``foreign_trust.import_crls``).

Each file is one DER CRL or PEM with one or more ``X509 CRL`` blocks. Every CRL must be signed by
a CSCA already imported from a master list (``dancu import_master_list`` first); a file with a CRL
that fails any step is refused with the step's name and nothing of it is stored (exit status 1).
A CRL is kept only if its cRLNumber is above the stored one. A CRL whose nextUpdate has passed is
stored but reported stale: passports signed by that CSCA's Document Signers then count as the
MRZ's weaker evidence until a current CRL is imported (ADR 0017 §12). Imports and refusals are
recorded in the audit log (``identity.crl.import``).
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.blocks.identity.chip.crl import MAX_CRL_BYTES
from dancu.blocks.identity.foreign_trust import import_crls
from dancu.errors import DomainValidationError


class Command(BaseCommand):
    help = "Import CSCA certificate revocation lists (DER or PEM), verified against the stored CSCAs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", type=Path, nargs="+", help="CRL files (.crl DER, or PEM)")

    def handle(self, *args: Any, **options: Any) -> None:
        for path in options["files"]:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            if path.stat().st_size > MAX_CRL_BYTES:
                raise CommandError(f"{path}: larger than {MAX_CRL_BYTES} bytes")
            try:
                results = import_crls(
                    path.read_bytes(), source_name=path.name, actor_label="import_crl command"
                )
            except DomainValidationError as exc:
                problem = exc.problems[0]
                raise CommandError(f"{path}: CRL refused at step {problem.rule}: {problem.message}") from None
            for r in results:
                self.stdout.write(
                    f"{path.name}: CSCA {r.country} {r.csca_fingerprint[:12]} CRL {r.crl_number} {r.status}, "
                    f"{r.revoked_count} revoked, next update {r.next_update:%Y-%m-%d}"
                    + (" — STALE: import a newer CRL" if r.stale else "")
                )
