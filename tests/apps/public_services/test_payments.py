"""The payment adapter's contract, kept by every driver (here the development gateway), and the
gateway's notices at the platform's endpoints: signed, applied once, amount checked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from dancu.apps.public_services import payments, services
from dancu.apps.public_services.models import Dossier, Payment, TrafficFine
from dancu.errors import DomainValidationError

DRIVERS = [payments.DevGateway(b"contract-secret")]


@pytest.mark.parametrize("driver", DRIVERS, ids=lambda d: d.name)
def test_a_driver_signs_what_it_parses_and_refuses_any_change(driver: payments.DevGateway) -> None:
    fields = driver.callback_fields("DVC-2612-ABCDEFGH-1", 150000, paid=True, transaction="T1")
    parsed = driver.parse_callback(fields)
    assert parsed == payments.Callback("DVC-2612-ABCDEFGH-1", 150000, True, "T1")
    for key in payments.FIELDS:
        tampered = fields | {key: fields[key] + "0"}
        with pytest.raises(DomainValidationError) as err:
            driver.parse_callback(tampered)
        assert err.value.problems[0].field == "signature"
    with pytest.raises(DomainValidationError) as err:
        driver.parse_callback({k: v for k, v in fields.items() if k != "amount"})
    assert err.value.problems[0].field == "amount"
    other = payments.DevGateway(b"another-secret")
    with pytest.raises(DomainValidationError):
        other.parse_callback(fields)  # signed with another key


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*payments.FIELDS, "signature", "x"]), st.text(max_size=80)))
def test_no_notice_that_was_not_signed_is_ever_accepted(fields: dict[str, str]) -> None:
    with pytest.raises(DomainValidationError):
        DRIVERS[0].parse_callback(fields)


@pytest.mark.django_db
def test_the_ipn_endpoint_applies_a_notice_once_and_names_the_bad_field(an: int, client: Client) -> None:
    TrafficFine.objects.create(
        decision_number="QD-7/2026",
        id_number="001085012345",
        plate="29B-888.88",
        violation="Vượt quá tốc độ",
        legal_basis="Nghị định 168/2024/NĐ-CP Điều 6",
        amount_vnd=800_000,
        decided_on=timezone.localdate() - timedelta(days=1),
    )
    dossier, _ = services.submit(
        an, "traffic-fine", {"decision_number": "QD-7/2026"}, idempotency_key="p" * 24
    )
    url = services.start_payment(an, dossier.tracking_code)
    assert url.startswith("/dich-vu-cong/thanh-toan-thu/")
    payment = Payment.objects.get()
    fields = payments.dev_gateway().callback_fields(payment.reference, 800_000, paid=True, transaction="GW-9")
    bad = client.post("/dich-vu-cong/thanh-toan/ipn/", fields | {"signature": "f" * 64})
    assert bad.status_code == 400 and bad.json()["field"] == "signature"
    for _ in range(2):
        ok = client.post("/dich-vu-cong/thanh-toan/ipn/", fields)
        assert ok.status_code == 200 and ok.json()["status"] == "paid"
    assert Dossier.objects.get().status == Dossier.Status.DONE
    assert TrafficFine.objects.get().status == "paid"
