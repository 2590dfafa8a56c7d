"""Staff log in with a user name and password on the platform's one log-in page (/eid/login/;
/login/ gets there through the staff applications' SSO flow, ADR 0011) and log out with a POST."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import Person

pytestmark = pytest.mark.django_db


def test_login_page_is_bilingual(client: Client) -> None:
    assert "đăng nhập cán bộ" in client.get("/login/", follow=True).content.decode()
    english = client.get("/login/", headers={"accept-language": "en"}, follow=True).content.decode()
    assert "staff log-in" in english


def test_official_logs_in_with_the_right_password(client: Client, city_police: Person) -> None:
    response = client.post("/eid/login/", {"username": "officer.city", "password": city_police.password})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session.get("_auth_user_id") == str(city_police.user.pk)


def test_login_follows_next_to_the_console(client: Client, city_police: Person) -> None:
    response = client.post(
        "/eid/login/", {"username": "officer.city", "password": city_police.password, "next": "/console/"}
    )
    assert response["Location"] == "/console/"


def test_wrong_password_is_refused(client: Client, city_police: Person) -> None:
    response = client.post("/eid/login/", {"username": "officer.city", "password": "not-the-password"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert 'role="alert"' in response.content.decode()


def test_logout_needs_a_post_and_ends_the_session(client: Client, city_police: Person) -> None:
    client.force_login(city_police.user)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
