"""A card's QR code is not the card holder (ADR 0013, decision 3).

A QR code proves that the data printed on a card match the registry — a photo of Nguyễn Văn An's
card, taken by a ``stranger``, produces the same QR. So after a QR the kiosk shows nothing personal
and submits nothing until the person types, on the kiosk's keypad, the one-time code sent to the
verified phone of An's eID account (``******678``). The code is bound to the kiosk session, expires,
is throttled, and three wrong codes lock (wipe) the session. A chip read with passive
authentication proves the genuine card is on the reader: no code. The audit and the kiosk's
submission record say which factor proved possession.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone

from dancu.apps.kiosk import services, views
from dancu.apps.kiosk.models import KioskSubmission
from dancu.apps.public_services.models import Dossier
from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid.models import Account, OneTimeCode
from tests.apps.kiosk.conftest import enter_code
from tests.blocks.eid.conftest import AN_PHONE, Outbox
from tests.blocks.identity.conftest import AN_ID, AN_NAME, AN_OLD_ID, AN_QR, an_chip  # noqa: F401
from tests.conftest import Person

AN_ADDRESS = "Số 5 ngõ 12"
MASKED = "*******678"  # An's 0912345678: the last three digits only
CODE_PAGE = "/kiosk/ma-xac-thuc/"


def _kiosk_codes(outbox: Outbox) -> list[dict[str, str]]:
    return [m for m in outbox.messages if m["kind"] == "eid.code.kiosk"]


def _later(seconds: int = 60) -> None:
    """Time passes for the codes already sent (the resend throttle counts from the last one)."""
    OneTimeCode.objects.update(created_at=F("created_at") - timedelta(seconds=seconds))


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _personal(html: str) -> list[str]:
    return [v for v in (AN_NAME, AN_ID, AN_OLD_ID, AN_ADDRESS, AN_PHONE) if v in html]


def _last_event() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _no_prefill_reads(an: int, since: int) -> bool:
    """Since event ``since``, nothing read about An beyond the card verification and his
    account's own events."""
    citizen = Account.objects.get(user_id=an).citizen_id
    reads = (
        AuditEvent.objects.filter(subject_citizen_id=citizen, pk__gt=since)
        .exclude(purpose="identity.verification")
        .exclude(action__startswith="eid.")
    )
    return not reads.exists()


# --------------------------------------------------------------------------- a QR alone
def test_a_photo_of_ans_card_shows_none_of_his_data(
    identified: Callable[..., Client], an: int, outbox: Outbox
) -> None:
    """The stranger holds a photo of An's card under the scanner: the kiosk asks for the code
    sent to An's phone, and shows neither the services' forms nor anything of An's."""
    before = _last_event()
    stranger = identified(code=False)
    page = stranger.get(CODE_PAGE)
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="keypad"' in html
    assert f'data-testid="phone">{MASKED}<' in html and not _personal(html)
    assert len(_kiosk_codes(outbox)) == 1  # the code went to An's phone, not to the screen
    assert stranger.get("/kiosk/dich-vu/")["Location"] == CODE_PAGE
    for code in services.KIOSK_SERVICES:
        response = stranger.get(f"/kiosk/dich-vu/{code}/")
        assert response.status_code == 302 and response["Location"] == CODE_PAGE
    assert stranger.get("/kiosk/bien-nhan/DVC-2612-ABCDEFGH/")["Location"] == CODE_PAGE
    assert _no_prefill_reads(an, before)


def test_a_photo_of_ans_card_submits_nothing_in_his_name(identified: Callable[..., Client], an: int) -> None:
    """Posting a dossier straight to the form — the level-2 request, the residence notification,
    the CMND confirmation — is refused (403) and no dossier exists."""
    before = _last_event()
    stranger = identified(code=False)
    posted = {
        "idempotency_key": "k" * 32,
        "old_number": AN_OLD_ID,
        "appointment": "15/12/2026",
        "stay_address": "Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội",
        "arrival": "01/12/2026",
    }
    for code in ("cmnd-confirmation", "eid-level2", "residence-notification"):
        response = stranger.post(f"/kiosk/dich-vu/{code}/", posted)
        html = response.content.decode()
        assert response.status_code == 403, code
        assert "Cần nhập mã xác thực trước" in html and not _personal(html)
    assert not Dossier.objects.exists() and not KioskSubmission.objects.exists()
    assert _no_prefill_reads(an, before)


