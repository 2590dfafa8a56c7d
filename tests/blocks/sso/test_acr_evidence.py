"""acr by level-2 evidence at the provider (ADR 0017 §11, ADR 0009 §6), driven by authlib.

Actors: Anna Schmidt, a German resident whose account was raised to level 2 on her passport's MRZ
only (the chip was unreadable at the desk: evidence class ``mrz``); Nguyễn Văn An, a citizen at
level 2 with his chip card (``chip``); the city public-service portal, which asks for the
chip-verified level; a hotel booking site that accepts the MRZ."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from dancu.blocks.eid import assurance

from .conftest import authorize_url, browser, id_token, query, run_flow, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def anna(transactional_db: None, django_user_model: Any) -> Any:
    """Anna Schmidt's log-in user (no citizen record: a foreign resident)."""
    return django_user_model.objects.create_user(username="DEUC01X00T47", password="x-unused-9")


def _answer(b: requests.Session, url: str) -> tuple[int, str]:
    r = b.get(url, allow_redirects=False)
    return r.status_code, r.headers.get("Location", "")


def test_discovery_announces_the_mrz_values_beside_the_chip_values(oidc: str) -> None:
    meta = requests.get(oidc + "/.well-known/openid-configuration", timeout=10).json()
    assert meta["acr_values_supported"] == [
        assurance.ACR_L1,
        assurance.ACR_L2_MRZ,
        assurance.ACR_L2_MRZ_MFA,
        assurance.ACR_L2,
        assurance.ACR_L2_MFA,
    ]


@pytest.mark.parametrize(
    ("amr", "asked"),
    [
        (("pwd",), assurance.ACR_L2),
        (("pwd", "otp"), assurance.ACR_L2),
        (("pwd", "otp"), assurance.ACR_L2_MFA),
    ],
)
def test_the_portal_asking_for_the_chip_refuses_anna_raised_on_the_mrz_without_a_step_up(
    oidc: str, register_rp: Any, anna: Any, amr: tuple[str, ...], asked: str
) -> None:
    portal = register_rp(scopes=["openid"], claims=[])
    b = browser(oidc, session_cookie(anna, level=2, amr=amr, evidence=assurance.EVIDENCE_MRZ))
    status, location = _answer(b, authorize_url(oidc, portal, scope="openid", acr_values=asked))
    # No second factor can give her a chip: an error to the relying party, not the step-up page.
    assert status == 302 and location.startswith(portal.redirect_uri)
    assert query(location)["error"] == "unmet_authentication_requirements"


def test_a_portal_registered_at_the_chip_level_refuses_anna_even_when_it_asks_nothing(
    oidc: str, register_rp: Any, anna: Any
) -> None:
    portal = register_rp(scopes=["openid"], claims=[], min_acr=assurance.ACR_L2_MFA)
    b = browser(oidc, session_cookie(anna, level=2, amr=("pwd", "otp"), evidence=assurance.EVIDENCE_MRZ))
    _status, location = _answer(b, authorize_url(oidc, portal, scope="openid"))
    assert query(location)["error"] == "unmet_authentication_requirements"


def test_the_hotel_site_accepting_the_mrz_lets_anna_in_and_her_id_token_says_mrz(
    oidc: str, register_rp: Any, anna: Any
) -> None:
    hotel = register_rp("Đặt phòng khách sạn", host="hotel.example", scopes=["openid"], claims=[])
    b = browser(oidc, session_cookie(anna, level=2, amr=("pwd",), evidence=assurance.EVIDENCE_MRZ))
    flow = run_flow(oidc, hotel, b, scope="openid", acr_values=assurance.ACR_L2_MRZ)
    assert id_token(oidc, flow.token["id_token"]).claims["acr"] == assurance.ACR_L2_MRZ


def test_anna_is_stepped_up_to_the_mrz_with_a_second_factor_which_she_can_reach(
    oidc: str, register_rp: Any, anna: Any
) -> None:
    hotel = register_rp("Đặt phòng khách sạn", host="hotel.example", scopes=["openid"], claims=[])
    b = browser(oidc, session_cookie(anna, level=2, amr=("pwd",), evidence=assurance.EVIDENCE_MRZ))
    status, location = _answer(
        b, authorize_url(oidc, hotel, scope="openid", acr_values=assurance.ACR_L2_MRZ_MFA)
    )
    assert status == 302 and query(location)["acr"] == assurance.ACR_L2_MRZ_MFA
    assert location.startswith("/eid/step-up/")


def test_an_with_his_chip_card_satisfies_the_hotel_and_the_relying_party_sees_the_chip(
    oidc: str, register_rp: Any, citizen_user: Any
) -> None:
    hotel = register_rp("Đặt phòng khách sạn", host="hotel.example", scopes=["openid"], claims=[])
    b = browser(oidc, session_cookie(citizen_user, level=2, amr=("pwd",)))
    flow = run_flow(oidc, hotel, b, scope="openid", acr_values=assurance.ACR_L2_MRZ)
    assert id_token(oidc, flow.token["id_token"]).claims["acr"] == assurance.ACR_L2


def test_a_chip_request_under_an_mrz_mfa_minimum_steps_an_up_to_chip_and_mfa(
    oidc: str, register_rp: Any, citizen_user: Any
) -> None:
    """The request (chip, one factor) and the registered minimum (MRZ, two factors) are joined:
    the chip *and* a second factor (ADR 0009 §6 — the minimum always applies)."""
    rp = register_rp(scopes=["openid"], claims=[], min_acr=assurance.ACR_L2_MRZ_MFA)
    b = browser(oidc, session_cookie(citizen_user, level=2, amr=("pwd",)))
    _status, location = _answer(b, authorize_url(oidc, rp, scope="openid", acr_values=assurance.ACR_L2))
    assert query(location)["acr"] == assurance.ACR_L2_MFA
