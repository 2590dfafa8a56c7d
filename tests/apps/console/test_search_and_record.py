"""An authorised official searches the registry and opens a record; every citizen shown or
opened is recorded in that citizen's access log."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.registry.dto import CitizenView
from dancu.blocks.registry.services import correct_citizen
from tests.conftest import Person

pytestmark = pytest.mark.django_db

RECORD = "/console/citizens/{}/?purpose={}"


def _events(person: Person, action: str, citizen: CitizenView) -> int:
    return AuditEvent.objects.filter(
        actor_user_id=person.user.pk, action=action, subject_citizen_id=citizen.citizen_id
    ).count()


def test_city_police_finds_a_citizen_by_name_typed_without_diacritics(
    logged_in: Callable[[Person], Client], city_police: Person, nguyen_van_an: CitizenView
) -> None:
    response = logged_in(city_police).post(
        "/console/", {"name": "nguyen van an", "purpose": "registry.lookup"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nguyễn Văn An" in html
    assert "02/03/1985" in html
    assert "<td>Nam</td>" in html
    assert "/console/citizens/001085012345/?purpose=registry.lookup" in html
    assert _events(city_police, "registry.search_hit", nguyen_van_an) == 1


def test_date_of_birth_typed_as_dd_mm_yyyy_lets_the_name_be_a_prefix(
    logged_in: Callable[[Person], Client], city_police: Person, nguyen_van_an: CitizenView
) -> None:
    client = logged_in(city_police)
    for typed in ("02/03/1985", "2/3/1985", "1985-03-02"):
        response = client.post(
            "/console/", {"name": "Nguyen Van", "date_of_birth": typed, "purpose": "security.investigation"}
        )
        assert response.status_code == 200
        assert "Nguyễn Văn An" in response.content.decode()


def test_month_precision_birth_date_is_shown_as_month_and_year(
    logged_in: Callable[[Person], Client], city_police: Person, tran_thi_hoa: CitizenView
) -> None:
    html = logged_in(city_police).post("/console/", {"name": "tran thi hoa", "purpose": "registry.lookup"})
    text = html.content.decode()
    assert ">03/1990</td>" in text
    assert "01/03/1990" not in text
    assert "<td>Nữ</td>" in text


def test_search_with_no_match_says_so(
    logged_in: Callable[[Person], Client], city_police: Person, nguyen_van_an: CitizenView
) -> None:
    response = logged_in(city_police).post("/console/", {"name": "le thi mai", "purpose": "registry.lookup"})
    assert response.status_code == 200
    assert "Không có công dân nào" in response.content.decode()


def test_opening_a_record_shows_details_history_and_access_log_and_is_audited(
    logged_in: Callable[[Person], Client], city_police: Person, nguyen_van_an: CitizenView
) -> None:
    client = logged_in(city_police)
    response = client.get(RECORD.format("001085012345", "registry.lookup") + "&case_reference=HS-2026-0042")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nguyễn Văn An" in html
    assert "02/03/1985" in html
    assert "HN0001" in html and "Chủ hộ" in html  # household and relationship
    assert "012345678" in html  # old CMND
    assert "Đăng ký" in html and "registrar" in html  # revision 1 by the registrar
    assert "Ai đã xem dữ liệu này" in html
    assert "officer.city" in html and "Đã mở hồ sơ" in html  # this opening, in the access log
    assert _events(city_police, "registry.read", nguyen_van_an) == 1
    event = AuditEvent.objects.get(actor_user_id=city_police.user.pk, action="registry.read")
    assert (event.purpose, event.case_reference, event.result) == ("registry.lookup", "HS-2026-0042", "ok")

    client.get(RECORD.format("001085012345", "registry.lookup"))
    assert _events(city_police, "registry.read", nguyen_van_an) == 2


def test_opening_by_id_number_from_the_search_form(
    logged_in: Callable[[Person], Client], city_police: Person, nguyen_van_an: CitizenView
) -> None:
    response = logged_in(city_police).post(
        "/console/", {"id_number": "0010 8501 2345", "purpose": "public_service.processing"}
    )
    assert response.status_code == 200
    assert "Nguyễn Văn An" in response.content.decode()
    assert _events(city_police, "registry.read", nguyen_van_an) == 1


def test_opening_by_old_cmnd_number(
    logged_in: Callable[[Person], Client], city_police: Person, nguyen_van_an: CitizenView
) -> None:
    response = logged_in(city_police).post(
        "/console/", {"old_id_number": "012345678", "purpose": "registry.lookup"}
    )
    assert response.status_code == 200
    assert "001085012345" in response.content.decode()
    assert _events(city_police, "registry.read", nguyen_van_an) == 1


def test_data_cleaning_sees_only_its_fields_and_the_rest_is_marked_withheld(
    logged_in: Callable[[Person], Client], city_police: Person, nguyen_van_an: CitizenView
) -> None:
    html = logged_in(city_police).get(RECORD.format("001085012345", "data.cleaning")).content.decode()
    assert 'data-field="household_number"><span class="withheld">' in html
    assert 'data-field="religion"><span class="withheld">' in html
    assert "HN0001" not in html
    assert 'data-field="old_id_numbers">012345678' in html


def test_ward_police_opens_a_resident_of_their_ward(
    logged_in: Callable[[Person], Client], ward_police: Person, nguyen_van_an: CitizenView
) -> None:
    response = logged_in(ward_police).get(RECORD.format("001085012345", "registry.lookup"))
    assert response.status_code == 200


def test_ward_police_cannot_open_a_citizen_outside_their_ward(
    logged_in: Callable[[Person], Client], ward_police: Person, tran_thi_hoa: CitizenView
) -> None:
    response = logged_in(ward_police).get(RECORD.format("001190012346", "registry.lookup"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "jurisdiction" in html
    assert "Trần Thị Hòa" not in html
    denial = AuditEvent.objects.get(
        actor_user_id=ward_police.user.pk, subject_citizen_id=tran_thi_hoa.citizen_id
    )
    assert denial.result == "denied"


def test_ward_police_search_does_not_show_citizens_outside_their_ward(
    logged_in: Callable[[Person], Client], ward_police: Person, tran_thi_hoa: CitizenView
) -> None:
    response = logged_in(ward_police).post(
        "/console/", {"name": "tran thi hoa", "purpose": "registry.lookup"}
    )
    assert response.status_code == 200
    assert "Trần Thị Hòa" not in response.content.decode()


def test_record_page_lists_corrections_with_the_fields_they_changed(
    logged_in: Callable[[Person], Client], city_police: Person, registrar: Person, nguyen_van_an: CitizenView
) -> None:
    correct_citizen(
        registrar.ctx("registry.administration"),
        "001085012345",
        {"full_name": "Nguyễn Văn Ân"},
        reason="Đính chính theo trích lục khai sinh",
        legal_basis="Luật Căn cước 2023 Điều 10",
    )
    html = logged_in(city_police).get(RECORD.format("001085012345", "registry.lookup")).content.decode()
    assert "Nguyễn Văn Ân" in html
    assert "Điều chỉnh thông tin" in html and "Đính chính theo trích lục khai sinh" in html
    assert "<li>Họ và tên</li>" in html
    assert "name_folded" not in html  # derived values are not listed as changes


def test_record_page_names_the_current_ward_of_the_address(
    logged_in: Callable[[Person], Client], city_police: Person, nguyen_van_an: CitizenView
) -> None:
    html = logged_in(city_police).get(RECORD.format("001085012345", "registry.lookup")).content.decode()
    assert "Phường Quảng An, Quận Tây Hồ" in html  # as recorded
    assert "Phường Tây Hồ" in html and "00103" in html  # the current ward since 01/07/2025


def test_record_page_is_in_english_on_request(
    logged_in: Callable[[Person], Client], city_police: Person, nguyen_van_an: CitizenView
) -> None:
    client = logged_in(city_police)
    html = client.get(
        RECORD.format("001085012345", "registry.lookup"), headers={"accept-language": "en"}
    ).content.decode()
    assert "Who accessed this record" in html
    assert "Look up a citizen for official duties" in html
    assert ">Male<" in html


def test_record_page_is_never_cached(
    logged_in: Callable[[Person], Client], city_police: Person, nguyen_van_an: CitizenView
) -> None:
    response = logged_in(city_police).get(RECORD.format("001085012345", "registry.lookup"))
    assert "no-store" in response["Cache-Control"]


def test_the_record_lists_the_household_members_with_links_and_each_is_audited(
    logged_in: Callable[[Person], Client],
    city_police: Person,
    nguyen_van_an: CitizenView,
    register: Callable[..., CitizenView],
) -> None:
    from datetime import date

    son = register(
        id_number="001212034567",
        full_name="Nguyễn Minh Khôi",
        date_of_birth=date(2012, 4, 5),
        sex="M",
        household_number="HN0001",
        relationship_to_head="child",
    )
    html = (
        logged_in(city_police).get(RECORD.format(nguyen_van_an.id_number, "registry.lookup")).content.decode()
    )
    assert 'data-testid="household-members"' in html
    assert "Nguyễn Minh Khôi" in html
    assert "/console/citizens/001212034567/?purpose=registry.lookup" in html
    assert _events(city_police, "registry.household_member", son) == 1


def test_a_purpose_that_may_not_see_households_shows_no_member_list(
    logged_in: Callable[[Person], Client], city_police: Person, nguyen_van_an: CitizenView
) -> None:
    html = (
        logged_in(city_police).get(RECORD.format(nguyen_van_an.id_number, "data.cleaning")).content.decode()
    )
    assert 'data-testid="household-members"' not in html
    assert not AuditEvent.objects.filter(action="registry.household").exists()