def test_the_kiosks_own_functions_refuse_a_qr_without_the_code(
    identified: Callable[..., Client], an: int
) -> None:
    """The views are not the only guard: the kiosk's prefill and submit refuse too."""
    from dancu.apps.public_services import catalogue

    stranger = identified(code=False)
    state = stranger.session[views.STATE]
    qr_only = services.Identification(True, "qr", state["receipt"], user_id=an)
    device = services.authenticate(stranger.cookies[views.COOKIE].value)
    with pytest.raises(services.PossessionNotProved):
        services.prefill(qr_only, catalogue.BY_CODE["cmnd-confirmation"])
    with pytest.raises(services.PossessionNotProved):
        services.submit(
            device, qr_only, "cmnd-confirmation", {"old_number": AN_OLD_ID}, idempotency_key="k" * 32
        )
    assert not Dossier.objects.exists()


# --------------------------------------------------------------------------- the code
def test_an_types_the_code_from_his_phone_and_the_record_names_the_factor(
    kiosk: Client, an: int, outbox: Outbox, kiosk_key: str
) -> None:
    before = _last_event()
    kiosk.post("/kiosk/", {"method": "qr_text", "qr_text": AN_QR})
    (message,) = _kiosk_codes(outbox)
    assert message["to"] == AN_PHONE and "xác thực tại ki-ốt" in message["body"]
    code = outbox.last_code(AN_PHONE)
    assert code not in kiosk.get(CODE_PAGE).content.decode()
    response = enter_code(kiosk, code)
    assert response.status_code == 302 and response["Location"] == "/kiosk/dich-vu/"
    state = kiosk.session[views.STATE]
    assert state["proved"] == "sms" and not state["challenge"]
    form = kiosk.get("/kiosk/dich-vu/cmnd-confirmation/").content.decode()
    assert AN_NAME in form and AN_ID in form  # now his prefilled data, read and audited
    assert not _no_prefill_reads(an, before)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert key
    posted = {"idempotency_key": key.group(1), "old_number": AN_OLD_ID}
    assert kiosk.post("/kiosk/dich-vu/cmnd-confirmation/", posted).status_code == 302
    submission = KioskSubmission.objects.get()
    assert submission.evidence_kind == "qr" and submission.possession == "sms"
    prefix = services.authenticate(kiosk_key).prefix
    proved = AuditEvent.objects.get(action="eid.possession")
    assert proved.result == AuditEvent.Result.OK and proved.detail == {
        "factor": "sms",
        "where": f"kiosk:{prefix}",
        "verification": state["receipt"],
    }
    assert code not in json.dumps(proved.detail) and AN_PHONE not in json.dumps(proved.detail)
    assert enter_code(kiosk, code)["Location"] == "/kiosk/dich-vu/"  # proved: nothing more to type


def test_a_wrong_code_is_refused_and_the_third_locks_the_kiosk_session(
    identified: Callable[..., Client], an: int, outbox: Outbox
) -> None:
    stranger = identified(code=False)
    real = outbox.last_code(AN_PHONE)
    for left in (2, 1):
        response = enter_code(stranger, _wrong(real))
        html = response.content.decode()
        assert response.status_code == 422
        assert "Mã xác thực: mã không đúng hoặc đã hết hạn" in html and f"Số lần thử còn lại: {left}" in html
        assert stranger.get("/kiosk/dich-vu/")["Location"] == CODE_PAGE
    locked = enter_code(stranger, _wrong(real))
    assert locked.status_code == 403 and 'data-testid="locked"' in locked.content.decode()
    assert views.STATE not in stranger.session
    assert enter_code(stranger, real)["Location"] == "/kiosk/"  # the session is gone
    assert not OneTimeCode.objects.filter(user_id=an, purpose="kiosk", used_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="eid.possession", result=AuditEvent.Result.DENIED).count() == 3
    assert AuditEvent.objects.filter(action="eid.possession.locked").exists()
    assert not Dossier.objects.exists()


