"""Foreign residents at level 2, in person at a commune police desk from the passport's TD3 MRZ
and the residence card (domain-vn §4: foreigners from 6 with a residence card, levels 1 and 2;
ADR 0017).

Actors: Anna Schmidt (German, temporary residence card, Tây Hồ) with her level-1 account, her son
Leon (5), the Tây Hồ ward officer (activates), the Hoàn Kiếm officer (any desk activates), a hotel
clerk (may not)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dancu.blocks.audit.models import AuditEvent
from dancu.blocks.eid import foreigners, login, services
from dancu.blocks.eid.models import Account
from dancu.errors import AccessDenied, DomainValidationError, NotFound
from tests.blocks.eid.conftest import PASSWORD, Outbox
from tests.blocks.eid.test_foreigners import (  # noqa: F401 — the fixture ``anna``
    ANNA_PHONE,
    TODAY,
    anna,
    anna_record,
    application,
    mrz,
)
from tests.conftest import Person

pytestmark = pytest.mark.django_db
AT_THE_DESK = datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
ANNA_LOGIN = "DEUC01X00T47"


@pytest.fixture
def anna_level1(anna: int, outbox: Outbox, ward_police: Person) -> int:  # noqa: F811
    """Anna registered online and the Tây Hồ officer approved her; her account's id."""
    handle = foreigners.register_foreigner(application(), on=TODAY).handle
    assert services.verify_phone(handle, outbox.last_code(ANNA_PHONE))
    services.decide_registration(ward_police.ctx("eid.registration"), handle, approve=True)
    return int(Account.objects.get(id_number=ANNA_LOGIN).pk)


def rules(err: pytest.ExceptionInfo[DomainValidationError]) -> dict[str, str]:
    return {p.field: p.rule for p in err.value.problems}


def activate(officer: Person, **changes: Any) -> foreigners.ForeignerActivation:
    values: dict[str, Any] = {
        "passport_mrz": mrz(),
        "card_number": "TT2025-00123",
        "face_confirmed": True,
        "at": AT_THE_DESK,
    }
    values.update(changes)
    return foreigners.activate_level2_foreigner(officer.ctx("eid.activation"), **values)


def test_anna_is_raised_to_level_2_at_a_desk_from_her_passport_mrz_and_card(
    anna_level1: int, other_ward_police: Person
) -> None:
    # Any commune police desk may activate (ADR 0008), here the Hoàn Kiếm one.
    done = activate(other_ward_police)
    account = Account.objects.get(pk=anna_level1)
    assert (done.account_id, done.login_name, account.level, account.level2_organisation_name) == (
        anna_level1,
        ANNA_LOGIN,
        2,
        "Công an phường Hoàn Kiếm",
    )
    event = AuditEvent.objects.get(action="eid.activate.foreigner", result="ok")
    assert event.detail["evidence"] == "passport_mrz_optical" and event.detail["receipt"] == done.receipt_id
    assert login.check_password(ANNA_LOGIN, PASSWORD, ip="127.0.0.1").level == 2


def test_the_officer_must_confirm_the_face(anna_level1: int, ward_police: Person) -> None:
    with pytest.raises(DomainValidationError) as err:
        activate(ward_police, face_confirmed=False)
    assert rules(err) == {"face_confirmed": "required"}
    assert Account.objects.get(pk=anna_level1).level == 1


@pytest.mark.parametrize(
    "change",
    [
        {"card_number": "TT2025-99999"},
        {"passport_mrz": mrz(secondary_identifier="ANNE")},
        {"passport_mrz": mrz(document_number="C01X00T48")},
    ],
)
def test_a_passport_or_card_that_does_not_match_is_refused_and_recorded(
    anna_level1: int, ward_police: Person, change: dict[str, Any]
) -> None:
    with pytest.raises(DomainValidationError) as err:
        activate(ward_police, **change)
    assert rules(err) == {"residence_card": "no_match"}
    assert AuditEvent.objects.filter(action="eid.activate.foreigner", result="denied").exists()
    assert Account.objects.get(pk=anna_level1).level == 1


def test_an_expired_residence_card_is_refused(anna_level1: int, ward_police: Person) -> None:
    with pytest.raises(DomainValidationError) as err:
        activate(ward_police, at=datetime(2027, 1, 11, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")))
    assert rules(err) == {"residence_card": "no_match"}


def test_a_resident_without_a_level_1_account_registers_online_first(
    anna: int,  # noqa: F811
    ward_police: Person,
) -> None:
    with pytest.raises(NotFound):
        activate(ward_police)
    assert AuditEvent.objects.filter(
        action="eid.activate.foreigner", result="denied", detail__reason="no_level1_account"
    ).exists()


def test_a_broken_check_digit_names_the_field(anna_level1: int, ward_police: Person) -> None:
    lines = mrz().split("\n")
    broken = lines[0] + "\n" + lines[1][:9] + ("0" if lines[1][9] != "0" else "1") + lines[1][10:]
    with pytest.raises(DomainValidationError) as err:
        activate(ward_police, passport_mrz=broken)
    assert any(f.startswith("passport_mrz.mrz.line2.document_number") for f in rules(err))


def test_leon_under_6_gets_no_level_2(ward_police: Person) -> None:
    """domain-vn §4 gives foreigners accounts from 6; nothing for a foreign child under 6."""
    foreigners.record_foreign_resident(
        anna_record(
            passport_number="C01X00T55",
            given_names="LEON",
            sex="M",
            date_of_birth=datetime(2021, 3, 3).date(),
            card_number="TT2025-00124",
        )
    )
    leon = mrz(
        document_number="C01X00T55",
        secondary_identifier="LEON",
        sex="M",
        date_of_birth=datetime(2021, 3, 3).date(),
    )
    with pytest.raises(DomainValidationError) as err:
        activate(ward_police, passport_mrz=leon, card_number="TT2025-00124")
    assert rules(err) == {"passport_mrz": "eligibility_age"}


def test_a_hotel_clerk_may_not_activate(anna_level1: int, hotel_clerk: Person) -> None:
    with pytest.raises(AccessDenied):
        foreigners.activate_level2_foreigner(
            hotel_clerk.ctx("identity.verification"),
            passport_mrz=mrz(),
            card_number="TT2025-00123",
            face_confirmed=True,
        )
    assert AuditEvent.objects.filter(action="eid.activate.foreigner", result="denied").exists()
    assert Account.objects.get(pk=anna_level1).level == 1
