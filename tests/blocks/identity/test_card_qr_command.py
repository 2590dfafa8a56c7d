"""``dancu card_qr``: the card QR of a registry citizen for trying the desks on demo data — the
same text the card carries, a QR image that decodes to it, the read audited, bad input refused."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity.qr import decode_qr
from tests.blocks.identity.conftest import AN_ID, AN_QR, MAI_ID


def run(*args: str) -> str:
    out = StringIO()
    call_command("card_qr", *args, stdout=out)
    return out.getvalue()


def test_it_prints_the_text_of_the_citizens_chip_card_and_the_read_is_audited(residents: Any) -> None:
    assert run(AN_ID).strip() == AN_QR
    event = AuditEvent.objects.filter(subject_citizen_id=residents["an"].citizen_id).latest("id")
    assert (event.action, event.purpose, event.result) == ("registry.read", "registry.administration", "ok")


def test_a_cancuoc_holder_gets_the_2024_card_and_the_png_decodes_to_the_same_text(
    residents: Any, tmp_path: Path
) -> None:
    png = tmp_path / "mai.png"
    text = run(MAI_ID, "--png", str(png)).splitlines()[0]
    assert text.startswith(f"{MAI_ID}||Huỳnh Thị Mai|12081992|Nữ|")
    assert decode_qr(png.read_bytes()) == [text]


def test_an_unknown_or_malformed_number_is_refused_with_the_reason(residents: Any) -> None:
    with pytest.raises(CommandError, match="no citizen"):
        run("001099999999")
    with pytest.raises(CommandError, match="12 digits"):
        run("12345")


def test_a_citizen_without_a_qr_card_is_refused(residents: Any) -> None:
    from dancu.blocks.registry.models import IdentityCard

    IdentityCard.objects.filter(card_number=AN_ID).delete()
    with pytest.raises(CommandError, match="no chip card or căn cước"):
        run(AN_ID)
