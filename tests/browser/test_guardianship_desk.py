"""In a real browser: the judicial and civil-status officer of UBND phường Tây Hồ opens the
guardianship desk (``/giam-ho/``), looks up the child Khôi (4) by his ID number, records the court's
restriction of his father An's rights, registers Huỳnh Thị Mai as his appointed guardian, and sees
both on the page; then records the court's lifting of the restriction (ADR 0017 §9)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from dancu.blocks.registry.models import Citizen, Guardianship, ParentalRestriction
from dancu.blocks.registry.services import NewCitizen, register_citizen
from tests.browser.helpers import AN_ADDRESS, headless_chromium, log_in, new_page, register_an
from tests.conftest import HANOI, TAY_HO_WARD, Person

pytestmark = pytest.mark.browser
KHOI_ID, MAI_ID = "001222007788", "001192034567"


@pytest.fixture
def khoi(transactional_db: None, registrar: Person) -> None:
    """An (father) and Khôi (4) of Tây Hồ; Mai of Tây Hồ."""
    an = Citizen.objects.get(pk=register_an(registrar))
    for number, name, born, sex in (
        (KHOI_ID, "Nguyễn Minh Khôi", date(2022, 5, 10), "M"),
        (MAI_ID, "Huỳnh Thị Mai", date(1992, 8, 12), "F"),
    ):
        register_citizen(
            registrar.ctx("registry.administration"),
            NewCitizen(
                id_number=number,
                full_name=name,
                date_of_birth=born,
                sex=sex,
                permanent_address_text=AN_ADDRESS,
            ),
            reason="Đăng ký thử nghiệm",
            legal_basis="Luật Hộ tịch 2014",
        )
    Citizen.objects.filter(id_number=KHOI_ID).update(father=an)


@pytest.fixture
def civil_status_officer(transactional_db: None, make_person: Callable[..., Person]) -> Person:
    return make_person(
        "hotich.tayho",
        org_code="UBND-P-TAYHO",
        org_name="UBND phường Tây Hồ",
        kind="committee",
        role="civil_status",
        province=HANOI,
        ward=TAY_HO_WARD,
    )


def test_the_civil_status_officer_records_a_restriction_a_guardian_and_the_lifting(
    live_server: Any, khoi: None, civil_status_officer: Person, screenshots: Path
) -> None:
    base = live_server.url
    with headless_chromium() as chromium:
        page = new_page(chromium, height=1400)
        log_in(page, base, civil_status_officer, "/giam-ho/")
        assert "Giám hộ" in page.inner_text("h1")
        page.fill("[data-testid=lookup] input[name=child_id_number]", KHOI_ID)
        page.click("[data-testid=lookup] button[type=submit]")
        page.wait_for_selector("[data-testid=child]")
        assert "Nguyễn Minh Khôi" in page.inner_text("[data-testid=child]")
        assert KHOI_ID not in page.url

        form = "[data-testid=record-restriction]"
        page.fill(f"{form} input[name=decision]", "45/2026/QĐ-TA")
        page.fill(f"{form} input[name=decided_on]", "2026-11-02")
        page.fill(f"{form} input[name=court]", "Tòa án nhân dân khu vực 1 – Hà Nội")
        page.fill(f"{form} input[name=restricted_from]", "2026-11-02")
        page.fill(f"{form} input[name=restricted_until]", "2029-11-02")
        page.fill(f"{form} input[name=reason]", "Tòa án hạn chế quyền của cha")
        page.fill(f"{form} input[name=legal_basis]", "Luật Hôn nhân và gia đình 2014 Điều 85")
        page.click(f"{form} button[type=submit]")
        page.wait_for_selector("[data-testid=done]")
        assert page.get_attribute("[data-testid=restrictions] tbody tr", "data-state") == "in_force"

        form = "[data-testid=record-guardianship]"
        page.fill(f"{form} input[name=guardian_id_number]", MAI_ID)
        page.select_option(f"{form} select[name=kind]", "appointed")
        page.fill(f"{form} input[name=record_number]", "GH-12/2026")
        page.fill(f"{form} input[name=started_on]", "2026-11-05")
        page.fill(f"{form} input[name=reason]", "Cha bị hạn chế quyền")
        page.fill(f"{form} input[name=legal_basis]", "Bộ luật Dân sự 2015 Điều 54")
        page.click(f"{form} button[type=submit]")
        page.wait_for_selector("[data-testid=guardianships]")
        assert "Huỳnh Thị Mai" in page.inner_text("[data-testid=guardianships]")
        page.screenshot(path=str(screenshots / "guardianship-desk.png"), full_page=True)

        rid = ParentalRestriction.objects.get().pk
        lift = f"[data-testid=lift-{rid}]"
        page.click(f"xpath=//form[@data-testid='lift-{rid}']/ancestor::details/summary")
        page.fill(f"{lift} input[name=decision]", "03/2026/QĐ-TA")
        page.fill(f"{lift} input[name=decided_on]", "2026-11-20")
        page.fill(f"{lift} input[name=court]", "Tòa án nhân dân khu vực 1 – Hà Nội")
        page.fill(f"{lift} input[name=lifted_on]", "2026-11-20")
        page.fill(f"{lift} input[name=reason]", "Hủy bỏ trước thời hạn")
        page.fill(f"{lift} input[name=legal_basis]", "Luật Hôn nhân và gia đình 2014 Điều 85")
        page.click(f"{lift} button[type=submit]")
        page.wait_for_selector("[data-testid=done]")
        assert page.get_attribute("[data-testid=restrictions] tbody tr", "data-state") == "lifted"

    assert Guardianship.objects.get().guardian.id_number == MAI_ID
    assert ParentalRestriction.objects.get().lifted_on == date(2026, 11, 20)
