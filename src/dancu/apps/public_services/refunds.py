"""Payments to refund: money the gateway captured that settled nothing (``Payment.refund_due``: the
dossier was closed or the payment superseded before the money came, or settling it failed —
``services.payment_callback``), listed for the officials of the dossier's competent authority, who
record each refund.

The payment adapter (``payments``) has no refund call: its contract is starting a payment and
checking the gateway's signed notice. A refund of a fee or a fine paid into the State budget is
made by the collecting authority through the State Treasury (Circular 328/2016/TT-BTC on collecting
State budget revenue through the Treasury, its provisions on refunds — cited without an article
number until checked) or through the gateway's own refund console, outside the platform; the
official records here the reference of that transfer. Each record is written to the dossier's
history (which the citizen sees), the citizen is notified, and it is audited under the official
(purpose ``public_service.processing``, the tracking code as case reference). A payment is refunded
once; anyone who is not a public-service official is refused (``AccessDenied``); an official of
another authority or ward is answered as for an unknown reference (``NotFound``, audited as a
denial), so that payment references of other authorities cannot be probed.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from dancu.apps.public_services import catalogue
from dancu.apps.public_services.models import Payment
from dancu.apps.public_services.services import PURPOSE, _event, _jurisdiction, is_official, notify
from dancu.blocks.audit import services as audit
from dancu.blocks.audit.context import AccessContext, Actor
from dancu.blocks.audit.models import AuditEvent
from dancu.errors import AccessDenied, DomainValidationError, NotFound

ACTION_REFUNDED = "public_service.refund_recorded"
ACTION_EXPORTED = "public_service.refunds_exported"
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{2,63}\Z")

EXPORT_HEADER = [
    "Mã thanh toán / Payment reference",
    "Mã hồ sơ / Tracking code",
    "Thủ tục / Service",
    "Số tiền (đồng) / Amount (VND)",
    "Cổng thanh toán / Provider",
    "Mã giao dịch / Transaction",
    "Ngày nhận tiền / Received on",
    "Lý do hoàn / Why refunded",
    "Ngày hoàn / Refunded on",
    "Số chứng từ hoàn / Refund reference",
    "Người ghi nhận / Recorded by",
]


def _require_official(actor: Actor) -> None:
    if not is_official(actor):
        raise AccessDenied("your organisation or role does not handle public service dossiers")


def refunds(actor: Actor, *, include_refunded: bool = False) -> QuerySet[Payment]:
    """The payments due for refund of the official's own authority and ward (the dossier's
    competent authority), the oldest first; with ``include_refunded`` also those already refunded."""
    _require_official(actor)
    kind, code, org_code = _jurisdiction(actor)
    qs = Payment.objects.filter(
        refund_due=True,
        dossier__authority_kind=kind,
        dossier__authority_ward_code=code,
        dossier__authority_org_code=org_code,
    )
    if not include_refunded:
        qs = qs.filter(refunded_at__isnull=True)
    return qs.select_related("dossier").order_by("settled_at", "pk")


def _clean_reference(raw: str) -> str:
    text = (raw or "").strip()
    if not text:
        raise DomainValidationError.single(
            "refund_reference", "required", "Vui lòng nhập số chứng từ hoàn tiền / the refund reference"
        )
    if not _REFERENCE.match(text):
        raise DomainValidationError.single(
            "refund_reference",
            "format",
            "Số chứng từ: 3–64 ký tự chữ, số, . _ / - / letters, digits and . _ / -",
        )
    return text


def mark_refunded(actor: Actor, reference: str, refund_reference: str) -> Payment:
    """Record that the payment ``reference`` was refunded, with the transfer's reference."""
    _require_official(actor)
    text = _clean_reference(refund_reference)
    try:
        return _mark_refunded(actor, reference, text)
    except _OtherAuthority:
        # Answered like an unknown reference (404, not 403): an official learns nothing of the
        # payments of other authorities (Law 91/2025/QH15 Art. 3); the attempt is audited.
        audit.record(
            AccessContext(actor, PURPOSE),
            ACTION_REFUNDED,
            result=AuditEvent.Result.DENIED,
            detail={"reason": "jurisdiction"},
        )
        raise NotFound("no such payment", field="reference") from None


class _OtherAuthority(Exception):
    """The payment belongs to a dossier of another authority or ward (rolls the lock back)."""


def _mark_refunded(actor: Actor, reference: str, text: str) -> Payment:
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update().select_related("dossier").filter(reference=reference).first()
        )
        if payment is None:
            raise NotFound("no such payment", field="reference")
        dossier = payment.dossier
        if (dossier.authority_kind, dossier.authority_ward_code, dossier.authority_org_code) != _jurisdiction(
            actor
        ):
            raise _OtherAuthority
        if not payment.refund_due:
            raise DomainValidationError.single(
                "reference",
                "not_refund_due",
                "Khoản thanh toán không thuộc diện hoàn tiền / not due for refund",
            )
        if payment.refunded_at is not None:
            raise DomainValidationError.single(
                "reference", "already_refunded", "Khoản thanh toán đã được hoàn / already refunded"
            )
        payment.refunded_at = timezone.now()
        payment.refund_reference = text
        payment.refunded_by = actor.label[:150]
        payment.save(update_fields=["refunded_at", "refund_reference", "refunded_by"])
        _event(dossier, "refunded", actor.label, f"{payment.reference}: {payment.amount_vnd} đ — {text}")
        audit.record(
            AccessContext(actor, PURPOSE, case_reference=dossier.tracking_code),
            ACTION_REFUNDED,
            detail={"payment": payment.reference, "amount_vnd": payment.amount_vnd},
        )
        notify(
            dossier,
            "Đã hoàn tiền / Payment refunded",
            f"Khoản {payment.amount_vnd:,} đ đã được hoàn, chứng từ {text}. "
            f"/ {payment.amount_vnd:,} VND refunded, reference {text}.".replace(",", "."),
        )
    return payment


def export_rows(actor: Actor, payments: QuerySet[Payment]) -> list[list[object]]:
    """The rows of the CSV/XLSX export (no name or ID number: the tracking code leads to the
    dossier); the export is audited."""
    rows: list[list[object]] = []
    for p in payments:
        service = catalogue.BY_CODE.get(p.dossier.service_code)
        rows.append(
            [
                p.reference,
                p.dossier.tracking_code,
                service.name_vi if service else p.dossier.service_code,
                p.amount_vnd,
                p.provider,
                p.provider_transaction,
                timezone.localtime(p.settled_at).strftime("%d/%m/%Y %H:%M") if p.settled_at else "",
                p.attention,
                timezone.localtime(p.refunded_at).strftime("%d/%m/%Y %H:%M") if p.refunded_at else "",
                p.refund_reference,
                p.refunded_by,
            ]
        )
    audit.record(AccessContext(actor, PURPOSE), ACTION_EXPORTED, detail={"rows": len(rows)})
    return rows
