"""The self-service kiosk of a clinic (model 7): no staff log-in, a registered device key instead
(enrolled once into a cookie, or sent as a header). The patient scans the card's QR and gets a
queue ticket; the page clears itself after 30 seconds. Without a valid key the kiosk is refused."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from dancu.apps.desks import services
from dancu.apps.desks.models import Encounter, KioskDevice
from dancu.blocks.identity.models import VerificationRecord
from dancu.errors import DomainValidationError
from tests.blocks.identity.conftest import AN_ID, AN_NAME, AN_QR
from tests.conftest import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def kiosk_key(clinic_clerk: Person) -> str:
    return services.register_kiosk("PK-HONGNGOC", "Sảnh tầng 1").key


def test_only_the_hash_of_the_device_key_is_stored(kiosk_key: str) -> None:
    device = KioskDevice.objects.get()
    assert kiosk_key.startswith(f"kd_{device.prefix}_")
    assert kiosk_key.split("_", 2)[2] not in device.secret_sha256
    assert len(device.secret_sha256) == 64


def test_a_kiosk_is_registered_for_clinics_only(notary_clerk: Person) -> None:
    with pytest.raises(DomainValidationError):
        services.register_kiosk("CC-TAYHO", "Sảnh")


def test_the_command_registers_a_kiosk_and_prints_the_key_once(clinic_clerk: Person) -> None:
    out = StringIO()
    call_command("register_kiosk", "PK-HONGNGOC", "Sảnh tầng 2", stdout=out)
    device = KioskDevice.objects.get()
    assert f"kd_{device.prefix}_" in out.getvalue()
    assert "open /desks/kiosk/enrol/ and enter the key there" in out.getvalue()
    assert "/desks/kiosk/enrol/kd_" not in out.getvalue()  # the key never in a URL
    with pytest.raises(CommandError):
        call_command("register_kiosk", "NO-SUCH-ORG", "x", stdout=StringIO())


@pytest.mark.parametrize("key", [None, "", "kd_00000000_" + "A" * 43, "not-a-key"])
def test_the_kiosk_without_a_valid_device_key_is_refused(
    client: Client, residents: Any, key: str | None
) -> None:
    if key is not None:
        client.cookies["dancu_kiosk"] = key
    response = client.get("/desks/kiosk/")
    assert response.status_code == 403
    assert 'data-testid="kiosk-refused"' in response.content.decode()
    assert client.post("/desks/kiosk/", {"method": "qr_text", "qr_text": AN_QR}).status_code == 403
    assert not VerificationRecord.objects.exists()
    assert not Encounter.objects.exists()


def test_a_revoked_kiosk_is_refused(client: Client, kiosk_key: str) -> None:
    services.revoke_kiosk(KioskDevice.objects.get().prefix)
    response = client.get("/desks/kiosk/", HTTP_X_KIOSK_KEY=kiosk_key)
    assert response.status_code == 403
    assert 'data-rule="revoked"' in response.content.decode()


@pytest.mark.parametrize("key", ["", "kd_00000000_" + "B" * 43, "not-a-key"])
def test_a_bad_enrolment_key_sets_no_cookie(client: Client, kiosk_key: str, key: str) -> None:
    response = client.post("/desks/kiosk/enrol/", {"key": key})
    assert response.status_code == 403
    assert 'data-testid="kiosk-refused"' in response.content.decode()
    assert "dancu_kiosk" not in response.cookies


def test_an_old_enrolment_link_with_the_key_in_its_path_enrols_nothing(
    client: Client, kiosk_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Links of before 2026-12 carried the key in the URL (kept by proxies, history, Referer):
    they now fail safely — 410 Gone, the key in the path is ignored, no cookie, no kiosk."""
    for method in (client.get, client.post):
        response = method(f"/desks/kiosk/enrol/{kiosk_key}/")
        assert response.status_code == 410
        assert 'data-rule="link_retired"' in response.content.decode()
        assert "/desks/kiosk/enrol/" in response.content.decode()  # where to go instead
        assert "dancu_kiosk" not in response.cookies
        assert "no-store" in response["Cache-Control"]
    assert client.get("/desks/kiosk/").status_code == 403
    assert kiosk_key not in caplog.text  # django.request's 4xx warning would name the path


def test_the_enrolment_page_asks_for_the_key_in_a_form_posted_with_csrf(kiosk_key: str) -> None:
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/desks/kiosk/enrol/")
    html = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert 'data-testid="kiosk-enrol-form"' in html and 'method="post"' in html
    assert 'type="password" id="kiosk-key" name="key"' in html
    assert "Đăng ký ki-ốt này" in html  # Vietnamese first
    assert "Register this kiosk" in browser.get("/desks/kiosk/enrol/?lang=en").content.decode()
    assert browser.post("/desks/kiosk/enrol/", {"key": kiosk_key}).status_code == 403  # no CSRF token
    token = browser.cookies["csrftoken"].value
    enrolled = browser.post("/desks/kiosk/enrol/", {"key": kiosk_key, "csrfmiddlewaretoken": token})
    assert enrolled.status_code == 302 and enrolled.cookies["dancu_kiosk"].value == kiosk_key


