"""Attacks from the security review of the public services (each test failed before its fix).

Actors: ``an`` (Nguyễn Văn An, the applicant), ``mai`` (Huỳnh Thị Mai, An's partner, who
consents), ``lan`` (Phạm Thị Lan, a third citizen in the registry only), ``ward_committee`` of
Tây Hồ (decides marriages and civil-status changes), ``city_police`` (traffic fines), anyone
on the internet (the public result check, the gateway's notice endpoint).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.core.checks import run_checks
from django.test import Client, override_settings

from dancu.apps.public_services import handlers, payments, services
from dancu.apps.public_services.models import Dossier, Payment, TrafficFine
from dancu.blocks.registry import services as registry
from dancu.blocks.registry.models import Citizen
from dancu.errors import DomainValidationError
from dancu.ratelimit import Rate
from tests.apps.public_services.test_more_services import (  # noqa: F401 — ``mai`` is a fixture
    AN_ID,
    TODAY,
    admin_ctx,
    fine,
    mai,
    marriage,
    pay,
    rules_of,
    submit,
)
from tests.blocks.eid.conftest import MAI_ID
from tests.conftest import Person

pytestmark = pytest.mark.django_db
LAN_ID = "001192000777"


def _settings_import(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DANCU_", "DEBUG"))}
    code = "from django.conf import settings; print(settings.DANCU_PAYMENT_DRIVER)"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "dancu.settings",
            "SECRET_KEY": "k" * 40,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def fine_awaiting_payment(an: int) -> tuple[Dossier, Payment]:
    """An's fine QD-123/2026, its dossier and the pending payment started for it."""
    fine()
    dossier = submit(an, "traffic-fine", {"decision_number": "QD-123/2026"})
    services.start_payment(an, dossier.tracking_code)
    return dossier, Payment.objects.get()


# --------------------------------------------------------------------------- 1 the dev gateway
def test_the_development_gateway_cannot_be_configured_outside_the_demo_or_debug() -> None:
    refused = _settings_import(DANCU_PAYMENT_DRIVER="dev")
    assert refused.returncode != 0 and "DANCU_PAYMENT_DRIVER" in refused.stderr
    assert _settings_import().stdout.strip() == "none"  # production default: no gateway
    assert _settings_import(DANCU_DEMO="1").stdout.strip() == "dev"


def test_the_dev_gateway_page_is_not_found_and_a_check_fails_when_dev_drivers_are_off(
    an: int, citizen_client: Any
) -> None:
    dossier, payment = fine_awaiting_payment(an)
    client = citizen_client(an)
    url = f"/dich-vu-cong/thanh-toan-thu/{payment.reference}/"
    with override_settings(DANCU_PAYMENT_DEV_ALLOWED=False):
        assert client.get(url).status_code == 404
        assert client.post(url, {"action": "pay"}).status_code == 404
        errors = [e for e in run_checks() if e.id == "public_services.E001"]
        assert errors and "DANCU_PAYMENT_DRIVER" in errors[0].msg
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    with override_settings(DANCU_PAYMENT_DRIVER="none"):
        with pytest.raises(DomainValidationError) as err:
            services.start_payment(an, dossier.tracking_code)
        assert rules_of(err) == {"payment": "unavailable"}
        assert client.get(url).status_code == 404
    assert not [e for e in run_checks() if e.id == "public_services.E001"]


# --------------------------------------------------------------------------- 2 supplement
@pytest.fixture
def lan() -> str:
    registry.register_citizen(
        admin_ctx(),
        registry.NewCitizen(
            id_number=LAN_ID, full_name="Phạm Thị Lan", date_of_birth=date(1992, 3, 3), sex="F"
        ),
        reason="Kiểm thử",
        legal_basis="Luật Hộ tịch 2014",
    )
    return LAN_ID


def test_changing_the_partner_after_a_send_back_asks_the_new_partner_again(
    an: int,
    mai: int,  # noqa: F811
    lan: str,
    ward_committee: Person,
) -> None:
    dossier = marriage(an)
    services.consent(mai, dossier.tracking_code, agree=True)
    services.send_back(
        ward_committee.actor, dossier.tracking_code, "Bổ sung giấy xác nhận tình trạng hôn nhân"
    )
    changed = services.supplement(
        an, dossier.tracking_code, {"partner_id_number": lan, "partner_full_name": "Phạm Thị Lan"}
    )
    assert changed.status == Dossier.Status.CONSENT
    assert changed.counterpart_id_number == lan and changed.counterpart_consented_at is None
    assert "partner_date_of_birth" not in changed.items  # Mai's facts no longer belong here
    with pytest.raises(DomainValidationError):
        services.approve(ward_committee.actor, dossier.tracking_code)
    assert Citizen.objects.get(id_number=AN_ID).spouse_id is None


