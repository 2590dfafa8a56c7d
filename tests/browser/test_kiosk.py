"""In a real browser (issue 7, model 2): the kiosk of Công an phường Tây Hồ is enrolled; Nguyễn Văn
An scans his card's QR code (typing nothing personal), taps on the kiosk's keypad the one-time code
that came to his phone (a QR is not the card holder: ADR 0013, decision 3; a wrong code is refused
first), confirms his old CMND number with one touch, and
gets a printable receipt with a QR code; the officer sees the kiosk dossier on the evaluation
dashboard. Left idle, the kiosk wipes the session by itself. Then An opens his card's chip on the
reader (its bridge, simulated) and asks for a new card, a level-2 service. Debian's Chromium via Playwright;
screenshots in ``tmp_path`` or ``$DANCU_SCREENSHOT_DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dancu.apps.kiosk import services as kiosks
from dancu.apps.public_services.models import Dossier

# Autouse fixtures: the platform's signing key, and the portal reading the registry through the
# data-exchange gateway (as in production, and as in tests/apps/kiosk).
from tests.apps.public_services.conftest import portal_on_gateway, receipt_key  # noqa: F401
from tests.blocks.eid.conftest import (  # noqa: F401 — fixtures
    AN_PHONE,
    Outbox,
    an_phone_on_record,
    an_registered,
    outbox,
    pki,
    residents,
    trusted,
)
from tests.blocks.identity.conftest import AN_ID, AN_OLD_ID, AN_QR, an_chip  # noqa: F401
from tests.browser.helpers import headless_chromium, log_in, new_page, reader_bridge
from tests.conftest import Person

pytestmark = pytest.mark.browser


def enrol(page: Any, base: str, key: str) -> None:
    """The office's administrator enters the device key in the enrolment form (never in a URL)."""
    page.goto(f"{base}/kiosk/ghi-danh/")
    page.fill("[data-testid=kiosk-key]", key)
    page.click("[data-testid=kiosk-enrol-form] button[type=submit]")
    page.wait_for_url(f"{base}/kiosk/")


def tap_code(page: Any, code: str) -> None:
    """The citizen taps the code's digits on the on-screen keypad and confirms."""
    page.click("[data-testid=keypad] [data-action=clear]")
    for digit in code:
        page.click(f"[data-testid=key-{digit}]")
    page.click("[data-testid=code-submit]")