def test_a_kiosk_can_be_enrolled_by_the_header_instead_of_the_form(client: Client, kiosk_key: str) -> None:
    enrolled = client.post("/desks/kiosk/enrol/", HTTP_X_KIOSK_KEY=kiosk_key)
    assert enrolled.status_code == 302 and enrolled.cookies["dancu_kiosk"].value == kiosk_key


def test_kiosk_flow_enrol_scan_ticket_and_clear(client: Client, residents: Any, kiosk_key: str) -> None:
    assert client.get("/desks/kiosk/enrol/").status_code == 200
    enrol = client.post("/desks/kiosk/enrol/", {"key": kiosk_key})
    assert enrol.status_code == 302 and enrol["Location"] == "/desks/kiosk/"
    cookie = enrol.cookies["dancu_kiosk"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"

    start = client.get("/desks/kiosk/")
    html = start.content.decode()
    assert start.status_code == 200
    assert "Đăng ký khám bệnh" in html  # Vietnamese first
    assert 'data-testid="switch-en"' in html
    assert "Check in for your visit" in client.get("/desks/kiosk/?lang=en").content.decode()

    response = client.post("/desks/kiosk/", {"method": "qr_text", "qr_text": AN_QR})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="ticket">1<' in html
    assert AN_NAME in html
    assert 'http-equiv="refresh" content="30;url=/desks/kiosk/?lang=vi"' in html  # cleared after 30 s
    assert "setTimeout" in html and "30 * 1000" in html
    encounter = Encounter.objects.get()
    assert (encounter.source, encounter.id_number, encounter.kiosk_id) == (
        "kiosk",
        AN_ID,
        KioskDevice.objects.get().pk,
    )
    assert encounter.checked_in_by.startswith("kiosk ")
    record = VerificationRecord.objects.get()
    assert record.actor_user_id is None and record.actor_label.startswith("kiosk ")

    # the next patient, in English, by the header instead of the cookie
    other = Client()
    response = other.post(
        "/desks/kiosk/", {"method": "qr_text", "qr_text": AN_QR, "lang": "en"}, HTTP_X_KIOSK_KEY=kiosk_key
    )
    assert "You are checked in" in response.content.decode()
    assert 'data-testid="ticket">2<' in response.content.decode()


def test_kiosk_refusal_sends_the_patient_to_the_desk(client: Client, residents: Any, kiosk_key: str) -> None:
    bad_qr = AN_QR.replace("Nguyễn Văn An", "Nguyễn Văn Bình")
    response = client.post(
        "/desks/kiosk/", {"method": "qr_text", "qr_text": bad_qr}, HTTP_X_KIOSK_KEY=kiosk_key
    )
    html = response.content.decode()
    assert 'data-decision="no_match"' in html
    assert "Mời bạn đến quầy tiếp đón." in html
    assert 'data-testid="ticket"' not in html
    assert not Encounter.objects.exists()


def test_kiosk_flow_with_the_chip_read_through_the_reader_bridge(
    client: Client, residents: Any, kiosk_key: str, an_chip: Any, trusted: Any, settings: Any
) -> None:
    """The patient places the card on the kiosk's reader and types the last six digits of the ID
    number (the card access number): the page asks the reader bridge on the kiosk's machine for
    the chip read and posts it; the platform checks it (passive authentication) and checks in."""
    import threading

    from dancu.blocks.identity.reader import AccessKey, BridgeClient, SimulatedReader, serve_bridge

    device = SimulatedReader()
    device.place(an_chip)
    bridge = serve_bridge(device, origin="http://testserver")
    threading.Thread(target=bridge.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{bridge.server_address[1]}"
        settings.DANCU_KIOSK_READER_BRIDGE = url
        client.post("/desks/kiosk/enrol/", {"key": kiosk_key})
        page = client.get("/desks/kiosk/").content.decode()
        assert f'data-bridge="{url}"' in page and 'data-testid="kiosk-read-chip"' in page
        assert "6 số cuối của số định danh cá nhân" in page
        # What the page's script does: POST the CAN to the bridge, put the files in the form.
        read = BridgeClient(url, origin="http://testserver").read(AccessKey.from_can(AN_ID[-6:]))
        response = client.post("/desks/kiosk/", {"method": "chip", "chip": json.dumps(read.files)})
    finally:
        bridge.shutdown()
        bridge.server_close()
    assert response.status_code == 200
    assert 'data-testid="ticket">1<' in response.content.decode()
    encounter = Encounter.objects.get()
    assert (encounter.source, encounter.id_number) == ("kiosk", AN_ID)
    assert VerificationRecord.objects.get().evidence_kind == "chip"
