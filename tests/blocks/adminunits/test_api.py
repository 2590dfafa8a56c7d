"""The public JSON API at /api/v1/adminunits: reference data, no authentication."""

from __future__ import annotations

import pytest
from django.test import Client

BASE = "/api/v1/adminunits"


@pytest.fixture
def client() -> Client:
    return Client()


def test_lists_the_34_current_provinces_without_authentication(client: Client) -> None:
    response = client.get(f"{BASE}/provinces")
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 34
    assert body[0] == {
        "code": "01",
        "name": "Hà Nội",
        "full_name": "Thành phố Hà Nội",
        "type": "city",
        "legacy": False,
        "province_code": "",
        "district_code": "",
    }


def test_lists_the_63_legacy_provinces_on_request(client: Client) -> None:
    body = client.get(f"{BASE}/provinces", {"legacy": "true"}).json()
    assert len(body) == 63
    assert all(p["legacy"] for p in body)


def test_lists_the_126_current_units_of_hanoi_and_its_526_legacy_wards(client: Client) -> None:
    assert len(client.get(f"{BASE}/provinces/01/wards").json()) == 126
    legacy = client.get(f"{BASE}/provinces/01/wards", {"legacy": "true"}).json()
    assert len(legacy) == 526
    assert {"code": "00100", "district_code": "003"}.items() <= next(
        w for w in legacy if w["code"] == "00100"
    ).items()


def test_an_unknown_province_is_404_in_the_shared_error_shape(client: Client) -> None:
    response = client.get(f"{BASE}/provinces/99/wards")
    assert response.status_code == 404
    assert response.json()["detail"][0]["field"] == "code"


def test_the_crosswalk_of_a_legacy_ward_lists_the_primary_target_first(client: Client) -> None:
    body = client.get(f"{BASE}/legacy-wards/00100/crosswalk").json()
    assert [w["code"] for w in body] == ["00103", "00097"]


def test_resolves_a_card_address_to_json(client: Client) -> None:
    response = client.get(
        f"{BASE}/resolve", {"address": "Số 12 ngõ 34, Phường Quảng An, Quận Tây Hồ, Hà Nội"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["legacy_ward_code"] == "00100"
    assert body["ward_code"] == "00103"
    assert body["current_label"] == "Phường Tây Hồ, Thành phố Hà Nội"
    assert body["street"] == "Số 12 ngõ 34"
    assert body["ward_candidates"] == ["00103", "00097"]


def test_an_address_that_names_no_unit_is_422_unresolved(client: Client) -> None:
    response = client.get(f"{BASE}/resolve", {"address": "khong co gi het"})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["field"] == "address"
    assert problem["rule"] == "unresolved"
    assert "resolves to no administrative unit" in problem["message"]


def test_an_overlong_address_is_422_on_the_length_rule(client: Client) -> None:
    response = client.get(f"{BASE}/resolve", {"address": "x" * 501})
    assert response.status_code == 422
    assert response.json()["detail"][0]["rule"] == "length"


def test_the_openapi_document_carries_examples(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    resolve = schema["paths"][f"{BASE}/resolve"]["get"]
    assert resolve["parameters"][0]["examples"][0].startswith("Số 12 ngõ 34")
    assert schema["components"]["schemas"]["ResolvedOut"]["examples"][0]["ward_code"] == "00103"
    assert "422" in resolve["responses"]