@pytest.mark.parametrize("typed", ["12345", "12a456", "", "1234567"])
def test_a_code_that_is_not_six_digits_is_named_and_not_counted(
    identified: Callable[..., Client], typed: str
) -> None:
    stranger = identified(code=False)
    response = enter_code(stranger, typed)
    assert response.status_code == 422 and "Mã xác thực: gồm đúng 6 chữ số" in response.content.decode()
    assert stranger.session[views.STATE]["attempts"] == 0


def test_an_expired_code_is_refused_and_a_new_one_works(
    identified: Callable[..., Client], an: int, outbox: Outbox, settings: Any
) -> None:
    """An reads his SMS too late (the kiosk's idle limit set long here): the code's 5 minutes
    are over. He asks for a new code, which works."""
    settings.DANCU_KIOSK_IDLE_SECONDS = 900
    kiosk = identified(code=False)
    old = outbox.last_code(AN_PHONE)
    OneTimeCode.objects.filter(user_id=an, purpose="kiosk").update(
        created_at=F("created_at") - timedelta(minutes=6), expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert enter_code(kiosk, old).status_code == 422
    resent = kiosk.post(CODE_PAGE, {"action": "resend"})
    assert resent.status_code == 200 and 'data-testid="resent"' in resent.content.decode()
    new = outbox.last_code(AN_PHONE)
    assert enter_code(kiosk, new)["Location"] == "/kiosk/dich-vu/"


@pytest.mark.parametrize("where", ["the same kiosk", "another kiosk"])
def test_a_code_sent_for_another_session_does_not_open_this_one(
    identified: Callable[..., Client], an: int, outbox: Outbox, ward_police: Person, where: str
) -> None:
    """The stranger scans the photo while An, at the same or another kiosk of the office, scans
    his card: the code that reaches An's phone opens An's session only."""
    stranger = identified(code=False)
    _later()
    key = stranger.cookies[views.COOKIE].value
    if where == "another kiosk":
        key = services.register_kiosk("CA-P-TAYHO", "Ki-ốt sảnh 2").key
    at_an = Client()
    at_an.cookies[views.COOKIE] = key
    assert at_an.post("/kiosk/", {"method": "qr_text", "qr_text": AN_QR})["Location"] == CODE_PAGE
    ans_code = outbox.last_code(AN_PHONE)
    refused = enter_code(stranger, ans_code)
    assert refused.status_code == 422 and not _personal(refused.content.decode())
    assert stranger.get("/kiosk/dich-vu/")["Location"] == CODE_PAGE
    assert enter_code(at_an, ans_code)["Location"] == "/kiosk/dich-vu/"


def test_a_new_code_is_throttled(identified: Callable[..., Client], an: int, outbox: Outbox) -> None:
    """At most one code per 30 seconds, and three codes (log-in, step-up, kiosk) per 15 minutes
    to one account: no SMS bombing of An, no stream of fresh codes to guess."""
    kiosk = identified(code=False)
    at_once = kiosk.post(CODE_PAGE, {"action": "resend"})
    assert at_once.status_code == 429 and 'data-testid="throttled"' in at_once.content.decode()
    assert len(_kiosk_codes(outbox)) == 1
    _later(31)
    assert kiosk.post(CODE_PAGE, {"action": "resend"}).status_code == 200
    _later(31)
    assert kiosk.post(CODE_PAGE, {"action": "resend"}).status_code == 200
    _later(31)
    assert kiosk.post(CODE_PAGE, {"action": "resend"}).status_code == 429  # the fourth in 15 minutes
    assert len(_kiosk_codes(outbox)) == 3
    assert enter_code(kiosk, outbox.last_code(AN_PHONE))["Location"] == "/kiosk/dich-vu/"


# --------------------------------------------------------------------------- the chip, no phone
def test_a_chip_read_asks_for_no_code(
    kiosk: Client,
    an: int,
    an_chip: Any,  # noqa: F811
    trusted: Any,
    outbox: Outbox,
) -> None:
    response = kiosk.post("/kiosk/", {"method": "chip", "chip": json.dumps(an_chip.to_dict())})
    assert response.status_code == 302 and response["Location"] == "/kiosk/dich-vu/"
    assert kiosk.session[views.STATE]["proved"] == "chip" and not _kiosk_codes(outbox)
    assert kiosk.get(CODE_PAGE)["Location"] == "/kiosk/dich-vu/"
    form = kiosk.get("/kiosk/dich-vu/cmnd-confirmation/").content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form)
    assert key and AN_NAME in form
    kiosk.post(
        "/kiosk/dich-vu/cmnd-confirmation/", {"idempotency_key": key.group(1), "old_number": AN_OLD_ID}
    )
    assert KioskSubmission.objects.get().possession == "chip"


