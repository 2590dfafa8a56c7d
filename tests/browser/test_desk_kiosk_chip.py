"""In a real browser (issue 3, model 7; ADR 0017 §16): the clinic's self-service kiosk hands the
server's one-time challenge to the card reader's bridge with the card access number; the bridge
(simulated, on the kiosk's own machine) has the chip sign it, and the page sends the answer with
the files. A clone of Nguyễn Văn An's card — its signed files on a chip with another key — is
refused and sent to the desk; his own card checks him in with a queue ticket. Debian's Chromium
via Playwright; screenshots in ``tmp_path`` or ``$DANCU_SCREENSHOT_DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dancu.apps.desks import services
from dancu.apps.desks.models import Encounter
from dancu.blocks.identity.chip import issue_chip
from dancu.blocks.identity.models import VerificationRecord
from dancu.blocks.identity.mrz import pace_can
from tests.apps.desks.test_desk_active_auth import clone
from tests.blocks.identity.conftest import Pki, an_holder, pki, trusted  # noqa: F401 — fixtures
from tests.browser.helpers import headless_chromium, new_page, reader_bridge
from tests.browser.test_desks import clinic_clerk, patient  # noqa: F401 — fixtures

pytestmark = pytest.mark.browser
AN_ID = "001085012345"


@pytest.mark.usefixtures("clinic_clerk", "patient", "trusted")
def test_the_kiosk_checks_in_ans_card_by_active_authentication_and_refuses_a_clone(
    live_server: Any,
    pki: Pki,  # noqa: F811
    screenshots: Path,
    settings: Any,
) -> None:
    ds = pki.document_signer
    card = issue_chip(an_holder(), ds.private_key, ds.certificate, with_active_auth="ecdsa")
    base = live_server.url
    key = services.register_kiosk("PK-HONGNGOC", "Sảnh tầng 1").key
    with reader_bridge(settings, base) as reader, headless_chromium() as chromium:
        page = new_page(chromium)
        page.goto(f"{base}/desks/kiosk/enrol/")
        page.fill("input[name=key]", key)
        page.click("button[type=submit]")
        page.goto(f"{base}/desks/kiosk/")
        for chip, ok in ((clone(card, pki), False), (card, True)):
            reader.place(chip)
            page.fill("#kiosk-can", pace_can(AN_ID))
            page.click("[data-testid=kiosk-read-chip]")
            page.wait_for_load_state("load")
            if ok:
                page.wait_for_selector("[data-testid=ticket]")
                page.screenshot(path=str(screenshots / "kiosk-chip-active-auth.png"), full_page=True)
            else:
                page.wait_for_selector("[role=alert], .alert", timeout=10_000)
                assert page.locator("[data-testid=ticket]").count() == 0
                page.goto(f"{base}/desks/kiosk/")
    encounter = Encounter.objects.get()
    assert (encounter.source, encounter.id_number, encounter.evidence_kind) == ("kiosk", AN_ID, "chip")
    refused = VerificationRecord.objects.exclude(decision="match").get()
    assert "chip_active_authentication_failed" in str(refused.reason_codes)
