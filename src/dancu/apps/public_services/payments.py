"""The payment adapter: fees and fines paid online through a payment gateway (the national
public-services portal's payment platform, a bank or a wallet).

A driver starts a payment (the URL the citizen's browser is sent to) and checks the gateway's
callback — the server-to-server notice (IPN) and the browser's return carry the same signed
fields. The contract every driver keeps (``tests/apps/public_services/test_payments.py``):

* the callback's fields are ``reference``, ``amount``, ``status`` (``"00"``: paid), ``transaction``
  and ``signature``; a missing field or a wrong signature is refused (``DomainValidationError``
  naming ``signature``/the field) and changes nothing;
* the same callback delivered twice settles the payment once (idempotent on ``reference``);
* an amount different from the payment's is refused.

The ``dev`` driver behaves like such a gateway for development and tests: HMAC-SHA256 (RFC 2104)
over the canonical JSON of the fields (sorted keys, no whitespace — unambiguous, unlike joined
``k=v`` pairs), compared in constant time, with a secret (``DANCU_PAYMENT_DEV_SECRET``, else derived
from the Django secret key), and a page of its own (``/dich-vu-cong/thanh-toan-thu/<reference>/``)
where the citizen pays or cancels. Because that page marks a payment paid, the driver runs only
where ``DANCU_PAYMENT_DEV_ALLOWED`` (the demo, DEBUG, the test settings): ``settings.py`` refuses
``DANCU_PAYMENT_DRIVER=dev`` otherwise, the system check ``public_services.E001`` catches an
override, and the page answers 404. ``none`` turns online payment off (ADR 0016).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from django.conf import settings
from django.core import checks
from django.urls import reverse

from dancu.errors import DomainValidationError

PAID = "00"
FIELDS = ("reference", "amount", "status", "transaction")


@dataclass(frozen=True)
class Callback:
    reference: str
    amount: int
    paid: bool
    transaction: str


class PaymentDriver(Protocol):
    name: str

    def start(self, reference: str, amount_vnd: int, description: str) -> str: ...

    def parse_callback(self, fields: Mapping[str, str]) -> Callback: ...


class DevGateway:
    """A development gateway signing its callbacks like a real one (HMAC-SHA256)."""

    name = "dev"

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or self._configured_secret()

    @staticmethod
    def _configured_secret() -> bytes:
        configured = getattr(settings, "DANCU_PAYMENT_DEV_SECRET", "")
        if configured:
            return str(configured).encode()
        return hashlib.sha256(b"dancu-payment-dev|" + settings.SECRET_KEY.encode()).digest()

    def sign(self, fields: Mapping[str, str]) -> str:
        signed = {k: str(fields[k]) for k in FIELDS}
        message = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def start(self, reference: str, amount_vnd: int, description: str) -> str:
        query = urlencode({"amount": amount_vnd, "description": description[:100]})
        return f"{reverse('public_services:dev_gateway', args=[reference])}?{query}"

    def callback_fields(
        self, reference: str, amount_vnd: int, *, paid: bool, transaction: str
    ) -> dict[str, str]:
        """What the gateway sends back once the citizen paid or cancelled (signed)."""
        fields = {
            "reference": reference,
            "amount": str(amount_vnd),
            "status": PAID if paid else "24",
            "transaction": transaction,
        }
        return {**fields, "signature": self.sign(fields)}

    def parse_callback(self, fields: Mapping[str, str]) -> Callback:
        missing = [k for k in (*FIELDS, "signature") if not str(fields.get(k, "")).strip()]
        if missing:
            raise DomainValidationError.single(
                missing[0], "required", "Thiếu trường trong thông báo thanh toán"
            )
        expected = self.sign({k: str(fields[k]) for k in FIELDS})
        if not hmac.compare_digest(expected.encode(), str(fields["signature"]).encode()):
            raise DomainValidationError.single(
                "signature", "invalid", "Chữ ký thông báo thanh toán không hợp lệ"
            )
        try:
            amount = int(str(fields["amount"]))
        except ValueError:
            raise DomainValidationError.single("amount", "integer", "Số tiền không hợp lệ") from None
        return Callback(
            str(fields["reference"]), amount, fields["status"] == PAID, str(fields["transaction"])
        )


def dev_allowed() -> bool:
    """Whether the development gateway may run: configured, in the demo, DEBUG or the tests."""
    return DevGateway.name == settings.DANCU_PAYMENT_DRIVER and bool(settings.DANCU_PAYMENT_DEV_ALLOWED)


def driver() -> PaymentDriver:
    """The configured driver (``DANCU_PAYMENT_DRIVER``; only ``dev`` ships with the platform).
    Raises ``DomainValidationError`` (field ``payment``) when online payment is off."""
    if not dev_allowed():
        raise DomainValidationError.single(
            "payment", "unavailable", "Thanh toán trực tuyến chưa được cung cấp / online payment is off"
        )
    return DevGateway()


def dev_gateway() -> DevGateway:
    current = driver()
    if not isinstance(current, DevGateway):
        raise RuntimeError("the development gateway is not the configured payment driver")
    return current


@checks.register(checks.Tags.security)
def check_payment_driver(**kwargs: object) -> list[checks.CheckMessage]:
    """The development gateway marks payments paid on its own page: never in production."""
    if DevGateway.name == settings.DANCU_PAYMENT_DRIVER and not settings.DANCU_PAYMENT_DEV_ALLOWED:
        return [
            checks.Error(
                "DANCU_PAYMENT_DRIVER=dev (the development payment gateway) outside the demo or DEBUG",
                hint="Set DANCU_PAYMENT_DRIVER=none or configure a real gateway's driver.",
                id="public_services.E001",
            )
        ]
    return []