def test_a_citizen_uses_the_kiosk_and_an_idle_kiosk_wipes_itself(
    live_server: Any,
    transactional_db: None,
    an_registered: int,  # noqa: F811
    outbox: Outbox,  # noqa: F811
    ward_police: Person,
    screenshots: Path,
    settings: Any,
) -> None:
    base = live_server.url
    key = kiosks.register_kiosk("CA-P-TAYHO", "Ki-ốt sảnh 1").key
    with headless_chromium() as chromium:
        page = new_page(chromium)
        enrol(page, base, key)
        assert page.get_attribute("html", "lang") == "vi"
        page.screenshot(path=str(screenshots / "kiosk-start.png"), full_page=True)
        # The scanner "types" the QR code's text into the focused field and presses Enter.
        page.locator("#kiosk-qr-text").press_sequentially(AN_QR)
        page.keyboard.press("Enter")
        # A QR alone shows nothing of An's: the code sent to his account's verified phone first.
        page.wait_for_url(f"{base}/kiosk/ma-xac-thuc/")
        assert page.inner_text("[data-testid=phone]").strip() == "*******678"
        assert "Nguyễn Văn An" not in page.content() and AN_ID not in page.content()
        code = outbox.last_code(AN_PHONE)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        tap_code(page, wrong)
        page.wait_for_selector("[data-testid=problems]")
        assert "Số lần thử còn lại: 2" in page.inner_text("[data-testid=problems]")
        page.screenshot(path=str(screenshots / "kiosk-code.png"), full_page=True)
        page.click("[data-testid=keypad] [data-testid=key-1]")
        page.click("[data-testid=key-delete]")
        assert page.input_value("#kiosk-code") == ""
        tap_code(page, code)
        page.wait_for_url(f"{base}/kiosk/dich-vu/")
        page.click("[data-service=cmnd-confirmation]")
        page.wait_for_url(f"{base}/kiosk/dich-vu/cmnd-confirmation/")
        assert "Nguyễn Văn An" in page.inner_text("[data-testid=prefilled]")
        assert page.is_checked(f"input[name=old_number][value='{AN_OLD_ID}']")
        page.screenshot(path=str(screenshots / "kiosk-form.png"), full_page=True)
        page.click("[data-testid=submit]")
        page.wait_for_url("**/kiosk/bien-nhan/DVC-*/")
        tracking = page.inner_text("[data-testid=tracking]").strip()
        assert page.get_attribute("[data-testid=status]", "data-status") == "done"
        assert page.locator("img[data-testid=qr]").count() == 1
        page.emulate_media(media="print")
        assert not page.is_visible("[data-testid=print]") and page.is_visible("[data-testid=receipt]")
        page.emulate_media(media="screen")
        page.screenshot(path=str(screenshots / "kiosk-receipt.png"), full_page=True)
        # Keyboard and contrast: the high-contrast switch is a real button.
        page.focus("[data-testid=contrast]")
        page.keyboard.press("Enter")
        page.wait_for_selector("body.contrast")

        # Left alone, the page posts the time-out and the server wipes the session.
        settings.DANCU_KIOSK_IDLE_SECONDS = 2
        page.goto(f"{base}/kiosk/dich-vu/")
        page.wait_for_selector("[data-testid=expired]", timeout=10_000)
        assert page.url == f"{base}/kiosk/"
        assert not page.is_visible("body.contrast")
        page.goto(f"{base}/kiosk/dich-vu/")
        page.wait_for_url(f"{base}/kiosk/")

        official = new_page(chromium)
        log_in(official, base, ward_police, "/danh-gia-dvc/")
        assert official.inner_text("[data-testid=kiosk]").startswith("1")
        official.screenshot(path=str(screenshots / "evaluation-dashboard.png"), full_page=True)
    # ORM calls after the browser is closed: inside Playwright's event loop they would open a
    # connection of their own that outlives the test (PostgreSQL then refuses to drop the database).
    assert Dossier.objects.get(tracking_code=tracking).channel == Dossier.Channel.KIOSK


def test_a_citizen_reads_the_cards_chip_and_asks_for_a_new_card(
    live_server: Any,
    transactional_db: None,
    an_registered: int,  # noqa: F811
    an_chip: Any,  # noqa: F811
    trusted: Any,  # noqa: F811
    ward_police: Person,
    screenshots: Path,
    settings: Any,
) -> None:
    """The chip path: the kiosk page asks the card reader's bridge on its own machine (the
    simulated reader with An's synthetic card on it) to open the chip with the card access number,
    the platform checks the signed files (passive authentication), and the level-2 service — the
    re-issue of a still-valid card — is open to him."""
    from dancu.blocks.identity.mrz import pace_can

    base = live_server.url
    key = kiosks.register_kiosk("CA-P-TAYHO", "Ki-ốt sảnh 2").key
    with reader_bridge(settings, base, an_chip), headless_chromium() as chromium:
        page = new_page(chromium)
        enrol(page, base, key)
        page.fill("#kiosk-can", "000000")
        page.click("[data-testid=kiosk-read-chip]")
        page.wait_for_selector("[data-testid=kiosk-chip-status]:has-text('Thẻ không chấp nhận')")
        page.fill("#kiosk-can", pace_can(AN_ID))
        page.click("[data-testid=kiosk-read-chip]")
        page.wait_for_url(f"{base}/kiosk/dich-vu/")
        page.click("a[data-service=card-reissue]")
        page.wait_for_url(f"{base}/kiosk/dich-vu/card-reissue/")
        page.select_option("#id_reason", "damaged")
        page.screenshot(path=str(screenshots / "kiosk-card-reissue.png"), full_page=True)
        page.click("[data-testid=submit]")
        page.wait_for_url("**/kiosk/bien-nhan/DVC-*/")
        tracking = page.inner_text("[data-testid=tracking]").strip()
    dossier = Dossier.objects.get(tracking_code=tracking)
    assert dossier.service_code == "card-reissue" and dossier.channel == Dossier.Channel.KIOSK
