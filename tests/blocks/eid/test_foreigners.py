"""Foreign residents' level-1 accounts (Decree 69/2024/NĐ-CP Art. 7; ADR 0017).

Actors: Anna Schmidt (German, temporary residence card, lives in Tây Hồ), her son Leon (5), the
immigration feed, the Tây Hồ ward officer (decides), the Hoàn Kiếm officer (may not). The
passport's TD3 MRZ and the residence card must match one record with a valid card."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import factors, foreigners, services
from dancu.blocks.eid.models import Account
from dancu.blocks.identity.mrz import MrzTD3
from dancu.errors import AccessDenied, DomainValidationError
from tests.blocks.eid.conftest import PASSWORD, Outbox, face
from tests.conftest import TAY_HO_WARD, Person

pytestmark = pytest.mark.django_db
TODAY = date(2026, 12, 1)
ANNA_PHONE = "0901234567"


def anna_record(**changes: Any) -> foreigners.ForeignResidentInput:
    values: dict[str, Any] = {
        "nationality": "DEU",
        "passport_number": "C01X00T47",
        "passport_expires_on": date(2030, 5, 1),
        "surname": "SCHMIDT",
        "given_names": "ANNA MARIA",
        "date_of_birth": date(1990, 7, 15),
        "sex": "F",
        "card_kind": "temporary",
        "card_number": "TT2025-00123",
        "card_valid_from": date(2025, 1, 10),
        "card_valid_until": date(2027, 1, 10),
        "ward_code": TAY_HO_WARD,
    }
    values.update(changes)
    return foreigners.ForeignResidentInput(**values)


def mrz(**changes: Any) -> str:
    values: dict[str, Any] = {
        "document_code": "P",
        "issuing_state": "D",
        "document_number": "C01X00T47",
        "date_of_birth": date(1990, 7, 15),
        "sex": "F",
        "date_of_expiry": date(2030, 5, 1),
        "nationality": "DEU",
        "primary_identifier": "SCHMIDT",
        "secondary_identifier": "ANNA MARIA",
    }
    values.update(changes)
    return "\n".join(MrzTD3(**values).lines)


def application(**changes: Any) -> foreigners.ForeignerRegistrationInput:
    values: dict[str, Any] = {
        "passport_mrz": mrz(),
        "card_number": "TT2025-00123",
        "phone": ANNA_PHONE,
        "password": PASSWORD,
        "photo": face(3),
    }
    values.update(changes)
    return foreigners.ForeignerRegistrationInput(**values)


@pytest.fixture
def anna(db: None) -> int:
    return foreigners.record_foreign_resident(anna_record())


def rules(err: pytest.ExceptionInfo[DomainValidationError]) -> dict[str, str]:
    return {p.field: p.rule for p in err.value.problems}


def test_anna_registers_with_her_passport_and_card_and_the_ward_officer_approves(
    anna: int, outbox: Outbox, ward_police: Person
) -> None:
    handle = foreigners.register_foreigner(application(), on=TODAY).handle
    account = Account.objects.get(id_number="DEUC01X00T47")
    assert account.status == "pending" and account.foreign_resident_id == anna and account.citizen_id is None
    assert services.verify_phone(handle, outbox.last_code(ANNA_PHONE))
    queue = services.pending_registrations(ward_police.ctx("eid.registration"))
    assert [r.id_number for r in queue] == ["DEUC01X00T47"]
    services.decide_registration(ward_police.ctx("eid.registration"), handle, approve=True)
    account.refresh_from_db()
    assert (account.status, account.level, account.max_level) == ("active", 1, 2)
    from dancu.blocks.eid import login

    signed_in = login.check_password("DEUC01X00T47", PASSWORD, ip="127.0.0.1")
    assert signed_in.level == 1 and signed_in.user_id == account.user_id
    assert AuditEvent.objects.filter(action="eid.registration.foreigner", result="ok").exists()


def test_an_officer_of_another_ward_may_not_decide(
    anna: int, outbox: Outbox, other_ward_police: Person
) -> None:
    handle = foreigners.register_foreigner(application(), on=TODAY).handle
    with pytest.raises(AccessDenied):
        services.decide_registration(other_ward_police.ctx("eid.registration"), handle, approve=True)


@pytest.mark.parametrize(
    "change",
    [
        {"card_number": "TT2025-99999"},
        {"passport_mrz": mrz(secondary_identifier="ANNE")},
        {"passport_mrz": mrz(date_of_birth=date(1990, 7, 16))},
        {"passport_mrz": mrz(document_number="C01X00T48")},
        {"passport_mrz": mrz(nationality="AUT")},
    ],
)
def test_data_that_do_not_match_get_the_same_answer_as_a_match(
    anna: int, outbox: Outbox, change: dict[str, Any]
) -> None:
    """No oracle on residence-card records: a code to the typed phone, as for a match; only that
    code's step tells that the data cannot be registered online, naming no field."""
    receipt = foreigners.register_foreigner(application(**change), on=TODAY)
    assert (receipt.matched, receipt.handle) == (False, 0)
    assert factors.check_decoy_code(receipt.decoy, outbox.last_code(ANNA_PHONE))
    assert not Account.objects.exists()
    assert AuditEvent.objects.filter(action="eid.registration.foreigner", result="denied").exists()


