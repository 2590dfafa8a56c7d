"""Proof of possession of an eID account on a shared device (``eid.possession``, used by the
one-stop office kiosk after a card QR: ADR 0013, decision 3): a code to the account's verified
phone, bound to one session, masked to its last three digits, refused without a verified phone."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import possession
from dancu.blocks.eid.models import Account, OneTimeCode
from tests.blocks.eid.conftest import AN_PHONE, Outbox

WHERE = "kiosk:0000abcd"


def test_the_phone_is_shown_by_its_last_three_digits_only() -> None:
    assert possession.mask_phone(AN_PHONE) == "*******678"
    assert possession.mask_phone("12") == "**"


def test_a_code_works_in_its_own_session_only(an_registered: int, outbox: Outbox) -> None:
    sent = possession.send(an_registered, bind="7:session-a", where=WHERE, verification="r-1")
    assert sent.sent and sent.phone_masked == "*******678"
    code = outbox.last_code(AN_PHONE)
    assert not possession.check(an_registered, code, bind="8:session-a", where=WHERE, verification="r-1")
    assert not possession.check(an_registered, code, bind="7:session-b", where=WHERE, verification="r-1")
    assert possession.check(an_registered, code, bind="7:session-a", where=WHERE, verification="r-1")
    assert not possession.check(an_registered, code, bind="7:session-a", where=WHERE, verification="r-1")
    events = AuditEvent.objects.filter(action="eid.possession").order_by("pk")
    assert [e.result for e in events] == ["denied", "denied", "ok", "denied"]
    assert all(e.detail["factor"] == "sms" and code not in str(e.detail) for e in events)


def test_no_code_without_a_verified_phone_and_no_code_twice_at_once(
    an_registered: int, outbox: Outbox
) -> None:
    first = possession.send(an_registered, bind="7:a", where=WHERE, verification="r")
    again = possession.send(an_registered, bind="7:a", where=WHERE, verification="r")
    assert first.sent and not again.sent and again.reason == "throttled" and 0 < again.retry_after <= 30
    OneTimeCode.objects.update(created_at=F("created_at") - timedelta(seconds=31))
    assert possession.send(an_registered, bind="7:a", where=WHERE, verification="r").sent
    Account.objects.filter(user_id=an_registered).update(phone_verified_at=None)
    refused = possession.send(an_registered, bind="7:a", where=WHERE, verification="r")
    assert not refused.sent and refused.reason == "no_phone" and refused.phone_masked == ""
    assert not possession.has_verified_phone(an_registered)
    Account.objects.filter(user_id=an_registered).update(level=2)  # confirmed at the police desk
    assert possession.has_verified_phone(an_registered)