def test_a_marriage_is_recorded_only_with_the_consenting_counterpart(
    an: int,
    mai: int,  # noqa: F811
    lan: str,
    ward_committee: Person,
) -> None:
    dossier = marriage(an)
    services.consent(mai, dossier.tracking_code, agree=True)
    items = dict(dossier.items) | {"partner_id_number": {"value": lan, "source": "citizen"}}
    Dossier.objects.filter(pk=dossier.pk).update(items=items)  # whatever the items say
    services.approve(ward_committee.actor, dossier.tracking_code)
    assert Citizen.objects.get(id_number=AN_ID).spouse == Citizen.objects.get(id_number=MAI_ID)
    assert Citizen.objects.get(id_number=LAN_ID).spouse_id is None
    Citizen.objects.filter(id_number__in=[AN_ID, MAI_ID]).update(spouse=None)
    second = marriage(an)
    Dossier.objects.filter(pk=second.pk).update(status=Dossier.Status.SUBMITTED)  # no consent given
    with pytest.raises(DomainValidationError) as err:
        services.approve(ward_committee.actor, second.tracking_code)
    assert rules_of(err) == {"counterpart": "no_consent"}


def test_a_supplement_is_checked_by_the_procedures_rules_again(
    an: int, ward_committee: Person, other_ward_police: Person
) -> None:
    change = submit(
        an, "civil-status-change", {"field": "ethnicity", "new_value": "Tày", "grounds": "Theo mẹ"}
    )
    services.send_back(ward_committee.actor, change.tracking_code, "Bổ sung giấy khai sinh của mẹ")
    with pytest.raises(DomainValidationError) as err:
        services.supplement(an, change.tracking_code, {"new_value": "Kinh"})  # the value on record
    assert rules_of(err) == {"new_value": "no_change"}
    stay = submit(
        an,
        "temporary-residence",
        {
            "temporary_address": "Số 10 phố Hàng Bạc, Phường Hàng Bạc, Quận Hoàn Kiếm, Hà Nội",
            "stay_until": (TODAY() + timedelta(days=180)).strftime("%d/%m/%Y"),
            "lodging_basis": "Hợp đồng thuê nhà",
        },
    )
    services.send_back(other_ward_police.actor, stay.tracking_code, "Bổ sung hợp đồng thuê nhà")
    with pytest.raises(DomainValidationError) as err:
        services.supplement(
            an, stay.tracking_code, {"stay_until": (TODAY() + timedelta(days=3650)).strftime("%d/%m/%Y")}
        )
    assert rules_of(err) == {"stay_until": "max_2_years"}
    stay.refresh_from_db()
    assert stay.status == Dossier.Status.SENT_BACK  # nothing half-written


# --------------------------------------------------------------------------- 3 step-up
def test_consent_and_supplement_of_a_level2_procedure_need_a_level2_session(
    an: int,
    mai: int,  # noqa: F811
    ward_committee: Person,
    citizen_client: Any,
) -> None:
    dossier = marriage(an)
    url = f"/dich-vu-cong/ho-so/{dossier.tracking_code}/dong-y/"
    answer = citizen_client(mai, level=1).post(url, {"answer": "agree"})
    assert answer.status_code == 302 and "acr=" in answer["Location"]
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.CONSENT
    assert citizen_client(mai, level=2).post(url, {"answer": "agree"}).status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.SUBMITTED
    services.send_back(ward_committee.actor, dossier.tracking_code, "Bổ sung giấy xác nhận")
    page = f"/dich-vu-cong/ho-so/{dossier.tracking_code}/"
    form = {"idempotency_key": "s" * 24, "partner_id_number": MAI_ID, "partner_full_name": "Huỳnh Thị Mai"}
    weak = citizen_client(an, level=1).post(page, form)
    assert weak.status_code == 302 and "acr=" in weak["Location"]
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.SENT_BACK
    assert citizen_client(an, level=2).post(page, form).status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.PROCESSING  # unchanged: Mai's consent stands


# --------------------------------------------------------------------------- 4 payments
def paid_notice(payment: Payment) -> dict[str, str]:
    return pay(payment.reference, payment.amount_vnd)


