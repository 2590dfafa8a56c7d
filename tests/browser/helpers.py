"""The browser of the browser tests: Debian's Chromium (``apt-get install chromium``) driven by
Playwright, headless; a browser is never downloaded. Without Chromium a test fails — it must not
pass silently by skipping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections

from dancu.blocks.registry.services import NewCitizen, register_citizen
from tests.conftest import Person

AN_ADDRESS = "Số 5 ngõ 12, Phường Quảng An, Quận Tây Hồ, Hà Nội"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def headless_chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright; fails the test (never skips) without it."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install Debian's package with "
            "`apt-get install -y chromium` (browser tests never download a browser).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # Inside this block Playwright's event loop counts as running in this thread, so
            # Django keeps the test's ORM calls on connections of their own (its connection
            # handler is an asgiref thread-critical ``Local``: per context while a loop runs).
            # Nothing else closes them: they would stay open after the test and keep the test
            # database from being dropped at the end of the run. Only those are closed here.
            connections.close_all()


def new_page(chromium: Any, *, height: int = 1000) -> Any:
    """A Vietnamese page 1280 pixels wide that waits up to 15 s for what it is asked to find."""
    page = chromium.new_page(viewport={"width": 1280, "height": height}, locale="vi-VN")
    page.set_default_timeout(15_000)
    return page


def log_in(page: Any, base: str, person: Person, next_path: str) -> None:
    """Log ``person`` in as staff and wait for ``next_path``: ``/login/`` starts the staff
    applications' SSO flow, the provider shows its log-in form (``/eid/login/``), then the code
    comes back to ``/login/callback`` and the browser lands on ``next_path`` (ADR 0011)."""
    page.goto(f"{base}/login/?next={next_path}")
    page.fill("#id_username", person.user.username)
    page.fill("#id_password", person.password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}{next_path}")


def register_an(registrar: Person, *, old_id_numbers: tuple[str, ...] = ()) -> int:
    """Load the administrative units and register Nguyễn Văn An of Phường Tây Hồ through the
    registry service; his citizen id."""
    call_command("load_adminunits", verbosity=0)
    view = register_citizen(
        registrar.ctx("registry.administration"),
        NewCitizen(
            id_number="001085012345",
            full_name="Nguyễn Văn An",
            date_of_birth=date(1985, 3, 2),
            sex="M",
            permanent_address_text=AN_ADDRESS,
            old_id_numbers=old_id_numbers,
        ),
        reason="Đăng ký thử nghiệm",
        legal_basis="Luật Cư trú 2020",
    )
    return view.citizen_id


@contextmanager
def reader_bridge(settings: Any, origin: str, chip: Any = None) -> Iterator[Any]:
    """The card reader's bridge of a kiosk's own machine (``identity.reader.serve_bridge`` over a
    simulated reader, ``chip`` placed on it if given), served for the browser at ``origin`` and
    set as the kiosks' ``DANCU_KIOSK_READER_BRIDGE``; yields the reader (place another card on it)."""
    import threading

    from dancu.blocks.identity.reader import SimulatedReader, serve_bridge

    reader = SimulatedReader()
    if chip is not None:
        reader.place(chip)
    bridge = serve_bridge(reader, origin=origin)
    threading.Thread(target=bridge.serve_forever, daemon=True).start()
    settings.DANCU_KIOSK_READER_BRIDGE = f"http://127.0.0.1:{bridge.server_address[1]}"
    try:
        yield reader
    finally:
        bridge.shutdown()
        bridge.server_close()