def test_an_expired_residence_card_cannot_register(outbox: Outbox) -> None:
    foreigners.record_foreign_resident(anna_record(card_valid_until=date(2026, 11, 30)))
    receipt = foreigners.register_foreigner(application(), on=TODAY)
    assert (receipt.matched, receipt.handle) == (False, 0) and receipt.decoy
    assert not Account.objects.exists()


def test_a_broken_mrz_check_digit_names_the_field(anna: int) -> None:
    lines = mrz().split("\n")
    broken = lines[0] + "\n" + lines[1][:9] + ("0" if lines[1][9] != "0" else "1") + lines[1][10:]
    with pytest.raises(DomainValidationError) as err:
        foreigners.register_foreigner(application(passport_mrz=broken), on=TODAY)
    assert any(f.startswith("passport_mrz.mrz.line2.document_number") for f in rules(err))


def test_a_child_under_6_cannot_register_online(outbox: Outbox) -> None:
    foreigners.record_foreign_resident(
        anna_record(
            passport_number="C01X00T55",
            given_names="LEON",
            sex="M",
            date_of_birth=date(2021, 3, 3),
            card_number="TT2025-00124",
        )
    )
    with pytest.raises(DomainValidationError) as err:
        foreigners.register_foreigner(
            application(
                passport_mrz=mrz(
                    document_number="C01X00T55",
                    secondary_identifier="LEON",
                    sex="M",
                    date_of_birth=date(2021, 3, 3),
                ),
                card_number="TT2025-00124",
            ),
            on=TODAY,
        )
    assert rules(err) == {"passport_mrz": "eligibility_age"}


def test_one_account_per_passport_and_the_second_try_learns_nothing(anna: int, outbox: Outbox) -> None:
    """A second application for a registered passport gets the answer of a new one (a code to the
    typed phone), no account is made, and the holder is warned by SMS."""
    foreigners.register_foreigner(application(), on=TODAY)
    second = foreigners.register_foreigner(application(phone="0907654321"), on=TODAY)
    assert (second.matched, second.handle) == (True, 0)
    assert factors.check_decoy_code(second.decoy, outbox.last_code("0907654321"))
    assert Account.objects.count() == 1
    warned = [m for m in outbox.messages if m["kind"] == "eid.registration.duplicate"]
    assert [m["to"] for m in warned] == [ANNA_PHONE]


def test_the_immigration_feed_is_validated_and_idempotent(db: None) -> None:
    first = foreigners.record_foreign_resident(anna_record())
    assert foreigners.record_foreign_resident(anna_record(card_number="TT2026-00001")) == first
    with pytest.raises(DomainValidationError) as err:
        foreigners.record_foreign_resident(
            anna_record(
                nationality="de",
                passport_number="C01-X",
                card_kind="visa",
                sex="Q",
                card_valid_until=date(2024, 1, 1),
            )
        )
    assert set(rules(err)) == {"nationality", "passport_number", "card_kind", "sex", "card_valid_until"}


def test_the_demo_foreign_resident_registers_with_the_printed_mrz(db: None, outbox: Outbox) -> None:
    from dancu.blocks.eid.demo import _demo_foreign_resident

    login_name, printed = _demo_foreign_resident()
    assert _demo_foreign_resident() == (login_name, printed)  # idempotent
    line1, line2 = printed.split("MRZ ")[1].split(" / ")
    foreigners.register_foreigner(application(passport_mrz=f"{line1}\n{line2}"))
    assert Account.objects.get(id_number=login_name).status == "pending"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=120), card=st.text(max_size=30))
def test_any_passport_text_is_a_named_refusal_never_a_crash(anna: int, text: str, card: str) -> None:
    try:
        receipt = foreigners.register_foreigner(application(passport_mrz=text, card_number=card), on=TODAY)
    except DomainValidationError as exc:
        assert all(p.field and p.rule for p in exc.problems)
    else:  # only Anna's own MRZ and card could register, and random text is not them
        assert (receipt.matched, receipt.handle) == (False, 0)
