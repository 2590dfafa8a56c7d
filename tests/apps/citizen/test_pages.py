"""The citizen's pages at /eid/: register, log in (password, second factor, QR from the phone),
step up, recover, and "my account" with sessions and the history of who accessed my data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from dancu.blocks.eid import assurance, factors
from dancu.blocks.eid.models import Account, LoginSession, TotpDevice
from dancu.blocks.identity.chip import synthetic_face_jpeg
from tests.blocks.eid.conftest import AN_ID, AN_PHONE, PASSWORD, Outbox
from tests.conftest import Person

pytestmark = pytest.mark.django_db


def _log_in(client: Client, name: str = AN_ID, password: str = PASSWORD, next_path: str = "/eid/me/") -> Any:
    return client.post("/eid/login/", {"username": name, "password": password, "next": next_path})


def _photo() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("me.jpg", synthetic_face_jpeg(0), content_type="image/jpeg")


def test_an_registers_on_the_page_and_confirms_his_phone(
    client: Client, residents: dict[str, Any], outbox: Outbox, an_phone_on_record: str
) -> None:
    page = client.get("/eid/register/").content.decode()
    assert "Đăng ký tài khoản định danh điện tử" in page
    response = client.post(
        "/eid/register/",
        {
            "id_number": AN_ID,
            "full_name": "Nguyễn Văn An",
            "date_of_birth": "02/03/1985",
            "phone": AN_PHONE,
            "password": PASSWORD,
            "password2": PASSWORD,
            "photo": _photo(),
        },
    )
    assert response.status_code == 302 and response["Location"] == "/eid/register/phone/"
    response = client.post("/eid/register/phone/", {"code": outbox.last_code(AN_PHONE)})
    assert response.status_code == 200 and 'data-testid="registered"' in response.content.decode()
    assert Account.objects.get(id_number=AN_ID).level == 1


def _register(client: Client, full_name: str, phone: str) -> Any:
    return client.post(
        "/eid/register/",
        {
            "id_number": AN_ID,
            "full_name": full_name,
            "date_of_birth": "02/03/1985",
            "phone": phone,
            "password": PASSWORD,
            "password2": PASSWORD,
            "photo": _photo(),
        },
    )


def _page(response: Any) -> str:
    """A page without its per-request tokens (CSRF, CSP nonce)."""
    import re

    return re.sub(r'(value|nonce)="[^"]{20,}"', "", response.content.decode())


def test_the_registration_page_is_no_oracle_on_registry_data(
    residents: dict[str, Any], outbox: Outbox
) -> None:
    """Bình probes An's data with his own phone: a wrong name and the right name get the same
    answer (the phone step, a code to his phone); only after the code is a no-match told, naming
    no field."""
    wrong, right = Client(), Client()
    a = _register(wrong, "Trần Văn Bình", "0900000002")
    code_a = outbox.last_code("0900000002")
    b = _register(right, "Nguyễn Văn An", "0900000003")
    code_b = outbox.last_code("0900000003")
    assert (a.status_code, a["Location"]) == (b.status_code, b["Location"]) == (302, "/eid/register/phone/")
    assert _page(wrong.get("/eid/register/phone/")) == _page(right.get("/eid/register/phone/"))
    told = wrong.post("/eid/register/phone/", {"code": code_a}).content.decode()
    assert 'data-testid="no-match"' in told and "Trần Văn Bình" not in told
    done = right.post("/eid/register/phone/", {"code": code_b}).content.decode()
    assert 'data-testid="registered"' in done
    assert Account.objects.get(id_number=AN_ID).status == "pending"  # not his phone: the ward decides


def test_registration_errors_name_the_field(
    client: Client, residents: dict[str, Any], outbox: Outbox
) -> None:
    response = client.post(
        "/eid/register/",
        {
            "id_number": "001085012345",
            "full_name": "An",
            "date_of_birth": "02/03/1985",
            "phone": "123",
            "password": PASSWORD,
            "password2": PASSWORD,
            "photo": _photo(),
        },
    )
    assert response.status_code == 400
    assert 'data-field="phone"' in response.content.decode() and "phone_vn" in response.content.decode()


def test_an_logs_in_with_his_id_number_and_the_session_is_recorded(
    client: Client, an_registered: int
) -> None:
    response = _log_in(client)
    assert response.status_code == 302 and response["Location"] == "/eid/me/"
    a = assurance.load(client.session, an_registered)
    assert a is not None and a.level == 1 and a.amr == ("pwd",) and a.acr == assurance.ACR_L1
    assert LoginSession.objects.filter(user_id=an_registered, session_key=client.session.session_key).exists()


def test_wrong_password_and_unknown_number_get_the_same_message(client: Client, an_registered: int) -> None:
    wrong = _log_in(client, password="wrong-password-123").content.decode()
    unknown = _log_in(client, name="001099999999").content.decode()
    assert 'data-testid="login-error"' in wrong
    marker = 'data-testid="login-error"><p>'
    assert wrong.split(marker)[1].split("<")[0] == unknown.split(marker)[1].split("<")[0]
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "evil", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]
)
def test_next_is_only_followed_to_a_path_of_this_site(client: Client, an_registered: int, evil: str) -> None:
    response = _log_in(client, next_path=evil)
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_staff_login_address_goes_to_this_log_in_page_through_the_provider(client: Client) -> None:
    # /login/ starts the staff applications' SSO flow (ADR 0011); the provider sends an anonymous
    # browser here, and back to the authorisation request after the log-in.
    response = client.get("/login/?next=/console/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/eid/login/?next=/oidc/authorize%3F")


def test_staff_log_in_on_the_same_page(client: Client, ward_police: Person) -> None:
    response = _log_in(client, name="officer.tayho", password=ward_police.password, next_path="/eid-desk/")
    assert response["Location"] == "/eid-desk/"
    a = assurance.load(client.session, ward_police.user.pk)
    assert a is not None and a.level == 1


def _enrol_totp(client: Client, user_id: int) -> pyotp.TOTP:
    page = client.get("/eid/me/totp/").content.decode()
    secret = page.split('data-testid="totp-secret">')[1].split("<")[0]
    totp = pyotp.TOTP(secret)
    response = client.post("/eid/me/totp/", {"code": totp.now()})
    assert response.status_code == 302 and factors.has_totp(user_id)
    TotpDevice.objects.filter(user_id=user_id).update(last_counter=-1)
    return totp


def test_with_an_authenticator_app_the_log_in_asks_for_its_code(client: Client, an_registered: int) -> None:
    _log_in(client)
    totp = _enrol_totp(client, an_registered)
    Account.objects.filter(user_id=an_registered).update(level=2)
    other = Client()
    response = _log_in(other)
    assert response["Location"] == "/eid/login/second/" and "_auth_user_id" not in other.session
    assert (
        other.post(
            "/eid/login/second/", {"code": "000000" if totp.now() != "000000" else "111111", "method": "otp"}
        ).status_code
        == 200
    )
    response = other.post("/eid/login/second/", {"code": totp.now(), "method": "otp"})
    assert response["Location"] == "/eid/me/"
    a = assurance.load(other.session, an_registered)
    assert a is not None and a.acr == assurance.ACR_L2_MFA and "otp" in a.amr


def test_a_cross_site_get_of_the_authenticator_page_keeps_ans_app(client: Client, an_registered: int) -> None:
    """A page of an attacker makes An's browser GET /eid/me/totp/ (an image tag): his confirmed
    authenticator stays, and the log-in still asks for its code."""
    _log_in(client)
    totp = _enrol_totp(client, an_registered)
    sealed = TotpDevice.objects.get(user_id=an_registered).secret_sealed
    response = client.get("/eid/me/totp/", HTTP_REFERER="https://evil.example/")
    assert response.status_code == 302 and response["Location"].startswith("/eid/step-up/")
    assert factors.has_totp(an_registered)
    assert TotpDevice.objects.get(user_id=an_registered).secret_sealed == sealed
    other = Client()
    assert _log_in(other)["Location"] == "/eid/login/second/"
    assert other.post("/eid/login/second/", {"code": totp.now(), "method": "otp"})["Location"] == "/eid/me/"


def test_removing_or_replacing_the_app_needs_a_fresh_second_factor(
    client: Client, an_registered: int
) -> None:
    _log_in(client)
    totp = _enrol_totp(client, an_registered)
    response = client.post("/eid/me/totp/", {"action": "remove"})
    assert response["Location"].startswith("/eid/step-up/") and factors.has_totp(an_registered)
    step = client.post(
        "/eid/step-up/",
        {"code": totp.now(), "method": "otp", "next": "/eid/me/totp/", "acr": assurance.ACR_L1, "fresh": "1"},
    )
    assert step["Location"] == "/eid/me/totp/"
    page = client.get("/eid/me/totp/")  # now shown: a new pending secret, the old app still confirmed
    assert page.status_code == 200 and factors.has_totp(an_registered)
    new_secret = page.content.decode().split('data-testid="totp-secret">')[1].split("<")[0]
    assert new_secret != totp.secret
    assert client.post("/eid/me/totp/", {"action": "remove"})["Location"] == "/eid/me/?done=totp_removed"
    assert not factors.has_totp(an_registered)


def test_step_up_to_level_2_tells_a_level_1_holder_how_to_get_it(client: Client, an_registered: int) -> None:
    _log_in(client)
    response = client.get(f"/eid/step-up/?next=/demo/&acr={assurance.ACR_L2}")
    assert response.status_code == 403 and 'data-testid="needs-level2"' in response.content.decode()


def test_step_up_adds_the_second_factor_and_returns_to_next(
    client: Client, an_registered: int, outbox: Outbox
) -> None:
    Account.objects.filter(user_id=an_registered).update(level=2)
    _log_in(client)
    assert assurance.load(client.session, an_registered).acr == assurance.ACR_L2  # type: ignore[union-attr]
    url = f"/eid/step-up/?next=/demo/app/&acr={assurance.ACR_L2_MFA}"
    assert client.get(url).status_code == 200
    client.post("/eid/step-up/", {"action": "send_sms", "next": "/demo/app/", "acr": assurance.ACR_L2_MFA})
    response = client.post(
        "/eid/step-up/",
        {
            "code": outbox.last_code(AN_PHONE),
            "method": "sms",
            "next": "/demo/app/",
            "acr": assurance.ACR_L2_MFA,
        },
    )
    assert response.status_code == 302 and response["Location"] == "/demo/app/"
    assert assurance.load(client.session, an_registered).acr == assurance.ACR_L2_MFA  # type: ignore[union-attr]


def test_step_up_codes_are_counted_and_a_right_code_waits_after_too_many_wrong_ones(
    client: Client, an_registered: int
) -> None:
    """Someone at An's unlocked browser guesses step-up codes: after DELAY_AFTER wrong codes the
    right one is refused until the delay ends."""
    from dancu.blocks.eid import login
    from dancu.blocks.eid.models import Throttle

    _log_in(client)
    totp = _enrol_totp(client, an_registered)
    Account.objects.filter(user_id=an_registered).update(level=2)
    wrong = "000000" if totp.now() != "000000" else "111111"
    form = {"method": "otp", "next": "/demo/app/", "acr": assurance.ACR_L2_MFA}
    for _ in range(login.DELAY_AFTER):
        assert client.post("/eid/step-up/", {**form, "code": wrong}).status_code == 200
    response = client.post("/eid/step-up/", {**form, "code": totp.now()})
    assert response.status_code == 200 and "Location" not in response
    Throttle.objects.update(blocked_until=None)  # the delay passed
    TotpDevice.objects.filter(user_id=an_registered).update(last_counter=-1)
    assert client.post("/eid/step-up/", {**form, "code": totp.now()})["Location"] == "/demo/app/"


def test_step_up_never_redirects_off_site(client: Client, an_registered: int) -> None:
    _log_in(client)
    response = client.get(f"/eid/step-up/?next=https://evil.example/&acr={assurance.ACR_L1}")
    assert response["Location"] == "/eid/me/"


def test_qr_log_in_from_the_phone(client: Client, an_registered: int) -> None:
    plain = client.get("/eid/login/?next=/eid/me/").content.decode()
    assert "device/approve" not in plain and "qr=1" in plain  # the QR is made only when asked for
    page = client.get("/eid/login/?next=/eid/me/&qr=1").content.decode()
    approve = page.split('href="http://testserver/eid/device/approve/')[1].split('"')[0]
    approve = f"/eid/device/approve/{approve}"
    token = approve.rsplit("/", 1)[1]
    assert client.get(f"/eid/login/qr/{token}/").json() == {"status": "pending"}
    phone = Client()
    _log_in(phone)
    shown = phone.get(approve).content.decode()
    assert "testserver" in shown
    assert 'data-testid="qr-approved"' in phone.post(approve, {"decision": "approve"}).content.decode()
    assert Client().get(f"/eid/login/qr/{token}/").json() == {"status": "unknown"}  # another browser
    assert client.get(f"/eid/login/qr/{token}/?next=/eid/me/").json() == {
        "status": "approved",
        "next": "/eid/me/",
    }
    a = assurance.load(client.session, an_registered)
    assert a is not None and a.amr == ("swk",)
    assert client.get(f"/eid/login/qr/{token}/").json()["status"] in ("used", "unknown")


def test_my_page_shows_level_sessions_and_who_accessed_my_data(client: Client, an_registered: int) -> None:
    _log_in(client)
    page = client.get("/eid/me/").content.decode()
    assert 'data-testid="level">Mức 1' in page or 'data-testid="level">Level 1' in page
    assert page.count('data-testid="session"') == 1
    assert "identity.verify" in page and "eid.registration.approve" in page
    assert "citizen.access_log" in client.get("/eid/me/").content.decode()  # my viewing is recorded too
    session_id = LoginSession.objects.get(user_id=an_registered).pk
    response = client.post(f"/eid/me/sessions/{session_id}/revoke/")
    assert response.status_code == 302
    assert client.get("/eid/me/").status_code == 302  # this browser was logged out


def test_my_page_needs_a_log_in(client: Client) -> None:
    response = client.get("/eid/me/")
    assert response.status_code == 302 and response["Location"].startswith("/eid/login/")


def test_recovery_sets_a_new_password(client: Client, an_registered: int, outbox: Outbox) -> None:
    response = client.post("/eid/recover/", {"id_number": AN_ID})
    assert response.status_code == 302
    unknown = Client().post("/eid/recover/", {"id_number": "001099999999"})
    assert unknown.status_code == 302  # the same answer for a number without an account
    response = client.post(
        "/eid/recover/finish/",
        {"id_number": AN_ID, "code": outbox.last_code(AN_PHONE), "password": "mat-khau-moi-2026-xyz"},
    )
    assert response.status_code == 200
    assert _log_in(Client(), password="mat-khau-moi-2026-xyz").status_code == 302


def test_one_connection_may_not_flood_the_registration_page(
    client: Client, residents: dict[str, Any], outbox: Outbox
) -> None:
    from dancu.blocks.eid import login

    for _ in range(login.REGISTRATIONS_PER_HOUR - 1):
        assert login.registration_allowed("127.0.0.1")
    response = client.post("/eid/register/", {"id_number": AN_ID})
    assert response.status_code == 400  # the tenth attempt still counts and is checked
    response = client.post("/eid/register/", {"id_number": AN_ID})
    assert "Quá nhiều lượt đăng ký" in response.content.decode()


def test_my_authorisations_to_services_are_listed_and_withdrawn(client: Client, an_registered: int) -> None:
    from dancu.blocks.sso import services as sso
    from dancu.blocks.sso.models import RelyingParty

    reg = sso.register_client(
        name_vi="Cổng dịch vụ công thành phố",
        name_en="City public-service portal",
        redirect_uris=["https://dvc.example.vn/cb"],
        scopes=["openid", "profile"],
        claims=["name", "birthdate"],
    )
    rp = RelyingParty.objects.get(pk=reg.relying_party_id)
    consent = sso.grant_consent(an_registered, rp, ["openid", "profile"], ["name", "birthdate"])
    _log_in(client)
    page = client.get("/eid/me/").content.decode()
    assert 'data-testid="consent"' in page and "Cổng dịch vụ công thành phố" in page and "Ngày sinh" in page
    stranger = Client()
    stranger.force_login(get_user_model().objects.create_user("stranger"))
    assert stranger.post(f"/eid/me/consents/{consent.pk}/revoke/").status_code == 302
    assert len(sso.consents_of(an_registered)) == 1  # a stranger cannot withdraw An's consent
    assert client.post(f"/eid/me/consents/{consent.pk}/revoke/").status_code == 302
    assert sso.consents_of(an_registered) == []
    assert 'data-testid="consent"' not in client.get("/eid/me/").content.decode()


def test_an_organisation_account_from_the_page(
    client: Client, an_registered: int, hotel_clerk: Person, make_person: Callable[..., Person]
) -> None:
    Account.objects.filter(user_id=an_registered).update(level=2)
    _log_in(client)
    response = client.post(
        "/eid/me/enterprise/",
        {
            "action": "register",
            "name": "Công ty TNHH Khách sạn Hòa Bình",
            "enterprise_code": "0100109107",
            "head_office": "Số 1 Lý Thường Kiệt, Hà Nội",
        },
    )
    assert "check_digit" in response.content.decode()
    response = client.post(
        "/eid/me/enterprise/",
        {
            "action": "register",
            "name": "Công ty TNHH Khách sạn Hòa Bình",
            "enterprise_code": "0100109106",
            "head_office": "Số 1 Lý Thường Kiệt, Hà Nội",
            "organisation_code": "KS-HOABINH",
        },
    )
    assert 'data-testid="created"' in response.content.decode()
    assert 'data-testid="link-pending"' in response.content.decode()
    response = client.post(
        "/eid/me/enterprise/",
        {"action": "staff", "username": "letan.hoabinh", "password": "mat-khau-le-tan-2026"},
    )
    assert 'data-testid="created"' in response.content.decode()
    assert _log_in(Client(), name="letan.hoabinh", password="mat-khau-le-tan-2026").status_code == 302
    from dancu.blocks.eid.models import Enterprise
    from dancu.blocks.organisations.services import memberships_of

    staff_user = get_user_model().objects.get(username="letan.hoabinh")
    assert memberships_of(staff_user) == []  # not a clerk of the hotel before its admin approves
    pk = Enterprise.objects.get().pk
    assert client.post("/eid/me/enterprise/links/", {"enterprise": pk}).status_code == 403  # An may not
    assert 'data-testid="pending-link"' not in client.get("/eid/me/enterprise/links/").content.decode()

    hotel_admin = make_person("admin.hotel", org_code="KS-HOABINH", kind="hotel", role="admin")
    admin_client = Client()
    _log_in(admin_client, name="admin.hotel", password=hotel_admin.password)
    assert 'data-testid="pending-link"' in admin_client.get("/eid/me/enterprise/links/").content.decode()
    response = admin_client.post("/eid/me/enterprise/links/", {"enterprise": pk})
    assert response["Location"] == "/eid/me/enterprise/links/?done=1"
    assert [m.organisation.code for m in memberships_of(staff_user)] == ["KS-HOABINH"]


def test_revoking_another_session_logs_that_browser_out_only(client: Client, an_registered: int) -> None:
    other = Client()
    _log_in(other)
    _log_in(client)
    theirs = LoginSession.objects.exclude(session_key=client.session.session_key).get(user_id=an_registered)
    response = client.post(f"/eid/me/sessions/{theirs.pk}/revoke/")
    assert response["Location"] == "/eid/me/?done=session"
    assert other.get("/eid/me/").status_code == 302  # logged out
    assert client.get("/eid/me/").status_code == 200  # still logged in


def test_last_seen_is_kept_current_at_most_once_a_minute(client: Client, an_registered: int) -> None:
    from datetime import timedelta

    from django.utils import timezone

    _log_in(client)
    old = timezone.now() - timedelta(hours=2)
    LoginSession.objects.filter(user_id=an_registered).update(last_seen=old)
    session = client.session
    session["dancu.eid.seen"] = 0
    session.save()
    client.get("/eid/me/")
    assert LoginSession.objects.get(user_id=an_registered).last_seen > old
    LoginSession.objects.filter(user_id=an_registered).update(last_seen=old)
    client.get("/eid/me/")  # within the minute: no write
    assert LoginSession.objects.get(user_id=an_registered).last_seen == old
