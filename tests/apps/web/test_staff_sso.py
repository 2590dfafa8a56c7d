"""Staff sign in to the platform's own applications through its OpenID Connect provider (issue 4,
"dogfood it"; ADR 0011): /login/ starts code + PKCE for the first-party client, the callback
exchanges the code in-process, checks the ID token and only then marks the session; the police
console requires the mark with at least ACR_L1; /logout/ ends both sessions."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from dancu.apps.web import sso
from dancu.blocks.eid import assurance
from tests.conftest import Person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sso_required(settings: Any) -> None:
    from dancu.blocks.sso import keys

    settings.DANCU_STAFF_SSO_REQUIRED = True
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1", "testserver"]
    keys.clear_cache()


def _password_login(client: Client, person: Person, next_path: str = "/") -> None:
    response = client.post(
        "/eid/login/", {"username": person.user.username, "password": person.password, "next": next_path}
    )
    assert response.status_code == 302, response.content[:300]


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_console_without_sso_sign_in_starts_the_flow_and_returns_signed_in(
    client: Client, city_police: Person
) -> None:
    _password_login(client, city_police)
    first = client.get("/console/")
    assert first.status_code == 302 and first["Location"].startswith("/login/?next=%2Fconsole%2F")
    assert "acr=urn%3Adancu%3Aacr%3Alevel1" in first["Location"]
    start = client.get(first["Location"])
    params = _query(start["Location"])
    assert start["Location"].startswith("/oidc/authorize?")
    assert params["client_id"] == sso.CLIENT_ID and params["code_challenge_method"] == "S256"
    assert params["state"] and params["nonce"] and params["acr_values"] == assurance.ACR_L1
    code = client.get(start["Location"])  # first party: no consent screen
    assert code.status_code == 302 and code["Location"].startswith(sso.redirect_uri() + "?code=")
    done = client.get(code["Location"])
    assert done.status_code == 302 and done["Location"] == "/console/"
    mark = client.session[sso.SESSION_KEY]
    assert mark["acr"] == assurance.ACR_L1 and mark["user_id"] == city_police.user.pk
    assert client.get("/console/").status_code == 200


def test_anonymous_login_goes_through_the_provider_log_in_page(client: Client, city_police: Person) -> None:
    response = client.get("/login/?next=/console/", follow=True)
    assert response.redirect_chain[0][0].startswith("/oidc/authorize?")
    assert response.redirect_chain[-1][0].startswith("/eid/login/?next=")
    page = response.content.decode()
    assert "đăng nhập cán bộ" in page
    # Log in on that page: back to the authorisation request, then the callback, then /console/.
    next_path = _query(response.redirect_chain[-1][0])["next"]
    done = client.post(
        "/eid/login/",
        {"username": city_police.user.username, "password": city_police.password, "next": next_path},
        follow=True,
    )
    assert done.redirect_chain[-1][0] == "/console/" and done.status_code == 200
    assert sso.SESSION_KEY in client.session


def test_a_forged_or_replayed_callback_is_refused(client: Client, city_police: Person) -> None:
    _password_login(client, city_police)
    start = client.get("/login/?next=/console/")
    code = client.get(start["Location"])
    callback = code["Location"]
    wrong_state = callback.replace("state=", "state=x")
    assert client.get(wrong_state).status_code == 400
    assert sso.SESSION_KEY not in client.session
    # The pending request was not used by the wrong state: the right one completes once ...
    assert client.get(callback).status_code == 302
    # ... and never twice (state consumed, code used).
    client.session.pop(sso.SESSION_KEY, None)
    assert client.get(callback).status_code == 400


def test_a_code_with_a_wrong_verifier_is_refused(client: Client, city_police: Person) -> None:
    _password_login(client, city_police)
    start = client.get("/login/?next=/console/")
    code = client.get(start["Location"])
    session = client.session
    pending = session[sso.PENDING_KEY]
    for item in pending.values():
        item["verifier"] = "x" * 60
    session[sso.PENDING_KEY] = pending
    session.save()
    response = client.get(code["Location"])
    assert response.status_code == 400 and 'data-reason="invalid_grant"' in response.content.decode()
    assert sso.SESSION_KEY not in client.session


def test_an_id_token_for_another_audience_or_nonce_is_refused(client: Client, city_police: Person) -> None:
    from joserfc.errors import JoseError

    _password_login(client, city_police)
    start = client.get("/login/?next=/")
    code = client.get(start["Location"])
    status, token = sso._provider_post(
        "sso:token",
        {
            "grant_type": "authorization_code",
            "code": _query(code["Location"])["code"],
            "redirect_uri": sso.redirect_uri(),
            "code_verifier": next(iter(client.session[sso.PENDING_KEY].values()))["verifier"],
        },
        "create_token_response",
    )
    assert status == 200
    nonce = _query(start["Location"])["nonce"]
    assert sso._validate_id_token(token["id_token"], nonce)["acr"] == assurance.ACR_L1
    with pytest.raises(JoseError):
        sso._validate_id_token(token["id_token"], "another-nonce")
    header, payload, _sig = token["id_token"].split(".")
    with pytest.raises((JoseError, ValueError)):
        sso._validate_id_token(f"{header}.{payload}.", nonce)  # signature stripped
    # The same claims signed with the provider's own, published ES256 key: a valid signature, but
    # the platform client is registered for RS256 and accepts no other algorithm (RFC 8725 §3.1).
    import base64
    import json

    from joserfc import jwt as jose_jwt

    from dancu.blocks.sso import keys

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    from joserfc.jwk import ECKey

    kid, provider_key = keys.active_key("ES256")
    es_key = ECKey.import_key(provider_key.export_to_pem(private_key=True, password=None))
    es_token = jose_jwt.encode({"alg": "ES256", "kid": kid}, claims, es_key)
    assert any(k.get("kid") == kid for k in keys.published())  # a key the client can see
    with pytest.raises((JoseError, ValueError)):
        sso._validate_id_token(es_token, nonce)


def test_a_higher_minimum_acr_than_the_account_can_reach_is_refused(
    client: Client, city_police: Person
) -> None:
    _password_login(client, city_police)
    start = client.get("/login/?" + "next=/console/&acr=" + assurance.ACR_L2_MFA)
    answer = client.get(start["Location"])
    assert "error=unmet_authentication_requirements" in answer["Location"]
    failed = client.get(answer["Location"])
    assert failed.status_code == 403 and sso.SESSION_KEY not in client.session


def test_a_sign_in_below_the_page_minimum_asks_again(client: Client, city_police: Person) -> None:
    from dancu.apps.web.sso import sso_staff

    client.force_login(city_police.user)
    session = client.session
    session[sso.SESSION_KEY] = {"user_id": city_police.user.pk, "acr": assurance.ACR_L1}
    session.save()
    request: Any = type("R", (), {})()
    request.session = client.session
    request.user = city_police.user
    request.get_full_path = lambda: "/police/"
    view = sso_staff(assurance.ACR_L2_MFA)(lambda r: "page")
    response = view(request)
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fpolice%2F&acr=urn%3Adancu%3Aacr%3Alevel2%3Amfa"
    assert sso_staff(assurance.ACR_L1)(lambda r: "page")(request) == "page"


def test_logout_ends_the_application_and_the_provider_session(client: Client, city_police: Person) -> None:
    _password_login(client, city_police)
    client.get("/console/", follow=True)
    assert sso.SESSION_KEY in client.session
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"].startswith("/oidc/logout?")
    assert "id_token_hint=" in response["Location"]
    bye = client.get(response["Location"])
    assert bye.status_code == 302 and bye["Location"] == sso.post_logout_uri()
    assert "_auth_user_id" not in client.session and sso.SESSION_KEY not in client.session


def test_ensure_platform_client_is_idempotent_and_follows_the_issuer(settings: Any) -> None:
    from oauth2_provider.models import get_application_model

    assert sso.ensure_platform_client() is True
    assert sso.ensure_platform_client() is False
    settings.DANCU_OIDC_ISSUER = "https://id.city.example"
    assert sso.ensure_platform_client() is True
    app = get_application_model().objects.get(client_id=sso.CLIENT_ID)
    assert app.redirect_uris == "https://id.city.example/login/callback"
    assert app.relying_party.first_party


def test_the_platform_client_command(capsys: Any) -> None:
    from django.core.management import call_command

    call_command("platform_client")
    assert "registered or updated" in capsys.readouterr().out
    call_command("platform_client")
    assert "up to date" in capsys.readouterr().out


# ----------------------------------------------------------------------------- Django's admin
def _sso_sign_in(client: Client, start: str) -> Any:
    """Follow /login/… through the provider back to the page; the final response."""
    begin = client.get(start)
    code = client.get(begin["Location"])
    assert code.status_code == 302 and code["Location"].startswith(sso.redirect_uri() + "?code=")
    return client.get(code["Location"])


def test_the_admin_never_shows_its_own_password_form(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=%2Fadmin%2F")
    assert client.post("/admin/login/", {"username": "x", "password": "y"}).status_code == 302


def test_an_administrator_reaches_the_admin_only_through_sso(client: Client, django_user_model: Any) -> None:
    root = django_user_model.objects.create_superuser("root", password="long-enough-password-1")
    client.post("/eid/login/", {"username": "root", "password": "long-enough-password-1", "next": "/admin/"})
    # Logged in at the provider, but without the SSO sign-in the admin sends the person through it.
    first = client.get("/admin/")
    assert first.status_code == 302 and first["Location"].startswith("/admin/login/")
    to_sso = client.get(first["Location"])
    assert to_sso["Location"].startswith("/login/?next=%2Fadmin%2F")
    done = _sso_sign_in(client, to_sso["Location"])
    assert done.status_code == 302 and done["Location"] == "/admin/"
    assert client.session[sso.SESSION_KEY]["user_id"] == root.pk
    assert client.get("/admin/").status_code == 200
    logout = client.post("/admin/logout/")
    assert logout.status_code == 302 and logout["Location"].startswith("/oidc/logout?")
    assert client.get("/admin/").status_code == 302


def test_a_signed_in_non_administrator_is_refused_without_a_loop(client: Client, city_police: Person) -> None:
    _password_login(client, city_police, "/admin/")
    done = _sso_sign_in(client, "/login/?next=/admin/")
    assert done["Location"] == "/admin/"
    again = client.get("/admin/")
    assert again.status_code == 302 and again["Location"].startswith("/admin/login/")
    refused = client.get(again["Location"])
    assert refused.status_code == 403
    assert b'data-reason="not_staff"' in refused.content


def test_the_admin_asks_for_its_own_minimum_acr(client: Client, settings: Any) -> None:
    settings.DANCU_ADMIN_MIN_ACR = assurance.ACR_L2_MFA
    response = client.get("/admin/login/")
    assert "acr=" + assurance.ACR_L2_MFA.replace(":", "%3A") in response["Location"]
