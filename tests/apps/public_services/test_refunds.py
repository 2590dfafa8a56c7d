"""Payments to refund: money the gateway captured that settled nothing is listed for the officials
of the dossier's competent authority — and no one else — who record each refund once, with the
reference of the transfer; the dossier's history, the citizen's inbox and the audit log say so.

Named actors: ``an`` (Nguyễn Văn An, who paid a fine the city police had just refused, and a fee
of a temporary residence registration in Hoàn Kiếm that could not be settled), ``city_police``
(Công an thành phố Hà Nội: competent for traffic fines), ``other_ward_police`` (Công an phường
Hoàn Kiếm: competent for the Hoàn Kiếm registration), ``ward_police`` (Công an phường Tây Hồ: an
official of another ward for both), ``mai`` (another citizen).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from dancu.apps.public_services import refunds, services
from dancu.apps.public_services.models import Dossier, InboxMessage, Payment
from dancu.blocks.audit.models import AuditEvent
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.apps.public_services.conftest import HOAN_KIEM_ADDRESS
from tests.apps.public_services.test_more_services import submit
from tests.apps.public_services.test_security_review import fine_awaiting_payment, paid_notice
from tests.conftest import Person

pytestmark = pytest.mark.django_db
PAGE = "/dich-vu-cong/can-bo/hoan-tien/"


def refused_then_paid(an: int, city_police: Person) -> Payment:
    """An's fine: the city police refuse the dossier while his payment is in flight; the money
    comes anyway and is flagged for refund (``services.payment_callback``)."""
    dossier, payment = fine_awaiting_payment(an)
    services.refuse(city_police.actor, dossier.tracking_code, "Quyết định xử phạt đã bị hủy")
    settled = services.payment_callback(paid_notice(payment))
    assert settled.refund_due and settled.refunded_at is None
    return settled


def hoan_kiem_fee_to_refund(an: int) -> Payment:
    """A fee of An's temporary residence registration in Hoàn Kiếm (a ward police dossier),
    captured but not settled: flagged for refund the way ``payment_callback`` flags one."""
    until = (timezone.localdate() + timedelta(days=180)).strftime("%d/%m/%Y")
    dossier = submit(
        an,
        "temporary-residence",
        {"temporary_address": HOAN_KIEM_ADDRESS, "stay_until": until, "lodging_basis": "Nhà người thân"},
    )
    assert dossier.authority_ward_code == "00070"
    payment = Payment.objects.create(
        dossier=dossier,
        reference=f"{dossier.tracking_code}-1",
        amount_vnd=20_000,
        provider="dev",
        status=Payment.Status.PAID,
        provider_transaction="GW-0002",
        settled_at=timezone.now(),
    )
    services._needs_attention(payment, dossier, "settlement failed: RuntimeError")
    return payment


def test_the_city_police_record_the_refund_of_a_fine_paid_after_its_dossier_was_refused(
    an: int, city_police: Person
) -> None:
    payment = refused_then_paid(an, city_police)
    assert list(refunds.refunds(city_police.actor)) == [payment]

    refunded = refunds.mark_refunded(city_police.actor, payment.reference, "KBNN-HN-2026/00123")

    assert refunded.refunded_at is not None and refunded.refund_reference == "KBNN-HN-2026/00123"
    assert refunded.refunded_by == city_police.actor.label
    assert list(refunds.refunds(city_police.actor)) == []  # done: off the list
    assert list(refunds.refunds(city_police.actor, include_refunded=True)) == [payment]
    dossier = Dossier.objects.get(pk=payment.dossier_id)
    [event] = dossier.events.filter(action="refunded")
    assert payment.reference in event.note and "KBNN-HN-2026/00123" in event.note
    assert InboxMessage.objects.filter(user_id=an, subject__startswith="Đã hoàn tiền").count() == 1
    [audited] = AuditEvent.objects.filter(action=refunds.ACTION_REFUNDED)
    assert audited.case_reference == dossier.tracking_code and audited.actor_user_id == city_police.user.pk
    assert audited.detail == {"payment": payment.reference, "amount_vnd": payment.amount_vnd}


def test_a_payment_is_refunded_once_and_only_if_it_is_due(an: int, city_police: Person) -> None:
    payment = refused_then_paid(an, city_police)
    for bad, rule in (("", "required"), ("KB 12", "format"), ("<script>", "format"), ("x" * 65, "format")):
        with pytest.raises(DomainValidationError) as err:
            refunds.mark_refunded(city_police.actor, payment.reference, bad)
        assert [(p.field, p.rule) for p in err.value.problems] == [("refund_reference", rule)]
    refunds.mark_refunded(city_police.actor, payment.reference, "KBNN-1")
    with pytest.raises(DomainValidationError) as err:
        refunds.mark_refunded(city_police.actor, payment.reference, "KBNN-2")
    assert [(p.field, p.rule) for p in err.value.problems] == [("reference", "already_refunded")]
    assert Payment.objects.get(pk=payment.pk).refund_reference == "KBNN-1"  # the first stands

    Payment.objects.filter(pk=payment.pk).update(refund_due=False, refunded_at=None)  # a payment that settled
    with pytest.raises(DomainValidationError) as err:
        refunds.mark_refunded(city_police.actor, payment.reference, "KBNN-3")
    assert [(p.field, p.rule) for p in err.value.problems] == [("reference", "not_refund_due")]
    with pytest.raises(NotFound):
        refunds.mark_refunded(city_police.actor, "DVC-0000-NOTHING-1", "KBNN-4")


def test_officials_of_another_authority_or_ward_neither_see_nor_refund_a_payment(
    an: int, city_police: Person, ward_police: Person, other_ward_police: Person
) -> None:
    fine = refused_then_paid(an, city_police)
    fee = hoan_kiem_fee_to_refund(an)
    assert list(refunds.refunds(city_police.actor)) == [fine]
    assert list(refunds.refunds(other_ward_police.actor)) == [fee]  # Hoàn Kiếm's own
    assert list(refunds.refunds(ward_police.actor)) == []  # Tây Hồ: neither is theirs
    # Another authority's payment is answered like an unknown one (404, not 403): an official
    # cannot learn which payment references exist elsewhere; the attempt is still audited.
    for official, payment in ((ward_police, fee), (ward_police, fine), (other_ward_police, fine)):
        with pytest.raises(NotFound) as hidden:
            refunds.mark_refunded(official.actor, payment.reference, "KBNN-9")
        assert hidden.value.field == "reference"
        with pytest.raises(NotFound) as unknown:
            refunds.mark_refunded(official.actor, "DVC-0000-NOTHING-9", "KBNN-9")
        assert str(hidden.value) == str(unknown.value)
    denials = AuditEvent.objects.filter(action=refunds.ACTION_REFUNDED, result=AuditEvent.Result.DENIED)
    assert denials.count() == 3
    assert not Payment.objects.filter(refunded_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action=refunds.ACTION_REFUNDED, result=AuditEvent.Result.OK).exists()
    refunds.mark_refunded(other_ward_police.actor, fee.reference, "KBNN-HK-7")  # the competent ward may


def test_citizens_are_refused_the_refunds_page_and_its_action(
    an: int, mai: int, city_police: Person, citizen_client: Callable[..., Client]
) -> None:
    payment = refused_then_paid(an, city_police)
    with pytest.raises(AccessDenied):
        refunds.refunds(services.portal_actor(an))
    for user_id in (an, mai):  # the payer himself, and another citizen
        client = citizen_client(user_id)
        assert client.get(PAGE).status_code == 403
        assert client.get(f"{PAGE}?format=csv").status_code == 403
        answer = client.post(f"{PAGE}{payment.reference}/", {"refund_reference": "KBNN-1"})
        assert answer.status_code == 403
    assert Payment.objects.get(pk=payment.pk).refunded_at is None


def test_pages_list_export_and_record_a_refund_for_the_competent_officials_only(
    an: int,
    city_police: Person,
    ward_police: Person,
    staff_client: Callable[[Person], Client],
) -> None:
    payment = refused_then_paid(an, city_police)
    denied = staff_client(ward_police)
    page = denied.get(PAGE)
    assert page.status_code == 200 and payment.reference not in page.content.decode()
    # another ward's official: the payment is answered as unknown (404), like a made-up reference
    assert denied.post(f"{PAGE}{payment.reference}/", {"refund_reference": "KBNN-1"}).status_code == 404
    denied.logout()

    client = staff_client(city_police)
    listing = client.get(PAGE).content.decode()
    assert f'data-reference="{payment.reference}"' in listing and "Khoản thanh toán cần hoàn tiền" in listing
    csv = client.get(f"{PAGE}?format=csv")
    assert csv["Content-Disposition"].endswith('.csv"')
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Mã thanh toán / Payment reference") and payment.reference in lines[1]
    assert "Nguyễn Văn An" not in csv.content.decode("utf-8-sig")  # no name in the export
    xlsx = client.get(f"{PAGE}?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.cell(2, 1).value == payment.reference
    assert AuditEvent.objects.filter(action=refunds.ACTION_EXPORTED).count() == 2
    assert client.get(f"{PAGE}?format=pdf").status_code == 422

    bad = client.post(f"{PAGE}{payment.reference}/", {"refund_reference": ""})
    assert bad.status_code == 422 and "refund_reference" in bad.content.decode()
    done = client.post(f"{PAGE}{payment.reference}/", {"refund_reference": "KBNN-HN-2026/00123"})
    assert done.status_code == 302 and done["Location"] == PAGE
    assert payment.reference not in client.get(PAGE).content.decode()
    history = client.get(f"{PAGE}?refunded=1").content.decode()
    assert 'data-testid="refunded"' in history and "KBNN-HN-2026/00123" in history
    assert client.post(f"{PAGE}DVC-0000-NOTHING-1/", {"refund_reference": "KBNN-2"}).status_code == 404
