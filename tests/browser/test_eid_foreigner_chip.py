"""In a real browser: the Tây Hồ officer raises Anna Schmidt (German resident, level 1) to level 2
at the desk; the page's "read the passport chip" button asks the NFC reader's bridge on the
officer's machine — the development driver ``identity.reader.SimulatedReader`` with Anna's
synthetic German passport on it — to open the chip with the key from the MRZ (BAC), and the server
verifies what it read (ADR 0017 §10–§12). Denials: a mistyped MRZ, whose key the chip refuses, and
a chip whose Document Signer Germany has revoked, which the officer sees refused with the step.
Debian's Chromium via Playwright; screenshots in ``tmp_path`` or ``$DANCU_SCREENSHOT_DIR``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from dancu.blocks.eid.models import Account
from dancu.blocks.identity.chip import ChipData, parse_dg2
from dancu.blocks.identity.foreign_trust import import_crls
from dancu.blocks.identity.passport import issue_passport_chip
from dancu.blocks.identity.reader import SimulatedReader, serve_bridge
from tests.apps.eiddesk.test_foreigner_level2 import anna_level1  # noqa: F401 — the fixture
from tests.blocks.eid.conftest import outbox  # noqa: F401 — the fixture
from tests.blocks.eid.test_foreigners import mrz
from tests.blocks.identity.passport_helpers import (
    anna_passport_mrz,
    foreign_pki,
    german_ds_serial,
    import_foreign_trust,
)
from tests.browser.helpers import headless_chromium, log_in, new_page
from tests.conftest import Person

pytestmark = pytest.mark.browser
PAGE = "/eid-desk/activate/foreigner/"


@contextmanager
def _the_desk_with_annas_passport_on_the_reader(
    live_server: Any, settings: Any, officer: Person, passport: ChipData | None = None, can: str = ""
) -> Iterator[Any]:
    """The desk's page in Chromium, ``officer`` logged in; the development reader with Anna's
    passport (``passport``, or one without AA) on it behind the bridge for the desk's origin,
    shut down after."""
    reader = SimulatedReader()
    reader.place(
        passport or issue_passport_chip(anna_passport_mrz(), foreign_pki().document_signer("DE")), can=can
    )
    bridge = serve_bridge(reader, origin=live_server.url)
    threading.Thread(target=bridge.serve_forever, daemon=True).start()
    settings.DANCU_KIOSK_READER_BRIDGE = f"http://127.0.0.1:{bridge.server_address[1]}"
    try:
        with headless_chromium() as chromium:
            page = new_page(chromium)
            log_in(page, live_server.url, officer, PAGE)
            yield page
    finally:
        bridge.shutdown()
        bridge.server_close()


def _read_the_chip(page: Any, passport_mrz: str, status: str) -> None:
    """The officer fills the form with ``passport_mrz``, presses the button that reads the passport
    chip and waits until the page's chip status says ``status``."""
    page.fill("#id_passport_mrz", passport_mrz)
    page.fill("#id_card_number", "TT2025-00123")
    page.check("#id_face_confirmed")
    page.click("[data-testid=read-passport-chip]")
    page.wait_for_selector(f"#passport-chip-status:has-text('{status}')")


def test_the_officer_reads_annas_chip_with_the_button_and_raises_her_on_chip_evidence(
    live_server: Any,
    transactional_db: None,
    anna_level1: int,  # noqa: F811
    ward_police: Person,
    screenshots: Path,
    settings: Any,
) -> None:
    import_foreign_trust(["DE", "FR"], at=timezone.now() - timedelta(days=1))  # with current CRLs
    with _the_desk_with_annas_passport_on_the_reader(live_server, settings, ward_police) as page:
        # A mistyped document number: the chip refuses the key and the page says so.
        _read_the_chip(page, mrz(document_number="C01X00T48"), "Chip từ chối khóa")
        assert page.input_value("#id_chip_json") == ""
        # The MRZ as printed: the chip opens and its files fill the field.
        _read_the_chip(page, mrz(), "Đã đọc chip")
        assert '"sod"' in page.input_value("#id_chip_json")
        page.screenshot(path=str(screenshots / "eid-foreigner-chip-read.png"), full_page=True)
        page.click("#passport-chip-form button[type=submit]")
        page.wait_for_selector("[data-testid=foreigner-evidence][data-evidence=passport_chip]")
        assert page.get_attribute("[data-testid=foreigner-evidence]", "data-chip") == "verified"
        page.screenshot(path=str(screenshots / "eid-foreigner-chip-activated.png"), full_page=True)
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
    import_crls(foreign_pki().crl("DE", this_update=now - timedelta(days=2), revoked=[german_ds_serial()]))
    with _the_desk_with_annas_passport_on_the_reader(live_server, settings, ward_police) as page:
        _read_the_chip(page, mrz(), "Đã đọc chip")
        page.click("#passport-chip-form button[type=submit]")
        page.wait_for_selector("[data-testid=problems]")
        problems = page.inner_text("[data-testid=problems]")
        page.screenshot(path=str(screenshots / "eid-foreigner-chip-revoked.png"), full_page=True)
        assert "ds.revocation" in problems and "revoked on" in problems
        assert page.locator("[data-testid=foreigner-activated]").count() == 0
    assert Account.objects.get(pk=anna_level1).level == 1


def test_the_officer_opens_a_pace_passport_with_its_can_and_the_chip_signs_the_pages_challenge(
    live_server: Any,
    transactional_db: None,
    anna_level1: int,  # noqa: F811
    ward_police: Person,
    screenshots: Path,
    settings: Any,
) -> None:
    """ADR 0017 §14: Anna's newer passport prints a card access number and has an Active
    Authentication key. The officer types the CAN (PACE), the button reads the chip with the page's
    challenge, the officer adds a live photo; the server verifies the chip's answer and compares
    the photo with the chip's portrait."""
    import_foreign_trust(["DE"], at=timezone.now() - timedelta(days=1))
    passport = issue_passport_chip(
        anna_passport_mrz(), foreign_pki().document_signer("DE"), face_seed=7, with_active_auth=True
    )
    assert passport.dg2 is not None
    with _the_desk_with_annas_passport_on_the_reader(
        live_server, settings, ward_police, passport, can="482916"
    ) as page:
        page.fill("#passport-can", "482917")  # one digit wrong: the chip refuses it
        _read_the_chip(page, mrz(), "Chip từ chối khóa")
        page.fill("#passport-can", "482916")
        _read_the_chip(page, mrz(), "Đã đọc chip")
        assert page.input_value("#id_chip_aa")  # the chip's answer to the page's challenge
        photo = parse_dg2(passport.dg2).image  # the holder, as the chip's portrait shows her
        page.set_input_files(
            "#id_live_photo", files=[{"name": "live.jpg", "mimeType": "image/jpeg", "buffer": photo}]
        )
        page.click("#passport-chip-form button[type=submit]")
        page.wait_for_selector("[data-testid=foreigner-checks][data-active-auth=verified][data-face=matched]")
        page.screenshot(path=str(screenshots / "eid-foreigner-pace-aa.png"), full_page=True)
    account = Account.objects.get(pk=anna_level1)
    assert (account.level, account.level2_evidence) == (2, "passport_chip")
