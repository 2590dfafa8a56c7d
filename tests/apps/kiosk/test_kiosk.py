"""The self-service kiosk of a one-stop office (model 2): the device bound to its office, the
citizen identified by the card with nothing typed and audited, the kiosk services, the receipt,
accessibility, and the session wiped when idle."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dancu.apps.desks.services import KioskRejected
from dancu.apps.kiosk import services, views
from dancu.apps.kiosk.models import KioskSubmission, OfficeKiosk
from dancu.apps.public_services import catalogue
from dancu.apps.public_services.models import Dossier
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.identity.models import VerificationRecord
from dancu.blocks.identity.services import ChipEvidence, QrEvidence
from dancu.errors import DomainValidationError, NotFound
from tests.blocks.identity.conftest import AN_ID, AN_OLD_ID, AN_QR, an_chip  # noqa: F401
from tests.conftest import Person


def _tracking(response: Any) -> str:
    match = re.search(r"/kiosk/bien-nhan/(DVC-[0-9]{4}-[A-Z2-9]{8})/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


# --------------------------------------------------------------------------- devices
def test_a_kiosk_is_registered_for_a_ward_office_only(
    ward_police: Person, hotel_clerk: Person, city_police: Person
) -> None:
    issued = services.register_kiosk("CA-P-TAYHO", "Ki-ốt 1")
    assert issued.key.startswith(f"ok_{issued.prefix}_")
    assert OfficeKiosk.objects.get(pk=issued.device_id).secret_sha256 not in issued.key
    for code in ("KS-HOABINH", "CA-HN"):  # a hotel, the city police
        with pytest.raises(DomainValidationError) as exc:
            services.register_kiosk(code, "Ki-ốt")
        assert exc.value.problems[0].rule == "kind"
    with pytest.raises(NotFound):
        services.register_kiosk("NO-SUCH", "Ki-ốt")


def test_a_revoked_or_re_keyed_kiosk_key_stops_working(ward_police: Person) -> None:
    issued = services.register_kiosk("CA-P-TAYHO", "Ki-ốt 1")
    device = services.authenticate(issued.key)
    assert device.organisation_name == ward_police.actor.organisation_name
    assert device.actor.allowed_purposes == frozenset({"identity.verification"})
    new = services.reissue_key(issued.device_id)
    with pytest.raises(KioskRejected):
        services.authenticate(issued.key)
    assert services.revoke(new.prefix)
    with pytest.raises(KioskRejected) as exc:
        services.authenticate(new.key)
    assert exc.value.rule == "revoked"


def test_a_browser_without_a_kiosk_key_is_refused(client: Client, ward_police: Person) -> None:
    response = client.get("/kiosk/")
    assert response.status_code == 403 and 'data-rule="missing"' in response.content.decode()
    client.cookies[views.COOKIE] = "ok_00000000_" + "A" * 43
    assert client.get("/kiosk/").status_code == 403


# --------------------------------------------------------------------------- enrolment
def test_the_key_is_posted_in_the_form_and_kept_in_an_http_only_cookie(kiosk_key: str) -> None:
    """The device key travels in the body of a CSRF-protected POST, never in the URL (which
    proxies, the browser's history and the next page's Referer would keep)."""
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/kiosk/ghi-danh/")
    html = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert 'data-testid="kiosk-enrol-form"' in html and 'method="post"' in html
    assert 'type="password" id="kiosk-key" name="key"' in html
    assert browser.post("/kiosk/ghi-danh/", {"key": kiosk_key}).status_code == 403  # no CSRF token
    assert views.COOKIE not in browser.cookies
    token = browser.cookies["csrftoken"].value
    response = browser.post("/kiosk/ghi-danh/", {"key": kiosk_key, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/kiosk/"
    cookie = response.cookies[views.COOKIE]
    assert cookie.value == kiosk_key and cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["path"] == "/kiosk/"


@pytest.mark.parametrize("key", ["", "ok_00000000_" + "B" * 43, "not-a-key"])
def test_a_bad_enrolment_key_sets_no_cookie(client: Client, kiosk_key: str, key: str) -> None:
    response = client.post("/kiosk/ghi-danh/", {"key": key})
    assert response.status_code == 403 and views.COOKIE not in response.cookies


def test_an_old_enrolment_link_with_the_key_in_its_path_enrols_nothing(
    client: Client, kiosk_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Links of before 2026-12 carried the key in the path: 410 Gone, the key ignored, no cookie."""
    for method in (client.get, client.post):
        response = method(f"/kiosk/ghi-danh/{kiosk_key}/")
        assert response.status_code == 410
        html = response.content.decode()
        assert 'data-rule="link_retired"' in html and "/kiosk/ghi-danh/" in html and kiosk_key not in html
        assert views.COOKIE not in response.cookies and "no-store" in response["Cache-Control"]
    assert client.get("/kiosk/").status_code == 403
    assert kiosk_key not in caplog.text  # django.request's 4xx warning would name the path