def test_a_holder_without_a_verified_phone_is_sent_to_the_chip_or_the_counter(
    kiosk: Client,
    an: int,
    an_chip: Any,  # noqa: F811
    trusted: Any,
    outbox: Outbox,
) -> None:
    """An's account phone was never confirmed: a QR cannot be backed by a code, so the kiosk says
    to use the chip or the desk, keeps no session and sends nothing; the chip still works."""
    Account.objects.filter(user_id=an).update(phone_verified_at=None)
    sent_before = len(outbox.messages)
    response = kiosk.post("/kiosk/", {"method": "qr_text", "qr_text": AN_QR})
    html = response.content.decode()
    assert response.status_code == 403 and 'data-testid="no-phone"' in html and "đầu đọc chip" in html
    assert views.STATE not in kiosk.session and len(outbox.messages) == sent_before
    assert not _personal(html)
    chip = kiosk.post("/kiosk/", {"method": "chip", "chip": json.dumps(an_chip.to_dict())})
    assert chip["Location"] == "/kiosk/dich-vu/"


# --------------------------------------------------------------------------- wiped like the rest
def test_finish_and_the_idle_time_out_wipe_the_code_step(
    identified: Callable[..., Client], outbox: Outbox, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    kiosk = identified(code=False)
    code = outbox.last_code(AN_PHONE)
    assert kiosk.post("/kiosk/ket-thuc/")["Location"] == "/kiosk/"
    assert views.STATE not in kiosk.session
    assert enter_code(kiosk, code)["Location"] == "/kiosk/"
    settings.DANCU_KIOSK_IDLE_SECONDS = 60
    _later()
    kiosk = identified(code=False)
    code = outbox.last_code(AN_PHONE)
    page = kiosk.get(CODE_PAGE).content.decode()
    assert 'data-idle="60"' in page and 'id="kiosk-timeout"' in page and 'data-testid="finish"' in page
    now = views.time.time()
    monkeypatch.setattr(views.time, "time", lambda: now + 61)
    assert enter_code(kiosk, code)["Location"] == "/kiosk/"
    assert views.STATE not in kiosk.session


def test_the_code_page_speaks_vietnamese_first_and_english(identified: Callable[..., Client]) -> None:
    kiosk = identified(code=False)
    page = kiosk.get(CODE_PAGE).content.decode()
    assert '<html lang="vi">' in page and "Xác nhận bạn là chủ tài khoản" in page
    assert 'inputmode="none"' in page and 'data-testid="key-0"' in page
    english = kiosk.get(f"{CODE_PAGE}?lang=en").content.decode()
    assert '<html lang="en">' in english and "Confirm that you hold the account" in english
