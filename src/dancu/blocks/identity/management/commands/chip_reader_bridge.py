"""``dancu chip_reader_bridge ID_NUMBER --origin URL [--port 47800]``: the development card reader
for the clinic kiosk (model 7), with a demo citizen's card on it.

Issues the chip of the citizen's newest chip card or căn cước (``chip.issue_chip``, signed by the
synthetic Document Signer of the demo trust store, ``trust.synthetic_pki``), puts it on a
``reader.SimulatedReader`` and serves the reader bridge on 127.0.0.1 for the kiosk page of
``--origin`` (``reader.serve_bridge``) until interrupted. The kiosk then reads the chip with the
last six digits of the ID number (the CAN). Demo data only: run with ``DANCU_DEMO=1``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.identity.chip import CardHolder, issue_chip
from dancu.blocks.identity.management.commands.card_qr import card_qr_of
from dancu.blocks.identity.reader import SimulatedReader, serve_bridge
from dancu.blocks.identity.trust import synthetic_pki
from dancu.blocks.registry.services import get_by_id_number
from dancu.errors import DomainValidationError


def demo_reader(id_number: str) -> SimulatedReader:
    """A simulated reader holding the chip of the registry citizen ``id_number``'s newest card."""
    qr = card_qr_of(id_number)  # the card's printed data, read audited as the platform
    ctx = AccessContext(Actor.system("chip_reader_bridge command"), "registry.administration", "demo chip")
    view = get_by_id_number(ctx, id_number)
    card = next(c for c in view.cards or [] if c.card_number == qr.id_number and c.issued_on == qr.issue_date)
    holder = CardHolder(
        id_number=qr.id_number,
        full_name=qr.full_name,
        date_of_birth=qr.date_of_birth,
        sex=qr.sex,
        place_of_origin=view.origin.text if view.origin else qr.address,
        place_of_residence=qr.address,
        issue_date=qr.issue_date,
        expiry_date=card.expires_on,
        old_id_number=qr.old_id_number,
        face_seed=view.citizen_id,
    )
    signer = synthetic_pki().document_signer
    try:
        chip = issue_chip(holder, signer.private_key, signer.certificate)
    except DomainValidationError as exc:
        raise CommandError(str(exc)) from None
    reader = SimulatedReader()
    reader.place(chip)
    return reader


class Command(BaseCommand):
    help = "Serve the development card-reader bridge for the kiosk, with a demo citizen's card on it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("id_number")
        parser.add_argument(
            "--origin", required=True, help="the kiosk page's origin, e.g. http://127.0.0.1:8000"
        )
        parser.add_argument("--port", type=int, default=47800)

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "DEMO", False):
            raise CommandError("demo data only: run with DANCU_DEMO=1")
        reader = demo_reader(options["id_number"])
        server = serve_bridge(reader, origin=options["origin"], port=options["port"])
        self.stdout.write(
            f"card reader bridge on http://127.0.0.1:{server.server_address[1]} for {options['origin']}; "
            f"CAN = last 6 digits of {options['id_number']}; Ctrl-C to stop"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