def test_the_admin_shows_the_key_and_the_enrolment_page_not_a_link_with_the_key(
    admin_client: Client, ward_police: Person
) -> None:
    from dancu.apps.kiosk.models import OfficeKiosk

    services.register_kiosk("CA-P-TAYHO", "Ki-ốt sảnh 2", created_by="admin")
    device = OfficeKiosk.objects.get(name="Ki-ốt sảnh 2")
    response = admin_client.post(
        "/admin/kiosk/officekiosk/",
        {"action": "issue_key", "_selected_action": [device.pk]},
    )
    html = response.content.decode()
    key = html.split('data-testid="kiosk-key">')[1].split("<")[0]
    assert key.startswith("ok_") and "/kiosk/ghi-danh/</code>" in html and f"ghi-danh/{key}" not in html


# --------------------------------------------------------------------------- identification
def test_the_citizen_is_identified_by_the_card_qr_and_the_kiosk_is_audited(
    kiosk: Client, an: int, kiosk_key: str
) -> None:
    response = kiosk.post("/kiosk/", {"method": "qr_text", "qr_text": AN_QR})
    # A QR alone: the code to An's phone comes first (tests/apps/kiosk/test_possession.py).
    assert response.status_code == 302 and response["Location"] == "/kiosk/ma-xac-thuc/"
    state = kiosk.session[views.STATE]
    assert state["user"] == an and state["kind"] == "qr" and state["proved"] == ""
    record = VerificationRecord.objects.get(receipt_id=state["receipt"])
    prefix = services.authenticate(kiosk_key).prefix
    assert record.decision == "match" and prefix in record.actor_label
    assert record.case_reference == f"kiosk:{prefix}"
    assert AuditEvent.objects.filter(actor_label=record.actor_label, purpose="identity.verification").exists()
    assert AN_ID not in json.dumps(dict(kiosk.session))  # the session holds no ID number


def test_the_chip_identifies_too_after_passive_authentication(
    kiosk: Client,
    an: int,
    an_chip: Any,  # noqa: F811
    trusted: Any,
) -> None:
    response = kiosk.post("/kiosk/", {"method": "chip", "chip": json.dumps(an_chip.to_dict())})
    assert response.status_code == 302
    assert kiosk.session[views.STATE]["kind"] == "chip"


def test_typed_identity_data_are_refused_at_the_kiosk(kiosk: Client, an: int) -> None:
    typed = {
        "method": "typed",
        "id_number": AN_ID,
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "02/03/1985",
    }
    response = kiosk.post("/kiosk/", typed)
    assert response.status_code == 422
    assert not VerificationRecord.objects.exists()
    with pytest.raises(DomainValidationError):
        services.identify(services.authenticate(kiosk.cookies[views.COOKIE].value), object())  # type: ignore[arg-type]


def test_a_card_that_does_not_match_is_refused_with_reasons(kiosk: Client, an: int) -> None:
    forged = AN_QR.replace("Nguyễn Văn An", "Trần Văn Bình")
    response = kiosk.post("/kiosk/", {"method": "qr_text", "qr_text": forged})
    assert response.status_code == 422
    assert 'data-testid="reasons"' in response.content.decode()
    assert views.STATE not in kiosk.session


def test_a_valid_card_without_an_eid_account_is_told_where_to_register(
    kiosk: Client, residents: dict[str, Any]
) -> None:
    response = kiosk.post("/kiosk/", {"method": "qr_text", "qr_text": AN_QR})  # An has no account here
    assert response.status_code == 403 and 'data-testid="no-account"' in response.content.decode()
    assert views.STATE not in kiosk.session


# --------------------------------------------------------------------------- services and receipt
def test_only_implemented_kiosk_services_are_offered(identified: Callable[..., Client]) -> None:
    page = identified().get("/kiosk/dich-vu/").content.decode()
    offered = re.findall(r'data-service="([a-z0-9-]+)"', page)
    expected = [c for c in services.KIOSK_SERVICES if (s := catalogue.get(c)) is not None and s.implemented]
    assert offered == expected and "cmnd-confirmation" in offered


def test_a_level_2_service_needs_the_chip(monkeypatch: pytest.MonkeyPatch) -> None:
    level2 = dataclasses.replace(catalogue.BY_CODE["card-reissue"], implemented=True, level=2)
    monkeypatch.setitem(catalogue.BY_CODE, "card-reissue", level2)
    by_qr = {o.service.code: o.usable for o in services.available_services("qr")}
    by_chip = {o.service.code: o.usable for o in services.available_services("chip")}
    assert by_qr["card-reissue"] is False and by_chip["card-reissue"] is True
    with pytest.raises(NotFound):
        services.offered("card-reissue", "qr")
    with pytest.raises(NotFound):
        services.offered("birth-registration", "chip")  # not a kiosk service


