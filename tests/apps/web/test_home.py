"""The home page presents the platform's modules, in Vietnamese first and in English on request."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tests.conftest import Person

pytestmark = pytest.mark.django_db


def test_home_page_is_in_vietnamese_by_default(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="vi">' in html
    assert "dancu <span>— Nền tảng dân cư Đề án 06</span>" in html  # the platform's name in the header
    for block in ("Dân cư", "Đơn vị hành chính", "Nhật ký truy cập", "Tổ chức"):
        assert block in html
    for application in (
        "Xác thực danh tính",
        "Đăng nhập một lần (SSO)",
        "Trao đổi dữ liệu LGSP",
        "Thông báo lưu trú",
        "Dịch vụ công và kiosk",
        "Làm sạch dữ liệu",
    ):
        assert application in html
    assert "Sẵn sàng" in html
    assert 'href="/dich-vu-cong/"' in html and 'href="/cleaning/"' in html
    assert "Mô hình thí điểm 6–8, 16–17" in html


def test_home_page_links_to_console_api_docs_admin_and_health(client: Client) -> None:
    html = client.get("/").content.decode()
    for url in ('href="/console/"', 'href="/api/v1/docs"', 'href="/admin/"', 'href="/healthz"'):
        assert url in html


def test_language_switcher_turns_the_page_english(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    for text in (
        "Population registry",
        "Administrative units",
        "Access log",
        "Organisations",
        "Identity verification",
        "Residence notification",
        "Available",
    ):
        assert text in html
    assert "Dân cư" not in html


def test_english_browser_gets_english_page(client: Client) -> None:
    html = client.get("/", headers={"accept-language": "en"}).content.decode()
    assert "Population registry" in html


def test_anonymous_visitor_sees_staff_login_link(client: Client) -> None:
    html = client.get("/").content.decode()
    assert 'href="/login/"' in html
    assert "Đăng xuất" not in html


def test_header_shows_user_organisation_and_post_logout(
    logged_in: Callable[[Person], Client], city_police: Person
) -> None:
    html = logged_in(city_police).get("/").content.decode()
    assert "officer.city" in html
    assert "Công an thành phố Hà Nội" in html
    assert 'action="/logout/" method="post"' in html


def test_healthz_reports_database_status_as_json(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok"}


def test_stylesheet_is_served_locally(client: Client) -> None:
    html = client.get("/").content.decode()
    assert '<link rel="stylesheet" href="/static/web/dancu.css">' in html
    assert "https://" not in html.split("<body>")[0]  # no CDN in the page head


def test_sso_eid_desk_exchange_and_residence_are_available_with_their_links(client: Client) -> None:
    html = client.get("/").content.decode()
    for key in ("sso", "eid_desk", "lgsp", "residence"):
        card = html.split(f'data-module="{key}"')[1].split("</li>")[0]
        assert "Sẵn sàng" in card, key
    for url in (
        "/eid/login/",
        "/eid/register/",
        "/eid/me/",
        "/demo/portal/",
        "/demo/app/",
        "/eid-desk/",
        "/eid-desk/activate/",
        "/exchange-admin/",
        "/exchange-admin/grants/",
        "/exchange-admin/flags/",
        "/residence/",
        "/residence/police/",
    ):
        assert f'href="{url}"' in html, url
