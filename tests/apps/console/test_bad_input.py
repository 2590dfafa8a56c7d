"""Bad input is answered with a page naming the field and the rule, with 400, 403 or 404 —
never a server error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from dancu.blocks.registry.dto import CitizenView
from tests.conftest import Person

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("form", "status", "field", "rule"),
    [
        ({"id_number": "00108501234"}, 400, "id_number", "length"),
        ({"id_number": "00108501234X"}, 400, "id_number", "digits"),
        ({"id_number": "999085012345"}, 400, "id_number", "province_code"),
        ({"old_id_number": "12345"}, 400, "old_id_number", "length"),
        ({"name": "nguyen van an", "date_of_birth": "01/01/2999"}, 400, "date_of_birth", "future"),
        ({"name": "nguyen van an", "date_of_birth": "31/02/1985"}, 400, "date_of_birth", "no_such_day"),
        ({"name": "nguyen van an", "date_of_birth": "1985/03/02"}, 400, "date_of_birth", "format"),
        ({"date_of_birth": "02/03/1985"}, 400, "date_of_birth", "needs_name"),
        ({"name": "nguyen v@n an"}, 400, "name", "characters"),
        ({}, 400, "search", "one_lookup"),
        ({"name": "nguyen van an", "id_number": "001085012345"}, 400, "search", "one_lookup"),
        ({"id_number": "001099999999"}, 404, "id_number", "not_found"),
    ],
)
def test_search_form_names_the_field_and_rule(
    logged_in: Callable[[Person], Client],
    city_police: Person,
    nguyen_van_an: CitizenView,
    form: dict[str, str],
    status: int,
    field: str,
    rule: str,
) -> None:
    response = logged_in(city_police).post("/console/", {"purpose": "registry.lookup", **form})
    assert response.status_code == status
    html = response.content.decode()
    assert f"<code>{field}</code>" in html
    assert f"<code>{rule}" in html


@pytest.mark.parametrize(
    ("purpose", "status", "rule"),
    [
        ("", 400, "required"),
        ("no.such.purpose", 400, "unknown_purpose"),
        ("identity.verification", 403, "not_allowed"),  # a real purpose, but not the police's to use here
    ],
)
def test_search_purpose_must_be_given_known_and_allowed(
    logged_in: Callable[[Person], Client],
    city_police: Person,
    adminunits: None,
    purpose: str,
    status: int,
    rule: str,
) -> None:
    response = logged_in(city_police).post("/console/", {"name": "nguyen van an", "purpose": purpose})
    assert response.status_code == status
    html = response.content.decode()
    assert "<code>purpose</code>" in html and f"<code>{rule}</code>" in html


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/console/citizens/12345/?purpose=registry.lookup", 400, "id_number"),
        ("/console/citizens/001085012345/", 400, "purpose"),
        ("/console/citizens/001085012345/?purpose=bogus", 400, "purpose"),
        ("/console/citizens/001085012345/?purpose=residence.notification", 403, "purpose"),
        ("/console/citizens/001099999999/?purpose=registry.lookup", 404, "id_number"),
    ],
)
def test_record_page_names_the_field_and_rule(
    logged_in: Callable[[Person], Client],
    city_police: Person,
    nguyen_van_an: CitizenView,
    path: str,
    status: int,
    field: str,
) -> None:
    response = logged_in(city_police).get(path)
    assert response.status_code == status
    assert f"<code>{field}</code>" in response.content.decode()


def test_search_page_rejects_other_methods(
    logged_in: Callable[[Person], Client], city_police: Person
) -> None:
    assert logged_in(city_police).put("/console/").status_code == 405