def test_the_citizen_confirms_the_old_cmnd_with_one_touch_and_gets_a_receipt(
    identified: Callable[..., Client], an: int
) -> None:
    kiosk = identified()
    form = kiosk.get("/kiosk/dich-vu/cmnd-confirmation/")
    page = form.content.decode()
    assert form.status_code == 200 and AN_ID in page and "CSDL quốc gia về dân cư" in page
    assert f'type="radio" name="old_number" value="{AN_OLD_ID}"' in page
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key
    posted = {"idempotency_key": key.group(1), "old_number": AN_OLD_ID}
    response = kiosk.post("/kiosk/dich-vu/cmnd-confirmation/", posted)
    assert response.status_code == 302
    tracking = _tracking(response)
    again = kiosk.post("/kiosk/dich-vu/cmnd-confirmation/", posted)  # a double touch
    assert _tracking(again) == tracking and Dossier.objects.count() == 1
    dossier = Dossier.objects.get(tracking_code=tracking)
    assert dossier.applicant_user_id == an and dossier.status == Dossier.Status.DONE
    row = KioskSubmission.objects.get(dossier_id=dossier.pk)
    assert row.organisation.code == "CA-P-TAYHO" and row.evidence_kind == "qr"
    receipt = kiosk.get(f"/kiosk/bien-nhan/{tracking}/").content.decode()
    assert tracking in receipt and 'data-testid="qr"' in receipt and "@media print" in receipt
    assert AN_ID not in receipt and "Nguyễn Văn An" not in receipt  # nothing personal on paper


def test_server_side_validation_names_the_field(identified: Callable[..., Client]) -> None:
    kiosk = identified()
    page = kiosk.get("/kiosk/dich-vu/cmnd-confirmation/").content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key
    response = kiosk.post(
        "/kiosk/dich-vu/cmnd-confirmation/", {"idempotency_key": key.group(1), "old_number": ""}
    )
    assert response.status_code == 422
    assert "Số CMND cần xác nhận" in response.content.decode()
    assert not Dossier.objects.exists()


def test_a_receipt_is_shown_only_in_the_session_that_submitted_it(
    identified: Callable[..., Client], kiosk: Client
) -> None:
    assert identified().get("/kiosk/bien-nhan/DVC-2612-ABCDEFGH/").status_code == 404


def test_a_service_page_without_identification_goes_back_to_the_card(kiosk: Client) -> None:
    assert kiosk.get("/kiosk/dich-vu/cmnd-confirmation/")["Location"] == "/kiosk/"


