"""In a real browser: the Tây Hồ officer raises Anna Schmidt (German resident, level 1) to level 2
at the desk; the page's "read the passport chip" button asks the NFC reader's bridge on the
officer's machine — the development driver ``identity.reader.SimulatedReader`` with Anna's
synthetic German passport on it — to open the chip with the key from the MRZ (BAC), and the server
verifies what it read (ADR 0017 §10–§12). Denials: a mistyped MRZ, whose key the chip refuses, and
a chip whose Document Signer Germany has revoked, which the officer sees refused with the step.
Debian's Chromium via Playwright; screenshots in ``tmp_path`` or ``$DANCU_SCREENSHOT_DIR``."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from dancu.blocks.eid.models import Account
from dancu.blocks.identity.foreign_trust import import_crls
from dancu.blocks.identity.passport import issue_passport_chip
from dancu.blocks.identity.reader import SimulatedReader, serve_bridge
from tests.apps.eiddesk.test_foreigner_level2 import anna_level1  # noqa: F401 — the fixture
from tests.blocks.eid.conftest import outbox  # noqa: F401 — the fixture
from tests.blocks.eid.test_foreigners import mrz
from tests.blocks.identity.passport_helpers import anna_passport_mrz, foreign_pki, import_foreign_trust
from tests.browser.helpers import headless_chromium, log_in, new_page
from tests.conftest import Person

pytestmark = pytest.mark.browser
PAGE = "/eid-desk/activate/foreigner/"


def _reader_with_annas_passport(live_server: Any, settings: Any) -> Any:
    """The development reader with Anna's passport on it, behind the bridge for the desk's origin."""
    reader = SimulatedReader()
    reader.place(issue_passport_chip(anna_passport_mrz(), foreign_pki().document_signer("DE")))
    bridge = serve_bridge(reader, origin=live_server.url)
    threading.Thread(target=bridge.serve_forever, daemon=True).start()
    settings.DANCU_KIOSK_READER_BRIDGE = f"http://127.0.0.1:{bridge.server_address[1]}"
    return bridge


def _fill_the_form(page: Any, passport_mrz: str) -> None:
    page.fill("#id_passport_mrz", passport_mrz)
    page.fill("#id_card_number", "TT2025-00123")
    page.check("#id_face_confirmed")


def test_the_officer_reads_annas_chip_with_the_button_and_raises_her_on_chip_evidence(
    live_server: Any,
    transactional_db: None,
    anna_level1: int,  # noqa: F811
    ward_police: Person,
    screenshots: Path,
    settings: Any,
) -> None:
    import_foreign_trust(["DE", "FR"], at=timezone.now() - timedelta(days=1))  # with current CRLs
    bridge = _reader_with_annas_passport(live_server, settings)
    base = live_server.url
    try:
        with headless_chromium() as chromium:
            page = new_page(chromium)
            log_in(page, base, ward_police, PAGE)
            # A mistyped document number: the chip refuses the key and the page says so.
            _fill_the_form(page, mrz(document_number="C01X00T48"))
            page.click("[data-testid=read-passport-chip]")
            page.wait_for_selector("#passport-chip-status:has-text('Chip từ chối khóa')")
            assert page.input_value("#id_chip_json") == ""
            # The MRZ as printed: the chip opens and its files fill the field.
            _fill_the_form(page, mrz())
            page.click("[data-testid=read-passport-chip]")
            page.wait_for_selector("#passport-chip-status:has-text('Đã đọc chip')")
            assert '"sod"' in page.input_value("#id_chip_json")
            page.screenshot(path=str(screenshots / "eid-foreigner-chip-read.png"), full_page=True)
            page.click("#passport-chip-form button[type=submit]")
            page.wait_for_selector("[data-testid=foreigner-evidence][data-evidence=passport_chip]")
            assert page.get_attribute("[data-testid=foreigner-evidence]", "data-chip") == "verified"
            page.screenshot(path=str(screenshots / "eid-foreigner-chip-activated.png"), full_page=True)
    finally:
        bridge.shutdown()
        bridge.server_close()
    account = Account.objects.get(pk=anna_level1)
    assert (account.level, account.level2_evidence) == (2, "passport_chip")


def test_a_passport_whose_document_signer_was_revoked_is_refused_on_the_page(
    live_server: Any,
    transactional_db: None,
    anna_level1: int,  # noqa: F811
    ward_police: Person,
    screenshots: Path,
    settings: Any,
) -> None:
    now = timezone.now()
    import_foreign_trust(["DE"], at=now - timedelta(days=1), crls=False)
    revoked = int(foreign_pki().document_signer("DE").certificate.serial_number)
    import_crls(foreign_pki().crl("DE", this_update=now - timedelta(days=2), revoked=[revoked]))
    bridge = _reader_with_annas_passport(live_server, settings)
    base = live_server.url
    try:
        with headless_chromium() as chromium:
            page = new_page(chromium)
            log_in(page, base, ward_police, PAGE)
            _fill_the_form(page, mrz())
            page.click("[data-testid=read-passport-chip]")
            page.wait_for_selector("#passport-chip-status:has-text('Đã đọc chip')")
            page.click("#passport-chip-form button[type=submit]")
            page.wait_for_selector("[data-testid=problems]")
            problems = page.inner_text("[data-testid=problems]")
            page.screenshot(path=str(screenshots / "eid-foreigner-chip-revoked.png"), full_page=True)
            assert "ds.revocation" in problems and "revoked on" in problems
            assert page.locator("[data-testid=foreigner-activated]").count() == 0
    finally:
        bridge.shutdown()
        bridge.server_close()
    assert Account.objects.get(pk=anna_level1).level == 1
