"""In a real browser: the judicial and civil-status officer of UBND phường Tây Hồ opens the
guardianship desk (``/giam-ho/``), looks up the child Khôi (4) by his ID number, records the court's
restriction of his father An's rights, registers Huỳnh Thị Mai as his appointed guardian, and sees
both on the page; then records the court's lifting of the restriction (ADR 0017 §9)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dancu.blocks.registry.models import Guardianship, ParentalRestriction
from tests.browser.helpers import headless_chromium, log_in, new_page
from tests.conftest import Person
from tests.guardianship_support import (  # noqa: F401 — fixtures used by the test
    KHOI_ID,
    MAI_ID,
    an_children,
    civil_status_tayho,
    residents,
)

pytestmark = pytest.mark.browser
COURT = "Tòa án nhân dân khu vực 1 – Hà Nội"
FAMILY_LAW = "Luật Hôn nhân và gia đình 2014 Điều 85"


def submit(page: Any, form: str, **inputs: str) -> None:
    """Type ``inputs`` into the text inputs of ``form`` (a selector), by name, and submit it."""
    for name, value in inputs.items():
        page.fill(f"{form} input[name={name}]", value)
    page.click(f"{form} button[type=submit]")


def test_the_civil_status_officer_records_a_restriction_a_guardian_and_the_lifting(
    live_server: Any,
    transactional_db: None,
    an_children: dict[str, Any],  # noqa: F811
    civil_status_tayho: Person,  # noqa: F811
    screenshots: Path,
) -> None:
    base = live_server.url
    with headless_chromium() as chromium:
        page = new_page(chromium, height=1400)
        log_in(page, base, civil_status_tayho, "/giam-ho/")
        assert "Giám hộ" in page.inner_text("h1")
        page.fill("[data-testid=lookup] input[name=child_id_number]", KHOI_ID)
        page.click("[data-testid=lookup] button[type=submit]")
        page.wait_for_selector("[data-testid=child]")
        assert "Nguyễn Minh Khôi" in page.inner_text("[data-testid=child]")
        assert KHOI_ID not in page.url

        submit(
            page,
            "[data-testid=record-restriction]",
            decision="45/2026/QĐ-TA",
            decided_on="2026-11-02",
            court=COURT,
            restricted_from="2026-11-02",
            restricted_until="2029-11-02",
            reason="Tòa án hạn chế quyền của cha",
            legal_basis=FAMILY_LAW,
        )
        page.wait_for_selector("[data-testid=done]")
        assert page.get_attribute("[data-testid=restrictions] tbody tr", "data-state") == "in_force"

        page.select_option("[data-testid=record-guardianship] select[name=kind]", "appointed")
        submit(
            page,
            "[data-testid=record-guardianship]",
            guardian_id_number=MAI_ID,
            record_number="GH-12/2026",
            started_on="2026-11-05",
            reason="Cha bị hạn chế quyền",
            legal_basis="Bộ luật Dân sự 2015 Điều 54",
        )
        page.wait_for_selector("[data-testid=guardianships]")
        assert "Huỳnh Thị Mai" in page.inner_text("[data-testid=guardianships]")
        page.screenshot(path=str(screenshots / "guardianship-desk.png"), full_page=True)

        rid = ParentalRestriction.objects.get().pk
        page.click(f"xpath=//form[@data-testid='lift-{rid}']/ancestor::details/summary")
        submit(
            page,
            f"[data-testid=lift-{rid}]",
            decision="03/2026/QĐ-TA",
            decided_on="2026-11-20",
            court=COURT,
            lifted_on="2026-11-20",
            reason="Hủy bỏ trước thời hạn",
            legal_basis=FAMILY_LAW,
        )
        page.wait_for_selector("[data-testid=done]")
        assert page.get_attribute("[data-testid=restrictions] tbody tr", "data-state") == "lifted"

    assert Guardianship.objects.get().guardian.id_number == MAI_ID
    assert ParentalRestriction.objects.get().lifted_on == date(2026, 11, 20)