# --------------------------------------------------------------------------- session and display
def test_an_idle_session_is_wiped_on_the_server(
    identified: Callable[..., Client], monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.DANCU_KIOSK_IDLE_SECONDS = 60
    kiosk = identified()
    now = views.time.time()
    monkeypatch.setattr(views.time, "time", lambda: now + 30)
    assert kiosk.get("/kiosk/dich-vu/").status_code == 200  # a touch: the clock starts again
    monkeypatch.setattr(views.time, "time", lambda: now + 30 + 61)
    assert kiosk.get("/kiosk/dich-vu/")["Location"] == "/kiosk/"
    assert views.STATE not in kiosk.session
    assert 'data-testid="expired"' in kiosk.get("/kiosk/").content.decode()


def test_the_page_carries_the_client_side_idle_timer(
    identified: Callable[..., Client], settings: Any
) -> None:
    settings.DANCU_KIOSK_IDLE_SECONDS = 45
    page = identified().get("/kiosk/dich-vu/").content.decode()
    assert 'data-idle="45"' in page and 'id="kiosk-timeout"' in page and 'action="/kiosk/ket-thuc/"' in page


def test_finish_wipes_the_session(identified: Callable[..., Client]) -> None:
    kiosk = identified()
    kiosk.post("/kiosk/hien-thi/", {"contrast": "1", "next": "/kiosk/dich-vu/"})
    assert kiosk.post("/kiosk/ket-thuc/")["Location"] == "/kiosk/"
    assert views.STATE not in kiosk.session and views.DISPLAY not in kiosk.session
    assert kiosk.get("/kiosk/dich-vu/")["Location"] == "/kiosk/"


def test_a_session_moved_to_another_kiosk_is_wiped(
    identified: Callable[..., Client], ward_police: Person
) -> None:
    kiosk = identified()
    kiosk.cookies[views.COOKIE] = services.register_kiosk("CA-P-TAYHO", "Ki-ốt 2").key
    assert kiosk.get("/kiosk/dich-vu/")["Location"] == "/kiosk/"


def test_contrast_size_and_english_are_chosen_on_the_page(identified: Callable[..., Client]) -> None:
    kiosk = identified()
    page = kiosk.get("/kiosk/dich-vu/").content.decode()
    assert '<html lang="vi">' in page and "Chọn dịch vụ" in page and 'aria-pressed="false"' in page
    kiosk.post("/kiosk/hien-thi/", {"contrast": "1", "next": "/kiosk/dich-vu/"})
    response = kiosk.post("/kiosk/hien-thi/", {"size": "larger", "next": "https://evil.example/"})
    assert response["Location"] == "/kiosk/"
    page = kiosk.get("/kiosk/dich-vu/?lang=en").content.decode()
    assert '<html lang="en">' in page and "Choose a service" in page
    assert "kiosk contrast size-larger" in page


def test_evidence_kinds_are_the_cards_own() -> None:
    assert set(services.EVIDENCE_KINDS) == {QrEvidence, ChipEvidence}


def test_the_card_re_issue_is_offered_after_a_chip_read_only(
    identified: Callable[..., Client],
    an_chip: Any,  # noqa: F811
    trusted: Any,
) -> None:
    if not (service := catalogue.get("card-reissue")) or not service.implemented or service.level < 2:
        pytest.fail("the catalogue's card re-issue is expected to be implemented at eID level 2")
    kiosk = identified()
    page = kiosk.get("/kiosk/dich-vu/").content.decode()
    assert '<span class="big" aria-disabled="true" data-service="card-reissue">' in page
    assert kiosk.get("/kiosk/dich-vu/card-reissue/").status_code == 404
    kiosk.post("/kiosk/ket-thuc/")
    kiosk.post("/kiosk/", {"method": "chip", "chip": json.dumps(an_chip.to_dict())})
    assert 'href="/kiosk/dich-vu/card-reissue/"' in kiosk.get("/kiosk/dich-vu/").content.decode()
    assert kiosk.get("/kiosk/dich-vu/card-reissue/").status_code == 200


def test_the_chip_is_read_through_the_kiosks_reader_bridge(kiosk: Client, settings: Any) -> None:
    settings.DANCU_KIOSK_READER_BRIDGE = "http://127.0.0.1:47999"
    page = kiosk.get("/kiosk/").content.decode()
    assert 'data-bridge="http://127.0.0.1:47999"' in page
    # The card access number opens the chip on the kiosk's machine; it has no name in the form.
    assert 'id="kiosk-can"' in page and 'name="can"' not in page


def test_a_registry_that_is_down_shows_a_clear_message(
    identified: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import DatabaseError

    from dancu.apps.public_services import services as portal

    kiosk = identified()

    def down(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseError("registry unavailable")

    monkeypatch.setattr(portal, "prefill", down)
    response = kiosk.get("/kiosk/dich-vu/cmnd-confirmation/")
    assert response.status_code == 503 and 'data-testid="unavailable"' in response.content.decode()


def test_the_level_2_eid_request_is_made_at_the_kiosk(identified: Callable[..., Client], an: int) -> None:
    from dancu.apps.public_services import workdays

    kiosk = identified()
    page = kiosk.get("/kiosk/dich-vu/eid-level2/").content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key
    day = workdays.calendar().add_working_days(timezone.localdate(), 2)
    response = kiosk.post(
        "/kiosk/dich-vu/eid-level2/",
        {"idempotency_key": key.group(1), "appointment": day.strftime("%d/%m/%Y")},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    dossier = Dossier.objects.get(tracking_code=_tracking(response))
    assert dossier.service_code == "eid-level2" and dossier.channel == "kiosk"
    assert dossier.applicant_user_id == an


# --------------------------------------------------------------------------- policy and eID account
def test_a_kiosk_acts_with_the_purposes_the_policy_gives_kiosks_of_its_office(ward_committee: Person) -> None:
    from dancu.blocks.organisations.policy import KIOSK, purposes_for

    for kind in services.OFFICE_KINDS:
        assert purposes_for(kind, KIOSK) == frozenset({"identity.verification"})
    assert purposes_for("hotel", KIOSK) == frozenset()  # no kiosk role anywhere else
    device = services.authenticate(services.register_kiosk("UBND-P-TAYHO", "Ki-ốt UBND").key)
    assert device.actor.role == KIOSK
    assert not device.actor.may("public_service.processing") and not device.actor.may("registry.lookup")


def test_the_kiosk_finds_the_holders_active_eid_account_only(an: int) -> None:
    from dancu.blocks.eid import services as eid
    from dancu.blocks.eid.models import Account

    assert eid.user_of_id_number(AN_ID) == an
    assert eid.user_of_id_number("001099999999") is None
    Account.objects.filter(user_id=an).update(status=Account.Status.REJECTED)
    assert eid.user_of_id_number(AN_ID) is None