def test_one_fine_has_one_open_dossier_and_is_never_settled_twice(an: int) -> None:
    first, payment = fine_awaiting_payment(an)
    with pytest.raises(DomainValidationError) as err:
        submit(an, "traffic-fine", {"decision_number": "QD-123/2026"})
    assert rules_of(err) == {"decision_number": "open_dossier"}
    TrafficFine.objects.update(
        status=TrafficFine.Status.PAID, paid_dossier="DVC-2601-AAAAAAAA"
    )  # paid elsewhere
    with pytest.raises(DomainValidationError) as err:
        services.start_payment(an, first.tracking_code)
    assert rules_of(err) == {"decision_number": "already_paid"}
    settled = services.payment_callback(paid_notice(payment))  # the money came anyway
    assert settled.status == Payment.Status.PAID and settled.refund_due
    first.refresh_from_db()
    assert first.status == Dossier.Status.PAYMENT
    assert TrafficFine.objects.get().paid_dossier == "DVC-2601-AAAAAAAA"


def test_a_dossier_refused_while_its_payment_is_in_flight_is_not_paid_but_refunded(
    an: int, city_police: Person
) -> None:
    dossier, payment = fine_awaiting_payment(an)
    services.refuse(city_police.actor, dossier.tracking_code, "Quyết định đã bị hủy")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.EXPIRED
    settled = services.payment_callback(paid_notice(payment))
    assert settled.status == Payment.Status.PAID and settled.refund_due
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.REFUSED
    assert TrafficFine.objects.get().status == TrafficFine.Status.UNPAID


def test_a_new_amount_expires_the_older_pending_payment(an: int) -> None:
    dossier, old = fine_awaiting_payment(an)
    row = TrafficFine.objects.get()
    TrafficFine.objects.filter(pk=row.pk).update(decided_on=row.decided_on - timedelta(days=5))  # later: more
    services.start_payment(an, dossier.tracking_code)
    old.refresh_from_db()
    new = Payment.objects.get(status=Payment.Status.PENDING)
    assert old.status == Payment.Status.EXPIRED and new.amount_vnd > old.amount_vnd
    assert services.payment_callback(paid_notice(old)).refund_due
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.PAYMENT
    assert not services.payment_callback(paid_notice(new)).refund_due
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.DONE


def test_a_captured_payment_is_kept_when_settling_the_dossier_fails(
    an: int, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    dossier, payment = fine_awaiting_payment(an)

    def broken(*args: Any) -> dict[str, Any]:
        raise RuntimeError("penalty register unavailable")

    monkeypatch.setitem(handlers.HANDLERS, "traffic-fine", broken)
    for _ in range(2):  # the gateway retries: the same answer, recorded once
        answer = client.post("/dich-vu-cong/thanh-toan/ipn/", paid_notice(payment))
        assert answer.status_code == 200 and answer.json()["status"] == "paid"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PAID and payment.refund_due and payment.attention
    assert payment.provider_transaction == "GW-0001"
    dossier.refresh_from_db()
    assert dossier.status == Dossier.Status.PAYMENT
    assert dossier.events.filter(action="payment_attention").count() == 1


# --------------------------------------------------------------------------- 5 the public check
@pytest.fixture
def fresh_limits() -> Any:
    cache.clear()
    yield
    cache.clear()


@override_settings(
    DANCU_RESULT_CHECK_PER_ADDRESS=Rate(per_minute=1, burst=3),
    DANCU_RESULT_CHECK_OVERALL=Rate(per_minute=1, burst=5),
)
def test_the_public_result_check_is_rate_limited_per_address_and_overall(
    client: Client, fresh_limits: None
) -> None:
    url = "/dich-vu-cong/xac-minh/DVC-2601-ABCDEFGH/"
    assert [client.get(url, REMOTE_ADDR="203.0.113.5").status_code for _ in range(4)] == [404, 404, 404, 429]
    limited = client.get(url, REMOTE_ADDR="203.0.113.5")
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert client.get(url, REMOTE_ADDR="203.0.113.6").status_code == 404  # another address
    assert client.get(url, REMOTE_ADDR="203.0.113.7").status_code == 404
    assert client.get(url, REMOTE_ADDR="203.0.113.8").status_code == 429  # everyone together


# --------------------------------------------------------------------------- 6 the signature
def test_the_signature_covers_each_field_unambiguously() -> None:
    gateway = payments.DevGateway(b"contract-secret")
    joined = {"reference": "R-1", "amount": "100", "status": "00|transaction=X", "transaction": "Y"}
    split = {"reference": "R-1", "amount": "100", "status": "00", "transaction": "X|transaction=Y"}
    assert gateway.sign(joined) != gateway.sign(split)
