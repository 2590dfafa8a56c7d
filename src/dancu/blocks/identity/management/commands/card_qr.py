"""``dancu card_qr ID_NUMBER [--png FILE]``: the card QR of a registry citizen, for trying the
desks and the verification API on the (synthetic) demo population.

The record is read through the registry's service as the platform (purpose
``registry.administration``), so the read is audited like any other; the QR is built from the
citizen's newest chip card (Circular 06/2021/TT-BCA) or căn cước (Circular 16/2024/TT-BCA).
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.identity.qr import CardQr, qr_png
from dancu.blocks.registry.services import get_by_id_number
from dancu.errors import DomainValidationError, NotFound

_QR_KINDS = {"cccd_chip": "cccd_2021", "can_cuoc": "cancuoc_2024"}


def card_qr_of(id_number: str) -> CardQr:
    """The QR content of the citizen's newest card that carries a QR (raises CommandError)."""
    ctx = AccessContext(Actor.system("card_qr command"), "registry.administration", "demo card QR")
    try:
        view = get_by_id_number(ctx, id_number)
    except (DomainValidationError, NotFound) as exc:
        raise CommandError(str(exc)) from None
    card = next((c for c in view.cards or [] if c.kind in _QR_KINDS), None)
    if card is None or view.date_of_birth is None or view.sex is None:
        raise CommandError(f"{id_number}: no chip card or căn cước in the registry")
    return CardQr(
        kind=_QR_KINDS[card.kind],  # type: ignore[arg-type]
        id_number=view.id_number,
        old_id_number=(view.old_id_numbers or [""])[0],
        full_name=view.full_name,
        date_of_birth=view.date_of_birth,
        sex=view.sex,  # type: ignore[arg-type]
        address=view.permanent_address.text if view.permanent_address else "",
        issue_date=card.issued_on,
    )


class Command(BaseCommand):
    help = "Print the card QR text of a registry citizen (demo data); --png writes the QR image."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("id_number")
        parser.add_argument("--png", type=Path, help="also write the QR code as a PNG image")

    def handle(self, *args: Any, **options: Any) -> None:
        qr = card_qr_of(options["id_number"])
        self.stdout.write(qr.text)
        if options["png"]:
            options["png"].write_bytes(qr_png(qr, scale=6))
            self.stdout.write(f"written {options['png']}")
