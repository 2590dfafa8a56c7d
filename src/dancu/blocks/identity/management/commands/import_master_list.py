"""``dancu import_master_list FILE [--anchors PEM]``: import an ICAO CSCA master list (ICAO Doc
9303 part 12 §9) into the foreign passports' trust store (``foreign_trust.import_master_list``).

The list must verify against the master-list trust anchors — ``--anchors`` (a PEM bundle or a
directory) or ``DANCU_MASTER_LIST_ANCHORS`` (demo: the synthetic compiler). A list that fails any
step is refused with the step's name and nothing is stored (exit status 1). The list is verified
at the time of the import (no option to verify it at another time), and the import or the refusal
is recorded in the audit log (``identity.master_list.import``).
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.blocks.identity.foreign_trust import MAX_MASTER_LIST_BYTES, import_master_list, load_anchors
from dancu.errors import DomainValidationError


class Command(BaseCommand):
    help = "Import an ICAO CSCA master list (verified against the master-list trust anchors)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the master list (DER CMS SignedData, .ml)")
        parser.add_argument("--anchors", type=Path, help="PEM bundle or directory of trust anchors")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        if path.stat().st_size > MAX_MASTER_LIST_BYTES:
            raise CommandError(f"{path}: larger than {MAX_MASTER_LIST_BYTES} bytes")
        try:
            anchors = load_anchors(options["anchors"]) if options["anchors"] else None
            result = import_master_list(
                path.read_bytes(),
                anchors=anchors,
                source_name=path.name,
                actor_label="import_master_list command",
            )
        except DomainValidationError as exc:
            problem = exc.problems[0]
            raise CommandError(f"master list refused at step {problem.rule}: {problem.message}") from None
        self.stdout.write(
            f"imported: {result.csca_count} CSCA(s) ({result.added_count} new, "
            f"{result.skipped_count} entries skipped) for {', '.join(result.countries)}; "
            f"signed by {result.signer_subject}"
        )
