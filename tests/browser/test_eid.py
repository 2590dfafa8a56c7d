"""In a real browser, the whole way of an eID account: Nguyễn Văn An registers at level 1, the
Tây Hồ commune police officer approves the application, then activates level 2 at the desk with
the chip read and a live photo; An logs in and sees level 2 and who accessed his data on his page;
he enrols an authenticator app, signs in to the two demo services with that one log-in (the
portal steps him up with a TOTP code) and sees both, and the data they received, on his page
(issue 4, "done means").
Debian's Chromium via Playwright (never downloaded); screenshots in ``tmp_path`` or
``$DANCU_SCREENSHOT_DIR``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyotp
import pytest

from dancu.apps.sso_demo.demo import seed_demo
from dancu.blocks.eid.assurance import ACR_L2, ACR_L2_MFA
from dancu.blocks.eid.models import TotpDevice
from dancu.blocks.identity.chip import ChipData, synthetic_face_jpeg
from tests.blocks.eid.conftest import (  # noqa: F401 — fixtures
    AN_ID,
    AN_PHONE,
    PASSWORD,
    Outbox,
    an_chip,
    outbox,
    pki,
    portrait,
    residents,
    trusted,
)
from tests.browser.helpers import headless_chromium, log_in, new_page
from tests.conftest import Person

pytestmark = pytest.mark.browser


def test_register_approve_activate_and_see_level_2_with_the_access_history(
    live_server: Any,
    transactional_db: None,
    residents: dict[str, Any],  # noqa: F811
    trusted: Any,  # noqa: F811
    an_chip: ChipData,  # noqa: F811
    outbox: Outbox,  # noqa: F811
    ward_police: Person,
    screenshots: Path,
    tmp_path: Path,
) -> None:
    selfie = tmp_path / "an.jpg"
    selfie.write_bytes(synthetic_face_jpeg(0))
    live = tmp_path / "an-live.jpg"
    live.write_bytes(portrait(an_chip))
    chip_json = json.dumps(an_chip.to_dict())
    base = live_server.url
    with headless_chromium() as chromium:
        citizen = new_page(chromium)
        citizen.goto(f"{base}/eid/register/")
        citizen.fill("#id_id_number", AN_ID)
        citizen.fill("#id_full_name", "Nguyễn Văn An")
        citizen.fill("#id_date_of_birth", "02/03/1985")
        citizen.fill("#id_phone", AN_PHONE)
        citizen.set_input_files("#id_photo", str(selfie))
        citizen.fill("#id_password", PASSWORD)
        citizen.fill("#id_password2", PASSWORD)
        citizen.screenshot(path=str(screenshots / "eid-register.png"), full_page=True)
        citizen.click("main form button[type=submit]")
        citizen.wait_for_url("**/eid/register/phone/")
        assert citizen.locator("[data-testid=received]").count() == 1
        # An does not confirm his phone: the application waits for the ward's police.

        officer = chromium.new_context(locale="vi-VN").new_page()
        officer.set_default_timeout(15_000)
        log_in(officer, base, ward_police, "/eid-desk/")
        row = officer.locator(f"[data-id-number='{AN_ID}']")
        assert row.locator("img").count() == 1  # the thumbnail for the approver
        officer.screenshot(path=str(screenshots / "eid-desk-pending.png"), full_page=True)
        row.locator("button[value=approve]").click()
        officer.wait_for_selector("[data-testid=decided]")
        assert officer.locator(f"[data-id-number='{AN_ID}']").count() == 0

        officer.goto(f"{base}/eid-desk/activate/")
        officer.fill("#id_chip_json", chip_json)
        officer.set_input_files("#id_live_photo", str(live))
        officer.click("main form button[type=submit]")
        officer.wait_for_selector("[data-testid=activated]")
        officer.screenshot(path=str(screenshots / "eid-desk-activated.png"), full_page=True)

        citizen.goto(f"{base}/eid/login/?next=/eid/me/")
        citizen.fill("#id_username", AN_ID)
        citizen.fill("#id_password", PASSWORD)
        citizen.click("main form button[type=submit]")
        citizen.wait_for_url(f"{base}/eid/me/")
        assert "Mức 2" in citizen.inner_text("[data-testid=level]")
        history = citizen.inner_text("[data-testid=history]")
        assert "eid.activate" in history and "identity.verify" in history
        assert "Công an phường Tây Hồ" in history
        citizen.screenshot(path=str(screenshots / "eid-me.png"), full_page=True)
        assert (screenshots / "eid-me.png").stat().st_size > 0

        # An enrols an authenticator app (TOTP) on his page.
        citizen.goto(f"{base}/eid/me/totp/")
        totp = pyotp.TOTP(citizen.inner_text("[data-testid=totp-secret]"))
        citizen.fill("#id_code", totp.now())
        citizen.click("main form button[type=submit]")
        citizen.wait_for_url(f"{base}/eid/me/?done=totp")
        TotpDevice.objects.filter(user__username=AN_ID).update(last_counter=-1)  # the code may be reused

        # One sign-in, two services: the city app (level 1) asks for consent only ...
        seed_demo()
        citizen.goto(f"{base}/demo/app/")
        citizen.click("[data-testid=demo-login]")
        citizen.click("[data-testid=allow]")
        citizen.wait_for_url(f"{base}/demo/app/")
        assert citizen.inner_text("[data-testid=claims] [data-claim=name]") == "Nguyễn Văn An"
        assert citizen.inner_text("[data-testid=id-token] [data-claim=acr]") == ACR_L2
        # ... the public-service portal wants level 2 and a second factor: a step-up with the
        # authenticator app, no new log-in.
        citizen.goto(f"{base}/demo/portal/")
        citizen.click("[data-testid=demo-login]")
        citizen.wait_for_url("**/eid/step-up/**")
        citizen.fill("#id_code", totp.now())
        citizen.click("main form button[type=submit]")
        citizen.wait_for_selector("[data-testid=allow]")
        citizen.screenshot(path=str(screenshots / "eid-portal-consent.png"), full_page=True)
        citizen.click("[data-testid=allow]")
        citizen.wait_for_url(f"{base}/demo/portal/")
        assert citizen.inner_text("[data-testid=claims] [data-claim=id_number]") == AN_ID
        assert citizen.inner_text("[data-testid=id-token] [data-claim=acr]") == ACR_L2_MFA

        # His page shows both authorisations and, in the history, which data each service received.
        citizen.goto(f"{base}/eid/me/")
        assert citizen.locator("[data-testid=consent]").count() == 2
        assert "2 + MFA" in citizen.inner_text("[data-testid=acr]")
        history = citizen.inner_text("[data-testid=history]")
        assert "Cổng dịch vụ công thành phố" in history and "Ứng dụng công dân" in history
        assert citizen.locator("[data-testid=released] [data-field=id_number]").count() >= 1
        assert AN_ID not in citizen.inner_text("[data-testid=released] >> nth=0")
        citizen.screenshot(path=str(screenshots / "eid-me-after-sso.png"), full_page=True)
